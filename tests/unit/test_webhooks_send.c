/* SPDX-License-Identifier: MIT */
/* Webhook deliveries on loopback: a receiver thread in the test listens on
 * 127.0.0.1 and answers what each test tells it, and the sender goes
 * through its real libcurl path: the guard refusing loopback, the headers
 * of a delivery, a redirect not followed, Retry-After, a timeout, answers
 * too long to read. Nothing leaves 127.0.0.0/8 (and ::1, which curl tries
 * for localhost); every wait is bounded (at most 2 s). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "webhooks/guard.h"
#include "webhooks/send.h"
#include "webhooks/sign.h"

#define IO_WAIT_MS 2000
#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define CHUNK 16384

/* One receiver: a listening socket on 127.0.0.1 and the thread serving it,
 * one request per connection. */
struct receiver {
	int fd;
	int port;
	pthread_t thread;
	/* What it answers. */
	_Atomic(const char *) head; /* status line and headers, the blank line included */
	size_t body_bytes;  /* 'x' bytes sent after the head (SIZE_MAX: chunked, until the peer leaves) */
	int delay_ms;       /* waited before answering */
	/* What it saw. */
	atomic_int accepted;
	char request[CHUNK];
	size_t request_len;
	atomic_bool stop;
};

static void receiver_start(struct receiver *r, const char *head)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof a;
	atomic_store(&r->head, head);
	r->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(r->fd, 0);
	cr_assert_eq(bind(r->fd, (struct sockaddr *)&a, sizeof a), 0);
	cr_assert_eq(listen(r->fd, 8), 0);
	cr_assert_eq(getsockname(r->fd, (struct sockaddr *)&a, &alen), 0);
	r->port = ntohs(a.sin_port);
}

/* Waits up to ms for fd to be readable (or writable); false on timeout or stop. */
static bool wait_fd(struct receiver *r, int fd, short events, int ms)
{
	for (int waited = 0; waited < ms && !atomic_load(&r->stop); waited += 20) {
		struct pollfd p = {.fd = fd, .events = events};
		if (poll(&p, 1, 20) > 0)
			return true;
	}
	return false;
}

/* Reads one request (head, then Content-Length bytes of body) into r->request. */
static void read_request(struct receiver *r, int c)
{
	r->request_len = 0;
	size_t body_at = 0, want = 0;
	while (r->request_len < sizeof r->request - 1 && wait_fd(r, c, POLLIN, IO_WAIT_MS)) {
		ssize_t n = recv(c, r->request + r->request_len, sizeof r->request - 1 - r->request_len, 0);
		if (n <= 0)
			break;
		r->request_len += (size_t)n;
		r->request[r->request_len] = '\0';
		char *end = strstr(r->request, "\r\n\r\n");
		if (end && !body_at) {
			body_at = (size_t)(end + 4 - r->request);
			const char *cl = strcasestr(r->request, "\r\ncontent-length:");
			want = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
		}
		if (body_at && r->request_len >= body_at + want)
			break;
	}
}

static void send_all(int c, const char *p, size_t n, bool *gone)
{
	while (n && !*gone) {
		ssize_t k = send(c, p, n, MSG_NOSIGNAL);
		if (k <= 0) {
			*gone = true;
			return;
		}
		p += k;
		n -= (size_t)k;
	}
}

static void answer(struct receiver *r, int c)
{
	static char filler[CHUNK];
	memset(filler, 'x', sizeof filler);
	for (int waited = 0; waited < r->delay_ms && !atomic_load(&r->stop); waited += 20)
		usleep(20 * 1000);
	bool gone = false;
	const char *head = atomic_load(&r->head);
	send_all(c, head, strlen(head), &gone);
	if (r->body_bytes == SIZE_MAX) {
		/* An endless chunked body: only the peer's leaving ends it (or 8 MiB). */
		for (int i = 0; i < 512 && !gone && !atomic_load(&r->stop); i++) {
			char size_line[16];
			snprintf(size_line, sizeof size_line, "%x\r\n", CHUNK);
			send_all(c, size_line, strlen(size_line), &gone);
			send_all(c, filler, CHUNK, &gone);
			send_all(c, "\r\n", 2, &gone);
		}
		return;
	}
	for (size_t sent = 0; sent < r->body_bytes && !gone; sent += CHUNK) {
		size_t n = r->body_bytes - sent < CHUNK ? r->body_bytes - sent : CHUNK;
		send_all(c, filler, n, &gone);
	}
}

static void *serve(void *arg)
{
	struct receiver *r = arg;
	while (!atomic_load(&r->stop)) {
		if (!wait_fd(r, r->fd, POLLIN, 50))
			continue;
		int c = accept(r->fd, NULL, NULL);
		if (c < 0)
			continue;
		atomic_fetch_add(&r->accepted, 1);
		read_request(r, c);
		answer(r, c);
		close(c);
	}
	return NULL;
}

static void receiver_run(struct receiver *r)
{
	cr_assert_eq(pthread_create(&r->thread, NULL, serve, r), 0);
}

static void receiver_stop(struct receiver *r)
{
	atomic_store(&r->stop, true);
	pthread_join(r->thread, NULL);
	close(r->fd);
}

static struct webhook_sender *sender(bool allow_private, long timeout_ms)
{
	struct webhook_sender_options o = {
		.timeout_ms = timeout_ms, .allow_private = allow_private, .user_agent = "inkasso-test/1"};
	struct webhook_sender *s = webhook_sender_new(&o);
	cr_assert_not_null(s);
	return s;
}

static void post(struct webhook_sender *s, const char *url, const char *body, struct webhook_send_result *res)
{
	char sig[WEBHOOK_SIGNATURE_LEN];
	cr_assert(webhook_sign(SECRET, "msg_1", 1700000000, body, strlen(body), sig, sizeof sig));
	webhook_send(s, url, "msg_1", 1700000000, sig, body, strlen(body), res);
}

/* One POST of "{}" to r with a sender of its own (private addresses allowed). */
static void post_once(const struct receiver *r, long timeout_ms, struct webhook_send_result *res)
{
	struct webhook_sender *s = sender(true, timeout_ms);
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", r->port);
	post(s, url, "{}", res);
	webhook_sender_free(s);
}

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT); /* as main() does, before any thread */
}

TestSuite(send, .init = setup, .timeout = 20);

Test(send, guard_refuses_loopback_before_connecting)
{
	struct receiver r = {0};
	receiver_start(&r, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	receiver_run(&r);
	struct webhook_sender *s = sender(false, 2000);
	struct webhook_send_result res;
	char url[128];
	uint64_t before = guard_refused_total();

	snprintf(url, sizeof url, "https://127.0.0.1:%d/hook", r.port);
	post(s, url, "{}", &res);
	cr_expect(res.refused_by_guard);
	cr_expect_eq(res.status_code, 0);
	cr_expect_str_eq(res.error, "guard: address not public");

	/* A name that resolves to loopback (libcurl answers localhost itself,
	 * without DNS): the guard sees the resolved addresses. */
	snprintf(url, sizeof url, "https://localhost:%d/hook", r.port);
	post(s, url, "{}", &res);
	cr_expect(res.refused_by_guard);
	cr_expect_str_eq(res.error, "guard: address not public");
	cr_expect_gt(guard_refused_total(), before + 1);

	/* Plain http is not spoken without allow_private. */
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", r.port);
	post(s, url, "{}", &res);
	cr_expect_not(res.refused_by_guard);
	cr_expect_str_eq(res.error, "scheme not allowed");
	cr_expect_eq(res.status_code, 0);

	webhook_sender_free(s);
	receiver_stop(&r);
	cr_expect_eq(atomic_load(&r.accepted), 0, "the receiver was reached");
}

Test(send, delivers_with_the_standard_headers)
{
	struct receiver r = {0};
	receiver_start(&r, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	receiver_run(&r);
	struct webhook_sender *s = sender(true, 2000);
	struct webhook_send_result res;
	char url[128], body[2200];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hooks/in?token=t0k", r.port);
	memset(body, ' ', sizeof body - 3);
	memcpy(body, "{\"id\":\"evt_1\"", 13);
	memcpy(body + sizeof body - 3, "}", 2); /* 2 KiB: libcurl would add Expect: 100-continue */
	post(s, url, body, &res);
	cr_expect_eq(res.status_code, 200);
	cr_expect_str_eq(res.error, "");
	cr_expect_not(res.refused_by_guard);
	cr_expect_eq(res.retry_after_s, -1);
	cr_expect_eq(res.answer_bytes, 2);
	cr_expect_geq(res.duration_ms, 0);
	webhook_sender_free(s);
	receiver_stop(&r);

	char sig[WEBHOOK_SIGNATURE_LEN], want[128];
	webhook_sign(SECRET, "msg_1", 1700000000, body, strlen(body), sig, sizeof sig);
	const char *q = r.request;
	cr_expect(!strncmp(q, "POST /hooks/in?token=t0k HTTP/1.1\r\n", 35), "%.60s", q);
	cr_expect(strcasestr(q, "\r\ncontent-type: application/json\r\n"));
	cr_expect(strcasestr(q, "\r\nwebhook-id: msg_1\r\n"));
	cr_expect(strcasestr(q, "\r\nwebhook-timestamp: 1700000000\r\n"));
	snprintf(want, sizeof want, "\r\nwebhook-signature: %s\r\n", sig);
	cr_expect(strcasestr(q, want), "%s", want);
	cr_expect(strcasestr(q, "\r\nuser-agent: inkasso-test/1\r\n"));
	cr_expect_null(strcasestr(q, "\r\nexpect:"));
	const char *b = strstr(q, "\r\n\r\n");
	cr_assert_not_null(b);
	cr_expect_str_eq(b + 4, body);
}

Test(send, redirects_are_answers_not_followed)
{
	struct receiver a = {0}, b = {0};
	char head[160];
	receiver_start(&b, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	snprintf(head, sizeof head, "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/elsewhere\r\n"
				    "Content-Length: 0\r\n\r\n", b.port);
	receiver_start(&a, head);
	receiver_run(&a);
	receiver_run(&b);
	struct webhook_send_result res;
	post_once(&a, 2000, &res);
	cr_expect_eq(res.status_code, 302);
	cr_expect_str_eq(res.error, "");
	receiver_stop(&a);
	receiver_stop(&b);
	cr_expect_eq(atomic_load(&a.accepted), 1);
	cr_expect_eq(atomic_load(&b.accepted), 0, "the redirect was followed");
}

/* The Retry-After seen for an answer with head. */
static int64_t retry_after_for(const char *head)
{
	struct receiver r = {0};
	receiver_start(&r, head);
	receiver_run(&r);
	struct webhook_sender *s = sender(true, 2000);
	struct webhook_send_result res;
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", r.port);
	post(s, url, "{}", &res);
	int64_t ra = res.retry_after_s;
	cr_expect_eq(res.status_code, strstr(head, " 429 ") ? 429 : strstr(head, " 503 ") ? 503 : 200);
	/* The same sender again, to an answer without one: nothing carried over. */
	atomic_store(&r.head, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	post(s, url, "{}", &res);
	cr_expect_eq(res.status_code, 200);
	cr_expect_eq(res.retry_after_s, -1);
	webhook_sender_free(s);
	receiver_stop(&r);
	return ra;
}

Test(send, retry_after)
{
	cr_expect_eq(retry_after_for("HTTP/1.1 429 Too Many\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n"), 7);
	cr_expect_eq(retry_after_for("HTTP/1.1 503 Unavailable\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n"), 0);
	cr_expect_eq(retry_after_for("HTTP/1.1 429 Slow\r\nRetry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"
				     "Content-Length: 0\r\n\r\n"),
		     0, "a past date is now");
	cr_expect_eq(retry_after_for("HTTP/1.1 429 Slow\r\nRetry-After: soon\r\nContent-Length: 0\r\n\r\n"), -1);
	cr_expect_eq(retry_after_for("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), -1);
	/* A date in the future, in seconds from now (give or take the clock's tick). */
	char head[200], date[64];
	time_t later = time(NULL) + 120;
	struct tm tm;
	gmtime_r(&later, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(head, sizeof head, "HTTP/1.1 429 Slow\r\nRetry-After: %s\r\nContent-Length: 0\r\n\r\n", date);
	int64_t ra = retry_after_for(head);
	cr_expect(ra >= 118 && ra <= 120, "%lld", (long long)ra);
}

Test(send, timeout)
{
	struct receiver r = {0};
	receiver_start(&r, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	r.delay_ms = 1500;
	receiver_run(&r);
	struct webhook_send_result res;
	post_once(&r, 300, &res);
	cr_expect_eq(res.status_code, 0);
	cr_expect_str_eq(res.error, "timeout");
	cr_expect(res.duration_ms >= 250 && res.duration_ms < 1200, "%lld ms", (long long)res.duration_ms);
	receiver_stop(&r);
}

/* An answer whose body goes on: read to 64 KiB, the status kept. */
static void long_answer(const char *head, size_t body_bytes)
{
	struct receiver r = {0};
	receiver_start(&r, head);
	r.body_bytes = body_bytes;
	receiver_run(&r);
	struct webhook_send_result res;
	post_once(&r, 2000, &res);
	cr_expect_eq(res.status_code, 200);
	cr_expect_str_eq(res.error, "");
	cr_expect_eq(res.answer_bytes, WEBHOOK_ANSWER_MAX);
	cr_expect_lt(res.duration_ms, 1500, "%lld ms: it waited for the rest", (long long)res.duration_ms);
	receiver_stop(&r);
}

Test(send, reads_at_most_64_kib_of_an_answer)
{
	long_answer("HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n", 1024 * 1024);
	long_answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", SIZE_MAX);
}

Test(send, endless_headers_are_cut)
{
	static char head[100 * 1024];
	size_t n = (size_t)snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\n");
	while (n + 64 < sizeof head - 64)
		n += (size_t)snprintf(head + n, sizeof head - n, "X-Filler: %040d\r\n", 0);
	snprintf(head + n, sizeof head - n, "Content-Length: 0\r\n\r\n");
	struct receiver r = {0};
	receiver_start(&r, head);
	receiver_run(&r);
	struct webhook_send_result res;
	post_once(&r, 2000, &res);
	cr_expect_eq(res.status_code, 0);
	cr_expect_str_eq(res.error, "answer head larger than 64 KiB");
	receiver_stop(&r);
}

Test(send, connection_refused)
{
	struct receiver r = {0};
	receiver_start(&r, "");
	close(r.fd); /* the port is free again: nobody listens there */
	struct webhook_send_result res;
	post_once(&r, 2000, &res);
	cr_expect_eq(res.status_code, 0);
	cr_expect_not(res.refused_by_guard);
	cr_expect_str_eq(res.error, "connection refused");
}

Test(send, refuses_arguments_that_would_break_the_request)
{
	struct receiver r = {0};
	receiver_start(&r, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	receiver_run(&r);
	struct webhook_sender *s = sender(true, 2000);
	struct webhook_send_result res;
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", r.port);
	webhook_send(s, url, "msg_1\r\nX-Evil: 1", 1, "v1,abc", "{}", 2, &res);
	cr_expect_str_eq(res.error, "invalid arguments: nothing sent");
	webhook_send(s, url, "msg_1", 1, "v1,abc\n", "{}", 2, &res);
	cr_expect_str_eq(res.error, "invalid arguments: nothing sent");
	webhook_send(s, NULL, "msg_1", 1, "v1,abc", "{}", 2, &res);
	cr_expect_str_eq(res.error, "invalid arguments: nothing sent");
	webhook_sender_free(s);
	receiver_stop(&r);
	cr_expect_eq(atomic_load(&r.accepted), 0);

	struct webhook_sender_options bad = {.timeout_ms = 0};
	cr_expect_null(webhook_sender_new(&bad));
	bad = (struct webhook_sender_options){.timeout_ms = 1000, .user_agent = "a\r\nb"};
	cr_expect_null(webhook_sender_new(&bad));
	cr_expect_null(webhook_sender_new(NULL));
	webhook_sender_free(NULL);
}
