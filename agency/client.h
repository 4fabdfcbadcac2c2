/* SPDX-License-Identifier: MIT */
/* The agency client: one function per remote endpoint of DESIGN.md "The
 * agency API", on libcurl, hardened as RELIABILITY.md says (timeouts, no
 * redirects, limited protocols, TLS verified, answers capped at
 * AGENCY_ANSWER_MAX, the api key never logged).
 *
 * Threading: a struct agency_client owns one CURL easy handle and one answer
 * buffer; use one per thread. main() calls curl_global_init once before any
 * thread starts.
 *
 * Every call returns an enum agency_outcome and fills *res; the payload
 * (out, callbacks) only on AGENCY_OK. Every call counts once in
 * metrics_agency_call(endpoint, outcome). */
#ifndef INKASSO_AGENCY_CLIENT_H
#define INKASSO_AGENCY_CLIENT_H
#include <stdbool.h>
#include <stddef.h>

#include "agency/parse.h"

/* Answers beyond 1 MiB are refused while they arrive (MAXFILESIZE does not
 * stop chunked answers; the write callback does). */
#define AGENCY_ANSWER_MAX (1024 * 1024)
/* Longest base URL accepted. */
#define AGENCY_URL_MAX 512
/* Longest api key sent. */
#define AGENCY_KEY_MAX 256

/* What became of a call, from the caller's point of view. "Not delivered"
 * outcomes may be resent at once (after backoff); after AGENCY_UNKNOWN a
 * creating call must be looked up before it is sent again. */
enum agency_outcome {
	AGENCY_OK,         /* 2xx and the answer parsed */
	AGENCY_CONFLICT,   /* 409: for an invoice, received before (delivered) */
	AGENCY_NOT_FOUND,  /* 404: unknown invoice or case */
	AGENCY_REJECTED,   /* other 4xx (not 408/429): the agency refused it; also our own
			    * argument checks, with http_status 0 and nothing sent */
	AGENCY_RETRY,      /* not delivered: 429, 408, 503 and other 5xx (for GETs every
			    * 5xx), no connection, no name; an unusable api key (nothing sent) */
	AGENCY_UNKNOWN,    /* creating POSTs only: timeout, reset or empty reply after the
			    * request went out, 500/502/504 (processed or not), or a 3xx */
	AGENCY_BAD_ANSWER, /* 2xx (so a POST was received) whose answer does not parse or
			    * exceeds AGENCY_ANSWER_MAX */
};

/* What the caller may show or schedule by. */
struct agency_result {
	int http_status;   /* 0 when no HTTP answer arrived */
	int retry_after_s; /* Retry-After in seconds (delta or HTTP-date), capped at
			    * AGENCY_RETRY_AFTER_MAX; -1 when absent or unreadable */
	char message[256]; /* the agency's "message" on an error answer (cleaned), the
			    * parse reason on AGENCY_BAD_ANSWER, curl's error, or "" */
	bool agency_message; /* message is the agency's own text (it may echo personal data
			      * of the request); false: ours, curl's or a parse reason,
			      * which name fields and hosts only */
};

struct agency_client;

/* Where and how the agency is reached: what the forwarder, the sync and the
 * key check each need to make their own clients. The URLs are borrowed. */
struct agency_options {
	const char *base_url;    /* production (INKASSO_AGENCY_URL); checked as agency_base_url_ok */
	const char *staging_url; /* staging (INKASSO_AGENCY_STAGING_URL), checked alike; NULL or "": none */
	int timeout_ms;          /* total per call, 1..600000 */
	bool allow_http;         /* plain http to a non-loopback agency */
};

/* Checks a base URL: https://host[:port][/path], or http:// when allow_http
 * or the host is loopback (127.0.0.0/8, localhost, [::1]); no user info,
 * query or fragment; at most AGENCY_URL_MAX bytes. False with a reason in
 * err (size errlen). */
bool agency_base_url_ok(const char *base_url, bool allow_http, char *err, size_t errlen);

/* Creates a client for base_url (checked as agency_base_url_ok; a trailing
 * '/' is dropped) with a total timeout per call of timeout_ms (1..600000;
 * connecting gets at most 5 s of it). Returns NULL with a reason in err
 * (size errlen). Free with agency_client_free. */
struct agency_client *agency_client_new(const char *base_url, int timeout_ms, bool allow_http, char *err,
					size_t errlen);

/* Releases the client and its connections. NULL-safe. */
void agency_client_free(struct agency_client *ac);

/* "ok", "conflict", "not_found", "rejected", "retry", "unknown", "bad_answer". */
const char *agency_outcome_name(enum agency_outcome o);

/* The outcome of an HTTP status. creating: a POST that creates something at
 * the agency (invoice, action), where "maybe processed" is AGENCY_UNKNOWN. */
enum agency_outcome agency_classify_status(int status, bool creating);

/* The outcome of a failed transfer (a CURLcode other than CURLE_OK). */
enum agency_outcome agency_classify_curl(int curl_code, bool creating);

/* In all calls below: ac and res are required; api_key is the tenant's
 * X-Api-Key (1..AGENCY_KEY_MAX printable ASCII characters, else
 * AGENCY_RETRY with nothing sent); out may be NULL when not wanted. */

/* GET /api/v1/partner/validate. */
enum agency_outcome agency_validate(struct agency_client *ac, const char *api_key, struct agency_validation *out,
				    struct agency_result *res);

/* POST /api/v1/partner/invoice with body (agency_invoice_body), on a fresh
 * connection that is not reused: libcurl would otherwise resend the POST by
 * itself when a reused connection dies, a hidden second send. */
enum agency_outcome agency_invoice_create(struct agency_client *ac, const char *api_key, const char *body,
					  struct agency_created *out, struct agency_result *res);

/* GET /api/v1/partner/invoice/distribution?invoiceNumber=N (the lookup
 * after an unknown outcome). AGENCY_NOT_FOUND: the agency never received it. */
enum agency_outcome agency_distribution(struct agency_client *ac, const char *api_key, const char *invoice_number,
					struct agency_distribution *out, struct agency_result *res);

/* GET /api/v1/partner/invoice/case?caseId=C, amounts read in currency (the
 * case's); fn (may be NULL) receives each event after out is filled. */
enum agency_outcome agency_case(struct agency_client *ac, const char *api_key, const char *case_id,
				const char *currency, struct agency_case *out, agency_event_fn fn, void *ctx,
				struct agency_result *res);

/* POST /api/v1/partner/invoice/action with body (agency_action_body), on a
 * fresh connection like agency_invoice_create. */
enum agency_outcome agency_action(struct agency_client *ac, const char *api_key, const char *body,
				  struct agency_action_answer *out, struct agency_result *res);

/* GET /api/v1/partner/payments?fromDate=F&toDate=T (YYYY-MM-DD, each may be
 * NULL to leave it out); fn (may be NULL) receives each payment. */
enum agency_outcome agency_payments(struct agency_client *ac, const char *api_key, const char *from,
				    const char *to, agency_payment_fn fn, void *ctx, struct agency_result *res);

/* GET /api/v1/partner/settlements?fromDate=F&toDate=T; fn (may be NULL)
 * receives each settlement with its allocations. */
enum agency_outcome agency_settlements(struct agency_client *ac, const char *api_key, const char *from,
				       const char *to, agency_settlement_fn fn, void *ctx, struct agency_result *res);

#endif
