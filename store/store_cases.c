/* SPDX-License-Identifier: MIT */
/* Collection cases: the create (with its event, outbox row and idempotency
 * record in one transaction) and reading one case with all its lists. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/rows.h"
#include "store/store_internal.h"

/* ---- create ---- */

/* The live case of (tenant, invoice number), its id copied into id. */
static enum store_result live_case(struct db_conn *w, const char *tenant, const char *invoice_number,
				   char id[STORE_ID_MAX])
{
	/* The WHERE repeats the partial index cases_live_invoice word for word
	 * so that SQLite can use it. */
	static const char sql[] = "SELECT id FROM cases WHERE tenant = ?1 AND invoice_number = ?2"
				  " AND status NOT IN ('withdrawn', 'rejected')";
	const struct db_param params[] = {DB_TEXT(tenant), DB_TEXT(invoice_number), DB_END};
	const struct db_col cols[] = {DB_COL_COPYN(id, STORE_ID_MAX), DB_END_COL};
	return db_one(w, sql, params, cols, "store: live case");
}

static enum store_result next_seq(struct db_conn *w, const char *tenant, int64_t *seq)
{
	/* max() over the primary-key prefix is one b-tree seek. It is safe
	 * because the caller holds the write transaction. */
	static const char sql[] = "SELECT COALESCE(MAX(seq), 0) + 1 FROM cases WHERE tenant = ?1";
	const struct db_param params[] = {DB_TEXT(tenant), DB_END};
	const struct db_col cols[] = {DB_COL_INT64(seq), DB_END_COL};
	return db_one(w, sql, params, cols, "store: next seq");
}

static enum store_result insert_case(struct db_conn *w, const struct case_new *in, const char *status,
				     int64_t seq)
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
	const struct db_param params[] = {
		DB_TEXT(c->tenant),            DB_INT(seq),
		DB_TEXT(c->id),                DB_TEXT(status),
		DB_TEXT(c->stage),             DB_TEXT(c->agency_status),
		DB_TEXT(c->service),           DB_TEXT(c->debtor_type),
		DB_TEXT(c->your_reference),    DB_TEXT(c->agency_case_id),
		DB_TEXT(c->invoice_number),    DB_TEXT(c->invoice_json),
		DB_TEXT(c->debtor_json),       DB_TEXT(in->debtor_name),
		DB_TEXT(in->business_name),    DB_TEXT(in->org_number),
		DB_TEXT(in->date_of_birth),    DB_TEXT(in->national_id),
		DB_TEXT(in->national_id_hash), DB_TEXT(c->currency),
		DB_INT(c->original),           DB_INT(c->paid),
		DB_INT(c->credited),           DB_INT(c->remaining),
		DB_INT(c->interest),           DB_INT(c->costs),
		DB_TEXT(c->created_at),        DB_TEXT(c->updated_at ? c->updated_at : c->created_at),
		DB_TEXT(c->submitted_at),      DB_TEXT(c->closed_at),
		DB_END,
	};
	return db_exec(w, sql, params, "store: insert case");
}

static enum store_result insert_first_event(struct db_conn *w, const struct case_new *in, const char *status,
					    const char *actor)
{
	static const char sql[] = "INSERT INTO case_events (case_id, seq, at, from_status, to_status,"
				  " source, detail, actor) VALUES (?1, 1, ?2, NULL, ?3, 'api', NULL, ?4)";
	const struct db_param params[] = {
		DB_TEXT(in->c.id), DB_TEXT(in->c.created_at), DB_TEXT(status), DB_TEXT(actor), DB_END,
	};
	return db_exec(w, sql, params, "store: insert event");
}

/* The inserts of a new case, inside the caller's write transaction. */
static enum store_result insert_all(struct db_conn *w, const struct case_new *in, struct case_create_result *out)
{
	const char *status = in->c.status ? in->c.status : "pending";
	enum store_result r = next_seq(w, in->c.tenant, &out->seq);
	if (r != STORE_OK)
		return r;
	r = insert_case(w, in, status, out->seq);
	/* The live-invoice check ran in this same transaction, under the write
	 * lock: a unique clash here is the id's (cases_id), a fault, logged
	 * with the constraint's name. (PostgreSQL would refuse any statement
	 * after it in the transaction, so nothing is looked up.) */
	if (r == STORE_DUPLICATE)
		return db_fail_msg("store: insert case", w->duplicate);
	struct buf actor = {0};
	const char *actor_json = store_actor_json(&in->actor, &actor);
	if (r == STORE_OK)
		r = insert_first_event(w, in, status, actor_json);
	if (r == STORE_OK)
		r = rows_case_event(w, EVENT_CASE_CREATED, in->c.tenant, in->c.id, in->c.created_at, actor_json, NULL);
	if (r == STORE_OK)
		r = rows_outbox_add(w, in->c.tenant, in->c.id, OUTBOX_CREATE, NULL, in->c.created_at);
	if (r == STORE_OK)
		r = rows_idem_record(w, in->c.tenant, &in->idem, in->c.created_at);
	buf_free(&actor);
	/* The other rows' keys derive from the new case's id or from the
	 * idempotency key checked above: a clash there is a fault. */
	return db_no_duplicate(r, "store: insert case rows");
}

enum store_result store_case_create_in_tx(struct db_conn *w, const struct case_new *in,
					  struct case_create_result *out)
{
	memset(out, 0, sizeof *out);
	/* Both checks run again inside the transaction: the caller's earlier
	 * look-ups may be stale by now, and an earlier create of the same
	 * group commit may have taken the key or the invoice number. */
	if (in->idem.key) {
		enum store_result r = rows_idem_check(w, in->c.tenant, &in->idem, &out->replay);
		if (r != STORE_NOT_FOUND)
			return r;
	}
	enum store_result r = live_case(w, in->c.tenant, in->c.invoice_number, out->case_id);
	if (r != STORE_NOT_FOUND)
		return r == STORE_OK ? STORE_DUPLICATE : r;
	r = insert_all(w, in, out);
	if (r != STORE_OK)
		out->seq = 0;
	return r;
}

/* ---- reading one case ---- */

/* One read of the case detail: the callbacks and what each row fills. */
struct detail_read {
	const struct case_detail_fns *fns;
	void *ctx;
	bool found;
	struct case_row c;
	struct case_event_row e;
	struct payment_row p;
	struct action_row a;
	struct settlement_ref_row sr;
	struct case_delivery_row dl;
};

static int on_case_row(void *arg)
{
	struct detail_read *d = arg;
	d->found = true;
	return d->fns->on_case ? d->fns->on_case(d->ctx, &d->c) : 0;
}

static int on_event_row(void *arg)
{
	struct detail_read *d = arg;
	return d->fns->on_event(d->ctx, &d->e);
}

static int on_payment_row(void *arg)
{
	struct detail_read *d = arg;
	return d->fns->on_payment(d->ctx, &d->p);
}

static int on_action_row(void *arg)
{
	struct detail_read *d = arg;
	return d->fns->on_action(d->ctx, &d->a);
}

static int on_settlement_row(void *arg)
{
	struct detail_read *d = arg;
	return d->fns->on_settlement(d->ctx, &d->sr);
}

static int on_delivery_row(void *arg)
{
	struct detail_read *d = arg;
	return d->fns->on_delivery(d->ctx, &d->dl);
}

/* The case's first outbox row that still waits (struct case_delivery_row):
 * the outbox_case index (case_id, id) in order, stopping at the first. */
static const char delivery_sql[] =
	"SELECT o.kind, o.state, o.attempts, o.last_error, o.next_attempt_at, o.updated_at FROM outbox o"
	" WHERE o.case_id = ?1 AND (o.state IN ('pending', 'sending')"
	"   OR (o.state = 'failed' AND o.kind = 'create'"
	"     AND EXISTS (SELECT 1 FROM cases c WHERE c.id = o.case_id AND c.status = 'failed')))"
	" ORDER BY o.id LIMIT 1";

/* The case's lists after the case itself, oldest first, then what waits for
 * the agency; a NULL callback skips its part. */
static enum store_result read_lists(struct db_conn *c, const char *id, struct detail_read *d, bool *stop)
{
	static const char events[] = "SELECT seq, at, from_status, to_status, source, detail, actor"
				     " FROM case_events WHERE case_id = ?1 ORDER BY seq";
	/* forwarded: its outbox row is done (found through outbox_case, not a scan). */
	static const char payments[] =
		"SELECT p.id, p.tenant, p.case_id, p.kind, p.amount, p.applied, p.paid_on, p.reference,"
		" p.source, p.agency_payment_id, p.created_at, EXISTS (SELECT 1 FROM outbox o"
		" WHERE o.case_id = p.case_id AND o.kind = 'payment' AND o.ref_id = p.id AND o.state = 'done'),"
		" p.actor FROM payments p WHERE p.case_id = ?1 ORDER BY p.created_at, p.id";
	static const char actions[] = "SELECT id, tenant, case_id, type, comment, state, created_at, updated_at,"
				      " actor FROM actions WHERE case_id = ?1 ORDER BY created_at, id";
	static const char settlements[] = "SELECT settlement_id, amount, allocation_date FROM settlement_allocations"
					  " WHERE case_id = ?1 ORDER BY allocation_date, settlement_id, pos";
	const struct db_param by_case[] = {DB_TEXT(id), DB_END};
	const struct db_col event_cols[] = {
		DB_COL_INT64(&d->e.seq),   DB_COL_TEXT(&d->e.at),     DB_COL_TEXT(&d->e.from),
		DB_COL_TEXT(&d->e.to),     DB_COL_TEXT(&d->e.source), DB_COL_TEXT(&d->e.detail),
		DB_COL_TEXT(&d->e.actor),  DB_END_COL,
	};
	const struct db_col payment_cols[] = {
		DB_COL_TEXT(&d->p.id),         DB_COL_TEXT(&d->p.tenant),
		DB_COL_TEXT(&d->p.case_id),    DB_COL_NAME((int *)&d->p.kind, payment_kind_names),
		DB_COL_INT64(&d->p.amount),    DB_COL_INT64(&d->p.applied),
		DB_COL_TEXT(&d->p.paid_on),    DB_COL_TEXT(&d->p.reference),
		DB_COL_TEXT(&d->p.source),     DB_COL_TEXT(&d->p.agency_payment_id),
		DB_COL_TEXT(&d->p.created_at), DB_COL_BOOL(&d->p.forwarded),
		DB_COL_TEXT(&d->p.actor),      DB_END_COL,
	};
	const struct db_col action_cols[] = {
		DB_COL_TEXT(&d->a.id),      DB_COL_TEXT(&d->a.tenant),
		DB_COL_TEXT(&d->a.case_id), DB_COL_NAME((int *)&d->a.type, action_type_names),
		DB_COL_TEXT(&d->a.comment), DB_COL_TEXT(&d->a.state),
		DB_COL_TEXT(&d->a.created_at), DB_COL_TEXT(&d->a.updated_at),
		DB_COL_TEXT(&d->a.actor),      DB_END_COL,
	};
	const struct db_col settlement_cols[] = {
		DB_COL_TEXT(&d->sr.settlement_id), DB_COL_INT64(&d->sr.amount), DB_COL_TEXT(&d->sr.allocation_date),
		DB_END_COL,
	};
	const struct db_col delivery_cols[] = {
		DB_COL_NAME((int *)&d->dl.kind, outbox_kind_names), DB_COL_TEXT(&d->dl.state),
		DB_COL_INT(&d->dl.attempts, 0),                      DB_COL_TEXT(&d->dl.last_error),
		DB_COL_INT64(&d->dl.next_attempt_at_ms),             DB_COL_TEXT(&d->dl.updated_at),
		DB_END_COL,
	};
	const struct {
		const char *sql;
		const struct db_col *cols;
		bool wanted;
		int (*row)(void *arg);
		const char *what;
	} lists[] = {
		{events, event_cols, d->fns->on_event != NULL, on_event_row, "store: detail events"},
		{payments, payment_cols, d->fns->on_payment != NULL, on_payment_row, "store: detail payments"},
		{actions, action_cols, d->fns->on_action != NULL, on_action_row, "store: detail actions"},
		{settlements, settlement_cols, d->fns->on_settlement != NULL, on_settlement_row,
		 "store: detail settlements"},
		{delivery_sql, delivery_cols, d->fns->on_delivery != NULL, on_delivery_row, "store: detail delivery"},
	};
	enum store_result r = STORE_OK;
	for (size_t i = 0; r == STORE_OK && !*stop && i < sizeof lists / sizeof lists[0]; i++)
		if (lists[i].wanted)
			r = db_each(c, lists[i].sql, by_case, lists[i].cols, lists[i].row, d, stop, lists[i].what);
	return r;
}

enum store_result store_case_detail(struct store *s, const char *tenant, const char *id,
				    const struct case_detail_fns *fns, void *ctx)
{
	static const char sql[] = "SELECT " CASE_COLUMNS " FROM cases WHERE id = ?1 AND tenant = ?2";
	struct detail_read d = {.fns = fns, .ctx = ctx};
	const struct db_param params[] = {DB_TEXT(id), DB_TEXT(tenant), DB_END};
	const struct db_col cols[] = {ROWS_CASE(&d.c), DB_END_COL};
	bool stop = false;
	struct db_conn *c;
	/* One read transaction: the balance and the events and payments that
	 * make it up, and what still waits for the agency, come from the same
	 * snapshot. */
	enum store_result r = store_snapshot_begin(s, &c);
	if (r == STORE_OK)
		r = db_each(c, sql, params, cols, on_case_row, &d, &stop, "store: get case");
	if (r == STORE_OK && !d.found)
		r = STORE_NOT_FOUND;
	if (r == STORE_OK && !stop)
		r = read_lists(c, id, &d, &stop);
	return store_snapshot_end(s, c, r);
}

enum store_result store_case_get(struct store *s, const char *tenant, const char *id, store_case_fn case_fn,
				 store_event_fn event_fn, void *ctx)
{
	const struct case_detail_fns fns = {.on_case = case_fn, .on_event = event_fn};
	return store_case_detail(s, tenant, id, &fns, ctx);
}
