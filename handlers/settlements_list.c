/* SPDX-License-Identifier: MIT */
/* GET /v1/settlements: the tenant's payouts from the agency, newest
 * settlement date first, with their allocations; keyset-paginated like the
 * case listing, settled_from / settled_to (inclusive days) filtering them.
 * A tenant with none gets an empty page. With Accept: text/csv every
 * matching settlement, one row per allocation (handlers/csv_export.h). */
#include <string.h>

#include "handlers/after_json.h"
#include "handlers/csv_export.h"
#include "handlers/cursor.h"
#include "handlers/handlers.h"
#include "handlers/page.h"
#include "handlers/store_problem.h"
#include "lib/dates.h"
#include "server/app.h"
#include "server/auth.h"

/* settled_from and settled_to: calendar days, from not after to. */
static bool dates_or_problem(const struct request *req, struct settlement_filter *f, struct reply *out)
{
	static const char *const names[] = {"settled_from", "settled_to"};
	const char **fields[] = {&f->settled_from, &f->settled_to};
	for (int i = 0; i < 2; i++) {
		if (!page_param_once(req, names[i], fields[i], out))
			return false;
		if (*fields[i] && !dates_valid(*fields[i])) {
			reply_invalid_parameter(out, names[i], "a calendar date YYYY-MM-DD");
			return false;
		}
	}
	if (f->settled_from && f->settled_to && strcmp(f->settled_from, f->settled_to) > 0) {
		reply_invalid_parameter(out, "settled_to", "settled_to is before settled_from");
		return false;
	}
	return true;
}

enum handler_result handle_settlements_list(const struct request *req, struct reply *out)
{
	static const char *const allowed[] = {"limit", "cursor", "settled_from", "settled_to", NULL};
	struct settlement_filter f = {.tenant = req->claims->tenant};
	if (!page_or_problem(req, allowed, "cursor", &f.limit, &f.before_seq, out) ||
	    !dates_or_problem(req, &f, out))
		return HANDLER_ANSWERED;
	if (csv_wanted(req->accept))
		return csv_no_page_or_problem(req, out) ? csv_export_settlements(req, &f, out) : HANDLER_ANSWERED;
	struct settlement_writer w = {.b = &out->body};
	bool has_more = false;
	buf_puts(w.b, "{\"data\":[");
	enum store_result r = store_settlement_list(req->app->store, &f, &after_json_settlements, &w, &has_more);
	if (r < 0)
		return reply_store_problem(out, r);
	cursor_page_end(w.b, has_more, w.last_seq);
	reply_json(out, 200);
	out->vary = "Accept"; /* JSON or CSV by it */
	return HANDLER_ANSWERED;
}
