/* SPDX-License-Identifier: MIT */
/* GET /v1/settlements: the tenant's payouts from the agency, newest
 * settlement date first, with their allocations; keyset-paginated like the
 * case listing. A tenant with none gets an empty page. */
#include <stdlib.h>
#include <string.h>

#include "handlers/after_json.h"
#include "handlers/cursor.h"
#include "handlers/handlers.h"
#include "handlers/store_problem.h"
#include "server/app.h"
#include "server/auth.h"

#define LIMIT_DEFAULT 50
#define LIMIT_MAX 200

/* Reads limit and cursor; anything else, or either twice, answers 400. */
static bool page_or_problem(const struct request *req, int *limit, int64_t *before,
			    struct reply *out)
{
	for (size_t i = 0; i < req->nquery; i++) {
		const char *k = req->query[i].key;
		if (strcmp(k, "limit") && strcmp(k, "cursor")) {
			reply_invalid_parameter(out, k, "unknown query parameter");
			return false;
		}
	}
	bool dup = false;
	const char *v = request_query(req, "limit", &dup);
	*limit = LIMIT_DEFAULT;
	if (v) {
		char *end;
		long n = strtol(v, &end, 10);
		if (dup || !*v || *end || n < 1 || n > LIMIT_MAX) {
			reply_invalid_parameter(out, "limit", "limit must be an integer from 1 to 200, given once");
			return false;
		}
		*limit = (int)n;
	}
	*before = 0;
	if ((v = request_query(req, "cursor", &dup)) && (dup || !cursor_decode(v, before))) {
		reply_invalid_parameter(out, "cursor", "not a cursor from a previous page's next_cursor");
		return false;
	}
	return true;
}

enum handler_result handle_settlements_list(const struct request *req, struct reply *out)
{
	int limit;
	int64_t before;
	if (!page_or_problem(req, &limit, &before, out))
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
