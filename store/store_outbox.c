/* SPDX-License-Identifier: MIT */
/* What the forwarder needs: the outbox (claim in per-case order, done,
 * retry, fail, the requeue after a crash), what one delivery sends, and the
 * case's status changes with their events. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/rows.h"
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
	memset(out, 0, sizeof *out);
	const struct db_param params[] = {DB_INT(now_ms), DB_END};
	const struct db_col cols[] = {
		DB_COL_INT64(&out->id),      DB_COL_COPY(out->tenant),       DB_COL_COPY(out->case_id),
		DB_COL_NAME((int *)&out->kind, outbox_kind_names),           DB_COL_COPY(out->ref_id),
		DB_COL_INT(&out->attempts, 0), DB_COL_BOOL(&out->lookup_first), DB_END_COL,
	};
	struct db_conn *w;
	enum store_result r = store_write_begin(s, &w);
	if (r == STORE_OK)
		r = db_one(w, sql, params, cols, "store: outbox claim");
	r = store_write_finish(s, r);
	if (r != STORE_OK)
		memset(out, 0, sizeof *out);
	return r;
}

enum store_result store_outbox_requeue_sending(struct store *s, int64_t *requeued)
{
	static const char sql[] = "UPDATE outbox SET state = 'pending', lookup_first = 1,"
				  " next_attempt_at = 0, updated_at = " SQL_NOW " WHERE state = 'sending'";
	int64_t n = 0;
	struct db_conn *w;
	enum store_result r = store_write_begin(s, &w);
	if (r == STORE_OK)
		r = db_exec(w, sql, NULL, "store: outbox requeue");
	if (r == STORE_OK) {
		n = db_changes(w);
		r = db_commit(w);
	}
	store_write_end(s);
	if (requeued)
		*requeued = r == STORE_OK ? n : 0;
	return r;
}

/* The ends of a sending row, each RETURNING kind, ref_id; ?1 is the row. */
static const char outbox_done_sql[] = "UPDATE outbox SET state = 'done', updated_at = " SQL_NOW
				      " WHERE id = ?1 AND state = 'sending' RETURNING kind, ref_id";
/* ?2 next_at, ?3 lookup_first, ?4 last_error */
static const char outbox_retry_sql[] =
	"UPDATE outbox SET state = 'pending', next_attempt_at = ?2, lookup_first = ?3,"
	" last_error = substr(?4, 1, " LAST_ERROR_MAX "), updated_at = " SQL_NOW
	" WHERE id = ?1 AND state = 'sending' RETURNING kind, ref_id";
/* ?2 lookup_first, ?3 last_error; the numbers stay those of the last attempt. */
static const char outbox_fail_sql[] =
	"UPDATE outbox SET state = 'failed', lookup_first = ?2,"
	" last_error = substr(?3, 1, " LAST_ERROR_MAX "), updated_at = " SQL_NOW
	" WHERE id = ?1 AND state = 'sending' RETURNING kind, ref_id";

/* Ends a sending row with sql and params inside the writer's transaction;
 * an action's row sets its action to action_state (NULL: unchanged).
 * STORE_STATE when the row is not sending (an unknown id included). */
static enum store_result end_row(struct db_conn *w, const char *sql, const struct db_param *params,
				 const char *action_state, const char *what)
{
	static const char set_action[] = "UPDATE actions SET state = ?2, updated_at = " SQL_NOW " WHERE id = ?1";
	int kind = OUTBOX_CREATE;
	char ref_id[STORE_ID_MAX] = "";
	const struct db_col cols[] = {DB_COL_NAME(&kind, outbox_kind_names), DB_COL_COPY(ref_id), DB_END_COL};
	enum store_result r = db_one(w, sql, params, cols, what);
	if (r == STORE_NOT_FOUND)
		return STORE_STATE;
	if (r != STORE_OK || kind != OUTBOX_ACTION || !action_state)
		return r;
	const struct db_param action[] = {DB_TEXT(ref_id), DB_TEXT(action_state), DB_END};
	return db_exec(w, set_action, action, what);
}

/* end_row in a transaction of its own. */
static enum store_result outbox_end(struct store *s, const char *sql, const struct db_param *params,
				    const char *action_state, const char *what)
{
	struct db_conn *w;
	enum store_result r = store_write_begin(s, &w);
	if (r == STORE_OK)
		r = end_row(w, sql, params, action_state, what);
	return store_write_finish(s, r);
}

enum store_result store_outbox_done(struct store *s, int64_t id)
{
	const struct db_param params[] = {DB_INT(id), DB_END};
	return outbox_end(s, outbox_done_sql, params, "sent", "store: outbox done");
}

enum store_result store_outbox_retry(struct store *s, int64_t id, int64_t next_at_ms, bool lookup_first,
				     const char *last_error)
{
	const struct db_param params[] = {
		DB_INT(id), DB_INT(next_at_ms < 0 ? 0 : next_at_ms), DB_BOOL(lookup_first), DB_TEXT(last_error), DB_END,
	};
	return outbox_end(s, outbox_retry_sql, params, NULL, "store: outbox retry");
}

enum store_result store_outbox_fail(struct store *s, int64_t id, bool lookup_first, const char *last_error)
{
	const struct db_param params[] = {DB_INT(id), DB_BOOL(lookup_first), DB_TEXT(last_error), DB_END};
	return outbox_end(s, outbox_fail_sql, params, "failed", "store: outbox fail");
}

/* ---- what one delivery sends ---- */

struct case_load {
	struct case_row row;
	struct delivery *d;
	bool found, oom;
};

static int keep_case(void *arg)
{
	struct case_load *l = arg;
	struct case_copy copy;
	l->found = true;
	if (!rows_case_copy(&l->row, &copy)) {
		l->oom = true;
		return 1;
	}
	l->d->c = copy.row;
	l->d->mem = copy.mem;
	return 0;
}

enum store_result store_delivery_load(struct store *s, const struct outbox_item *it, struct delivery *d,
				      const char **missing)
{
	assert(it && d && missing);
	static const char settings[] = "SELECT " SETTINGS_COLUMNS " FROM agency_settings WHERE tenant = ?1";
	static const char case_sql[] = "SELECT " CASE_COLUMNS " FROM cases WHERE id = ?1 AND tenant = ?2";
	/* The clear number leaves the database only for the invoice itself. */
	static const char national_id[] = "SELECT national_id FROM cases WHERE id = ?1 AND tenant = ?2";
	static const char payment[] = "SELECT kind, amount, paid_on, reference FROM payments"
				      " WHERE id = ?1 AND case_id = ?2";
	static const char action[] = "SELECT type, comment FROM actions WHERE id = ?1 AND case_id = ?2";
	memset(d, 0, sizeof *d);
	*missing = NULL;
	const struct db_param by_tenant[] = {DB_TEXT(it->tenant), DB_END};
	const struct db_param by_case[] = {DB_TEXT(it->case_id), DB_TEXT(it->tenant), DB_END};
	const struct db_param by_ref[] = {DB_TEXT(it->ref_id), DB_TEXT(it->case_id), DB_END};
	struct db_col settings_cols[SETTINGS_NCOLUMNS + 1];
	rows_settings_cols(&d->settings, settings_cols);
	struct case_load l = {.d = d};
	const struct db_col case_cols[] = {ROWS_CASE(&l.row), DB_END_COL};
	const struct db_col nid_cols[] = {DB_COL_DUP(&d->national_id), DB_END_COL};
	const struct db_col payment_cols[] = {
		DB_COL_NAME((int *)&d->payment.kind, payment_kind_names), DB_COL_INT64(&d->payment.amount),
		DB_COL_COPY(d->payment.paid_on), DB_COL_DUP(&d->payment.reference), DB_END_COL,
	};
	const struct db_col action_cols[] = {
		DB_COL_NAME((int *)&d->action.type, action_type_names), DB_COL_DUP(&d->action.comment), DB_END_COL,
	};
	struct db_conn *c;
	enum store_result r = store_snapshot_begin(s, &c);
	if (r == STORE_OK) {
		r = db_one(c, settings, by_tenant, settings_cols, "store: delivery settings");
		d->has_settings = r == STORE_OK;
		rows_settings_done(&d->settings);
		if (r == STORE_NOT_FOUND)
			r = STORE_OK;
	}
	if (r == STORE_OK)
		r = db_each(c, case_sql, by_case, case_cols, keep_case, &l, NULL, "store: delivery case");
	if (r == STORE_OK && l.oom)
		r = db_fail_msg("store: delivery case", "out of memory");
	if (r == STORE_OK && !l.found) {
		*missing = "case";
		r = STORE_NOT_FOUND;
	}
	if (r == STORE_OK && it->kind == OUTBOX_CREATE)
		r = db_one(c, national_id, by_case, nid_cols, "store: delivery case");
	if (r == STORE_OK && it->kind == OUTBOX_PAYMENT) {
		r = db_one(c, payment, by_ref, payment_cols, "store: delivery payment");
		*missing = r == STORE_NOT_FOUND ? "payment" : NULL;
	}
	if (r == STORE_OK && it->kind == OUTBOX_ACTION) {
		r = db_one(c, action, by_ref, action_cols, "store: delivery action");
		*missing = r == STORE_NOT_FOUND ? "action" : NULL;
	}
	return store_snapshot_end(s, c, r);
}

void store_delivery_free(struct delivery *d)
{
	if (!d)
		return;
	if (d->national_id)
		explicit_bzero(d->national_id, strlen(d->national_id));
	free(d->national_id);
	free(d->payment.reference);
	free(d->action.comment);
	free(d->mem);
	/* The api key does not linger in memory that is handed back. */
	explicit_bzero(&d->settings, sizeof d->settings);
	memset(d, 0, sizeof *d);
}

/* ---- status changes ---- */

/* True when v (NULL: unchanged) differs from stored (NULL: none). */
static bool differs(const char *v, const char *stored)
{
	return v && (!stored || strcmp(v, stored) != 0);
}

/* The case's status, and whether f would change its row. */
struct agency_state {
	char status[STORE_NAME_MAX];
	const struct case_agency_fields *f;
	const char *agency_case_id, *stage, *agency_status;
	int64_t interest, costs;
	bool change;
};

static int compare_fields(void *arg)
{
	struct agency_state *a = arg;
	const struct case_agency_fields *f = a->f;
	a->change = f && (differs(f->agency_case_id, a->agency_case_id) || differs(f->stage, a->stage) ||
			  differs(f->agency_status, a->agency_status) ||
			  (f->has_charges && (f->interest != a->interest || f->costs != a->costs)));
	return 0;
}

/* Reads the case's status and whether f would change it, comparing against
 * the live row (no copies, no length limit). */
static enum store_result agency_state_read(struct db_conn *w, const char *tenant, const char *case_id,
					   struct agency_state *a)
{
	static const char sql[] = "SELECT status, agency_case_id, stage, agency_status, interest, costs"
				  " FROM cases WHERE id = ?1 AND tenant = ?2";
	const struct db_param params[] = {DB_TEXT(case_id), DB_TEXT(tenant), DB_END};
	const struct db_col cols[] = {
		DB_COL_COPY(a->status), DB_COL_TEXT(&a->agency_case_id), DB_COL_TEXT(&a->stage),
		DB_COL_TEXT(&a->agency_status), DB_COL_INT64(&a->interest), DB_COL_INT64(&a->costs), DB_END_COL,
	};
	a->status[0] = '\0';
	enum store_result r = db_each(w, sql, params, cols, compare_fields, a, NULL, "store: transition");
	return r == STORE_OK && !a->status[0] ? STORE_NOT_FOUND : r;
}

static enum store_result fields_update(struct db_conn *w, const char *case_id, const struct case_agency_fields *f,
				       const char *now)
{
	/* NULL binds keep the stored value: COALESCE(NULL, x) is x. */
	static const char sql[] =
		"UPDATE cases SET agency_case_id = COALESCE(?2, agency_case_id),"
		" stage = COALESCE(?3, stage), agency_status = COALESCE(?4, agency_status),"
		" interest = CASE WHEN ?5 THEN ?6 ELSE interest END,"
		" costs = CASE WHEN ?5 THEN ?7 ELSE costs END, updated_at = ?8 WHERE id = ?1";
	const struct db_param params[] = {
		DB_TEXT(case_id),       DB_TEXT(f->agency_case_id), DB_TEXT(f->stage), DB_TEXT(f->agency_status),
		DB_BOOL(f->has_charges), DB_INT(f->interest),       DB_INT(f->costs),  DB_TEXT(now),
		DB_END,
	};
	return db_no_duplicate(db_exec(w, sql, params, "store: transition fields"), "store: transition");
}

/* The transition inside the writer's transaction; *wrote: whether it wrote. */
static enum store_result transition_in_tx(struct db_conn *w, const char *tenant, const char *case_id,
					  unsigned from_mask, const char *to, const char *source, const char *detail,
					  const char *now, const struct case_agency_fields *f, bool *wrote)
{
	struct agency_state a = {.f = f};
	*wrote = false;
	enum store_result r = agency_state_read(w, tenant, case_id, &a);
	if (r != STORE_OK)
		return r;
	if (!rows_status_in(a.status, from_mask))
		return STORE_STATE;
	bool move = to && strcmp(to, a.status) != 0;
	if (!move && !a.change)
		return STORE_OK; /* nothing to write */
	*wrote = true;
	if (a.change)
		r = fields_update(w, case_id, f, now);
	if (r == STORE_OK && move)
		r = rows_set_status(w, case_id, to, now);
	if (r == STORE_OK && move)
		r = rows_event_add(w, case_id, now, a.status, to, source, detail);
	if (r == STORE_OK && move && strcmp(to, "rejected") == 0)
		r = rows_cancel_queue(w, case_id, now);
	return r;
}

enum store_result store_case_transition(struct store *s, const char *tenant, const char *case_id,
					unsigned from_mask, const char *to, const char *source, const char *detail,
					const char *now, const struct case_agency_fields *f)
{
	assert(tenant && case_id && source && now);
	if (to && case_status_parse(to) < 0)
		return db_fail_msg("store: transition", "unknown status");
	struct db_conn *w;
	bool wrote = false;
	enum store_result r = store_write_begin(s, &w);
	if (r == STORE_OK)
		r = transition_in_tx(w, tenant, case_id, from_mask, to, source, detail, now, f, &wrote);
	if (r == STORE_OK && wrote)
		r = db_commit(w);
	store_write_end(s); /* nothing written: the rollback ends the transaction */
	return r;
}

enum store_result store_case_transition_ending(struct store *s, const char *tenant, const char *case_id,
					       unsigned from_mask, const char *to, const char *source,
					       const char *detail, const char *now, const struct outbox_end *row)
{
	if (to && case_status_parse(to) < 0)
		return db_fail_msg("store: transition", "unknown status");
	struct db_conn *w;
	bool wrote = false;
	enum store_result moved = STORE_OK;
	enum store_result r = store_write_begin(s, &w);
	if (r == STORE_OK) {
		moved = transition_in_tx(w, tenant, case_id, from_mask, to, source, detail, now, NULL, &wrote);
		if (moved < 0)
			r = moved;
	}
	const struct db_param done[] = {DB_INT(row->id), DB_END};
	const struct db_param failed[] = {
		DB_INT(row->id), DB_BOOL(row->lookup_first), DB_TEXT(row->last_error), DB_END,
	};
	if (r == STORE_OK)
		r = row->failed ? end_row(w, outbox_fail_sql, failed, "failed", "store: outbox end")
				: end_row(w, outbox_done_sql, done, "sent", "store: outbox end");
	r = store_write_finish(s, r);
	return r == STORE_OK ? moved : r;
}
