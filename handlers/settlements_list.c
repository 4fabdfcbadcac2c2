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
#include "lib/jsonw.h"

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

struct page {
	struct buf *b;
	int n;
	bool first_alloc;
	int64_t last_seq;
};

static int on_settlement(void *ctx, const struct settlement_row *s)
{
	struct page *p = ctx;
	if (p->n++)
		buf_putc(p->b, ',');
	after_json_settlement_open(p->b, s);
	p->first_alloc = true;
	p->last_seq = s->seq;
	return 0;
}

static int on_allocation(void *ctx, const struct allocation_row *a)
{
	struct page *p = ctx;
	after_json_allocation(p->b, p->first_alloc, a);
	p->first_alloc = false;
	return 0;
}

static int on_end(void *ctx, const struct settlement_row *s)
{
	struct page *p = ctx;
	(void)s;
	after_json_settlement_close(p->b);
	return 0;
}

enum handler_result handle_settlements_list(const struct request *req, struct reply *out)
{
	int limit;
	int64_t before;
	if (!page_or_problem(req, &limit, &before, out))
		return HANDLER_ANSWERED;
	static const struct settlement_fns fns = {on_settlement, on_allocation, on_end};
	struct page p = {.b = &out->body};
	bool has_more = false;
	buf_puts(p.b, "{\"data\":[");
	enum store_result r =
		store_settlement_list(req->app->store, req->claims->tenant, before, limit, &fns, &p, &has_more);
	if (r < 0)
		return reply_store_problem(out, r);
	buf_putc(p.b, ']');
	jw_kbool(p.b, false, "has_more", has_more);
	if (has_more) {
		char cur[CURSOR_MAX];
		cursor_encode(p.last_seq, cur);
		jw_kstr(p.b, false, "next_cursor", cur);
	} else {
		jw_kstr(p.b, false, "next_cursor", NULL);
	}
	buf_putc(p.b, '}');
	reply_json(out, 200);
	return HANDLER_ANSWERED;
}
