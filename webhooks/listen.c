/* SPDX-License-Identifier: MIT */
#include "webhooks/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/buf.h"
#include "webhooks/event_line.h"
#include "webhooks/sign.h"

#define LISTEN_DEFAULT "127.0.0.1:8099"
#define SECRET_ENV "INKASSO_WEBHOOK_LISTEN_SECRET"
#define LISTEN_ADDR_MAX 80
#define MSG_ID_PRINT_MAX 64

struct listener {
	char secret[WEBHOOK_SECRET_MAX + 192]; /* room for other senders' longer secrets */
};

/* One request, across libmicrohttpd's calls of on_request. */
struct delivery {
	struct buf body;
	bool too_large;
	bool answered; /* a response was queued on the first call */
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: inkasso webhook-listen [--listen HOST:PORT] [--secret whsec_... | --secret-file PATH]\n\n"
		   "Receives webhook deliveries (Standard Webhooks 1.0), checks each signature and timestamp\n"
		   "(5 minutes of tolerance) and prints one line per event on stdout.\n\n"
		   "  --listen HOST:PORT   IPv4 or [IPv6] address (default " LISTEN_DEFAULT "; port 0 picks one)\n"
		   "  --secret SECRET      the endpoint's secret (visible to other local users in ps:\n"
		   "                       prefer --secret-file or " SECRET_ENV ")\n"
		   "  --secret-file PATH   read the secret from the first line of PATH\n"
		   "Answers 204 for a verified event, 401 for a bad signature or timestamp, 400 for a\n"
		   "verified body that is not a JSON object, 413 beyond 1 MiB, 405 for other methods.\n");
}

/* Parses "a.b.c.d:port" or "[v6]:port" (port 0..65535). */
static bool listen_addr_parse(const char *s, struct sockaddr_storage *ss, bool *v6)
{
	char host[LISTEN_ADDR_MAX];
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || (size_t)(colon - s) >= sizeof host)
		return false;
	const char *p = colon + 1;
	size_t digits = strspn(p, "0123456789");
	if (digits == 0 || digits > 5 || p[digits] || atol(p) > 65535)
		return false;
	uint16_t port = htons((uint16_t)atol(p));
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(ss, 0, sizeof *ss);
	size_t hl = strlen(host);
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		host[hl - 1] = '\0';
		in6->sin6_family = AF_INET6;
		in6->sin6_port = port;
		*v6 = true;
		return inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1;
	}
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	in->sin_family = AF_INET;
	in->sin_port = port;
	*v6 = false;
	return inet_pton(AF_INET, host, &in->sin_addr) == 1;
}

/* Reads the first line of path into out, without its line end and
 * trailing blanks. */
static bool secret_from_file(const char *path, char *out, size_t outlen)
{
	errno = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	bool ok = fgets(out, (int)outlen, f) != NULL;
	fclose(f);
	if (!ok)
		return false;
	size_t n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' ' || out[n - 1] == '\t'))
		out[--n] = '\0';
	return n > 0;
}

/* The current time, "2026-12-03T08:40:01Z". */
static void now_utc(char out[32])
{
	struct tm tm;
	time_t now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Prints "<now> rejected: <why> webhook-id=<id>" on stdout; the id is the
 * sender's text, so only printable ASCII of it is shown. */
static void print_rejected(const char *why, const char *msg_id)
{
	char ts[32], id[MSG_ID_PRINT_MAX + 1] = "-";
	now_utc(ts);
	size_t k = 0;
	for (const char *p = msg_id; p && *p && k < MSG_ID_PRINT_MAX; p++)
		id[k++] = (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f ? *p : '?';
	if (k)
		id[k] = '\0';
	printf("%s rejected: %s webhook-id=%s\n", ts, why, id);
	fflush(stdout);
}

/* Queues a short text answer (text is static). */
static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	if (*text)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "POST");
	enum MHD_Result ok = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ok;
}

/* The 401's body for a failed check (static). */
static const char *rejection_text(enum webhook_verify_result v)
{
	switch (v) {
	case WEBHOOK_BAD_TIMESTAMP:
		return "timestamp missing or outside tolerance\n";
	case WEBHOOK_MISSING_HEADERS:
		return "missing webhook headers\n";
	default:
		return "bad signature\n";
	}
}

/* The whole body arrived: verify, print, answer. */
static enum MHD_Result on_delivery(const struct listener *l, struct MHD_Connection *conn, struct delivery *d)
{
	if (d->too_large)
		return answer(conn, MHD_HTTP_CONTENT_TOO_LARGE, "body larger than 1 MiB\n");
	const char *id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "webhook-id");
	const char *ts = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "webhook-timestamp");
	const char *sig = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "webhook-signature");
	const char *body = d->body.data ? d->body.data : "";
	enum webhook_verify_result v = webhook_verify(l->secret, id, ts, sig, body, d->body.len,
						      (int64_t)time(NULL), WEBHOOK_TOLERANCE_S);
	if (v != WEBHOOK_VERIFIED) {
		print_rejected(webhook_verify_result_name(v), id);
		return answer(conn, MHD_HTTP_UNAUTHORIZED, rejection_text(v));
	}
	char *line = webhook_event_line(body, d->body.len);
	if (!line) {
		print_rejected("verified, but the body is not a JSON object", id);
		return answer(conn, MHD_HTTP_BAD_REQUEST, "body is not a JSON object\n");
	}
	printf("%s\n", line);
	fflush(stdout);
	free(line);
	return answer(conn, MHD_HTTP_NO_CONTENT, "");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	(void)url;
	(void)version;
	struct delivery *d = *con_cls;
	if (!d) {
		d = calloc(1, sizeof *d);
		if (!d)
			return MHD_NO;
		*con_cls = d;
		/* Answering on the first call makes libmicrohttpd close the
		 * connection instead of reading the body: right for these two. */
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (strcmp(method, "POST") != 0) {
			d->answered = true;
			return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only POST\n");
		}
		if (cl && strtoull(cl, NULL, 10) > WEBHOOK_LISTEN_BODY_MAX) {
			d->answered = true;
			return answer(conn, MHD_HTTP_CONTENT_TOO_LARGE, "body larger than 1 MiB\n");
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		/* Chunked bodies have no Content-Length: count as they come. */
		if (!d->too_large && d->body.len + *upload_data_size <= WEBHOOK_LISTEN_BODY_MAX) {
			buf_append(&d->body, upload_data, *upload_data_size);
		} else {
			d->too_large = true;
			buf_free(&d->body);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (d->answered)
		return MHD_YES;
	d->answered = true;
	if (d->body.oom)
		return answer(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	return on_delivery(cls, conn, d);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct delivery *d = *con_cls;
	if (!d)
		return;
	buf_free(&d->body);
	free(d);
	*con_cls = NULL;
}

/* Reads the flags into listen and l->secret; returns -1 to go on, or the
 * exit code. */
static int parse_flags(int argc, char **argv, const char **listen, struct listener *l)
{
	const char *secret = NULL, *secret_file = NULL;
	for (int i = 1; i < argc; i += 2) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "webhook-listen: unknown or incomplete argument %s (see --help)\n", argv[i]);
			return 2;
		}
		if (!strcmp(argv[i], "--listen"))
			*listen = argv[i + 1];
		else if (!strcmp(argv[i], "--secret"))
			secret = argv[i + 1];
		else if (!strcmp(argv[i], "--secret-file"))
			secret_file = argv[i + 1];
		else {
			fprintf(stderr, "webhook-listen: unknown argument %s (see --help)\n", argv[i]);
			return 2;
		}
	}
	if (secret && secret_file) {
		fprintf(stderr, "webhook-listen: give --secret or --secret-file, not both\n");
		return 2;
	}
	if (secret_file && !secret_from_file(secret_file, l->secret, sizeof l->secret)) {
		fprintf(stderr, "webhook-listen: --secret-file %s: %s\n", secret_file,
			errno ? strerror(errno) : "no secret on its first line");
		return 2;
	}
	if (!secret_file) {
		secret = secret ? secret : getenv(SECRET_ENV);
		if (!secret || !*secret) {
			fprintf(stderr, "webhook-listen: no secret: give --secret, --secret-file or %s\n", SECRET_ENV);
			return 2;
		}
		snprintf(l->secret, sizeof l->secret, "%s", secret);
	}
	if (!webhook_secret_valid(l->secret)) {
		fprintf(stderr, "webhook-listen: the secret must be whsec_ followed by base64 of 1 to %d bytes\n",
			WEBHOOK_KEY_MAX);
		return 2;
	}
	return -1;
}

int webhook_listen_main(int argc, char **argv)
{
	struct listener l = {.secret = ""}; /* read by the server's thread until it stops, below */
	const char *listen = LISTEN_DEFAULT;
	int rc = parse_flags(argc, argv, &listen, &l);
	if (rc >= 0)
		return rc;
	struct sockaddr_storage addr;
	bool v6 = false;
	if (!listen_addr_parse(listen, &addr, &v6)) {
		fprintf(stderr, "webhook-listen: --listen must be an IPv4 address or [IPv6] address and a port, "
				"such as 127.0.0.1:8099 or [::1]:8099; got \"%s\"\n",
			listen);
		return 2;
	}
	/* Signals are taken by sigwait below: block them before the server's
	 * thread starts, so that it inherits the mask. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, &l, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "webhook-listen: cannot listen on %s: %s\n", listen,
			errno ? strerror(errno) : "libmicrohttpd refused to start");
		return 1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	char host[LISTEN_ADDR_MAX];
	snprintf(host, sizeof host, "%.*s", (int)(strrchr(listen, ':') - listen), listen);
	fprintf(stderr, "webhook-listen: listening on %s:%u\n", host, info ? (unsigned)info->port : 0u);
	fflush(stderr);

	int sig = 0;
	while (sigwait(&stop, &sig) != 0)
		;
	MHD_stop_daemon(d);
	fprintf(stderr, "webhook-listen: stopped (%s)\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	return 0;
}
