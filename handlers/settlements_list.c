/* SPDX-License-Identifier: MIT */
/* GET /v1/settlements: the tenant's payouts from the agency, newest
 * settlement date first, with their allocations; keyset-paginated like the
 * case listing. A tenant with none gets an empty page. */
#include "handlers/after_json.h"
#include "handlers/cursor.h"
#include "handlers/handlers.h"
#include "handlers/page.h"
#include "handlers/store_problem.h"
#include "server/app.h"
#include "server/auth.h"

enum handler_result handle_settlements_list(const struct request *req, struct reply *out)
{
	static const char *const allowed[] = {"limit", "cursor", NULL};
	int limit;
	int64_t before;
	if (!page_or_problem(req, allowed, "cursor", &limit, &before, out))
		return HANDLER_ANSWERED;
	struct settlement_writer w = {.b = &out->body};
	bool has_more = false;
	buf_puts(w.b, "{\"data\":[");
	enum store_result r = store_settlement_list(req->app->store, req->claims->tenant, before, limit,
						    &after_json_settlements, &w, &has_more);
	if (r < 0)
		return reply_store_problem(out, r);
	cursor_page_end(w.b, has_more, w.last_seq);
	reply_json(out, 200);
	return HANDLER_ANSWERED;
}
