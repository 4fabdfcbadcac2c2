/* SPDX-License-Identifier: MIT */
#include "server/request.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/dates.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "server/auth.h"
#include "server/conn_deadline.h"
#include "server/http_metrics.h"
#include "server/problem.h"
#include "server/rate_limit.h"
#include "server/reply_stream.h"
#include "server/router.h"

struct server {
	struct MHD_Daemon *daemon;
	struct app *app;
	const struct router *router;
	atomic_int in_flight; /* requests between first callback and completion */
	atomic_int suspended; /* of those, waiting on a deferral (see REPLY_DEFERRED) */
	struct conn_deadline *deadline; /* cuts request heads slower than REQUEST_DEADLINE_S */
	int port;
};

/* Per-request state, from the first access-handler call to completion. */
struct req_ctx {
	struct server *srv;
	struct timespec start;
	struct buf body;
	bool too_large;
	int slot;   /* the route's path in the router, for metrics and logs */
	int status;
	char request_id[65];
	char method[16];
	struct MHD_Connection *conn;
	struct deferral deferral; /* set while the answer waits on another thread */
};

static double elapsed_s(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* X-Request-Id is echoed when it is short and plain; anything else is
 * replaced by a fresh id (it is logged, so it must not carry injections). */
static void pick_request_id(struct MHD_Connection *conn, char *out, size_t outlen)
{
	const char *in = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
	if (in) {
		size_t n = strlen(in);
		bool ok = n > 0 && n < outlen && n <= 64;
		for (size_t i = 0; ok && i < n; i++) {
			char c = in[i];
			ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			     c == '_' || c == '.';
		}
		if (ok) {
			memcpy(out, in, n + 1);
			return;
		}
	}
	if (!ids_new("req_", out, outlen))
		snprintf(out, outlen, "req_unknown");
}

struct header_count {
	const char *name;
	int n;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	(void)value;
	struct header_count *hc = cls;
	if (!strcasecmp(key, hc->name))
		hc->n++;
	return MHD_YES;
}

struct query_collect {
	struct query_param params[MAX_QUERY_PARAMS];
	size_t n;
	bool overflow;
};

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	struct query_collect *qc = cls;
	if (qc->n == MAX_QUERY_PARAMS) {
		qc->overflow = true;
		return MHD_NO;
	}
	qc->params[qc->n].key = key;
	qc->params[qc->n].value = value ? value : "";
	qc->n++;
	return MHD_YES;
}

const char *request_query(const struct request *req, const char *key, bool *dup)
{
	const char *found = NULL;
	if (dup)
		*dup = false;
	for (size_t i = 0; i < req->nquery; i++) {
		if (strcmp(req->query[i].key, key) != 0)
			continue;
		if (found && dup)
			*dup = true;
		found = req->query[i].value;
	}
	return found;
}

/* application/json or any +json type, parameters allowed. */
static bool is_json_type(const char *ct)
{
	size_t n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	if (n == 16 && !strncasecmp(ct, "application/json", 16))
		return true;
	return n > 5 && !strncasecmp(ct + n - 5, "+json", 5) && !strncasecmp(ct, "application/", 12);
}

/* Authenticates and checks scopes; fills a 401/403 problem on failure. */
static bool authorize_or_problem(struct MHD_Connection *conn, struct app *app, const struct route *route,
				 struct auth_claims *claims, struct reply *out)
{
	struct header_count hc = {"Authorization", 0};
	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &hc);
	const char *why = "missing bearer token";
	if (hc.n > 1) {
		why = "more than one Authorization header";
	} else if (hc.n == 1) {
		const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
		if (auth_verify(app->auth, authz, (int64_t)time(NULL), claims, &why)) {
			if (claims->scopes & route->scopes)
				return true;
			reply_problem(out, PROBLEM_FORBIDDEN, "the token lacks the scope for this operation");
			return false;
		}
	}
	reply_problem(out, PROBLEM_UNAUTHORIZED, why);
	return false;
}

/* A tenant over its rate is answered 429 before anything else is done for
 * it; requests without a valid token never get here (401 first). */
static bool within_rate_or_problem(struct app *app, const struct auth_claims *claims, struct reply *out)
{
	struct timespec now;
	int retry_after = 1;
	if (!app->rate_limit)
		return true;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (rate_limit_take(app->rate_limit, claims->tenant, (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec,
			    &retry_after))
		return true;
	reply_problem(out, PROBLEM_RATE_LIMITED, "this tenant sends more requests than INKASSO_TENANT_RATE allows");
	out->retry_after = retry_after;
	return false;
}

static const char *slot_name(const struct req_ctx *ctx) { return ctx->srv->router->paths[ctx->slot]; }

/* A handler that answered must have put a status into its reply. */
static void check_status(const struct req_ctx *ctx, struct reply *out)
{
	if (out->status < 100 || out->status > 599) {
		log_write(LOG_ERROR, "handler answered without a valid status", "request_id", ctx->request_id,
			  "route", slot_name(ctx), NULL);
		reply_problem(out, PROBLEM_INTERNAL_ERROR, NULL);
	}
}

/* Called once by the thread that finished a deferred job; MHD then calls
 * on_access again for the connection, on its own thread. */
static void wake_connection(void *arg)
{
	struct req_ctx *ctx = arg;
	MHD_resume_connection(ctx->conn);
}

/* Routes, authenticates and runs the handler. Leaves a reply in out, or
 * returns true when the handler deferred its answer (ctx->deferral set). */
static bool dispatch(struct req_ctx *ctx, struct MHD_Connection *conn, const char *url, const char *method,
		     struct reply *out, char *allow, size_t allow_len)
{
	char path_id[64];
	const struct route *route =
		router_match(ctx->srv->router, method, url, &ctx->slot, path_id, sizeof path_id, allow, allow_len);
	if (ctx->too_large) {
		reply_problem(out, PROBLEM_PAYLOAD_TOO_LARGE, "the body exceeds 65536 bytes");
		return false;
	}
	if (!route) {
		if (ctx->slot == router_unmatched(ctx->srv->router))
			reply_problem(out, PROBLEM_NOT_FOUND, "no such path");
		else
			reply_problem(out, PROBLEM_METHOD_NOT_ALLOWED, NULL);
		return false;
	}
	struct auth_claims claims;
	if (route->scopes && (!authorize_or_problem(conn, ctx->srv->app, route, &claims, out) ||
			      !within_rate_or_problem(ctx->srv->app, &claims, out)))
		return false;

	struct query_collect qc = {.n = 0};
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, &qc);
	if (qc.overflow) {
		reply_invalid_parameter(out, "query", "at most 32 query parameters");
		return false;
	}
	struct request req = {
		.method = method,
		.path = url,
		.path_id = path_id[0] ? path_id : NULL,
		.query = qc.params,
		.nquery = qc.n,
		.body = ctx->body.data ? ctx->body.data : "",
		.body_len = ctx->body.len,
		.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type"),
		.accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept"),
		.idempotency_key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Idempotency-Key"),
		.request_id = ctx->request_id,
		.claims = route->scopes ? &claims : NULL,
		.app = ctx->srv->app,
		.defer = &ctx->deferral,
	};
	dates_today(req.today);
	dates_now_rfc3339(req.now);
	bool has_body = !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH");
	if (has_body && req.content_type && !is_json_type(req.content_type)) {
		reply_problem(out, PROBLEM_UNSUPPORTED_MEDIA_TYPE, "send Content-Type: application/json");
		return false;
	}
	enum handler_result done = route->handler(&req, out);
	if (done == HANDLER_DEFERRED && ctx->deferral.start && ctx->deferral.finish)
		return true;
	if (done == HANDLER_DEFERRED) { /* deferred without saying how: a bug, never a hang */
		log_write(LOG_ERROR, "handler deferred without a deferral", "request_id", ctx->request_id, "route",
			  slot_name(ctx), NULL);
		reply_problem(out, PROBLEM_INTERNAL_ERROR, NULL);
	}
	check_status(ctx, out);
	return false;
}

/* Builds and queues the one response of this request. */
static enum MHD_Result send_reply(struct req_ctx *ctx, struct MHD_Connection *conn, struct reply *out,
				  const char *allow)
{
	struct reply_stream stream = out->stream;
	out->stream = (struct reply_stream){0};
	if (out->body.oom) {
		reply_problem(out, PROBLEM_INTERNAL_ERROR, NULL); /* small: fits even when memory is tight */
		if (stream.produce)
			stream.done(stream.ctx);
		stream = (struct reply_stream){0};
	}
	size_t len;
	char *body = buf_steal(&out->body, &len);
	struct MHD_Response *resp = stream.produce ? reply_stream_response(body, len, &stream)
						   : MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		if (!stream.produce)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", out->content_type ? out->content_type : "application/json");
	MHD_add_response_header(resp, "X-Request-Id", ctx->request_id);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (out->location[0])
		MHD_add_response_header(resp, "Location", out->location);
	if (out->retry_after > 0) {
		char ra[16];
		snprintf(ra, sizeof ra, "%d", out->retry_after);
		MHD_add_response_header(resp, "Retry-After", ra);
	}
	if (out->replayed)
		MHD_add_response_header(resp, "Idempotent-Replayed", "true");
	if (out->vary)
		MHD_add_response_header(resp, "Vary", out->vary);
	if (out->status == 401)
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"inkasso\"");
	if (out->status == 405 && allow[0])
		MHD_add_response_header(resp, "Allow", allow);
	ctx->status = out->status;
	enum MHD_Result r = MHD_queue_response(conn, (unsigned)out->status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				 const char *version, const char *upload_data, size_t *upload_data_size,
				 void **con_cls)
{
	(void)version;
	struct server *srv = cls;
	struct req_ctx *ctx = *con_cls;
	if (!ctx) {
		ctx = calloc(1, sizeof *ctx);
		if (!ctx)
			return MHD_NO;
		ctx->srv = srv;
		ctx->slot = router_unmatched(srv->router);
		clock_gettime(CLOCK_MONOTONIC, &ctx->start);
		snprintf(ctx->method, sizeof ctx->method, "%s", method);
		pick_request_id(conn, ctx->request_id, sizeof ctx->request_id);
		atomic_fetch_add(&srv->in_flight, 1);
		*con_cls = ctx;
		conn_deadline_in_handler(conn);
		/* Refuse a declared oversize body before reading it. Replying now
		 * makes MHD close the connection, which is what we want here. */
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > REQUEST_BODY_MAX) {
			ctx->too_large = true;
			struct reply out = {0};
			reply_problem(&out, PROBLEM_PAYLOAD_TOO_LARGE, "the body exceeds 65536 bytes");
			char allow[1] = "";
			return send_reply(ctx, conn, &out, allow);
		}
		/* RFC 9112 6.1: a body whose last transfer coding is not chunked
		 * has no length the server can know, and the answer is a 400 with
		 * the connection closed (replying now closes it). libmicrohttpd
		 * would wait for such a body until its idle timeout. */
		const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding");
		if (te && strcasecmp(te, "chunked") != 0) {
			ctx->too_large = true; /* the body, if any, is not kept */
			struct reply out = {0};
			reply_problem(&out, PROBLEM_INVALID_HEADER, "Transfer-Encoding: only chunked is accepted");
			char allow[1] = "";
			return send_reply(ctx, conn, &out, allow);
		}
		/* Replying on a later call keeps keep-alive connections open
		 * (libmicrohttpd 0.9.75 closes them when the first call replies). */
		return MHD_YES;
	}
	if (*upload_data_size) {
		/* Chunked bodies have no Content-Length: count as they come. */
		if (!ctx->too_large && ctx->body.len + *upload_data_size <= REQUEST_BODY_MAX)
			buf_append(&ctx->body, upload_data, *upload_data_size);
		else {
			ctx->too_large = true;
			buf_free(&ctx->body);
		}
		*upload_data_size = 0;
		/* A body dripped slowly (slowloris) is cut off at the deadline. */
		if (elapsed_s(&ctx->start) > REQUEST_DEADLINE_S)
			return MHD_NO;
		return MHD_YES;
	}
	if (ctx->status)
		return MHD_YES; /* already answered (early 413) */
	struct reply out = {.status = 0};
	char allow[64] = "";
	if (ctx->deferral.finish) {
		/* Resumed: the deferred job is done. */
		struct deferral d = ctx->deferral;
		ctx->deferral = (struct deferral){0};
		atomic_fetch_sub(&srv->suspended, 1);
		d.finish(d.job, &out);
		check_status(ctx, &out);
	} else if (dispatch(ctx, conn, url, method, &out, allow, sizeof allow)) {
		/* Suspend first: the job may finish (and resume us) before start
		 * returns, and a resume must follow its suspend. */
		ctx->conn = conn;
		atomic_fetch_add(&srv->suspended, 1);
		MHD_suspend_connection(conn);
		ctx->deferral.start(ctx->deferral.job, wake_connection, ctx);
		buf_free(&out.body);
		return MHD_YES;
	}
	enum MHD_Result r = send_reply(ctx, conn, &out, allow);
	buf_free(&out.body);
	return r;
}

/* libmicrohttpd 0.9.75 parses every query parameter into the connection's
 * 32 KiB memory pool before it calls on_access; some 500 of them exhaust the
 * pool, and it then answers nothing: the client waits for the idle timeout.
 * More than MAX_QUERY_PARAMS are refused anyway (dispatch), so they are
 * refused here, from the raw URI, before that parse: the same 400 problem,
 * written straight to the socket (nothing else has been sent for this
 * request), and the connection shut down. Called by MHD once the request
 * line has arrived; the result becomes on_access's first *con_cls. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)cls;
	const char *q = strchr(uri, '?');
	size_t params = 1;
	for (const char *p = q; p && *p; p++)
		params += *p == '&';
	if (!q || params <= MAX_QUERY_PARAMS)
		return NULL;
	const union MHD_ConnectionInfo *fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!fd)
		return NULL; /* then dispatch refuses it, if MHD gets that far */
	struct reply out = {.status = 0};
	char request_id[65];
	if (!ids_new("req_", request_id, sizeof request_id))
		snprintf(request_id, sizeof request_id, "req_unknown");
	reply_invalid_parameter(&out, "query", "at most 32 query parameters");
	struct buf msg = {0};
	buf_printf(&msg,
		   "HTTP/1.1 400 Bad Request\r\nContent-Type: %s\r\nX-Request-Id: %s\r\n"
		   "Cache-Control: no-store\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n",
		   out.content_type ? out.content_type : "application/problem+json", request_id, out.body.len);
	buf_append(&msg, out.body.data, out.body.len);
	if (!msg.oom)
		(void)send(fd->connect_fd, msg.data, msg.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(fd->connect_fd, SHUT_RDWR);
	buf_free(&msg);
	buf_free(&out.body);
	log_write(LOG_INFO, "request", "request_id", request_id, "route", "(too many query parameters)", "status",
		  "400", "outcome", "refused before parsing", NULL);
	return NULL;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct server *srv = cls;
	struct req_ctx *ctx = *con_cls;
	conn_deadline_request_done(conn); /* the next request's head is due from now */
	if (!ctx)
		return;
	double secs = elapsed_s(&ctx->start);
	metrics_observe_request(ctx->slot, ctx->status, secs);
	if (log_enabled(LOG_INFO)) {
		char status[8], ms[24];
		snprintf(status, sizeof status, "%d", ctx->status);
		snprintf(ms, sizeof ms, "%.3f", secs * 1000);
		/* The route pattern, never the raw path or query: queries can carry
		 * a national id, paths are attacker-chosen. */
		log_write(LOG_INFO, "request", "request_id", ctx->request_id, "method", ctx->method, "route",
			  slot_name(ctx), "status", status, "duration_ms", ms, "outcome",
			  toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "sent" : "aborted", NULL);
	}
	if (ctx->deferral.finish) {
		/* Resumed, but the client left before MHD called on_access again:
		 * the job is done (only its wake resumes us); free it, unsent. */
		struct reply unsent = {.status = 0};
		ctx->deferral.finish(ctx->deferral.job, &unsent);
		buf_free(&unsent.body);
		atomic_fetch_sub(&srv->suspended, 1);
	}
	buf_free(&ctx->body);
	free(ctx);
	*con_cls = NULL;
	atomic_fetch_sub(&srv->in_flight, 1);
}

/* libmicrohttpd's own messages (a refused connection, a malformed request,
 * its memory pool exhausted) as JSON log lines like ours instead of plain
 * text on stderr. Only the format string is logged, never its arguments: they
 * can carry request bytes. A flood must not flood the log: at most
 * MHD_LOG_PER_S lines a second, and how many were dropped. */
#define MHD_LOG_PER_S 10
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	(void)ap;
	static atomic_llong window;     /* the second being counted */
	static atomic_int in_window, dropped;
	long long now = (long long)time(NULL);
	long long was = atomic_load(&window);
	if (was != now && atomic_compare_exchange_strong(&window, &was, now)) {
		atomic_store(&in_window, 0);
		int n = atomic_exchange(&dropped, 0);
		if (n > 0) {
			char num[16];
			snprintf(num, sizeof num, "%d", n);
			log_write(LOG_WARN, "libmicrohttpd messages dropped", "count", num, NULL);
		}
	}
	if (atomic_fetch_add(&in_window, 1) >= MHD_LOG_PER_S) {
		atomic_fetch_add(&dropped, 1);
		return;
	}
	char msg[160];
	snprintf(msg, sizeof msg, "%s", fmt);
	msg[strcspn(msg, "\r\n")] = '\0';
	log_write(LOG_WARN, "libmicrohttpd", "detail", msg, NULL);
}

struct server *server_start(struct app *app, const char *host, int port, int threads, char *err, size_t errlen)
{
	struct server *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->app = app;
	s->router = app->router;
	if (!(s->deadline = conn_deadline_start(REQUEST_DEADLINE_S))) {
		snprintf(err, errlen, "cannot start the request deadline thread");
		free(s);
		return NULL;
	}
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		snprintf(err, errlen, "listen address %s is not an IPv4 address", host);
		conn_deadline_stop(s->deadline);
		free(s);
		return NULL;
	}
	if (threads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (int)n : 2;
	}
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	s->daemon = MHD_start_daemon(
		flags, (uint16_t)port, NULL, NULL, on_access, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, /* first: MHD logs while parsing the options */
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_NOTIFY_CONNECTION, conn_deadline_notify, s->deadline,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)512, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)15,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024), MHD_OPTION_END);
	if (!s->daemon) {
		snprintf(err, errlen, "cannot listen on %s:%d (in use or not permitted)", host, port);
		conn_deadline_stop(s->deadline);
		free(s);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : port;
	return s;
}

int server_port(const struct server *s) { return s->port; }

void server_stop(struct server *s, int grace_ms)
{
	if (!s)
		return;
	/* No new connections from here on: libmicrohttpd stops accepting, and
	 * shutdown() makes the kernel refuse them instead of queueing them
	 * unanswered. The socket is ours to close, but only after
	 * MHD_stop_daemon: its threads may still use it (libmicrohttpd's
	 * manual), and a number closed early can be taken by another socket
	 * (a database reconnect's) while they do. */
	MHD_socket fd = MHD_quiesce_daemon(s->daemon);
	if (fd != MHD_INVALID_SOCKET)
		(void)shutdown(fd, SHUT_RDWR);
	for (int waited = 0; atomic_load(&s->in_flight) > 0 && waited < grace_ms; waited += 10)
		usleep(10 * 1000);
	/* libmicrohttpd must not be stopped with a connection suspended. A
	 * deferred create always ends (the committer answers every job, at
	 * worst after the database's busy timeout), so wait for it. */
	while (atomic_load(&s->suspended) > 0)
		usleep(10 * 1000);
	MHD_stop_daemon(s->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	conn_deadline_stop(s->deadline);
	free(s);
}
