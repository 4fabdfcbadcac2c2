/* SPDX-License-Identifier: MIT */
#include "webhooks/send.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "webhooks/guard.h"

#define USER_AGENT_DEFAULT "inkasso-webhooks"
#define USER_AGENT_MAX 128
#define MSG_ID_MAX 256
#define SIGNATURE_HEADER_MAX 1024

struct webhook_sender {
	CURL *curl;
	struct guard guard;              /* CURLOPT_OPENSOCKETDATA */
	char user_agent[USER_AGENT_MAX];
	/* The current attempt, reset by webhook_send. */
	int64_t answer_bytes;            /* body bytes counted by on_body */
	bool answer_capped;              /* on_body stopped the transfer at WEBHOOK_ANSWER_MAX */
	size_t head_bytes;               /* head bytes counted by on_head */
	bool head_capped;                /* on_head stopped the transfer at WEBHOOK_ANSWER_HEAD_MAX */
	bool head_done;                  /* the blank line that ends the last head arrived */
};

/* Counts the body and forgets it: the answer's content does not matter,
 * only its status. Small bodies are read to the end so that the connection
 * can be reused; at WEBHOOK_ANSWER_MAX the transfer stops (libcurl then
 * closes the connection), so that a receiver streaming an endless body
 * costs us 64 KiB and no more time. The status arrived before the body, so
 * a stopped 2xx is still a delivery. */
static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
	(void)data;
	struct webhook_sender *s = userdata;
	size_t len = size * n, room = (size_t)(WEBHOOK_ANSWER_MAX - s->answer_bytes);
	if (len > room) {
		s->answer_bytes = WEBHOOK_ANSWER_MAX;
		s->answer_capped = true;
		return 0; /* any count but len stops the transfer: CURLE_WRITE_ERROR */
	}
	s->answer_bytes += (int64_t)len;
	return len;
}

/* Counts the head: libcurl 7.88 keeps every header line in memory (for
 * curl_easy_header) with no total limit, so a receiver could send headers
 * until the timeout. Also notes where a head ends, so that an answer whose
 * head never finished does not count as an answer. */
static size_t on_head(char *data, size_t size, size_t n, void *userdata)
{
	struct webhook_sender *s = userdata;
	size_t len = size * n;
	s->head_bytes += len;
	if (s->head_bytes > WEBHOOK_ANSWER_HEAD_MAX) {
		s->head_capped = true;
		return 0;
	}
	if (len >= 5 && !memcmp(data, "HTTP/", 5))
		s->head_done = false; /* a new head: after a 1xx, the final one */
	else if ((len == 2 && data[0] == '\r' && data[1] == '\n') || (len == 1 && data[0] == '\n'))
		s->head_done = true;
	return len;
}

/* Sets the options every attempt shares; false if libcurl refused one (an
 * attempt without its limits must not go out). */
static bool set_options(struct webhook_sender *s, long timeout_ms, bool allow_private)
{
	CURL *h = s->curl;
	const char *protocols = allow_private ? "http,https" : "https";
	long connect_ms = timeout_ms < WEBHOOK_CONNECT_MAX_MS ? timeout_ms : WEBHOOK_CONNECT_MAX_MS;
	bool bad = false;
	bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protocols) != CURLE_OK;
	/* No redirects: a 3xx is the receiver's answer, and following one
	 * would take the signed event to a host nobody checked. libcurl refuses
	 * an empty redirect list, so it gets the same list. */
	bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_MAXREDIRS, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, protocols) != CURLE_OK;
	/* "" turns proxies off even when https_proxy or ALL_PROXY are set: a
	 * proxy would carry the request past the address check. */
	bad |= curl_easy_setopt(h, CURLOPT_PROXY, "") != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_NOPROXY, "*") != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, guard_opensocket) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &s->guard) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, s->user_agent) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, s) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_head) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_HEADERDATA, s) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_POST, 1L) != CURLE_OK;
	/* CURLOPT_VERBOSE stays off: it would print the signature. No
	 * CURLOPT_ACCEPT_ENCODING: a compressed answer is never inflated. */
	return !bad;
}

/* True if s is printable ASCII (spaces allowed), 1 to max bytes: nothing
 * that could end a header line or add one. */
static bool header_value_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

struct webhook_sender *webhook_sender_new(const struct webhook_sender_options *o)
{
	const char *ua = o && o->user_agent ? o->user_agent : USER_AGENT_DEFAULT;
	if (!o || o->timeout_ms < 1 || o->timeout_ms > WEBHOOK_TIMEOUT_MAX_MS ||
	    !header_value_ok(ua, USER_AGENT_MAX - 1))
		return NULL;
	struct webhook_sender *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->guard.allow_private = o->allow_private;
	memcpy(s->user_agent, ua, strlen(ua) + 1);
	s->curl = curl_easy_init();
	if (!s->curl || !set_options(s, o->timeout_ms, o->allow_private)) {
		webhook_sender_free(s);
		return NULL;
	}
	return s;
}

void webhook_sender_free(struct webhook_sender *s)
{
	if (!s)
		return;
	curl_easy_cleanup(s->curl);
	free(s);
}

/* The request's header lines; NULL when out of memory. */
static struct curl_slist *make_headers(const char *msg_id, int64_t timestamp, const char *signature_header)
{
	char id[sizeof "webhook-id: " + MSG_ID_MAX], ts[64], sig[sizeof "webhook-signature: " + SIGNATURE_HEADER_MAX];
	snprintf(id, sizeof id, "webhook-id: %s", msg_id);
	snprintf(ts, sizeof ts, "webhook-timestamp: %lld", (long long)timestamp);
	snprintf(sig, sizeof sig, "webhook-signature: %s", signature_header);
	const char *lines[] = {"content-type: application/json", id, ts, sig,
			       "Expect:"}; /* no 100-continue round trip for bodies over 1 KiB */
	struct curl_slist *h = NULL, *next;
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		next = curl_slist_append(h, lines[i]);
		if (!next) {
			curl_slist_free_all(h);
			return NULL;
		}
		h = next;
	}
	return h;
}

/* Retry-After of the final answer in seconds, -1 when there is none or it
 * cannot be read. libcurl parses it (CURLINFO_RETRY_AFTER: delay seconds,
 * or an HTTP date turned into seconds from now) but answers 0 for a
 * missing header, a past date and junk alike; the header itself tells
 * them apart. */
static int64_t retry_after_of(CURL *h)
{
	struct curl_header *hd = NULL;
	curl_off_t secs = 0;
	if (curl_easy_header(h, "Retry-After", 0, CURLH_HEADER, -1, &hd) != CURLHE_OK ||
	    curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &secs) != CURLE_OK)
		return -1;
	if (secs > 0)
		return (int64_t)secs;
	const char *v = hd->value + strspn(hd->value, " \t");
	size_t zeros = strspn(v, "0");
	if (zeros > 0 && v[zeros + strspn(v + zeros, " \t")] == '\0')
		return 0; /* "0": now */
	if (secs < 0 || curl_getdate(v, NULL) != -1)
		return 0; /* a date now or in the past */
	return -1;
}

/* A short reason for a transfer that brought no answer: fixed phrases, not
 * libcurl's error buffer (it names the host and port, and a URL's query
 * may carry a receiver's token). */
static const char *reason_of(struct webhook_sender *s, CURLcode rc)
{
	long os_errno = 0;
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return "timeout";
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(s->curl, CURLINFO_OS_ERRNO, &os_errno);
		if (os_errno == ECONNREFUSED)
			return "connection refused";
		if (os_errno == ENETUNREACH || os_errno == EHOSTUNREACH)
			return "host unreachable";
		return "could not connect";
	case CURLE_COULDNT_RESOLVE_HOST:
		return "could not resolve the host";
	case CURLE_SSL_CONNECT_ERROR:
		return "TLS handshake failed";
	case CURLE_PEER_FAILED_VERIFICATION:
		return "TLS certificate not trusted for the host";
	case CURLE_GOT_NOTHING:
		return "empty reply";
	case CURLE_SEND_ERROR:
		return "connection lost while sending";
	case CURLE_RECV_ERROR:
		return "connection lost while receiving";
	case CURLE_UNSUPPORTED_PROTOCOL:
		return "scheme not allowed";
	case CURLE_URL_MALFORMAT:
		return "malformed URL";
	case CURLE_WEIRD_SERVER_REPLY:
		return "not an HTTP answer";
	case CURLE_WRITE_ERROR:
		return s->head_capped ? "answer head larger than 64 KiB" : "could not read the answer";
	default:
		return curl_easy_strerror(rc); /* static text, no URL */
	}
}

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Fills out from the finished transfer. */
static void result_of(struct webhook_sender *s, CURLcode rc, unsigned long refused_before,
		      struct webhook_send_result *out)
{
	long code = 0;
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	out->answer_bytes = s->answer_bytes;
	/* An answer is a final status with its whole head: what the body did
	 * afterwards (cut by us, or timed out, or reset) does not undo it. */
	bool answered = code >= 200 && code <= 999 && s->head_done && !s->head_capped;
	if (answered) {
		out->status_code = (int)code;
		out->retry_after_s = retry_after_of(s->curl);
		return;
	}
	if (rc != CURLE_OK && s->guard.refused > refused_before) {
		out->refused_by_guard = true;
		snprintf(out->error, sizeof out->error, "guard: address not public");
		return;
	}
	snprintf(out->error, sizeof out->error, "%s", rc == CURLE_OK ? "no final answer" : reason_of(s, rc));
}

void webhook_send(struct webhook_sender *s, const char *url, const char *msg_id, int64_t timestamp,
		  const char *signature_header, const char *body, size_t len, struct webhook_send_result *out)
{
	*out = (struct webhook_send_result){.retry_after_s = -1};
	int64_t start = now_ms();
	if (!s || !header_value_ok(url, WEBHOOK_URL_MAX) ||
	    !header_value_ok(msg_id, MSG_ID_MAX) || !header_value_ok(signature_header, SIGNATURE_HEADER_MAX) ||
	    (!body && len)) {
		snprintf(out->error, sizeof out->error, "invalid arguments: nothing sent");
		return;
	}
	struct curl_slist *headers = make_headers(msg_id, timestamp, signature_header);
	if (!headers) {
		snprintf(out->error, sizeof out->error, "out of memory: nothing sent");
		return;
	}
	s->answer_bytes = 0;
	s->answer_capped = s->head_capped = s->head_done = false;
	s->head_bytes = 0;
	unsigned long refused_before = s->guard.refused;
	CURL *h = s->curl;
	bool bad = curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "") != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK;
	if (bad) {
		snprintf(out->error, sizeof out->error, "libcurl refused an option: nothing sent");
	} else {
		CURLcode rc = curl_easy_perform(h);
		result_of(s, rc, refused_before, out);
	}
	/* The list dies here; the handle must not keep pointing at it. */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	out->duration_ms = now_ms() - start;
}
