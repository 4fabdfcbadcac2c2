/* SPDX-License-Identifier: MIT */
/* The store after the handoff, on a temporary database of the run's backend
 * (tests/unit/store_backend.h): payments and their cap, the actions' state
 * table, withdrawing a case the agency never had, retry, the outbox (per-case
 * order, requeue after a crash, done/retry/fail), status transitions, and the
 * idempotent sync of payments, settlements and events. White-box: rows are
 * set and read with raw SQL (tests/unit/store_raw.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/ids.h"
#include "store/store.h"
#include "store/store_agency.h"
#include "tests/unit/store_backend.h"
#include "tests/unit/store_raw.h"

#define NOW "2026-02-20T10:00:00.000Z"
#define LATER "2026-02-21T10:00:00.000Z"
#define ALL_STATUSES ((1u << CASE__COUNT) - 1)

/* The API's operations as one request of no one in particular: the tenant,
 * the time, no actor, no key. */
static enum store_result pay_add(struct store *st, const char *tenant, const char *id, enum payment_kind kind,
				 int64_t amount, const char *paid_on, const char *ref, const char *now,
				 struct payment_add_result *res)
{
	const struct store_request rq = {.tenant = tenant, .now = now};
	return store_payment_add(st, &rq, id, kind, amount, paid_on, ref, res);
}

static enum store_result act_add(struct store *st, const char *tenant, const char *id, enum action_type type,
				 const char *comment, const char *now, struct action_add_result *res)
{
	const struct store_request rq = {.tenant = tenant, .now = now};
	return store_action_add(st, &rq, id, type, comment, res);
}

static enum store_result retry(struct store *st, const char *tenant, const char *id, const char *now, char *status)
{
	const struct store_request rq = {.tenant = tenant, .now = now};
	return store_case_retry(st, &rq, id, status, NULL, NULL);
}

static struct test_db db;
static struct store *s;

static struct store *open_store(int readers)
{
	char err[256] = "";
	struct store *t = store_open(db.path, &(struct store_options){.readers = readers}, err, sizeof err);
	cr_assert_not_null(t, "store_open: %s", err);
	return t;
}

static void setup(void)
{
	test_db_create(&db, "inkasso-after");
	s = open_store(4);
}

static void teardown(void)
{
	store_close(s);
	s = NULL;
	test_db_remove(&db);
}

TestSuite(payments, .init = setup, .fini = teardown);
TestSuite(actions, .init = setup, .fini = teardown);
TestSuite(outbox, .init = setup, .fini = teardown);
TestSuite(transition, .init = setup, .fini = teardown);
TestSuite(sync, .init = setup, .fini = teardown);
TestSuite(settlements, .init = setup, .fini = teardown);

/* ---- helpers ---- */

/* Creates a pending case of 124900 NOK for tenant and invoice; its id in id. */
static void new_case(const char *tenant, const char *invoice, char id[STORE_ID_MAX])
{
	char invoice_json[96];
	cr_assert(ids_new("cc_", id, STORE_ID_MAX));
	snprintf(invoice_json, sizeof invoice_json, "{\"number\":\"%s\"}", invoice);
	struct case_new n = {
		.c = {
			.tenant = tenant, .id = id, .status = "pending", .service = "collection",
			.debtor_type = "consumer", .invoice_number = invoice,
			.invoice_json = invoice_json, .debtor_json = "{\"name\":\"Kari\"}",
			.currency = "NOK", .original = 124900, .remaining = 124900, .costs = 3500,
			.created_at = NOW, .updated_at = NOW,
		},
		.national_id = "01018512345",
	};
	struct case_create_result res;
	cr_assert_eq(store_case_create(s, &n, &res), STORE_OK, "create %s", invoice);
}

static void set_status(const char *id, const char *status)
{
	raw_exec(&db, "UPDATE cases SET status = '%s' WHERE id = '%s'", status, id);
}

static char *status_of(const char *id, char out[STORE_NAME_MAX])
{
	return raw_text(&db, out, STORE_NAME_MAX, "SELECT status FROM cases WHERE id = '%s'", id);
}

/* A clock past every next_attempt_at the tests set. Not INT64_MAX: a claim
 * writes lease_until = now + lease, which PostgreSQL's bigint refuses to
 * overflow (SQLite would make a float of it). */
#define FAR_FUTURE_MS (INT64_C(1) << 60)

/* Claims the next row or fails the test. */
static struct outbox_item claim(int64_t now_ms)
{
	struct outbox_item it;
	cr_assert_eq(store_outbox_claim(s, now_ms, TEST_LEASE_MS, &it), STORE_OK, "a row is due");
	return it;
}

static void nothing_due(int64_t now_ms)
{
	struct outbox_item it;
	enum store_result r = store_outbox_claim(s, now_ms, TEST_LEASE_MS, &it);
	cr_assert_eq(r, STORE_NOT_FOUND, "%d: claimed %s %s", r, r == STORE_OK ? outbox_kind_name(it.kind) : "-",
		     r == STORE_OK ? it.case_id : "-");
}

/* The case's create row delivered and the case submitted, as the forwarder does. */
static void deliver_create(const char *tenant, const char *id, const char *agency_case_id)
{
	struct outbox_item it = claim(0);
	cr_assert_str_eq(it.case_id, id);
	cr_assert_eq(it.kind, OUTBOX_CREATE);
	cr_assert_eq(store_outbox_done(s, &it), STORE_OK);
	struct case_agency_fields f = {.agency_case_id = agency_case_id, .agency_status = "ACTIVE"};
	cr_assert_eq(store_case_transition(s, tenant, id, 1u << CASE_PENDING, "open", "forwarder", NULL,
					   NOW, &f),
		     STORE_OK);
}

struct balance {
	int64_t original, paid, credited, remaining;
	char status[STORE_NAME_MAX];
};

static int read_balance(void *ctx, const struct case_row *c)
{
	struct balance *b = ctx;
	b->original = c->original;
	b->paid = c->paid;
	b->credited = c->credited;
	b->remaining = c->remaining;
	snprintf(b->status, sizeof b->status, "%s", c->status);
	return 0;
}

static struct balance balance_of(const char *tenant, const char *id)
{
	struct balance b = {0};
	cr_assert_eq(store_case_get(s, tenant, id, read_balance, NULL, &b), STORE_OK);
	return b;
}

/* ---- payments ---- */

Test(payments, counted_at_once_and_queued_for_the_agency)
{
	char id[STORE_ID_MAX];
	struct payment_add_result res;
	new_case("t1", "INV-1", id);
	cr_assert_eq(pay_add(s, "t1", id, PAYMENT_PAYMENT, 25000, "2026-02-09", "BANK-1", NOW, &res),
		     STORE_OK);
	cr_assert(ids_valid("pay_", res.id), "id %s", res.id);
	cr_assert_eq(res.remaining, 99900);
	cr_assert_eq(pay_add(s, "t1", id, PAYMENT_CREDIT_NOTE, 900, "2026-02-10", NULL, NOW, &res),
		     STORE_OK);
	struct balance b = balance_of("t1", id);
	cr_assert_eq(b.paid, 25000);
	cr_assert_eq(b.credited, 900);
	cr_assert_eq(b.remaining, 99000);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox WHERE case_id = '%s' AND kind = 'payment'"
				  " AND state = 'pending' AND ref_id LIKE 'pay_%%'", id),
		     2);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM payments WHERE id = '%s' AND source = 'api'"
				  " AND applied = 900 AND reference IS NULL", res.id),
		     1);
}

Test(payments, never_above_the_remaining_balance)
{
	char id[STORE_ID_MAX];
	struct payment_add_result res;
	new_case("t1", "INV-1", id);
	cr_assert_eq(pay_add(s, "t1", id, PAYMENT_PAYMENT, 124901, "2026-02-09", NULL, NOW, &res),
		     STORE_LIMIT);
	cr_assert_eq(res.remaining, 124900, "the balance it exceeds is reported");
	cr_assert_eq(res.id[0], '\0');
	cr_assert_eq(pay_add(s, "t1", id, PAYMENT_PAYMENT, 0, "2026-02-09", NULL, NOW, &res), STORE_LIMIT);
	cr_assert_eq(pay_add(s, "t1", id, PAYMENT_PAYMENT, -5, "2026-02-09", NULL, NOW, &res), STORE_LIMIT);
	cr_assert_eq(pay_add(s, "t1", id, PAYMENT_PAYMENT, 124900, "2026-02-09", NULL, NOW, &res),
		     STORE_OK, "exactly the remaining balance is fine");
	cr_assert_eq(res.remaining, 0);
	cr_assert_eq(pay_add(s, "t1", id, PAYMENT_CREDIT_NOTE, 1, "2026-02-09", NULL, NOW, &res),
		     STORE_LIMIT);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM payments"), 1, "refused payments leave no row");
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox WHERE kind = 'payment'"), 1);
}

Test(payments, closed_case_and_other_tenant)
{
	char id[STORE_ID_MAX];
	struct payment_add_result res;
	new_case("t1", "INV-1", id);
	cr_assert_eq(pay_add(s, "t2", id, PAYMENT_PAYMENT, 100, "2026-02-09", NULL, NOW, &res),
		     STORE_NOT_FOUND, "another tenant's case is not found");
	cr_assert_eq(pay_add(s, "t1", "cc_01JD8ZK5V3Q4N7M2X9R6T1W0YB", PAYMENT_PAYMENT, 100,
				       "2026-02-09", NULL, NOW, &res),
		     STORE_NOT_FOUND);
	const char *closed[] = {"paid", "withdrawn", "closed", "rejected"};
	for (size_t i = 0; i < 4; i++) {
		set_status(id, closed[i]);
		cr_assert_eq(pay_add(s, "t1", id, PAYMENT_PAYMENT, 100, "2026-02-09", NULL, NOW, &res),
			     STORE_STATE, "%s", closed[i]);
		cr_assert_str_eq(res.status, closed[i]);
	}
	const char *open[] = {"pending", "submitted", "open", "paused", "disputed", "failed"};
	for (size_t i = 0; i < 6; i++) {
		set_status(id, open[i]);
		cr_assert_eq(pay_add(s, "t1", id, PAYMENT_PAYMENT, 100, "2026-02-09", NULL, NOW, &res),
			     STORE_OK, "%s", open[i]);
	}
	cr_assert_eq(balance_of("t1", id).paid, 600);
}

/* ---- actions ---- */

Test(actions, state_table)
{
	static const char *const statuses[] = {"pending", "submitted", "open", "paused", "disputed",
					       "failed", "paid", "withdrawn", "closed", "rejected"};
	static const char *const types[] = {"comment", "withdraw", "pause", "resume", "dispute"};
	/* allowed[type][status], in the orders above (DESIGN.md, "After the handoff"). */
	static const bool allowed[5][10] = {
		{1, 1, 1, 1, 1, 1, 0, 0, 0, 0}, /* comment: any open status */
		{1, 1, 1, 1, 1, 1, 0, 0, 0, 0}, /* withdraw: the same */
		{0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, /* pause: open */
		{0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, /* resume: paused */
		{0, 0, 1, 1, 0, 0, 0, 0, 0, 0}, /* dispute: open, paused */
	};
	for (int t = 0; t < 5; t++) {
		for (int st = 0; st < 10; st++) {
			char id[STORE_ID_MAX], inv[32];
			struct action_add_result res;
			snprintf(inv, sizeof inv, "INV-%d-%d", t, st);
			new_case("t1", inv, id);
			set_status(id, statuses[st]);
			enum store_result r = act_add(s, "t1", id, (enum action_type)action_type_parse(types[t]),
							       NULL, NOW, &res);
			cr_assert_eq(r, allowed[t][st] ? STORE_OK : STORE_STATE, "%s on a %s case: %d",
				     types[t], statuses[st], r);
			if (r == STORE_STATE)
				cr_assert_str_eq(res.status, statuses[st]);
			else
				cr_assert(ids_valid("act_", res.id));
		}
	}
}

Test(actions, queued_behind_the_case_and_other_tenant)
{
	char id[STORE_ID_MAX];
	struct action_add_result res;
	new_case("t1", "INV-1", id);
	cr_assert_eq(act_add(s, "t2", id, ACTION_COMMENT, "hi", NOW, &res), STORE_NOT_FOUND);
	cr_assert_eq(act_add(s, "t1", id, ACTION_COMMENT, "Called, will pay Friday", NOW, &res),
		     STORE_OK);
	cr_assert_str_eq(res.state, "pending");
	cr_assert_str_eq(res.status, "pending");
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox WHERE kind = 'action' AND ref_id = '%s'"
				  " AND state = 'pending'", res.id),
		     1);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM actions WHERE id = '%s' AND state = 'pending'"
				  " AND comment = 'Called, will pay Friday'", res.id),
		     1);
}

Test(actions, withdraw_of_a_pending_case_happens_here)
{
	char id[STORE_ID_MAX], st[STORE_NAME_MAX], comment_id[STORE_ID_MAX];
	struct action_add_result res;
	struct payment_add_result pay;
	new_case("t1", "INV-1", id);
	cr_assert_eq(act_add(s, "t1", id, ACTION_COMMENT, "first", NOW, &res), STORE_OK);
	snprintf(comment_id, sizeof comment_id, "%s", res.id);
	cr_assert_eq(pay_add(s, "t1", id, PAYMENT_PAYMENT, 100, "2026-02-09", NULL, NOW, &pay), STORE_OK);
	cr_assert_eq(store_outbox_depth(s), 3);

	cr_assert_eq(act_add(s, "t1", id, ACTION_WITHDRAW, "paid to us", LATER, &res), STORE_OK);
	cr_assert_str_eq(res.state, "done");
	cr_assert_str_eq(res.status, "withdrawn");
	cr_assert_str_eq(status_of(id, st), "withdrawn");
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM cases WHERE id = '%s' AND closed_at = '%s'", id, LATER), 1);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM case_events WHERE case_id = '%s' AND seq = 2"
				  " AND from_status = 'pending' AND to_status = 'withdrawn' AND source = 'api'",
			     id),
		     1);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox WHERE case_id = '%s' AND state <> 'cancelled'", id), 0,
		     "the send and everything behind it is cancelled");
	cr_assert_eq(store_outbox_depth(s), 0);
	nothing_due(FAR_FUTURE_MS);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM actions WHERE id = '%s' AND state = 'cancelled'", comment_id),
		     1);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM actions WHERE id = '%s' AND state = 'done'", res.id), 1);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox WHERE ref_id = '%s'", res.id), 0,
		     "nothing to send for a withdraw done here");
	/* Withdrawn is closed: nothing more, and the invoice may be sent anew. */
	cr_assert_eq(act_add(s, "t1", id, ACTION_COMMENT, "x", LATER, &res), STORE_STATE);
	char again[STORE_ID_MAX];
	new_case("t1", "INV-1", again);
}

Test(actions, withdraw_goes_to_the_agency_once_it_may_have_the_case)
{
	char a[STORE_ID_MAX], b[STORE_ID_MAX], st[STORE_NAME_MAX];
	struct action_add_result res;
	new_case("t1", "INV-A", a);
	new_case("t1", "INV-B", b);
	/* a: its create is being sent right now. */
	struct outbox_item it = claim(0);
	cr_assert_str_eq(it.case_id, a);
	cr_assert_eq(act_add(s, "t1", a, ACTION_WITHDRAW, NULL, NOW, &res), STORE_OK);
	cr_assert_str_eq(res.state, "pending");
	cr_assert_str_eq(status_of(a, st), "pending", "the agency will report it");
	/* b: an earlier send has an unknown outcome, and the row waits for
	 * the next. On SQLite a crash while sending leaves it so, requeued at
	 * the restart; on PostgreSQL no start requeues (replicas share the
	 * database), a retry after a timeout does the same. */
	it = claim(0);
	cr_assert_str_eq(it.case_id, b);
	if (test_store_is_pg())
		cr_assert_eq(store_outbox_retry(s, &it, 0, true, "timeout"), STORE_OK);
	else
		cr_assert_eq(store_outbox_requeue_sending(s, NULL), STORE_OK);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox WHERE case_id = '%s' AND kind = 'create'"
				  " AND state = 'pending' AND lookup_first = 1", b),
		     1);
	cr_assert_eq(act_add(s, "t1", b, ACTION_WITHDRAW, NULL, NOW, &res), STORE_OK);
	cr_assert_str_eq(res.state, "pending");
	cr_assert_str_eq(status_of(b, st), "pending");
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox WHERE kind = 'action' AND state = 'pending'"), 2);
}

Test(actions, withdraw_of_a_failed_case)
{
	char a[STORE_ID_MAX], b[STORE_ID_MAX], st[STORE_NAME_MAX];
	struct action_add_result res;
	new_case("t1", "INV-A", a);
	new_case("t1", "INV-B", b);
	/* a gave up after sends that provably did not arrive; b's last send
	 * has an unknown outcome. */
	struct outbox_item it = claim(0);
	cr_assert_eq(store_outbox_fail(s, &it, false, "connection refused"), STORE_OK);
	it = claim(0);
	cr_assert_eq(store_outbox_fail(s, &it, true, "timeout"), STORE_OK);
	set_status(a, "failed");
	set_status(b, "failed");
	cr_assert_eq(act_add(s, "t1", a, ACTION_WITHDRAW, NULL, NOW, &res), STORE_OK);
	cr_assert_str_eq(res.state, "done");
	cr_assert_str_eq(status_of(a, st), "withdrawn");
	cr_assert_eq(act_add(s, "t1", b, ACTION_WITHDRAW, NULL, NOW, &res), STORE_OK);
	cr_assert_str_eq(res.state, "pending");
	cr_assert_str_eq(status_of(b, st), "failed");
}

Test(actions, retry_from_failed_only)
{
	char id[STORE_ID_MAX], st[STORE_NAME_MAX];
	struct action_add_result res;
	new_case("t1", "INV-1", id);
	cr_assert_eq(retry(s, "t1", id, NOW, st), STORE_STATE);
	cr_assert_str_eq(st, "pending");
	cr_assert_eq(retry(s, "t2", id, NOW, st), STORE_NOT_FOUND);
	cr_assert_eq(act_add(s, "t1", id, ACTION_COMMENT, "c", NOW, &res), STORE_OK);
	struct outbox_item it = claim(0);
	cr_assert_eq(store_outbox_fail(s, &it, true, "timeout"), STORE_OK);
	/* The comment behind it: failed too, as the forwarder would leave it. */
	raw_exec(&db, "UPDATE outbox SET state = 'failed', attempts = 3 WHERE kind = 'action';"
		      " UPDATE actions SET state = 'failed'");
	set_status(id, "failed");
	nothing_due(FAR_FUTURE_MS);

	cr_assert_eq(retry(s, "t1", id, LATER, st), STORE_OK);
	cr_assert_str_eq(st, "pending");
	cr_assert_str_eq(status_of(id, st), "pending");
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM case_events WHERE case_id = '%s'"
				  " AND from_status = 'failed' AND to_status = 'pending' AND source = 'api'", id),
		     1);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox WHERE state = 'pending' AND attempts = 0"
				  " AND next_attempt_at = 0"),
		     2);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM actions WHERE state = 'pending'"), 1);
	it = claim(0);
	cr_assert_eq(it.kind, OUTBOX_CREATE);
	cr_assert(it.lookup_first, "the unknown outcome is still looked up first");
	cr_assert_eq(it.attempts, 1);
}

/* ---- the outbox ---- */

Test(outbox, per_case_order_actions_wait_behind_the_create)
{
	char a[STORE_ID_MAX], b[STORE_ID_MAX];
	struct action_add_result act;
	struct payment_add_result pay;
	new_case("t1", "INV-A", a);
	cr_assert_eq(act_add(s, "t1", a, ACTION_COMMENT, "one", NOW, &act), STORE_OK);
	cr_assert_eq(pay_add(s, "t1", a, PAYMENT_PAYMENT, 100, "2026-02-09", NULL, NOW, &pay), STORE_OK);
	new_case("t1", "INV-B", b);

	struct outbox_item it = claim(1000);
	cr_assert_str_eq(it.case_id, a);
	cr_assert_eq(it.kind, OUTBOX_CREATE);
	cr_assert_str_eq(it.tenant, "t1");
	cr_assert_eq(it.ref_id[0], '\0');
	cr_assert_eq(it.attempts, 1);
	cr_assert_not(it.lookup_first);
	int64_t a_create = it.id;
	struct outbox_item a_item = it;
	/* a's action waits while its create is sending: b's create comes next. */
	it = claim(1000);
	cr_assert_str_eq(it.case_id, b);
	cr_assert_eq(it.kind, OUTBOX_CREATE);
	nothing_due(1000);
	/* A retry puts a's create back, due later: still nothing of a before it. */
	cr_assert_eq(store_outbox_retry(s, &a_item, 5000, false, "HTTP 503"), STORE_OK);
	nothing_due(4999);
	it = claim(5000);
	cr_assert_eq(it.id, a_create);
	cr_assert_eq(it.attempts, 2);
	cr_assert_eq(store_outbox_done(s, &it), STORE_OK);
	it = claim(5000);
	cr_assert_eq(it.kind, OUTBOX_ACTION);
	cr_assert_str_eq(it.ref_id, act.id);
	nothing_due(5000); /* the payment waits behind the action */
	cr_assert_eq(store_outbox_done(s, &it), STORE_OK);
	it = claim(5000);
	cr_assert_eq(it.kind, OUTBOX_PAYMENT);
	cr_assert_str_eq(it.ref_id, pay.id);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM actions WHERE id = '%s' AND state = 'sent'", act.id), 1);
}

Test(outbox, a_failed_create_blocks_the_case_a_failed_action_does_not)
{
	char a[STORE_ID_MAX], b[STORE_ID_MAX];
	struct action_add_result act;
	struct payment_add_result pay;
	new_case("t1", "INV-A", a);
	cr_assert_eq(act_add(s, "t1", a, ACTION_COMMENT, "one", NOW, &act), STORE_OK);
	struct outbox_item it = claim(0);
	cr_assert_eq(store_outbox_fail(s, &it, false, "gave up"), STORE_OK);
	nothing_due(FAR_FUTURE_MS);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox WHERE id = %lld AND state = 'failed'"
				  " AND last_error = 'gave up'", (long long)it.id),
		     1);
	new_case("t1", "INV-B", b);
	deliver_create("t1", b, "5001");
	cr_assert_eq(act_add(s, "t1", b, ACTION_PAUSE, NULL, NOW, &act), STORE_OK);
	cr_assert_eq(pay_add(s, "t1", b, PAYMENT_PAYMENT, 10, "2026-02-09", NULL, NOW, &pay), STORE_OK);
	it = claim(0);
	cr_assert_str_eq(it.ref_id, act.id);
	cr_assert_eq(store_outbox_fail(s, &it, false, "HTTP 422"), STORE_OK);
	it = claim(0);
	cr_assert_str_eq(it.ref_id, pay.id, "the payment still goes out");
}

/* What a crash leaves sending comes back with its outcome unknown. On SQLite
 * the restart requeues it (the file is one process's); on PostgreSQL, whose
 * replicas share the database, the restart requeues nothing and a claim past
 * the dead claimer's lease takes the row over (test_store_replicas.c has the
 * lease's own rules). */
Test(outbox, requeue_after_a_crash_marks_the_outcome_unknown)
{
	char a[STORE_ID_MAX], b[STORE_ID_MAX];
	bool pg = test_store_is_pg();
	new_case("t1", "INV-A", a);
	new_case("t1", "INV-B", b);
	/* The claims of the process that crashes; on PostgreSQL their lease
	 * ends at 1000. */
	struct outbox_item first, second, it;
	cr_assert_eq(store_outbox_claim(s, 0, pg ? 1000 : TEST_LEASE_MS, &first), STORE_OK);
	cr_assert_eq(store_outbox_claim(s, 0, pg ? 1000 : TEST_LEASE_MS, &second), STORE_OK);
	int64_t n = -1;
	cr_assert_eq(store_outbox_requeue_sending(s, &n), STORE_OK);
	if (pg) {
		cr_assert_eq(n, 0, "another replica may be sending them");
		cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox WHERE state = 'sending' AND lookup_first = 0"),
			     2);
		nothing_due(999);
		/* Past the lease: taken over, the oldest first, under a new token. */
		it = claim(1000);
	} else {
		cr_assert_eq(n, 2);
		cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox WHERE state = 'pending' AND lookup_first = 1"),
			     2);
		it = claim(0);
	}
	cr_assert_eq(it.id, first.id);
	cr_assert(it.lookup_first);
	cr_assert_eq(it.attempts, 2);
	/* A lookup showed the invoice absent: the next send needs none. */
	cr_assert_eq(store_outbox_retry(s, &it, 0, false, "not at the agency"), STORE_OK);
	if (pg) {
		it = claim(1000); /* the second's lease ran out too: taken over before anything due */
		cr_assert_eq(it.id, second.id);
		cr_assert(it.lookup_first);
		cr_assert_eq(it.attempts, 2);
		it = claim(1000);
		cr_assert_eq(it.id, first.id);
		cr_assert_not(it.lookup_first);
		nothing_due(1000); /* both sending, under the tests' lease */
		return;
	}
	it = claim(0);
	cr_assert_eq(it.id, first.id);
	cr_assert_not(it.lookup_first);
	cr_assert_eq(store_outbox_requeue_sending(s, NULL), STORE_OK);
	cr_assert_eq(store_outbox_requeue_sending(s, &n), STORE_OK);
	cr_assert_eq(n, 0, "nothing left sending");
}

Test(outbox, finishing_a_row_that_is_not_sending)
{
	char a[STORE_ID_MAX];
	new_case("t1", "INV-A", a);
	cr_assert_eq(store_outbox_done(s, &(struct outbox_item){.id = 1, .attempts = 0}), STORE_STATE,
		     "pending, not claimed");
	cr_assert_eq(store_outbox_done(s, &(struct outbox_item){.id = 999, .attempts = 1}), STORE_STATE, "no such row");
	struct outbox_item it = claim(0);
	cr_assert_eq(store_outbox_done(s, &it), STORE_OK);
	cr_assert_eq(store_outbox_done(s, &it), STORE_STATE);
	cr_assert_eq(store_outbox_retry(s, &it, 0, true, "x"), STORE_STATE);
	cr_assert_eq(store_outbox_fail(s, &it, true, "x"), STORE_STATE);
}

Test(outbox, failed_action_is_reported_on_the_action)
{
	char a[STORE_ID_MAX];
	struct action_add_result act;
	new_case("t1", "INV-A", a);
	deliver_create("t1", a, "481920");
	cr_assert_eq(act_add(s, "t1", a, ACTION_PAUSE, NULL, NOW, &act), STORE_OK);
	struct outbox_item it = claim(0);
	cr_assert_eq(store_outbox_fail(s, &it, false, "HTTP 500"), STORE_OK);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM actions WHERE id = '%s' AND state = 'failed'", act.id), 1);
}

/* The inner SELECT of store_outbox_claim (store/store_outbox.c), the same
 * on both engines. */
Test(outbox, claim_walks_the_due_index_without_sorting)
{
	const char *sql = "SELECT o.id FROM outbox o WHERE o.state = 'pending'"
			  " AND o.next_attempt_at <= 5 AND NOT EXISTS (SELECT 1 FROM outbox p"
			  " WHERE p.case_id = o.case_id AND p.id < o.id"
			  " AND (p.state IN ('pending', 'sending')"
			  " OR (p.state = 'failed' AND p.kind = 'create')))"
			  " ORDER BY o.next_attempt_at, o.id LIMIT 1";
	char plan[2048];
	raw_plan(&db, sql, plan, sizeof plan);
	cr_assert_not_null(strstr(plan, "outbox_due"), "plan: %s", plan);
	cr_assert_not_null(strstr(plan, "outbox_case"), "plan: %s", plan);
	/* The order comes from outbox_due: SQLite needs no temporary b-tree
	 * for it, PostgreSQL no sort (store/schema_pg.c: the index ends in
	 * next_attempt_at, id). */
	if (test_store_is_pg()) {
		cr_assert_not_null(strstr(plan, "Index Scan using outbox_due on outbox o"), "plan: %s", plan);
		cr_assert_null(strstr(plan, "Sort"), "plan: %s", plan);
	} else {
		cr_assert_null(strstr(plan, "TEMP B-TREE"), "plan: %s", plan);
	}
}

/* ---- transitions ---- */

struct events {
	int n;
	char last[64];
};

static int count_event(void *ctx, const struct case_event_row *e)
{
	struct events *ev = ctx;
	ev->n++;
	snprintf(ev->last, sizeof ev->last, "%s>%s:%s", e->from ? e->from : "null", e->to, e->source);
	return 0;
}

static int ignore_case(void *ctx, const struct case_row *c)
{
	(void)ctx;
	(void)c;
	return 0;
}

static struct events events_of(const char *tenant, const char *id)
{
	struct events ev = {0};
	cr_assert_eq(store_case_get(s, tenant, id, ignore_case, count_event, &ev), STORE_OK);
	return ev;
}

Test(transition, events_only_on_change_and_nothing_twice)
{
	char id[STORE_ID_MAX], t[32];
	new_case("t1", "INV-1", id);
	cr_assert_eq(store_case_transition(s, "t1", id, 1u << CASE_OPEN, "open", "sync", NULL, NOW, NULL),
		     STORE_STATE, "pending is not in the mask");
	cr_assert_eq(store_case_transition(s, "t2", id, ALL_STATUSES, "open", "sync", NULL, NOW, NULL),
		     STORE_NOT_FOUND);
	cr_assert_eq(store_case_transition(s, "t1", id, 1u << CASE_PENDING, "submitted", "forwarder",
					   NULL, "2026-02-20T10:00:01.000Z", NULL),
		     STORE_OK);
	cr_assert_str_eq(raw_text(&db, t, sizeof t, "SELECT submitted_at FROM cases WHERE id = '%s'", id),
			 "2026-02-20T10:00:01.000Z");
	struct case_agency_fields f = {.agency_case_id = "481920", .stage = "reminder",
				       .agency_status = "ACTIVE", .has_charges = true, .interest = 12,
				       .costs = 3500};
	cr_assert_eq(store_case_transition(s, "t1", id, 1u << CASE_SUBMITTED, "open", "sync",
					   "agency case 481920", "2026-02-21T06:00:00.000Z", &f),
		     STORE_OK);
	struct events ev = events_of("t1", id);
	cr_assert_eq(ev.n, 3);
	cr_assert_str_eq(ev.last, "submitted>open:sync");
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM cases WHERE id = '%s' AND agency_case_id = '481920'"
				  " AND stage = 'reminder' AND agency_status = 'ACTIVE' AND interest = 12", id),
		     1);
	/* The same agency data again: no event, not even updated_at moves. */
	cr_assert_eq(store_case_transition(s, "t1", id, ALL_STATUSES, "open", "sync", NULL, LATER, &f),
		     STORE_OK);
	cr_assert_str_eq(raw_text(&db, t, sizeof t, "SELECT updated_at FROM cases WHERE id = '%s'", id),
			 "2026-02-21T06:00:00.000Z");
	cr_assert_eq(events_of("t1", id).n, 3);
	/* A field-only change: updated, still no event; NULL members unchanged. */
	struct case_agency_fields g = {.stage = "collection"};
	cr_assert_eq(store_case_transition(s, "t1", id, ALL_STATUSES, NULL, "sync", NULL, LATER, &g), STORE_OK);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM cases WHERE id = '%s' AND stage = 'collection'"
				  " AND agency_case_id = '481920' AND updated_at = '%s'", id, LATER),
		     1);
	cr_assert_eq(events_of("t1", id).n, 3);
	cr_assert_eq(store_case_transition(s, "t1", id, CASE_MASK_OPEN, "paid", "sync", NULL, LATER, NULL),
		     STORE_OK);
	cr_assert_str_eq(raw_text(&db, t, sizeof t, "SELECT closed_at FROM cases WHERE id = '%s'", id), LATER);
	cr_assert_eq(store_case_transition(s, "t1", id, CASE_MASK_OPEN, "open", "sync", NULL, LATER, NULL),
		     STORE_STATE, "paid is closed");
}

Test(transition, long_agency_values_compare_without_limits)
{
	char id[STORE_ID_MAX], status[200], t[32];
	new_case("t1", "INV-1", id);
	memset(status, 'S', sizeof status - 1);
	status[sizeof status - 1] = '\0';
	struct case_agency_fields f = {.agency_status = status, .stage = "legal"};
	cr_assert_eq(store_case_transition(s, "t1", id, ALL_STATUSES, NULL, "sync", NULL, NOW, &f), STORE_OK);
	cr_assert_eq(store_case_transition(s, "t1", id, ALL_STATUSES, NULL, "sync", NULL, LATER, &f), STORE_OK);
	cr_assert_str_eq(raw_text(&db, t, sizeof t, "SELECT updated_at FROM cases WHERE id = '%s'", id), NOW,
			 "the same long value again is no change");
	cr_assert_eq(raw_int(&db, "SELECT length(agency_status) FROM cases WHERE id = '%s'", id), 199);
}

Test(transition, rejected_cancels_what_waits_for_the_case)
{
	char id[STORE_ID_MAX], st[STORE_NAME_MAX];
	struct action_add_result act;
	new_case("t1", "INV-1", id);
	cr_assert_eq(act_add(s, "t1", id, ACTION_COMMENT, "c", NOW, &act), STORE_OK);
	struct outbox_item it = claim(0);
	cr_assert_eq(store_case_transition(s, "t1", id, 1u << CASE_PENDING, "rejected", "forwarder",
					   "invalid postal code", LATER, NULL),
		     STORE_OK);
	cr_assert_eq(store_outbox_done(s, &it), STORE_OK, "the sending row is the forwarder's");
	cr_assert_str_eq(status_of(id, st), "rejected");
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM actions WHERE id = '%s' AND state = 'cancelled'", act.id), 1);
	cr_assert_eq(store_outbox_depth(s), 0);
}

/* The outbox row of kind with ref_id (NULL: the case's create). */
static struct outbox_item row_for(const char *tenant, const char *case_id, enum outbox_kind kind, const char *ref_id)
{
	struct outbox_item it = {.kind = kind};
	snprintf(it.tenant, sizeof it.tenant, "%s", tenant);
	snprintf(it.case_id, sizeof it.case_id, "%s", case_id);
	snprintf(it.ref_id, sizeof it.ref_id, "%s", ref_id ? ref_id : "");
	return it;
}

Test(transition, forwarder_reads_one_delivery_at_once)
{
	char id[STORE_ID_MAX];
	struct payment_add_result pay;
	struct action_add_result act;
	struct delivery d;
	const char *missing;
	new_case("t1", "INV-1", id);
	struct outbox_item it = row_for("t1", id, OUTBOX_CREATE, NULL);
	cr_assert_eq(store_delivery_load(s, &it, &d, &missing), STORE_OK);
	cr_assert_str_eq(d.c.id, id);
	cr_assert_str_eq(d.c.invoice_number, "INV-1");
	cr_assert_str_eq(d.national_id, "01018512345", "the clear number, for the agency only");
	cr_assert_not(d.has_settings, "this tenant has none: not an error");
	store_delivery_free(&d);
	it = row_for("t2", id, OUTBOX_CREATE, NULL);
	cr_assert_eq(store_delivery_load(s, &it, &d, &missing), STORE_NOT_FOUND, "another tenant's case");
	cr_assert_str_eq(missing, "case");
	store_delivery_free(&d);

	cr_assert_eq(pay_add(s, "t1", id, PAYMENT_CREDIT_NOTE, 700, "2026-02-09", NULL, NOW, &pay),
		     STORE_OK);
	it = row_for("t1", id, OUTBOX_PAYMENT, pay.id);
	cr_assert_eq(store_delivery_load(s, &it, &d, &missing), STORE_OK);
	cr_assert_eq(d.payment.kind, PAYMENT_CREDIT_NOTE);
	cr_assert_eq(d.payment.amount, 700);
	cr_assert_str_eq(d.payment.paid_on, "2026-02-09");
	cr_assert_null(d.payment.reference);
	cr_assert_null(d.national_id, "the clear number is read for the invoice only");
	store_delivery_free(&d);
	it = row_for("t1", id, OUTBOX_PAYMENT, "pay_nope");
	cr_assert_eq(store_delivery_load(s, &it, &d, &missing), STORE_NOT_FOUND);
	cr_assert_str_eq(missing, "payment");
	store_delivery_free(&d);

	cr_assert_eq(act_add(s, "t1", id, ACTION_DISPUTE, "c", NOW, &act), STORE_STATE, "pending");
	cr_assert_eq(act_add(s, "t1", id, ACTION_COMMENT, "c", NOW, &act), STORE_OK);
	it = row_for("t1", id, OUTBOX_ACTION, act.id);
	cr_assert_eq(store_delivery_load(s, &it, &d, &missing), STORE_OK);
	cr_assert_eq(d.action.type, ACTION_COMMENT);
	cr_assert_str_eq(d.action.comment, "c");
	store_delivery_free(&d);
	it = row_for("t1", id, OUTBOX_ACTION, "act_nope");
	cr_assert_eq(store_delivery_load(s, &it, &d, &missing), STORE_NOT_FOUND);
	cr_assert_str_eq(missing, "action");
	store_delivery_free(&d);
}

/* ---- the case detail ---- */

struct detail {
	int payments, agency_payments, actions, settlements, events;
	bool forwarded;
	int64_t agency_applied;
	char action_state[16];
	int64_t allocated;
};

static int d_event(void *ctx, const struct case_event_row *e)
{
	(void)e;
	((struct detail *)ctx)->events++;
	return 0;
}

static int d_payment(void *ctx, const struct payment_row *p)
{
	struct detail *d = ctx;
	if (strcmp(p->source, "agency") == 0) {
		d->agency_payments++;
		d->agency_applied += p->applied;
		cr_assert_not_null(p->agency_payment_id);
		return 0;
	}
	d->payments++;
	d->forwarded = p->forwarded;
	return 0;
}

static int d_action(void *ctx, const struct action_row *a)
{
	struct detail *d = ctx;
	d->actions++;
	snprintf(d->action_state, sizeof d->action_state, "%s", a->state);
	return 0;
}

static int d_settlement(void *ctx, const struct settlement_ref_row *r)
{
	struct detail *d = ctx;
	d->settlements++;
	d->allocated += r->amount;
	return 0;
}

static const struct case_detail_fns detail_fns = {
	.on_case = ignore_case, .on_event = d_event, .on_payment = d_payment,
	.on_action = d_action, .on_settlement = d_settlement,
};

Test(transition, detail_lists_everything_of_the_case)
{
	char id[STORE_ID_MAX];
	struct payment_add_result pay;
	struct action_add_result act;
	struct detail d = {0};
	new_case("t1", "INV-1", id);
	cr_assert_eq(store_case_detail(s, "t2", id, &detail_fns, &d), STORE_NOT_FOUND);
	deliver_create("t1", id, "481920");
	cr_assert_eq(pay_add(s, "t1", id, PAYMENT_PAYMENT, 25000, "2026-02-09", "B", NOW, &pay), STORE_OK);
	cr_assert_eq(act_add(s, "t1", id, ACTION_COMMENT, "c", NOW, &act), STORE_OK);
	cr_assert_eq(store_case_detail(s, "t1", id, &detail_fns, &d), STORE_OK);
	cr_assert_eq(d.events, 2);
	cr_assert_eq(d.payments, 1);
	cr_assert_not(d.forwarded);
	cr_assert_eq(d.actions, 1);
	cr_assert_str_eq(d.action_state, "pending");
	cr_assert_eq(d.settlements, 0);
	struct outbox_item it = claim(0);
	cr_assert_eq(store_outbox_done(s, &it), STORE_OK);
	it = claim(0);
	cr_assert_eq(store_outbox_done(s, &it), STORE_OK);
	/* An agency payment counts in the balance and is listed beside the direct one. */
	struct agency_payment ap = {.agency_payment_id = "P-1", .agency_case_id = "481920",
				    .amount = 1000, .paid_on = "2026-02-15"};
	cr_assert_eq(store_sync_payment(s, "t1", &ap, LATER, NULL), STORE_OK);
	memset(&d, 0, sizeof d);
	cr_assert_eq(store_case_detail(s, "t1", id, &detail_fns, &d), STORE_OK);
	cr_assert_eq(d.payments, 1);
	cr_assert_eq(d.agency_payments, 1);
	cr_assert_eq(d.agency_applied, 1000);
	cr_assert(d.forwarded, "its DIRECTPAYMENT was delivered");
	cr_assert_str_eq(d.action_state, "sent");
}

/* ---- sync ---- */

Test(sync, payment_applied_once_and_capped_at_the_claim)
{
	char id[STORE_ID_MAX];
	struct payment_add_result pay;
	bool applied = false;
	new_case("t1", "INV-1", id);
	deliver_create("t1", id, "481920");
	cr_assert_eq(pay_add(s, "t1", id, PAYMENT_PAYMENT, 100000, "2026-02-09", NULL, NOW, &pay), STORE_OK);
	struct agency_payment p = {.agency_payment_id = "PAY-77", .agency_case_id = "481920",
				   .amount = 50000, .paid_on = "2026-02-15"};
	cr_assert_eq(store_sync_payment(s, "t1", &p, LATER, &applied), STORE_OK);
	cr_assert(applied);
	struct balance b = balance_of("t1", id);
	cr_assert_eq(b.paid, 124900, "paid never exceeds the claim");
	cr_assert_eq(b.remaining, 0);
	cr_assert_eq(raw_int(&db, "SELECT applied FROM payments WHERE agency_payment_id = 'PAY-77'"), 24900);
	cr_assert_eq(raw_int(&db, "SELECT amount FROM payments WHERE agency_payment_id = 'PAY-77'"), 50000);
	/* The same payment again, even by another route: nothing changes. */
	p.agency_case_id = NULL;
	p.invoice_number = "INV-1";
	cr_assert_eq(store_sync_payment(s, "t1", &p, LATER, &applied), STORE_OK);
	cr_assert_not(applied);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM payments"), 2);
	cr_assert_eq(balance_of("t1", id).paid, 124900);
	/* Nothing owed any more: recorded, counted as zero. */
	p.agency_payment_id = "PAY-78";
	cr_assert_eq(store_sync_payment(s, "t1", &p, LATER, &applied), STORE_OK);
	cr_assert(applied);
	cr_assert_eq(raw_int(&db, "SELECT applied FROM payments WHERE agency_payment_id = 'PAY-78'"), 0);
	cr_assert_eq(balance_of("t1", id).paid, 124900);
}

Test(sync, payment_found_by_invoice_number_and_only_for_the_tenant)
{
	char old[STORE_ID_MAX], live[STORE_ID_MAX];
	struct action_add_result act;
	bool applied;
	new_case("t1", "INV-1", old);
	cr_assert_eq(act_add(s, "t1", old, ACTION_WITHDRAW, NULL, NOW, &act), STORE_OK);
	new_case("t1", "INV-1", live);
	struct agency_payment p = {.agency_payment_id = "P1", .invoice_number = "INV-1", .amount = 500,
				   .paid_on = "2026-02-15"};
	cr_assert_eq(store_sync_payment(s, "t2", &p, LATER, &applied), STORE_NOT_FOUND);
	cr_assert_not(applied);
	cr_assert_eq(store_sync_payment(s, "t1", &p, LATER, &applied), STORE_OK);
	cr_assert_eq(balance_of("t1", live).paid, 500, "the live case of the invoice");
	cr_assert_eq(balance_of("t1", old).paid, 0);
	/* The same agency id at another tenant is another payment. */
	char other[STORE_ID_MAX];
	new_case("t2", "INV-1", other);
	cr_assert_eq(store_sync_payment(s, "t2", &p, LATER, &applied), STORE_OK);
	cr_assert(applied);
	p.agency_payment_id = "P2";
	p.amount = 0;
	cr_assert_eq(store_sync_payment(s, "t1", &p, LATER, &applied), STORE_LIMIT);
	p.amount = 1;
	p.invoice_number = "NOPE";
	cr_assert_eq(store_sync_payment(s, "t1", &p, LATER, &applied), STORE_NOT_FOUND);
}

Test(sync, agency_events_seen_once)
{
	char id[STORE_ID_MAX];
	bool fresh = false;
	new_case("t1", "INV-1", id);
	cr_assert_eq(store_agency_event_seen(s, id, "EV-1", &fresh), STORE_OK);
	cr_assert(fresh);
	cr_assert_eq(store_agency_event_seen(s, id, "EV-1", &fresh), STORE_OK);
	cr_assert_not(fresh);
	cr_assert_eq(store_agency_event_seen(s, id, "EV-2", &fresh), STORE_OK);
	cr_assert(fresh);
	cr_assert_eq(store_agency_event_seen(s, "cc_01JD8ZK5V3Q4N7M2X9R6T1W0YB", "EV-1", &fresh),
		     STORE_NOT_FOUND);
}

struct seen_tenants {
	int n;
	char names[8][16];
	bool enabled[8];
};

static int on_tenant(void *ctx, const char *tenant, const struct agency_settings *st)
{
	struct seen_tenants *t = ctx;
	snprintf(t->names[t->n], sizeof t->names[0], "%s", tenant);
	t->enabled[t->n++] = st->enabled;
	return 0;
}

static void put_settings(const char *tenant, bool enabled)
{
	struct agency_settings a = {.min_days_overdue = 14, .reminder_wait_days = 14, .min_amount = 1,
				    .enabled = enabled, .api_key_set = true, .api_key_valid = -1};
	snprintf(a.creditor_reference, sizeof a.creditor_reference, "CR-%s", tenant);
	snprintf(a.api_key, sizeof a.api_key, "key-%s", tenant);
	snprintf(a.service, sizeof a.service, "collection");
	snprintf(a.customer_type, sizeof a.customer_type, "auto");
	snprintf(a.updated_at, sizeof a.updated_at, NOW);
	cr_assert_eq(store_settings_put(s, tenant, &a, NULL), STORE_OK);
}

Test(sync, tenants_with_settings)
{
	struct seen_tenants t = {0};
	cr_assert_eq(store_tenants_with_settings(s, on_tenant, &t), STORE_OK);
	cr_assert_eq(t.n, 0);
	put_settings("tb", false);
	put_settings("ta", true);
	cr_assert_eq(store_tenants_with_settings(s, on_tenant, &t), STORE_OK);
	cr_assert_eq(t.n, 2);
	cr_assert_str_eq(t.names[0], "ta");
	cr_assert(t.enabled[0]);
	cr_assert_str_eq(t.names[1], "tb");
	cr_assert_not(t.enabled[1]);
}

/* Follows every case, writing through the store from the callback. */
static int follow(void *ctx, const struct case_row *c)
{
	int *n = ctx;
	(*n)++;
	struct case_agency_fields f = {.stage = "collection"};
	cr_assert_eq(store_case_transition(s, c->tenant, c->id, ALL_STATUSES, NULL, "sync", NULL, LATER, &f),
		     STORE_OK);
	struct events ev = events_of(c->tenant, c->id); /* a read, with a pool of one */
	cr_assert_geq(ev.n, 1);
	return 0;
}

Test(sync, cases_to_sync_in_pages_with_the_store_free_for_the_callback)
{
	store_close(s);
	s = open_store(1); /* a held read would deadlock the callback's read */
	char id[STORE_ID_MAX];
	for (int i = 0; i < 150; i++) {
		char inv[16];
		snprintf(inv, sizeof inv, "INV-%d", i);
		new_case("t1", inv, id);
		set_status(id, i % 3 == 0 ? "open" : i % 3 == 1 ? "submitted" : "pending");
	}
	new_case("t2", "INV-X", id);
	set_status(id, "open");
	int n = 0;
	cr_assert_eq(store_cases_to_sync(s, "t1", follow, &n), STORE_OK);
	cr_assert_eq(n, 100, "open and submitted, not pending, not the other tenant's");
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM cases WHERE tenant = 't1' AND stage = 'collection'"), 100);
}

/* ---- settlements ---- */

struct seen_settlements {
	int n, allocs;
	char ids[8][STORE_ID_MAX];
	char dates[8][11];
	char alloc_case[8][STORE_ID_MAX];
	int64_t last_seq;
};

static int on_settlement(void *ctx, const struct settlement_row *st)
{
	struct seen_settlements *v = ctx;
	snprintf(v->ids[v->n], sizeof v->ids[0], "%s", st->id);
	snprintf(v->dates[v->n], sizeof v->dates[0], "%s", st->settlement_date);
	v->last_seq = st->seq;
	v->n++;
	return 0;
}

static int on_allocation(void *ctx, const struct allocation_row *a)
{
	struct seen_settlements *v = ctx;
	snprintf(v->alloc_case[v->allocs++], sizeof v->alloc_case[0], "%s", a->case_id ? a->case_id : "null");
	return 0;
}

static const struct settlement_fns settlement_fns = {on_settlement, on_allocation, NULL};

static enum store_result list_settlements(const char *tenant, const char *from, const char *to, int64_t before,
					  int limit, struct seen_settlements *v, bool *more)
{
	const struct settlement_filter f = {
		.tenant = tenant, .settled_from = from, .settled_to = to, .before_seq = before, .limit = limit,
	};
	return store_settlement_list(s, &f, &settlement_fns, v, more);
}

static void import(const char *tenant, const char *agency_id, const char *date,
		   const struct agency_allocation *a, size_t n, bool want_created)
{
	struct agency_settlement in = {
		.agency_settlement_id = agency_id, .settlement_date = date, .agency = "Confirma",
		.remittance_reference = "RR-1", .amount = 26000, .currency = "NOK", .allocations = a,
		.nallocations = n,
	};
	bool created = !want_created;
	cr_assert_eq(store_sync_settlement(s, tenant, &in, LATER, &created), STORE_OK);
	cr_assert_eq(created, want_created, "%s", agency_id);
}

Test(settlements, imported_once_and_linked_to_cases)
{
	char id[STORE_ID_MAX];
	new_case("t1", "INV-1", id);
	deliver_create("t1", id, "481920");
	struct agency_allocation a[] = {
		{.allocation_id = "AL-1", .agency_case_id = "481920", .invoice_number = "INV-1",
		 .amount = 25000, .allocation_date = "2026-03-01"},
		{.allocation_id = "AL-2", .agency_case_id = "999", .invoice_number = "NOT-OURS",
		 .amount = 1000, .allocation_date = "2026-03-01"},
	};
	import("t1", "STL-1", "2026-03-02", a, 2, true);
	import("t1", "STL-1", "2026-03-02", a, 2, false);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM settlements"), 1);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM settlement_allocations"), 2);

	struct seen_settlements v = {0};
	bool more = true;
	cr_assert_eq(list_settlements("t1", NULL, NULL, 0, 50, &v, &more), STORE_OK);
	cr_assert_eq(v.n, 1);
	cr_assert_not(more);
	cr_assert(ids_valid("st_", v.ids[0]), "%s", v.ids[0]);
	cr_assert_eq(v.allocs, 2);
	cr_assert_str_eq(v.alloc_case[0], id);
	cr_assert_str_eq(v.alloc_case[1], "null");

	struct seen_settlements one = {0};
	cr_assert_eq(store_settlement_get(s, "t1", v.ids[0], &settlement_fns, &one), STORE_OK);
	cr_assert_eq(one.allocs, 2);
	cr_assert_eq(store_settlement_get(s, "t2", v.ids[0], &settlement_fns, &one), STORE_NOT_FOUND);
	struct seen_settlements none = {0};
	cr_assert_eq(list_settlements("t2", NULL, NULL, 0, 50, &none, &more), STORE_OK);
	cr_assert_eq(none.n, 0);

	struct detail d = {0};
	cr_assert_eq(store_case_detail(s, "t1", id, &detail_fns, &d), STORE_OK);
	cr_assert_eq(d.settlements, 1);
	cr_assert_eq(d.allocated, 25000);
}

Test(settlements, repeated_allocation_id_stores_nothing)
{
	struct agency_allocation a[] = {
		{.allocation_id = "AL-1", .invoice_number = "X", .amount = 1, .allocation_date = "2026-03-01"},
		{.allocation_id = "AL-1", .invoice_number = "Y", .amount = 2, .allocation_date = "2026-03-01"},
	};
	struct agency_settlement in = {
		.agency_settlement_id = "STL-9", .settlement_date = "2026-03-02", .agency = "Confirma",
		.amount = 3, .currency = "NOK", .allocations = a, .nallocations = 2,
	};
	bool created = true;
	cr_assert_eq(store_sync_settlement(s, "t1", &in, LATER, &created), STORE_DUPLICATE);
	cr_assert_not(created);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM settlements"), 0);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM settlement_allocations"), 0);
}

Test(settlements, newest_date_first_in_pages)
{
	/* Imported out of date order. */
	import("t1", "S-b", "2026-03-09", NULL, 0, true);
	import("t1", "S-a", "2026-03-02", NULL, 0, true);
	import("t1", "S-d", "2026-03-16", NULL, 0, true);
	import("t1", "S-c", "2026-03-09", NULL, 0, true);
	import("t2", "S-z", "2026-04-01", NULL, 0, true);
	const char *want[] = {"2026-03-16", "2026-03-09", "2026-03-09", "2026-03-02"};
	int64_t cursor = 0;
	int seen = 0;
	char first_of_day[STORE_ID_MAX] = "";
	for (int page = 0; page < 4; page++) {
		struct seen_settlements v = {0};
		bool more = false;
		cr_assert_eq(list_settlements("t1", NULL, NULL, cursor, 1, &v, &more), STORE_OK);
		cr_assert_eq(v.n, 1);
		cr_assert_str_eq(v.dates[0], want[seen], "page %d", page);
		if (seen == 1)
			snprintf(first_of_day, sizeof first_of_day, "%s", v.ids[0]);
		if (seen == 2)
			cr_assert_str_neq(v.ids[0], first_of_day);
		seen++;
		cr_assert_eq(more, seen < 4);
		cursor = v.last_seq;
	}
	struct seen_settlements v = {0};
	bool more = true;
	cr_assert_eq(list_settlements("t1", NULL, NULL, 0, 200, &v, &more), STORE_OK);
	cr_assert_eq(v.n, 4);
	cr_assert_not(more);
	cr_assert_eq(list_settlements("t1", NULL, NULL, 12345, 10, &v, &more), STORE_OK,
		     "a cursor of nothing: an empty page");
}

/* settled_from / settled_to: inclusive days, either alone or both, paged
 * like the whole listing. */
Test(settlements, a_date_range_is_inclusive_and_pages)
{
	import("t1", "S-1", "2026-03-01", NULL, 0, true);
	import("t1", "S-2", "2026-03-02", NULL, 0, true);
	import("t1", "S-3", "2026-03-03", NULL, 0, true);
	import("t1", "S-4", "2026-03-04", NULL, 0, true);
	struct seen_settlements v = {0};
	bool more = true;
	cr_assert_eq(list_settlements("t1", "2026-03-02", "2026-03-03", 0, 50, &v, &more), STORE_OK);
	cr_assert_eq(v.n, 2);
	cr_assert_str_eq(v.dates[0], "2026-03-03");
	cr_assert_str_eq(v.dates[1], "2026-03-02");
	cr_assert_not(more);
	struct seen_settlements p1 = {0}, p2 = {0};
	cr_assert_eq(list_settlements("t1", "2026-03-02", NULL, 0, 2, &p1, &more), STORE_OK);
	cr_assert(more);
	cr_assert_eq(list_settlements("t1", "2026-03-02", NULL, p1.last_seq, 2, &p2, &more), STORE_OK);
	cr_assert_eq(p2.n, 1);
	cr_assert_str_eq(p2.dates[0], "2026-03-02");
	cr_assert_not(more);
	struct seen_settlements to = {0};
	cr_assert_eq(list_settlements("t1", NULL, "2026-03-01", 0, 50, &to, &more), STORE_OK);
	cr_assert_eq(to.n, 1);
	cr_assert_str_eq(to.dates[0], "2026-03-01");
}

/* store_case_transition_ending: the case's move and its create row's end
 * commit together, or neither does. */
Test(outbox, the_case_moves_and_its_row_ends_in_one_transaction)
{
	char a[STORE_ID_MAX], b[STORE_ID_MAX], c[STORE_ID_MAX], st[STORE_NAME_MAX];
	new_case("t1", "INV-A", a);
	new_case("t1", "INV-B", b);
	new_case("t1", "INV-C", c);

	/* delivered: submitted and done */
	struct outbox_item it = claim(0);
	struct outbox_end done = {.row = &it};
	cr_assert_eq(store_case_transition_ending(s, "t1", a, (1u << CASE_PENDING) | (1u << CASE_FAILED), "submitted",
						  "forwarder", "received", NOW, &done),
		     STORE_OK);
	cr_assert_str_eq(status_of(a, st), "submitted");
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox WHERE id = %lld AND state = 'done'", (long long)it.id),
		     1);

	/* gave up: failed and failed, so a retry finds the row to requeue */
	it = claim(0);
	struct outbox_end failed = {.row = &it, .failed = true, .lookup_first = true, .last_error = "HTTP 500"};
	cr_assert_eq(store_case_transition_ending(s, "t1", b, 1u << CASE_PENDING, "failed", "forwarder", "HTTP 500",
						  NOW, &failed),
		     STORE_OK);
	cr_assert_str_eq(status_of(b, st), "failed");
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox WHERE id = %lld AND state = 'failed'"
				  " AND lookup_first = 1",
			     (long long)it.id),
		     1);
	cr_assert_eq(retry(s, "t1", b, NOW, NULL), STORE_OK);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox WHERE id = %lld AND state = 'pending'",
			     (long long)it.id),
		     1);

	/* the case moved on meanwhile: STORE_STATE, yet the row ends */
	it = claim(0);
	set_status(c, "open");
	done.row = &it;
	cr_assert_eq(store_case_transition_ending(s, "t1", c, 1u << CASE_PENDING, "submitted", "forwarder", NULL, NOW,
						  &done),
		     STORE_STATE);
	cr_assert_str_eq(status_of(c, st), "open");
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox WHERE id = %lld AND state = 'done'", (long long)it.id),
		     1);

	/* a row that is not sending: nothing of the case moves either */
	new_case("t1", "INV-D", a);
	it = claim(0);
	cr_assert_eq(store_outbox_done(s, &it), STORE_OK);
	done.row = &it;
	cr_assert_eq(store_case_transition_ending(s, "t1", a, 1u << CASE_PENDING, "submitted", "forwarder", NULL, NOW,
						  &done),
		     STORE_STATE);
	cr_assert_str_eq(status_of(a, st), "pending", "rolled back with the row's refusal");
}
