/* SPDX-License-Identifier: MIT */
#include "store/rows.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* ---- names: the API's and the database's (the same words) ---- */

static const char *const status_names[CASE__COUNT] = {
	[CASE_PENDING] = "pending",   [CASE_SUBMITTED] = "submitted", [CASE_OPEN] = "open",
	[CASE_PAUSED] = "paused",     [CASE_DISPUTED] = "disputed",   [CASE_FAILED] = "failed",
	[CASE_PAID] = "paid",         [CASE_WITHDRAWN] = "withdrawn", [CASE_CLOSED] = "closed",
	[CASE_REJECTED] = "rejected",
};

const char *const action_type_names[ACTION__COUNT + 1] = {
	[ACTION_COMMENT] = "comment", [ACTION_WITHDRAW] = "withdraw", [ACTION_PAUSE] = "pause",
	[ACTION_RESUME] = "resume",   [ACTION_DISPUTE] = "dispute",
};

const char *const payment_kind_names[PAYMENT__COUNT + 1] = {
	[PAYMENT_PAYMENT] = "payment",
	[PAYMENT_CREDIT_NOTE] = "credit_note",
};

const char *const agency_environment_names[AGENCY_ENV__COUNT + 1] = {
	[AGENCY_ENV_PRODUCTION] = "production",
	[AGENCY_ENV_STAGING] = "staging",
};

const char *const outbox_kind_names[] = {
	[OUTBOX_CREATE] = "create", [OUTBOX_ACTION] = "action", [OUTBOX_PAYMENT] = "payment", NULL,
};

/* names[i] for 0 <= i < n, else NULL; the index of name, else -1. */
static const char *name_at(const char *const *names, int n, int i) { return i >= 0 && i < n ? names[i] : NULL; }

static int index_of(const char *const *names, int n, const char *name)
{
	for (int i = 0; name && i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

const char *case_status_name(enum case_status s) { return name_at(status_names, CASE__COUNT, (int)s); }
int case_status_parse(const char *name) { return index_of(status_names, CASE__COUNT, name); }
const char *action_type_name(enum action_type t) { return name_at(action_type_names, ACTION__COUNT, (int)t); }
int action_type_parse(const char *name) { return index_of(action_type_names, ACTION__COUNT, name); }
const char *payment_kind_name(enum payment_kind k) { return name_at(payment_kind_names, PAYMENT__COUNT, (int)k); }
const char *agency_environment_name(enum agency_environment e)
{
	return name_at(agency_environment_names, AGENCY_ENV__COUNT, (int)e);
}
const char *outbox_kind_name(enum outbox_kind k) { return name_at(outbox_kind_names, OUTBOX_PAYMENT + 1, (int)k); }

bool rows_status_in(const char *status, unsigned mask)
{
	int i = case_status_parse(status);
	return i >= 0 && (mask & (1u << i));
}

/* ---- columns ---- */

void rows_case_read(const struct db_row *st, int i, void *dst)
{
	/* Straight calls, not a column table: a listing page reads 51 of these
	 * rows, and the table's dispatch was 5% of its instructions. */
	struct case_row *r = dst;
	r->id = db_row_text(st, i + 0);
	r->tenant = db_row_text(st, i + 1);
	r->seq = db_row_int64(st, i + 2);
	r->status = db_row_text(st, i + 3);
	r->stage = db_row_text(st, i + 4);
	r->agency_status = db_row_text(st, i + 5);
	r->service = db_row_text(st, i + 6);
	r->debtor_type = db_row_text(st, i + 7);
	r->your_reference = db_row_text(st, i + 8);
	r->agency_case_id = db_row_text(st, i + 9);
	r->invoice_number = db_row_text(st, i + 10);
	r->invoice_json = db_row_text(st, i + 11);
	r->debtor_json = db_row_text(st, i + 12);
	r->currency = db_row_text(st, i + 13);
	r->original = db_row_int64(st, i + 14);
	r->paid = db_row_int64(st, i + 15);
	r->credited = db_row_int64(st, i + 16);
	r->remaining = db_row_int64(st, i + 17);
	r->interest = db_row_int64(st, i + 18);
	r->costs = db_row_int64(st, i + 19);
	r->created_at = db_row_text(st, i + 20);
	r->updated_at = db_row_text(st, i + 21);
	r->submitted_at = db_row_text(st, i + 22);
	r->closed_at = db_row_text(st, i + 23);
}

void rows_settings_cols(struct agency_settings *s, struct db_col *cols)
{
	memset(s, 0, sizeof *s);
	const struct db_col c[SETTINGS_NCOLUMNS + 1] = {
		DB_COL_COPY(s->creditor_reference),
		DB_COL_COPY(s->api_key),
		DB_COL_COPY(s->service),
		DB_COL_COPY(s->customer_type),
		DB_COL_INT(&s->min_days_overdue, 0),
		DB_COL_INT(&s->reminder_wait_days, 0),
		DB_COL_INT64(&s->min_amount),
		DB_COL_BOOL(&s->enabled),
		DB_COL_INT(&s->api_key_valid, -1),
		DB_COL_COPY(s->updated_at),
		DB_COL_NAME((int *)&s->environment, agency_environment_names),
		DB_COL_COPY(s->actor),
		DB_END_COL,
	};
	memcpy(cols, c, sizeof c);
}

void rows_settings_done(struct agency_settings *s)
{
	s->api_key_set = s->api_key[0] != '\0';
	if (s->api_key_valid > 0)
		s->api_key_valid = 1;
}

/* ---- copies ---- */

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

bool rows_case_copy(const struct case_row *src, struct case_copy *dst)
{
	dst->row = *src;
	const char **t[] = {
		&dst->row.id, &dst->row.tenant, &dst->row.status, &dst->row.stage,
		&dst->row.agency_status, &dst->row.service, &dst->row.debtor_type,
		&dst->row.your_reference, &dst->row.agency_case_id, &dst->row.invoice_number,
		&dst->row.invoice_json, &dst->row.debtor_json, &dst->row.currency,
		&dst->row.created_at, &dst->row.updated_at, &dst->row.submitted_at,
		&dst->row.closed_at,
	};
	size_t nf = sizeof t / sizeof t[0], total = 0;
	for (size_t i = 0; i < nf; i++)
		total += *t[i] ? strlen(*t[i]) + 1 : 0; /* still src's strings: row was copied whole */
	dst->mem = malloc(total ? total : 1);
	if (!dst->mem)
		return false;
	char *at = dst->mem;
	for (size_t i = 0; i < nf; i++)
		arena_put(t[i], *t[i], &at);
	return true;
}

/* ---- writes ---- */

enum store_result rows_event_add(struct db_conn *w, const char *case_id, const char *at, const char *from,
				 const char *to, const char *source, const char *detail, const char *actor)
{
	/* The writer holds the transaction, so max(seq) + 1 cannot race. */
	static const char sql[] =
		"INSERT INTO case_events (case_id, seq, at, from_status, to_status, source, detail, actor)"
		" SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4, ?5, ?6, ?7 FROM case_events WHERE case_id = ?1";
	assert(case_id && at && to && source);
	const struct db_param params[] = {
		DB_TEXT(case_id), DB_TEXT(at),     DB_TEXT(from),  DB_TEXT(to),
		DB_TEXT(source),  DB_TEXT(detail), DB_TEXT(actor), DB_END,
	};
	return db_no_duplicate(db_exec(w, sql, params, "store: add event"), "store: add event");
}

enum store_result rows_set_status(struct db_conn *w, const char *case_id, const char *status, const char *at)
{
	/* submitted_at keeps the first acceptance; closed_at follows the
	 * status both ways, so a case the agency reopens is open again. */
	static const char sql[] =
		"UPDATE cases SET status = ?2, updated_at = ?3,"
		" submitted_at = CASE WHEN ?2 = 'submitted' THEN COALESCE(submitted_at, ?3) ELSE submitted_at END,"
		" closed_at = CASE WHEN ?2 IN ('paid', 'withdrawn', 'closed', 'rejected') THEN ?3 ELSE NULL END"
		" WHERE id = ?1";
	assert(case_status_parse(status) >= 0);
	const struct db_param params[] = {DB_TEXT(case_id), DB_TEXT(status), DB_TEXT(at), DB_END};
	/* Leaving withdrawn/rejected for a live status can clash with
	 * cases_live_invoice; no caller does that, so it is a fault. */
	return db_no_duplicate(db_exec(w, sql, params, "store: set status"), "store: set status");
}

enum store_result rows_cancel_queue(struct db_conn *w, const char *case_id, const char *at)
{
	/* A sending row is left alone: its outcome belongs to the forwarder,
	 * which reports it with store_outbox_done/_retry/_fail. */
	static const char outbox[] = "UPDATE outbox SET state = 'cancelled', updated_at = ?2"
				     " WHERE case_id = ?1 AND state IN ('pending', 'failed')";
	static const char actions[] = "UPDATE actions SET state = 'cancelled', updated_at = ?2"
				      " WHERE case_id = ?1 AND state IN ('pending', 'failed')";
	const struct db_param params[] = {DB_TEXT(case_id), DB_TEXT(at), DB_END};
	enum store_result r = db_exec(w, outbox, params, "store: cancel queue");
	return r == STORE_OK ? db_exec(w, actions, params, "store: cancel queue") : r;
}

enum store_result rows_balance_add(struct db_conn *w, const char *case_id, int64_t paid, int64_t credited,
				   const char *at)
{
	static const char sql[] = "UPDATE cases SET paid = paid + ?2, credited = credited + ?3,"
				  " remaining = remaining - ?2 - ?3, updated_at = ?4 WHERE id = ?1";
	assert(paid >= 0 && credited >= 0);
	const struct db_param params[] = {DB_TEXT(case_id), DB_INT(paid), DB_INT(credited), DB_TEXT(at), DB_END};
	return db_exec(w, sql, params, "store: balance");
}

enum store_result rows_payment_insert(struct db_conn *w, const struct payment_row *p)
{
	static const char sql[] =
		"INSERT INTO payments (id, tenant, case_id, kind, amount, applied, paid_on, reference,"
		" source, agency_payment_id, created_at, actor)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
	assert(payment_kind_name(p->kind));
	const struct db_param params[] = {
		DB_TEXT(p->id),        DB_TEXT(p->tenant),    DB_TEXT(p->case_id),
		DB_TEXT(payment_kind_name(p->kind)),          DB_INT(p->amount),
		DB_INT(p->applied),    DB_TEXT(p->paid_on),   DB_TEXT(p->reference),
		DB_TEXT(p->source),    DB_TEXT(p->agency_payment_id),
		DB_TEXT(p->created_at), DB_TEXT(p->actor), DB_END,
	};
	return db_exec(w, sql, params, "store: insert payment");
}

enum store_result rows_outbox_add(struct db_conn *w, const char *tenant, const char *case_id, enum outbox_kind kind,
				  const char *ref_id, const char *at)
{
	static const char sql[] = "INSERT INTO outbox (tenant, case_id, kind, ref_id, state, attempts,"
				  " next_attempt_at, created_at, updated_at)"
				  " VALUES (?1, ?2, ?3, ?4, 'pending', 0, 0, ?5, ?5)";
	assert((kind == OUTBOX_CREATE) == (ref_id == NULL));
	const struct db_param params[] = {
		DB_TEXT(tenant), DB_TEXT(case_id), DB_TEXT(outbox_kind_names[kind]), DB_TEXT(ref_id), DB_TEXT(at),
		DB_END,
	};
	/* The row's key is fresh: a clash is a fault. */
	return db_no_duplicate(db_exec(w, sql, params, "store: insert outbox"), "store: insert outbox");
}
