/* SPDX-License-Identifier: MIT */
/* GET /v1/settlements/{id}: one payout with its allocations. Another
 * tenant's id answers 404 exactly as an unknown one does. */
#include "handlers/after_json.h"
#include "handlers/handlers.h"
#include "handlers/store_problem.h"
#include "lib/ids.h"
#include "server/app.h"
#include "server/auth.h"

enum handler_result handle_settlements_get(const struct request *req, struct reply *out)
{
	if (!ids_valid("st_", req->path_id))
		return reply_problem(out, PROBLEM_NOT_FOUND, "no such settlement");
	struct settlement_writer w = {.b = &out->body};
	enum store_result r =
		store_settlement_get(req->app->store, req->claims->tenant, req->path_id, &after_json_settlements, &w);
	if (r == STORE_NOT_FOUND)
		return reply_problem(out, PROBLEM_NOT_FOUND, "no such settlement");
	if (r != STORE_OK) {
		buf_reset(&out->body);
		return reply_store_problem(out, r);
	}
	reply_json(out, 200);
	return HANDLER_ANSWERED;
}
