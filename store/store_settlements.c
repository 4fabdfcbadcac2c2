/* SPDX-License-Identifier: MIT */
/* Settlements as the API reads them: the keyset listing and one settlement,
 * each with its allocations, from one snapshot. */
#include <string.h>

#include "store/store_internal.h"

#define SETTLEMENT_COLUMNS                                                                 \
	"id, seq, agency_settlement_id, settlement_date, agency, remittance_reference, amount," \
	" currency, created_at"

/* Above every real date: the first page's upper bound. */
#define DATE_TOP "9999-99-99"

static void settlement_row_read(sqlite3_stmt *st, struct settlement_row *r)
{
	r->id = store_col_text(st, 0);
	r->seq = sqlite3_column_int64(st, 1);
	r->agency_settlement_id = store_col_text(st, 2);
	r->settlement_date = store_col_text(st, 3);
	r->agency = store_col_text(st, 4);
	r->remittance_reference = store_col_text(st, 5);
	r->amount = sqlite3_column_int64(st, 6);
	r->currency = store_col_text(st, 7);
	r->created_at = store_col_text(st, 8);
}

struct alloc_call {
	const struct settlement_fns *fns;
	void *ctx;
};

static int allocation_read(sqlite3_stmt *st, void *arg)
{
	struct alloc_call *ac = arg;
	struct allocation_row a = {
		.allocation_id = store_col_text(st, 0),
		.case_id = store_col_text(st, 1),
		.invoice_number = store_col_text(st, 2),
		.amount = sqlite3_column_int64(st, 3),
		.allocation_date = store_col_text(st, 4),
	};
	return ac->fns->on_allocation ? ac->fns->on_allocation(ac->ctx, &a) : 0;
}

/* Calls the callbacks for the settlement in the current row of its
 * statement: the settlement, its allocations, the end. The settlement's
 * statement is left on its row, so r's pointers stay valid throughout. */
static enum store_result settlement_emit(struct store_conn *c, const struct settlement_row *r,
					 const struct settlement_fns *fns, void *ctx, bool *stop)
{
	static const char sql[] = "SELECT allocation_id, case_id, invoice_number, amount,"
				  " allocation_date FROM settlement_allocations"
				  " WHERE settlement_id = ?1 ORDER BY pos";
	if (fns->on_settlement && fns->on_settlement(ctx, r) != 0) {
		*stop = true;
		return STORE_OK;
	}
	sqlite3_stmt *st = NULL;
	enum store_result res = store_prepare(c, STMT_ALLOCATIONS_GET, sql, &st);
	if (res != STORE_OK)
		return res;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, r->id, &rc);
	struct alloc_call ac = {fns, ctx};
	res = store_each(c, st, rc, allocation_read, &ac, stop, "store: allocations");
	if (res == STORE_OK && !*stop && fns->on_end && fns->on_end(ctx, r) != 0)
		*stop = true;
	return res;
}

/* The settlement date of the cursor's settlement; STORE_NOT_FOUND if none. */
static enum store_result cursor_date(struct store_conn *c, const char *tenant, int64_t seq,
				     char date[16])
{
	static const char sql[] = "SELECT settlement_date FROM settlements WHERE tenant = ?1 AND seq = ?2";
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(c, STMT_SETTLEMENT_CURSOR, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, tenant, &rc);
	store_bind_int64(st, 2, seq, &rc);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (!store_copy_col(st, 0, date, 16))
			r = store_fail_msg("store: settlement cursor", "date longer than its field");
	} else {
		r = rc == SQLITE_DONE ? STORE_NOT_FOUND : store_fail(c->db, rc, "store: settlement cursor");
	}
	store_release(st);
	return r;
}

/* One page on c, inside the caller's read transaction. */
static enum store_result list_page(struct store_conn *c, const char *tenant, int64_t before_seq,
				   int limit, const struct settlement_fns *fns, void *ctx,
				   bool *has_more)
{
	/* Keyset on (settlement_date, seq), newest first, along settlements_date. */
	static const char sql[] = "SELECT " SETTLEMENT_COLUMNS " FROM settlements WHERE tenant = ?1"
				  " AND (settlement_date, seq) < (?2, ?3)"
				  " ORDER BY settlement_date DESC, seq DESC LIMIT ?4";
	char date[16] = DATE_TOP;
	enum store_result r = STORE_OK;
	if (before_seq > 0) {
		r = cursor_date(c, tenant, before_seq, date);
		if (r == STORE_NOT_FOUND)
			return STORE_OK; /* settlements are never deleted: nothing lies past it */
		if (r != STORE_OK)
			return r;
	}
	sqlite3_stmt *st = NULL;
	r = store_prepare(c, STMT_SETTLEMENT_LIST, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, tenant, &rc);
	store_bind_text(st, 2, date, &rc);
	store_bind_int64(st, 3, before_seq > 0 ? before_seq : 0, &rc);
	store_bind_int64(st, 4, (int64_t)limit + 1, &rc); /* one more row tells has_more */
	bool stop = false;
	for (int n = 0; rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW; n++) {
		if (n == limit) {
			*has_more = true;
			break;
		}
		struct settlement_row row;
		settlement_row_read(st, &row);
		r = settlement_emit(c, &row, fns, ctx, &stop);
		if (r != STORE_OK || stop)
			break;
		rc = SQLITE_OK;
	}
	if (r == STORE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE && rc != SQLITE_OK)
		r = store_fail(c->db, rc, "store: settlement list");
	store_release(st);
	return r;
}

/* Takes a reader from the pool and opens one read transaction on it. */
static enum store_result in_snapshot(struct store *s, struct store_conn **c)
{
	*c = store_reader_get(s);
	return store_run(*c, STMT_BEGIN, "BEGIN", "store: begin read");
}

/* Ends the read transaction (its failure overrides a success) and returns the reader. */
static enum store_result end_snapshot(struct store *s, struct store_conn *c, enum store_result r)
{
	if (r >= 0) {
		enum store_result end = store_run(c, STMT_COMMIT, "COMMIT", "store: end read");
		if (end < 0)
			r = end;
	}
	store_reader_put(s, c); /* rolls back a read left open by an error */
	return r;
}

enum store_result store_settlement_list(struct store *s, const char *tenant, int64_t before_seq,
					int limit, const struct settlement_fns *fns, void *ctx,
					bool *has_more)
{
	struct store_conn *c;
	*has_more = false;
	limit = limit < 1 ? 1 : limit > 200 ? 200 : limit;
	enum store_result r = in_snapshot(s, &c);
	if (r == STORE_OK)
		r = list_page(c, tenant, before_seq, limit, fns, ctx, has_more);
	return end_snapshot(s, c, r);
}

enum store_result store_settlement_get(struct store *s, const char *tenant, const char *id,
				       const struct settlement_fns *fns, void *ctx)
{
	static const char sql[] = "SELECT " SETTLEMENT_COLUMNS " FROM settlements"
				  " WHERE tenant = ?1 AND id = ?2";
	struct store_conn *c;
	sqlite3_stmt *st = NULL;
	enum store_result r = in_snapshot(s, &c);
	if (r != STORE_OK || (r = store_prepare(c, STMT_SETTLEMENT_GET, sql, &st)) != STORE_OK)
		goto out;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, tenant, &rc);
	store_bind_text(st, 2, id, &rc);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		struct settlement_row row;
		bool stop = false;
		settlement_row_read(st, &row);
		r = settlement_emit(c, &row, fns, ctx, &stop);
	} else {
		r = rc == SQLITE_DONE ? STORE_NOT_FOUND : store_fail(c->db, rc, "store: settlement get");
	}
out:
	store_release(st);
	return end_snapshot(s, c, r);
}
