/* SPDX-License-Identifier: MIT */
/* POST /v1/collection-cases/{id}/retry: a failed case back to pending, so
 * that the outbox sends it again; 202 with the case. No body is needed. */
#include <stdio.h>

#include "handlers/case_json.h"
#include "handlers/handlers.h"
#include "handlers/idempotency.h"
#include "handlers/store_problem.h"
#include "lib/ids.h"
#include "server/app.h"
#include "server/auth.h"

/* The case as the retry left it, written inside the store's transaction:
 * the 202 body and its record. */
static int write_case(void *ctx, const struct case_row *c)
{
	buf_reset(ctx); /* a transaction that runs again calls this again */
	struct buf *b = ctx;
	case_json_open(b, c);
	buf_putc(b, '}');
	return 0;
}

/* The recorded answer is the body written above. */
static bool copy_answer(void *ctx, struct buf *body, char *location, size_t loclen)
{
	(void)location, (void)loclen;
	const struct buf *b = ctx;
	buf_append(body, b->data, b->len);
	return !b->oom && !body->oom;
}

enum handler_result handle_retry_post(const struct request *req, struct reply *out)
{
	struct idem idem;
	if (!idem_begin(req, 202, &idem, out)) /* the key before every other rule */
		return HANDLER_ANSWERED;
	if (!ids_valid("cc_", req->path_id)) {
		idem_free(&idem);
		return reply_problem(out, PROBLEM_NOT_FOUND, "no such case");
	}
	struct buf answer = {0};
	idem.store.render = copy_answer;
	idem.store.render_ctx = &answer;
	char status[STORE_NAME_MAX];
	struct store_request rq = idem_store_request(req, &idem);
	enum store_result r = store_case_retry(req->app->store, &rq, req->path_id, status, write_case, &answer);
	if (idem_answered(r, &idem, out)) {
		/* answered: the first request's answer, or the reused key */
	} else if (r != STORE_OK) {
		char detail[80];
		snprintf(detail, sizeof detail, "only a failed case can be retried; this one is %s", status);
		reply_case_problem(out, r, detail);
	} else if (answer.oom) {
		reply_problem(out, PROBLEM_INTERNAL_ERROR, NULL);
	} else {
		reply_json(out, 202);
		buf_append(&out->body, answer.data, answer.len);
	}
	buf_free(&answer);
	idem_free(&idem);
	return HANDLER_ANSWERED;
}
