/* SPDX-License-Identifier: MIT */
/* GET /v1/settlements/{id}: one payout with its allocations. Another
 * tenant's id answers 404 exactly as an unknown one does. */
#include "handlers/after_json.h"
#include "handlers/handlers.h"
#include "handlers/store_problem.h"
#include "server/app.h"
#include "server/auth.h"
#include "lib/ids.h"

struct one {
	struct buf *b;
	bool first_alloc;
};

static int on_settlement(void *ctx, const struct settlement_row *s)
{
	struct one *o = ctx;
	after_json_settlement_open(o->b, s);
	o->first_alloc = true;
	return 0;
}

static int on_allocation(void *ctx, const struct allocation_row *a)
{
	struct one *o = ctx;
	after_json_allocation(o->b, o->first_alloc, a);
	o->first_alloc = false;
	return 0;
}

static int on_end(void *ctx, const struct settlement_row *s)
{
	struct one *o = ctx;
	(void)s;
	after_json_settlement_close(o->b);
	return 0;
}

enum handler_result handle_settlements_get(const struct request *req, struct reply *out)
{
	if (!ids_valid("st_", req->path_id))
		return reply_problem(out, PROBLEM_NOT_FOUND, "no such settlement");
	static const struct settlement_fns fns = {on_settlement, on_allocation, on_end};
	struct one o = {.b = &out->body};
	enum store_result r = store_settlement_get(req->app->store, req->claims->tenant, req->path_id, &fns, &o);
	if (r == STORE_NOT_FOUND)
		return reply_problem(out, PROBLEM_NOT_FOUND, "no such settlement");
	if (r != STORE_OK) {
		buf_reset(&out->body);
		return reply_store_problem(out, r);
	}
	reply_json(out, 200);
	return HANDLER_ANSWERED;
}
