/* SPDX-License-Identifier: MIT */
#include "sim/sim_http.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/sim_app.h"
#include "sim/sim_dispatch.h"
#include "sim/sim_log.h"
#include "sim/sim_time.h"

/* A client streaming a chunked body past this is cut off rather than
 * drained forever; up to it the body is read and discarded for a clean 413. */
#define SIM_BODY_DRAIN_MAX (16 * SIM_BODY_MAX)

struct sim_http {
	struct MHD_Daemon *daemon;
	struct sim_app *app;
	int port;
};

/* Per request, freed in sim_http_completed. */
struct sim_http_ctx {
	struct buf body;
	size_t seen; /* body bytes received, kept or not */
	int64_t start_ms;
};

static enum MHD_Result sim_http_queue(struct MHD_Connection *conn, struct sim_outcome *o)
{
	size_t len = 0;
	char *data = buf_steal(&o->body, &len);
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (o->retry_after > 0) {
		char ra[16];
		snprintf(ra, sizeof ra, "%d", o->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (o->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, o->allow);
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)o->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result sim_http_message(struct MHD_Connection *conn, int status, const char *msg)
{
	struct sim_outcome o = {0};
	o.status = sim_reply_message(&o.body, status, msg);
	return o.body.oom ? MHD_NO : sim_http_queue(conn, &o);
}

static enum MHD_Result sim_http_query(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	(void)kind;
	struct sim_request *r = cls;
	if (r->nquery == SIM_QUERY_MAX)
		return MHD_NO;
	r->query[r->nquery].name = key;
	r->query[r->nquery].value = value;
	r->nquery++;
	return MHD_YES;
}

static bool sim_http_loopback(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return false;
	if (ci->client_addr->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)ci->client_addr;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (ci->client_addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
			(const struct sockaddr_in6 *)(const void *)ci->client_addr;
		const struct in6_addr *a = &in6->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

static void sim_http_log(const struct sim_request *r, const struct sim_outcome *o, int64_t ms)
{
	char status[8], took[24];
	snprintf(status, sizeof status, "%d", o->status);
	snprintf(took, sizeof took, "%" PRId64, ms);
	sim_log(o->status >= 500 && !o->fault ? "error" : "info", "request", "method", r->method,
		"path", r->path, "status", status, "ms", took, "fault", o->fault, NULL);
}

/* The final call for a request: the whole body is there. */
static enum MHD_Result sim_http_answer(struct sim_http *h, struct MHD_Connection *conn,
				       const char *url, const char *method,
				       struct sim_http_ctx *ctx)
{
	if (ctx->seen > SIM_BODY_MAX)
		return sim_http_message(conn, 413, "request body larger than 1 MiB");
	if (ctx->body.oom)
		return sim_http_message(conn, 500, "out of memory");
	struct sim_request r = {
		.app = h->app,
		.method = method,
		.path = url,
		.api_key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Api-Key"),
		.raw_body = buf_cstr(&ctx->body),
		.raw_len = ctx->body.len,
	};
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, sim_http_query, &r);
	struct sim_outcome o = {0};
	sim_dispatch(&r, sim_http_loopback(conn), &o);
	if (o.body.oom) {
		buf_free(&o.body);
		return sim_http_message(conn, 500, "out of memory");
	}
	if (o.delay_ms > 0)
		sim_sleep_ms(o.delay_ms, &h->app->stopping);
	sim_http_log(&r, &o, sim_now_ms() - ctx->start_ms);
	if (o.drop) {
		/* Returning MHD_NO makes libmicrohttpd close the connection
		 * without a byte of answer: the client cannot tell whether the
		 * (already stored) request arrived. */
		buf_free(&o.body);
		return MHD_NO;
	}
	return sim_http_queue(conn, &o);
}

static enum MHD_Result sim_http_access(void *cls, struct MHD_Connection *conn, const char *url,
				       const char *method, const char *version,
				       const char *upload_data, size_t *upload_data_size,
				       void **con_cls)
{
	(void)version;
	struct sim_http *h = cls;
	struct sim_http_ctx *ctx = *con_cls;
	if (!ctx) {
		ctx = calloc(1, sizeof *ctx);
		if (!ctx)
			return MHD_NO;
		ctx->start_ms = sim_now_ms();
		*con_cls = ctx;
		/* Refuse a declared oversize body before reading any of it. */
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > SIM_BODY_MAX) {
			ctx->seen = SIM_BODY_MAX + 1;
			return sim_http_message(conn, 413, "request body larger than 1 MiB");
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (ctx->seen + n > SIM_BODY_DRAIN_MAX)
			return MHD_NO;
		if (ctx->seen + n <= SIM_BODY_MAX)
			buf_append(&ctx->body, upload_data, n);
		ctx->seen += n;
		return MHD_YES;
	}
	return sim_http_answer(h, conn, url, method, ctx);
}

static void sim_http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			       enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct sim_http_ctx *ctx = *con_cls;
	if (!ctx)
		return;
	buf_free(&ctx->body);
	free(ctx);
	*con_cls = NULL;
}

static void sim_http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[256];
	vsnprintf(msg, sizeof msg, fmt, ap);
	/* That is what MHD says when the access handler returns MHD_NO, which
	 * is how an injected drop closes a connection; the request line
	 * already reports it as "fault":"drop". */
	if (strstr(msg, "Application reported internal error"))
		return;
	size_t n = strlen(msg);
	if (n > 0 && msg[n - 1] == '\n')
		msg[n - 1] = '\0';
	sim_log("warn", "libmicrohttpd", "detail", msg, NULL);
}

struct sim_http *sim_http_start(struct sim_app *app, const char *host, int port, char *err,
				size_t errlen)
{
	struct sim_http *h = NULL;
	struct addrinfo *ai = NULL;
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	char service[8];
	snprintf(service, sizeof service, "%d", port);
	int gai = getaddrinfo(host, service, &hints, &ai);
	if (gai != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(gai));
		goto out;
	}
	h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	h->app = app;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* Thread per connection: an injected slow answer or timeout sleeps in
	 * its own thread and holds up no one else. */
	h->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, sim_http_access, h,
		/* The logger first, or MHD logs the options before it by itself. */
		MHD_OPTION_EXTERNAL_LOGGER, sim_http_mhd_log, h, MHD_OPTION_SOCK_ADDR,
		ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)(64 * 1024),
		MHD_OPTION_NOTIFY_COMPLETED, sim_http_completed, h, MHD_OPTION_END);
	if (!h->daemon) {
		snprintf(err, errlen, "cannot listen on %s:%d", host, port);
		free(h);
		h = NULL;
		goto out;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : port;
out:
	if (ai)
		freeaddrinfo(ai);
	return h;
}

int sim_http_port(const struct sim_http *h)
{
	return h->port;
}

void sim_http_stop(struct sim_http *h)
{
	if (!h)
		return;
	MHD_socket fd = MHD_quiesce_daemon(h->daemon);
	MHD_stop_daemon(h->daemon); /* joins the connection threads */
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	free(h);
}
