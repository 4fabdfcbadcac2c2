/* SPDX-License-Identifier: MIT */
/* After the handoff, as the API drives it: direct payments and credit notes,
 * actions for the agency, and the retry of a failed case. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "lib/ids.h"
#include "lib/jsonw.h"
#include "store/rows.h"
#include "store/store_internal.h"

#define WITHDRAWN_HERE "withdrawn before the agency received it"

/* The tenant's case status (and remaining balance), on the writer. */
static enum store_result case_state(struct db_conn *w, const char *tenant, const char *id,
				    char status[STORE_NAME_MAX], int64_t *remaining)
{
	static const char sql[] = "SELECT status, remaining FROM cases WHERE id = ?1 AND tenant = ?2";
	const struct db_param params[] = {DB_TEXT(id), DB_TEXT(tenant), DB_END};
	const struct db_col cols[] = {DB_COL_COPYN(status, STORE_NAME_MAX), DB_COL_INT64(remaining), DB_END_COL};
	return db_one(w, sql, params, cols, "store: case state");
}

/* Begins the write transaction of a change the API asks for on the
 * tenant's case: the idempotency key first (a record answers STORE_REPLAY or
 * STORE_KEY_REUSED, before any rule), then the case's status into status
 * (and its remaining balance), read under the write lock, which must be in
 * allowed (else STORE_STATE). Whatever it returns, end with
 * store_write_finish. */
static enum store_result begin_on_case(struct store *s, struct db_conn **w, const struct store_request *rq,
				       const char *id, unsigned allowed, char status[STORE_NAME_MAX],
				       int64_t *remaining)
{
	enum store_result r = store_write_begin(s, w);
	if (r == STORE_OK) {
		r = rows_idem_check(*w, rq->tenant, rq->idem, rq->replay);
		r = r == STORE_NOT_FOUND ? STORE_OK : r;
	}
	if (r == STORE_OK)
		r = case_state(*w, rq->tenant, id, status, remaining);
	return r == STORE_OK && !rows_status_in(status, allowed) ? STORE_STATE : r;
}

/* The request's actor and its answer recorded, last in the transaction of
 * a change that succeeded. */
static enum store_result record_answer(struct db_conn *w, const struct store_request *rq, enum store_result r)
{
	return r == STORE_OK ? rows_idem_record(w, rq->tenant, rq->idem, rq->now) : r;
}

/* ---- payments ---- */

/* The direct payment of this kind already booked on the case with this
 * reference: its id into id, STORE_DUPLICATE; STORE_OK when none. */
static enum store_result booked_before(struct db_conn *w, const char *case_id, enum payment_kind kind,
				       const char *reference, char id[STORE_ID_MAX])
{
	static const char sql[] = "SELECT id FROM payments WHERE case_id = ?1 AND kind = ?2 AND reference = ?3"
				  " AND source = 'api' ORDER BY created_at, id LIMIT 1";
	if (!reference)
		return STORE_OK;
	const struct db_param params[] = {
		DB_TEXT(case_id), DB_TEXT(payment_kind_name(kind)), DB_TEXT(reference), DB_END,
	};
	const struct db_col cols[] = {DB_COL_COPYN(id, STORE_ID_MAX), DB_END_COL};
	enum store_result r = db_one(w, sql, params, cols, "store: payment reference");
	return r == STORE_OK ? STORE_DUPLICATE : r == STORE_NOT_FOUND ? STORE_OK : r;
}

static enum store_result payment_add_once(struct store *s, const struct store_request *rq, const char *case_id,
					  enum payment_kind kind, int64_t amount, const char *paid_on,
					  const char *reference, struct payment_add_result *out)
{
	assert(rq && rq->tenant && rq->now && case_id && paid_on && out);
	const char *tenant = rq->tenant, *now = rq->now;
	struct db_conn *w;
	struct buf actor = {0};
	int64_t remaining = 0;
	char earlier[STORE_ID_MAX] = "";
	memset(out, 0, sizeof *out);
	if (amount <= 0)
		return STORE_LIMIT;
	if (!payment_kind_name(kind))
		return db_fail_msg("store: payment add", "unknown payment kind");
	if (!ids_new("pay_", out->id, sizeof out->id))
		return db_fail_msg("store: payment add", "no random id");
	bool credit = kind == PAYMENT_CREDIT_NOTE;
	/* Status and balance are read under the write lock: two payments at
	 * once cannot both fit into the same remaining balance. */
	enum store_result r = begin_on_case(s, &w, rq, case_id, CASE_MASK_OPEN, out->status, &remaining);
	if (r != STORE_OK)
		goto out;
	r = booked_before(w, case_id, kind, reference, earlier);
	if (r != STORE_OK)
		goto out;
	if (amount > remaining) {
		out->remaining = remaining;
		r = STORE_LIMIT;
		goto out;
	}
	struct payment_row p = {
		.id = out->id, .tenant = tenant, .case_id = case_id, .kind = kind,
		.amount = amount, .applied = amount, .paid_on = paid_on, .reference = reference,
		.source = "api", .created_at = now, .actor = store_actor_json(&rq->actor, &actor),
	};
	r = db_no_duplicate(rows_payment_insert(w, &p), "store: payment add");
	if (r == STORE_OK)
		r = rows_balance_add(w, case_id, credit ? 0 : amount, credit ? amount : 0, now);
	if (r == STORE_OK)
		r = rows_outbox_add(w, tenant, case_id, OUTBOX_PAYMENT, out->id, now);
	if (r == STORE_OK)
		r = rows_payment_event(w, &p, p.actor);
	if (r == STORE_OK)
		out->remaining = remaining - amount; /* before the answer is rendered */
	r = record_answer(w, rq, r);
out:
	r = store_write_finish(s, r); /* rolls back whatever did not succeed */
	buf_free(&actor);
	if (r == STORE_DUPLICATE)
		snprintf(out->id, sizeof out->id, "%s", earlier);
	else if (r != STORE_OK)
		out->id[0] = '\0';
	return r;
}

enum store_result store_payment_add(struct store *s, const struct store_request *rq, const char *case_id,
				    enum payment_kind kind, int64_t amount, const char *paid_on,
				    const char *reference, struct payment_add_result *out)
{
	enum store_result r;
	STORE_WRITE_RETRYING(r, payment_add_once(s, rq, case_id, kind, amount, paid_on, reference, out));
	return r;
}

/* ---- actions ---- */

/* Where each action makes sense (DESIGN.md, "After the handoff"). */
static const unsigned action_allowed[ACTION__COUNT] = {
	[ACTION_COMMENT] = CASE_MASK_OPEN,
	[ACTION_WITHDRAW] = CASE_MASK_OPEN,
	[ACTION_PAUSE] = 1u << CASE_OPEN,
	[ACTION_RESUME] = 1u << CASE_PAUSED,
	[ACTION_DISPUTE] = (1u << CASE_OPEN) | (1u << CASE_PAUSED),
};

/* True when the agency provably never received the case: its create row
 * waits (pending) or was given up (failed), and no send of it has an unknown
 * outcome. Anything else (sending, done, an unknown outcome) may have reached
 * the agency, and only a WITHDRAW sent there can undo it. */
static enum store_result never_sent(struct db_conn *w, const char *case_id, bool *yes)
{
	static const char sql[] = "SELECT state IN ('pending', 'failed') AND lookup_first = 0"
				  " FROM outbox WHERE case_id = ?1 AND kind = 'create' ORDER BY id DESC LIMIT 1";
	const struct db_param params[] = {DB_TEXT(case_id), DB_END};
	const struct db_col cols[] = {DB_COL_BOOL(yes), DB_END_COL};
	*yes = false;
	enum store_result r = db_one(w, sql, params, cols, "store: create row");
	return r == STORE_NOT_FOUND ? STORE_OK : r;
}

static enum store_result action_insert(struct db_conn *w, const char *id, const char *tenant, const char *case_id,
				       enum action_type type, const char *comment, const char *state, const char *at,
				       const char *actor)
{
	static const char sql[] = "INSERT INTO actions (id, tenant, case_id, type, comment, state,"
				  " created_at, updated_at, actor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)";
	const struct db_param params[] = {
		DB_TEXT(id),    DB_TEXT(tenant), DB_TEXT(case_id), DB_TEXT(action_type_name(type)), DB_TEXT(comment),
		DB_TEXT(state), DB_TEXT(at),     DB_TEXT(actor),   DB_END,
	};
	return db_no_duplicate(db_exec(w, sql, params, "store: insert action"), "store: insert action");
}

/* The withdrawal of a case the agency never had: withdrawn now, its queue
 * cancelled (the create row first of all), the action done. */
static enum store_result withdraw_here(struct db_conn *w, const char *tenant, const char *case_id,
				       const char *comment, const char *now, const char *actor,
				       struct action_add_result *out)
{
	enum store_result r =
		rows_move(w, tenant, case_id, out->status, "withdrawn", "api", WITHDRAWN_HERE, actor, now);
	if (r == STORE_OK)
		r = rows_cancel_queue(w, case_id, now);
	if (r == STORE_OK)
		r = action_insert(w, out->id, tenant, case_id, ACTION_WITHDRAW, comment, "done", now, actor);
	snprintf(out->state, sizeof out->state, "done");
	snprintf(out->status, sizeof out->status, "withdrawn");
	return r;
}

static enum store_result action_add_once(struct store *s, const struct store_request *rq, const char *case_id,
					 enum action_type type, const char *comment, struct action_add_result *out)
{
	assert(rq && rq->tenant && rq->now && case_id && out);
	const char *tenant = rq->tenant, *now = rq->now;
	struct db_conn *w;
	struct buf actor_buf = {0};
	int64_t remaining;
	memset(out, 0, sizeof *out);
	if (!action_type_name(type))
		return db_fail_msg("store: action add", "unknown action type");
	if (!ids_new("act_", out->id, sizeof out->id))
		return db_fail_msg("store: action add", "no random id");
	const char *actor = store_actor_json(&rq->actor, &actor_buf);
	enum store_result r = begin_on_case(s, &w, rq, case_id, action_allowed[type], out->status, &remaining);
	if (r != STORE_OK)
		goto out;
	bool here = false;
	if (type == ACTION_WITHDRAW && rows_status_in(out->status, (1u << CASE_PENDING) | (1u << CASE_FAILED)))
		r = never_sent(w, case_id, &here);
	if (r != STORE_OK)
		goto out;
	if (here) {
		r = withdraw_here(w, tenant, case_id, comment, now, actor, out);
	} else {
		snprintf(out->state, sizeof out->state, "pending");
		r = action_insert(w, out->id, tenant, case_id, type, comment, "pending", now, actor);
		if (r == STORE_OK)
			r = rows_outbox_add(w, tenant, case_id, OUTBOX_ACTION, out->id, now);
	}
	r = record_answer(w, rq, r);
out:
	r = store_write_finish(s, r);
	buf_free(&actor_buf);
	if (r != STORE_OK)
		out->id[0] = out->state[0] = '\0'; /* status stays: STORE_STATE reports it */
	return r;
}

enum store_result store_action_add(struct store *s, const struct store_request *rq, const char *case_id,
				   enum action_type type, const char *comment, struct action_add_result *out)
{
	enum store_result r;
	STORE_WRITE_RETRYING(r, action_add_once(s, rq, case_id, type, comment, out));
	return r;
}

/* ---- retry ---- */

/* Calls fn with the case as the writer sees it now. */
struct case_call {
	struct case_row row;
	store_case_fn fn;
	void *ctx;
};

static int call_with_case(void *arg)
{
	struct case_call *c = arg;
	return c->fn(c->ctx, &c->row);
}

static enum store_result case_now(struct db_conn *w, const char *case_id, store_case_fn fn, void *ctx)
{
	static const char sql[] = "SELECT " CASE_COLUMNS " FROM cases WHERE id = ?1";
	struct case_call c = {.fn = fn, .ctx = ctx};
	const struct db_param params[] = {DB_TEXT(case_id), DB_END};
	const struct db_col cols[] = {ROWS_CASE(&c.row), DB_END_COL};
	return fn ? db_each(w, sql, params, cols, call_with_case, &c, NULL, "store: case after") : STORE_OK;
}

static enum store_result case_retry_once(struct store *s, const struct store_request *rq, const char *case_id,
					 char *status, store_case_fn on_case, void *ctx)
{
	assert(rq && rq->tenant && rq->now && case_id);
	const char *now = rq->now;
	/* lookup_first stays: a send whose outcome is unknown is still looked
	 * up before the invoice goes out again. */
	static const char requeue_outbox[] = "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = 0,"
					     " updated_at = ?2 WHERE case_id = ?1 AND state = 'failed'";
	static const char requeue_actions[] = "UPDATE actions SET state = 'pending', updated_at = ?2"
					      " WHERE case_id = ?1 AND state = 'failed'";
	const struct db_param params[] = {DB_TEXT(case_id), DB_TEXT(now), DB_END};
	struct db_conn *w;
	struct buf actor = {0};
	char current[STORE_NAME_MAX] = "";
	int64_t remaining;
	enum store_result r = begin_on_case(s, &w, rq, case_id, 1u << CASE_FAILED, current, &remaining);
	if (r != STORE_OK)
		goto out;
	r = rows_move(w, rq->tenant, case_id, "failed", "pending", "api", "retry requested",
		      store_actor_json(&rq->actor, &actor), now);
	if (r == STORE_OK)
		r = db_exec(w, requeue_outbox, params, "store: retry");
	if (r == STORE_OK)
		r = db_exec(w, requeue_actions, params, "store: retry");
	if (r == STORE_OK && status)
		snprintf(status, STORE_NAME_MAX, "pending"); /* before the answer is rendered */
	if (r == STORE_OK)
		r = case_now(w, case_id, on_case, ctx);
	r = record_answer(w, rq, r);
out:
	r = store_write_finish(s, r);
	buf_free(&actor);
	if (r == STORE_OK)
		snprintf(current, sizeof current, "pending");
	if (status)
		snprintf(status, STORE_NAME_MAX, "%s", current);
	return r;
}

enum store_result store_case_retry(struct store *s, const struct store_request *rq, const char *case_id,
				   char *status, store_case_fn on_case, void *ctx)
{
	enum store_result r;
	STORE_WRITE_RETRYING(r, case_retry_once(s, rq, case_id, status, on_case, ctx));
	return r;
}
