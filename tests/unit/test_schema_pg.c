/* SPDX-License-Identifier: MIT */
/* The PostgreSQL schema (store/schema_pg.c) on a real server: the tables and
 * columns of SQLite's final schema, recorded versions, a second migrate that
 * does nothing, two migrators at once, a failed migration that leaves
 * nothing behind, and constraints that show it is SQLite's schema.
 *
 * The server comes from INKASSO_TEST_PG (a libpq URI), which `make check`
 * sets by running this binary under scripts/pg-server.sh run. Without it
 * every test fails: a test that skips itself would hide a suite that never
 * ran. Each test works in a database of its own, dropped at the end. */
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/schema_pg.h"

/* The tables of store/schema.c after all its migrations, by name, and the
 * table of the recorded versions. */
static const char *const sqlite_tables[] = {
	"actions", "agency_events", "agency_settings", "case_events", "cases", "event_sequences",
	"events", "idempotency", "outbox", "payments", "secrets", "settlement_allocations",
	"settlements", "sync_rounds", "webhook_attempts", "webhook_deliveries", "webhook_endpoints",
};

/* Columns in SQLite's order, where ALTER TABLE ADD COLUMN put the later ones
 * last: the order a SELECT * or an INSERT without a column list sees. */
static const struct {
	const char *table, *columns;
} sqlite_columns[] = {
	{"cases", "tenant,seq,id,status,stage,agency_status,service,debtor_type,your_reference,agency_case_id,"
		  "invoice_number,invoice_json,debtor_json,debtor_name,business_name,org_number,date_of_birth,"
		  "national_id,national_id_hash,currency,original,paid,credited,remaining,interest,costs,created_at,"
		  "updated_at,submitted_at,closed_at"},
	{"case_events", "case_id,seq,at,from_status,to_status,source,detail,actor"},
	{"sync_rounds", "tenant,lease_until,ended_at"},
	{"outbox", "id,tenant,case_id,kind,ref_id,state,attempts,next_attempt_at,last_error,created_at,updated_at,"
		   "lookup_first,lease_until"},
	{"idempotency", "tenant,key,fingerprint,status,body,created_at,location"},
	{"agency_settings", "tenant,creditor_reference,api_key,service,customer_type,min_days_overdue,"
			    "reminder_wait_days,min_amount,enabled,api_key_valid,updated_at,actor,agency_environment"},
	{"secrets", "name,value"},
	{"payments", "id,tenant,case_id,kind,amount,applied,paid_on,reference,source,agency_payment_id,created_at,"
		     "actor"},
	{"actions", "id,tenant,case_id,type,comment,state,created_at,updated_at,actor"},
	{"settlements", "tenant,id,seq,agency_settlement_id,settlement_date,agency,remittance_reference,amount,"
			"currency,created_at"},
	{"settlement_allocations", "settlement_id,allocation_id,pos,case_id,invoice_number,amount,allocation_date"},
	{"agency_events", "case_id,event_id"},
	{"events", "pos,id,tenant,type,case_id,subject,sequence,created_at,endpoint_id,body"},
	{"event_sequences", "subject,last"},
	{"webhook_endpoints", "id,tenant,seq,url,event_types,description,enabled,disabled_reason,secret,"
			      "previous_secret,previous_until,failing_since,created_at,updated_at"},
	{"webhook_deliveries", "id,endpoint_id,event_pos,subject,sequence,state,attempts,next_attempt_at,created_at,"
			       "lease_until"},
	{"webhook_attempts", "id,endpoint_id,delivery_id,event_id,attempt,at,status,status_code,duration_ms,error,"
			     "next_attempt_at"},
};

static const char *uri;
static char dbname[64];
static PGconn *admin; /* on the URI's database: creates and drops dbname */
static PGconn *db;    /* on dbname */

static PGconn *connect_to(const char *name)
{
	/* A URI cannot take " dbname=..." after it: expand_dbname parses the
	 * first dbname as the URI, and the second one overrides its path. */
	const char *const keys[] = {"dbname", "dbname", "connect_timeout", NULL};
	const char *const values[] = {uri, name, "10", NULL};
	PGconn *c = PQconnectdbParams(keys, values, 1);
	cr_assert_not_null(c);
	cr_assert_eq(PQstatus(c), CONNECTION_OK, "connect to %s: %s", name ? name : "(the URI's)", PQerrorMessage(c));
	return c;
}

static void run(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(res);
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	char msg[512];
	snprintf(msg, sizeof msg, "%s", ok ? "" : PQresultErrorMessage(res));
	PQclear(res);
	cr_assert(ok, "%s: %s", sql, msg);
}

/* The one value sql answers, as text, into out. */
static void value(PGconn *c, const char *sql, char *out, size_t outlen)
{
	PGresult *res = PQexec(c, sql);
	bool ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) == 1;
	char msg[512];
	snprintf(msg, sizeof msg, "%s", ok ? "" : PQresultErrorMessage(res));
	if (ok)
		snprintf(out, outlen, "%s", PQgetisnull(res, 0, 0) ? "(null)" : PQgetvalue(res, 0, 0));
	PQclear(res);
	cr_assert(ok, "%s: not one value: %s", sql, msg);
}

/* The SQLSTATE that sql fails with ("" when it succeeds), into state. */
static void sqlstate(PGconn *c, const char *sql, char state[6])
{
	PGresult *res = PQexec(c, sql);
	const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	snprintf(state, 6, "%s", s ? s : "");
	PQclear(res);
}

static void setup(void)
{
	uri = getenv("INKASSO_TEST_PG");
	cr_assert(uri && uri[0], "INKASSO_TEST_PG is not set: run this test under scripts/pg-server.sh run "
				 "(as make check does), which starts a PostgreSQL server and sets it");
	unsigned char r[6];
	cr_assert_eq(getentropy(r, sizeof r), 0);
	snprintf(dbname, sizeof dbname, "t_%d_%02x%02x%02x%02x%02x%02x", (int)getpid(), r[0], r[1], r[2], r[3], r[4],
		 r[5]);
	admin = connect_to(NULL);
	char sql[128];
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", dbname);
	run(admin, sql);
	db = connect_to(dbname);
}

static void teardown(void)
{
	PQfinish(db);
	db = NULL;
	if (admin) {
		char sql[128];
		/* FORCE: a connection a failed test left open does not keep it. */
		snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
		PQclear(PQexec(admin, sql));
		PQfinish(admin);
		admin = NULL;
	}
}

TestSuite(schema_pg, .init = setup, .fini = teardown);

static void migrate(PGconn *c)
{
	char err[512] = "";
	cr_assert(store_schema_pg_migrate(c, err, sizeof err), "migrate: %s", err);
	cr_assert_eq(PQtransactionStatus(c), PQTRANS_IDLE, "migrate left a transaction open");
}

/* "1,2,...,n" of the newest version. */
static void versions_expected(char *out, size_t outlen)
{
	size_t n = 0;
	out[0] = '\0';
	for (int v = 1; v <= store_schema_pg_version(); v++)
		n += (size_t)snprintf(out + n, outlen - n, "%s%d", v > 1 ? "," : "", v);
}

static void versions(PGconn *c, char *out, size_t outlen)
{
	value(c, "SELECT coalesce(string_agg(version::text, ',' ORDER BY version), '') FROM schema_version", out,
	      outlen);
}

Test(schema_pg, migrates_an_empty_database_to_sqlites_tables)
{
	migrate(db);
	char want[1024] = "", got[1024];
	for (size_t i = 0; i < sizeof sqlite_tables / sizeof sqlite_tables[0]; i++) {
		strcat(want, sqlite_tables[i]);
		strcat(want, ",");
	}
	strcat(want, "schema_version");
	/* Sorted as the list is: byte order, the "C" collation. */
	value(db,
	      "SELECT string_agg(table_name::text, ',' ORDER BY table_name::text = 'schema_version',"
	      " table_name::text COLLATE \"C\") FROM information_schema.tables"
	      " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
	      got, sizeof got);
	cr_assert_str_eq(got, want);

	for (size_t i = 0; i < sizeof sqlite_columns / sizeof sqlite_columns[0]; i++) {
		char sql[256];
		snprintf(sql, sizeof sql,
			 "SELECT string_agg(attname::text, ',' ORDER BY attnum) FROM pg_attribute"
			 " WHERE attrelid = '%s'::regclass AND attnum > 0 AND NOT attisdropped",
			 sqlite_columns[i].table);
		value(db, sql, got, sizeof got);
		cr_assert_str_eq(got, sqlite_columns[i].columns, "columns of %s", sqlite_columns[i].table);
	}

	/* Every text column compares bytes, as SQLite's BINARY does. */
	value(db,
	      "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema()"
	      " AND data_type = 'text' AND collation_name IS DISTINCT FROM 'C'",
	      got, sizeof got);
	cr_assert_str_eq(got, "0", "text columns without COLLATE \"C\"");

	versions_expected(want, sizeof want);
	versions(db, got, sizeof got);
	cr_assert_str_eq(got, want);
	value(db, "SELECT count(*) FROM schema_version WHERE applied_at ~ '^\\d{4}-\\d\\d-\\d\\dT[0-9:.]{12}Z$'", got,
	      sizeof got);
	cr_assert_eq(atoi(got), store_schema_pg_version(), "applied_at not RFC 3339 UTC");
}

Test(schema_pg, migrating_twice_changes_nothing)
{
	migrate(db);
	char before[1024], after[1024];
	static const char snapshot[] = "SELECT string_agg(version || ' ' || applied_at, ',' ORDER BY version)"
				       " || ' ' || (SELECT count(*) FROM pg_class) FROM schema_version";
	value(db, snapshot, before, sizeof before);
	migrate(db);
	value(db, snapshot, after, sizeof after);
	cr_assert_str_eq(after, before);
	/* The lock is released: another session takes it at once. */
	PGconn *other = connect_to(dbname);
	char got[16];
	char sql[96];
	snprintf(sql, sizeof sql, "SELECT pg_try_advisory_lock(%lld)", (long long)STORE_SCHEMA_PG_LOCK_KEY);
	value(other, sql, got, sizeof got);
	PQfinish(other);
	cr_assert_str_eq(got, "t");
}

struct migrator {
	PGconn *c;
	bool ok;
	char err[512];
};

static void *migrate_thread(void *arg)
{
	struct migrator *m = arg;
	m->ok = store_schema_pg_migrate(m->c, m->err, sizeof m->err);
	return NULL;
}

/* Sessions waiting for the migration lock in this database. */
static int lock_waiters(void)
{
	char sql[320], got[16];
	long long key = STORE_SCHEMA_PG_LOCK_KEY;
	snprintf(sql, sizeof sql,
		 "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
		 " WHERE d.datname = current_database() AND l.locktype = 'advisory' AND NOT l.granted"
		 " AND l.classid = %lld AND l.objid = %lld AND l.objsubid = 1",
		 (key >> 32) & 0xffffffffLL, key & 0xffffffffLL);
	value(db, sql, got, sizeof got);
	return atoi(got);
}

Test(schema_pg, two_migrators_at_once_apply_the_schema_once)
{
	/* This session holds the lock until both migrators wait for it, so that
	 * they really start together; then lets them go. */
	char sql[96], got[1024], want[1024];
	snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(%lld)", (long long)STORE_SCHEMA_PG_LOCK_KEY);
	run(db, sql);
	struct migrator m[2] = {{.c = connect_to(dbname)}, {.c = connect_to(dbname)}};
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, migrate_thread, &m[i]), 0);
	int waiting = 0;
	for (int tries = 0; tries < 1000 && (waiting = lock_waiters()) < 2; tries++)
		usleep(10 * 1000);
	snprintf(sql, sizeof sql, "SELECT pg_advisory_unlock(%lld)", (long long)STORE_SCHEMA_PG_LOCK_KEY);
	run(db, sql);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		PQfinish(m[i].c);
	}
	cr_assert_eq(waiting, 2, "both migrators should have waited for the lock");
	cr_assert(m[0].ok, "first migrator: %s", m[0].err);
	cr_assert(m[1].ok, "second migrator: %s", m[1].err);
	versions_expected(want, sizeof want);
	versions(db, got, sizeof got);
	cr_assert_str_eq(got, want);
	value(db, "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()", got,
	      sizeof got);
	cr_assert_eq((size_t)atoi(got), sizeof sqlite_tables / sizeof sqlite_tables[0] + 1);
}

Test(schema_pg, a_failed_migration_leaves_nothing_and_releases_the_lock)
{
	/* A table in the way: migration 1's CREATE TABLE cases fails (42P07). */
	run(db, "CREATE TABLE cases (x integer)");
	char err[512] = "", got[1024];
	cr_assert_not(store_schema_pg_migrate(db, err, sizeof err));
	cr_assert(strstr(err, "migration 1") && strstr(err, "42P07"), "err: %s", err);
	cr_assert_eq(PQtransactionStatus(db), PQTRANS_IDLE);
	versions(db, got, sizeof got);
	cr_assert_str_eq(got, "");
	value(db, "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()", got,
	      sizeof got);
	cr_assert_str_eq(got, "2", "only cases and schema_version");
	PGconn *other = connect_to(dbname);
	char sql[96];
	snprintf(sql, sizeof sql, "SELECT pg_try_advisory_lock(%lld)", (long long)STORE_SCHEMA_PG_LOCK_KEY);
	value(other, sql, got, sizeof got);
	PQfinish(other);
	cr_assert_str_eq(got, "t");
	/* Out of the way, the migration goes through. */
	run(db, "DROP TABLE cases");
	migrate(db);
}

Test(schema_pg, a_newer_database_is_refused)
{
	migrate(db);
	char sql[128], err[512] = "";
	snprintf(sql, sizeof sql, "INSERT INTO schema_version VALUES (%d, 'x')", store_schema_pg_version() + 1);
	run(db, sql);
	cr_assert_not(store_schema_pg_migrate(db, err, sizeof err));
	cr_assert(strstr(err, "newer than this build"), "err: %s", err);
	cr_assert_eq(PQtransactionStatus(db), PQTRANS_IDLE);
}

#define CASE_SQL(seq, id, status)                                                                              \
	"INSERT INTO cases (tenant, seq, id, status, service, debtor_type, invoice_number, invoice_json,"          \
	" debtor_json, currency, created_at, updated_at) VALUES ('t1', " #seq ", '" id "', '" status "',"          \
	" 'collection', 'consumer', 'INV-1', '{}', '{}', 'NOK', '2026-02-20T10:00:00.000Z',"                      \
	" '2026-02-20T10:00:00.000Z')"

Test(schema_pg, constraints_are_sqlites)
{
	migrate(db);
	char state[6], got[64];
	run(db, CASE_SQL(1, "cc_1", "open"));
	/* One live case per (tenant, invoice_number): cases_live_invoice. */
	sqlstate(db, CASE_SQL(2, "cc_2", "pending"), state);
	cr_assert_str_eq(state, "23505");
	run(db, "UPDATE cases SET status = 'withdrawn' WHERE id = 'cc_1'");
	run(db, CASE_SQL(2, "cc_2", "pending"));
	/* A rejected case is not live either; a third live one is refused. */
	run(db, "UPDATE cases SET status = 'rejected' WHERE id = 'cc_2'");
	run(db, CASE_SQL(3, "cc_3", "submitted"));
	sqlstate(db, CASE_SQL(4, "cc_4", "paid"), state);
	cr_assert_str_eq(state, "23505");
	/* The status CHECK list, and the primary key (tenant, seq). */
	sqlstate(db, CASE_SQL(4, "cc_4", "lost"), state);
	cr_assert_str_eq(state, "23514");
	sqlstate(db, CASE_SQL(3, "cc_5", "withdrawn"), state);
	cr_assert_str_eq(state, "23505");
	/* Defaults: the money columns start at 0. */
	value(db, "SELECT original + paid + credited + remaining + interest + costs FROM cases WHERE id = 'cc_3'", got,
	      sizeof got);
	cr_assert_str_eq(got, "0");

	/* Foreign keys, enforced as SQLite's are (PRAGMA foreign_keys = ON). */
	static const char outbox_sql[] = "INSERT INTO outbox (tenant, case_id, kind, created_at, updated_at)"
					 " VALUES ('t1', '%s', 'create', 'x', 'x') RETURNING id, state, lookup_first";
	char sql[256];
	snprintf(sql, sizeof sql, outbox_sql, "cc_none");
	sqlstate(db, sql, state);
	cr_assert_str_eq(state, "23503");
	/* The identity and the defaults of an outbox row. The refused insert
	 * above drew id 1 (a sequence is not rolled back, unlike SQLite's
	 * AUTOINCREMENT counter): ids have gaps, and still only grow. An id
	 * given is kept (BY DEFAULT, for a copy from SQLite). */
	snprintf(sql, sizeof sql, outbox_sql, "cc_3");
	PGresult *res = PQexec(db, sql);
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
	snprintf(got, sizeof got, "%s %s %s", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	PQclear(res);
	cr_assert_str_eq(got, "2 pending 0");
	run(db, "INSERT INTO outbox (id, tenant, case_id, kind, created_at, updated_at)"
		" VALUES (100, 't1', 'cc_3', 'create', 'x', 'x')");
	sqlstate(db, "UPDATE outbox SET lookup_first = 2", state);
	cr_assert_str_eq(state, "23514");

	/* payments: an agency payment has its agency id, an api one none. */
	static const char payment_sql[] =
		"INSERT INTO payments (id, tenant, case_id, kind, amount, applied, paid_on, source,"
		" agency_payment_id, created_at)"
		" VALUES ('%s', 't1', 'cc_3', 'payment', 100, %d, '2026-02-20', '%s', %s, 'x')";
	snprintf(sql, sizeof sql, payment_sql, "pm_1", 100, "agency", "NULL");
	sqlstate(db, sql, state);
	cr_assert_str_eq(state, "23514");
	snprintf(sql, sizeof sql, payment_sql, "pm_1", 101, "api", "NULL");
	sqlstate(db, sql, state);
	cr_assert_str_eq(state, "23514", "applied above amount");
	snprintf(sql, sizeof sql, payment_sql, "pm_1", 50, "agency", "'ap_1'");
	run(db, sql);
	snprintf(sql, sizeof sql, payment_sql, "pm_2", 50, "agency", "'ap_1'");
	sqlstate(db, sql, state);
	cr_assert_str_eq(state, "23505", "payments_agency: each agency payment once");

	/* Text compares bytes: 'B' < '_' < 'a', whatever the database's locale. */
	run(db, "INSERT INTO secrets VALUES ('a', '\\x00'), ('_', '\\x01'), ('B', '\\x02')");
	value(db, "SELECT string_agg(name, '' ORDER BY name) FROM secrets", got, sizeof got);
	cr_assert_str_eq(got, "B_a");
}
