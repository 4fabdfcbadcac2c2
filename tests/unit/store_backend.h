/* SPDX-License-Identifier: MIT */
/* The database a store test opens, on the backend the run asks for: a
 * SQLite file in a new temporary directory, or, with INKASSO_TEST_STORE=pg,
 * a new database on the PostgreSQL server of INKASSO_TEST_PG (started by
 * scripts/pg-server.sh for `make check`). The tests that include this go
 * through store.h only, so that both backends run the same ones. */
#ifndef INKASSO_TEST_STORE_BACKEND_H
#define INKASSO_TEST_STORE_BACKEND_H
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The lease of the tests' outbox claims: longer than any clock they set,
 * so that only a test about leases sees one run out. */
#ifndef TEST_LEASE_MS
#define TEST_LEASE_MS (INT64_C(1) << 50)
#endif

struct test_db {
	char path[512]; /* what store_open takes: the file or the URI */
	char dir[256];  /* SQLite: the directory holding the file */
	char name[64];  /* PostgreSQL: the database */
};

static inline bool test_store_is_pg(void)
{
	const char *b = getenv("INKASSO_TEST_STORE");
	return b && strcmp(b, "pg") == 0;
}

/* The server's URI; a test that needs it fails without it, never skips. */
static inline const char *test_pg_server(void)
{
	const char *u = getenv("INKASSO_TEST_PG");
	cr_assert(u && u[0], "INKASSO_TEST_PG is not set: run through scripts/pg-server.sh run (make check does)");
	return u;
}

/* Runs one statement on the server's own database (CREATE/DROP DATABASE). */
static inline void test_pg_admin(const char *sql)
{
	PGconn *pg = PQconnectdb(test_pg_server());
	cr_assert_eq(PQstatus(pg), CONNECTION_OK, "%s", PQerrorMessage(pg));
	PGresult *res = PQexec(pg, sql);
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage(pg));
	PQclear(res);
	PQfinish(pg);
}

/* A new, empty PostgreSQL database; its URI into path. */
static inline void test_pg_create(struct test_db *t)
{
	static unsigned counter;
	snprintf(t->name, sizeof t->name, "t_%d_%u_%ld", (int)getpid(), counter++, (long)time(NULL));
	char sql[128];
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", t->name);
	test_pg_admin(sql);
	const char *u = test_pg_server();
	const char *slash = strrchr(u, '/');
	cr_assert(slash && !strchr(slash, '?'), "INKASSO_TEST_PG must end in /<database>");
	snprintf(t->path, sizeof t->path, "%.*s/%s", (int)(slash - u), u, t->name);
}

static inline void test_pg_drop(struct test_db *t)
{
	char sql[128];
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", t->name);
	test_pg_admin(sql);
}

/* A new database of the run's backend. */
static inline void test_db_create(struct test_db *t, const char *prefix)
{
	memset(t, 0, sizeof *t);
	if (test_store_is_pg()) {
		test_pg_create(t);
		return;
	}
	const char *tmp = getenv("TMPDIR");
	snprintf(t->dir, sizeof t->dir, "%s/%s-XXXXXX", tmp && tmp[0] ? tmp : "/tmp", prefix);
	cr_assert_not_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof t->path, "%s/test.db", t->dir);
}

/* Removes it (the store closed first). */
static inline void test_db_remove(struct test_db *t)
{
	if (t->name[0]) {
		test_pg_drop(t);
		return;
	}
	const char *suffix[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		char p[600];
		snprintf(p, sizeof p, "%s%s", t->path, suffix[i]);
		unlink(p);
	}
	rmdir(t->dir);
}

#endif
