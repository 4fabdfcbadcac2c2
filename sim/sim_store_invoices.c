/* SPDX-License-Identifier: MIT */
/* Receiving invoices and reading them back. */
#include "sim/sim_store_int.h"

#include <string.h>

enum sim_store_rc sim_store_invoice_create(struct sim_store *s, const struct sim_invoice_new *in)
{
	enum sim_store_rc rc = SIM_STORE_ERROR;
	pthread_mutex_lock(&s->lock);
	if (!sim_tx_begin(s))
		goto out;
	if (!in->accept_duplicates) {
		sqlite3_stmt *seen = sim_stmt(
			s, "SELECT 1 FROM invoices WHERE api_key = ? AND number = ? LIMIT 1");
		if (!seen)
			goto out;
		sqlite3_bind_text(seen, 1, in->api_key, -1, SQLITE_STATIC);
		sqlite3_bind_text(seen, 2, in->number, -1, SQLITE_STATIC);
		int step = sqlite3_step(seen);
		sqlite3_reset(seen);
		if (step == SQLITE_ROW) {
			if (!sim_counter_add(s, in->api_key, "duplicates_rejected", 1) ||
			    !sim_tx_commit(s))
				goto out;
			rc = SIM_STORE_CONFLICT;
			goto out;
		}
		if (step != SQLITE_DONE) {
			sim_db_error(s, "duplicate check");
			goto out;
		}
	}
	sqlite3_stmt *st = sim_stmt(
		s, "INSERT INTO invoices (api_key, number, received_at, currency, digits, capital, "
		   "costs, assign_at_ms, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (!st)
		goto out;
	char at[SIM_TIMESTAMP_LEN];
	sim_timestamp(sim_now_ms(), at);
	sqlite3_bind_text(st, 1, in->api_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, in->number, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, in->currency, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, in->digits);
	sqlite3_bind_int64(st, 6, in->capital);
	sqlite3_bind_int64(st, 7, in->costs);
	sqlite3_bind_int64(st, 8, in->assign_at_ms);
	sqlite3_bind_text(st, 9, in->body, -1, SQLITE_STATIC);
	if (!sim_step_done(s, st))
		goto out;
	if (!sim_event_add(s, sqlite3_last_insert_rowid(s->db), sim_now_ms(), "INVOICE_RECEIVED",
			   "invoice received for collection") ||
	    !sim_tx_commit(s))
		goto out;
	rc = SIM_STORE_OK;
out:
	if (rc == SIM_STORE_ERROR)
		sim_tx_rollback(s);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Runs a one-row invoice query with two text parameters. */
static enum sim_store_rc sim_invoice_find(struct sim_store *s, const char *sql, const char *a,
					  const char *b, struct sim_invoice *out)
{
	enum sim_store_rc rc = SIM_STORE_ERROR;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = sim_stmt(s, sql);
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		sim_invoice_read(st, out);
		rc = SIM_STORE_OK;
	} else if (step == SQLITE_DONE) {
		rc = SIM_STORE_NONE;
	} else {
		sim_db_error(s, "invoice lookup");
	}
	sqlite3_reset(st);
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

enum sim_store_rc sim_store_invoice_by_number(struct sim_store *s, const char *key,
					      const char *number, struct sim_invoice *out)
{
	/* The oldest copy: with duplicates accepted, the first one is the
	 * one the agency "knows"; later copies only show in /sim/invoices. */
	static const char sql[] = "SELECT " SIM_INVOICE_COLS " FROM invoices i "
				  "WHERE i.api_key = ? AND i.number = ? ORDER BY i.id LIMIT 1";
	return sim_invoice_find(s, sql, key, number, out);
}

enum sim_store_rc sim_store_invoice_by_case(struct sim_store *s, const char *key,
					    const char *case_id, struct sim_invoice *out)
{
	static const char sql[] = "SELECT " SIM_INVOICE_COLS " FROM invoices i "
				  "WHERE i.api_key = ? AND i.case_id = ?";
	return sim_invoice_find(s, sql, key, case_id, out);
}

enum sim_store_rc sim_store_events(struct sim_store *s, int64_t invoice_id,
				   void (*each)(const struct sim_event *, void *), void *ctx)
{
	enum sim_store_rc rc = SIM_STORE_ERROR;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = sim_stmt(s, "SELECT event_id, at, type, description FROM events "
				       "WHERE invoice_id = ? ORDER BY id");
	if (!st)
		goto out;
	sqlite3_bind_int64(st, 1, invoice_id);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct sim_event e = {
			.event_id = (const char *)sqlite3_column_text(st, 0),
			.date = (const char *)sqlite3_column_text(st, 1),
			.type = (const char *)sqlite3_column_text(st, 2),
			.description = (const char *)sqlite3_column_text(st, 3),
		};
		each(&e, ctx);
	}
	if (step == SQLITE_DONE)
		rc = SIM_STORE_OK;
	else
		sim_db_error(s, "events");
	sqlite3_reset(st);
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Calls on_action for the recorded actions of one invoice, in order. */
static bool sim_actions_of(struct sim_store *s, const struct sim_invoice *inv,
			   void (*on_action)(const struct sim_action *, void *), void *ctx)
{
	sqlite3_stmt *st = sim_stmt(s, "SELECT code, comment, amount, currency, payment_date, "
				       "reference, payment_method, received_at FROM actions "
				       "WHERE invoice_id = ? ORDER BY id");
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, inv->id);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct sim_action a = {
			.code = (const char *)sqlite3_column_text(st, 0),
			.comment = (const char *)sqlite3_column_text(st, 1),
			.invoice_number = inv->number,
			.case_id = inv->case_id,
			.has_amount = sqlite3_column_type(st, 2) != SQLITE_NULL,
			.amount = sqlite3_column_int64(st, 2),
			.currency = (const char *)sqlite3_column_text(st, 3),
			.payment_date = (const char *)sqlite3_column_text(st, 4),
			.reference = (const char *)sqlite3_column_text(st, 5),
			.payment_method = (const char *)sqlite3_column_text(st, 6),
			.received_at = (const char *)sqlite3_column_text(st, 7),
			.digits = inv->digits,
		};
		on_action(&a, ctx);
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE)
		sim_db_error(s, "actions");
	return step == SQLITE_DONE;
}

enum sim_store_rc sim_store_invoices(struct sim_store *s, const char *key,
				     void (*on_invoice)(const struct sim_invoice *, void *),
				     void (*on_action)(const struct sim_action *, void *), void *ctx)
{
	enum sim_store_rc rc = SIM_STORE_ERROR;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = sim_stmt(s, "SELECT " SIM_INVOICE_COLS ", i.body FROM invoices i "
				       "WHERE i.api_key = ? ORDER BY i.id");
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct sim_invoice inv;
		sim_invoice_read(st, &inv);
		inv.body = (const char *)sqlite3_column_text(st, 16);
		on_invoice(&inv, ctx);
		if (!sim_actions_of(s, &inv, on_action, ctx))
			break;
	}
	if (step == SQLITE_DONE)
		rc = SIM_STORE_OK;
	else if (step != SQLITE_ROW)
		sim_db_error(s, "invoices");
	sqlite3_reset(st);
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}
