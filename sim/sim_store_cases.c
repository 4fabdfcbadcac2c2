/* SPDX-License-Identifier: MIT */
/* How cases move: the creditor's actions, the passing of time, and the
 * control API's shortcuts. */
#include "sim/sim_store_int.h"

#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "sim/sim_money.h"

#define SIM_TICK_BATCH 512 /* cases moved per phase and tick: bounds one transaction */

/* Finds the invoice an action names, by case id first, else by number. */
static enum sim_store_rc sim_action_target(struct sim_store *s, const char *key,
					   const struct sim_action *a, struct sim_invoice *inv,
					   const char **why)
{
	bool by_case = a->case_id && a->case_id[0];
	bool by_number = a->invoice_number && a->invoice_number[0];
	sqlite3_stmt *st;
	if (by_case)
		st = sim_stmt(s, "SELECT " SIM_INVOICE_COLS " FROM invoices i "
				 "WHERE i.api_key = ? AND i.case_id = ?");
	else
		st = sim_stmt(s, "SELECT " SIM_INVOICE_COLS " FROM invoices i "
				 "WHERE i.api_key = ? AND i.number = ? ORDER BY i.id LIMIT 1");
	if (!st)
		return SIM_STORE_ERROR;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, by_case ? a->case_id : a->invoice_number, -1, SQLITE_STATIC);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		sim_invoice_read(st, inv);
	sqlite3_reset(st);
	if (step == SQLITE_DONE)
		return SIM_STORE_NONE;
	if (step != SQLITE_ROW) {
		sim_db_error(s, "action target");
		return SIM_STORE_ERROR;
	}
	if (by_case && by_number && strcmp(inv->number, a->invoice_number) != 0) {
		*why = "caseId does not belong to invoiceNumber";
		return SIM_STORE_INVALID;
	}
	if (a->has_amount && a->currency && strcmp(a->currency, inv->currency) != 0) {
		*why = "currency does not match the invoice";
		return SIM_STORE_INVALID;
	}
	return SIM_STORE_OK;
}

static bool sim_action_record(struct sim_store *s, const struct sim_invoice *inv,
			      const struct sim_action *a, int64_t now_ms)
{
	sqlite3_stmt *st = sim_stmt(
		s, "INSERT INTO actions (invoice_id, code, comment, amount, currency, payment_date, "
		   "reference, payment_method, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (!st)
		return false;
	char at[SIM_TIMESTAMP_LEN];
	sim_timestamp(now_ms, at);
	sqlite3_bind_int64(st, 1, inv->id);
	sqlite3_bind_text(st, 2, a->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a->comment, -1, SQLITE_STATIC); /* NULL binds NULL */
	if (a->has_amount)
		sqlite3_bind_int64(st, 4, a->amount);
	sqlite3_bind_text(st, 5, a->currency, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, a->payment_date, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, a->reference, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, a->payment_method, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, at, -1, SQLITE_STATIC);
	return sim_step_done(s, st);
}

/* A direct payment went to the creditor, so it reduces the capital only:
 * the agency's costs stay claimable from the debtor. */
static bool sim_action_direct_payment(struct sim_store *s, struct sim_invoice *inv,
				      const struct sim_action *a, int64_t now_ms)
{
	int64_t room = inv->capital - inv->paid;
	int64_t credit = a->amount < room ? a->amount : room;
	if (credit < 0)
		credit = 0;
	inv->paid += credit;
	bool credit_note = a->payment_method && strcmp(a->payment_method, "CREDIT_NOTE") == 0;
	struct buf d = {0};
	buf_puts(&d, credit_note ? "creditor issued a credit note of " :
				   "creditor reported a direct payment of ");
	sim_money_put(&d, a->amount, inv->digits);
	buf_printf(&d, " %s", inv->currency);
	if (credit != a->amount) {
		buf_puts(&d, ", credited ");
		sim_money_put(&d, credit, inv->digits);
	}
	/* The creditor's comment stays on the event, as in Intrum Access: the
	 * creditor can find its own payment again after a lost answer. */
	if (a->comment && *a->comment)
		buf_printf(&d, " (%s)", a->comment);
	bool ok = !d.oom && sim_case_save(s, inv, -1) &&
		  sim_event_add(s, inv->id, now_ms, credit_note ? "CREDIT_NOTE" : "DIRECT_PAYMENT",
				buf_cstr(&d));
	buf_free(&d);
	if (ok && sim_case_remaining(inv) == 0 && !sim_case_terminal(inv->case_status))
		ok = sim_case_set_status(s, inv, "PAID", "CASE_PAID", "claim paid in full", now_ms);
	return ok;
}

/* Applies one recorded action to the case. Status actions on a case that
 * already ended are kept as events only, as an agency would answer them
 * with a letter rather than an error. */
static bool sim_action_effect(struct sim_store *s, struct sim_invoice *inv,
			      const struct sim_action *a, int64_t now_ms)
{
	const char *st = inv->case_status; /* "" until the case id is assigned */
	bool ended = sim_case_terminal(st);
	const char *comment = a->comment ? a->comment : "";
	if (strcmp(a->code, "DIRECTPAYMENT") == 0)
		return sim_action_direct_payment(s, inv, a, now_ms);
	if (strcmp(a->code, "COMMENT") == 0)
		return sim_event_add(s, inv->id, now_ms, "COMMENT", comment);
	if (ended) {
		char d[96];
		snprintf(d, sizeof d, "%s ignored: case is %s", a->code, st);
		return sim_event_add(s, inv->id, now_ms, "ACTION_IGNORED", d);
	}
	if (strcmp(a->code, "WITHDRAW") == 0)
		return sim_case_set_status(s, inv, "WITHDRAWN", "WITHDRAWN", "withdrawn by the creditor",
					   now_ms);
	if (strcmp(a->code, "PAUSE") == 0)
		return sim_case_set_status(s, inv, "PAUSED", "PAUSED", "paused by the creditor", now_ms);
	if (strcmp(a->code, "OBJECTION") == 0)
		return sim_case_set_status(s, inv, "DISPUTED", "OBJECTION", "debtor disputes the claim",
					   now_ms);
	if (strcmp(a->code, "RESUME") == 0) {
		if (strcmp(st, "PAUSED") != 0 && strcmp(st, "DISPUTED") != 0)
			return sim_event_add(s, inv->id, now_ms, "RESUMED", "case was not paused");
		/* The stage timer restarts: a paused case does not catch up. */
		snprintf(inv->case_status, sizeof inv->case_status, "%s", inv->case_id[0] ? "ACTIVE" : "");
		inv->closed_at[0] = '\0';
		return sim_case_save(s, inv, now_ms) &&
		       sim_event_add(s, inv->id, now_ms, "RESUMED", "resumed by the creditor");
	}
	return false; /* codes are checked by the handler */
}

enum sim_store_rc sim_store_actions_apply(struct sim_store *s, const char *key,
					  const struct sim_action *a, size_t n, int64_t now_ms,
					  size_t *bad, const char **why)
{
	enum sim_store_rc rc = SIM_STORE_ERROR;
	pthread_mutex_lock(&s->lock);
	if (!sim_tx_begin(s))
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct sim_invoice inv;
		enum sim_store_rc found = sim_action_target(s, key, &a[i], &inv, why);
		if (found != SIM_STORE_OK) {
			*bad = i;
			rc = found;
			goto out;
		}
		if (!sim_action_record(s, &inv, &a[i], now_ms) ||
		    !sim_action_effect(s, &inv, &a[i], now_ms))
			goto out;
	}
	if (sim_tx_commit(s))
		rc = SIM_STORE_OK;
out:
	if (rc != SIM_STORE_OK)
		sim_tx_rollback(s);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Reads up to SIM_TICK_BATCH ids of a one-parameter query; -1 on error. */
static int sim_due_ids(struct sim_store *s, const char *sql, int64_t bound, int64_t *ids)
{
	sqlite3_stmt *st = sim_stmt(s, sql);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, bound);
	int n = 0, step = SQLITE_DONE;
	while (n < SIM_TICK_BATCH && (step = sqlite3_step(st)) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(st, 0);
	if (n < SIM_TICK_BATCH && step != SQLITE_DONE) {
		sim_db_error(s, "due cases");
		n = -1;
	}
	sqlite3_reset(st);
	return n;
}

static bool sim_tick_assign(struct sim_store *s, int64_t now_ms, int64_t *ids)
{
	int n = sim_due_ids(s, "SELECT id FROM invoices WHERE case_id IS NULL AND assign_at_ms <= ? "
			       "ORDER BY id LIMIT 512",
			    now_ms, ids);
	for (int i = 0; i < n; i++) {
		struct sim_invoice inv;
		if (!sim_invoice_load(s, ids[i], &inv) || !sim_case_assign(s, &inv, now_ms))
			return false;
	}
	return n >= 0;
}

static bool sim_tick_collection(struct sim_store *s, int64_t now_ms, int64_t after_ms,
				int64_t *ids)
{
	int n = sim_due_ids(s, "SELECT id FROM invoices WHERE case_status = 'ACTIVE' AND "
			       "stage = 'REMINDER' AND stage_at_ms <= ? ORDER BY id LIMIT 512",
			    now_ms - after_ms, ids);
	for (int i = 0; i < n; i++) {
		struct sim_invoice inv;
		if (!sim_invoice_load(s, ids[i], &inv))
			return false;
		snprintf(inv.stage, sizeof inv.stage, "COLLECTION");
		if (!sim_case_save(s, &inv, now_ms) ||
		    !sim_event_add(s, inv.id, now_ms, "COLLECTION_STARTED",
				   "reminder unanswered; case moved to collection"))
			return false;
	}
	return n >= 0;
}

static bool sim_tick_paid(struct sim_store *s, int64_t now_ms, int64_t after_ms, int64_t *ids)
{
	int n = sim_due_ids(s, "SELECT id FROM invoices WHERE case_status = 'ACTIVE' AND "
			       "stage IN ('COLLECTION', 'LEGAL') AND stage_at_ms <= ? "
			       "ORDER BY id LIMIT 512",
			    now_ms - after_ms, ids);
	for (int i = 0; i < n; i++) {
		struct sim_invoice inv;
		if (!sim_invoice_load(s, ids[i], &inv) ||
		    !sim_case_collect(s, &inv, sim_case_remaining(&inv), now_ms))
			return false;
	}
	return n >= 0;
}

enum sim_store_rc sim_store_tick(struct sim_store *s, int64_t now_ms, const struct sim_timing *t)
{
	enum sim_store_rc rc = SIM_STORE_ERROR;
	int64_t ids[SIM_TICK_BATCH];
	pthread_mutex_lock(&s->lock);
	if (!sim_tx_begin(s))
		goto out;
	if (s->last_settle_ms == 0)
		s->last_settle_ms = now_ms; /* the first run is one interval after start */
	int64_t created = 0;
	bool settle = now_ms - s->last_settle_ms >= t->settle_ms;
	if (!sim_tick_assign(s, now_ms, ids) || !sim_tick_collection(s, now_ms, t->reminder_ms, ids) ||
	    !sim_tick_paid(s, now_ms, t->collection_ms, ids) ||
	    (settle && !sim_settle_locked(s, NULL, now_ms, &created)) || !sim_tx_commit(s))
		goto out;
	if (settle)
		s->last_settle_ms = now_ms;
	rc = SIM_STORE_OK;
out:
	if (rc != SIM_STORE_OK)
		sim_tx_rollback(s);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* The forced transitions of POST /sim/advance. */
static enum sim_store_rc sim_advance_to(struct sim_store *s, struct sim_invoice *inv,
					const char *to, int64_t amount, int64_t now_ms)
{
	bool ok;
	if (strcmp(to, "assigned") == 0) {
		ok = true;
	} else if (strcmp(to, "collection") == 0 || strcmp(to, "legal") == 0) {
		bool legal = to[0] == 'l';
		snprintf(inv->stage, sizeof inv->stage, "%s", legal ? "LEGAL" : "COLLECTION");
		snprintf(inv->case_status, sizeof inv->case_status, "ACTIVE");
		inv->closed_at[0] = '\0';
		ok = sim_case_save(s, inv, now_ms) &&
		     sim_event_add(s, inv->id, now_ms, legal ? "LEGAL_STARTED" : "COLLECTION_STARTED",
				   legal ? "case moved to legal collection" :
					   "case moved to collection");
	} else if (strcmp(to, "payment") == 0) {
		ok = sim_case_collect(s, inv, amount, now_ms);
	} else if (strcmp(to, "paid") == 0) {
		ok = sim_case_collect(s, inv, sim_case_remaining(inv), now_ms);
	} else if (strcmp(to, "closed") == 0) {
		ok = sim_case_set_status(s, inv, "CLOSED", "CASE_CLOSED", "case closed by the agency",
					 now_ms);
	} else if (strcmp(to, "rejected") == 0) {
		ok = sim_case_set_status(s, inv, "REJECTED", "CASE_REJECTED",
					 "case rejected by the agency", now_ms);
	} else {
		return SIM_STORE_INVALID;
	}
	return ok ? SIM_STORE_OK : SIM_STORE_ERROR;
}

enum sim_store_rc sim_store_advance(struct sim_store *s, const char *key, const char *number,
				    const char *to, int64_t amount, int64_t now_ms,
				    struct sim_invoice *out)
{
	enum sim_store_rc rc = SIM_STORE_ERROR;
	struct sim_action target = {.invoice_number = number};
	const char *why = NULL;
	pthread_mutex_lock(&s->lock);
	if (!sim_tx_begin(s))
		goto out;
	rc = sim_action_target(s, key, &target, out, &why);
	if (rc == SIM_STORE_OK) {
		rc = sim_case_assign(s, out, now_ms) ? sim_advance_to(s, out, to, amount, now_ms) :
						       SIM_STORE_ERROR;
	}
	if (rc == SIM_STORE_OK && (!sim_tx_commit(s) || !sim_invoice_load(s, out->id, out)))
		rc = SIM_STORE_ERROR;
out:
	if (rc != SIM_STORE_OK)
		sim_tx_rollback(s);
	pthread_mutex_unlock(&s->lock);
	return rc;
}
