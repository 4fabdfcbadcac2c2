/* SPDX-License-Identifier: MIT */
/* What store/db.c asks of an engine: the few calls that differ between
 * SQLite (store/db_sqlite.c) and PostgreSQL (store/db_pg.c). Reading a
 * query's spec arrays, the statement cache and the transactions' shape are
 * db.c's, once for both. Only db.c and the two engines include this. */
#ifndef INKASSO_STORE_DB_ENGINE_H
#define INKASSO_STORE_DB_ENGINE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"

/* A statement running: its rows are read one by one. */
struct db_cursor {
	struct db_conn *c;
	struct db_stmt *stmt;
	struct db_row row;       /* the current row (row.n counts rows on PostgreSQL) */
	struct pg_result *res;   /* DB_PG: the statement's whole result */
	int nrows;               /* DB_PG: its rows */
	const char *what;
};

struct db_ops {
	/* Prepares sql into the statement slot s (index: its place in the
	 * cache, or DB_CACHE_SLOTS + its place among the built ones). */
	enum store_result (*prepare)(struct db_conn *c, struct db_stmt *s, int index, const char *sql);
	/* NULL, or makes the connection usable before a statement: reconnects
	 * a lost one (outside a transaction only). */
	enum store_result (*ready)(struct db_conn *c);
	/* NULL, or true when the connection was found dead (the server went
	 * away since its last use). */
	bool (*lost)(const struct db_conn *c);
	/* Frees what s holds on the engine's side (not s->text). */
	void (*unprepare)(struct db_conn *c, struct db_stmt *s);
	/* Binds params and runs the statement up to its first row. */
	enum store_result (*start)(struct db_cursor *cur, const struct db_param *params);
	/* Moves to the next row: 1 a row, 0 no more, -1 an error (*r set). */
	int (*next)(struct db_cursor *cur, enum store_result *r);
	/* Releases the statement for its next run. */
	void (*finish)(struct db_cursor *cur);
	const char *(*text)(const struct db_row *r, int i);
	int64_t (*int64)(const struct db_row *r, int i);
	bool (*null)(const struct db_row *r, int i);
	/* A malloc'd NUL-terminated copy of a blob column and its length;
	 * NULL when out of memory. */
	char *(*blob)(const struct db_row *r, int i, size_t *len);
	bool (*in_tx)(const struct db_conn *c);
	int64_t (*changes)(const struct db_conn *c);
	void (*close)(struct db_conn *c);
	/* Called after a COMMIT or ROLLBACK was sent, whatever its outcome. */
	void (*tx_ended)(struct db_conn *c);
	/* The BEGIN of a read and of a write transaction, and NULL or the
	 * statement that follows a write's BEGIN (the database-wide write lock). */
	const char *begin_read, *begin_write, *write_lock;
};

extern const struct db_ops db_sqlite_ops;
extern const struct db_ops db_pg_ops;

#endif
