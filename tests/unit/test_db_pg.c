/* SPDX-License-Identifier: MIT */
/* The PostgreSQL engine of store/db.h against a real server (the one that
 * scripts/pg-server.sh starts for `make check`, named by INKASSO_TEST_PG):
 * parameters and every column kind, ?N rewritten to $N, SQLSTATEs mapped
 * to store results, serialization failures marked for a retry, statements
 * prepared again after a reconnect, and a transaction whose connection was
 * lost failing to its end instead of going on outside it. Each test works
 * in a database of its own. */
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/db.h"
#include "tests/unit/store_backend.h"

static struct test_db db;

static void setup(void) { test_pg_create(&db); }
static void teardown(void) { test_pg_drop(&db); }

static void open_conn(struct db_conn *c)
{
	char err[256] = "";
	cr_assert(db_open_pg(c, db.path, err, sizeof err), "%s", err);
	cr_assert_eq(db_engine_of(c), DB_PG);
}

static const char sql_table[] = "CREATE TABLE t (id bigint PRIMARY KEY, name text, n bigint, body bytea)";
static const char sql_insert[] = "INSERT INTO t (id, name, n, body) VALUES (?1, ?2, ?3, ?4)";
static const char sql_get[] = "SELECT name, n, n, n > 0, body, name, name, id, 'what?' FROM t WHERE id = ?1";
static const char sql_count[] = "SELECT count(*) FROM t WHERE n >= ?1 AND n <= ?1 + ?2";
static const char sql_update[] = "UPDATE t SET n = n + 1 WHERE n >= ?1";

TestSuite(db_pg, .init = setup, .fini = teardown);

Test(db_pg, parameters_and_every_column_kind)
{
	struct db_conn c;
	open_conn(&c);
	cr_assert_eq(db_exec(&c, sql_table, NULL, "t"), STORE_OK);
	static const char blob[] = {'a', 0, 'b', '\\', 'x'};
	cr_assert_eq(db_exec(&c, sql_insert,
			     (struct db_param[]){DB_INT(1), DB_TEXT("open"), DB_INT(-42), DB_BLOB(blob, sizeof blob),
						 DB_END},
			     "t"),
		     STORE_OK);
	cr_assert_eq(db_exec(&c, sql_insert,
			     (struct db_param[]){DB_INT(2), DB_TEXT(NULL), DB_INT(7), DB_BLOB(NULL, 0), DB_END}, "t"),
		     STORE_OK);
	static const char *const names[] = {"pending", "open", NULL};
	char copy[8];
	int64_t n64 = 0, id = 0;
	int n = 0, name = -1;
	bool positive = true;
	char *body = NULL, *dup = NULL;
	size_t len = 0;
	char what[8];
	const struct db_col cols[] = {DB_COL_COPY(copy), DB_COL_INT64(&n64), DB_COL_INT(&n, 99), DB_COL_BOOL(&positive),
				      DB_COL_BLOB(&body, &len), DB_COL_DUP(&dup), DB_COL_NAME(&name, names),
				      DB_COL_INT64(&id), DB_COL_COPY(what), DB_END_COL};
	cr_assert_eq(db_one(&c, sql_get, (struct db_param[]){DB_INT(1), DB_END}, cols, "t"), STORE_OK);
	cr_assert_str_eq(copy, "open");
	cr_assert_eq(n64, -42);
	cr_assert_eq(n, -42);
	cr_assert_not(positive, "a boolean column reads as 0 or 1");
	cr_assert_eq(len, sizeof blob);
	cr_assert_eq(memcmp(body, blob, sizeof blob), 0, "a bytea comes back byte for byte");
	cr_assert_str_eq(dup, "open");
	cr_assert_eq(name, 1);
	cr_assert_eq(id, 1);
	cr_assert_str_eq(what, "what?", "a ? inside a literal is not a parameter");
	free(body);
	free(dup);

	/* NULLs: the text is "", the int its null value, the name an error. */
	const struct db_col nulls[] = {DB_COL_COPY(copy), DB_COL_INT64(&n64), DB_COL_INT(&n, 99), DB_END_COL};
	static const char sql_null[] = "SELECT name, NULL, NULL FROM t WHERE id = ?1";
	cr_assert_eq(db_one(&c, sql_null, (struct db_param[]){DB_INT(2), DB_END}, nulls, "t"), STORE_OK);
	cr_assert_str_eq(copy, "");
	cr_assert_eq(n, 99);
	cr_assert_eq(db_one(&c, sql_get, (struct db_param[]){DB_INT(2), DB_END}, cols, "t"), STORE_HARD_ERROR,
		     "NULL is not a stored name");

	cr_assert_eq(db_one(&c, sql_get, (struct db_param[]){DB_INT(3), DB_END}, cols, "t"), STORE_NOT_FOUND);
	/* ?1 used twice, ?2 once. */
	int64_t count = 0;
	cr_assert_eq(db_one(&c, sql_count, (struct db_param[]){DB_INT(-50), DB_INT(100), DB_END},
			    (struct db_col[]){DB_COL_INT64(&count), DB_END_COL}, "t"),
		     STORE_OK);
	cr_assert_eq(count, 2);
	/* A number left out (a listing's absent filter) is bound but not sent. */
	static const char sql_gap[] = "SELECT count(*) FROM t WHERE id = ?3 AND n < ?1";
	cr_assert_eq(db_one(&c, sql_gap, (struct db_param[]){DB_INT(0), DB_TEXT(NULL), DB_INT(1), DB_END},
			    (struct db_col[]){DB_COL_INT64(&count), DB_END_COL}, "t"),
		     STORE_OK);
	cr_assert_eq(count, 1);
	cr_assert_eq(db_exec(&c, sql_update, (struct db_param[]){DB_INT(0), DB_END}, "t"), STORE_OK);
	cr_assert_eq(db_changes(&c), 1);
	db_close(&c);
}

static int count_row(void *arg)
{
	(*(int *)arg)++;
	return *(int *)arg == 3; /* stop after the third */
}

Test(db_pg, each_row_stops_and_duplicates_and_wrong_parameter_counts)
{
	struct db_conn c;
	open_conn(&c);
	cr_assert_eq(db_exec(&c, sql_table, NULL, "t"), STORE_OK);
	for (int i = 1; i <= 5; i++)
		cr_assert_eq(db_exec(&c, sql_insert,
				     (struct db_param[]){DB_INT(i), DB_TEXT("x"), DB_INT(i), DB_BLOB("", 0), DB_END}, "t"),
			     STORE_OK);
	static const char sql_all[] = "SELECT id FROM t ORDER BY id";
	int64_t id;
	int rows = 0;
	bool stop = false;
	cr_assert_eq(db_each(&c, sql_all, NULL, (struct db_col[]){DB_COL_INT64(&id), DB_END_COL}, count_row, &rows,
			     &stop, "t"),
		     STORE_OK);
	cr_assert_eq(rows, 3);
	cr_assert(stop);
	cr_assert_eq(id, 3);

	cr_assert_eq(db_exec(&c, sql_insert,
			     (struct db_param[]){DB_INT(1), DB_TEXT("again"), DB_INT(0), DB_BLOB("", 0), DB_END}, "t"),
		     STORE_DUPLICATE, "a unique violation is the duplicate answer");
	cr_assert_eq(db_exec(&c, sql_insert, (struct db_param[]){DB_INT(9), DB_TEXT("x"), DB_END}, "t"),
		     STORE_HARD_ERROR, "a parameter left out is an error, not a NULL");
	cr_assert_eq(db_exec(&c, sql_update, (struct db_param[]){DB_INT(0), DB_INT(1), DB_END}, "t"),
		     STORE_HARD_ERROR, "a parameter too many is an error");
	db_close(&c);
}

static int shape_sql(uint32_t key, char *sql, size_t cap)
{
	return snprintf(sql, cap, "SELECT count(*) + %u FROM t WHERE n > ?1", (unsigned)key);
}

static int backend_pid(struct db_conn *c)
{
	static const char sql[] = "SELECT pg_backend_pid()";
	int pid = 0;
	cr_assert_eq(db_one(c, sql, NULL, (struct db_col[]){DB_COL_INT(&pid, 0), DB_END_COL}, "t"), STORE_OK);
	return pid;
}

static void kill_backend(int pid)
{
	char sql[80];
	snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)", pid);
	PGconn *pg = PQconnectdb(test_pg_server());
	PGresult *res = PQexec(pg, sql);
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQerrorMessage(pg));
	PQclear(res);
	PQfinish(pg);
	usleep(100 * 1000); /* the backend is gone once it has logged out */
}

Test(db_pg, statements_are_prepared_again_after_a_reconnect)
{
	struct db_conn c;
	open_conn(&c);
	cr_assert_eq(db_exec(&c, sql_table, NULL, "t"), STORE_OK);
	cr_assert_eq(db_exec(&c, sql_insert,
			     (struct db_param[]){DB_INT(1), DB_TEXT("x"), DB_INT(5), DB_BLOB("", 0), DB_END}, "t"),
		     STORE_OK);
	struct db_stmt *st;
	int64_t v = 0;
	const struct db_col cols[] = {DB_COL_INT64(&v), DB_END_COL};
	cr_assert_eq(db_built(&c, 10, shape_sql, &st), STORE_OK);
	cr_assert_eq(db_each_stmt(&c, st, (struct db_param[]){DB_INT(0), DB_END}, cols, NULL, NULL, NULL, "t"),
		     STORE_OK);
	cr_assert_eq(v, 11);
	int first = backend_pid(&c);

	kill_backend(first);
	/* The first statement finds the connection gone: 503, try later. */
	cr_assert_eq(db_exec(&c, sql_update, (struct db_param[]){DB_INT(0), DB_END}, "t"), STORE_BUSY);
	/* Then it comes back by itself (after its first backoff of 100 ms)
	 * with its statements prepared again on the new session. */
	enum store_result r = STORE_BUSY;
	for (int i = 0; i < 50 && r == STORE_BUSY; i++) {
		usleep(20 * 1000);
		r = db_exec(&c, sql_update, (struct db_param[]){DB_INT(0), DB_END}, "t");
	}
	cr_assert_eq(r, STORE_OK);
	cr_assert_neq(backend_pid(&c), first, "a new session");
	cr_assert_eq(db_built(&c, 10, shape_sql, &st), STORE_OK);
	cr_assert_eq(db_each_stmt(&c, st, (struct db_param[]){DB_INT(5), DB_END}, cols, NULL, NULL, NULL, "t"),
		     STORE_OK);
	cr_assert_eq(v, 11, "the built statement runs again: n is 6 now");
	db_close(&c);
}

Test(db_pg, a_transaction_whose_connection_was_lost_fails_to_its_end)
{
	struct db_conn c;
	open_conn(&c);
	cr_assert_eq(db_exec(&c, sql_table, NULL, "t"), STORE_OK);
	cr_assert_eq(db_begin(&c, true), STORE_OK);
	cr_assert(db_in_tx(&c));
	cr_assert_eq(db_exec(&c, sql_insert,
			     (struct db_param[]){DB_INT(1), DB_TEXT("x"), DB_INT(5), DB_BLOB("", 0), DB_END}, "t"),
		     STORE_OK);
	kill_backend(backend_pid(&c));
	usleep(150 * 1000); /* past the first backoff: only the transaction holds the reconnect back */
	cr_assert_eq(db_exec(&c, sql_insert,
			     (struct db_param[]){DB_INT(2), DB_TEXT("x"), DB_INT(5), DB_BLOB("", 0), DB_END}, "t"),
		     STORE_BUSY);
	cr_assert_eq(db_exec(&c, sql_insert,
			     (struct db_param[]){DB_INT(3), DB_TEXT("x"), DB_INT(5), DB_BLOB("", 0), DB_END}, "t"),
		     STORE_BUSY, "no reconnect inside the transaction: row 3 would be written outside it");
	cr_assert_eq(db_commit(&c), STORE_BUSY);
	db_rollback_open(&c);
	cr_assert_not(db_in_tx(&c));
	usleep(250 * 1000);
	int64_t count = -1;
	static const char sql_n[] = "SELECT count(*) FROM t";
	enum store_result r = STORE_BUSY;
	for (int i = 0; i < 50 && r == STORE_BUSY; i++) {
		r = db_one(&c, sql_n, NULL, (struct db_col[]){DB_COL_INT64(&count), DB_END_COL}, "t");
		if (r == STORE_BUSY)
			usleep(50 * 1000);
	}
	cr_assert_eq(r, STORE_OK);
	cr_assert_eq(count, 0, "nothing of the lost transaction, nothing after it");
	db_close(&c);
}

Test(db_pg, a_serialization_failure_is_busy_and_marked_for_a_retry)
{
	struct db_conn a, b;
	open_conn(&a);
	open_conn(&b);
	cr_assert_eq(db_exec(&a, sql_table, NULL, "t"), STORE_OK);
	cr_assert_eq(db_exec(&a, sql_insert,
			     (struct db_param[]){DB_INT(1), DB_TEXT("x"), DB_INT(1), DB_BLOB("", 0), DB_END}, "t"),
		     STORE_OK);
	/* Write skew: each reads the sum and writes a row the other's read
	 * would have seen. SERIALIZABLE lets only one of them commit. (The
	 * store's own writes take the write lock and never meet this; a
	 * transaction begun by hand still maps it.) */
	static const char sql_sum[] = "SELECT coalesce(sum(n), 0) FROM t";
	static const char sql_serializable[] = "BEGIN ISOLATION LEVEL SERIALIZABLE";
	int64_t sa = 0, sb = 0;
	cr_assert_eq(db_exec(&a, sql_serializable, NULL, "t"), STORE_OK);
	a.in_tx = true;
	cr_assert_eq(db_exec(&b, sql_serializable, NULL, "t"), STORE_OK);
	b.in_tx = true;
	cr_assert_eq(db_one(&a, sql_sum, NULL, (struct db_col[]){DB_COL_INT64(&sa), DB_END_COL}, "t"), STORE_OK);
	cr_assert_eq(db_one(&b, sql_sum, NULL, (struct db_col[]){DB_COL_INT64(&sb), DB_END_COL}, "t"), STORE_OK);
	cr_assert_eq(db_exec(&a, sql_insert,
			     (struct db_param[]){DB_INT(2), DB_TEXT("a"), DB_INT(sa), DB_BLOB("", 0), DB_END}, "t"),
		     STORE_OK);
	cr_assert_eq(db_exec(&b, sql_insert,
			     (struct db_param[]){DB_INT(3), DB_TEXT("b"), DB_INT(sb), DB_BLOB("", 0), DB_END}, "t"),
		     STORE_OK);
	cr_assert_eq(db_commit(&a), STORE_OK);
	enum store_result rb = db_commit(&b);
	cr_assert_eq(rb, STORE_BUSY);
	cr_assert(b.retry, "a serialization failure may be run again at once");
	db_rollback_open(&b);
	cr_assert_not(db_in_tx(&b));
	db_close(&a);
	db_close(&b);
}

Test(db_pg, writes_take_one_lock_across_connections)
{
	struct db_conn a, b;
	open_conn(&a);
	open_conn(&b);
	static const char sql_timeout[] = "SET lock_timeout = 200";
	cr_assert_eq(db_exec(&b, sql_timeout, NULL, "t"), STORE_OK);
	cr_assert_eq(db_begin(&a, true), STORE_OK);
	/* b's write waits for a's, and gives up as busy after its lock timeout. */
	cr_assert_eq(db_begin(&b, true), STORE_BUSY);
	db_rollback_open(&b);
	cr_assert_eq(db_commit(&a), STORE_OK);
	cr_assert_eq(db_begin(&b, true), STORE_OK, "free again after a's COMMIT");
	cr_assert_eq(db_commit(&b), STORE_OK);
	/* A read never waits for a write. */
	cr_assert_eq(db_begin(&a, true), STORE_OK);
	cr_assert_eq(db_begin(&b, false), STORE_OK);
	cr_assert_eq(db_commit(&b), STORE_OK);
	cr_assert_eq(db_commit(&a), STORE_OK);
	db_close(&a);
	db_close(&b);
}
