/* SPDX-License-Identifier: MIT */
/* /v1/webhook-endpoints: register an endpoint (its secret shown once), list,
 * read, change and delete them. Scope webhooks:write, reading included. */
#include <stdio.h>
#include <string.h>

#include "handlers/cursor.h"
#include "handlers/handlers.h"
#include "handlers/idempotency.h"
#include "handlers/page.h"
#include "handlers/store_problem.h"
#include "handlers/webhook_json.h"
#include "lib/ids.h"
#include "server/app.h"
#include "server/auth.h"
#include "webhooks/sign.h"

/* The endpoint as the store hands it over, into the answer being built. */
static int write_endpoint(void *ctx, const struct endpoint_row *e)
{
	buf_reset(ctx); /* a transaction that runs again calls this again */
	endpoint_json(ctx, e);
	return 0;
}

/* A new endpoint's answer: its JSON (secret included) and its Location. */
struct created {
	struct buf b;
	char location[STORE_ID_MAX + 24];
};

static int keep_created(void *ctx, const struct endpoint_row *e)
{
	struct created *c = ctx;
	buf_reset(&c->b); /* a transaction that runs again calls this again */
	endpoint_json(&c->b, e);
	snprintf(c->location, sizeof c->location, "/v1/webhook-endpoints/%s", e->id);
	return 0;
}

/* The recorded answer is what keep_created wrote. */
static bool copy_created(void *ctx, struct buf *body, char *location, size_t loclen)
{
	const struct created *c = ctx;
	buf_append(body, c->b.data, c->b.len);
	snprintf(location, loclen, "%s", c->location);
	return !c->b.oom && !body->oom;
}

/* Answers a store result of an operation on one endpoint that failed. */
static enum handler_result reply_endpoint_problem(struct reply *out, enum store_result r)
{
	if (r == STORE_NOT_FOUND)
		return reply_problem(out, PROBLEM_NOT_FOUND, "no such webhook endpoint");
	return reply_store_problem(out, r);
}

enum handler_result handle_endpoints_post(const struct request *req, struct reply *out)
{
	struct idem idem;
	if (!idem_begin(req, 201, &idem, out)) /* the key before every other rule */
		return HANDLER_ANSWERED;
	struct endpoint_input in;
	json_object *body = endpoint_body_or_problem(req, true, &in, out);
	char secret[WEBHOOK_SECRET_MAX];
	if (body && !webhook_secret_new(secret)) {
		reply_problem(out, PROBLEM_INTERNAL_ERROR, NULL);
		json_object_put(body);
		body = NULL;
	}
	if (!body) {
		idem_free(&idem);
		return HANDLER_ANSWERED;
	}
	struct created answer;
	memset(&answer, 0, sizeof answer);
	const struct endpoint_new n = {
		.url = in.url, .event_types = in.types, .ntypes = in.ntypes, .description = in.description,
		.enabled = in.enabled, .secret = secret,
	};
	idem.store.render = copy_created;
	idem.store.render_ctx = &answer;
	struct store_request rq = idem_store_request(req, &idem);
	enum store_result r = store_endpoint_create(req->app->store, &rq, &n, keep_created, &answer);
	if (!idem_answered(r, &idem, out)) {
		if (r == STORE_LIMIT) {
			char detail[96];
			snprintf(detail, sizeof detail, "a tenant has at most %d webhook endpoints; delete one first",
				 WEBHOOK_ENDPOINTS_MAX);
			reply_problem(out, PROBLEM_LIMIT_REACHED, detail);
		} else if (r != STORE_OK || answer.b.oom) {
			reply_store_problem(out, r == STORE_OK ? STORE_HARD_ERROR : r);
		} else {
			reply_json(out, 201);
			buf_append(&out->body, answer.b.data, answer.b.len);
			snprintf(out->location, sizeof out->location, "%s", answer.location);
		}
	}
	explicit_bzero(secret, sizeof secret);
	if (answer.b.data)
		explicit_bzero(answer.b.data, answer.b.len);
	buf_free(&answer.b);
	json_object_put(body);
	idem_free(&idem);
	return HANDLER_ANSWERED;
}

struct list_writer {
	struct buf *b;
	int n;
	int64_t last_seq;
};

static int list_endpoint(void *ctx, const struct endpoint_row *e)
{
	struct list_writer *w = ctx;
	if (w->n++)
		buf_putc(w->b, ',');
	endpoint_json(w->b, e);
	w->last_seq = e->seq;
	return 0;
}

enum handler_result handle_endpoints_list(const struct request *req, struct reply *out)
{
	static const char *const allowed[] = {"limit", "cursor", NULL};
	int limit;
	int64_t after;
	if (!page_or_problem(req, allowed, "cursor", &limit, &after, out))
		return HANDLER_ANSWERED;
	struct list_writer w = {.b = &out->body};
	bool more = false;
	buf_puts(w.b, "{\"data\":[");
	enum store_result r =
		store_endpoint_list(req->app->store, req->claims->tenant, after, limit, list_endpoint, &w, &more);
	if (r < 0) {
		buf_reset(&out->body);
		return reply_store_problem(out, r);
	}
	cursor_page_end(w.b, more, w.last_seq);
	return reply_json(out, 200);
}

enum handler_result handle_endpoint_get(const struct request *req, struct reply *out)
{
	if (!ids_valid("we_", req->path_id))
		return reply_endpoint_problem(out, STORE_NOT_FOUND);
	enum store_result r =
		store_endpoint_get(req->app->store, req->claims->tenant, req->path_id, write_endpoint, &out->body);
	if (r != STORE_OK) {
		buf_reset(&out->body);
		return reply_endpoint_problem(out, r);
	}
	return reply_json(out, 200);
}

enum handler_result handle_endpoint_patch(const struct request *req, struct reply *out)
{
	if (!ids_valid("we_", req->path_id))
		return reply_endpoint_problem(out, STORE_NOT_FOUND);
	struct endpoint_input in;
	json_object *body = endpoint_body_or_problem(req, false, &in, out);
	if (!body)
		return HANDLER_ANSWERED;
	const struct endpoint_patch p = {
		.url = in.url, .event_types = in.ntypes ? in.types : NULL, .ntypes = in.ntypes,
		.description = in.description, .has_enabled = in.has_enabled, .enabled = in.enabled,
	};
	struct store_request rq = idem_store_request(req, NULL);
	enum store_result r = store_endpoint_update(req->app->store, &rq, req->path_id, &p, write_endpoint, &out->body);
	json_object_put(body);
	if (r != STORE_OK) {
		buf_reset(&out->body);
		return reply_endpoint_problem(out, r);
	}
	return reply_json(out, 200);
}

enum handler_result handle_endpoint_delete(const struct request *req, struct reply *out)
{
	if (!ids_valid("we_", req->path_id))
		return reply_endpoint_problem(out, STORE_NOT_FOUND);
	enum store_result r = store_endpoint_delete(req->app->store, req->claims->tenant, req->path_id);
	if (r != STORE_OK)
		return reply_endpoint_problem(out, r);
	out->status = 204;
	return HANDLER_ANSWERED;
}
