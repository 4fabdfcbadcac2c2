/* SPDX-License-Identifier: MIT */
/* The SQLite engine of store/db.h. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "store/db.h"
#include "store/db_engine.h"

enum store_result db_fail(sqlite3 *db, int rc, const char *what)
{
	int primary = rc & 0xff; /* extended codes are on: SQLITE_BUSY_SNAPSHOT & 0xff == SQLITE_BUSY */
	bool busy = primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
	const char *detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
	/* Busy is the caller's 503-and-retry, not a fault of the database. */
	log_write(busy ? LOG_WARN : LOG_ERROR, what, "sqlite", detail, NULL);
	return busy ? STORE_BUSY : STORE_HARD_ERROR;
}

/* Before SQLite's first use in the process: no memory statistics. They are
 * kept under one global mutex that every allocation of every connection
 * takes, which the readers of the HTTP threads contend for; inkasso never
 * asks for them (sqlite3_memory_used). */
static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

bool db_open(struct db_conn *c, const char *path, int flags, int busy_timeout_ms, char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sqlite_setup);
	memset(c, 0, sizeof *c);
	c->engine = DB_SQLITE;
	c->ops = &db_sqlite_ops;
	int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		if (err && errlen)
			snprintf(err, errlen, "open %s: %s", path, c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		return false; /* c->db may hold a handle: db_close releases it */
	}
	/* Extended codes tell SQLITE_CONSTRAINT_UNIQUE from other constraints. */
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, busy_timeout_ms);
	return true;
}

static void sq_close(struct db_conn *c)
{
	if (c->db) {
		int rc = sqlite3_close(c->db);
		if (rc != SQLITE_OK)
			db_fail(c->db, rc, "store: close");
	}
}

static enum store_result sq_prepare(struct db_conn *c, struct db_stmt *s, int index, const char *sql)
{
	(void)index;
	/* PERSISTENT: the statement lives until close, so SQLite takes its
	 * memory from the heap rather than the small lookaside pool. */
	int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(c->db, rc, "store: prepare");
	s->ready = true;
	return STORE_OK;
}

static void sq_unprepare(struct db_conn *c, struct db_stmt *s)
{
	(void)c;
	sqlite3_finalize(s->st);
	s->st = NULL;
}

static enum store_result step_result(struct db_conn *c, int rc, const char *what)
{
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
		snprintf(c->duplicate, sizeof c->duplicate, "%s", sqlite3_errmsg(c->db));
		return STORE_DUPLICATE;
	}
	return db_fail(c->db, rc, what);
}

static enum store_result sq_start(struct db_cursor *cur, const struct db_param *params)
{
	sqlite3_stmt *st = cur->stmt->st;
	cur->row.st = st;
	int rc = SQLITE_OK;
	for (int i = 0; rc == SQLITE_OK && params && params[i].kind != DB_P_END; i++) {
		const struct db_param *p = &params[i];
		switch (p->kind) {
		case DB_P_TEXT:
			rc = p->p ? sqlite3_bind_text(st, i + 1, p->p, -1, SQLITE_STATIC)
				  : sqlite3_bind_null(st, i + 1);
			break;
		case DB_P_INT64:
			rc = sqlite3_bind_int64(st, i + 1, p->i);
			break;
		case DB_P_BLOB:
			/* "" with length 0 binds an empty blob where NULL would bind SQL NULL. */
			rc = sqlite3_bind_blob64(st, i + 1, p->p ? p->p : "", (sqlite3_uint64)p->i, SQLITE_STATIC);
			break;
		case DB_P_END:
			break;
		}
	}
	/* Every ?N of the SQL is given, and no more: a parameter left out
	 * would bind NULL without a word. */
	int n = 0;
	while (params && params[n].kind != DB_P_END)
		n++;
	if (rc == SQLITE_OK && n != sqlite3_bind_parameter_count(st))
		rc = SQLITE_RANGE;
	return rc == SQLITE_OK ? STORE_OK : step_result(cur->c, rc, cur->what);
}

static int sq_next(struct db_cursor *cur, enum store_result *r)
{
	int rc = sqlite3_step(cur->row.st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	*r = step_result(cur->c, rc, cur->what);
	return -1;
}

/* A statement left un-reset keeps its read transaction open, which pins the
 * WAL (no checkpoint past it) and, on the writer, makes COMMIT fail while a
 * write statement is still active. */
static void sq_finish(struct db_cursor *cur)
{
	sqlite3_reset(cur->stmt->st);
	sqlite3_clear_bindings(cur->stmt->st);
}

static const char *sq_text(const struct db_row *r, int i) { return (const char *)sqlite3_column_text(r->st, i); }
static int64_t sq_int64(const struct db_row *r, int i) { return sqlite3_column_int64(r->st, i); }
static bool sq_null(const struct db_row *r, int i) { return sqlite3_column_type(r->st, i) == SQLITE_NULL; }

static char *sq_blob(const struct db_row *r, int i, size_t *len)
{
	/* column_blob before column_bytes: the documented safe order.
	 * A zero-length blob comes back as NULL. */
	const void *v = sqlite3_column_blob(r->st, i);
	size_t n = (size_t)sqlite3_column_bytes(r->st, i);
	char *copy = malloc(n + 1); /* NUL-terminated for callers that print it */
	if (!copy)
		return NULL;
	if (n)
		memcpy(copy, v, n);
	copy[n] = '\0';
	*len = n;
	return copy;
}

static bool sq_in_tx(const struct db_conn *c) { return c->db && !sqlite3_get_autocommit(c->db); }
static int64_t sq_changes(const struct db_conn *c) { return sqlite3_changes64(c->db); }

/* IMMEDIATE takes the write lock now, waiting up to busy_timeout. A deferred
 * transaction that reads first and then writes can fail with
 * SQLITE_BUSY_SNAPSHOT, which no waiting cures. */
static const char sql_begin[] = "BEGIN";
static const char sql_begin_immediate[] = "BEGIN IMMEDIATE";

const struct db_ops db_sqlite_ops = {
	.prepare = sq_prepare,
	.unprepare = sq_unprepare,
	.start = sq_start,
	.next = sq_next,
	.finish = sq_finish,
	.text = sq_text,
	.int64 = sq_int64,
	.null = sq_null,
	.blob = sq_blob,
	.in_tx = sq_in_tx,
	.changes = sq_changes,
	.close = sq_close,
	.begin_read = sql_begin,
	.begin_write = sql_begin_immediate,
};
