/* SPDX-License-Identifier: MIT */
/* What the forwarder needs: the outbox (claim in per-case order, done,
 * retry, fail, the requeue after a crash), status changes with their events,
 * and the case as the agency mapping reads it. */
#include <stdio.h>
#include <string.h>

#include "store/store_internal.h"

/* The outbox's own timestamps come from SQLite's clock: they are for support
 * only; what orders the work is next_attempt_at, on the caller's clock. */
#define SQL_NOW "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
/* An agency message can be long; the row keeps enough to tell why. */
#define LAST_ERROR_MAX "500"

/* ---- the outbox ---- */

enum store_result store_outbox_claim(struct store *s, int64_t now_ms, struct outbox_item *out)
{
	/* The inner SELECT walks outbox_due (state, next_attempt_at, id) in
	 * order and stops at the first row not blocked; a blocked row costs one
	 * probe of outbox_case (case_id, id). A failed create blocks the case
	 * (the agency has no case for what follows) until a retry; a failed
	 * action or payment does not hold the later ones back for ever: its
	 * own state tells it failed. One statement under the write lock: two
	 * forwarder threads can never claim the same row. */
	static const char sql[] =
		"UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at = " SQL_NOW
		" WHERE id = (SELECT o.id FROM outbox o WHERE o.state = 'pending'"
		"   AND o.next_attempt_at <= ?1 AND NOT EXISTS (SELECT 1 FROM outbox p"
		"     WHERE p.case_id = o.case_id AND p.id < o.id"
		"     AND (p.state IN ('pending', 'sending')"
		"       OR (p.state = 'failed' AND p.kind = 'create')))"
		"   ORDER BY o.next_attempt_at, o.id LIMIT 1)"
		" RETURNING id, tenant, case_id, kind, ref_id, attempts, lookup_first";
	struct store_conn *w;
	sqlite3_stmt *st = NULL;
	memset(out, 0, sizeof *out);
	enum store_result r = store_write_begin(s, &w);
	if (r != STORE_OK || (r = store_prepare(w, STMT_OUTBOX_CLAIM, sql, &st)) != STORE_OK)
		goto out;
	int rc = SQLITE_OK;
	store_bind_int64(st, 1, now_ms, &rc);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = STORE_NOT_FOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = store_fail(w->db, rc, "store: outbox claim");
		goto out;
	}
	out->id = sqlite3_column_int64(st, 0);
	out->attempts = sqlite3_column_int(st, 5);
	out->lookup_first = sqlite3_column_int(st, 6) != 0;
	if (!store_copy_col(st, 1, out->tenant, sizeof out->tenant) ||
	    !store_copy_col(st, 2, out->case_id, sizeof out->case_id) ||
	    !store_copy_col(st, 3, out->kind, sizeof out->kind) ||
	    !store_copy_col(st, 4, out->ref_id, sizeof out->ref_id)) {
		r = store_fail_msg("store: outbox claim", "stored value longer than its field");
		goto out;
	}
	/* A RETURNING statement must be reset before COMMIT can succeed. */
	store_release(st);
	st = NULL;
	r = store_write_commit(w);
out:
	store_release(st);
	store_write_end(s);
	if (r != STORE_OK)
		memset(out, 0, sizeof *out);
	return r;
}

enum store_result store_outbox_requeue_sending(struct store *s, int64_t *requeued)
{
	static const char sql[] = "UPDATE outbox SET state = 'pending', lookup_first = 1,"
				  " next_attempt_at = 0, updated_at = " SQL_NOW
				  " WHERE state = 'sending'";
	struct store_conn *w;
	sqlite3_stmt *st = NULL;
	int64_t n = 0;
	enum store_result r = store_write_begin(s, &w);
	if (r != STORE_OK || (r = store_prepare(w, STMT_OUTBOX_REQUEUE, sql, &st)) != STORE_OK)
		goto out;
	r = store_step_done(w, st, SQLITE_OK, "store: outbox requeue");
	st = NULL; /* released by store_step_done */
	if (r == STORE_OK) {
		n = sqlite3_changes64(w->db);
		r = store_write_commit(w);
	}
out:
	store_release(st);
	store_write_end(s);
	if (requeued)
		*requeued = r == STORE_OK ? n : 0;
	return r;
}

/* Steps a "... WHERE id = ?1 AND state = 'sending' RETURNING kind, ref_id"
 * statement; when it changed an action's row, sets that action's state. */
static enum store_result finish_row(struct store_conn *w, sqlite3_stmt *st, int rc,
				    const char *action_state, const char *what)
{
	char kind[8] = "", ref_id[STORE_ID_MAX] = "";
	enum store_result r = STORE_OK;
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (!store_copy_col(st, 0, kind, sizeof kind) ||
		    !store_copy_col(st, 1, ref_id, sizeof ref_id))
			r = store_fail_msg(what, "stored value longer than its field");
	} else {
		r = rc == SQLITE_DONE ? STORE_STATE : store_fail(w->db, rc, what);
	}
	store_release(st);
	if (r != STORE_OK || strcmp(kind, "action") != 0 || !action_state)
		return r;
	static const char sql[] =
		"UPDATE actions SET state = ?2, updated_at = " SQL_NOW " WHERE id = ?1";
	r = store_prepare(w, STMT_ACTION_SET_STATE, sql, &st);
	if (r != STORE_OK)
		return r;
	rc = SQLITE_OK;
	store_bind_text(st, 1, ref_id, &rc);
	store_bind_text(st, 2, action_state, &rc);
	return store_step_done(w, st, rc, what);
}

/* Runs a finishing statement on sending row id in its own transaction. Its
 * parameters: ?1 id and, when it has them, ?2 next_at, ?3 lookup_first,
 * ?4 last_error. */
static enum store_result outbox_finish(struct store *s, enum store_stmt sid, const char *sql,
				       int64_t id, int64_t next_at, bool lookup_first,
				       const char *last_error, const char *action_state,
				       const char *what)
{
	struct store_conn *w;
	sqlite3_stmt *st = NULL;
	enum store_result r = store_write_begin(s, &w);
	if (r != STORE_OK || (r = store_prepare(w, sid, sql, &st)) != STORE_OK)
		goto out;
	int rc = SQLITE_OK;
	store_bind_int64(st, 1, id, &rc);
	if (sqlite3_bind_parameter_count(st) >= 4) {
		store_bind_int64(st, 2, next_at, &rc);
		store_bind_int64(st, 3, lookup_first ? 1 : 0, &rc);
		store_bind_text(st, 4, last_error, &rc);
	}
	r = finish_row(w, st, rc, action_state, what);
	if (r == STORE_OK)
		r = store_write_commit(w);
out:
	store_write_end(s);
	return r;
}

/* The two ends of a sending row, shared with store_case_transition_ending. */
static const char outbox_done_sql[] = "UPDATE outbox SET state = 'done', updated_at = " SQL_NOW
				      " WHERE id = ?1 AND state = 'sending' RETURNING kind, ref_id";
/* No ?2: the numbers stay those of the retry, so one binder serves both. */
static const char outbox_fail_sql[] =
	"UPDATE outbox SET state = 'failed', lookup_first = ?3,"
	" last_error = substr(?4, 1, " LAST_ERROR_MAX "), updated_at = " SQL_NOW
	" WHERE id = ?1 AND state = 'sending' RETURNING kind, ref_id";

enum store_result store_outbox_done(struct store *s, int64_t id)
{
	return outbox_finish(s, STMT_OUTBOX_DONE, outbox_done_sql, id, 0, false, NULL, "sent",
			     "store: outbox done");
}

enum store_result store_outbox_retry(struct store *s, int64_t id, int64_t next_at_ms,
				     bool lookup_first, const char *last_error)
{
	static const char sql[] =
		"UPDATE outbox SET state = 'pending', next_attempt_at = ?2, lookup_first = ?3,"
		" last_error = substr(?4, 1, " LAST_ERROR_MAX "), updated_at = " SQL_NOW
		" WHERE id = ?1 AND state = 'sending' RETURNING kind, ref_id";
	return outbox_finish(s, STMT_OUTBOX_RETRY, sql, id, next_at_ms < 0 ? 0 : next_at_ms,
			     lookup_first, last_error, NULL, "store: outbox retry");
}

enum store_result store_outbox_fail(struct store *s, int64_t id, bool lookup_first,
				    const char *last_error)
{
	return outbox_finish(s, STMT_OUTBOX_FAIL, outbox_fail_sql, id, 0, lookup_first, last_error, "failed",
			     "store: outbox fail");
}

/* ---- status changes ---- */

/* True when v (NULL: unchanged) differs from the stored text column i. */
static bool differs(const char *v, sqlite3_stmt *st, int i)
{
	const char *stored = store_col_text(st, i);
	return v && (!stored || strcmp(v, stored) != 0);
}

/* Reads the case's status into status and whether f would change its row
 * into *change, comparing against the live row (no copies, no length limit). */
static enum store_result agency_state_read(struct store_conn *w, const char *tenant,
					   const char *case_id, const struct case_agency_fields *f,
					   char status[STORE_NAME_MAX], bool *change)
{
	static const char sql[] = "SELECT status, agency_case_id, stage, agency_status, interest,"
				  " costs FROM cases WHERE id = ?1 AND tenant = ?2";
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(w, STMT_CASE_AGENCY_STATE, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, case_id, &rc);
	store_bind_text(st, 2, tenant, &rc);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*change = f && (differs(f->agency_case_id, st, 1) || differs(f->stage, st, 2) ||
				differs(f->agency_status, st, 3) ||
				(f->has_charges && (f->interest != sqlite3_column_int64(st, 4) ||
						    f->costs != sqlite3_column_int64(st, 5))));
		if (!store_copy_col(st, 0, status, STORE_NAME_MAX))
			r = store_fail_msg("store: transition", "status longer than its field");
	} else {
		r = rc == SQLITE_DONE ? STORE_NOT_FOUND : store_fail(w->db, rc, "store: transition");
	}
	store_release(st);
	return r;
}

static enum store_result fields_update(struct store_conn *w, const char *case_id,
				       const struct case_agency_fields *f, const char *now)
{
	/* NULL binds keep the stored value: COALESCE(NULL, x) is x. */
	static const char sql[] =
		"UPDATE cases SET agency_case_id = COALESCE(?2, agency_case_id),"
		" stage = COALESCE(?3, stage), agency_status = COALESCE(?4, agency_status),"
		" interest = CASE WHEN ?5 THEN ?6 ELSE interest END,"
		" costs = CASE WHEN ?5 THEN ?7 ELSE costs END, updated_at = ?8 WHERE id = ?1";
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(w, STMT_CASE_AGENCY_UPDATE, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, case_id, &rc);
	store_bind_text(st, 2, f->agency_case_id, &rc);
	store_bind_text(st, 3, f->stage, &rc);
	store_bind_text(st, 4, f->agency_status, &rc);
	store_bind_int64(st, 5, f->has_charges, &rc);
	store_bind_int64(st, 6, f->interest, &rc);
	store_bind_int64(st, 7, f->costs, &rc);
	store_bind_text(st, 8, now, &rc);
	r = store_step_done(w, st, rc, "store: transition fields");
	return r == STORE_DUPLICATE ? store_fail_msg("store: transition", "UNIQUE constraint failed") : r;
}

/* The transition inside the writer's transaction; *wrote: whether it wrote. */
static enum store_result transition_in_tx(struct store_conn *w, const char *tenant, const char *case_id,
					  unsigned from_mask, const char *to, const char *source,
					  const char *detail, const char *now,
					  const struct case_agency_fields *f, bool *wrote)
{
	char status[STORE_NAME_MAX];
	bool update = false;
	*wrote = false;
	enum store_result r = agency_state_read(w, tenant, case_id, f, status, &update);
	if (r != STORE_OK)
		return r;
	if (!store_status_in(status, from_mask))
		return STORE_STATE;
	bool move = to && strcmp(to, status) != 0;
	if (!move && !update)
		return STORE_OK; /* nothing to write */
	*wrote = true;
	if (update)
		r = fields_update(w, case_id, f, now);
	if (r == STORE_OK && move)
		r = store_case_set_status(w, case_id, to, now);
	if (r == STORE_OK && move)
		r = store_event_add(w, case_id, now, status, to, source, detail);
	if (r == STORE_OK && move && strcmp(to, "rejected") == 0)
		r = store_case_cancel_queue(w, case_id, now);
	return r;
}

enum store_result store_case_transition(struct store *s, const char *tenant, const char *case_id,
					unsigned from_mask, const char *to, const char *source,
					const char *detail, const char *now,
					const struct case_agency_fields *f)
{
	if (to && case_status_parse(to) < 0)
		return store_fail_msg("store: transition", "unknown status");
	struct store_conn *w;
	bool wrote = false;
	enum store_result r = store_write_begin(s, &w);
	if (r == STORE_OK)
		r = transition_in_tx(w, tenant, case_id, from_mask, to, source, detail, now, f, &wrote);
	if (r == STORE_OK && wrote)
		r = store_write_commit(w);
	store_write_end(s); /* nothing written: the rollback ends the transaction */
	return r;
}

enum store_result store_case_transition_ending(struct store *s, const char *tenant, const char *case_id,
					       unsigned from_mask, const char *to, const char *source,
					       const char *detail, const char *now,
					       const struct outbox_end *row)
{
	if (to && case_status_parse(to) < 0)
		return store_fail_msg("store: transition", "unknown status");
	struct store_conn *w;
	sqlite3_stmt *st = NULL;
	bool wrote = false;
	enum store_result moved = STORE_OK;
	enum store_result r = store_write_begin(s, &w);
	if (r != STORE_OK)
		goto out;
	moved = transition_in_tx(w, tenant, case_id, from_mask, to, source, detail, now, NULL, &wrote);
	if (moved < 0) {
		r = moved;
		goto out;
	}
	r = row->failed ? store_prepare(w, STMT_OUTBOX_FAIL, outbox_fail_sql, &st)
			: store_prepare(w, STMT_OUTBOX_DONE, outbox_done_sql, &st);
	if (r != STORE_OK)
		goto out;
	int rc = SQLITE_OK;
	store_bind_int64(st, 1, row->id, &rc);
	if (row->failed) {
		store_bind_int64(st, 3, row->lookup_first ? 1 : 0, &rc);
		store_bind_text(st, 4, row->last_error, &rc);
	}
	r = finish_row(w, st, rc, row->failed ? "failed" : "sent", "store: outbox end");
	if (r == STORE_OK)
		r = store_write_commit(w);
out:
	store_write_end(s);
	return r == STORE_OK ? moved : r;
}

/* ---- the case for the agency mapping ---- */

enum store_result store_case_for_agency(struct store *s, const char *tenant, const char *case_id,
					store_case_agency_fn fn, void *ctx)
{
	static const char sql[] = "SELECT " CASE_COLUMNS ", national_id FROM cases"
				  " WHERE id = ?1 AND tenant = ?2";
	struct store_conn *c = store_reader_get(s);
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(c, STMT_CASE_FOR_AGENCY, sql, &st);
	if (r != STORE_OK)
		goto out;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, case_id, &rc);
	store_bind_text(st, 2, tenant, &rc);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		struct case_row row;
		store_case_row_read(st, &row);
		fn(ctx, &row, store_col_text(st, CASE_NCOLUMNS));
	} else {
		r = rc == SQLITE_DONE ? STORE_NOT_FOUND : store_fail(c->db, rc, "store: case for agency");
	}
out:
	store_release(st);
	store_reader_put(s, c);
	return r;
}
