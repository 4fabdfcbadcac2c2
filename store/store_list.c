/* SPDX-License-Identifier: MIT */
/* The keyset listing of GET /v1/collection-cases: one statement per filter
 * shape, built once per connection, its values bound. */
#include <stdlib.h>
#include <string.h>

#include "store/rows.h"
#include "store/store_internal.h"

#define STATUS_ALL ((1u << CASE__COUNT) - 1)

/* A filter's shape: the status mask in bits 0..CASE__COUNT-1, then one bit
 * per filter present. Filters of one shape share a statement; the values are
 * bound. */
enum {
	SHAPE_CURSOR = 1u << (CASE__COUNT + 0),
	SHAPE_Q = 1u << (CASE__COUNT + 1),
	SHAPE_INVOICE = 1u << (CASE__COUNT + 2),
	SHAPE_DEBTOR_TYPE = 1u << (CASE__COUNT + 3),
	SHAPE_BIRTH = 1u << (CASE__COUNT + 4),
	SHAPE_NATIONAL_ID = 1u << (CASE__COUNT + 5),
	SHAPE_FROM = 1u << (CASE__COUNT + 6),
	SHAPE_TO = 1u << (CASE__COUNT + 7),
	/* Not a filter: the statement is PostgreSQL's (no INDEXED BY, whose
	 * planner keeps statistics and picks the index itself; ILIKE for
	 * SQLite's ASCII case-insensitive LIKE). */
	SHAPE_PG = 1u << (CASE__COUNT + 8),
};

/* mask 0 and all statuses both mean no status filter. */
static uint32_t list_shape(const struct case_filter *f)
{
	uint32_t mask = f->status_mask & STATUS_ALL;
	uint32_t shape = mask == STATUS_ALL ? 0 : mask;
	if (f->before_seq > 0)
		shape |= SHAPE_CURSOR;
	if (f->q && f->q[0])
		shape |= SHAPE_Q;
	if (f->invoice_number)
		shape |= SHAPE_INVOICE;
	if (f->debtor_type)
		shape |= SHAPE_DEBTOR_TYPE;
	if (f->date_of_birth)
		shape |= SHAPE_BIRTH;
	if (f->national_id_hash)
		shape |= SHAPE_NATIONAL_ID;
	if (f->created_from)
		shape |= SHAPE_FROM;
	if (f->created_to)
		shape |= SHAPE_TO;
	return shape;
}

static void sql_add(char *sql, size_t cap, size_t *len, const char *s)
{
	size_t n = strlen(s);
	if (*len + n < cap)
		memcpy(sql + *len, s, n + 1);
	*len += n; /* past cap: the caller sees the overflow */
}

/* Parameters: ?1 tenant, ?2 cursor, ?3 q pattern, ?4 invoice number,
 * ?5 debtor type, ?6 date of birth, ?7 national id hash, ?8 from, ?9 to,
 * ?10 limit + 1. Numbers an absent filter leaves unused are bound to NULL
 * and never read. */
static int list_sql(uint32_t shape, char *sql, size_t cap)
{
	/* Leading ORDER BY seq DESC on WHERE tenant = ?: SQLite walks the
	 * primary key (tenant, seq) backwards, so no sort step, and a page
	 * reads limit+1 rows plus those the other filters skip. */
	size_t n = 0;
	sql_add(sql, cap, &n, "SELECT " CASE_COLUMNS " FROM cases");
	/* An exact search takes its index, named: without ANALYZE statistics
	 * (the service keeps none) SQLite rates "tenant = ?" on the primary key
	 * as selective as both equalities of the index, and would walk all the
	 * tenant's cases. With INDEXED BY, a plan that cannot use the index
	 * fails to prepare instead of degrading silently. */
	if (shape & SHAPE_PG)
		; /* PostgreSQL's planner has statistics (autovacuum's ANALYZE) */
	else if (shape & SHAPE_INVOICE)
		sql_add(sql, cap, &n, " INDEXED BY cases_invoice");
	else if (shape & SHAPE_NATIONAL_ID)
		sql_add(sql, cap, &n, " INDEXED BY cases_national_id");
	else if (shape & SHAPE_BIRTH)
		sql_add(sql, cap, &n, " INDEXED BY cases_birth");
	sql_add(sql, cap, &n, " WHERE tenant = ?1");
	if (shape & SHAPE_CURSOR)
		sql_add(sql, cap, &n, " AND seq < ?2");
	if (shape & STATUS_ALL) {
		/* The names are ours, not the caller's: safe to write as literals. */
		const char *sep = " AND status IN (";
		for (int i = 0; i < CASE__COUNT; i++) {
			if (!(shape & (1u << i)))
				continue;
			sql_add(sql, cap, &n, sep);
			sql_add(sql, cap, &n, "'");
			sql_add(sql, cap, &n, case_status_name((enum case_status)i));
			sql_add(sql, cap, &n, "'");
			sep = ", ";
		}
		sql_add(sql, cap, &n, ")");
	}
	/* SQLite's LIKE is case-insensitive for ASCII letters only (SQLite
	 * without ICU); PostgreSQL's ILIKE in the C locale of its database is
	 * the same. */
	if (shape & SHAPE_Q)
		sql_add(sql, cap, &n,
			(shape & SHAPE_PG)
				? " AND (debtor_name ILIKE ?3 ESCAPE '\\' OR business_name ILIKE ?3 ESCAPE '\\'"
				  " OR invoice_number ILIKE ?3 ESCAPE '\\' OR your_reference ILIKE ?3 ESCAPE '\\'"
				  " OR agency_case_id ILIKE ?3 ESCAPE '\\' OR org_number ILIKE ?3 ESCAPE '\\')"
				: " AND (debtor_name LIKE ?3 ESCAPE '\\' OR business_name LIKE ?3 ESCAPE '\\'"
				  " OR invoice_number LIKE ?3 ESCAPE '\\' OR your_reference LIKE ?3 ESCAPE '\\'"
				  " OR agency_case_id LIKE ?3 ESCAPE '\\' OR org_number LIKE ?3 ESCAPE '\\')");
	if (shape & SHAPE_INVOICE)
		sql_add(sql, cap, &n, " AND invoice_number = ?4");
	if (shape & SHAPE_DEBTOR_TYPE)
		sql_add(sql, cap, &n, " AND debtor_type = ?5");
	if (shape & SHAPE_BIRTH)
		sql_add(sql, cap, &n, " AND date_of_birth = ?6");
	if (shape & SHAPE_NATIONAL_ID)
		sql_add(sql, cap, &n, " AND national_id_hash = ?7");
	/* created_at is RFC 3339 UTC text: its first 10 characters are the UTC day. */
	if (shape & SHAPE_FROM)
		sql_add(sql, cap, &n, " AND substr(created_at, 1, 10) >= ?8");
	if (shape & SHAPE_TO)
		sql_add(sql, cap, &n, " AND substr(created_at, 1, 10) <= ?9");
	sql_add(sql, cap, &n, " ORDER BY seq DESC LIMIT ?10");
	return n < cap ? (int)n : -1;
}

int store_case_list_sql(const struct case_filter *f, char *sql, size_t cap)
{
	return list_sql(list_shape(f), sql, cap);
}

/* "%q%" with \, % and _ of q escaped for LIKE ... ESCAPE '\'. malloc'd. */
static char *like_pattern(const char *q)
{
	size_t n = strlen(q);
	char *p = malloc(2 * n + 3);
	if (!p)
		return NULL;
	size_t j = 0;
	p[j++] = '%';
	for (size_t i = 0; i < n; i++) {
		if (q[i] == '\\' || q[i] == '%' || q[i] == '_')
			p[j++] = '\\';
		p[j++] = q[i];
	}
	p[j++] = '%';
	p[j] = '\0';
	return p;
}

struct page_read {
	store_case_fn fn;
	void *ctx;
	struct case_row row;
	int n, limit;
	bool *has_more;
};

static int on_row(void *arg)
{
	struct page_read *p = arg;
	if (p->n++ == p->limit) {
		*p->has_more = true; /* the one row more than asked for */
		return 1;
	}
	return p->fn(p->ctx, &p->row);
}

enum store_result store_case_list(struct store *s, const struct case_filter *f, store_case_fn fn, void *ctx,
				  bool *has_more)
{
	*has_more = false;
	/* Only unknown status bits: no status can match. */
	if (f->status_mask && !(f->status_mask & STATUS_ALL))
		return STORE_OK;
	int limit = f->limit < 1 ? 1 : f->limit > STORE_PAGE_MAX ? STORE_PAGE_MAX : f->limit;
	char *pattern = NULL;
	if (f->q && f->q[0] && !(pattern = like_pattern(f->q)))
		return db_fail_msg("store: list", "out of memory");
	struct page_read p = {.fn = fn, .ctx = ctx, .limit = limit, .has_more = has_more};
	const struct db_col cols[] = {ROWS_CASE(&p.row), DB_END_COL};
	const struct db_param params[] = {
		DB_TEXT(f->tenant),         DB_INT(f->before_seq > 0 ? f->before_seq : 0),
		DB_TEXT(pattern),           DB_TEXT(f->invoice_number),
		DB_TEXT(f->debtor_type),    DB_TEXT(f->date_of_birth),
		DB_TEXT(f->national_id_hash), DB_TEXT(f->created_from),
		DB_TEXT(f->created_to),     DB_INT((int64_t)limit + 1), /* one more row tells has_more */
		DB_END,
	};
	struct db_conn *c = store_reader_get(s);
	struct db_stmt *st;
	uint32_t shape = list_shape(f) | (db_engine_of(c) == DB_PG ? SHAPE_PG : 0);
	enum store_result r = db_built(c, shape, list_sql, &st);
	if (r == STORE_OK)
		r = db_each_stmt(c, st, params, cols, on_row, &p, NULL, "store: list");
	store_reader_put(s, c);
	free(pattern);
	return r;
}
