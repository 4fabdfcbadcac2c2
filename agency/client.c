/* SPDX-License-Identifier: MIT */
#include "agency/client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/dates.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/money.h"

/* Connecting gets at most this much of the call's timeout: an agency that
 * does not accept a connection in 5 s is down, not slow. */
#define AGENCY_CONNECT_MAX_MS 5000
#define AGENCY_TIMEOUT_MAX_MS 600000
/* After a call, an answer buffer larger than this is released rather than
 * kept for the thread's lifetime. */
#define AGENCY_KEEP_BUFFER (64 * 1024)

struct agency_client {
	CURL *curl;
	char base[AGENCY_URL_MAX + 1];   /* without a trailing '/' */
	long timeout_ms;
	bool http;                       /* http:// allowed (configured or loopback) */
	struct buf answer;               /* the current call's answer body */
	bool answer_refused;             /* the write callback stopped the transfer */
	char curl_error[CURL_ERROR_SIZE];
};

/* One remote endpoint, as a call needs it. */
struct call {
	const char *endpoint;            /* metrics name, a static string */
	const char *path;
	const char *query[2][2];         /* name, value; a NULL value leaves it out */
	const char *body;                /* NULL: GET */
};

const char *agency_outcome_name(enum agency_outcome o)
{
	switch (o) {
	case AGENCY_OK:
		return "ok";
	case AGENCY_CONFLICT:
		return "conflict";
	case AGENCY_NOT_FOUND:
		return "not_found";
	case AGENCY_REJECTED:
		return "rejected";
	case AGENCY_RETRY:
		return "retry";
	case AGENCY_UNKNOWN:
		return "unknown";
	case AGENCY_BAD_ANSWER:
		return "bad_answer";
	}
	return "unknown";
}

enum agency_outcome agency_classify_status(int status, bool creating)
{
	/* What "maybe processed" means depends on the call: a GET is safe to
	 * repeat, a creating POST must be looked up first. */
	enum agency_outcome maybe = creating ? AGENCY_UNKNOWN : AGENCY_RETRY;
	switch (status) {
	case 404:
		/* The invoice or case is not known to the agency: a lookup's "no". */
		return AGENCY_NOT_FOUND;
	case 409:
		/* The invoice number was received before: it is at the agency. */
		return AGENCY_CONFLICT;
	case 408:
		/* The agency gave up reading our request: it processed nothing. */
		return AGENCY_RETRY;
	case 429:
		/* Rate limited before any processing; Retry-After says when. */
		return AGENCY_RETRY;
	case 503:
		/* Unavailable: refused before processing (maintenance, overload). */
		return AGENCY_RETRY;
	case 500:
	case 502:
	case 504:
		/* A crash, or a gateway that lost the upstream's answer: the agency
		 * may have stored the invoice before failing. For a POST that is an
		 * unknown outcome (look up, then resend), or a careless agency that
		 * accepts repeated numbers would create the case twice. */
		return maybe;
	default:
		break;
	}
	if (status >= 200 && status <= 299)
		return AGENCY_OK; /* 200 and 201 alike: the answer's shape decides */
	if (status >= 400 && status <= 499)
		return AGENCY_REJECTED; /* the request itself is wrong: resending cannot help */
	if (status >= 500 && status <= 599)
		return AGENCY_RETRY; /* 501, 505, 507...: refused, not processed */
	/* A 3xx (redirects are never followed: a 303 after a POST means it was
	 * processed), a 1xx as final answer, or no HTTP status at all. */
	return maybe;
}

enum agency_outcome agency_classify_curl(int curl_code, bool creating)
{
	switch ((CURLcode)curl_code) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		/* No connection: nothing was sent. */
		return AGENCY_RETRY;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		/* The TLS handshake failed: the request was never written. */
		return AGENCY_RETRY;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_FAILED_INIT:
		/* Refused by libcurl before connecting. */
		return AGENCY_RETRY;
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		/* The request may have arrived and been processed; only the answer
		 * is missing. A GET is safe to repeat. */
		return creating ? AGENCY_UNKNOWN : AGENCY_RETRY;
	default:
		/* Anything else may have happened after sending: assume it did. */
		return creating ? AGENCY_UNKNOWN : AGENCY_RETRY;
	}
}

static bool is_loopback_host(const char *host)
{
	unsigned a, b, c, d;
	char tail;
	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
		return true;
	/* Exactly four decimal octets, the first 127. */
	if (strspn(host, "0123456789.") != strlen(host) ||
	    sscanf(host, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) != 4)
		return false;
	return a == 127 && b <= 255 && c <= 255 && d <= 255;
}

/* True if the URL has the part (even an empty one). */
static bool has_part(CURLU *u, CURLUPart what)
{
	char *part = NULL;
	CURLUcode rc = curl_url_get(u, what, &part, 0);
	curl_free(part);
	return rc == CURLUE_OK;
}

bool agency_base_url_ok(const char *base_url, bool allow_http, char *err, size_t errlen)
{
	bool ok = false;
	char *scheme = NULL, *host = NULL;
	CURLU *u = NULL;
	if (!base_url || !base_url[0] || strlen(base_url) > AGENCY_URL_MAX) {
		snprintf(err, errlen, "the agency URL must have 1 to %d characters", AGENCY_URL_MAX);
		goto out;
	}
	for (const char *p = base_url; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			snprintf(err, errlen, "the agency URL must not contain spaces or control characters");
			goto out;
		}
	u = curl_url();
	if (!u || curl_url_set(u, CURLUPART_URL, base_url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, errlen, "the agency URL is not a URL with a scheme and a host");
		goto out;
	}
	/* Credentials in the URL would travel into logs and error messages (the
	 * key has its header); a query or fragment would break the paths that
	 * are appended. */
	if (has_part(u, CURLUPART_USER) || has_part(u, CURLUPART_PASSWORD) || has_part(u, CURLUPART_QUERY) ||
	    has_part(u, CURLUPART_FRAGMENT)) {
		snprintf(err, errlen, "the agency URL must not have user info, a query or a fragment");
		goto out;
	}
	if (strcmp(scheme, "https") == 0) {
		ok = true;
	} else if (strcmp(scheme, "http") == 0) {
		ok = allow_http || is_loopback_host(host);
		if (!ok)
			snprintf(err, errlen,
				 "the agency URL must be https:// (http:// only on loopback or when allowed)");
	} else {
		snprintf(err, errlen, "the agency URL must be https://");
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

struct agency_client *agency_client_new(const char *base_url, int timeout_ms, bool allow_http, char *err,
					size_t errlen)
{
	if (!agency_base_url_ok(base_url, allow_http, err, errlen))
		return NULL;
	if (timeout_ms < 1 || timeout_ms > AGENCY_TIMEOUT_MAX_MS) {
		snprintf(err, errlen, "the agency timeout must be 1 to %d ms", AGENCY_TIMEOUT_MAX_MS);
		return NULL;
	}
	struct agency_client *ac = calloc(1, sizeof *ac);
	if (!ac || !(ac->curl = curl_easy_init())) {
		snprintf(err, errlen, "out of memory creating the agency client");
		free(ac);
		return NULL;
	}
	size_t n = strlen(base_url);
	while (n > 0 && base_url[n - 1] == '/')
		n--;
	memcpy(ac->base, base_url, n);
	ac->base[n] = '\0';
	ac->timeout_ms = timeout_ms;
	ac->http = strncasecmp(base_url, "http:", 5) == 0;
	return ac;
}

void agency_client_free(struct agency_client *ac)
{
	if (!ac)
		return;
	curl_easy_cleanup(ac->curl);
	buf_free(&ac->answer);
	free(ac);
}

static size_t on_answer(char *data, size_t size, size_t n, void *userdata)
{
	struct agency_client *ac = userdata;
	size_t len = size * n;
	if (len > AGENCY_ANSWER_MAX - ac->answer.len) {
		ac->answer_refused = true;
		return 0; /* any other count than len aborts: CURLE_WRITE_ERROR */
	}
	buf_append(&ac->answer, data, len);
	if (ac->answer.oom) {
		ac->answer_refused = true;
		return 0;
	}
	return len;
}

/* The tenant's key goes into a header line: refuse anything that could
 * break it (CR, LF) or that no agency issues. */
static bool api_key_usable(const char *key)
{
	size_t n = key ? strlen(key) : 0;
	if (n == 0 || n > AGENCY_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (key[i] <= 0x20 || key[i] >= 0x7f)
			return false;
	return true;
}

/* Builds base + path + escaped query into url; false when out of memory. */
static bool build_url(struct agency_client *ac, const struct call *call, struct buf *url)
{
	char sep = '?';
	buf_puts(url, ac->base);
	buf_puts(url, call->path);
	for (int i = 0; i < 2; i++) {
		const char *name = call->query[i][0], *value = call->query[i][1];
		if (!name || !value)
			continue;
		char *esc = curl_easy_escape(ac->curl, value, 0);
		if (!esc)
			return false;
		buf_printf(url, "%c%s=%s", sep, name, esc);
		curl_free(esc);
		sep = '&';
	}
	buf_cstr(url);
	return !url->oom;
}

/* Sets every option of a call on the freshly reset handle; false if libcurl
 * refused one (a call without its limits must not go out). */
static bool set_options(struct agency_client *ac, const struct call *call, const char *url,
			struct curl_slist *headers)
{
	CURL *h = ac->curl;
	const char *protocols = ac->http ? "http,https" : "https";
	bool bad = false;
	bad |= curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	long connect_ms = ac->timeout_ms < AGENCY_CONNECT_MAX_MS ? ac->timeout_ms : (long)AGENCY_CONNECT_MAX_MS;
	bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ac->timeout_ms) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protocols) != CURLE_OK;
	/* No redirects: a moved agency is a configuration error, and a redirect
	 * would carry the api key to another host. libcurl refuses an empty
	 * redirect list, so it gets the same list as the call itself. */
	bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_MAXREDIRS, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, protocols) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, "inkasso") != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_answer) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, ac) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ac->curl_error) != CURLE_OK;
	/* CURLOPT_VERBOSE stays off (reset's default): it would log the key. */
	if (call->body) {
		bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, call->body) != CURLE_OK;
		bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(call->body)) != CURLE_OK;
		/* A reused connection that dies before the answer makes libcurl
		 * resend the POST on a new one by itself: a hidden second send.
		 * A fresh, unshared connection turns that into a visible error. */
		bad |= curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L) != CURLE_OK;
		bad |= curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK;
	}
	return !bad;
}

/* The request headers; NULL when out of memory. */
static struct curl_slist *make_headers(const char *api_key, bool has_body)
{
	char key_line[sizeof "X-Api-Key: " + AGENCY_KEY_MAX];
	struct curl_slist *h = NULL, *next;
	const char *lines[] = {"Accept: application/json",
			       "Expect:", /* no 100-continue round trip */
			       has_body ? "Content-Type: application/json" : NULL, key_line};
	snprintf(key_line, sizeof key_line, "X-Api-Key: %s", api_key);
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		if (!lines[i])
			continue;
		next = curl_slist_append(h, lines[i]);
		if (!next) {
			curl_slist_free_all(h);
			h = NULL;
			break;
		}
		h = next;
	}
	explicit_bzero(key_line, sizeof key_line);
	return h;
}

/* Retry-After of the last answer, -1 when none. */
static int retry_after_of(CURL *h)
{
	struct curl_header *hd = NULL;
	if (curl_easy_header(h, "Retry-After", 0, CURLH_HEADER, -1, &hd) != CURLHE_OK)
		return -1;
	return agency_retry_after(hd->value, time(NULL));
}

/* Classifies the finished transfer and fills res. */
static enum agency_outcome outcome_of(struct agency_client *ac, const struct call *call, CURLcode rc,
				      struct agency_result *res)
{
	long status = 0;
	bool creating = call->body != NULL;
	curl_easy_getinfo(ac->curl, CURLINFO_RESPONSE_CODE, &status);
	res->http_status = (int)status;
	res->retry_after_s = status ? retry_after_of(ac->curl) : -1;
	if (rc == CURLE_WRITE_ERROR && ac->answer_refused) {
		/* The status line arrived before the body we stopped reading. */
		snprintf(res->message, sizeof res->message, "%s",
			 ac->answer.oom ? "out of memory reading the answer" : "answer larger than 1 MiB");
		enum agency_outcome o = agency_classify_status(res->http_status, creating);
		return o == AGENCY_OK ? AGENCY_BAD_ANSWER : o;
	}
	if (rc != CURLE_OK) {
		snprintf(res->message, sizeof res->message, "%s",
			 ac->curl_error[0] ? ac->curl_error : curl_easy_strerror(rc));
		return agency_classify_curl(rc, creating);
	}
	enum agency_outcome o = agency_classify_status(res->http_status, creating);
	if (o != AGENCY_OK) {
		agency_parse_message(ac->answer.data, ac->answer.len, res->message, sizeof res->message);
		res->agency_message = res->message[0] != '\0';
		if (!res->message[0]) /* no usable message: a proxy's HTML page, an empty body */
			snprintf(res->message, sizeof res->message, "HTTP %d", res->http_status);
	}
	return o;
}

/* Sends one call; on AGENCY_OK the answer is in ac->answer. */
static enum agency_outcome perform(struct agency_client *ac, const char *api_key, const struct call *call,
				   struct agency_result *res)
{
	enum agency_outcome o = AGENCY_RETRY;
	struct buf url = {0};
	struct curl_slist *headers = NULL;
	if (!api_key_usable(api_key)) {
		snprintf(res->message, sizeof res->message, "the api key is empty, too long or not printable ASCII");
		goto out;
	}
	headers = make_headers(api_key, call->body != NULL);
	if (!headers || !build_url(ac, call, &url)) {
		snprintf(res->message, sizeof res->message, "out of memory preparing the call");
		goto out;
	}
	/* Reset: no option of the previous call (a POST body, a fresh
	 * connection) leaks into this one; connections and DNS stay cached. */
	curl_easy_reset(ac->curl);
	buf_reset(&ac->answer);
	ac->answer_refused = false;
	ac->curl_error[0] = '\0';
	if (!set_options(ac, call, url.data, headers)) {
		snprintf(res->message, sizeof res->message, "libcurl refused an option of the call");
		goto out;
	}
	o = outcome_of(ac, call, curl_easy_perform(ac->curl), res);
out:
	/* The header list holds the key: it must not outlive the transfer. */
	curl_easy_setopt(ac->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	buf_free(&url);
	return o;
}

/* Counts the call, logs what an operator needs (never the key, the agency's
 * message or any body: they may carry personal data), and returns o. */
static enum agency_outcome finish(struct agency_client *ac, const struct call *call, enum agency_outcome o,
				  const struct agency_result *res)
{
	metrics_agency_call(call->endpoint, agency_outcome_name(o));
	if (o == AGENCY_RETRY || o == AGENCY_UNKNOWN || o == AGENCY_BAD_ANSWER) {
		char status[16];
		snprintf(status, sizeof status, "%d", res->http_status);
		/* Our parse reasons and curl's errors name fields and hosts only;
		 * an agency's own message is left to the caller's event. */
		bool ours = o == AGENCY_BAD_ANSWER || res->http_status == 0;
		log_write(LOG_WARN, "agency call failed", "endpoint", call->endpoint, "outcome", agency_outcome_name(o),
			  "http_status", status, "reason", ours ? res->message : NULL, NULL);
	}
	if (ac->answer.cap > AGENCY_KEEP_BUFFER)
		buf_free(&ac->answer);
	return o;
}

/* The start of every public call: a clean result. */
static void begin(struct agency_result *res)
{
	memset(res, 0, sizeof *res);
	res->retry_after_s = -1;
}

/* Our own argument checks: nothing is sent, the call is refused. */
static enum agency_outcome refuse(struct agency_client *ac, const struct call *call, struct agency_result *res,
				  const char *why)
{
	snprintf(res->message, sizeof res->message, "%s", why);
	return finish(ac, call, AGENCY_REJECTED, res);
}

enum agency_outcome agency_validate(struct agency_client *ac, const char *api_key, struct agency_validation *out,
				    struct agency_result *res)
{
	static const struct call call = {.endpoint = "validate", .path = "/api/v1/partner/validate"};
	struct agency_validation scratch;
	begin(res);
	enum agency_outcome o = perform(ac, api_key, &call, res);
	if (o == AGENCY_OK && !agency_parse_validate(ac->answer.data, ac->answer.len, out ? out : &scratch,
						     res->message, sizeof res->message))
		o = AGENCY_BAD_ANSWER;
	return finish(ac, &call, o, res);
}

enum agency_outcome agency_invoice_create(struct agency_client *ac, const char *api_key, const char *body,
					  struct agency_created *out, struct agency_result *res)
{
	struct call call = {.endpoint = "invoice_create", .path = "/api/v1/partner/invoice", .body = body};
	struct agency_created scratch;
	begin(res);
	if (!body || !body[0])
		return refuse(ac, &call, res, "no invoice body");
	enum agency_outcome o = perform(ac, api_key, &call, res);
	if (o == AGENCY_OK && !agency_parse_create(ac->answer.data, ac->answer.len, out ? out : &scratch, res->message,
						   sizeof res->message))
		o = AGENCY_BAD_ANSWER;
	return finish(ac, &call, o, res);
}

enum agency_outcome agency_distribution(struct agency_client *ac, const char *api_key, const char *invoice_number,
					struct agency_distribution *out, struct agency_result *res)
{
	struct call call = {.endpoint = "distribution",
			    .path = "/api/v1/partner/invoice/distribution",
			    .query = {{"invoiceNumber", invoice_number}}};
	struct agency_distribution scratch;
	begin(res);
	if (!invoice_number || !invoice_number[0])
		return refuse(ac, &call, res, "no invoice number");
	enum agency_outcome o = perform(ac, api_key, &call, res);
	if (o == AGENCY_OK && !agency_parse_distribution(ac->answer.data, ac->answer.len, out ? out : &scratch,
							 res->message, sizeof res->message))
		o = AGENCY_BAD_ANSWER;
	return finish(ac, &call, o, res);
}

enum agency_outcome agency_case(struct agency_client *ac, const char *api_key, const char *case_id,
				const char *currency, struct agency_case *out, agency_event_fn fn, void *ctx,
				struct agency_result *res)
{
	struct call call = {
		.endpoint = "case", .path = "/api/v1/partner/invoice/case", .query = {{"caseId", case_id}}};
	struct agency_case scratch;
	begin(res);
	if (!case_id || !case_id[0])
		return refuse(ac, &call, res, "no case id");
	if (!money_currency_valid(currency))
		return refuse(ac, &call, res, "no known currency to read the amounts in");
	enum agency_outcome o = perform(ac, api_key, &call, res);
	if (o == AGENCY_OK && !agency_parse_case(ac->answer.data, ac->answer.len, currency, out ? out : &scratch, fn,
						 ctx, res->message, sizeof res->message))
		o = AGENCY_BAD_ANSWER;
	return finish(ac, &call, o, res);
}

enum agency_outcome agency_action(struct agency_client *ac, const char *api_key, const char *body,
				  struct agency_action_answer *out, struct agency_result *res)
{
	struct call call = {.endpoint = "action", .path = "/api/v1/partner/invoice/action", .body = body};
	struct agency_action_answer scratch;
	begin(res);
	if (!body || !body[0])
		return refuse(ac, &call, res, "no action body");
	enum agency_outcome o = perform(ac, api_key, &call, res);
	if (o == AGENCY_OK && !agency_parse_action(ac->answer.data, ac->answer.len, out ? out : &scratch, res->message,
						   sizeof res->message))
		o = AGENCY_BAD_ANSWER;
	return finish(ac, &call, o, res);
}

/* Both bounds are optional; a present one must be a date. */
static bool range_ok(const char *from, const char *to)
{
	return (!from || dates_valid(from)) && (!to || dates_valid(to));
}

enum agency_outcome agency_payments(struct agency_client *ac, const char *api_key, const char *from,
				    const char *to, agency_payment_fn fn, void *ctx, struct agency_result *res)
{
	struct call call = {.endpoint = "payments",
			    .path = "/api/v1/partner/payments",
			    .query = {{"fromDate", from}, {"toDate", to}}};
	begin(res);
	if (!range_ok(from, to))
		return refuse(ac, &call, res, "fromDate and toDate must be YYYY-MM-DD");
	enum agency_outcome o = perform(ac, api_key, &call, res);
	if (o == AGENCY_OK &&
	    !agency_parse_payments(ac->answer.data, ac->answer.len, fn, ctx, NULL, res->message, sizeof res->message))
		o = AGENCY_BAD_ANSWER;
	return finish(ac, &call, o, res);
}

enum agency_outcome agency_settlements(struct agency_client *ac, const char *api_key, const char *from,
				       const char *to, agency_settlement_fn fn, void *ctx, struct agency_result *res)
{
	struct call call = {.endpoint = "settlements",
			    .path = "/api/v1/partner/settlements",
			    .query = {{"fromDate", from}, {"toDate", to}}};
	begin(res);
	if (!range_ok(from, to))
		return refuse(ac, &call, res, "fromDate and toDate must be YYYY-MM-DD");
	enum agency_outcome o = perform(ac, api_key, &call, res);
	if (o == AGENCY_OK && !agency_parse_settlements(ac->answer.data, ac->answer.len, fn, ctx, NULL, res->message,
							sizeof res->message))
		o = AGENCY_BAD_ANSWER;
	return finish(ac, &call, o, res);
}
