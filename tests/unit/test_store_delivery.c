/* SPDX-License-Identifier: MIT */
/* The case detail's delivery (store_case_detail's on_delivery), through
 * store.h and the forwarder's store_agency.h only, on a temporary database
 * of the run's backend (tests/unit/store_backend.h): which outbox row is
 * shown, and when none is. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "lib/ids.h"
#include "store/store.h"
#include "store/store_agency.h"
#include "tests/unit/store_backend.h"

#define NOW "2026-02-20T10:00:00.000Z"

static struct test_db db;
static struct store *s;

static void setup(void)
{
	char err[256] = "";
	test_db_create(&db, "inkasso-delivery");
	s = store_open(db.path, &(struct store_options){.readers = 2}, err, sizeof err);
	cr_assert_not_null(s, "store_open: %s", err);
}

static void teardown(void)
{
	store_close(s);
	s = NULL;
	test_db_remove(&db);
}

TestSuite(delivery, .init = setup, .fini = teardown);

static void new_case(const char *invoice, char id[STORE_ID_MAX])
{
	char invoice_json[96];
	cr_assert(ids_new("cc_", id, STORE_ID_MAX));
	snprintf(invoice_json, sizeof invoice_json, "{\"number\":\"%s\"}", invoice);
	struct case_new n = {
		.c = {
			.tenant = "t1", .id = id, .status = "pending", .service = "collection",
			.debtor_type = "consumer", .invoice_number = invoice, .invoice_json = invoice_json,
			.debtor_json = "{\"name\":\"Kari\"}", .currency = "NOK", .original = 124900,
			.remaining = 124900, .created_at = NOW, .updated_at = NOW,
		},
	};
	struct case_create_result res;
	cr_assert_eq(store_case_create(s, &n, &res), STORE_OK, "create %s", invoice);
}

static struct outbox_item claim(void)
{
	struct outbox_item it;
	cr_assert_eq(store_outbox_claim(s, INT64_C(1) << 40, TEST_LEASE_MS, &it), STORE_OK, "a row is due");
	return it;
}

/* What on_delivery saw, copied. */
struct seen {
	int calls;
	enum outbox_kind kind;
	char state[STORE_NAME_MAX];
	int attempts;
	char last_error[64];
	bool has_error;
	int64_t next_ms;
	char updated_at[32];
};

static int on_delivery(void *ctx, const struct case_delivery_row *d)
{
	struct seen *w = ctx;
	w->calls++;
	w->kind = d->kind;
	snprintf(w->state, sizeof w->state, "%s", d->state);
	w->attempts = d->attempts;
	w->has_error = d->last_error != NULL;
	snprintf(w->last_error, sizeof w->last_error, "%s", d->last_error ? d->last_error : "");
	w->next_ms = d->next_attempt_at_ms;
	snprintf(w->updated_at, sizeof w->updated_at, "%s", d->updated_at ? d->updated_at : "");
	return 0;
}

/* The case's delivery as store_case_detail reports it (only on_delivery asked for). */
static struct seen delivery_of(const char *tenant, const char *id)
{
	static const struct case_detail_fns fns = {.on_delivery = on_delivery};
	struct seen w = {0};
	cr_assert_eq(store_case_detail(s, tenant, id, &fns, &w), STORE_OK);
	cr_assert_leq(w.calls, 1, "at most one row is shown");
	return w;
}

static enum store_result act_add(const char *id, enum action_type type, struct action_add_result *res)
{
	const struct store_request rq = {.tenant = "t1", .now = NOW};
	return store_action_add(s, &rq, id, type, NULL, res);
}

Test(delivery, the_first_waiting_row_in_the_case_order)
{
	char id[STORE_ID_MAX];
	new_case("INV-1", id);
	struct seen w = delivery_of("t1", id);
	cr_assert_eq(w.calls, 1, "a new case waits for its send");
	cr_assert_eq(w.kind, OUTBOX_CREATE);
	cr_assert_str_eq(w.state, "pending");
	cr_assert_eq(w.attempts, 0);
	cr_assert_not(w.has_error);
	cr_assert_eq(w.next_ms, 0, "due at once");
	cr_assert_str_eq(w.updated_at, NOW, "since it was queued");

	struct outbox_item it = claim();
	w = delivery_of("t1", id);
	cr_assert_str_eq(w.state, "sending");
	cr_assert_eq(w.attempts, 1, "the attempt in flight counts");

	cr_assert_eq(store_outbox_retry(s, &it, 5000, true, "the agency answered HTTP 503"), STORE_OK);
	struct action_add_result act;
	cr_assert_eq(act_add(id, ACTION_COMMENT, &act), STORE_OK);
	w = delivery_of("t1", id);
	cr_assert_eq(w.kind, OUTBOX_CREATE, "the comment queues behind the create: the create is shown");
	cr_assert_str_eq(w.state, "pending");
	cr_assert_eq(w.attempts, 1);
	cr_assert_str_eq(w.last_error, "the agency answered HTTP 503");
	cr_assert_eq(w.next_ms, 5000);

	/* Delivered: the comment is what waits now. */
	it = claim();
	struct outbox_end done = {.row = &it};
	cr_assert_eq(store_case_transition_ending(s, "t1", id, 1u << CASE_PENDING, "submitted", "forwarder", NULL,
						  NOW, &done),
		     STORE_OK);
	w = delivery_of("t1", id);
	cr_assert_eq(w.calls, 1);
	cr_assert_eq(w.kind, OUTBOX_ACTION);
	cr_assert_eq(w.attempts, 0);
	cr_assert_not(w.has_error);

	/* The comment is sent: nothing waits. */
	it = claim();
	cr_assert_eq(store_outbox_done(s, &it), STORE_OK);
	cr_assert_eq(delivery_of("t1", id).calls, 0);
	/* Another tenant's id: not found, nothing reported. */
	static const struct case_detail_fns fns = {.on_delivery = on_delivery};
	struct seen other = {0};
	cr_assert_eq(store_case_detail(s, "t2", id, &fns, &other), STORE_NOT_FOUND);
	cr_assert_eq(other.calls, 0);
}

Test(delivery, a_failed_action_no_longer_waits)
{
	char id[STORE_ID_MAX];
	new_case("INV-2", id);
	struct outbox_item it = claim();
	struct outbox_end done = {.row = &it};
	cr_assert_eq(store_case_transition_ending(s, "t1", id, 1u << CASE_PENDING, "submitted", "forwarder", NULL,
						  NOW, &done),
		     STORE_OK);
	struct action_add_result act;
	cr_assert_eq(act_add(id, ACTION_COMMENT, &act), STORE_OK);
	it = claim();
	cr_assert_eq(store_outbox_fail(s, &it, false, "HTTP 422"), STORE_OK);
	cr_assert_eq(delivery_of("t1", id).calls, 0, "the forwarder gave up on it: it waits for nothing");
}

Test(delivery, a_failed_create_waits_while_the_case_is_failed)
{
	char id[STORE_ID_MAX];
	new_case("INV-3", id);
	struct outbox_item it = claim();
	struct outbox_end failed = {.row = &it, .failed = true, .last_error = "connection refused"};
	cr_assert_eq(store_case_transition_ending(s, "t1", id, 1u << CASE_PENDING, "failed", "forwarder",
						  "connection refused", NOW, &failed),
		     STORE_OK);
	struct seen w = delivery_of("t1", id);
	cr_assert_eq(w.calls, 1, "a failed case is stuck until a retry");
	cr_assert_str_eq(w.state, "failed");
	cr_assert_eq(w.attempts, 1);
	cr_assert_str_eq(w.last_error, "connection refused");

	const struct store_request rq = {.tenant = "t1", .now = NOW};
	cr_assert_eq(store_case_retry(s, &rq, id, NULL, NULL, NULL), STORE_OK);
	w = delivery_of("t1", id);
	cr_assert_str_eq(w.state, "pending");
	cr_assert_eq(w.attempts, 0, "a retry starts the count again");
}

Test(delivery, a_rejected_case_waits_for_nothing)
{
	char id[STORE_ID_MAX];
	new_case("INV-4", id);
	struct action_add_result act;
	cr_assert_eq(act_add(id, ACTION_COMMENT, &act), STORE_OK);
	struct outbox_item it = claim();
	struct outbox_end failed = {.row = &it, .failed = true, .last_error = "the agency answered HTTP 401"};
	cr_assert_eq(store_case_transition_ending(s, "t1", id, 1u << CASE_PENDING, "rejected", "forwarder",
						  "invalid api key", NOW, &failed),
		     STORE_OK);
	cr_assert_eq(delivery_of("t1", id).calls, 0, "refused: the create failed, the comment is cancelled");
}

Test(delivery, a_withdrawal_here_cancels_what_waited)
{
	char id[STORE_ID_MAX];
	new_case("INV-5", id);
	cr_assert_eq(delivery_of("t1", id).calls, 1);
	struct action_add_result act;
	cr_assert_eq(act_add(id, ACTION_WITHDRAW, &act), STORE_OK);
	cr_assert_str_eq(act.state, "done");
	cr_assert_eq(delivery_of("t1", id).calls, 0);
}
