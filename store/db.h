/* SPDX-License-Identifier: MIT */
/* The lowest layer of the store: one connection with its prepared
 * statements, running a query from two small spec arrays, and the mapping of
 * the engine's result codes to enum store_result. Nothing here knows a table,
 * and nothing above it knows the engine: the operations of store/ run the
 * same SQL on SQLite (store/db_sqlite.c) and on PostgreSQL (store/db_pg.c).
 *
 * A query is its SQL, a parameter array and a column array:
 *
 *	static const char sql[] = "SELECT status, remaining FROM cases WHERE id = ?1 AND tenant = ?2";
 *	const struct db_param params[] = {DB_TEXT(id), DB_TEXT(tenant), DB_END};
 *	const struct db_col cols[] = {DB_COL_COPY(status), DB_COL_INT64(&remaining), DB_END_COL};
 *	return db_one(c, sql, params, cols, "store: case state");
 *
 * Parameters bind ?1, ?2, ... in array order (PostgreSQL's $1, $2, ...: the
 * PostgreSQL engine rewrites them when it prepares). A statement is prepared
 * on its connection's first use and kept until close (on PostgreSQL: until a
 * reconnect, then prepared again), keyed by the address of its SQL text: keep
 * each query's SQL in a static array beside the code that runs it. Where the
 * two engines need different SQL, the caller picks one of two such arrays by
 * db_engine_of(c). */
#ifndef INKASSO_STORE_DB_H
#define INKASSO_STORE_DB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The engines' own types, declared here so that the headers of both are
 * needed only by the files that call them. */
struct sqlite3;
struct sqlite3_stmt;
struct pg_conn;
struct pg_result;

enum db_engine { DB_SQLITE, DB_PG };

#define DB_CACHE_BITS 8
#define DB_CACHE_SLOTS (1 << DB_CACHE_BITS) /* prepared statements per connection; the store has about 70 */
#define DB_BUILT_SLOTS 16  /* statements built at run time, kept per connection (one per listing shape) */

/* A prepared statement of a connection. On PostgreSQL it is named by its
 * slot ("s12", "b3") and valid while ready is set. */
struct db_stmt {
	const char *sql;          /* the cache key: the address of the statement's SQL */
	uint32_t key;             /* a built statement's key */
	bool used;                /* the slot holds a statement */
	struct sqlite3_stmt *st;  /* DB_SQLITE */
	bool ready;               /* prepared (DB_PG: on the current connection) */
	int nparams;              /* DB_PG: the highest ?N of its SQL */
	int nused;                /* DB_PG: how many of ?1..?nparams it uses: its $1..$nused */
	unsigned char used_as[64];/* DB_PG: $k+1 is ?(used_as[k] + 1) */
	int index;                /* DB_PG: its name's number ("s<index>") */
	char *text;               /* DB_PG: a built statement's SQL (malloc'd), prepared again after a reconnect */
};

struct db_ops;

struct db_conn {
	enum db_engine engine;
	const struct db_ops *ops; /* the engine's functions (store/db_engine.h) */
	struct sqlite3 *db;       /* DB_SQLITE */
	struct pg_conn *pg;       /* DB_PG */
	struct db_stmt cache[DB_CACHE_SLOTS];
	struct db_stmt built[DB_BUILT_SLOTS];
	unsigned built_next;      /* the built slot to replace next, round robin */
	bool commit_failed;       /* the last COMMIT failed for another reason than busy */
	int64_t changes;          /* DB_PG: rows changed by the last statement */
	bool in_tx;               /* DB_PG: a BEGIN succeeded and no COMMIT or ROLLBACK was sent since */
	int64_t reconnect_at_ms;  /* DB_PG: a lost connection is tried again from then on (monotonic) */
	int reconnect_wait_ms;    /* DB_PG: the wait after the next failed attempt */
	bool broken;              /* DB_PG: a failure without a SQLSTATE (the connection, not the
				   * server, failed) while libpq still says CONNECTION_OK */
	char duplicate[160];      /* the engine's message of the last STORE_DUPLICATE: it names the
				   * constraint, never a value */
	bool retry;               /* DB_PG: the last STORE_BUSY was a serialization failure or a
				   * deadlock (which the write lock leaves to statements outside
				   * the store's transactions): it may be run again at once */
};

/* One result row, read through db_row_* (DB_C_READ callbacks). */
struct db_row {
	const struct db_ops *ops;
	struct sqlite3_stmt *st;       /* DB_SQLITE */
	const struct pg_result *res;   /* DB_PG, with the row's number */
	int n;
};
/* Column i of the row as text (NULL for SQL NULL), as an integer (0 for
 * NULL), and whether it is NULL. Text is a view valid during the row. */
const char *db_row_text(const struct db_row *r, int i);
int64_t db_row_int64(const struct db_row *r, int i);
bool db_row_null(const struct db_row *r, int i);

enum db_param_kind { DB_P_END, DB_P_TEXT, DB_P_INT64, DB_P_BLOB };

/* One parameter. Text and blobs are bound without a copy: they must stay
 * valid until the call returns. */
struct db_param {
	enum db_param_kind kind;
	const void *p;  /* text (NULL binds SQL NULL) or blob bytes */
	int64_t i;      /* the integer; a blob's length */
};

#define DB_TEXT(v) ((struct db_param){.kind = DB_P_TEXT, .p = (v)})
#define DB_INT(v) ((struct db_param){.kind = DB_P_INT64, .i = (int64_t)(v)})
#define DB_BOOL(v) DB_INT((v) ? 1 : 0)
#define DB_BLOB(v, n) ((struct db_param){.kind = DB_P_BLOB, .p = (v), .i = (int64_t)(n)})
#define DB_END ((struct db_param){.kind = DB_P_END})

enum db_col_kind {
	DB_C_END,
	DB_C_TEXT,  /* const char **: a view, NULL for SQL NULL; valid during a db_each row only */
	DB_C_COPY,  /* char[cap]: copied, "" for NULL; a longer value is an error */
	DB_C_INT64, /* int64_t * */
	DB_C_INT,   /* int *; SQL NULL reads as null_int */
	DB_C_BOOL,  /* bool * */
	DB_C_BLOB,  /* char **, size_t *: a malloc'd NUL-terminated copy the caller frees */
	DB_C_DUP,   /* char **: a malloc'd copy of a text, NULL for SQL NULL; the caller frees */
	DB_C_NAME,  /* int *: the index of the text in names (NULL-terminated); another text is an error */
	DB_C_READ,  /* cap columns at once, read by read(st, first column, dst): a wide row on a hot path */
};

/* One result column, in SELECT order. */
struct db_col {
	enum db_col_kind kind;
	void *dst;
	size_t cap;     /* DB_C_COPY: the buffer's size */
	size_t *len;    /* DB_C_BLOB: the length */
	int null_int;   /* DB_C_INT: the value of SQL NULL */
	const char *const *names; /* DB_C_NAME */
	void (*read)(const struct db_row *row, int first, void *dst); /* DB_C_READ: views only, nothing to free */
};

/* sizeof(a) of an array, and a compile error for a pointer. */
#define DB_ARRAY_SIZE(a) (sizeof(a) + 0 * sizeof(char[__builtin_types_compatible_p(__typeof__(a), \
	__typeof__(&(a)[0])) ? -1 : 1]))
#define DB_COL_TEXT(p) ((struct db_col){.kind = DB_C_TEXT, .dst = (p)})
#define DB_COL_COPY(a) ((struct db_col){.kind = DB_C_COPY, .dst = (a), .cap = DB_ARRAY_SIZE(a)})
#define DB_COL_COPYN(p, n) ((struct db_col){.kind = DB_C_COPY, .dst = (p), .cap = (n)})
#define DB_COL_INT64(p) ((struct db_col){.kind = DB_C_INT64, .dst = (p)})
#define DB_COL_INT(p, if_null) ((struct db_col){.kind = DB_C_INT, .dst = (p), .null_int = (if_null)})
#define DB_COL_BOOL(p) ((struct db_col){.kind = DB_C_BOOL, .dst = (p)})
#define DB_COL_BLOB(p, n) ((struct db_col){.kind = DB_C_BLOB, .dst = (p), .len = (n)})
#define DB_COL_DUP(p) ((struct db_col){.kind = DB_C_DUP, .dst = (p)})
#define DB_COL_NAME(p, table) ((struct db_col){.kind = DB_C_NAME, .dst = (p), .names = (table)})
#define DB_COL_READ(fn, p, ncols) ((struct db_col){.kind = DB_C_READ, .read = (fn), .dst = (p), .cap = (ncols)})
#define DB_END_COL ((struct db_col){.kind = DB_C_END})

/* Opens path (flags as sqlite3_open_v2) with extended result codes and the
 * busy timeout. False with a message in err. */
bool db_open(struct db_conn *c, const char *path, int flags, int busy_timeout_ms, char *err, size_t errlen);
/* Connects to the PostgreSQL server of a libpq URI or conninfo. False with a
 * message in err (libpq's, which never holds the password). */
bool db_open_pg(struct db_conn *c, const char *uri, char *err, size_t errlen);
/* Finalizes every statement and closes. NULL-safe for a connection never opened. */
void db_close(struct db_conn *c);
/* The connection's engine. */
static inline enum db_engine db_engine_of(const struct db_conn *c) { return c->engine; }

/* Runs a statement that returns no row. STORE_OK; STORE_DUPLICATE for a
 * UNIQUE or PRIMARY KEY violation (not logged: the caller knows what it
 * means); else an error, logged once under what. */
enum store_result db_exec(struct db_conn *c, const char *sql, const struct db_param *params, const char *what);
/* Runs a query of at most one row (or an UPDATE ... RETURNING) and reads it
 * into cols (no DB_C_TEXT views: the row ends before the call returns).
 * STORE_OK, STORE_NOT_FOUND for no row, STORE_DUPLICATE as db_exec, or an
 * error. */
enum store_result db_one(struct db_conn *c, const char *sql, const struct db_param *params,
			 const struct db_col *cols, const char *what);
/* Runs a query and, for each row, reads it into cols and calls row(arg)
 * (which may be NULL: the rows are only counted). Non-zero from row stops
 * the read and sets *stop (may be NULL). */
enum store_result db_each(struct db_conn *c, const char *sql, const struct db_param *params,
			  const struct db_col *cols, int (*row)(void *arg), void *arg, bool *stop, const char *what);
/* db_each on a statement of db_built. */
enum store_result db_each_stmt(struct db_conn *c, struct db_stmt *st, const struct db_param *params,
			       const struct db_col *cols, int (*row)(void *arg), void *arg, bool *stop,
			       const char *what);
/* A statement whose SQL depends on the call (a listing for one filter
 * shape): the one kept for key, or build(key, sql, cap) written and
 * prepared now in place of the oldest. build returns the SQL's length, or
 * -1 when it does not fit. Run it with db_each_stmt. */
enum store_result db_built(struct db_conn *c, uint32_t key, int (*build)(uint32_t key, char *sql, size_t cap),
			   struct db_stmt **st);
/* Rows changed by the last db_exec on c. */
int64_t db_changes(const struct db_conn *c);

/* BEGIN (a read snapshot from the first read) or BEGIN IMMEDIATE (the write
 * lock now, waiting up to the busy timeout). On PostgreSQL a read is a
 * REPEATABLE READ READ ONLY transaction (one snapshot) and a write takes a
 * database-wide advisory lock until it ends (store/db_pg.c says why): the
 * same one writer at a time as SQLite, across every replica. */
enum store_result db_begin(struct db_conn *c, bool immediate);
/* COMMIT; STORE_OK only when SQLite answered it. Records commit_failed. */
enum store_result db_commit(struct db_conn *c);
/* Rolls back the transaction if one is open (an error may have ended it). */
void db_rollback_open(struct db_conn *c);
/* True if a transaction is open on c. */
bool db_in_tx(const struct db_conn *c);

/* Logs SQLite's error on c once (SQLite's messages name columns, never
 * values) and maps rc: BUSY/LOCKED -> STORE_BUSY, the rest ->
 * STORE_HARD_ERROR. what: "store: <operation>". db may be NULL. */
enum store_result db_fail(struct sqlite3 *db, int rc, const char *what);
/* Logs a failure that is not SQLite's (out of memory, a value too long) and
 * returns STORE_HARD_ERROR. */
enum store_result db_fail_msg(const char *what, const char *detail);
/* STORE_DUPLICATE (a clash on a fresh random id or on a key checked just
 * before) as the fault it is; anything else unchanged. */
enum store_result db_no_duplicate(enum store_result r, const char *what);

#endif
