/* SPDX-License-Identifier: MIT */
/* One webhook delivery attempt on libcurl: the POST of DESIGN.md "Events and
 * webhooks", hardened as RELIABILITY.md "Webhooks out" says. The SSRF guard
 * sees every address connected (always installed; allow_private passes
 * it), no redirect is followed, proxies from the environment are never
 * used, only https (and http when allow_private) is spoken, TLS is
 * verified, and at most WEBHOOK_ANSWER_MAX bytes of an answer are read,
 * none of them kept, logged or returned.
 *
 * Threading: a sender owns one CURL easy handle, reused from attempt to
 * attempt so that connections to a receiver are reused; use one sender on
 * one thread at a time. main() calls curl_global_init once before any
 * thread starts; the sender never does.
 *
 * A reused connection that dies before any answer makes libcurl send the
 * POST again on a new one by itself: for webhooks that is a duplicate the
 * receiver dedupes by webhook-id, which deliveries are at least once
 * anyway. */
#ifndef INKASSO_WEBHOOK_SEND_H
#define INKASSO_WEBHOOK_SEND_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most bytes of an answer's body read; the transfer stops there. */
#define WEBHOOK_ANSWER_MAX (64 * 1024)
/* Most bytes of an answer's head (status line and headers) read. */
#define WEBHOOK_ANSWER_HEAD_MAX (64 * 1024)
/* Connecting gets at most this much of the attempt's timeout. */
#define WEBHOOK_CONNECT_MAX_MS 5000L
#define WEBHOOK_TIMEOUT_MAX_MS 600000L

struct webhook_sender_options {
	long timeout_ms;        /* the whole attempt, 1..WEBHOOK_TIMEOUT_MAX_MS */
	bool allow_private;     /* any address and plain http (development and tests) */
	const char *user_agent; /* NULL: "inkasso-webhooks"; printable ASCII, copied */
};

struct webhook_send_result {
	int status_code;         /* the receiver's HTTP status; 0: no HTTP answer */
	int64_t retry_after_s;   /* the answer's Retry-After in seconds from now (a date is
				  * converted, a past one is 0); -1: none or unusable */
	int64_t duration_ms;     /* from the start of the attempt to its end */
	int64_t answer_bytes;    /* body bytes read, at most WEBHOOK_ANSWER_MAX */
	bool refused_by_guard;   /* the guard refused every address tried: nothing was sent */
	char error[160];         /* "" when an answer came (even one whose body was cut at
				  * WEBHOOK_ANSWER_MAX or failed after its head); else a short
				  * reason ("timeout", "connection refused", "guard: address not
				  * public", ...), never with the URL or any part of the answer */
};

/* A new sender, or NULL for options out of range or out of memory. Free with
 * webhook_sender_free. */
struct webhook_sender *webhook_sender_new(const struct webhook_sender_options *o);
/* Releases the sender and its connections. NULL-safe. */
void webhook_sender_free(struct webhook_sender *s);

/* POSTs the len bytes of body to url with the Standard Webhooks headers
 * (content-type: application/json, webhook-id: msg_id, webhook-timestamp:
 * timestamp, webhook-signature: signature_header, user-agent) and fills
 * *out. Delivered means out->status_code 200..299: the receiver answered
 * 2xx within the timeout. Arguments that would not make a clean request
 * (a NULL, a URL over WEBHOOK_URL_MAX, CR or LF or other control
 * characters in a header value) send nothing and set out->error. The URL is
 * not checked again here (webhook_url_check at registration); the guard
 * checks the addresses. */
void webhook_send(struct webhook_sender *s, const char *url, const char *msg_id, int64_t timestamp,
		  const char *signature_header, const char *body, size_t len, struct webhook_send_result *out);

#endif
