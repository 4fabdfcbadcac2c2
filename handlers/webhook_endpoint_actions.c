/* SPDX-License-Identifier: MIT */
/* What is done to one webhook endpoint: rotate its secret (the old one signs
 * beside the new for 24 hours), send it a test event, read its attempt log,
 * queue past events again (recover). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "handlers/cursor.h"
#include "handlers/handlers.h"
#include "handlers/idempotency.h"
#include "handlers/json_body.h"
#include "handlers/page.h"
#include "handlers/store_problem.h"
#include "handlers/webhook_json.h"
#include "lib/ids.h"
#include "lib/json_read.h"
#include "lib/jsonw.h"
#include "server/app.h"
#include "server/auth.h"
#include "webhooks/sign.h"

#define ROTATION_OVERLAP_MS (24LL * 3600 * 1000)

static enum handler_result reply_endpoint_problem(struct reply *out, enum store_result r)
{
	if (r == STORE_NOT_FOUND)
		return reply_problem(out, PROBLEM_NOT_FOUND, "no such webhook endpoint");
	return reply_store_problem(out, r);
}

/* The answer as the store's callback or the handler wrote it, recorded as is. */
static bool copy_answer(void *ctx, struct buf *body, char *location, size_t loclen)
{
	(void)location, (void)loclen;
	const struct buf *b = ctx;
	buf_append(body, b->data, b->len);
	return !b->oom && !body->oom;
}

/* Answers a POST on an endpoint: the replay or reused key, a failure, or
 * status with the body in answer. */
static enum handler_result answer_post(enum store_result r, struct idem *idem, int status, const struct buf *answer,
				       struct reply *out)
{
	if (idem_answered(r, idem, out))
		return HANDLER_ANSWERED;
	if (r == STORE_STATE)
		return reply_problem(out, PROBLEM_INVALID_STATE, "the endpoint is disabled; PATCH enabled: true first");
	if (r != STORE_OK || answer->oom)
		return reply_endpoint_problem(out, r == STORE_OK ? STORE_HARD_ERROR : r);
	buf_append(&out->body, answer->data, answer->len);
	return reply_json(out, status);
}

static int write_endpoint(void *ctx, const struct endpoint_row *e)
{
	buf_reset(ctx); /* a transaction that runs again calls this again */
	endpoint_json(ctx, e);
	return 0;
}

enum handler_result handle_endpoint_rotate(const struct request *req, struct reply *out)
{
	struct idem idem;
	if (!idem_begin(req, 200, &idem, out))
		return HANDLER_ANSWERED;
	char secret[WEBHOOK_SECRET_MAX];
	if (!ids_valid("we_", req->path_id)) {
		idem_free(&idem);
		return reply_endpoint_problem(out, STORE_NOT_FOUND);
	}
	if (!webhook_secret_new(secret)) {
		idem_free(&idem);
		return reply_problem(out, PROBLEM_INTERNAL_ERROR, NULL);
	}
	struct buf answer = {0};
	idem.store.render = copy_answer;
	idem.store.render_ctx = &answer;
	struct store_request rq = idem_store_request(req, &idem);
	int64_t until = (int64_t)time(NULL) * 1000 + ROTATION_OVERLAP_MS;
	enum store_result r = store_endpoint_rotate(req->app->store, &rq, req->path_id, secret, until, write_endpoint,
						    &answer);
	answer_post(r, &idem, 200, &answer, out);
	explicit_bzero(secret, sizeof secret);
	if (answer.data)
		explicit_bzero(answer.data, answer.len);
	buf_free(&answer);
	idem_free(&idem);
	return HANDLER_ANSWERED;
}

/* The test's answer: the event queued for the endpoint. */
struct test_answer {
	const char *endpoint_id;
	char event_id[STORE_ID_MAX];
};

static bool write_test(void *ctx, struct buf *body, char *location, size_t loclen)
{
	(void)location, (void)loclen;
	const struct test_answer *t = ctx;
	buf_putc(body, '{');
	jw_kstr(body, true, "event_id", t->event_id);
	jw_kstr(body, false, "endpoint_id", t->endpoint_id);
	jw_kstr(body, false, "type", "webhook.test");
	buf_putc(body, '}');
	return !body->oom;
}

enum handler_result handle_endpoint_test(const struct request *req, struct reply *out)
{
	struct idem idem;
	if (!idem_begin(req, 202, &idem, out))
		return HANDLER_ANSWERED;
	if (!ids_valid("we_", req->path_id)) {
		idem_free(&idem);
		return reply_endpoint_problem(out, STORE_NOT_FOUND);
	}
	struct test_answer t = {.endpoint_id = req->path_id};
	idem.store.render = write_test;
	idem.store.render_ctx = &t;
	struct store_request rq = idem_store_request(req, &idem);
	/* The event id is known inside the transaction, before the record is
	 * rendered: the store writes it into t.event_id first. */
	enum store_result r = store_endpoint_test(req->app->store, &rq, req->path_id, t.event_id);
	struct buf answer = {0};
	if (r == STORE_OK)
		write_test(&t, &answer, NULL, 0);
	answer_post(r, &idem, 202, &answer, out);
	buf_free(&answer);
	idem_free(&idem);
	return HANDLER_ANSWERED;
}

struct attempt_writer {
	struct buf *b;
	int n;
	int64_t last_id;
};

static int write_attempt(void *ctx, const struct attempt_row *a)
{
	struct attempt_writer *w = ctx;
	struct buf *b = w->b;
	if (w->n++)
		buf_putc(b, ',');
	buf_putc(b, '{');
	jw_kstr(b, true, "event_id", a->event_id);
	jw_kint(b, false, "attempt", a->attempt);
	jw_kstr(b, false, "at", a->at);
	jw_kstr(b, false, "status", a->status);
	if (a->status_code)
		jw_kint(b, false, "status_code", a->status_code);
	else
		jw_kraw(b, false, "status_code", NULL);
	if (a->duration_ms >= 0)
		jw_kint(b, false, "duration_ms", a->duration_ms);
	else
		jw_kraw(b, false, "duration_ms", NULL);
	jw_kstr(b, false, "error", a->error);
	jw_kstr(b, false, "next_attempt_at", a->next_attempt_at);
	buf_putc(b, '}');
	w->last_id = a->id;
	return 0;
}

enum handler_result handle_endpoint_deliveries(const struct request *req, struct reply *out)
{
	static const char *const allowed[] = {"status", "limit", "cursor", NULL};
	int limit;
	int64_t before;
	const char *status;
	if (!page_or_problem(req, allowed, "cursor", &limit, &before, out) ||
	    !page_param_once(req, "status", &status, out))
		return HANDLER_ANSWERED;
	if (status && strcmp(status, "pending") && strcmp(status, "succeeded") && strcmp(status, "failed"))
		return reply_invalid_parameter(out, "status", "status must be pending, succeeded or failed");
	if (!ids_valid("we_", req->path_id))
		return reply_endpoint_problem(out, STORE_NOT_FOUND);
	struct attempt_writer w = {.b = &out->body};
	bool more = false;
	buf_puts(w.b, "{\"data\":[");
	enum store_result r = store_endpoint_attempts(req->app->store, req->claims->tenant, req->path_id, status,
						      before, limit, write_attempt, &w, &more);
	if (r != STORE_OK) {
		buf_reset(&out->body);
		return reply_endpoint_problem(out, r);
	}
	cursor_page_end(w.b, more, w.last_id);
	return reply_json(out, 200);
}

/* An RFC 3339 date-time (an offset or Z, seconds with any fraction) as UTC
 * in the stored form "2026-02-20T10:00:00.000Z"; false for anything else. */
static bool utc_of(const char *s, char out[25])
{
	struct tm tm = {0};
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p || strlen(s) < 20 || s[4] != '-' || s[10] != 'T')
		return false;
	int ms = 0, digits = 0;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*p - '0');
		if (!digits)
			return false;
		for (; digits < 3; digits++)
			ms *= 10;
	}
	long offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && p[1] >= '0' && p[1] <= '2' && p[3] == ':' && strlen(p) == 6) {
		int h = (p[1] - '0') * 10 + (p[2] - '0'), m = (p[4] - '0') * 10 + (p[5] - '0');
		bool digits_ok = p[2] >= '0' && p[2] <= '9' && p[4] >= '0' && p[4] <= '5' && p[5] >= '0' && p[5] <= '9';
		if (h > 23 || m > 59 || !digits_ok)
			return false;
		offset = (*p == '+' ? 1 : -1) * (h * 3600L + m * 60L);
		p += 6;
	} else {
		return false;
	}
	if (*p)
		return false;
	time_t t = timegm(&tm) - offset;
	struct tm u;
	if (!gmtime_r(&t, &u) || u.tm_year + 1900 < 1970 || u.tm_year + 1900 > 9999)
		return false;
	char text[64];
	snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", u.tm_year + 1900, u.tm_mon + 1, u.tm_mday,
		 u.tm_hour, u.tm_min, u.tm_sec, ms);
	memcpy(out, text, 24);
	out[24] = '\0';
	return true;
}

/* The recover's answer: how many events were queued since when. */
struct recover_answer {
	const int64_t *queued; /* the store sets it before the answer is recorded */
	const char *since;
};

static bool write_recover(void *ctx, struct buf *body, char *location, size_t loclen)
{
	(void)location, (void)loclen;
	const struct recover_answer *a = ctx;
	buf_putc(body, '{');
	jw_kint(body, true, "queued", *a->queued);
	jw_kstr(body, false, "since", a->since);
	buf_putc(body, '}');
	return !body->oom;
}

enum handler_result handle_endpoint_recover(const struct request *req, struct reply *out)
{
	struct idem idem;
	if (!idem_begin(req, 202, &idem, out))
		return HANDLER_ANSWERED;
	const char *since = NULL;
	const struct jr_field fields[] = {
		{.name = "since", .kind = JR_K_TEXT, .flags = JR_REQUIRED | JR_TOKEN, .max = 40, .dst = &since},
		JR_END,
	};
	json_object *body = ids_valid("we_", req->path_id) ? json_body_read_or_problem(req, fields, out) : NULL;
	char utc[25];
	if (!ids_valid("we_", req->path_id)) {
		reply_endpoint_problem(out, STORE_NOT_FOUND);
	} else if (body && !utc_of(since, utc)) {
		struct field_errors errs = {0};
		field_errors_add(&errs, "/since", "invalid_date", "since must be an RFC 3339 date-time");
		reply_field_problem(out, PROBLEM_VALIDATION_FAILED, &errs);
		field_errors_free(&errs);
	} else if (body) {
		int64_t queued = 0;
		struct buf answer = {0};
		struct recover_answer a = {&queued, utc};
		idem.store.render = write_recover;
		idem.store.render_ctx = &a;
		struct store_request rq = idem_store_request(req, &idem);
		enum store_result r = store_endpoint_recover(req->app->store, &rq, req->path_id, utc, &queued);
		if (r == STORE_OK)
			write_recover(&a, &answer, NULL, 0);
		answer_post(r, &idem, 202, &answer, out);
		buf_free(&answer);
	}
	json_object_put(body);
	idem_free(&idem);
	return HANDLER_ANSWERED;
}
