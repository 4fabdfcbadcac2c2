/* SPDX-License-Identifier: MIT */
/* What the sync loop needs: the tenants and their cases to follow, and the
 * idempotent consumers of the agency's payments, settlements and events
 * (each applied once, by the agency's own id). */
#include <stdlib.h>
#include <string.h>

#include "server/ids.h"
#include "store/store_internal.h"

#define SYNC_PAGE 64 /* cases copied per read: bounds memory and the read's length */

/* ---- tenants ---- */

struct tenant_copy {
	char tenant[65];
	struct agency_settings settings;
};

struct tenant_list {
	struct tenant_copy *v;
	size_t n, cap;
	bool bad; /* out of memory or a value longer than its field */
};

static int tenant_add(sqlite3_stmt *st, void *arg)
{
	struct tenant_list *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct tenant_copy *v = realloc(l->v, cap * sizeof *v);
		if (!v) {
			l->bad = true;
			return 1;
		}
		l->v = v;
		l->cap = cap;
	}
	struct tenant_copy *t = &l->v[l->n];
	if (!store_copy_col(st, 0, t->tenant, sizeof t->tenant) ||
	    !store_settings_read(st, 1, &t->settings)) {
		l->bad = true;
		return 1;
	}
	l->n++;
	return 0;
}

enum store_result store_tenants_with_settings(struct store *s, store_tenant_fn fn, void *ctx)
{
	static const char sql[] =
		"SELECT tenant, creditor_reference, api_key, service, customer_type, min_days_overdue,"
		" reminder_wait_days, min_amount, enabled, api_key_valid, updated_at"
		" FROM agency_settings ORDER BY tenant";
	struct tenant_list l = {0};
	struct store_conn *c = store_reader_get(s);
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(c, STMT_SETTINGS_ALL, sql, &st);
	if (r == STORE_OK)
		r = store_each(c, st, SQLITE_OK, tenant_add, &l, NULL, "store: tenants");
	/* The reader goes back before fn runs: fn may call the store, and a
	 * read held across agency calls would pin the WAL. */
	store_reader_put(s, c);
	if (r == STORE_OK && l.bad)
		r = store_fail_msg("store: tenants", "out of memory or a value longer than its field");
	for (size_t i = 0; r == STORE_OK && i < l.n; i++)
		if (fn(ctx, l.v[i].tenant, &l.v[i].settings) != 0)
			break;
	if (l.v)
		memset(l.v, 0, l.n * sizeof *l.v); /* api keys do not linger in freed memory */
	free(l.v);
	return r;
}

/* ---- cases to follow ---- */

/* A case row with its own copy of every string, in one allocation. */
struct case_copy {
	struct case_row row;
	char *mem;
};

/* Copies src into *p from the arena at *at; NULL stays NULL. */
static void arena_put(const char **p, const char *src, char **at)
{
	if (!src) {
		*p = NULL;
		return;
	}
	size_t n = strlen(src) + 1;
	memcpy(*at, src, n);
	*p = *at;
	*at += n;
}

static bool case_copy_of(const struct case_row *src, struct case_copy *dst)
{
	const char *const *f[] = {
		&src->id, &src->tenant, &src->status, &src->stage, &src->agency_status,
		&src->service, &src->debtor_type, &src->your_reference, &src->agency_case_id,
		&src->invoice_number, &src->invoice_json, &src->debtor_json, &src->currency,
		&src->created_at, &src->updated_at, &src->submitted_at, &src->closed_at,
	};
	size_t nf = sizeof f / sizeof f[0], total = 0;
	for (size_t i = 0; i < nf; i++)
		total += *f[i] ? strlen(*f[i]) + 1 : 0;
	dst->row = *src;
	dst->mem = malloc(total ? total : 1);
	if (!dst->mem)
		return false;
	char *at = dst->mem;
	/* The same members in the same order, now pointing into mem. */
	const char **t[] = {
		&dst->row.id, &dst->row.tenant, &dst->row.status, &dst->row.stage,
		&dst->row.agency_status, &dst->row.service, &dst->row.debtor_type,
		&dst->row.your_reference, &dst->row.agency_case_id, &dst->row.invoice_number,
		&dst->row.invoice_json, &dst->row.debtor_json, &dst->row.currency,
		&dst->row.created_at, &dst->row.updated_at, &dst->row.submitted_at,
		&dst->row.closed_at,
	};
	for (size_t i = 0; i < nf; i++)
		arena_put(t[i], *f[i], &at);
	return true;
}

struct case_page {
	struct case_copy v[SYNC_PAGE];
	int n;
	bool oom;
};

static int case_page_add(sqlite3_stmt *st, void *arg)
{
	struct case_page *p = arg;
	struct case_row row;
	store_case_row_read(st, &row);
	if (!case_copy_of(&row, &p->v[p->n])) {
		p->oom = true;
		return 1;
	}
	p->n++;
	return 0;
}

/* Reads the next page of cases to follow after seq `after` into p. */
static enum store_result case_page_read(struct store *s, const char *tenant, int64_t after,
					struct case_page *p)
{
	/* The primary key (tenant, seq) in order; the status test filters. */
	static const char sql[] = "SELECT " CASE_COLUMNS " FROM cases WHERE tenant = ?1 AND seq > ?2"
				  " AND status IN ('submitted', 'open', 'paused', 'disputed')"
				  " ORDER BY seq LIMIT ?3";
	struct store_conn *c = store_reader_get(s);
	sqlite3_stmt *st = NULL;
	p->n = 0;
	p->oom = false;
	enum store_result r = store_prepare(c, STMT_CASES_TO_SYNC, sql, &st);
	if (r == STORE_OK) {
		int rc = SQLITE_OK;
		store_bind_text(st, 1, tenant, &rc);
		store_bind_int64(st, 2, after, &rc);
		store_bind_int64(st, 3, SYNC_PAGE, &rc);
		r = store_each(c, st, rc, case_page_add, p, NULL, "store: cases to sync");
	}
	store_reader_put(s, c);
	if (r == STORE_OK && p->oom)
		r = store_fail_msg("store: cases to sync", "out of memory");
	return r;
}

enum store_result store_cases_to_sync(struct store *s, const char *tenant, store_case_fn fn,
				      void *ctx)
{
	struct case_page *p = calloc(1, sizeof *p);
	if (!p)
		return store_fail_msg("store: cases to sync", "out of memory");
	enum store_result r = STORE_OK;
	int64_t after = 0;
	bool stop = false, more = true;
	while (r == STORE_OK && more && !stop) {
		r = case_page_read(s, tenant, after, p);
		more = p->n == SYNC_PAGE;
		/* Calls happen with no read open: fn may write and wait on the agency. */
		for (int i = 0; r == STORE_OK && i < p->n && !stop; i++) {
			after = p->v[i].row.seq;
			stop = fn(ctx, &p->v[i].row) != 0;
		}
		for (int i = 0; i < p->n; i++)
			free(p->v[i].mem);
	}
	free(p);
	return r;
}

/* ---- finding our case for an agency record ---- */

struct case_match {
	char id[STORE_ID_MAX];
	int64_t remaining;
};

/* Steps a one-row lookup of (id, remaining); STORE_NOT_FOUND when none. */
static enum store_result match_step(struct store_conn *w, sqlite3_stmt *st, int rc,
				    struct case_match *m)
{
	enum store_result r = STORE_OK;
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (!store_copy_col(st, 0, m->id, sizeof m->id))
			r = store_fail_msg("store: match case", "id longer than its field");
		m->remaining = sqlite3_column_int64(st, 1);
	} else {
		r = rc == SQLITE_DONE ? STORE_NOT_FOUND : store_fail(w->db, rc, "store: match case");
	}
	store_release(st);
	return r;
}

/* The tenant's case for an agency record: by the agency's case id, else by
 * invoice number (the live case first, else the newest). */
static enum store_result match_case(struct store_conn *w, const char *tenant,
				    const char *agency_case_id, const char *invoice_number,
				    struct case_match *m)
{
	sqlite3_stmt *st = NULL;
	enum store_result r = STORE_NOT_FOUND;
	int rc = SQLITE_OK;
	if (agency_case_id && agency_case_id[0]) {
		/* Named, as in the listing: without ANALYZE statistics SQLite
		 * would walk the tenant's primary key instead. "agency_case_id =
		 * ?" implies the partial index's IS NOT NULL. */
		r = store_prepare(w, STMT_CASE_BY_AGENCY_ID,
				  "SELECT id, remaining FROM cases INDEXED BY cases_agency_case"
				  " WHERE tenant = ?1"
				  " AND agency_case_id = ?2 ORDER BY seq DESC LIMIT 1",
				  &st);
		if (r != STORE_OK)
			return r;
		store_bind_text(st, 1, tenant, &rc);
		store_bind_text(st, 2, agency_case_id, &rc);
		r = match_step(w, st, rc, m);
	}
	if (r != STORE_NOT_FOUND || !invoice_number || !invoice_number[0])
		return r;
	r = store_prepare(w, STMT_CASE_BY_INVOICE,
			  "SELECT id, remaining FROM cases INDEXED BY cases_invoice"
			  " WHERE tenant = ?1 AND invoice_number = ?2"
			  " ORDER BY status NOT IN ('withdrawn', 'rejected') DESC, seq DESC LIMIT 1",
			  &st);
	if (r != STORE_OK)
		return r;
	rc = SQLITE_OK;
	store_bind_text(st, 1, tenant, &rc);
	store_bind_text(st, 2, invoice_number, &rc);
	return match_step(w, st, rc, m);
}

/* Steps a "does this key exist" query bound with ?1 tenant, ?2 key. */
static enum store_result seen(struct store_conn *w, enum store_stmt id, const char *sql,
			      const char *tenant, const char *key, bool *yes)
{
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(w, id, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, tenant, &rc);
	store_bind_text(st, 2, key, &rc);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	*yes = rc == SQLITE_ROW;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = store_fail(w->db, rc, "store: seen");
	store_release(st);
	return r;
}

/* ---- payments ---- */

enum store_result store_sync_payment(struct store *s, const char *tenant,
				     const struct agency_payment *p, const char *now,
				     bool *applied)
{
	struct store_conn *w;
	struct case_match m;
	bool known = false;
	char id[STORE_ID_MAX];
	if (applied)
		*applied = false;
	if (p->amount <= 0)
		return STORE_LIMIT;
	if (!ids_new("pay_", id, sizeof id))
		return store_fail_msg("store: sync payment", "no random id");
	enum store_result r = store_write_begin(s, &w);
	if (r != STORE_OK)
		goto out;
	r = seen(w, STMT_PAYMENT_AGENCY_SEEN,
		 "SELECT 1 FROM payments WHERE tenant = ?1 AND agency_payment_id = ?2", tenant,
		 p->agency_payment_id, &known);
	if (r != STORE_OK || known)
		goto out; /* a repeat: STORE_OK, nothing written */
	r = match_case(w, tenant, p->agency_case_id, p->invoice_number, &m);
	if (r != STORE_OK)
		goto out;
	/* Never more than is still owed: paid + credited stays within the
	 * claim however the agency's figures and ours overlap. */
	int64_t count = p->amount < m.remaining ? p->amount : m.remaining;
	if (count < 0)
		count = 0;
	struct payment_row row = {
		.id = id, .tenant = tenant, .case_id = m.id, .kind = "payment",
		.amount = p->amount, .applied = count, .paid_on = p->paid_on, .source = "agency",
		.agency_payment_id = p->agency_payment_id, .created_at = now,
	};
	r = store_payment_insert(w, &row);
	if (r == STORE_DUPLICATE)
		r = store_fail_msg("store: sync payment", "UNIQUE constraint failed");
	if (r == STORE_OK && count > 0)
		r = store_case_balance_add(w, m.id, count, 0, now);
	if (r == STORE_OK)
		r = store_write_commit(w);
	if (r == STORE_OK && applied)
		*applied = true;
out:
	store_write_end(s);
	return r;
}

/* ---- settlements ---- */

static enum store_result settlement_insert(struct store_conn *w, const char *tenant,
					   const char *id, const struct agency_settlement *in,
					   const char *now)
{
	/* seq: max + 1 under the write lock, like a case's. */
	static const char sql[] =
		"INSERT INTO settlements (tenant, id, seq, agency_settlement_id, settlement_date,"
		" agency, remittance_reference, amount, currency, created_at)"
		" SELECT ?1, ?2, COALESCE(MAX(seq), 0) + 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9"
		" FROM settlements WHERE tenant = ?1";
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(w, STMT_SETTLEMENT_INSERT, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, tenant, &rc);
	store_bind_text(st, 2, id, &rc);
	store_bind_text(st, 3, in->agency_settlement_id, &rc);
	store_bind_text(st, 4, in->settlement_date, &rc);
	store_bind_text(st, 5, in->agency, &rc);
	store_bind_text(st, 6, in->remittance_reference, &rc);
	store_bind_int64(st, 7, in->amount, &rc);
	store_bind_text(st, 8, in->currency, &rc);
	store_bind_text(st, 9, now, &rc);
	r = store_step_done(w, st, rc, "store: insert settlement");
	return r == STORE_DUPLICATE ? store_fail_msg("store: insert settlement", "UNIQUE constraint failed") : r;
}

static enum store_result allocation_insert(struct store_conn *w, const char *settlement_id,
					   size_t pos, const char *case_id,
					   const struct agency_allocation *a)
{
	static const char sql[] =
		"INSERT INTO settlement_allocations (settlement_id, allocation_id, pos, case_id,"
		" invoice_number, amount, allocation_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(w, STMT_ALLOCATION_INSERT, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, settlement_id, &rc);
	store_bind_text(st, 2, a->allocation_id, &rc);
	store_bind_int64(st, 3, (int64_t)pos, &rc);
	store_bind_text(st, 4, case_id, &rc);
	store_bind_text(st, 5, a->invoice_number ? a->invoice_number : "", &rc);
	store_bind_int64(st, 6, a->amount, &rc);
	store_bind_text(st, 7, a->allocation_date, &rc);
	return store_step_done(w, st, rc, "store: insert allocation");
}

enum store_result store_sync_settlement(struct store *s, const char *tenant,
					const struct agency_settlement *in, const char *now,
					bool *created)
{
	struct store_conn *w;
	bool known = false;
	char id[STORE_ID_MAX];
	if (created)
		*created = false;
	if (!ids_new("st_", id, sizeof id))
		return store_fail_msg("store: sync settlement", "no random id");
	enum store_result r = store_write_begin(s, &w);
	if (r != STORE_OK)
		goto out;
	r = seen(w, STMT_SETTLEMENT_SEEN,
		 "SELECT 1 FROM settlements WHERE tenant = ?1 AND agency_settlement_id = ?2", tenant,
		 in->agency_settlement_id, &known);
	if (r != STORE_OK || known)
		goto out;
	r = settlement_insert(w, tenant, id, in, now);
	for (size_t i = 0; r == STORE_OK && i < in->nallocations; i++) {
		const struct agency_allocation *a = &in->allocations[i];
		struct case_match m;
		r = match_case(w, tenant, a->agency_case_id, a->invoice_number, &m);
		if (r == STORE_OK || r == STORE_NOT_FOUND)
			r = allocation_insert(w, id, i, r == STORE_OK ? m.id : NULL, a);
	}
	/* STORE_DUPLICATE (a repeated allocation id) rolls everything back. */
	if (r == STORE_OK)
		r = store_write_commit(w);
	if (r == STORE_OK && created)
		*created = true;
out:
	store_write_end(s);
	return r;
}

/* ---- agency events ---- */

enum store_result store_agency_event_seen(struct store *s, const char *case_id,
					  const char *event_id, bool *is_new)
{
	static const char sql[] = "INSERT INTO agency_events (case_id, event_id) VALUES (?1, ?2)"
				  " ON CONFLICT DO NOTHING";
	struct store_conn *w;
	sqlite3_stmt *st = NULL;
	*is_new = false;
	enum store_result r = store_write_begin(s, &w);
	if (r != STORE_OK || (r = store_prepare(w, STMT_AGENCY_EVENT_INSERT, sql, &st)) != STORE_OK)
		goto out;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, case_id, &rc);
	store_bind_text(st, 2, event_id, &rc);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
		r = STORE_NOT_FOUND; /* no such case */
		goto out;
	}
	if (rc != SQLITE_DONE) {
		r = store_fail(w->db, rc, "store: agency event");
		goto out;
	}
	bool fresh = sqlite3_changes(w->db) == 1;
	store_release(st);
	st = NULL;
	r = store_write_commit(w);
	if (r == STORE_OK)
		*is_new = fresh;
out:
	store_release(st);
	store_write_end(s);
	return r;
}
