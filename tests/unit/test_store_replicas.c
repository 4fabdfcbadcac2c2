/* SPDX-License-Identifier: MIT */
/* What lets replicas share one database, through the store's headers only
 * and on both backends (tests/unit/store_backend.h): outbox leases taken
 * over when they run out, with the late end of the first claimer refused,
 * and the turns at a tenant's sync round. (The webhook deliveries' leases
 * are in test_store_events.c, beside their crash requeue.) */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
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
	test_db_create(&db, "inkasso-replicas");
	char err[256] = "";
	s = store_open(db.path, &(struct store_options){.readers = 2}, err, sizeof err);
	cr_assert_not_null(s, "%s", err);
}

static void teardown(void)
{
	store_close(s);
	test_db_remove(&db);
}

TestSuite(replicas, .init = setup, .fini = teardown);

static void new_case(const char *tenant, const char *invoice, char id[STORE_ID_MAX])
{
	cr_assert(ids_new("cc_", id, STORE_ID_MAX));
	struct case_new n = {
		.c = {
			.tenant = tenant, .id = id, .status = "pending", .service = "collection", .debtor_type = "consumer",
			.invoice_number = invoice, .invoice_json = "{}", .debtor_json = "{}",
			.currency = "NOK", .original = 124900, .remaining = 124900, .created_at = NOW, .updated_at = NOW,
		},
	};
	struct case_create_result res = {0};
	cr_assert_eq(store_case_create(s, &n, &res), STORE_OK);
}

Test(replicas, an_outbox_claim_whose_lease_ran_out_is_taken_over_and_its_late_end_refused)
{
	char id[STORE_ID_MAX];
	new_case("t1", "INV-LEASE", id);
	struct outbox_item first, again, taken;
	cr_assert_eq(store_outbox_claim(s, 10000, 1000, &first), STORE_OK);
	cr_assert_str_eq(first.case_id, id);
	cr_assert_eq(first.attempts, 1);
	cr_assert_not(first.lookup_first);
	cr_assert_eq(store_outbox_claim(s, 10999, 1000, &again), STORE_NOT_FOUND, "the lease still holds");
	/* A replica that dies mid-send leaves a row sending that no start
	 * requeues on PostgreSQL (replicas share it); SQLite's file is one
	 * process's, which requeues its predecessor's rows at once. */
	int64_t requeued = -1;
	cr_assert_eq(store_outbox_requeue_sending(s, &requeued), STORE_OK);
	cr_assert_eq(requeued, test_store_is_pg() ? 0 : 1);
	if (!test_store_is_pg()) {
		cr_assert_eq(store_outbox_claim(s, 10999, 1000, &first), STORE_OK, "requeued: due at once");
		cr_assert_eq(first.attempts, 2);
		cr_assert(first.lookup_first, "its outcome was unknown");
	}
	/* Past the lease the next claim takes the row over: a new token
	 * (attempts), and the invoice looked up first. */
	int64_t t = first.attempts == 1 ? 11000 : 12000;
	cr_assert_eq(store_outbox_claim(s, t, 1000, &taken), STORE_OK);
	cr_assert_eq(taken.id, first.id);
	cr_assert_eq(taken.attempts, first.attempts + 1);
	cr_assert(taken.lookup_first);
	/* The first claimer's late answer changes nothing... */
	cr_assert_eq(store_outbox_done(s, &first), STORE_STATE);
	cr_assert_eq(store_outbox_fail(s, &first, false, "late"), STORE_STATE);
	cr_assert_eq(store_outbox_retry(s, &first, 0, false, "late"), STORE_STATE);
	cr_assert_eq(store_outbox_claim(s, t + 500, 1000, &again), STORE_NOT_FOUND, "still sending, under the new lease");
	/* ...the new claimer's ends it. */
	cr_assert_eq(store_outbox_done(s, &taken), STORE_OK);
	cr_assert_eq(store_outbox_claim(s, 99999, 1000, &again), STORE_NOT_FOUND, "done: never taken over again");
}


Test(replicas, a_sync_round_is_one_replicas_turn_at_a_time_and_due_again_after_every)
{
	int64_t t1, t2, late;
	cr_assert_eq(store_sync_round_claim(s, "t1", 1000, 5000, 60000, &t1), STORE_OK, "the first turn");
	cr_assert_eq(store_sync_round_claim(s, "t1", 1001, 5000, 60000, &t2), STORE_STATE, "held by the first");
	cr_assert_eq(store_sync_round_claim(s, "t2", 1001, 5000, 60000, &t2), STORE_OK, "another tenant's is free");
	cr_assert_eq(store_sync_round_end(s, "t1", t1, 2000), STORE_OK);
	cr_assert_eq(store_sync_round_claim(s, "t1", 6999, 5000, 60000, &t1), STORE_STATE, "ran within every_ms");
	cr_assert_eq(store_sync_round_claim(s, "t1", 7000, 5000, 60000, &late), STORE_OK, "due again");
	/* A holder that died, or outlived its lease: its turn is taken when the
	 * lease ends, and its late end leaves the new holder's turn alone. */
	cr_assert_eq(store_sync_round_claim(s, "t1", 66999, 5000, 60000, &t1), STORE_STATE);
	cr_assert_eq(store_sync_round_claim(s, "t1", 67000, 5000, 60000, &t1), STORE_OK, "the lease ran out");
	cr_assert_eq(store_sync_round_end(s, "t1", late, 67000), STORE_STATE, "no longer the late one's turn");
	cr_assert_eq(store_sync_round_claim(s, "t1", 67000, 0, 60000, &t2), STORE_STATE, "still the taker's");
	/* every_ms 0 (a round asked for now): only the holder matters. */
	cr_assert_eq(store_sync_round_end(s, "t1", t1, 67001), STORE_OK);
	cr_assert_eq(store_sync_round_claim(s, "t1", 67001, 0, 60000, &t1), STORE_OK);
	/* A restart: on SQLite the file is this process's, its predecessor's
	 * turns are free at once; on PostgreSQL another replica may hold them. */
	cr_assert_eq(store_sync_rounds_release(s), STORE_OK);
	cr_assert_eq(store_sync_round_claim(s, "t1", 67002, 0, 60000, &t1), test_store_is_pg() ? STORE_STATE : STORE_OK);
}
