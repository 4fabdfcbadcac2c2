/* SPDX-License-Identifier: MIT */
/* PostgreSQL only: a write whose transaction fails on a serialization
 * failure (40001) or a deadlock (40P01) runs again from its beginning, up to
 * STORE_WRITE_ATTEMPTS times, and writes its change once. inkasso's own
 * transactions cannot cause either (they queue on one write lock), so a
 * trigger raises them: it counts its calls in a sequence, which a rollback
 * does not take back, and fails while the count is within a budget. SQLite
 * has one writer and no such errors; the store tests of both engines are
 * test_store*.c. */
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ids.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "tests/unit/store_backend.h"

#define NOW "2026-02-20T10:00:00.000Z"
#define TENANT "t1"

static struct test_db db;
static struct store *s;

static void setup(void)
{
	test_pg_create(&db);
	char err[256] = "";
	s = store_open(db.path, &(struct store_options){.readers = 2}, err, sizeof err);
	cr_assert_not_null(s, "%s", err);
}

static void teardown(void)
{
	store_close(s);
	test_pg_drop(&db);
}

TestSuite(conflicts, .init = setup, .fini = teardown);

static PGresult *run(const char *sql)
{
	PGconn *pg = PQconnectdb(db.path);
	cr_assert_eq(PQstatus(pg), CONNECTION_OK, "%s", PQerrorMessage(pg));
	PGresult *res = PQexec(pg, sql);
	ExecStatusType st = PQresultStatus(res);
	cr_assert(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(pg));
	PQfinish(pg);
	return res;
}

static void exec_sql(const char *sql) { PQclear(run(sql)); }

static long long int_of(const char *sql)
{
	PGresult *res = run(sql);
	cr_assert_eq(PQntuples(res), 1, "%s", sql);
	long long v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}

/* Every insert into table fails with errcode (serialization_failure or
 * deadlock_detected) while it is among the first `failures` tries. */
static void fail_inserts(const char *table, const char *errcode, int failures)
{
	char sql[1024];
	snprintf(sql, sizeof sql,
		 "CREATE SEQUENCE tries;"
		 "CREATE FUNCTION conflict() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
		 " IF nextval('tries') <= %d THEN RAISE EXCEPTION 'injected' USING ERRCODE = '%s'; END IF;"
		 " RETURN NEW; END $$;"
		 "CREATE TRIGGER conflict BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION conflict();",
		 failures, errcode, table);
	exec_sql(sql);
}

static long long tries(void) { return int_of("SELECT last_value FROM tries"); }

static enum store_result create_case(const char *invoice, char id[STORE_ID_MAX])
{
	cr_assert(ids_new("cc_", id, STORE_ID_MAX));
	struct case_new n = {
		.c = {
			.tenant = TENANT, .id = id, .status = "pending", .service = "collection",
			.debtor_type = "consumer", .invoice_number = invoice, .invoice_json = "{}",
			.debtor_json = "{}", .currency = "NOK", .original = 124900, .remaining = 124900,
			.created_at = NOW, .updated_at = NOW,
		},
	};
	struct case_create_result res = {0};
	return store_case_create(s, &n, &res);
}

Test(conflicts, a_create_that_meets_serialization_failures_is_written_once_on_a_later_attempt)
{
	fail_inserts("cases", "serialization_failure", STORE_WRITE_ATTEMPTS - 1);
	char id[STORE_ID_MAX];
	cr_assert_eq(create_case("INV-1", id), STORE_OK);
	cr_assert_eq(tries(), STORE_WRITE_ATTEMPTS, "each failed attempt ran again from the start");
	cr_assert_eq(int_of("SELECT count(*) FROM cases"), 1);
	cr_assert_eq(int_of("SELECT count(*) FROM outbox"), 1, "its outbox row once");
	cr_assert_eq(int_of("SELECT count(*) FROM events WHERE type = 'case.created'"), 1, "its event once");
}

Test(conflicts, a_create_that_keeps_failing_answers_busy_after_its_attempts_and_writes_nothing)
{
	fail_inserts("cases", "deadlock_detected", 100);
	char id[STORE_ID_MAX];
	cr_assert_eq(create_case("INV-2", id), STORE_BUSY);
	cr_assert_eq(tries(), STORE_WRITE_ATTEMPTS, "no more than its attempts");
	cr_assert_eq(int_of("SELECT count(*) FROM cases"), 0);
	cr_assert_eq(int_of("SELECT count(*) FROM outbox"), 0);
	/* The committer goes on: the next create, without the trigger, is written. */
	exec_sql("DROP TRIGGER conflict ON cases");
	cr_assert_eq(create_case("INV-2", id), STORE_OK);
}

Test(conflicts, a_payment_after_a_deadlock_is_booked_once_with_its_balance_moved_once)
{
	char id[STORE_ID_MAX];
	cr_assert_eq(create_case("INV-3", id), STORE_OK);
	fail_inserts("payments", "deadlock_detected", 1);
	const struct store_idem idem = {.key = "pay-once", .fingerprint = "f", .status = 201, .body = "{}",
					.body_len = 2};
	struct store_replay replay = {0};
	const struct store_request rq = {.tenant = TENANT, .now = NOW, .idem = &idem, .replay = &replay};
	struct payment_add_result out = {0};
	cr_assert_eq(store_payment_add(s, &rq, id, PAYMENT_PAYMENT, 20000, "2026-02-19", "REF-1", &out), STORE_OK);
	cr_assert_eq(tries(), 2);
	cr_assert_eq(out.remaining, 124900 - 20000);
	cr_assert_eq(int_of("SELECT count(*) FROM payments"), 1);
	cr_assert_eq(int_of("SELECT count(*) FROM idempotency WHERE key = 'pay-once'"), 1);
	cr_assert_eq(int_of("SELECT remaining FROM cases"), 124900 - 20000, "the balance moved once");
	cr_assert_eq(int_of("SELECT count(*) FROM outbox WHERE kind = 'payment'"), 1);
	/* The same request again is the recorded answer, not a second payment. */
	cr_assert_eq(store_payment_add(s, &rq, id, PAYMENT_PAYMENT, 20000, "2026-02-19", "REF-1", &out), STORE_REPLAY);
	free(replay.body);
	cr_assert_eq(int_of("SELECT count(*) FROM payments"), 1);
}

Test(conflicts, a_settings_put_after_a_serialization_failure_is_stored)
{
	fail_inserts("agency_settings", "serialization_failure", 1);
	struct agency_settings a = {.min_days_overdue = 14, .reminder_wait_days = 14, .min_amount = 1,
				    .enabled = true, .api_key_set = true, .api_key_valid = -1};
	snprintf(a.creditor_reference, sizeof a.creditor_reference, "CR-1");
	snprintf(a.api_key, sizeof a.api_key, "key");
	snprintf(a.service, sizeof a.service, "collection");
	snprintf(a.customer_type, sizeof a.customer_type, "auto");
	snprintf(a.updated_at, sizeof a.updated_at, NOW);
	cr_assert_eq(store_settings_put(s, TENANT, &a, NULL), STORE_OK);
	cr_assert_eq(tries(), 2);
	struct agency_settings got;
	cr_assert_eq(store_settings_get(s, TENANT, &got), STORE_OK);
	cr_assert_str_eq(got.creditor_reference, "CR-1");
}
