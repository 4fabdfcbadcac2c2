/* SPDX-License-Identifier: MIT */
/* GET /v1/collection-cases: newest first, filtered, keyset-paginated; with
 * Accept: text/csv every matching case (handlers/csv_export.h). */
#include <stdlib.h>
#include <string.h>

#include "handlers/case_filter.h"
#include "handlers/case_json.h"
#include "handlers/csv_export.h"
#include "handlers/cursor.h"
#include "handlers/handlers.h"
#include "handlers/store_problem.h"
#include "lib/dates.h"
#include "lib/digest.h"
#include "server/app.h"
#include "server/auth.h"

#define LIMIT_DEFAULT 50
#define LIMIT_MAX 200
#define TEXT_PARAM_MAX 100

static const char *const known_params[] = {"state", "status", "q", "invoice_number", "debtor_type",
					   "date_of_birth", "national_id", "created_from", "created_to", "limit",
					   "cursor", NULL};

/* Reads and checks every parameter; the first bad one answers 400 naming it.
 * *none: the filters leave no status (state and status disjoint). */
static bool filter_or_problem(const struct request *req, struct case_filter *f, char *nid_hash, bool *none,
			      struct reply *out)
{
	for (size_t i = 0; i < req->nquery; i++) {
		bool known = false;
		for (const char *const *k = known_params; *k; k++)
			known |= !strcmp(*k, req->query[i].key);
		if (!known) {
			reply_invalid_parameter(out, req->query[i].key, "unknown query parameter");
			return false;
		}
	}
	for (const char *const *k = known_params; *k; k++) {
		bool dup;
		const char *v = request_query(req, *k, &dup);
		if (v && (dup || strlen(v) > TEXT_PARAM_MAX)) {
			reply_invalid_parameter(out, *k, dup ? "given more than once" : "longer than 100 characters");
			return false;
		}
	}
	const char *v;
	f->tenant = req->claims->tenant;
	f->limit = LIMIT_DEFAULT;
	if ((v = request_query(req, "limit", NULL))) {
		char *end;
		long n = strtol(v, &end, 10);
		if (!*v || *end || n < 1 || n > LIMIT_MAX) {
			reply_invalid_parameter(out, "limit", "limit must be an integer from 1 to 200");
			return false;
		}
		f->limit = (int)n;
	}
	if ((v = request_query(req, "cursor", NULL)) && !cursor_decode(v, &f->before_seq)) {
		reply_invalid_parameter(out, "cursor", "not a cursor from a previous page's next_cursor");
		return false;
	}
	unsigned state = 0;
	if ((v = request_query(req, "state", NULL)) && !case_state_mask(v, &state)) {
		reply_invalid_parameter(out, "state", "open or closed");
		return false;
	}
	if ((v = request_query(req, "status", NULL)) && !case_status_mask(v, &f->status_mask)) {
		reply_invalid_parameter(out, "status",
					"one or more case statuses separated by commas: pending, submitted, open, "
					"paused, disputed, failed, paid, withdrawn, closed, rejected "
					"(state=open|closed for the groups)");
		return false;
	}
	if (state) /* both given: their intersection, which may be empty (*none) */
		f->status_mask = v ? f->status_mask & state : state;
	*none = state && !f->status_mask;
	if ((v = request_query(req, "debtor_type", NULL))) {
		if (strcmp(v, "consumer") && strcmp(v, "business")) {
			reply_invalid_parameter(out, "debtor_type", "consumer or business");
			return false;
		}
		f->debtor_type = v;
	}
	static const char *const date_params[] = {"date_of_birth", "created_from", "created_to"};
	const char **date_fields[] = {&f->date_of_birth, &f->created_from, &f->created_to};
	for (int i = 0; i < 3; i++) {
		if ((v = request_query(req, date_params[i], NULL))) {
			if (!dates_valid(v)) {
				reply_invalid_parameter(out, date_params[i], "a calendar date YYYY-MM-DD");
				return false;
			}
			*date_fields[i] = v;
		}
	}
	if (f->created_from && f->created_to && strcmp(f->created_from, f->created_to) > 0) {
		reply_invalid_parameter(out, "created_to", "created_to is before created_from");
		return false;
	}
	if ((v = request_query(req, "q", NULL)) && *v)
		f->q = v;
	if ((v = request_query(req, "invoice_number", NULL)) && *v)
		f->invoice_number = v;
	if ((v = request_query(req, "national_id", NULL)) && *v) {
		digest_national_id(req->app->id_hash_key, v, nid_hash);
		f->national_id_hash = nid_hash;
	}
	return true;
}

struct page {
	struct buf *b;
	int n;
	int64_t last_seq;
};

static int write_row(void *ctx, const struct case_row *c)
{
	struct page *p = ctx;
	if (p->n++)
		buf_putc(p->b, ',');
	case_json_open(p->b, c);
	buf_putc(p->b, '}');
	p->last_seq = c->seq;
	return 0;
}

enum handler_result handle_cases_list(const struct request *req, struct reply *out)
{
	struct case_filter f = {0};
	char nid_hash[DIGEST_HEX_LEN];
	bool none = false;
	if (!filter_or_problem(req, &f, nid_hash, &none, out))
		return HANDLER_ANSWERED;
	if (csv_wanted(req->accept))
		return csv_no_page_or_problem(req, out) ? csv_export_cases(req, &f, none, out) : HANDLER_ANSWERED;
	struct buf *b = &out->body;
	struct page p = {.b = b};
	bool has_more = false;
	/* A case is about 1.2 KB of JSON: the page in one allocation, not the
	 * doubling's eight copies of it. */
	buf_reserve(b, (size_t)f.limit * 1280 + 256);
	buf_puts(b, "{\"data\":[");
	/* No status left: an empty page (a status mask of 0 would mean all). */
	enum store_result r = none ? STORE_OK : store_case_list(req->app->store, &f, write_row, &p, &has_more);
	if (r < 0)
		return reply_store_problem(out, r);
	cursor_page_end(b, has_more, p.last_seq);
	reply_json(out, 200);
	out->vary = "Accept"; /* JSON or CSV by it */
	return HANDLER_ANSWERED;
}
