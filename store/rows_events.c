/* SPDX-License-Identifier: MIT */
/* Writing an event inside the transaction of the change it tells of: its
 * body (the case's state as the change left it, never personal data), the
 * next sequence of its subject, and a delivery for every endpoint that wants
 * it. One writer commits at a time, so an event is visible exactly when its
 * change is, and the feed's order (pos) is the commit order. */
#include <assert.h>
#include <string.h>

#include "lib/dates.h"
#include "lib/ids.h"
#include "lib/jsonw.h"
#include "store/rows.h"

static const char *const event_type_names[EVENT__COUNT + 1] = {
	[EVENT_CASE_CREATED] = "case.created",
	[EVENT_CASE_STATUS_CHANGED] = "case.status_changed",
	[EVENT_CASE_STAGE_CHANGED] = "case.stage_changed",
	[EVENT_CASE_PAYMENT_RECEIVED] = "case.payment_received",
	[EVENT_CASE_ACTION_FAILED] = "case.action_failed",
	[EVENT_SETTLEMENT_CREATED] = "settlement.created",
	[EVENT_WEBHOOK_TEST] = "webhook.test",
};

const char *event_type_name(enum event_type t)
{
	return (int)t >= 0 && t < EVENT__COUNT ? event_type_names[t] : NULL;
}

int event_type_parse(const char *name)
{
	for (int i = 0; name && i < EVENT__COUNT; i++)
		if (strcmp(name, event_type_names[i]) == 0)
			return i;
	return -1;
}

/* The case's part of data: what DESIGN.md lists, read as the change left it. */
struct case_data {
	struct buf *b;
	const char *id, *status, *stage, *agency_case_id, *your_reference, *invoice_number, *currency;
	int64_t original, paid, credited, remaining, interest, costs;
	bool found;
};

static int write_case_data(void *arg)
{
	struct case_data *d = arg;
	struct buf *b = d->b;
	d->found = true;
	jw_kstr(b, true, "id", d->id);
	jw_kstr(b, false, "status", d->status);
	jw_kstr(b, false, "stage", d->stage);
	jw_kstr(b, false, "agency_case_id", d->agency_case_id);
	jw_kstr(b, false, "your_reference", d->your_reference);
	jw_kstr(b, false, "invoice_number", d->invoice_number);
	jw_key(b, false, "balance");
	buf_putc(b, '{');
	jw_kstr(b, true, "currency", d->currency);
	jw_kint(b, false, "original", d->original);
	jw_kint(b, false, "paid", d->paid);
	jw_kint(b, false, "credited", d->credited);
	jw_kint(b, false, "remaining", d->remaining);
	jw_kint(b, false, "interest", d->interest);
	jw_kint(b, false, "costs", d->costs);
	buf_putc(b, '}');
	return 0;
}

static enum store_result case_data(struct db_conn *w, const char *case_id, struct buf *b)
{
	static const char sql[] = "SELECT id, status, stage, agency_case_id, your_reference, invoice_number,"
				  " currency, original, paid, credited, remaining, interest, costs"
				  " FROM cases WHERE id = ?1";
	struct case_data d = {.b = b};
	const struct db_param params[] = {DB_TEXT(case_id), DB_END};
	const struct db_col cols[] = {
		DB_COL_TEXT(&d.id),          DB_COL_TEXT(&d.status),         DB_COL_TEXT(&d.stage),
		DB_COL_TEXT(&d.agency_case_id), DB_COL_TEXT(&d.your_reference), DB_COL_TEXT(&d.invoice_number),
		DB_COL_TEXT(&d.currency),    DB_COL_INT64(&d.original),      DB_COL_INT64(&d.paid),
		DB_COL_INT64(&d.credited),   DB_COL_INT64(&d.remaining),     DB_COL_INT64(&d.interest),
		DB_COL_INT64(&d.costs),      DB_END_COL,
	};
	enum store_result r = db_each(w, sql, params, cols, write_case_data, &d, NULL, "store: event case");
	return r == STORE_OK && !d.found ? db_fail_msg("store: event", "no such case") : r;
}

/* The subject's next sequence: a counter row, so that pruning its events
 * never lets a number come back. */
static enum store_result next_sequence(struct db_conn *w, const char *subject, int64_t *seq)
{
	static const char sql[] = "INSERT INTO event_sequences (subject, last) VALUES (?1, 1)"
				  " ON CONFLICT (subject) DO UPDATE SET last = event_sequences.last + 1 RETURNING last";
	const struct db_param params[] = {DB_TEXT(subject), DB_END};
	const struct db_col cols[] = {DB_COL_INT64(seq), DB_END_COL};
	return db_one(w, sql, params, cols, "store: event sequence");
}

/* A delivery (and its pending attempt) for every endpoint that wants the
 * event: the tenant's enabled ones subscribed to its type, or the one a
 * test is for. */
static enum store_result queue_deliveries(struct db_conn *w, const struct event_new *e, const char *id, int64_t pos,
					  const char *subject, int64_t seq)
{
	static const char for_tenant[] =
		"INSERT INTO webhook_deliveries (endpoint_id, event_pos, subject, sequence, state, attempts,"
		" next_attempt_at, created_at) SELECT id, ?1, ?2, ?3, 'pending', 0, ?4, ?4 FROM webhook_endpoints"
		" WHERE tenant = ?5 AND enabled = 1"
		" AND (instr(event_types, ',*,') > 0 OR instr(event_types, ',' || ?6 || ',') > 0)";
	static const char for_endpoint[] =
		"INSERT INTO webhook_deliveries (endpoint_id, event_pos, subject, sequence, state, attempts,"
		" next_attempt_at, created_at) SELECT id, ?1, ?2, ?3, 'pending', 0, ?4, ?4 FROM webhook_endpoints"
		" WHERE tenant = ?5 AND id = ?6";
	static const char attempts[] =
		"INSERT INTO webhook_attempts (endpoint_id, delivery_id, event_id, attempt, at, status,"
		" next_attempt_at)"
		" SELECT endpoint_id, id, ?2, 1, ?3, 'pending', ?3 FROM webhook_deliveries WHERE event_pos = ?1";
	int64_t now = dates_now_ms();
	const struct db_param params[] = {
		DB_INT(pos), DB_TEXT(subject), DB_INT(seq), DB_INT(now), DB_TEXT(e->tenant),
		DB_TEXT(e->endpoint_id ? e->endpoint_id : event_type_name(e->type)), DB_END,
	};
	enum store_result r = db_exec(w, e->endpoint_id ? for_endpoint : for_tenant, params, "store: queue event");
	if (r != STORE_OK || db_changes(w) == 0)
		return r;
	const struct db_param log[] = {DB_INT(pos), DB_TEXT(id), DB_TEXT(e->at), DB_END};
	return db_exec(w, attempts, log, "store: queue event");
}

enum store_result rows_event_emit(struct db_conn *w, const struct event_new *e, char out_id[STORE_ID_MAX])
{
	static const char insert[] = "INSERT INTO events (id, tenant, type, case_id, subject, sequence, created_at,"
				     " endpoint_id, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING pos";
	const char *type = event_type_name(e->type);
	const char *subject = e->subject ? e->subject : e->case_id;
	assert(type && e->tenant && e->at && subject);
	char id[STORE_ID_MAX];
	if (!ids_new("evt_", id, sizeof id))
		return db_fail_msg("store: event", "no random id");
	int64_t seq = 0, pos = 0;
	enum store_result r = next_sequence(w, subject, &seq);
	if (r != STORE_OK)
		return r;
	struct buf b = {0};
	buf_putc(&b, '{');
	jw_kstr(&b, true, "id", id);
	jw_kstr(&b, false, "type", type);
	jw_kstr(&b, false, "created_at", e->at);
	jw_kstr(&b, false, "case_id", e->case_id);
	jw_kint(&b, false, "sequence", seq);
	jw_key(&b, false, "data");
	buf_putc(&b, '{');
	if (e->case_id)
		r = case_data(w, e->case_id, &b);
	if (r == STORE_OK && e->data && e->data[0]) {
		if (e->case_id)
			buf_putc(&b, ',');
		buf_puts(&b, e->data);
	}
	buf_putc(&b, '}');
	jw_kraw(&b, false, "actor", e->actor);
	buf_putc(&b, '}');
	if (r == STORE_OK && b.oom)
		r = db_fail_msg("store: event", "out of memory");
	const struct db_param params[] = {
		DB_TEXT(id),      DB_TEXT(e->tenant),      DB_TEXT(type),        DB_TEXT(e->case_id), DB_TEXT(subject),
		DB_INT(seq),      DB_TEXT(e->at),          DB_TEXT(e->endpoint_id), DB_TEXT(buf_cstr(&b)), DB_END,
	};
	const struct db_col cols[] = {DB_COL_INT64(&pos), DB_END_COL};
	if (r == STORE_OK)
		r = db_no_duplicate(db_one(w, insert, params, cols, "store: insert event"), "store: insert event");
	if (r == STORE_OK)
		r = queue_deliveries(w, e, id, pos, subject, seq);
	buf_free(&b);
	if (r == STORE_OK && out_id)
		memcpy(out_id, id, sizeof id);
	return r;
}

enum store_result rows_case_event(struct db_conn *w, enum event_type type, const char *tenant, const char *case_id,
				  const char *at, const char *actor, const char *data)
{
	const struct event_new e = {
		.type = type, .tenant = tenant, .at = at, .case_id = case_id, .actor = actor, .data = data,
	};
	return rows_event_emit(w, &e, NULL);
}

/* The payment's part of data: the same members for a direct payment and
 * one the agency collected (reference null, source "agency"). */
enum store_result rows_payment_event(struct db_conn *w, const struct payment_row *p, const char *actor)
{
	struct buf d = {0};
	jw_key(&d, true, "payment");
	buf_putc(&d, '{');
	jw_kstr(&d, true, "id", p->id);
	jw_kstr(&d, false, "kind", payment_kind_name(p->kind));
	jw_kint(&d, false, "amount", p->amount);
	jw_kint(&d, false, "applied", p->applied);
	jw_kstr(&d, false, "paid_on", p->paid_on);
	jw_kstr(&d, false, "reference", p->reference);
	jw_kstr(&d, false, "source", p->source);
	jw_kstr(&d, false, "agency_payment_id", p->agency_payment_id);
	buf_putc(&d, '}');
	enum store_result r = d.oom ? db_fail_msg("store: payment event", "out of memory")
				    : rows_case_event(w, EVENT_CASE_PAYMENT_RECEIVED, p->tenant, p->case_id,
						      p->created_at, actor, buf_cstr(&d));
	buf_free(&d);
	return r;
}

enum store_result rows_move(struct db_conn *w, const char *tenant, const char *case_id, const char *from,
			    const char *to, const char *source, const char *detail, const char *actor, const char *at)
{
	enum store_result r = rows_set_status(w, case_id, to, at);
	if (r == STORE_OK)
		r = rows_event_add(w, case_id, at, from, to, source, detail, actor);
	if (r != STORE_OK)
		return r;
	struct buf d = {0};
	jw_kstr(&d, true, "previous_status", from);
	jw_kstr(&d, false, "source", source);
	r = d.oom ? db_fail_msg("store: event", "out of memory")
		  : rows_case_event(w, EVENT_CASE_STATUS_CHANGED, tenant, case_id, at, actor, buf_cstr(&d));
	buf_free(&d);
	return r;
}
