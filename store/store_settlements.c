/* SPDX-License-Identifier: MIT */
/* Settlements as the API reads them: the keyset listing and one settlement,
 * each with its allocations, from one snapshot. */
#include <string.h>

#include "store/rows.h"
#include "store/store_internal.h"

#define SETTLEMENT_COLUMNS                                                                 \
	"id, seq, agency_settlement_id, settlement_date, agency, remittance_reference, amount," \
	" currency, created_at"

/* Above every real date: the first page's upper bound. */
#define DATE_TOP "9999-99-99"
/* Below every real date: no lower bound. */
#define DATE_BOTTOM "0000-00-00"

/* One read: the callbacks, the rows they are shown, and the page's count. */
struct settlement_read {
	const struct settlement_fns *fns;
	void *ctx;
	struct db_conn *c;
	struct settlement_row st;
	struct allocation_row a;
	int n, limit;           /* settlements seen; the page's size (0: one settlement) */
	bool *has_more;
	bool found;
	enum store_result r;    /* the allocations' read */
};

static void settlement_cols(struct settlement_row *r, struct db_col *cols)
{
	const struct db_col c[] = {
		DB_COL_TEXT(&r->id),     DB_COL_INT64(&r->seq),   DB_COL_TEXT(&r->agency_settlement_id),
		DB_COL_TEXT(&r->settlement_date), DB_COL_TEXT(&r->agency), DB_COL_TEXT(&r->remittance_reference),
		DB_COL_INT64(&r->amount), DB_COL_TEXT(&r->currency), DB_COL_TEXT(&r->created_at),
		DB_END_COL,
	};
	memcpy(cols, c, sizeof c);
}

static int on_allocation(void *arg)
{
	struct settlement_read *sr = arg;
	return sr->fns->on_allocation ? sr->fns->on_allocation(sr->ctx, &sr->a) : 0;
}

/* Calls the callbacks for the settlement in the current row: the
 * settlement, its allocations, the end. The settlement's statement stays on
 * its row meanwhile, so its views stay valid throughout. */
static int on_settlement(void *arg)
{
	static const char sql[] = "SELECT allocation_id, case_id, invoice_number, amount, allocation_date"
				  " FROM settlement_allocations WHERE settlement_id = ?1 ORDER BY pos";
	struct settlement_read *sr = arg;
	if (sr->limit && sr->n++ == sr->limit) {
		*sr->has_more = true; /* the one row more than asked for */
		return 1;
	}
	sr->found = true;
	if (sr->fns->on_settlement && sr->fns->on_settlement(sr->ctx, &sr->st) != 0)
		return 1;
	const struct db_param params[] = {DB_TEXT(sr->st.id), DB_END};
	const struct db_col cols[] = {
		DB_COL_TEXT(&sr->a.allocation_id), DB_COL_TEXT(&sr->a.case_id), DB_COL_TEXT(&sr->a.invoice_number),
		DB_COL_INT64(&sr->a.amount), DB_COL_TEXT(&sr->a.allocation_date), DB_END_COL,
	};
	bool stop = false;
	sr->r = db_each(sr->c, sql, params, cols, on_allocation, sr, &stop, "store: allocations");
	if (sr->r != STORE_OK || stop)
		return 1;
	return sr->fns->on_end && sr->fns->on_end(sr->ctx, &sr->st) != 0;
}

enum store_result store_settlement_list(struct store *s, const struct settlement_filter *f,
					const struct settlement_fns *fns, void *ctx, bool *has_more)
{
	static const char cursor_sql[] = "SELECT settlement_date FROM settlements WHERE tenant = ?1 AND seq = ?2";
	/* Keyset on (settlement_date, seq), newest first, along settlements_date;
	 * the date range bounds the same index walk (absent: the whole range). */
	static const char sql[] = "SELECT " SETTLEMENT_COLUMNS " FROM settlements WHERE tenant = ?1"
				  " AND (settlement_date, seq) < (?2, ?3)"
				  " AND settlement_date >= ?5 AND settlement_date <= ?6"
				  " ORDER BY settlement_date DESC, seq DESC LIMIT ?4";
	*has_more = false;
	int limit = f->limit < 1 ? 1 : f->limit > STORE_PAGE_MAX ? STORE_PAGE_MAX : f->limit;
	int64_t before_seq = f->before_seq;
	struct settlement_read sr = {.fns = fns, .ctx = ctx, .limit = limit, .has_more = has_more, .r = STORE_OK};
	char date[16] = DATE_TOP;
	const struct db_param at_cursor[] = {DB_TEXT(f->tenant), DB_INT(before_seq), DB_END};
	const struct db_col date_col[] = {DB_COL_COPY(date), DB_END_COL};
	const struct db_param params[] = {
		DB_TEXT(f->tenant), DB_TEXT(date), DB_INT(before_seq > 0 ? before_seq : 0),
		DB_INT((int64_t)limit + 1), /* one more row tells has_more */
		DB_TEXT(f->settled_from ? f->settled_from : DATE_BOTTOM),
		DB_TEXT(f->settled_to ? f->settled_to : DATE_TOP),
		DB_END,
	};
	struct db_col cols[10];
	settlement_cols(&sr.st, cols);
	enum store_result r = store_snapshot_begin(s, &sr.c);
	if (r == STORE_OK && before_seq > 0) {
		r = db_one(sr.c, cursor_sql, at_cursor, date_col, "store: settlement cursor");
		if (r == STORE_NOT_FOUND) /* settlements are never deleted: nothing lies past it */
			return store_snapshot_end(s, sr.c, STORE_OK);
	}
	if (r == STORE_OK)
		r = db_each(sr.c, sql, params, cols, on_settlement, &sr, NULL, "store: settlement list");
	return store_snapshot_end(s, sr.c, r == STORE_OK ? sr.r : r);
}

enum store_result store_settlement_get(struct store *s, const char *tenant, const char *id,
				       const struct settlement_fns *fns, void *ctx)
{
	static const char sql[] = "SELECT " SETTLEMENT_COLUMNS " FROM settlements WHERE tenant = ?1 AND id = ?2";
	struct settlement_read sr = {.fns = fns, .ctx = ctx, .r = STORE_OK};
	const struct db_param params[] = {DB_TEXT(tenant), DB_TEXT(id), DB_END};
	struct db_col cols[10];
	settlement_cols(&sr.st, cols);
	enum store_result r = store_snapshot_begin(s, &sr.c);
	if (r == STORE_OK)
		r = db_each(sr.c, sql, params, cols, on_settlement, &sr, NULL, "store: settlement get");
	if (r == STORE_OK)
		r = sr.found ? sr.r : STORE_NOT_FOUND;
	return store_snapshot_end(s, sr.c, r);
}
