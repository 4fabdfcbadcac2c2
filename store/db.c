/* SPDX-License-Identifier: MIT */
/* The engine-neutral part of store/db.h: the statement cache, reading a
 * row into its spec, the shape of db_one and db_each, transactions. The
 * engine's calls are in store/db_sqlite.c and store/db_pg.c. */
#include "store/db.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "store/db_engine.h"

/* ---- errors ---- */

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

static void stmt_drop(struct db_conn *c, struct db_stmt *s)
{
	if (s->used)
		c->ops->unprepare(c, s);
	free(s->text);
	memset(s, 0, sizeof *s);
}

void db_close(struct db_conn *c)
{
	if (c->ops) {
		for (int i = 0; i < DB_CACHE_SLOTS; i++)
			stmt_drop(c, &c->cache[i]);
		for (int i = 0; i < DB_BUILT_SLOTS; i++)
			stmt_drop(c, &c->built[i]);
		c->ops->close(c);
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
static enum store_result statement(struct db_conn *c, const char *sql, struct db_stmt **st)
{
	if (c->ops->ready) {
		enum store_result r = c->ops->ready(c);
		if (r != STORE_OK)
			return r;
	}
	size_t i = slot_of(c, sql);
	struct db_stmt *s = &c->cache[i];
	if (!s->sql) {
		/* One slot stays empty, so that every lookup ends. */
		size_t used = 0;
		for (size_t k = 0; k < DB_CACHE_SLOTS; k++)
			used += c->cache[k].sql != NULL;
		if (used + 1 >= DB_CACHE_SLOTS)
			return db_fail_msg("store: prepare", "more statements than DB_CACHE_SLOTS");
		enum store_result r = c->ops->prepare(c, s, (int)i, sql);
		if (r != STORE_OK)
			return r;
		s->sql = sql;
		s->used = true;
	} else if (!s->ready && c->engine == DB_PG) {
		/* A reconnect dropped the server's statements. */
		enum store_result r = c->ops->prepare(c, s, (int)i, sql);
		if (r != STORE_OK)
			return r;
	}
	*st = s;
	return STORE_OK;
}

/* ---- rows ---- */

const char *db_row_text(const struct db_row *r, int i) { return r->ops->text(r, i); }
int64_t db_row_int64(const struct db_row *r, int i) { return r->ops->int64(r, i); }
bool db_row_null(const struct db_row *r, int i) { return r->ops->null(r, i); }

/* Frees the copies that reading the first n columns made (n < 0: all). */
static void drop_row(const struct db_col *cols, int n)
{
	for (int i = 0; cols && cols[i].kind != DB_C_END && (n < 0 || i < n); i++)
		if (cols[i].kind == DB_C_BLOB || cols[i].kind == DB_C_DUP) {
			free(*(char **)cols[i].dst);
			*(char **)cols[i].dst = NULL;
		}
}

/* True if reading cols makes copies that must be freed. */
static bool owns_copies(const struct db_col *cols)
{
	for (int i = 0; cols && cols[i].kind != DB_C_END; i++)
		if (cols[i].kind == DB_C_BLOB || cols[i].kind == DB_C_DUP)
			return true;
	return false;
}

static bool read_col(const struct db_row *row, int i, const struct db_col *col, const char *what)
{
	switch (col->kind) {
	case DB_C_TEXT:
		*(const char **)col->dst = db_row_text(row, i);
		break;
	case DB_C_COPY: {
		const char *v = db_row_text(row, i);
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
		*(int64_t *)col->dst = db_row_int64(row, i);
		break;
	case DB_C_INT:
		*(int *)col->dst = db_row_null(row, i) ? col->null_int : (int)db_row_int64(row, i);
		break;
	case DB_C_BOOL:
		*(bool *)col->dst = db_row_int64(row, i) != 0;
		break;
	case DB_C_BLOB: {
		char *copy = row->ops->blob(row, i, col->len);
		if (!copy) {
			db_fail_msg(what, "out of memory");
			return false;
		}
		*(char **)col->dst = copy;
		break;
	}
	case DB_C_DUP: {
		const char *v = db_row_text(row, i);
		char *copy = v ? strdup(v) : NULL;
		if (v && !copy) {
			db_fail_msg(what, "out of memory");
			return false;
		}
		*(char **)col->dst = copy;
		break;
	}
	case DB_C_NAME: {
		const char *v = db_row_text(row, i);
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
		col->read(row, i, col->dst);
		break;
	case DB_C_END:
		break;
	}
	return true;
}

/* Reads the current row into cols; false (what logged, nothing kept) when a
 * value does not fit its buffer or memory ran out. */
static bool read_row(const struct db_row *row, const struct db_col *cols, const char *what)
{
	int column = 0;
	for (int i = 0; cols && cols[i].kind != DB_C_END; i++) {
		if (!read_col(row, column, &cols[i], what)) {
			drop_row(cols, i);
			return false;
		}
		column += cols[i].kind == DB_C_READ ? (int)cols[i].cap : 1;
	}
	return true;
}

/* ---- running ---- */

enum store_result db_one(struct db_conn *c, const char *sql, const struct db_param *params,
			 const struct db_col *cols, const char *what)
{
	assert(c && c->ops && sql && what);
	for (int i = 0; cols && cols[i].kind != DB_C_END; i++)
		assert(cols[i].kind != DB_C_TEXT); /* a view would outlive its row */
	struct db_stmt *st;
	enum store_result r = statement(c, sql, &st);
	if (r != STORE_OK)
		return r;
	struct db_cursor cur = {.c = c, .stmt = st, .row.ops = c->ops, .what = what};
	r = c->ops->start(&cur, params);
	if (r == STORE_OK) {
		int got = c->ops->next(&cur, &r);
		if (got > 0)
			r = read_row(&cur.row, cols, what) ? STORE_OK : STORE_HARD_ERROR;
		else if (got == 0)
			r = STORE_NOT_FOUND;
	}
	c->ops->finish(&cur);
	return r;
}

enum store_result db_exec(struct db_conn *c, const char *sql, const struct db_param *params, const char *what)
{
	/* A statement without rows is a query whose row is never there. */
	enum store_result r = db_one(c, sql, params, NULL, what);
	return r == STORE_NOT_FOUND ? STORE_OK : r;
}

enum store_result db_each_stmt(struct db_conn *c, struct db_stmt *st, const struct db_param *params,
			       const struct db_col *cols, int (*row)(void *arg), void *arg, bool *stop,
			       const char *what)
{
	struct db_cursor cur = {.c = c, .stmt = st, .row.ops = c->ops, .what = what};
	bool owns = owns_copies(cols);
	enum store_result r = c->ops->start(&cur, params);
	while (r == STORE_OK) {
		int got = c->ops->next(&cur, &r);
		if (got <= 0)
			break;
		if (!read_row(&cur.row, cols, what)) {
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
	}
	c->ops->finish(&cur);
	return r;
}

enum store_result db_each(struct db_conn *c, const char *sql, const struct db_param *params,
			  const struct db_col *cols, int (*row)(void *arg), void *arg, bool *stop, const char *what)
{
	assert(c && c->ops && sql && what);
	struct db_stmt *st;
	enum store_result r = statement(c, sql, &st);
	if (r != STORE_OK)
		return r;
	return db_each_stmt(c, st, params, cols, row, arg, stop, what);
}

enum store_result db_built(struct db_conn *c, uint32_t key, int (*build)(uint32_t key, char *sql, size_t cap),
			   struct db_stmt **st)
{
	for (int i = 0; i < DB_BUILT_SLOTS; i++) {
		struct db_stmt *s = &c->built[i];
		if (s->used && s->key == key) {
			if (!s->ready && c->engine == DB_PG) {
				enum store_result r = c->ops->prepare(c, s, DB_CACHE_SLOTS + i, s->text);
				if (r != STORE_OK)
					return r;
			}
			*st = s;
			return STORE_OK;
		}
	}
	char sql[2048];
	if (build(key, sql, sizeof sql) < 0)
		return db_fail_msg("store: prepare", "query longer than its buffer");
	unsigned slot = c->built_next++ % DB_BUILT_SLOTS;
	struct db_stmt *s = &c->built[slot];
	stmt_drop(c, s);
	if (!(s->text = strdup(sql)))
		return db_fail_msg("store: prepare", "out of memory");
	enum store_result r = c->ops->prepare(c, s, DB_CACHE_SLOTS + (int)slot, s->text);
	if (r != STORE_OK) {
		stmt_drop(c, s);
		return r;
	}
	s->used = true;
	s->key = key;
	*st = s;
	return STORE_OK;
}

int64_t db_changes(const struct db_conn *c) { return c->ops->changes(c); }

/* ---- transactions ---- */

static const char sql_commit[] = "COMMIT";
static const char sql_rollback[] = "ROLLBACK";

enum store_result db_begin(struct db_conn *c, bool immediate)
{
	const char *sql = immediate ? c->ops->begin_write : c->ops->begin_read;
	const char *what = immediate ? "store: begin write" : "store: begin read";
	enum store_result r = db_exec(c, sql, NULL, what);
	/* A pooled connection learns that its server restarted only when it is
	 * used. At BEGIN nothing was done on it yet: reconnect and begin again
	 * at once, rather than answer 503 once for every idle connection. */
	if (r == STORE_BUSY && c->ops->lost && c->ops->lost(c))
		r = db_exec(c, sql, NULL, what);
	if (r == STORE_OK && c->engine == DB_PG)
		c->in_tx = true;
	if (r == STORE_OK && immediate && c->ops->write_lock)
		r = db_exec(c, c->ops->write_lock, NULL, "store: write lock");
	return r;
}

enum store_result db_commit(struct db_conn *c)
{
	enum store_result r = db_exec(c, sql_commit, NULL, "store: commit");
	if (c->ops->tx_ended)
		c->ops->tx_ended(c);
	if (r != STORE_BUSY)
		c->commit_failed = r != STORE_OK;
	return r;
}

bool db_in_tx(const struct db_conn *c) { return c->ops && c->ops->in_tx(c); }

void db_rollback_open(struct db_conn *c)
{
	/* After a failed COMMIT the transaction may still be open (SQLITE_BUSY:
	 * SQLite keeps it for a retry) or already ended (an I/O error rolls
	 * back by itself, as does PostgreSQL after any failed COMMIT); in_tx
	 * tells which. */
	if (db_in_tx(c))
		(void)db_exec(c, sql_rollback, NULL, "store: rollback");
	if (c->ops && c->ops->tx_ended)
		c->ops->tx_ended(c);
}
