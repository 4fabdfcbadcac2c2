/* SPDX-License-Identifier: MIT */
/* Raw SQL on a store test's database (tests/unit/store_backend.h), past the
 * store: for the white-box tests that set up a state the API does not reach
 * (a case moved to a status by hand) or look at rows it does not show. The
 * same SQL runs on both backends where the schemas agree (store/schema.c,
 * store/schema_pg.c); a test that needs one engine's SQL asks
 * test_store_is_pg().
 *
 * Each call opens a connection of its own and closes it again: sqlite3 on
 * the file (with the store's busy timeout, so that it waits for a writer
 * rather than fail), libpq on the URI. The SQL is a printf format (a
 * literal % is %%); a failure fails the test with the SQL and the engine's
 * message. */
#ifndef INKASSO_TEST_STORE_RAW_H
#define INKASSO_TEST_STORE_RAW_H
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/store_backend.h"

#define RAW_BUSY_TIMEOUT_MS 5000

static inline sqlite3 *raw_sqlite_open(const struct test_db *t)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(t->path, &db, SQLITE_OPEN_READWRITE, NULL);
	cr_assert_eq(rc, SQLITE_OK, "open %s: %s", t->path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, RAW_BUSY_TIMEOUT_MS);
	return db;
}

static inline PGconn *raw_pg_open(const struct test_db *t)
{
	PGconn *pg = PQconnectdb(t->path);
	cr_assert_eq(PQstatus(pg), CONNECTION_OK, "connect %s: %s", t->path, PQerrorMessage(pg));
	return pg;
}

/* What one statement (or, to raw_exec, several) gave. */
struct raw_result {
	bool ok, row, null;   /* it succeeded; it gave a row; its first column is NULL */
	bool unique;          /* it failed on a UNIQUE or PRIMARY KEY constraint */
	char text[1024];      /* the first row's first column as text */
	char error[512];      /* the engine's message, when it failed */
};

/* Runs sql on t, keeping the first row's first column. */
static inline void raw_run(const struct test_db *t, const char *sql, struct raw_result *r)
{
	memset(r, 0, sizeof *r);
	if (test_store_is_pg()) {
		PGconn *pg = raw_pg_open(t);
		/* PQexec runs several statements separated by ';' and answers
		 * with the last one's result. */
		PGresult *res = PQexec(pg, sql);
		ExecStatusType st = PQresultStatus(res);
		r->ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
		if (r->ok && st == PGRES_TUPLES_OK && PQntuples(res) > 0) {
			r->row = true;
			r->null = PQgetisnull(res, 0, 0);
			snprintf(r->text, sizeof r->text, "%s", PQgetvalue(res, 0, 0));
		}
		if (!r->ok) {
			const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
			r->unique = state && strcmp(state, "23505") == 0;
			snprintf(r->error, sizeof r->error, "SQLSTATE %s: %s", state ? state : "none",
				 PQresultErrorMessage(res));
		}
		PQclear(res);
		PQfinish(pg);
		return;
	}
	sqlite3 *db = raw_sqlite_open(t);
	sqlite3_stmt *st = NULL;
	const char *tail = sql;
	int rc = SQLITE_OK;
	/* Statement by statement, as sqlite3_exec would, keeping the last
	 * one's first row. */
	while (rc == SQLITE_OK && tail && *tail) {
		rc = sqlite3_prepare_v2(db, tail, -1, &st, &tail);
		if (rc != SQLITE_OK || !st)
			break; /* an error, or only white space or a comment left */
		r->row = false;
		int step = sqlite3_step(st);
		if (step == SQLITE_ROW) {
			const unsigned char *v = sqlite3_column_text(st, 0);
			r->row = true;
			r->null = v == NULL;
			snprintf(r->text, sizeof r->text, "%s", v ? (const char *)v : "");
		} else if (step != SQLITE_DONE) {
			rc = step;
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	r->ok = rc == SQLITE_OK;
	if (!r->ok) {
		r->unique = sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_UNIQUE ||
			    sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_PRIMARYKEY;
		snprintf(r->error, sizeof r->error, "%s (%d)", sqlite3_errmsg(db), sqlite3_extended_errcode(db));
	}
	sqlite3_close(db);
}

static inline void raw_vrun(const struct test_db *t, struct raw_result *r, char *sql, size_t cap, const char *fmt,
			    va_list ap)
{
	int n = vsnprintf(sql, cap, fmt, ap);
	cr_assert(n >= 0 && (size_t)n < cap, "SQL longer than %zu: %s", cap, fmt);
	raw_run(t, sql, r);
}

/* Runs the statements of fmt; they must succeed. */
static inline void raw_exec(const struct test_db *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void raw_exec(const struct test_db *t, const char *fmt, ...)
{
	char sql[2048];
	struct raw_result r;
	va_list ap;
	va_start(ap, fmt);
	raw_vrun(t, &r, sql, sizeof sql, fmt, ap);
	va_end(ap);
	cr_assert(r.ok, "%s: %s", sql, r.error);
}

/* The first column of the first row as text, into out ("" for NULL). */
static inline char *raw_text(const struct test_db *t, char *out, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static inline char *raw_text(const struct test_db *t, char *out, size_t cap, const char *fmt, ...)
{
	char sql[2048];
	struct raw_result r;
	va_list ap;
	va_start(ap, fmt);
	raw_vrun(t, &r, sql, sizeof sql, fmt, ap);
	va_end(ap);
	cr_assert(r.ok, "%s: %s", sql, r.error);
	cr_assert(r.row, "%s: no row", sql);
	size_t n = strlen(r.text);
	cr_assert_lt(n, cap, "%s: a value of %zu bytes for a buffer of %zu", sql, n, cap);
	memcpy(out, r.text, n + 1);
	return out;
}

/* The first column of the first row as an integer; never NULL. A boolean
 * (x IS NULL) reads as 1 or 0 on both: PostgreSQL answers it as t or f. */
static inline int64_t raw_int(const struct test_db *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int64_t raw_int(const struct test_db *t, const char *fmt, ...)
{
	char sql[2048];
	struct raw_result r;
	va_list ap;
	va_start(ap, fmt);
	raw_vrun(t, &r, sql, sizeof sql, fmt, ap);
	va_end(ap);
	cr_assert(r.ok, "%s: %s", sql, r.error);
	cr_assert(r.row, "%s: no row", sql);
	cr_assert_not(r.null, "%s: NULL", sql);
	if (strcmp(r.text, "t") == 0 || strcmp(r.text, "f") == 0)
		return r.text[0] == 't';
	char *end = NULL;
	long long v = strtoll(r.text, &end, 10);
	cr_assert(end && end != r.text && !*end, "%s: not an integer: %s", sql, r.text);
	return v;
}

/* Runs fmt, which must fail on a UNIQUE or PRIMARY KEY constraint
 * (SQLite's SQLITE_CONSTRAINT_UNIQUE or _PRIMARYKEY, SQLSTATE 23505), not
 * succeed and not fail otherwise. */
static inline void raw_exec_unique_violation(const struct test_db *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline void raw_exec_unique_violation(const struct test_db *t, const char *fmt, ...)
{
	char sql[2048];
	struct raw_result r;
	va_list ap;
	va_start(ap, fmt);
	raw_vrun(t, &r, sql, sizeof sql, fmt, ap);
	va_end(ap);
	cr_assert_not(r.ok, "%s: succeeded, a unique violation expected", sql);
	cr_assert(r.unique, "%s: failed otherwise than on a unique constraint: %s", sql, r.error);
}

/* The plan of the query sql, its steps joined by " | ": SQLite's EXPLAIN
 * QUERY PLAN (the detail of each step), or PostgreSQL's EXPLAIN (COSTS OFF)
 * (each line, trimmed) with sequential scans and sorts priced out. On the
 * few rows of a test, PostgreSQL rightly finds a scan and a sort cheapest,
 * which says nothing of the indexes; priced out, the plan shows whether an
 * index gives the rows in the order asked, as SQLite's plan does. */
static inline void raw_plan(const struct test_db *t, const char *sql, char *out, size_t cap)
{
	char explain[4096];
	out[0] = '\0';
	if (test_store_is_pg()) {
		PGconn *pg = raw_pg_open(t);
		PGresult *res = PQexec(pg, "SET enable_seqscan = off; SET enable_sort = off");
		cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQerrorMessage(pg));
		PQclear(res);
		snprintf(explain, sizeof explain, "EXPLAIN (COSTS OFF) %s", sql);
		res = PQexec(pg, explain);
		cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s: %s", explain, PQerrorMessage(pg));
		for (int i = 0; i < PQntuples(res); i++) {
			const char *line = PQgetvalue(res, i, 0);
			size_t n = strlen(out);
			snprintf(out + n, cap - n, "%s%s", n ? " | " : "", line + strspn(line, " ->"));
		}
		PQclear(res);
		PQfinish(pg);
		return;
	}
	snprintf(explain, sizeof explain, "EXPLAIN QUERY PLAN %s", sql);
	sqlite3 *db = raw_sqlite_open(t);
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db, explain, -1, &st, NULL), SQLITE_OK, "%s: %s", explain, sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t n = strlen(out);
		snprintf(out + n, cap - n, "%s%s", n ? " | " : "", (const char *)sqlite3_column_text(st, 3));
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

#endif
