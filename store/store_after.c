/* SPDX-License-Identifier: MIT */
/* After the handoff, as the API drives it: direct payments and credit notes,
 * actions for the agency, the retry of a failed case, and the case detail
 * with all of its lists. */
#include <stdio.h>
#include <string.h>

#include "server/ids.h"
#include "store/store_internal.h"

#define WITHDRAWN_HERE "withdrawn before the agency received it"

/* ---- shared with store_sync.c ---- */

enum store_result store_case_balance_add(struct store_conn *w, const char *case_id, int64_t paid,
					 int64_t credited, const char *at)
{
	static const char sql[] = "UPDATE cases SET paid = paid + ?2, credited = credited + ?3,"
				  " remaining = remaining - ?2 - ?3, updated_at = ?4 WHERE id = ?1";
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(w, STMT_CASE_BALANCE_ADD, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, case_id, &rc);
	store_bind_int64(st, 2, paid, &rc);
	store_bind_int64(st, 3, credited, &rc);
	store_bind_text(st, 4, at, &rc);
	return store_step_done(w, st, rc, "store: balance");
}

enum store_result store_payment_insert(struct store_conn *w, const struct payment_row *p)
{
	static const char sql[] =
		"INSERT INTO payments (id, tenant, case_id, kind, amount, applied, paid_on, reference,"
		" source, agency_payment_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
		" ?10, ?11)";
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(w, STMT_PAYMENT_INSERT, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, p->id, &rc);
	store_bind_text(st, 2, p->tenant, &rc);
	store_bind_text(st, 3, p->case_id, &rc);
	store_bind_text(st, 4, p->kind, &rc);
	store_bind_int64(st, 5, p->amount, &rc);
	store_bind_int64(st, 6, p->applied, &rc);
	store_bind_text(st, 7, p->paid_on, &rc);
	store_bind_text(st, 8, p->reference, &rc);
	store_bind_text(st, 9, p->source, &rc);
	store_bind_text(st, 10, p->agency_payment_id, &rc);
	store_bind_text(st, 11, p->created_at, &rc);
	return store_step_done(w, st, rc, "store: insert payment");
}

/* ---- helpers ---- */

/* The tenant's case status (and remaining balance), on the writer. */
static enum store_result case_state(struct store_conn *w, const char *tenant, const char *id,
				    char status[STORE_NAME_MAX], int64_t *remaining)
{
	static const char sql[] = "SELECT status, remaining FROM cases WHERE id = ?1 AND tenant = ?2";
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(w, STMT_CASE_STATE, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, id, &rc);
	store_bind_text(st, 2, tenant, &rc);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (!store_copy_col(st, 0, status, STORE_NAME_MAX))
			r = store_fail_msg("store: case state", "status longer than its field");
		*remaining = sqlite3_column_int64(st, 1);
	} else {
		r = rc == SQLITE_DONE ? STORE_NOT_FOUND : store_fail(w->db, rc, "store: case state");
	}
	store_release(st);
	return r;
}

/* Queues an action or payment for the forwarder, behind the case's earlier rows. */
static enum store_result outbox_add(struct store_conn *w, const char *tenant, const char *case_id,
				    const char *kind, const char *ref_id, const char *at)
{
	static const char sql[] = "INSERT INTO outbox (tenant, case_id, kind, ref_id, state, attempts,"
				  " next_attempt_at, created_at, updated_at)"
				  " VALUES (?1, ?2, ?3, ?4, 'pending', 0, 0, ?5, ?5)";
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(w, STMT_OUTBOX_INSERT_REF, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, tenant, &rc);
	store_bind_text(st, 2, case_id, &rc);
	store_bind_text(st, 3, kind, &rc);
	store_bind_text(st, 4, ref_id, &rc);
	store_bind_text(st, 5, at, &rc);
	return store_step_done(w, st, rc, "store: insert outbox");
}

/* A clash on a fresh random id is a fault, not a duplicate of anything. */
static enum store_result no_duplicate(enum store_result r, const char *what)
{
	return r == STORE_DUPLICATE ? store_fail_msg(what, "UNIQUE constraint failed") : r;
}

/* ---- payments ---- */

enum store_result store_payment_add(struct store *s, const char *tenant, const char *case_id,
				    const char *kind, int64_t amount, const char *paid_on,
				    const char *reference, const char *now,
				    struct payment_add_result *out)
{
	struct store_conn *w;
	int64_t remaining = 0;
	memset(out, 0, sizeof *out);
	if (amount <= 0)
		return STORE_LIMIT;
	bool credit = strcmp(kind, "credit_note") == 0;
	if (!credit && strcmp(kind, "payment") != 0)
		return store_fail_msg("store: payment add", "unknown payment kind");
	if (!ids_new("pay_", out->id, sizeof out->id))
		return store_fail_msg("store: payment add", "no random id");
	enum store_result r = store_write_begin(s, &w);
	if (r != STORE_OK)
		goto out;
	/* Status and balance are read under the write lock: two payments at
	 * once cannot both fit into the same remaining balance. */
	r = case_state(w, tenant, case_id, out->status, &remaining);
	if (r != STORE_OK)
		goto out;
	if (!store_status_in(out->status, CASE_MASK_OPEN)) {
		r = STORE_STATE;
		goto out;
	}
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
	r = no_duplicate(store_payment_insert(w, &p), "store: payment add");
	if (r == STORE_OK)
		r = store_case_balance_add(w, case_id, credit ? 0 : amount, credit ? amount : 0, now);
	if (r == STORE_OK)
		r = no_duplicate(outbox_add(w, tenant, case_id, "payment", out->id, now),
				 "store: payment add");
	if (r == STORE_OK)
		r = store_write_commit(w);
	if (r == STORE_OK)
		out->remaining = remaining - amount;
out:
	store_write_end(s); /* rolls back whatever did not commit */
	if (r != STORE_OK)
		out->id[0] = '\0';
	return r;
}

/* ---- actions ---- */

/* Where each action makes sense (DESIGN.md, "After the handoff"). */
static const struct {
	const char *type;
	unsigned allowed;
} action_rules[] = {
	{"comment", CASE_MASK_OPEN},
	{"withdraw", CASE_MASK_OPEN},
	{"pause", 1u << CASE_OPEN},
	{"resume", 1u << CASE_PAUSED},
	{"dispute", (1u << CASE_OPEN) | (1u << CASE_PAUSED)},
};

/* The statuses type is allowed in; 0 for an unknown type. */
static unsigned action_allowed(const char *type)
{
	for (size_t i = 0; i < sizeof action_rules / sizeof action_rules[0]; i++)
		if (strcmp(action_rules[i].type, type) == 0)
			return action_rules[i].allowed;
	return 0;
}

/* True when the agency provably never received the case: its create row
 * waits (pending) or was given up (failed), and no send of it has an unknown
 * outcome. Anything else (sending, done, an unknown outcome) may have reached
 * the agency, and only a WITHDRAW sent there can undo it. */
static enum store_result never_sent(struct store_conn *w, const char *case_id, bool *yes)
{
	static const char sql[] = "SELECT state IN ('pending', 'failed') AND lookup_first = 0"
				  " FROM outbox WHERE case_id = ?1 AND kind = 'create'"
				  " ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st = NULL;
	*yes = false;
	enum store_result r = store_prepare(w, STMT_CREATE_ROW, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, case_id, &rc);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*yes = sqlite3_column_int(st, 0) != 0;
	else if (rc != SQLITE_DONE)
		r = store_fail(w->db, rc, "store: create row");
	store_release(st);
	return r;
}

static enum store_result action_insert(struct store_conn *w, const char *id, const char *tenant,
				       const char *case_id, const char *type, const char *comment,
				       const char *state, const char *at)
{
	static const char sql[] = "INSERT INTO actions (id, tenant, case_id, type, comment, state,"
				  " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)";
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(w, STMT_ACTION_INSERT, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, id, &rc);
	store_bind_text(st, 2, tenant, &rc);
	store_bind_text(st, 3, case_id, &rc);
	store_bind_text(st, 4, type, &rc);
	store_bind_text(st, 5, comment, &rc);
	store_bind_text(st, 6, state, &rc);
	store_bind_text(st, 7, at, &rc);
	return no_duplicate(store_step_done(w, st, rc, "store: insert action"), "store: insert action");
}

/* The withdrawal of a case the agency never had: withdrawn now, its queue
 * cancelled (the create row first of all), the action done. */
static enum store_result withdraw_here(struct store_conn *w, const char *tenant,
				       const char *case_id, const char *comment, const char *now,
				       struct action_add_result *out)
{
	enum store_result r = store_case_set_status(w, case_id, "withdrawn", now);
	if (r == STORE_OK)
		r = store_event_add(w, case_id, now, out->status, "withdrawn", "api", WITHDRAWN_HERE);
	if (r == STORE_OK)
		r = store_case_cancel_queue(w, case_id, now);
	if (r == STORE_OK)
		r = action_insert(w, out->id, tenant, case_id, "withdraw", comment, "done", now);
	snprintf(out->state, sizeof out->state, "done");
	snprintf(out->status, sizeof out->status, "withdrawn");
	return r;
}

enum store_result store_action_add(struct store *s, const char *tenant, const char *case_id,
				   const char *type, const char *comment, const char *now,
				   struct action_add_result *out)
{
	struct store_conn *w;
	int64_t remaining;
	memset(out, 0, sizeof *out);
	unsigned allowed = action_allowed(type);
	if (!allowed)
		return store_fail_msg("store: action add", "unknown action type");
	if (!ids_new("act_", out->id, sizeof out->id))
		return store_fail_msg("store: action add", "no random id");
	enum store_result r = store_write_begin(s, &w);
	if (r != STORE_OK)
		goto out;
	r = case_state(w, tenant, case_id, out->status, &remaining);
	if (r != STORE_OK)
		goto out;
	if (!store_status_in(out->status, allowed)) {
		r = STORE_STATE;
		goto out;
	}
	bool here = false;
	if (strcmp(type, "withdraw") == 0 &&
	    store_status_in(out->status, (1u << CASE_PENDING) | (1u << CASE_FAILED)))
		r = never_sent(w, case_id, &here);
	if (r != STORE_OK)
		goto out;
	if (here) {
		r = withdraw_here(w, tenant, case_id, comment, now, out);
	} else {
		snprintf(out->state, sizeof out->state, "pending");
		r = action_insert(w, out->id, tenant, case_id, type, comment, "pending", now);
		if (r == STORE_OK)
			r = no_duplicate(outbox_add(w, tenant, case_id, "action", out->id, now),
					 "store: action add");
	}
	if (r == STORE_OK)
		r = store_write_commit(w);
out:
	store_write_end(s);
	if (r != STORE_OK)
		out->id[0] = out->state[0] = '\0'; /* status stays: STORE_STATE reports it */
	return r;
}

/* ---- retry ---- */

/* Runs one of retry's two requeue statements for case_id at `at`. */
static enum store_result requeue_failed(struct store_conn *w, enum store_stmt id, const char *sql,
					const char *case_id, const char *at)
{
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(w, id, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, case_id, &rc);
	store_bind_text(st, 2, at, &rc);
	return store_step_done(w, st, rc, "store: retry");
}

enum store_result store_case_retry(struct store *s, const char *tenant, const char *case_id,
				   const char *now, char *status)
{
	struct store_conn *w;
	char current[STORE_NAME_MAX] = "";
	int64_t remaining;
	enum store_result r = store_write_begin(s, &w);
	if (r != STORE_OK)
		goto out;
	r = case_state(w, tenant, case_id, current, &remaining);
	if (r != STORE_OK)
		goto out;
	if (strcmp(current, "failed") != 0) {
		r = STORE_STATE;
		goto out;
	}
	r = store_case_set_status(w, case_id, "pending", now);
	if (r == STORE_OK)
		r = store_event_add(w, case_id, now, "failed", "pending", "api", "retry requested");
	/* lookup_first stays: a send whose outcome is unknown is still
	 * looked up before the invoice goes out again. */
	if (r == STORE_OK)
		r = requeue_failed(w, STMT_OUTBOX_RETRY_CASE,
				   "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = 0,"
				   " updated_at = ?2 WHERE case_id = ?1 AND state = 'failed'",
				   case_id, now);
	if (r == STORE_OK)
		r = requeue_failed(w, STMT_ACTIONS_RETRY_CASE,
				   "UPDATE actions SET state = 'pending', updated_at = ?2"
				   " WHERE case_id = ?1 AND state = 'failed'",
				   case_id, now);
	if (r == STORE_OK)
		r = store_write_commit(w);
	if (r == STORE_OK)
		snprintf(current, sizeof current, "pending");
out:
	store_write_end(s);
	if (status)
		snprintf(status, STORE_NAME_MAX, "%s", current);
	return r;
}

/* ---- reading payments and actions ---- */

/* The columns of a struct payment_row, in the order payment_read reads them.
 * forwarded: its outbox row is done (found through outbox_case, not a scan). */
#define PAYMENT_COLUMNS                                                                    \
	"p.id, p.tenant, p.case_id, p.kind, p.amount, p.applied, p.paid_on, p.reference,"    \
	" p.source, p.agency_payment_id, p.created_at, EXISTS (SELECT 1 FROM outbox o"       \
	" WHERE o.case_id = p.case_id AND o.kind = 'payment' AND o.ref_id = p.id"          \
	" AND o.state = 'done')"

#define ACTION_COLUMNS "id, tenant, case_id, type, comment, state, created_at, updated_at"

struct payment_call {
	store_payment_fn fn;
	void *ctx;
};

static int payment_read(sqlite3_stmt *st, void *arg)
{
	struct payment_call *pc = arg;
	struct payment_row p = {
		.id = store_col_text(st, 0),
		.tenant = store_col_text(st, 1),
		.case_id = store_col_text(st, 2),
		.kind = store_col_text(st, 3),
		.amount = sqlite3_column_int64(st, 4),
		.applied = sqlite3_column_int64(st, 5),
		.paid_on = store_col_text(st, 6),
		.reference = store_col_text(st, 7),
		.source = store_col_text(st, 8),
		.agency_payment_id = store_col_text(st, 9),
		.created_at = store_col_text(st, 10),
		.forwarded = sqlite3_column_int(st, 11) != 0,
	};
	return pc->fn(pc->ctx, &p);
}

struct action_call {
	store_action_fn fn;
	void *ctx;
};

static int action_read(sqlite3_stmt *st, void *arg)
{
	struct action_call *ac = arg;
	struct action_row a = {
		.id = store_col_text(st, 0),
		.tenant = store_col_text(st, 1),
		.case_id = store_col_text(st, 2),
		.type = store_col_text(st, 3),
		.comment = store_col_text(st, 4),
		.state = store_col_text(st, 5),
		.created_at = store_col_text(st, 6),
		.updated_at = store_col_text(st, 7),
	};
	return ac->fn(ac->ctx, &a);
}

struct settlement_ref_call {
	store_settlement_ref_fn fn;
	void *ctx;
};

static int settlement_ref_read(sqlite3_stmt *st, void *arg)
{
	struct settlement_ref_call *sc = arg;
	struct settlement_ref_row ref = {
		.settlement_id = store_col_text(st, 0),
		.amount = sqlite3_column_int64(st, 1),
		.allocation_date = store_col_text(st, 2),
	};
	return sc->fn(sc->ctx, &ref);
}

/* Prepares the statement id (sql) on c, binds text v to ?1 and runs row over
 * its rows. */
static enum store_result each_by_key(struct store_conn *c, enum store_stmt id, const char *sql,
				     const char *v, int (*row)(sqlite3_stmt *, void *), void *arg,
				     bool *stop, const char *what)
{
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(c, id, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, v, &rc);
	return store_each(c, st, rc, row, arg, stop, what);
}

/* The detail's three lists after the case and its events, oldest first. */
static enum store_result read_lists(struct store_conn *c, const char *id,
				    const struct case_detail_fns *fns, void *ctx, bool *stop)
{
	enum store_result r = STORE_OK;
	if (fns->on_payment && !*stop) {
		struct payment_call pc = {fns->on_payment, ctx};
		r = each_by_key(c, STMT_DETAIL_PAYMENTS,
				"SELECT " PAYMENT_COLUMNS " FROM payments p WHERE p.case_id = ?1"
				" AND p.source = 'api' ORDER BY p.created_at, p.id",
				id, payment_read, &pc, stop, "store: detail payments");
	}
	if (r == STORE_OK && fns->on_action && !*stop) {
		struct action_call ac = {fns->on_action, ctx};
		r = each_by_key(c, STMT_DETAIL_ACTIONS,
				"SELECT " ACTION_COLUMNS " FROM actions WHERE case_id = ?1"
				" ORDER BY created_at, id",
				id, action_read, &ac, stop, "store: detail actions");
	}
	if (r == STORE_OK && fns->on_settlement && !*stop) {
		struct settlement_ref_call sc = {fns->on_settlement, ctx};
		r = each_by_key(c, STMT_DETAIL_SETTLEMENTS,
				"SELECT settlement_id, amount, allocation_date FROM settlement_allocations"
				" WHERE case_id = ?1 ORDER BY allocation_date, settlement_id, pos",
				id, settlement_ref_read, &sc, stop, "store: detail settlements");
	}
	return r;
}

static int no_case(void *ctx, const struct case_row *c)
{
	(void)ctx;
	(void)c;
	return 0;
}

enum store_result store_case_detail(struct store *s, const char *tenant, const char *id,
				    const struct case_detail_fns *fns, void *ctx)
{
	struct store_conn *c = store_reader_get(s);
	bool stop = false;
	/* One read transaction: the balance and the payments that make it up
	 * come from the same snapshot. */
	enum store_result r = store_run(c, STMT_BEGIN, "BEGIN", "store: begin read");
	if (r != STORE_OK)
		goto out;
	r = store_case_read(c, tenant, id, fns->on_case ? fns->on_case : no_case, ctx, &stop);
	if (r == STORE_OK && !stop && fns->on_event)
		r = store_events_read(c, id, fns->on_event, ctx, &stop);
	if (r == STORE_OK)
		r = read_lists(c, id, fns, ctx, &stop);
	if (r >= 0) {
		enum store_result end = store_run(c, STMT_COMMIT, "COMMIT", "store: end read");
		if (end < 0)
			r = end;
	}
out:
	store_reader_put(s, c); /* rolls back a read left open by an error */
	return r;
}

enum store_result store_payment_get(struct store *s, const char *id, store_payment_fn fn, void *ctx)
{
	struct store_conn *c = store_reader_get(s);
	struct payment_call pc = {fn, ctx};
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(
		c, STMT_PAYMENT_BY_ID, "SELECT " PAYMENT_COLUMNS " FROM payments p WHERE p.id = ?1", &st);
	if (r != STORE_OK)
		goto out;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, id, &rc);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		payment_read(st, &pc);
	else
		r = rc == SQLITE_DONE ? STORE_NOT_FOUND : store_fail(c->db, rc, "store: payment get");
	store_release(st);
out:
	store_reader_put(s, c);
	return r;
}

enum store_result store_action_get(struct store *s, const char *id, store_action_fn fn, void *ctx)
{
	struct store_conn *c = store_reader_get(s);
	struct action_call ac = {fn, ctx};
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(
		c, STMT_ACTION_BY_ID, "SELECT " ACTION_COLUMNS " FROM actions WHERE id = ?1", &st);
	if (r != STORE_OK)
		goto out;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, id, &rc);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		action_read(st, &ac);
	else
		r = rc == SQLITE_DONE ? STORE_NOT_FOUND : store_fail(c->db, rc, "store: action get");
	store_release(st);
out:
	store_reader_put(s, c);
	return r;
}
