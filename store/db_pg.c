/* SPDX-License-Identifier: MIT */
/* The PostgreSQL engine of store/db.h, on libpq: one PGconn per db_conn
 * (so one per thread, as libpq wants), statements prepared by name on
 * first use and again after a reconnect, SQLSTATEs mapped to enum
 * store_result. Results come in text form: the store's columns are text
 * and bigint, and one form for both keeps the row readers of store/ the
 * same for SQLite and PostgreSQL. */
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "store/db.h"
#include "store/db_engine.h"

#define PG_MAX_PARAMS 64
/* The key of the advisory lock that write transactions take: a constant no
 * other application on the database uses (schema_pg.c's migration lock is
 * another). */
#define DB_PG_WRITE_LOCK "7597126868583537007"
#define PG_RECONNECT_FIRST_MS 100
#define PG_RECONNECT_MAX_MS 2000

static int64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The server forgot the connection's statements: prepare each again on
 * its next use. */
static void forget_statements(struct db_conn *c)
{
	for (int i = 0; i < DB_CACHE_SLOTS; i++)
		c->cache[i].ready = false;
	for (int i = 0; i < DB_BUILT_SLOTS; i++)
		c->built[i].ready = false;
}

/* Maps a failed result (or none: out of memory, a lost connection) to a
 * store result, logging what is not an expected answer. SQLSTATE classes:
 * 23505 unique violation (the duplicate and idempotency answers, not
 * logged); 40001 serialization failure and 40P01 deadlock (the caller runs
 * the transaction again); 08 and a lost connection (503 until it is back);
 * 57P01..57P03 the server shutting down or starting. */
static enum store_result dbpg_fail(struct db_conn *c, const PGresult *res, const char *what)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	c->retry = false;
	if (state && strcmp(state, "23505") == 0) {
		/* "duplicate key value violates unique constraint "cases_id"";
		 * the values are in the DETAIL, which is not kept. */
		const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		snprintf(c->duplicate, sizeof c->duplicate, "%s", primary ? primary : "unique violation");
		return STORE_DUPLICATE;
	}
	if (state && strcmp(state, "55P03") == 0) {
		log_write(LOG_WARN, what, "postgres", "lock wait timed out", NULL);
		return STORE_BUSY;
	}
	if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)) {
		c->retry = true;
		const char *kind = strcmp(state, "40001") == 0 ? "serialization failure" : "deadlock";
		log_write(LOG_WARN, what, "postgres", kind, NULL);
		return STORE_BUSY;
	}
	/* The server's primary message names relations and columns; the DETAIL
	 * field, which quotes values (a duplicate key's), is never logged. */
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (!msg)
		msg = PQerrorMessage(c->pg);
	/* No SQLSTATE: libpq's own error ("server closed the connection
	 * unexpectedly"), which it may report before its status says BAD. */
	if (!state)
		c->broken = true;
	if (c->broken || PQstatus(c->pg) != CONNECTION_OK || (state && (strncmp(state, "08", 2) == 0 ||
							   strncmp(state, "57P", 3) == 0))) {
		log_write(LOG_WARN, what, "postgres", "connection lost", NULL);
		return STORE_BUSY;
	}
	log_write(LOG_ERROR, what, "postgres", msg && *msg ? msg : "unknown error", "sqlstate", state ? state : "",
		  NULL);
	return STORE_HARD_ERROR;
}

/* libpq prints the server's notices (a WARNING as the server shuts down)
 * on stderr; they go to the log instead, as one line each. The primary
 * message only: a notice's DETAIL may quote values. */
static void on_notice(void *arg, const PGresult *res)
{
	(void)arg;
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	log_write(LOG_INFO, "store: postgres notice", "severity", severity ? severity : "", "postgres",
		  msg ? msg : "", NULL);
}

bool db_open_pg(struct db_conn *c, const char *uri, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	c->engine = DB_PG;
	c->ops = &db_pg_ops;
	/* Ours first, the URI's after: a setting in the URI wins. */
	/* lock_timeout: a write waits for the write lock (or a row) at most
	 * this long, then answers 503, like SQLite's busy timeout. */
	const char *const keys[] = {"connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count",
				    "application_name", "options", "dbname", NULL};
	const char *const values[] = {"5", "10", "5", "3", "inkasso", "-c lock_timeout=5000", uri, NULL};
	c->pg = PQconnectdbParams(keys, values, 1);
	if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
		if (err && errlen) {
			const char *m = c->pg ? PQerrorMessage(c->pg) : "out of memory";
			size_t n = strcspn(m, "\n");
			snprintf(err, errlen, "connect to PostgreSQL: %.*s", (int)n, m);
		}
		return false; /* db_close frees c->pg */
	}
	c->reconnect_wait_ms = PG_RECONNECT_FIRST_MS;
	PQsetNoticeReceiver(c->pg, on_notice, NULL); /* kept by PQreset */
	return true;
}

static enum store_result dbpg_ready(struct db_conn *c)
{
	if (PQstatus(c->pg) == CONNECTION_OK && !c->broken)
		return STORE_OK;
	/* Inside a transaction a new connection would run the rest of it
	 * outside one: the transaction is lost, and fails until it ends. */
	if (c->in_tx)
		return STORE_BUSY;
	int64_t now = mono_ms();
	if (now < c->reconnect_at_ms)
		return STORE_BUSY;
	PQreset(c->pg);
	if (PQstatus(c->pg) != CONNECTION_OK) {
		c->reconnect_at_ms = now + c->reconnect_wait_ms;
		c->reconnect_wait_ms = c->reconnect_wait_ms * 2 > PG_RECONNECT_MAX_MS ? PG_RECONNECT_MAX_MS
										 : c->reconnect_wait_ms * 2;
		log_write(LOG_WARN, "store: reconnect", "postgres", "server unreachable", NULL);
		return STORE_BUSY;
	}
	c->reconnect_wait_ms = PG_RECONNECT_FIRST_MS;
	c->broken = false;
	forget_statements(c);
	log_write(LOG_INFO, "store: reconnect", "postgres", "connected", NULL);
	return STORE_OK;
}

/* Writes sql with its parameters as $1, $2, ... into out, skipping quoted
 * text and comments, and fills s's numbers. SQLite binds ?N by number and
 * lets a statement leave some numbers out (a listing's absent filters);
 * PostgreSQL must know the type of every $N it is given. So the ?N used
 * are numbered again in order of their numbers and only those are sent:
 * ?1, ?3, ?10 become $1, $2, $3. False when it does not fit. */
static bool rewrite_params(const char *sql, char *out, size_t cap, struct db_stmt *s)
{
	bool used[PG_MAX_PARAMS + 1] = {false};
	int next = 1, high = 0;
	/* First pass: which numbers appear. */
	char quote = 0;
	for (const char *p = sql; *p; p++) {
		if (quote) {
			quote = *p == quote ? 0 : quote;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (p[0] == '-' && p[1] == '-') {
			while (p[1] && p[1] != '\n')
				p++;
		} else if (*p == '?') {
			int n = 0;
			while (p[1] >= '0' && p[1] <= '9' && n <= PG_MAX_PARAMS)
				n = n * 10 + (*++p - '0');
			if (n == 0)
				n = next;
			if (n > PG_MAX_PARAMS)
				return false;
			next = n + 1;
			used[n] = true;
			high = n > high ? n : high;
		}
	}
	int as[PG_MAX_PARAMS + 1] = {0};
	s->nused = 0;
	for (int n = 1; n <= high; n++)
		if (used[n]) {
			s->used_as[s->nused] = (unsigned char)(n - 1);
			as[n] = ++s->nused;
		}
	s->nparams = high;
	/* Second pass: the text with $k for ?N. */
	size_t o = 0;
	next = 1;
	quote = 0;
	for (const char *p = sql; *p; p++) {
		if (o + 12 >= cap)
			return false;
		if (quote) {
			quote = *p == quote ? 0 : quote; /* a doubled quote closes and reopens: the same text */
			out[o++] = *p;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
			out[o++] = *p;
		} else if (p[0] == '-' && p[1] == '-') {
			while (p[1] && p[1] != '\n' && o + 2 < cap)
				out[o++] = *p++;
			out[o++] = *p;
		} else if (*p == '?') {
			int n = 0;
			while (p[1] >= '0' && p[1] <= '9')
				n = n * 10 + (*++p - '0');
			if (n == 0)
				n = next;
			next = n + 1;
			o += (size_t)snprintf(out + o, cap - o, "$%d", as[n]);
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
	return true;
}

static enum store_result dbpg_prepare(struct db_conn *c, struct db_stmt *s, int index, const char *sql)
{
	size_t cap = strlen(sql) * 2 + 64;
	char *text = malloc(cap);
	if (!text)
		return db_fail_msg("store: prepare", "out of memory");
	if (!rewrite_params(sql, text, cap, s)) {
		free(text);
		return db_fail_msg("store: prepare", "query longer than its buffer");
	}
	char name[16];
	snprintf(name, sizeof name, "s%d", index);
	PGresult *res = PQprepare(c->pg, name, text, 0, NULL);
	enum store_result r = STORE_OK;
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
		r = dbpg_fail(c, res, "store: prepare");
		/* The statement is the program's text, never a value: name it. */
		if (r == STORE_HARD_ERROR)
			log_write(LOG_ERROR, "store: prepare", "sql", text, NULL);
	}
	free(text);
	PQclear(res);
	s->ready = r == STORE_OK;
	s->index = index;
	return r;
}

static void dbpg_unprepare(struct db_conn *c, struct db_stmt *s)
{
	/* The server drops a connection's statements when it closes; a slot
	 * used again is prepared under the same name, so deallocate it now. */
	if (s->ready && c->pg && PQstatus(c->pg) == CONNECTION_OK && s->used) {
		char sql[40];
		snprintf(sql, sizeof sql, "DEALLOCATE s%d", s->index);
		PQclear(PQexec(c->pg, sql));
	}
	s->ready = false;
}

static enum store_result dbpg_start(struct db_cursor *cur, const struct db_param *params)
{
	struct db_conn *c = cur->c;
	struct db_stmt *s = cur->stmt;
	const char *values[PG_MAX_PARAMS];
	int lengths[PG_MAX_PARAMS], formats[PG_MAX_PARAMS];
	char ints[PG_MAX_PARAMS][24];
	int n = 0;
	for (; params && params[n].kind != DB_P_END; n++) {
		if (n == PG_MAX_PARAMS)
			return db_fail_msg(cur->what, "more parameters than PG_MAX_PARAMS");
		const struct db_param *p = &params[n];
		lengths[n] = 0;
		formats[n] = 0;
		switch (p->kind) {
		case DB_P_TEXT:
			values[n] = p->p;
			break;
		case DB_P_INT64:
			snprintf(ints[n], sizeof ints[n], "%" PRId64, p->i);
			values[n] = ints[n];
			break;
		case DB_P_BLOB:
			values[n] = p->p ? p->p : "";
			lengths[n] = (int)p->i;
			formats[n] = 1; /* binary: a bytea as its bytes */
			break;
		case DB_P_END:
			break;
		}
	}
	/* Every ?N of the SQL is given, and no more, as on SQLite. */
	if (n != s->nparams)
		return db_fail_msg(cur->what, "parameter count differs from the statement's");
	const char *sent[PG_MAX_PARAMS];
	int sent_len[PG_MAX_PARAMS], sent_fmt[PG_MAX_PARAMS];
	for (int k = 0; k < s->nused; k++) {
		sent[k] = values[s->used_as[k]];
		sent_len[k] = lengths[s->used_as[k]];
		sent_fmt[k] = formats[s->used_as[k]];
	}
	char name[16];
	snprintf(name, sizeof name, "s%d", s->index);
	cur->res = PQexecPrepared(c->pg, name, s->nused, sent, sent_len, sent_fmt, 0);
	ExecStatusType st = cur->res ? PQresultStatus(cur->res) : PGRES_FATAL_ERROR;
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		enum store_result r = dbpg_fail(c, cur->res, cur->what);
		if (c->broken || PQstatus(c->pg) != CONNECTION_OK)
			forget_statements(c);
		return r;
	}
	const char *tuples = PQcmdTuples(cur->res);
	c->changes = tuples && *tuples ? strtoll(tuples, NULL, 10) : 0;
	cur->nrows = PQntuples(cur->res);
	cur->row.res = cur->res;
	cur->row.n = -1;
	return STORE_OK;
}

static int dbpg_next(struct db_cursor *cur, enum store_result *r)
{
	(void)r;
	if (cur->row.n + 1 >= cur->nrows)
		return 0;
	cur->row.n++;
	return 1;
}

static void dbpg_finish(struct db_cursor *cur)
{
	PQclear(cur->res);
	cur->res = NULL;
	cur->row.res = NULL;
}

static const char *dbpg_text(const struct db_row *r, int i)
{
	const PGresult *res = r->res;
	return PQgetisnull(res, r->n, i) ? NULL : PQgetvalue(res, r->n, i);
}

static int64_t dbpg_int64(const struct db_row *r, int i)
{
	const char *v = dbpg_text(r, i);
	if (!v)
		return 0;
	/* A boolean expression (x IS NULL, a comparison) reads as SQLite's 1 and 0. */
	if (v[0] == 't' || v[0] == 'f')
		return v[0] == 't';
	return strtoll(v, NULL, 10);
}

static bool dbpg_null(const struct db_row *r, int i) { return PQgetisnull(r->res, r->n, i); }

static char *dbpg_blob(const struct db_row *r, int i, size_t *len)
{
	const char *v = dbpg_text(r, i);
	size_t n = 0;
	unsigned char *raw = v ? PQunescapeBytea((const unsigned char *)v, &n) : NULL;
	if (v && !raw)
		return NULL;
	char *copy = malloc(n + 1); /* NUL-terminated for callers that print it */
	if (copy) {
		if (n)
			memcpy(copy, raw, n);
		copy[n] = '\0';
		*len = n;
	}
	PQfreemem(raw);
	return copy;
}

static bool dbpg_in_tx(const struct db_conn *c) { return c->in_tx; }
static bool dbpg_lost(const struct db_conn *c) { return c->broken || PQstatus(c->pg) != CONNECTION_OK; }
static int64_t dbpg_changes(const struct db_conn *c) { return c->changes; }
static void dbpg_tx_ended(struct db_conn *c) { c->in_tx = false; }

static void dbpg_close(struct db_conn *c)
{
	PQfinish(c->pg);
	c->pg = NULL;
}

/* A read sees one snapshot, as SQLite's read transaction does. A write
 * takes one lock for the whole database, held until its COMMIT or ROLLBACK:
 * every replica's writes then run one at a time, as SQLite's do, so the
 * rules of store/ hold as written for both engines, and an event's feed
 * position (given inside the transaction) is in commit order: the next
 * writer gets the lock only after the last one's COMMIT became visible.
 * lock_timeout (set at connect) bounds the wait, as SQLite's busy timeout. */
static const char sql_begin_read[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
static const char sql_begin_write[] = "BEGIN";
static const char sql_write_lock[] = "SELECT pg_advisory_xact_lock(" DB_PG_WRITE_LOCK ")";

const struct db_ops db_pg_ops = {
	.ready = dbpg_ready,
	.lost = dbpg_lost,
	.prepare = dbpg_prepare,
	.unprepare = dbpg_unprepare,
	.start = dbpg_start,
	.next = dbpg_next,
	.finish = dbpg_finish,
	.text = dbpg_text,
	.int64 = dbpg_int64,
	.null = dbpg_null,
	.blob = dbpg_blob,
	.in_tx = dbpg_in_tx,
	.changes = dbpg_changes,
	.tx_ended = dbpg_tx_ended,
	.close = dbpg_close,
	.begin_read = sql_begin_read,
	.begin_write = sql_begin_write,
	.write_lock = sql_write_lock,
};
