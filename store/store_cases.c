/* SPDX-License-Identifier: MIT */
/* Collection cases: create (with its event, outbox row and idempotency
 * record in one transaction), get with events, status changes with their
 * events, and the keyset listing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

void store_case_row_read(sqlite3_stmt *st, struct case_row *r)
{
	r->id = store_col_text(st, 0);
	r->tenant = store_col_text(st, 1);
	r->seq = sqlite3_column_int64(st, 2);
	r->status = store_col_text(st, 3);
	r->stage = store_col_text(st, 4);
	r->agency_status = store_col_text(st, 5);
	r->service = store_col_text(st, 6);
	r->debtor_type = store_col_text(st, 7);
	r->your_reference = store_col_text(st, 8);
	r->agency_case_id = store_col_text(st, 9);
	r->invoice_number = store_col_text(st, 10);
	r->invoice_json = store_col_text(st, 11);
	r->debtor_json = store_col_text(st, 12);
	r->currency = store_col_text(st, 13);
	r->original = sqlite3_column_int64(st, 14);
	r->paid = sqlite3_column_int64(st, 15);
	r->credited = sqlite3_column_int64(st, 16);
	r->remaining = sqlite3_column_int64(st, 17);
	r->interest = sqlite3_column_int64(st, 18);
	r->costs = sqlite3_column_int64(st, 19);
	r->created_at = store_col_text(st, 20);
	r->updated_at = store_col_text(st, 21);
	r->submitted_at = store_col_text(st, 22);
	r->closed_at = store_col_text(st, 23);
}

/* ---- create ---- */

/* The live case of (tenant, invoice number), its id copied into id. */
static enum store_result live_case(struct store_conn *w, const char *tenant,
				   const char *invoice_number, char *id, size_t idlen)
{
	/* The WHERE repeats the partial index cases_live_invoice word for word
	 * so that SQLite can use it. */
	static const char sql[] = "SELECT id FROM cases WHERE tenant = ?1 AND invoice_number = ?2"
				  " AND status NOT IN ('withdrawn', 'rejected')";
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(w, STMT_CASE_LIVE, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, tenant, &rc);
	store_bind_text(st, 2, invoice_number, &rc);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(id, idlen, "%s", store_col_text(st, 0));
		r = STORE_OK;
	} else {
		r = rc == SQLITE_DONE ? STORE_NOT_FOUND : store_fail(w->db, rc, "store: live case");
	}
	store_release(st);
	return r;
}

static enum store_result next_seq(struct store_conn *w, const char *tenant, int64_t *seq)
{
	/* max() over the primary-key prefix is one b-tree seek. It is safe
	 * because the caller holds the write transaction. */
	static const char sql[] = "SELECT COALESCE(MAX(seq), 0) + 1 FROM cases WHERE tenant = ?1";
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(w, STMT_CASE_NEXT_SEQ, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, tenant, &rc);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*seq = sqlite3_column_int64(st, 0);
	else
		r = store_fail(w->db, rc, "store: next seq");
	store_release(st);
	return r;
}

enum store_result store_step_done(struct store_conn *c, sqlite3_stmt *st, int rc, const char *what)
{
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	enum store_result r = STORE_OK;
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		r = STORE_DUPLICATE;
	else if (rc != SQLITE_DONE)
		r = store_fail(c->db, rc, what);
	store_release(st);
	return r;
}

static enum store_result insert_case(struct store_conn *w, const struct case_new *in,
				     const char *status, int64_t seq)
{
	static const char sql[] =
		"INSERT INTO cases (tenant, seq, id, status, stage, agency_status, service, debtor_type,"
		" your_reference, agency_case_id, invoice_number, invoice_json, debtor_json,"
		" debtor_name, business_name, org_number, date_of_birth, national_id,"
		" national_id_hash, currency, original, paid, credited, remaining, interest, costs,"
		" created_at, updated_at, submitted_at, closed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
		" ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23,"
		" ?24, ?25, ?26, ?27, ?28, ?29, ?30)";
	const struct case_row *c = &in->c;
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(w, STMT_CASE_INSERT, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, c->tenant, &rc);
	store_bind_int64(st, 2, seq, &rc);
	store_bind_text(st, 3, c->id, &rc);
	store_bind_text(st, 4, status, &rc);
	store_bind_text(st, 5, c->stage, &rc);
	store_bind_text(st, 6, c->agency_status, &rc);
	store_bind_text(st, 7, c->service, &rc);
	store_bind_text(st, 8, c->debtor_type, &rc);
	store_bind_text(st, 9, c->your_reference, &rc);
	store_bind_text(st, 10, c->agency_case_id, &rc);
	store_bind_text(st, 11, c->invoice_number, &rc);
	store_bind_text(st, 12, c->invoice_json, &rc);
	store_bind_text(st, 13, c->debtor_json, &rc);
	store_bind_text(st, 14, in->debtor_name, &rc);
	store_bind_text(st, 15, in->business_name, &rc);
	store_bind_text(st, 16, in->org_number, &rc);
	store_bind_text(st, 17, in->date_of_birth, &rc);
	store_bind_text(st, 18, in->national_id, &rc);
	store_bind_text(st, 19, in->national_id_hash, &rc);
	store_bind_text(st, 20, c->currency, &rc);
	store_bind_int64(st, 21, c->original, &rc);
	store_bind_int64(st, 22, c->paid, &rc);
	store_bind_int64(st, 23, c->credited, &rc);
	store_bind_int64(st, 24, c->remaining, &rc);
	store_bind_int64(st, 25, c->interest, &rc);
	store_bind_int64(st, 26, c->costs, &rc);
	store_bind_text(st, 27, c->created_at, &rc);
	store_bind_text(st, 28, c->updated_at ? c->updated_at : c->created_at, &rc);
	store_bind_text(st, 29, c->submitted_at, &rc);
	store_bind_text(st, 30, c->closed_at, &rc);
	return store_step_done(w, st, rc, "store: insert case");
}

static enum store_result insert_first_event(struct store_conn *w, const struct case_new *in,
					    const char *status)
{
	static const char sql[] = "INSERT INTO case_events (case_id, seq, at, from_status, to_status,"
				  " source, detail) VALUES (?1, 1, ?2, NULL, ?3, 'api', NULL)";
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(w, STMT_EVENT_INSERT, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, in->c.id, &rc);
	store_bind_text(st, 2, in->c.created_at, &rc);
	store_bind_text(st, 3, status, &rc);
	return store_step_done(w, st, rc, "store: insert event");
}

static enum store_result insert_outbox(struct store_conn *w, const struct case_new *in)
{
	static const char sql[] = "INSERT INTO outbox (tenant, case_id, kind, ref_id, state, attempts,"
				  " next_attempt_at, created_at, updated_at)"
				  " VALUES (?1, ?2, 'create', NULL, 'pending', 0, 0, ?3, ?3)";
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(w, STMT_OUTBOX_INSERT, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, in->c.tenant, &rc);
	store_bind_text(st, 2, in->c.id, &rc);
	store_bind_text(st, 3, in->c.created_at, &rc);
	return store_step_done(w, st, rc, "store: insert outbox");
}

static enum store_result insert_idempotency(struct store_conn *w, const struct case_new *in)
{
	static const char sql[] = "INSERT INTO idempotency (tenant, key, fingerprint, status, body,"
				  " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(w, STMT_IDEM_INSERT, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, in->c.tenant, &rc);
	store_bind_text(st, 2, in->idem_key, &rc);
	store_bind_text(st, 3, in->idem_fingerprint, &rc);
	store_bind_int64(st, 4, in->idem_status, &rc);
	/* The body is replayed byte for byte, so it is a BLOB of exact length;
	 * "" with length 0 binds an empty blob where NULL would bind SQL NULL. */
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob64(st, 5, in->idem_body ? in->idem_body : "", in->idem_body_len,
					 SQLITE_STATIC);
	store_bind_text(st, 6, in->c.created_at, &rc);
	return store_step_done(w, st, rc, "store: insert idempotency");
}

/* The inserts of a new case, inside the caller's write transaction. */
static enum store_result insert_all(struct store_conn *w, const struct case_new *in,
				    struct case_create_result *out)
{
	const char *status = in->c.status ? in->c.status : "pending";
	enum store_result r = next_seq(w, in->c.tenant, &out->seq);
	if (r != STORE_OK)
		return r;
	r = insert_case(w, in, status, out->seq);
	if (r == STORE_DUPLICATE) {
		/* A safety net: the check before ran in this same transaction, so
		 * cases_live_invoice can only refuse a case the check missed. Any
		 * other unique clash (cases_id) is a fault. */
		char why[128];
		snprintf(why, sizeof why, "%s", sqlite3_errmsg(w->db));
		r = live_case(w, in->c.tenant, in->c.invoice_number, out->case_id, sizeof out->case_id);
		if (r == STORE_OK)
			return STORE_DUPLICATE;
		return r < 0 ? r : store_fail_msg("store: insert case", why);
	}
	if (r == STORE_OK)
		r = insert_first_event(w, in, status);
	if (r == STORE_OK)
		r = insert_outbox(w, in);
	if (r == STORE_OK && in->idem_key)
		r = insert_idempotency(w, in);
	/* The other rows' keys derive from the new case's id or from the
	 * idempotency key checked above: a clash there is a fault. */
	if (r == STORE_DUPLICATE)
		r = store_fail_msg("store: insert case rows", "UNIQUE constraint failed");
	return r;
}

enum store_result store_case_create_in_tx(struct store_conn *w, const struct case_new *in,
					  struct case_create_result *out)
{
	memset(out, 0, sizeof *out);
	/* Both checks run again inside the transaction: the caller's earlier
	 * look-ups may be stale by now, and an earlier create of the same
	 * group commit may have taken the key or the invoice number. */
	if (in->idem_key) {
		enum store_result r = store_idem_lookup(w, in->c.tenant, in->idem_key, in->idem_fingerprint, out);
		if (r != STORE_NOT_FOUND)
			return r;
	}
	enum store_result r = live_case(w, in->c.tenant, in->c.invoice_number, out->case_id, sizeof out->case_id);
	if (r != STORE_NOT_FOUND)
		return r == STORE_OK ? STORE_DUPLICATE : r;
	r = insert_all(w, in, out);
	if (r != STORE_OK)
		out->seq = 0;
	return r;
}

/* ---- get ---- */

enum store_result store_case_read(struct store_conn *c, const char *tenant, const char *id,
				  store_case_fn case_fn, void *ctx, bool *stop)
{
	static const char sql[] = "SELECT " CASE_COLUMNS " FROM cases WHERE id = ?1 AND tenant = ?2";
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(c, STMT_CASE_GET, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, id, &rc);
	store_bind_text(st, 2, tenant, &rc);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		struct case_row row;
		store_case_row_read(st, &row);
		*stop = case_fn(ctx, &row) != 0;
	} else {
		r = rc == SQLITE_DONE ? STORE_NOT_FOUND : store_fail(c->db, rc, "store: get case");
	}
	store_release(st);
	return r;
}

enum store_result store_events_read(struct store_conn *c, const char *id, store_event_fn event_fn,
				    void *ctx, bool *stop)
{
	static const char sql[] = "SELECT seq, at, from_status, to_status, source, detail"
				  " FROM case_events WHERE case_id = ?1 ORDER BY seq";
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(c, STMT_EVENTS_GET, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, id, &rc);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct case_event_row e = {
			.seq = sqlite3_column_int64(st, 0),
			.at = store_col_text(st, 1),
			.from = store_col_text(st, 2),
			.to = store_col_text(st, 3),
			.source = store_col_text(st, 4),
			.detail = store_col_text(st, 5),
		};
		if (event_fn(ctx, &e) != 0) {
			*stop = true;
			rc = SQLITE_DONE;
			break;
		}
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE)
		r = store_fail(c->db, rc, "store: get events");
	store_release(st);
	return r;
}

enum store_result store_case_get(struct store *s, const char *tenant, const char *id,
				  store_case_fn case_fn, store_event_fn event_fn, void *ctx)
{
	struct store_conn *c = store_reader_get(s);
	bool stop = false;
	/* One read transaction: the case and its events come from the same
	 * snapshot (in WAL mode a reader's snapshot is fixed at its first read). */
	enum store_result r = store_run(c, STMT_BEGIN, "BEGIN", "store: begin read");
	if (r != STORE_OK)
		goto out;
	r = store_case_read(c, tenant, id, case_fn, ctx, &stop);
	if (r == STORE_OK && !stop && event_fn)
		r = store_events_read(c, id, event_fn, ctx, &stop);
	if (r >= 0) {
		enum store_result end = store_run(c, STMT_COMMIT, "COMMIT", "store: end read");
		if (end < 0)
			r = end;
	}
out:
	store_reader_put(s, c); /* rolls back a read left open by an error */
	return r;
}

/* ---- status changes (shared by store_after.c and store_outbox.c) ---- */

enum store_result store_event_add(struct store_conn *w, const char *case_id, const char *at,
				  const char *from, const char *to, const char *source,
				  const char *detail)
{
	/* The writer holds the transaction, so max(seq) + 1 cannot race. */
	static const char sql[] =
		"INSERT INTO case_events (case_id, seq, at, from_status, to_status, source, detail)"
		" SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4, ?5, ?6 FROM case_events"
		" WHERE case_id = ?1";
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(w, STMT_EVENT_ADD, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, case_id, &rc);
	store_bind_text(st, 2, at, &rc);
	store_bind_text(st, 3, from, &rc);
	store_bind_text(st, 4, to, &rc);
	store_bind_text(st, 5, source, &rc);
	store_bind_text(st, 6, detail, &rc);
	r = store_step_done(w, st, rc, "store: add event");
	return r == STORE_DUPLICATE ? store_fail_msg("store: add event", "event seq taken") : r;
}

enum store_result store_case_set_status(struct store_conn *w, const char *case_id,
					const char *status, const char *at)
{
	/* submitted_at keeps the first acceptance; closed_at follows the
	 * status both ways, so a case the agency reopens is open again. */
	static const char sql[] =
		"UPDATE cases SET status = ?2, updated_at = ?3,"
		" submitted_at = CASE WHEN ?2 = 'submitted' THEN COALESCE(submitted_at, ?3)"
		"   ELSE submitted_at END,"
		" closed_at = CASE WHEN ?2 IN ('paid', 'withdrawn', 'closed', 'rejected')"
		"   THEN ?3 ELSE NULL END"
		" WHERE id = ?1";
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(w, STMT_CASE_SET_STATUS, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, case_id, &rc);
	store_bind_text(st, 2, status, &rc);
	store_bind_text(st, 3, at, &rc);
	r = store_step_done(w, st, rc, "store: set status");
	/* Leaving withdrawn/rejected for a live status can clash with
	 * cases_live_invoice; no caller does that, so it is a fault. */
	return r == STORE_DUPLICATE ? store_fail_msg("store: set status", "UNIQUE constraint failed") : r;
}

/* Runs one of the two cancel statements for case_id at `at`. */
static enum store_result cancel_rows(struct store_conn *w, enum store_stmt id, const char *sql,
				     const char *case_id, const char *at)
{
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(w, id, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, case_id, &rc);
	store_bind_text(st, 2, at, &rc);
	return store_step_done(w, st, rc, "store: cancel queue");
}

enum store_result store_case_cancel_queue(struct store_conn *w, const char *case_id,
					  const char *at)
{
	/* A sending row is left alone: its outcome belongs to the forwarder,
	 * which reports it with store_outbox_done/_retry/_fail. */
	enum store_result r = cancel_rows(w, STMT_OUTBOX_CANCEL_CASE,
					  "UPDATE outbox SET state = 'cancelled', updated_at = ?2"
					  " WHERE case_id = ?1 AND state IN ('pending', 'failed')",
					  case_id, at);
	if (r == STORE_OK)
		r = cancel_rows(w, STMT_ACTIONS_CANCEL_CASE,
				"UPDATE actions SET state = 'cancelled', updated_at = ?2"
				" WHERE case_id = ?1 AND state IN ('pending', 'failed')",
				case_id, at);
	return r;
}

/* ---- list ---- */

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
 * ?10 limit + 1. Numbers an absent filter leaves unused are simply unbound. */
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
	if (shape & SHAPE_INVOICE)
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
	/* LIKE is case-insensitive for ASCII letters only (SQLite without ICU). */
	if (shape & SHAPE_Q)
		sql_add(sql, cap, &n,
			" AND (debtor_name LIKE ?3 ESCAPE '\\' OR business_name LIKE ?3 ESCAPE '\\'"
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

/* The connection's statement for shape, from its small cache or prepared
 * now (replacing the oldest entry). */
static enum store_result list_stmt(struct store_conn *c, uint32_t shape, sqlite3_stmt **st)
{
	for (int i = 0; i < STORE_LIST_CACHE; i++) {
		if (c->list[i].st && c->list[i].shape == shape) {
			*st = c->list[i].st;
			return STORE_OK;
		}
	}
	char sql[2048];
	if (list_sql(shape, sql, sizeof sql) < 0)
		return store_fail_msg("store: list", "query longer than its buffer");
	unsigned slot = c->list_next++ % STORE_LIST_CACHE;
	sqlite3_finalize(c->list[slot].st);
	c->list[slot].st = NULL;
	int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->list[slot].st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(c->db, rc, "store: prepare list");
	c->list[slot].shape = shape;
	*st = c->list[slot].st;
	return STORE_OK;
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

static void list_bind(sqlite3_stmt *st, const struct case_filter *f, const char *pattern, int limit,
		      int *rc)
{
	store_bind_text(st, 1, f->tenant, rc);
	if (f->before_seq > 0)
		store_bind_int64(st, 2, f->before_seq, rc);
	store_bind_text(st, 3, pattern, rc);
	store_bind_text(st, 4, f->invoice_number, rc);
	store_bind_text(st, 5, f->debtor_type, rc);
	store_bind_text(st, 6, f->date_of_birth, rc);
	store_bind_text(st, 7, f->national_id_hash, rc);
	store_bind_text(st, 8, f->created_from, rc);
	store_bind_text(st, 9, f->created_to, rc);
	store_bind_int64(st, 10, (int64_t)limit + 1, rc); /* one more row tells has_more */
}

enum store_result store_case_list(struct store *s, const struct case_filter *f, store_case_fn fn,
				  void *ctx, bool *has_more)
{
	*has_more = false;
	/* Only unknown status bits: no status can match. */
	if (f->status_mask && !(f->status_mask & STATUS_ALL))
		return STORE_OK;
	int limit = f->limit < 1 ? 1 : f->limit > 200 ? 200 : f->limit;
	char *pattern = NULL;
	if (f->q && f->q[0] && !(pattern = like_pattern(f->q)))
		return store_fail_msg("store: list", "out of memory");
	struct store_conn *c = store_reader_get(s);
	sqlite3_stmt *st = NULL;
	enum store_result r = list_stmt(c, list_shape(f), &st);
	if (r != STORE_OK)
		goto out;
	int rc = SQLITE_OK;
	list_bind(st, f, pattern, limit, &rc);
	for (int n = 0; rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW; n++) {
		if (n == limit) {
			*has_more = true;
			break;
		}
		struct case_row row;
		store_case_row_read(st, &row);
		if (fn(ctx, &row) != 0)
			break;
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = store_fail(c->db, rc, "store: list");
out:
	store_release(st);
	store_reader_put(s, c);
	free(pattern);
	return r;
}
