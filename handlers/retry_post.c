/* SPDX-License-Identifier: MIT */
/* POST /v1/collection-cases/{id}/retry: a failed case back to pending, so
 * that the outbox sends it again; 202 with the case. No body is needed. */
#include <stdio.h>

#include "handlers/case_json.h"
#include "handlers/handlers.h"
#include "handlers/store_problem.h"
#include "lib/ids.h"
#include "server/app.h"
#include "server/auth.h"

static int write_case(void *ctx, const struct case_row *c)
{
	struct buf *b = ctx;
	case_json_open(b, c);
	buf_putc(b, '}');
	return 0;
}

enum handler_result handle_retry_post(const struct request *req, struct reply *out)
{
	if (!ids_valid("cc_", req->path_id))
		return reply_problem(out, PROBLEM_NOT_FOUND, "no such case");
	struct store *st = req->app->store;
	const char *tenant = req->claims->tenant;
	char status[STORE_NAME_MAX];
	enum store_result r = store_case_retry(st, tenant, req->path_id, req->now, status);
	if (r != STORE_OK) {
		char detail[80];
		snprintf(detail, sizeof detail, "only a failed case can be retried; this one is %s", status);
		return reply_case_problem(out, r, detail);
	}
	/* The retry is committed; the answer shows the case as it is now. */
	r = store_case_get(st, tenant, req->path_id, write_case, NULL, &out->body);
	if (r != STORE_OK) {
		buf_reset(&out->body);
		return reply_store_problem(out, r == STORE_NOT_FOUND ? STORE_HARD_ERROR : r);
	}
	reply_json(out, 202);
	return HANDLER_ANSWERED;
}
