/* SPDX-License-Identifier: MIT */
/* What the forwarder needs: the outbox (claim in per-case order, done,
 * retry, fail, the requeue after a crash), what one delivery sends, and the
 * case's status changes with their events. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dates.h"
#include "lib/jsonw.h"
#include "store/rows.h"
#include "store/store_internal.h"

/* The outbox's own timestamps come from SQLite's clock: they are for support
 * only; what orders the work is next_attempt_at, on the caller's clock. */
#define SQL_NOW "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
/* An agency message can be long; the row keeps enough to tell why. */
#define LAST_ERROR_MAX "500"

/* ---- the outbox ---- */

enum store_result store_outbox_claim(struct store *s, int64_t now_ms, int64_t lease_ms, struct outbox_item *out)
{
	/* A lease that ran out: the oldest such row, again under a new token
	 * (attempts + 1), its outcome unknown. Rare, and few rows are sending:
	 * the state = 'sending' range of outbox_due is short. */
	static const char takeover[] =
		"UPDATE outbox SET attempts = attempts + 1, lookup_first = 1, lease_until = ?1 + ?2,"
		" updated_at = " SQL_NOW
		" WHERE id = (SELECT id FROM outbox WHERE state = 'sending' AND lease_until <= ?1 ORDER BY id LIMIT 1)"
		" RETURNING id, tenant, case_id, kind, ref_id, attempts, lookup_first";
	/* The inner SELECT walks outbox_due (state, next_attempt_at, id) in
	 * order and stops at the first row not blocked; a blocked row costs one
	 * probe of outbox_case (case_id, id). A failed create blocks the case
	 * (the agency has no case for what follows) until a retry; a failed
	 * action or payment does not hold the later ones back for ever: its
	 * own state tells it failed. One statement under the write lock: two
	 * forwarder threads can never claim the same row. */
	static const char sql[] =
		"UPDATE outbox SET state = 'sending', attempts = attempts + 1, lease_until = ?1 + ?2,"
		" updated_at = " SQL_NOW
		" WHERE id = (SELECT o.id FROM outbox o WHERE o.state = 'pending'"
		"   AND o.next_attempt_at <= ?1 AND NOT EXISTS (SELECT 1 FROM outbox p"
		"     WHERE p.case_id = o.case_id AND p.id < o.id"
		"     AND (p.state IN ('pending', 'sending')"
		"       OR (p.state = 'failed' AND p.kind = 'create')))"
		"   ORDER BY o.next_attempt_at, o.id LIMIT 1)"
		" RETURNING id, tenant, case_id, kind, ref_id, attempts, lookup_first";
	memset(out, 0, sizeof *out);
	const struct db_param params[] = {DB_INT(now_ms), DB_INT(lease_ms), DB_END};
	const struct db_col cols[] = {
		DB_COL_INT64(&out->id),      DB_COL_COPY(out->tenant),       DB_COL_COPY(out->case_id),
		DB_COL_NAME((int *)&out->kind, outbox_kind_names),           DB_COL_COPY(out->ref_id),
		DB_COL_INT(&out->attempts, 0), DB_COL_BOOL(&out->lookup_first), DB_END_COL,
	};
	struct db_conn *w;
	enum store_result r = store_write_begin(s, &w);
	if (r == STORE_OK)
		r = db_one(w, takeover, params, cols, "store: outbox claim");
	if (r == STORE_NOT_FOUND)
		r = db_one(w, sql, params, cols, "store: outbox claim");
	r = store_write_finish(s, r); /* nothing claimed: rolled back, STORE_NOT_FOUND */
	if (r != STORE_OK)
		memset(out, 0, sizeof *out);
	return r;
}

enum store_result store_outbox_requeue_sending(struct store *s, int64_t *requeued)
{
	if (s->shared) { /* PostgreSQL: the claim takes expired leases over */
		if (requeued)
			*requeued = 0;
		return STORE_OK;
	}
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

/* The ends of a claimed row, each RETURNING kind, ref_id; ?1 is the row,
 * ?9 its claim's attempts: the lease's token. */
#define ENDED_ROW                                               \
	" WHERE id = ?1 AND state = 'sending' AND attempts = ?9" \
	" RETURNING kind, ref_id, tenant, case_id, attempts"
static const char outbox_done_sql[] = "UPDATE outbox SET state = 'done', updated_at = " SQL_NOW ENDED_ROW;
/* ?2 next_at, ?3 lookup_first, ?4 last_error */
static const char outbox_retry_sql[] =
	"UPDATE outbox SET state = 'pending', next_attempt_at = ?2, lookup_first = ?3,"
	" last_error = substr(?4, 1, " LAST_ERROR_MAX "), updated_at = " SQL_NOW ENDED_ROW;
/* ?3 lookup_first, ?4 last_error; the numbers stay those of the last attempt. */
static const char outbox_fail_sql[] =
	"UPDATE outbox SET state = 'failed', lookup_first = ?3,"
	" last_error = substr(?4, 1, " LAST_ERROR_MAX "), updated_at = " SQL_NOW ENDED_ROW;

/* What an ended row was. */
struct ended_row {
	int kind;
	char ref_id[STORE_ID_MAX];
	char tenant[65];
	char case_id[STORE_ID_MAX];
	int attempts;
};

/* The case.action_failed event of an action or a payment the forwarder
 * gave up on (the agency refused it, or the attempts ran out). */
static enum store_result action_failed_event(struct db_conn *w, const struct ended_row *e)
{
	static const char action_sql[] = "SELECT type FROM actions WHERE id = ?1";
	static const char payment_sql[] = "SELECT kind, amount, paid_on FROM payments WHERE id = ?1";
	const struct db_param by_id[] = {DB_TEXT(e->ref_id), DB_END};
	char type[STORE_NAME_MAX] = "", kind[STORE_NAME_MAX] = "", paid_on[16] = "", now[DATES_TS_LEN];
	int64_t amount = 0;
	dates_now_rfc3339(now);
	struct buf d = {0};
	enum store_result r;
	if (e->kind == OUTBOX_ACTION) {
		const struct db_col cols[] = {DB_COL_COPY(type), DB_END_COL};
		r = db_one(w, action_sql, by_id, cols, "store: action failed");
		jw_key(&d, true, "action");
		buf_putc(&d, '{');
		jw_kstr(&d, true, "id", e->ref_id);
		jw_kstr(&d, false, "type", type);
	} else {
		const struct db_col cols[] = {
			DB_COL_COPY(kind), DB_COL_INT64(&amount), DB_COL_COPY(paid_on), DB_END_COL,
		};
		r = db_one(w, payment_sql, by_id, cols, "store: action failed");
		jw_key(&d, true, "payment");
		buf_putc(&d, '{');
		jw_kstr(&d, true, "id", e->ref_id);
		jw_kstr(&d, false, "kind", kind);
		jw_kint(&d, false, "amount", amount);
		jw_kstr(&d, false, "paid_on", paid_on);
	}
	buf_putc(&d, '}');
	jw_kint(&d, false, "attempts", e->attempts);
	if (r == STORE_OK)
		r = d.oom ? db_fail_msg("store: action failed", "out of memory")
			  : rows_case_event(w, EVENT_CASE_ACTION_FAILED, e->tenant, e->case_id, now, NULL,
					    buf_cstr(&d));
	buf_free(&d);
	return r == STORE_NOT_FOUND ? db_fail_msg("store: action failed", "no such action or payment") : r;
}

/* Ends a sending row with sql and params inside the writer's transaction;
 * an action's row sets its action to action_state (NULL: unchanged); a
 * failed action or payment writes its case.action_failed event.
 * STORE_STATE when the row is not sending (an unknown id included). */
static enum store_result end_row(struct db_conn *w, const char *sql, const struct db_param *params,
				 const char *action_state, const char *what)
{
	static const char set_action[] = "UPDATE actions SET state = ?2, updated_at = " SQL_NOW " WHERE id = ?1";
	struct ended_row e = {.kind = OUTBOX_CREATE};
	const struct db_col cols[] = {
		DB_COL_NAME(&e.kind, outbox_kind_names), DB_COL_COPY(e.ref_id), DB_COL_COPY(e.tenant),
		DB_COL_COPY(e.case_id), DB_COL_INT(&e.attempts, 0), DB_END_COL,
	};
	enum store_result r = db_one(w, sql, params, cols, what);
	if (r == STORE_NOT_FOUND)
		return STORE_STATE;
	if (r == STORE_OK && e.kind == OUTBOX_ACTION && action_state) {
		const struct db_param action[] = {DB_TEXT(e.ref_id), DB_TEXT(action_state), DB_END};
		r = db_exec(w, set_action, action, what);
	}
	if (r == STORE_OK && sql == outbox_fail_sql && e.kind != OUTBOX_CREATE)
		r = action_failed_event(w, &e);
	return r;
}

/* end_row in a transaction of its own. */
static enum store_result outbox_end(struct store *s, const char *sql, const struct db_param *params,
				    const char *action_state, const char *what)
{
	enum store_result r;
	int attempt = 0;
	do {
		struct db_conn *w;
		r = store_write_begin(s, &w);
		if (r == STORE_OK)
			r = end_row(w, sql, params, action_state, what);
		r = store_write_finish(s, r);
	} while (store_write_again(r, &attempt));
	return r;
}

/* The parameters of an end: ?1 the row, ?9 its token; ?2..?4 as each end
 * names them (unused numbers are bound and never read). */
#define END_PARAMS(it, p2, p3, p4) \
	{DB_INT((it)->id), p2, p3, p4, DB_TEXT(NULL), DB_TEXT(NULL), DB_TEXT(NULL), DB_TEXT(NULL), \
	 DB_INT((it)->attempts), DB_END}

enum store_result store_outbox_done(struct store *s, const struct outbox_item *it)
{
	const struct db_param params[] = END_PARAMS(it, DB_TEXT(NULL), DB_TEXT(NULL), DB_TEXT(NULL));
	return outbox_end(s, outbox_done_sql, params, "sent", "store: outbox done");
}

enum store_result store_outbox_retry(struct store *s, const struct outbox_item *it, int64_t next_at_ms,
				     bool lookup_first, const char *last_error)
{
	const struct db_param params[] = END_PARAMS(it, DB_INT(next_at_ms < 0 ? 0 : next_at_ms), DB_BOOL(lookup_first),
						    DB_TEXT(last_error));
	return outbox_end(s, outbox_retry_sql, params, NULL, "store: outbox retry");
}

enum store_result store_outbox_fail(struct store *s, const struct outbox_item *it, bool lookup_first,
				    const char *last_error)
{
	const struct db_param params[] = END_PARAMS(it, DB_TEXT(NULL), DB_BOOL(lookup_first), DB_TEXT(last_error));
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
	bool stage_change;          /* f's stage differs: a case.stage_changed event */
	char *previous_stage;       /* its stage before (malloc'd, NULL for none) */
};

static int compare_fields(void *arg)
{
	struct agency_state *a = arg;
	const struct case_agency_fields *f = a->f;
	a->stage_change = f && differs(f->stage, a->stage);
	a->change = f && (differs(f->agency_case_id, a->agency_case_id) || a->stage_change ||
			  differs(f->agency_status, a->agency_status) ||
			  (f->has_charges && (f->interest != a->interest || f->costs != a->costs)));
	if (a->stage_change && a->stage && !(a->previous_stage = strdup(a->stage)))
		return 1; /* out of memory: found below as no status read */
	return 0;
}

/* The case.stage_changed event after the stage moved on from previous. */
static enum store_result stage_event(struct db_conn *w, const char *tenant, const char *case_id, const char *previous,
				     const char *source, const char *now)
{
	struct buf d = {0};
	jw_kstr(&d, true, "previous_stage", previous);
	jw_kstr(&d, false, "source", source);
	enum store_result r = d.oom ? db_fail_msg("store: stage event", "out of memory")
				    : rows_case_event(w, EVENT_CASE_STAGE_CHANGED, tenant, case_id, now, NULL,
						      buf_cstr(&d));
	buf_free(&d);
	return r;
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
	bool stopped = false;
	enum store_result r = db_each(w, sql, params, cols, compare_fields, a, &stopped, "store: transition");
	if (r == STORE_OK && stopped)
		return db_fail_msg("store: transition", "out of memory");
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
	bool move = r == STORE_OK && to && strcmp(to, a.status) != 0;
	if (r == STORE_OK && !rows_status_in(a.status, from_mask))
		r = STORE_STATE;
	else if (r == STORE_OK && (move || a.change)) { /* else nothing to write */
		*wrote = true;
		if (a.change)
			r = fields_update(w, case_id, f, now);
		/* The forwarder and the sync act for nobody: no actor. */
		if (r == STORE_OK && move)
			r = rows_move(w, tenant, case_id, a.status, to, source, detail, NULL, now);
		if (r == STORE_OK && a.stage_change)
			r = stage_event(w, tenant, case_id, a.previous_stage, source, now);
		if (r == STORE_OK && move && strcmp(to, "rejected") == 0)
			r = rows_cancel_queue(w, case_id, now);
	}
	free(a.previous_stage);
	return r;
}

static enum store_result case_transition_once(struct store *s, const char *tenant, const char *case_id,
					      unsigned from_mask, const char *to, const char *source,
					      const char *detail, const char *now, const struct case_agency_fields *f)
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

enum store_result store_case_transition(struct store *s, const char *tenant, const char *case_id,
					unsigned from_mask, const char *to, const char *source, const char *detail,
					const char *now, const struct case_agency_fields *f)
{
	enum store_result r;
	STORE_WRITE_RETRYING(r, case_transition_once(s, tenant, case_id, from_mask, to, source, detail, now, f));
	return r;
}

static enum store_result case_transition_ending_once(struct store *s, const char *tenant, const char *case_id,
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
	const struct db_param done[] = END_PARAMS(row->row, DB_TEXT(NULL), DB_TEXT(NULL), DB_TEXT(NULL));
	const struct db_param failed[] = END_PARAMS(row->row, DB_TEXT(NULL), DB_BOOL(row->lookup_first),
						    DB_TEXT(row->last_error));
	if (r == STORE_OK)
		r = row->failed ? end_row(w, outbox_fail_sql, failed, "failed", "store: outbox end")
				: end_row(w, outbox_done_sql, done, "sent", "store: outbox end");
	r = store_write_finish(s, r);
	return r == STORE_OK ? moved : r;
}

enum store_result store_case_transition_ending(struct store *s, const char *tenant, const char *case_id,
					       unsigned from_mask, const char *to, const char *source,
					       const char *detail, const char *now, const struct outbox_end *row)
{
	enum store_result r;
	STORE_WRITE_RETRYING(r,
			     case_transition_ending_once(s, tenant, case_id, from_mask, to, source, detail, now, row));
	return r;
}
