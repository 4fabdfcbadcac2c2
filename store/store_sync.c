/* SPDX-License-Identifier: MIT */
/* What the sync loop needs: the tenants and their cases to follow, and the
 * idempotent consumers of the agency's payments, settlements and events
 * (each applied once, by the agency's own id). */
#include <stdlib.h>
#include <string.h>

#include "lib/ids.h"
#include "lib/jsonw.h"
#include "store/rows.h"
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
	struct tenant_copy row; /* what each row is read into */
	bool oom;
};

static int tenant_add(void *arg)
{
	struct tenant_list *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct tenant_copy *v = realloc(l->v, cap * sizeof *v);
		if (!v) {
			l->oom = true;
			return 1;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = l->row;
	rows_settings_done(&l->v[l->n].settings);
	l->n++;
	return 0;
}

enum store_result store_tenants_with_settings(struct store *s, store_tenant_fn fn, void *ctx)
{
	static const char sql[] = "SELECT tenant, " SETTINGS_COLUMNS " FROM agency_settings ORDER BY tenant";
	struct tenant_list l = {0};
	struct db_col cols[SETTINGS_NCOLUMNS + 2] = {DB_COL_COPY(l.row.tenant)};
	rows_settings_cols(&l.row.settings, cols + 1);
	struct db_conn *c = store_reader_get(s);
	enum store_result r = db_each(c, sql, NULL, cols, tenant_add, &l, NULL, "store: tenants");
	/* The reader goes back before fn runs: fn may call the store, and a
	 * read held across agency calls would pin the WAL. */
	store_reader_put(s, c);
	if (r == STORE_OK && l.oom)
		r = db_fail_msg("store: tenants", "out of memory");
	for (size_t i = 0; r == STORE_OK && i < l.n; i++)
		if (fn(ctx, l.v[i].tenant, &l.v[i].settings) != 0)
			break;
	/* api keys do not linger in freed memory */
	explicit_bzero(&l.row, sizeof l.row);
	if (l.v)
		explicit_bzero(l.v, l.n * sizeof *l.v);
	free(l.v);
	return r;
}

/* ---- cases to follow ---- */

struct case_page {
	struct case_copy v[SYNC_PAGE];
	struct case_row row;
	int n;
	bool oom;
};

static int case_page_add(void *arg)
{
	struct case_page *p = arg;
	if (!rows_case_copy(&p->row, &p->v[p->n])) {
		p->oom = true;
		return 1;
	}
	p->n++;
	return 0;
}

/* Reads the next page of cases to follow after seq `after` into p. */
static enum store_result case_page_read(struct store *s, const char *tenant, int64_t after, struct case_page *p)
{
	/* The primary key (tenant, seq) in order; the status test filters. */
	static const char sql[] = "SELECT " CASE_COLUMNS " FROM cases WHERE tenant = ?1 AND seq > ?2"
				  " AND status IN ('submitted', 'open', 'paused', 'disputed') ORDER BY seq LIMIT ?3";
	const struct db_param params[] = {DB_TEXT(tenant), DB_INT(after), DB_INT(SYNC_PAGE), DB_END};
	const struct db_col cols[] = {ROWS_CASE(&p->row), DB_END_COL};
	p->n = 0;
	p->oom = false;
	struct db_conn *c = store_reader_get(s);
	enum store_result r = db_each(c, sql, params, cols, case_page_add, p, NULL, "store: cases to sync");
	store_reader_put(s, c);
	if (r == STORE_OK && p->oom)
		r = db_fail_msg("store: cases to sync", "out of memory");
	return r;
}

enum store_result store_cases_to_sync(struct store *s, const char *tenant, store_case_fn fn, void *ctx)
{
	struct case_page *p = calloc(1, sizeof *p);
	if (!p)
		return db_fail_msg("store: cases to sync", "out of memory");
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

/* The tenant's case for an agency record: by the agency's case id, else by
 * invoice number (the live case first, else the newest). */
static enum store_result match_case(struct db_conn *w, const char *tenant, const char *agency_case_id,
				    const char *invoice_number, struct case_match *m)
{
	/* Both indexes named, as in the listing: without ANALYZE statistics
	 * SQLite would walk the tenant's primary key instead. "agency_case_id =
	 * ?" implies the partial index's IS NOT NULL. */
	/* PostgreSQL has no INDEXED BY, and needs none: its planner keeps
	 * statistics. The same queries otherwise. */
#define BY_CASE_ID " WHERE tenant = ?1 AND agency_case_id = ?2 ORDER BY seq DESC LIMIT 1"
#define BY_INVOICE                                   \
	" WHERE tenant = ?1 AND invoice_number = ?2" \
	" ORDER BY status NOT IN ('withdrawn', 'rejected') DESC, seq DESC LIMIT 1"
	static const char by_case_id_sqlite[] =
		"SELECT id, remaining FROM cases INDEXED BY cases_agency_case" BY_CASE_ID;
	static const char by_invoice_sqlite[] = "SELECT id, remaining FROM cases INDEXED BY cases_invoice" BY_INVOICE;
	static const char by_case_id_pg[] = "SELECT id, remaining FROM cases" BY_CASE_ID;
	static const char by_invoice_pg[] = "SELECT id, remaining FROM cases" BY_INVOICE;
#undef BY_CASE_ID
#undef BY_INVOICE
	bool pg = db_engine_of(w) == DB_PG;
	const char *by_case_id = pg ? by_case_id_pg : by_case_id_sqlite;
	const char *by_invoice = pg ? by_invoice_pg : by_invoice_sqlite;
	const struct db_col cols[] = {DB_COL_COPY(m->id), DB_COL_INT64(&m->remaining), DB_END_COL};
	enum store_result r = STORE_NOT_FOUND;
	if (agency_case_id && agency_case_id[0]) {
		const struct db_param params[] = {DB_TEXT(tenant), DB_TEXT(agency_case_id), DB_END};
		r = db_one(w, by_case_id, params, cols, "store: match case");
	}
	if (r != STORE_NOT_FOUND || !invoice_number || !invoice_number[0])
		return r;
	const struct db_param params[] = {DB_TEXT(tenant), DB_TEXT(invoice_number), DB_END};
	return db_one(w, by_invoice, params, cols, "store: match case");
}

/* Whether a "SELECT 1 ... WHERE tenant = ?1 AND <key> = ?2" finds a row. */
static enum store_result seen(struct db_conn *w, const char *sql, const char *tenant, const char *key, bool *yes)
{
	const struct db_param params[] = {DB_TEXT(tenant), DB_TEXT(key), DB_END};
	enum store_result r = db_one(w, sql, params, NULL, "store: seen");
	*yes = r == STORE_OK;
	return r == STORE_NOT_FOUND ? STORE_OK : r;
}

/* Begins the write transaction of an import of the agency's record key,
 * and tells whether it was applied before (*known): each is applied once.
 * End it with store_write_finish whatever this returns. */
static enum store_result begin_import(struct store *s, struct db_conn **w, const char *known_sql, const char *tenant,
				      const char *key, bool *known)
{
	enum store_result r = store_write_begin(s, w);
	return r == STORE_OK ? seen(*w, known_sql, tenant, key, known) : r;
}

/* ---- payments ---- */

static enum store_result sync_payment_once(struct store *s, const char *tenant, const struct agency_payment *p,
					   const char *now, bool *applied)
{
	static const char known_sql[] = "SELECT 1 FROM payments WHERE tenant = ?1 AND agency_payment_id = ?2";
	struct db_conn *w;
	struct case_match m;
	bool known = false;
	char id[STORE_ID_MAX];
	if (applied)
		*applied = false;
	if (p->amount <= 0)
		return STORE_LIMIT;
	if (!ids_new("pay_", id, sizeof id))
		return db_fail_msg("store: sync payment", "no random id");
	enum store_result r = begin_import(s, &w, known_sql, tenant, p->agency_payment_id, &known);
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
		.id = id, .tenant = tenant, .case_id = m.id, .kind = PAYMENT_PAYMENT,
		.amount = p->amount, .applied = count, .paid_on = p->paid_on, .source = "agency",
		.agency_payment_id = p->agency_payment_id, .created_at = now,
	};
	r = db_no_duplicate(rows_payment_insert(w, &row), "store: sync payment");
	if (r == STORE_OK && count > 0)
		r = rows_balance_add(w, m.id, count, 0, now);
	if (r == STORE_OK)
		r = rows_payment_event(w, &row, NULL);
out:
	r = store_write_finish(s, r); /* a repeat commits nothing */
	if (r == STORE_OK && applied)
		*applied = !known;
	return r;
}

enum store_result store_sync_payment(struct store *s, const char *tenant, const struct agency_payment *p,
				     const char *now, bool *applied)
{
	enum store_result r;
	STORE_WRITE_RETRYING(r, sync_payment_once(s, tenant, p, now, applied));
	return r;
}

/* ---- settlements ---- */

static enum store_result settlement_insert(struct db_conn *w, const char *tenant, const char *id,
					   const struct agency_settlement *in, const char *now)
{
	/* seq: max + 1 under the write lock, like a case's. */
	static const char sql[] =
		"INSERT INTO settlements (tenant, id, seq, agency_settlement_id, settlement_date,"
		" agency, remittance_reference, amount, currency, created_at)"
		" SELECT ?1, ?2, COALESCE(MAX(seq), 0) + 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9"
		" FROM settlements WHERE tenant = ?1";
	const struct db_param params[] = {
		DB_TEXT(tenant),     DB_TEXT(id),         DB_TEXT(in->agency_settlement_id),
		DB_TEXT(in->settlement_date), DB_TEXT(in->agency), DB_TEXT(in->remittance_reference),
		DB_INT(in->amount),  DB_TEXT(in->currency), DB_TEXT(now),
		DB_END,
	};
	return db_no_duplicate(db_exec(w, sql, params, "store: insert settlement"), "store: insert settlement");
}

static enum store_result allocation_insert(struct db_conn *w, const char *settlement_id, size_t pos,
					   const char *case_id, const struct agency_allocation *a)
{
	static const char sql[] =
		"INSERT INTO settlement_allocations (settlement_id, allocation_id, pos, case_id,"
		" invoice_number, amount, allocation_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	const struct db_param params[] = {
		DB_TEXT(settlement_id), DB_TEXT(a->allocation_id), DB_INT(pos), DB_TEXT(case_id),
		DB_TEXT(a->invoice_number ? a->invoice_number : ""), DB_INT(a->amount), DB_TEXT(a->allocation_date),
		DB_END,
	};
	return db_exec(w, sql, params, "store: insert allocation");
}

static enum store_result sync_settlement_once(struct store *s, const char *tenant, const struct agency_settlement *in,
					      const char *now, bool *created)
{
	static const char known_sql[] = "SELECT 1 FROM settlements WHERE tenant = ?1 AND agency_settlement_id = ?2";
	struct db_conn *w;
	bool known = false;
	char id[STORE_ID_MAX];
	if (created)
		*created = false;
	if (!ids_new("st_", id, sizeof id))
		return db_fail_msg("store: sync settlement", "no random id");
	enum store_result r = begin_import(s, &w, known_sql, tenant, in->agency_settlement_id, &known);
	if (r != STORE_OK || known)
		goto out;
	r = settlement_insert(w, tenant, id, in, now);
	/* The settlement.created event, written as the allocations are linked. */
	struct buf d = {0};
	jw_kstr(&d, true, "id", id);
	jw_kstr(&d, false, "agency_settlement_id", in->agency_settlement_id);
	jw_kstr(&d, false, "settlement_date", in->settlement_date);
	jw_kstr(&d, false, "agency", in->agency);
	jw_kstr(&d, false, "remittance_reference", in->remittance_reference);
	jw_kint(&d, false, "amount", in->amount);
	jw_kstr(&d, false, "currency", in->currency);
	jw_key(&d, false, "allocations");
	buf_putc(&d, '[');
	for (size_t i = 0; r == STORE_OK && i < in->nallocations; i++) {
		const struct agency_allocation *a = &in->allocations[i];
		struct case_match m;
		enum store_result found = match_case(w, tenant, a->agency_case_id, a->invoice_number, &m);
		const char *case_id = found == STORE_OK ? m.id : NULL;
		r = found == STORE_OK || found == STORE_NOT_FOUND ? allocation_insert(w, id, i, case_id, a) : found;
		if (i)
			buf_putc(&d, ',');
		buf_putc(&d, '{');
		jw_kstr(&d, true, "allocation_id", a->allocation_id);
		jw_kstr(&d, false, "case_id", case_id);
		jw_kstr(&d, false, "invoice_number", a->invoice_number);
		jw_kint(&d, false, "amount", a->amount);
		jw_kstr(&d, false, "allocation_date", a->allocation_date);
		buf_putc(&d, '}');
	}
	buf_putc(&d, ']');
	if (r == STORE_OK && d.oom)
		r = db_fail_msg("store: settlement event", "out of memory");
	if (r == STORE_OK) {
		const struct event_new e = {
			.type = EVENT_SETTLEMENT_CREATED, .tenant = tenant, .at = now, .subject = id,
			.data = buf_cstr(&d),
		};
		r = rows_event_emit(w, &e, NULL);
	}
	buf_free(&d);
out:
	/* STORE_DUPLICATE (a repeated allocation id) rolls everything back. */
	r = store_write_finish(s, r);
	if (r == STORE_OK && created)
		*created = !known;
	return r;
}

enum store_result store_sync_settlement(struct store *s, const char *tenant, const struct agency_settlement *in,
					const char *now, bool *created)
{
	enum store_result r;
	STORE_WRITE_RETRYING(r, sync_settlement_once(s, tenant, in, now, created));
	return r;
}

/* ---- agency events ---- */

static enum store_result agency_event_seen_once(struct store *s, const char *case_id, const char *event_id,
					      bool *is_new)
{
	static const char case_sql[] = "SELECT 1 FROM cases WHERE id = ?1";
	static const char sql[] = "INSERT INTO agency_events (case_id, event_id) VALUES (?1, ?2)"
				  " ON CONFLICT DO NOTHING";
	const struct db_param by_case[] = {DB_TEXT(case_id), DB_END};
	const struct db_param params[] = {DB_TEXT(case_id), DB_TEXT(event_id), DB_END};
	struct db_conn *w;
	*is_new = false;
	enum store_result r = store_write_begin(s, &w);
	/* The foreign key would refuse an unknown case too; asking first says
	 * so without an error in the log. */
	if (r == STORE_OK)
		r = db_one(w, case_sql, by_case, NULL, "store: agency event");
	if (r == STORE_OK)
		r = db_exec(w, sql, params, "store: agency event");
	bool fresh = r == STORE_OK && db_changes(w) == 1;
	r = store_write_finish(s, r);
	if (r == STORE_OK)
		*is_new = fresh;
	return r;
}

enum store_result store_agency_event_seen(struct store *s, const char *case_id, const char *event_id, bool *is_new)
{
	enum store_result r;
	STORE_WRITE_RETRYING(r, agency_event_seen_once(s, case_id, event_id, is_new));
	return r;
}

/* ---- turns ---- */

enum store_result store_sync_round_claim(struct store *s, const char *tenant, int64_t now_ms, int64_t every_ms,
					 int64_t lease_ms, int64_t *turn)
{
	/* One statement: the row is made, or taken when free and due; the
	 * upsert's WHERE refuses it otherwise, and nothing is returned. The
	 * lease's end is the turn's token: a later claim can only be made
	 * after it, so it sets a greater one. */
	static const char sql[] =
		"INSERT INTO sync_rounds (tenant, lease_until, ended_at) VALUES (?1, ?4, 0)"
		" ON CONFLICT (tenant) DO UPDATE SET lease_until = ?4"
		" WHERE sync_rounds.lease_until <= ?2 AND sync_rounds.ended_at + ?3 <= ?2 RETURNING tenant";
	char got[65];
	const struct db_param params[] = {
		DB_TEXT(tenant), DB_INT(now_ms), DB_INT(every_ms), DB_INT(now_ms + lease_ms), DB_END,
	};
	const struct db_col cols[] = {DB_COL_COPY(got), DB_END_COL};
	struct db_conn *w;
	enum store_result r = store_write_begin(s, &w);
	if (r == STORE_OK)
		r = db_one(w, sql, params, cols, "store: sync turn");
	r = store_write_finish(s, r);
	*turn = r == STORE_OK ? now_ms + lease_ms : 0;
	return r == STORE_NOT_FOUND ? STORE_STATE : r;
}

enum store_result store_sync_round_end(struct store *s, const char *tenant, int64_t turn, int64_t now_ms)
{
	static const char sql[] = "UPDATE sync_rounds SET lease_until = 0, ended_at = ?2"
				  " WHERE tenant = ?1 AND lease_until = ?3";
	const struct db_param params[] = {DB_TEXT(tenant), DB_INT(now_ms), DB_INT(turn), DB_END};
	struct db_conn *w;
	enum store_result r = store_write_begin(s, &w);
	if (r == STORE_OK)
		r = db_exec(w, sql, params, "store: sync turn");
	if (r == STORE_OK && db_changes(w) != 1)
		r = STORE_STATE;
	return store_write_finish(s, r);
}

enum store_result store_sync_rounds_release(struct store *s)
{
	static const char sql[] = "UPDATE sync_rounds SET lease_until = 0 WHERE lease_until > 0";
	if (s->shared)
		return STORE_OK;
	struct db_conn *w;
	enum store_result r = store_write_begin(s, &w);
	if (r == STORE_OK)
		r = db_exec(w, sql, NULL, "store: sync turn");
	return store_write_finish(s, r);
}
