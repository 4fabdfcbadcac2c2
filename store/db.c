/* SPDX-License-Identifier: MIT */
#include "store/db.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

/* ---- errors ---- */

enum store_result db_fail(sqlite3 *db, int rc, const char *what)
{
	int primary = rc & 0xff; /* extended codes are on: SQLITE_BUSY_SNAPSHOT & 0xff == SQLITE_BUSY */
	bool busy = primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
	const char *detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
	/* Busy is the caller's 503-and-retry, not a fault of the database. */
	log_write(busy ? LOG_WARN : LOG_ERROR, what, "sqlite", detail, NULL);
	return busy ? STORE_BUSY : STORE_HARD_ERROR;
}

enum store_result db_fail_msg(const char *what, const char *detail)
{
	log_write(LOG_ERROR, what, "detail", detail, NULL);
	return STORE_HARD_ERROR;
}

enum store_result db_no_duplicate(enum store_result r, const char *what)
{
	return r == STORE_DUPLICATE ? db_fail_msg(what, "UNIQUE constraint failed") : r;
}

/* ---- the connection and its statements ---- */

bool db_open(struct db_conn *c, const char *path, int flags, int busy_timeout_ms, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
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

void db_close(struct db_conn *c)
{
	for (int i = 0; i < DB_CACHE_SLOTS; i++)
		sqlite3_finalize(c->cache[i].st);
	for (int i = 0; i < DB_BUILT_SLOTS; i++)
		sqlite3_finalize(c->built[i].st);
	if (c->db) {
		int rc = sqlite3_close(c->db);
		if (rc != SQLITE_OK)
			db_fail(c->db, rc, "store: close");
	}
	memset(c, 0, sizeof *c);
}

/* The slot of sql in the cache: its own, or the empty one it goes into. */
static size_t slot_of(const struct db_conn *c, const char *sql)
{
	/* Fibonacci hashing: the product's top bits spread addresses that differ
	 * only in their low bits, as arrays of one file do. */
	size_t i = (size_t)(((uint64_t)(uintptr_t)sql * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - DB_CACHE_BITS));
	while (c->cache[i].sql && c->cache[i].sql != sql)
		i = (i + 1) % DB_CACHE_SLOTS;
	return i;
}

/* The connection's statement for sql, prepared on first use. */
static enum store_result statement(struct db_conn *c, const char *sql, sqlite3_stmt **st)
{
	size_t i = slot_of(c, sql);
	if (!c->cache[i].sql) {
		/* One slot stays empty, so that every lookup ends. */
		size_t used = 0;
		for (size_t k = 0; k < DB_CACHE_SLOTS; k++)
			used += c->cache[k].sql != NULL;
		if (used + 1 >= DB_CACHE_SLOTS)
			return db_fail_msg("store: prepare", "more statements than DB_CACHE_SLOTS");
		/* PERSISTENT: the statement lives until close, so SQLite takes its
		 * memory from the heap rather than the small lookaside pool. */
		int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->cache[i].st, NULL);
		if (rc != SQLITE_OK)
			return db_fail(c->db, rc, "store: prepare");
		c->cache[i].sql = sql;
	}
	*st = c->cache[i].st;
	return STORE_OK;
}

/* ---- running ---- */

static int bind_all(sqlite3_stmt *st, const struct db_param *params)
{
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
	return rc;
}

/* Frees the copies that reading the first n columns made (n < 0: all). */
static void drop_row(const struct db_col *cols, int n)
{
	for (int i = 0; cols && cols[i].kind != DB_C_END && (n < 0 || i < n); i++)
		if (cols[i].kind == DB_C_BLOB || cols[i].kind == DB_C_DUP) {
			free(*(char **)cols[i].dst);
			*(char **)cols[i].dst = NULL;
		}
}

static inline bool read_col(sqlite3_stmt *st, int i, const struct db_col *col, const char *what);

/* Reads the current row into cols; false (what logged, nothing kept) when a
 * value does not fit its buffer or memory ran out. */
static bool read_row(sqlite3_stmt *st, const struct db_col *cols, const char *what)
{
	int column = 0;
	for (int i = 0; cols && cols[i].kind != DB_C_END; i++) {
		if (!read_col(st, column, &cols[i], what)) {
			drop_row(cols, i);
			return false;
		}
		column += cols[i].kind == DB_C_READ ? (int)cols[i].cap : 1;
	}
	return true;
}

/* True if reading cols makes copies that must be freed. */
static bool owns_copies(const struct db_col *cols)
{
	for (int i = 0; cols && cols[i].kind != DB_C_END; i++)
		if (cols[i].kind == DB_C_BLOB || cols[i].kind == DB_C_DUP)
			return true;
	return false;
}

static inline bool read_col(sqlite3_stmt *st, int i, const struct db_col *col, const char *what)
{
	switch (col->kind) {
	case DB_C_TEXT:
		*(const char **)col->dst = (const char *)sqlite3_column_text(st, i);
		break;
	case DB_C_COPY: {
		const char *v = (const char *)sqlite3_column_text(st, i);
		size_t n = v ? strlen(v) : 0;
		char *dst = col->dst;
		/* A value that does not fit is an error, never a silently
		 * shortened api key or id. */
		if (n >= col->cap) {
			dst[0] = '\0';
			db_fail_msg(what, "stored value longer than its field");
			return false;
		}
		memcpy(dst, v ? v : "", n + 1);
		break;
	}
	case DB_C_INT64:
		*(int64_t *)col->dst = sqlite3_column_int64(st, i);
		break;
	case DB_C_INT:
		*(int *)col->dst =
			sqlite3_column_type(st, i) == SQLITE_NULL ? col->null_int : sqlite3_column_int(st, i);
		break;
	case DB_C_BOOL:
		*(bool *)col->dst = sqlite3_column_int(st, i) != 0;
		break;
	case DB_C_BLOB: {
		/* column_blob before column_bytes: the documented safe order.
		 * A zero-length blob comes back as NULL. */
		const void *v = sqlite3_column_blob(st, i);
		size_t n = (size_t)sqlite3_column_bytes(st, i);
		char *copy = malloc(n + 1); /* NUL-terminated for callers that print it */
		if (!copy) {
			db_fail_msg(what, "out of memory");
			return false;
		}
		if (n)
			memcpy(copy, v, n);
		copy[n] = '\0';
		*(char **)col->dst = copy;
		*col->len = n;
		break;
	}
	case DB_C_DUP: {
		const char *v = (const char *)sqlite3_column_text(st, i);
		char *copy = v ? strdup(v) : NULL;
		if (v && !copy) {
			db_fail_msg(what, "out of memory");
			return false;
		}
		*(char **)col->dst = copy;
		break;
	}
	case DB_C_NAME: {
		const char *v = (const char *)sqlite3_column_text(st, i);
		int k = 0;
		while (v && col->names[k] && strcmp(col->names[k], v) != 0)
			k++;
		if (!v || !col->names[k]) {
			db_fail_msg(what, "stored name unknown to this version");
			return false;
		}
		*(int *)col->dst = k;
		break;
	}
	case DB_C_READ:
		col->read(st, i, col->dst);
		break;
	case DB_C_END:
		break;
	}
	return true;
}

/* A statement left un-reset keeps its read transaction open, which pins the
 * WAL (no checkpoint past it) and, on the writer, makes COMMIT fail while a
 * write statement is still active. */
static void release(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static enum store_result step_result(struct db_conn *c, int rc, const char *what)
{
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return STORE_DUPLICATE;
	return db_fail(c->db, rc, what);
}

enum store_result db_one(struct db_conn *c, const char *sql, const struct db_param *params,
			 const struct db_col *cols, const char *what)
{
	assert(c && c->db && sql && what);
	for (int i = 0; cols && cols[i].kind != DB_C_END; i++)
		assert(cols[i].kind != DB_C_TEXT); /* a view would outlive its row */
	sqlite3_stmt *st;
	enum store_result r = statement(c, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = bind_all(st, params);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && read_row(st, cols, what))
		r = STORE_OK;
	else if (rc == SQLITE_ROW)
		r = STORE_HARD_ERROR;
	else
		r = rc == SQLITE_DONE ? STORE_NOT_FOUND : step_result(c, rc, what);
	release(st);
	return r;
}

enum store_result db_exec(struct db_conn *c, const char *sql, const struct db_param *params, const char *what)
{
	/* A statement without rows is a query whose row is never there. */
	enum store_result r = db_one(c, sql, params, NULL, what);
	return r == STORE_NOT_FOUND ? STORE_OK : r;
}

enum store_result db_each_stmt(struct db_conn *c, sqlite3_stmt *st, const struct db_param *params,
			       const struct db_col *cols, int (*row)(void *arg), void *arg, bool *stop,
			       const char *what)
{
	enum store_result r = STORE_OK;
	bool owns = owns_copies(cols);
	int rc = bind_all(st, params);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!read_row(st, cols, what)) {
			r = STORE_HARD_ERROR;
			break;
		}
		int halt = row ? row(arg) : 0;
		if (owns)
			drop_row(cols, -1); /* a row callback copies what it keeps */
		if (halt) {
			if (stop)
				*stop = true;
			break;
		}
		rc = SQLITE_OK;
	}
	if (r == STORE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = step_result(c, rc, what);
	release(st);
	return r;
}

enum store_result db_each(struct db_conn *c, const char *sql, const struct db_param *params,
			  const struct db_col *cols, int (*row)(void *arg), void *arg, bool *stop, const char *what)
{
	assert(c && c->db && sql && what);
	sqlite3_stmt *st;
	enum store_result r = statement(c, sql, &st);
	if (r != STORE_OK)
		return r;
	return db_each_stmt(c, st, params, cols, row, arg, stop, what);
}

enum store_result db_built(struct db_conn *c, uint32_t key, int (*build)(uint32_t key, char *sql, size_t cap),
			   sqlite3_stmt **st)
{
	for (int i = 0; i < DB_BUILT_SLOTS; i++)
		if (c->built[i].st && c->built[i].key == key) {
			*st = c->built[i].st;
			return STORE_OK;
		}
	char sql[2048];
	if (build(key, sql, sizeof sql) < 0)
		return db_fail_msg("store: prepare", "query longer than its buffer");
	unsigned slot = c->built_next++ % DB_BUILT_SLOTS;
	sqlite3_finalize(c->built[slot].st);
	c->built[slot].st = NULL;
	int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->built[slot].st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(c->db, rc, "store: prepare");
	c->built[slot].key = key;
	*st = c->built[slot].st;
	return STORE_OK;
}

int64_t db_changes(const struct db_conn *c) { return sqlite3_changes64(c->db); }

/* ---- transactions ---- */

static const char sql_begin[] = "BEGIN";
/* IMMEDIATE takes the write lock now, waiting up to busy_timeout. A deferred
 * transaction that reads first and then writes can fail with
 * SQLITE_BUSY_SNAPSHOT, which no waiting cures. */
static const char sql_begin_immediate[] = "BEGIN IMMEDIATE";
static const char sql_commit[] = "COMMIT";
static const char sql_rollback[] = "ROLLBACK";

enum store_result db_begin(struct db_conn *c, bool immediate)
{
	return db_exec(c, immediate ? sql_begin_immediate : sql_begin, NULL,
		       immediate ? "store: begin write" : "store: begin read");
}

enum store_result db_commit(struct db_conn *c)
{
	enum store_result r = db_exec(c, sql_commit, NULL, "store: commit");
	if (r != STORE_BUSY)
		c->commit_failed = r != STORE_OK;
	return r;
}

bool db_in_tx(const struct db_conn *c) { return !sqlite3_get_autocommit(c->db); }

void db_rollback_open(struct db_conn *c)
{
	/* After a failed COMMIT the transaction may still be open (SQLITE_BUSY:
	 * SQLite keeps it for a retry) or already rolled back (an I/O error
	 * rolls back by itself); get_autocommit tells which. */
	if (db_in_tx(c))
		(void)db_exec(c, sql_rollback, NULL, "store: rollback");
}
