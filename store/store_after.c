/* SPDX-License-Identifier: MIT */
/* After the handoff, as the API drives it: direct payments and credit notes,
 * actions for the agency, and the retry of a failed case. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "lib/ids.h"
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

/* Begins the write transaction of a change to the tenant's case: its status
 * into status (and its remaining balance), read under the write lock, must be
 * in allowed (else STORE_STATE). Whatever it returns, end with
 * store_write_end. */
static enum store_result begin_on_case(struct store *s, struct db_conn **w, const char *tenant, const char *id,
				       unsigned allowed, char status[STORE_NAME_MAX], int64_t *remaining)
{
	enum store_result r = store_write_begin(s, w);
	if (r == STORE_OK)
		r = case_state(*w, tenant, id, status, remaining);
	return r == STORE_OK && !rows_status_in(status, allowed) ? STORE_STATE : r;
}

/* ---- payments ---- */

enum store_result store_payment_add(struct store *s, const char *tenant, const char *case_id,
				    enum payment_kind kind, int64_t amount, const char *paid_on,
				    const char *reference, const char *now, struct payment_add_result *out)
{
	assert(tenant && case_id && paid_on && now && out);
	struct db_conn *w;
	int64_t remaining = 0;
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
	enum store_result r = begin_on_case(s, &w, tenant, case_id, CASE_MASK_OPEN, out->status, &remaining);
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
		.source = "api", .created_at = now,
	};
	r = db_no_duplicate(rows_payment_insert(w, &p), "store: payment add");
	if (r == STORE_OK)
		r = rows_balance_add(w, case_id, credit ? 0 : amount, credit ? amount : 0, now);
	if (r == STORE_OK)
		r = rows_outbox_add(w, tenant, case_id, OUTBOX_PAYMENT, out->id, now);
out:
	r = store_write_finish(s, r); /* rolls back whatever did not succeed */
	if (r == STORE_OK)
		out->remaining = remaining - amount;
	else
		out->id[0] = '\0';
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
				       enum action_type type, const char *comment, const char *state, const char *at)
{
	static const char sql[] = "INSERT INTO actions (id, tenant, case_id, type, comment, state,"
				  " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)";
	const struct db_param params[] = {
		DB_TEXT(id), DB_TEXT(tenant), DB_TEXT(case_id), DB_TEXT(action_type_name(type)), DB_TEXT(comment),
		DB_TEXT(state), DB_TEXT(at), DB_END,
	};
	return db_no_duplicate(db_exec(w, sql, params, "store: insert action"), "store: insert action");
}

/* The withdrawal of a case the agency never had: withdrawn now, its queue
 * cancelled (the create row first of all), the action done. */
static enum store_result withdraw_here(struct db_conn *w, const char *tenant, const char *case_id,
				       const char *comment, const char *now, struct action_add_result *out)
{
	enum store_result r = rows_set_status(w, case_id, "withdrawn", now);
	if (r == STORE_OK)
		r = rows_event_add(w, case_id, now, out->status, "withdrawn", "api", WITHDRAWN_HERE);
	if (r == STORE_OK)
		r = rows_cancel_queue(w, case_id, now);
	if (r == STORE_OK)
		r = action_insert(w, out->id, tenant, case_id, ACTION_WITHDRAW, comment, "done", now);
	snprintf(out->state, sizeof out->state, "done");
	snprintf(out->status, sizeof out->status, "withdrawn");
	return r;
}

enum store_result store_action_add(struct store *s, const char *tenant, const char *case_id, enum action_type type,
				   const char *comment, const char *now, struct action_add_result *out)
{
	assert(tenant && case_id && now && out);
	struct db_conn *w;
	int64_t remaining;
	memset(out, 0, sizeof *out);
	if (!action_type_name(type))
		return db_fail_msg("store: action add", "unknown action type");
	if (!ids_new("act_", out->id, sizeof out->id))
		return db_fail_msg("store: action add", "no random id");
	enum store_result r = begin_on_case(s, &w, tenant, case_id, action_allowed[type], out->status, &remaining);
	if (r != STORE_OK)
		goto out;
	bool here = false;
	if (type == ACTION_WITHDRAW && rows_status_in(out->status, (1u << CASE_PENDING) | (1u << CASE_FAILED)))
		r = never_sent(w, case_id, &here);
	if (r != STORE_OK)
		goto out;
	if (here) {
		r = withdraw_here(w, tenant, case_id, comment, now, out);
	} else {
		snprintf(out->state, sizeof out->state, "pending");
		r = action_insert(w, out->id, tenant, case_id, type, comment, "pending", now);
		if (r == STORE_OK)
			r = rows_outbox_add(w, tenant, case_id, OUTBOX_ACTION, out->id, now);
	}
out:
	r = store_write_finish(s, r);
	if (r != STORE_OK)
		out->id[0] = out->state[0] = '\0'; /* status stays: STORE_STATE reports it */
	return r;
}

/* ---- retry ---- */

enum store_result store_case_retry(struct store *s, const char *tenant, const char *case_id, const char *now,
				   char *status)
{
	/* lookup_first stays: a send whose outcome is unknown is still looked
	 * up before the invoice goes out again. */
	static const char requeue_outbox[] = "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = 0,"
					     " updated_at = ?2 WHERE case_id = ?1 AND state = 'failed'";
	static const char requeue_actions[] = "UPDATE actions SET state = 'pending', updated_at = ?2"
					      " WHERE case_id = ?1 AND state = 'failed'";
	const struct db_param params[] = {DB_TEXT(case_id), DB_TEXT(now), DB_END};
	struct db_conn *w;
	char current[STORE_NAME_MAX] = "";
	int64_t remaining;
	enum store_result r = begin_on_case(s, &w, tenant, case_id, 1u << CASE_FAILED, current, &remaining);
	if (r != STORE_OK)
		goto out;
	r = rows_set_status(w, case_id, "pending", now);
	if (r == STORE_OK)
		r = rows_event_add(w, case_id, now, "failed", "pending", "api", "retry requested");
	if (r == STORE_OK)
		r = db_exec(w, requeue_outbox, params, "store: retry");
	if (r == STORE_OK)
		r = db_exec(w, requeue_actions, params, "store: retry");
out:
	r = store_write_finish(s, r);
	if (r == STORE_OK)
		snprintf(current, sizeof current, "pending");
	if (status)
		snprintf(status, STORE_NAME_MAX, "%s", current);
	return r;
}
