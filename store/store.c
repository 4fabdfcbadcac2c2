/* SPDX-License-Identifier: MIT */
/* The store on SQLite: opening, the connections and their pool, errors, and
 * the small queries (settings, idempotency, readiness, outbox depth). Cases
 * are in store_cases.c, the schema in schema.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/log.h"
#include "store/store_internal.h"

static const char *const status_names[CASE__COUNT] = {
	[CASE_PENDING] = "pending",   [CASE_SUBMITTED] = "submitted", [CASE_OPEN] = "open",
	[CASE_PAUSED] = "paused",     [CASE_DISPUTED] = "disputed",   [CASE_FAILED] = "failed",
	[CASE_PAID] = "paid",         [CASE_WITHDRAWN] = "withdrawn", [CASE_CLOSED] = "closed",
	[CASE_REJECTED] = "rejected",
};

const char *case_status_name(enum case_status s)
{
	if ((int)s < 0 || s >= CASE__COUNT)
		return NULL;
	return status_names[s];
}

bool store_status_in(const char *status, unsigned mask)
{
	int i = case_status_parse(status);
	return i >= 0 && (mask & (1u << i));
}

int case_status_parse(const char *name)
{
	for (int i = 0; name && i < CASE__COUNT; i++) {
		if (strcmp(name, status_names[i]) == 0)
			return i;
	}
	return -1;
}

/* ---- errors ---- */

enum store_result store_fail(sqlite3 *db, int rc, const char *what)
{
	int primary = rc & 0xff; /* extended codes are on: SQLITE_BUSY_SNAPSHOT & 0xff == SQLITE_BUSY */
	bool busy = primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
	const char *detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
	/* Busy is the caller's 503-and-retry, not a fault of the database. */
	log_write(busy ? LOG_WARN : LOG_ERROR, what, "sqlite", detail, NULL);
	return busy ? STORE_BUSY : STORE_HARD_ERROR;
}

enum store_result store_fail_msg(const char *what, const char *detail)
{
	log_write(LOG_ERROR, what, "detail", detail, NULL);
	return STORE_HARD_ERROR;
}

void store_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- statements ---- */

enum store_result store_prepare(struct store_conn *c, enum store_stmt id, const char *sql,
				sqlite3_stmt **st)
{
	if (!c->stmt[id]) {
		/* PERSISTENT: the statement lives until close, so SQLite takes its
		 * memory from the heap rather than the small lookaside pool. */
		int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[id], NULL);
		if (rc != SQLITE_OK)
			return store_fail(c->db, rc, "store: prepare");
	}
	*st = c->stmt[id];
	return STORE_OK;
}

void store_release(sqlite3_stmt *st)
{
	if (!st)
		return;
	/* A statement left un-reset keeps its read transaction open, which
	 * pins the WAL (no checkpoint past it) and, on the writer, makes
	 * COMMIT fail while a write statement is still active. */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

enum store_result store_run(struct store_conn *c, enum store_stmt id, const char *sql,
			    const char *what)
{
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(c, id, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		r = store_fail(c->db, rc, what);
	store_release(st);
	return r;
}

enum store_result store_each(struct store_conn *c, sqlite3_stmt *st, int rc,
			     int (*row)(sqlite3_stmt *st, void *arg), void *arg, bool *stop,
			     const char *what)
{
	enum store_result r = STORE_OK;
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (row(st, arg) != 0) {
			if (stop)
				*stop = true;
			rc = SQLITE_DONE;
			break;
		}
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE)
		r = store_fail(c->db, rc, what);
	store_release(st);
	return r;
}

void store_bind_text(sqlite3_stmt *st, int i, const char *v, int *rc)
{
	if (*rc == SQLITE_OK)
		*rc = v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

void store_bind_int64(sqlite3_stmt *st, int i, int64_t v, int *rc)
{
	if (*rc == SQLITE_OK)
		*rc = sqlite3_bind_int64(st, i, v);
}

const char *store_col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* ---- transactions and the pool ---- */

enum store_result store_write_begin(struct store *s, struct store_conn **w)
{
	pthread_mutex_lock(&s->write_lock);
	*w = &s->writer;
	/* IMMEDIATE takes the write lock now, waiting up to busy_timeout. A
	 * deferred transaction that reads first and then writes can fail with
	 * SQLITE_BUSY_SNAPSHOT, which no waiting cures. */
	return store_run(*w, STMT_BEGIN_IMMEDIATE, "BEGIN IMMEDIATE", "store: begin write");
}

enum store_result store_write_commit(struct store_conn *w)
{
	enum store_result r = store_run(w, STMT_COMMIT, "COMMIT", "store: commit");
	if (r != STORE_BUSY)
		w->commit_failed = r != STORE_OK;
	return r;
}

void store_write_end(struct store *s)
{
	struct store_conn *w = &s->writer;
	/* After a failed COMMIT the transaction may still be open (SQLITE_BUSY:
	 * SQLite keeps it for a retry) or already rolled back (an I/O error
	 * rolls back by itself); get_autocommit tells which. */
	if (!sqlite3_get_autocommit(w->db))
		(void)store_run(w, STMT_ROLLBACK, "ROLLBACK", "store: rollback");
	pthread_mutex_unlock(&s->write_lock);
}

struct store_conn *store_reader_get(struct store *s)
{
	pthread_mutex_lock(&s->read_lock);
	while (s->nidle == 0)
		pthread_cond_wait(&s->read_free, &s->read_lock);
	struct store_conn *c = s->idle[--s->nidle];
	pthread_mutex_unlock(&s->read_lock);
	return c;
}

void store_reader_put(struct store *s, struct store_conn *c)
{
	/* Never hand on an open read transaction: it would pin an old snapshot. */
	if (!sqlite3_get_autocommit(c->db))
		(void)store_run(c, STMT_ROLLBACK, "ROLLBACK", "store: rollback read");
	pthread_mutex_lock(&s->read_lock);
	s->idle[s->nidle++] = c;
	pthread_cond_signal(&s->read_free);
	pthread_mutex_unlock(&s->read_lock);
}

/* ---- open and close ---- */

/* Runs a PRAGMA and copies the first column of its first row into out. */
static bool pragma_text(sqlite3 *db, const char *sql, char *out, size_t outlen, char *err,
			size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(st, 0);
		snprintf(out, outlen, "%s", v ? (const char *)v : "");
	} else {
		store_set_err(err, errlen, "%s: %s", sql,
			rc == SQLITE_DONE ? "no answer" : sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW;
}

/* Runs a PRAGMA that sets a value, then reads it back and compares: SQLite
 * ignores an unknown pragma, or one it cannot apply, without an error. */
static bool pragma_set(sqlite3 *db, const char *set, const char *get, const char *want, char *err,
		       size_t errlen)
{
	char got[64];
	int rc = sqlite3_exec(db, set, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		store_set_err(err, errlen, "%s: %s", set, sqlite3_errmsg(db));
		return false;
	}
	if (!pragma_text(db, get, got, sizeof got, err, errlen))
		return false;
	if (strcmp(got, want) != 0) {
		store_set_err(err, errlen, "%s answered \"%s\", not \"%s\"", get, got, want);
		return false;
	}
	return true;
}

#define STR_(x) #x
#define STR(x) STR_(x)

/* Runs a PRAGMA whose answer (if any) is not checked. */
static bool exec_pragma(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		store_set_err(err, errlen, "%s: %s", sql, sqlite3_errmsg(db));
	return rc == SQLITE_OK;
}

static bool conn_open(struct store_conn *c, const char *path, bool readonly, char *err,
		      size_t errlen)
{
	/* NOMUTEX: a connection is used by one thread at a time (the write
	 * lock, the read pool), so SQLite's per-connection mutex is not needed. */
	int flags = SQLITE_OPEN_NOMUTEX |
		    (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		store_set_err(err, errlen, "open %s: %s", path,
			      c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		return false;
	}
	/* Extended codes tell SQLITE_CONSTRAINT_UNIQUE from other constraints. */
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, STORE_BUSY_TIMEOUT_MS);
	return !readonly ||
	       (exec_pragma(c->db, "PRAGMA cache_size = -" STR(STORE_READER_CACHE_KIB), err, errlen) &&
		pragma_set(c->db, "PRAGMA query_only = ON", "PRAGMA query_only", "1", err, errlen));
}

/* The writer's settings, checked, then the schema and a structural check. */
static bool writer_setup(sqlite3 *db, char *err, size_t errlen)
{
	char answer[128];
	/* 8 KiB pages: a case row (~1.1 KB with its JSON) fits a page's local
	 * payload of a WITHOUT ROWID table (about 1 KB with 4 KiB pages, so half
	 * the rows spilled to an overflow page), and a listing reads half the
	 * pages. Takes effect only on a new database, before WAL is on. */
	if (!exec_pragma(db, "PRAGMA page_size = " STR(STORE_PAGE_SIZE), err, errlen) ||
	    !exec_pragma(db, "PRAGMA cache_size = -" STR(STORE_WRITER_CACHE_KIB), err, errlen))
		return false;
	/* journal_mode answers the mode in force; "wal" only if the switch
	 * worked (it cannot on some file systems, or for :memory:). The mode
	 * is stored in the file, so the readers get it too. */
	if (!pragma_text(db, "PRAGMA journal_mode = WAL", answer, sizeof answer, err, errlen))
		return false;
	if (strcmp(answer, "wal") != 0) {
		store_set_err(err, errlen, "journal_mode is \"%s\", WAL is required", answer);
		return false;
	}
	/* FULL syncs the WAL at every commit: a commit we acknowledged
	 * survives power loss (NORMAL may lose the last ones). */
	if (!pragma_set(db, "PRAGMA synchronous = FULL", "PRAGMA synchronous", "2", err, errlen) ||
	    !pragma_set(db, "PRAGMA foreign_keys = ON", "PRAGMA foreign_keys", "1", err, errlen))
		return false;
	if (!store_schema_migrate(db, err, errlen))
		return false;
	/* quick_check: pages, records, NOT NULL and CHECK constraints; unlike
	 * integrity_check it skips matching indexes against their tables and
	 * UNIQUE, which makes it the cheaper O(N) pass for every start. */
	if (!pragma_text(db, "PRAGMA quick_check", answer, sizeof answer, err, errlen))
		return false;
	if (strcmp(answer, "ok") != 0) {
		store_set_err(err, errlen, "database failed PRAGMA quick_check: %s", answer);
		return false;
	}
	return true;
}

static void conn_close(struct store_conn *c)
{
	for (int i = 0; i < STMT__COUNT; i++)
		sqlite3_finalize(c->stmt[i]);
	for (int i = 0; i < STORE_LIST_CACHE; i++)
		sqlite3_finalize(c->list[i].st);
	int rc = sqlite3_close(c->db);
	if (rc != SQLITE_OK)
		store_fail(c->db, rc, "store: close");
	memset(c, 0, sizeof *c);
}

static bool locks_init(struct store *s)
{
	if (pthread_mutex_init(&s->write_lock, NULL) != 0)
		return false;
	if (pthread_mutex_init(&s->read_lock, NULL) != 0) {
		pthread_mutex_destroy(&s->write_lock);
		return false;
	}
	if (pthread_cond_init(&s->read_free, NULL) != 0) {
		pthread_mutex_destroy(&s->read_lock);
		pthread_mutex_destroy(&s->write_lock);
		return false;
	}
	s->locks_ready = true;
	return true;
}

struct store *store_open(const char *path, int read_conns, char *err, size_t errlen)
{
	struct store *s = NULL;
	bool ok = false;
	if (!path || read_conns < 1) {
		store_set_err(err, errlen, "store_open: a path and at least one read connection are required");
		return NULL;
	}
	/* NOMUTEX needs a library built thread-safe; with SQLITE_THREADSAFE=0
	 * no flag makes sharing connections between threads safe. */
	if (!sqlite3_threadsafe()) {
		store_set_err(err, errlen, "the SQLite library was built without thread support");
		return NULL;
	}
	s = calloc(1, sizeof *s);
	if (!s || !(s->readers = calloc((size_t)read_conns, sizeof *s->readers)) ||
	    !(s->idle = calloc((size_t)read_conns, sizeof *s->idle)) || !locks_init(s)) {
		store_set_err(err, errlen, "store_open: cannot allocate the store or its locks");
		goto out;
	}
	/* The writer first: it creates the file, switches it to WAL and
	 * migrates; a read-only connection can do none of these. */
	if (!conn_open(&s->writer, path, false, err, errlen) || !writer_setup(s->writer.db, err, errlen))
		goto out;
	for (s->nreaders = 0; s->nreaders < read_conns; s->nreaders++) {
		struct store_conn *c = &s->readers[s->nreaders];
		if (!conn_open(c, path, true, err, errlen)) {
			s->nreaders++; /* conn_open may leave a handle to close */
			goto out;
		}
		s->idle[s->nidle++] = c;
	}
	if (!store_checkpointer_start(s, path, err, errlen) || !store_committer_start(s, err, errlen))
		goto out;
	ok = true;
out:
	if (!ok) {
		store_close(s);
		s = NULL;
	}
	return s;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	store_committer_stop(s); /* writes what is still queued first */
	store_checkpointer_stop(s);
	for (int i = 0; s->readers && i < s->nreaders; i++)
		conn_close(&s->readers[i]);
	/* The writer last: the last connection to close checkpoints the WAL
	 * into the database and removes it. */
	if (s->writer.db)
		conn_close(&s->writer);
	if (s->locks_ready) {
		pthread_cond_destroy(&s->read_free);
		pthread_mutex_destroy(&s->read_lock);
		pthread_mutex_destroy(&s->write_lock);
	}
	free(s->idle);
	free(s->readers);
	free(s);
}

/* ---- small queries ---- */

bool store_writable(struct store *s)
{
	struct store_conn *w;
	bool ok = store_write_begin(s, &w) == STORE_OK;
	/* After a failed COMMIT (an I/O error, a full disk) taking the lock
	 * proves nothing: write a row and take it back, so that the COMMIT
	 * goes to the disk and its sync. Only then, so a healthy readyz stays
	 * free of writes. */
	if (ok && w->commit_failed)
		ok = sqlite3_exec(w->db,
				  "INSERT INTO secrets (name, value) VALUES ('readyz-probe', x'00');"
				  "DELETE FROM secrets WHERE name = 'readyz-probe'",
				  NULL, NULL, NULL) == SQLITE_OK &&
		     store_write_commit(w) == STORE_OK;
	store_write_end(s); /* rolls back an empty or failed transaction */
	return ok;
}

int64_t store_outbox_depth(struct store *s)
{
	static const char sql[] = "SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')";
	struct store_conn *c = store_reader_get(s);
	sqlite3_stmt *st = NULL;
	int64_t n = -1;
	if (store_prepare(c, STMT_OUTBOX_DEPTH, sql, &st) != STORE_OK)
		goto out;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		store_fail(c->db, rc, "store: outbox depth");
out:
	store_release(st);
	store_reader_put(s, c);
	return n;
}

int64_t store_cases_failed(struct store *s)
{
	/* Served by the partial index cases_failed: a scrape never scans all cases. */
	static const char sql[] = "SELECT count(*) FROM cases WHERE status = 'failed'";
	struct store_conn *c = store_reader_get(s);
	sqlite3_stmt *st = NULL;
	int64_t n = -1;
	if (store_prepare(c, STMT_CASES_FAILED, sql, &st) != STORE_OK)
		goto out;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		store_fail(c->db, rc, "store: failed cases");
out:
	store_release(st);
	store_reader_put(s, c);
	return n;
}

enum store_result store_idem_lookup(struct store_conn *c, const char *tenant, const char *key,
				    const char *fingerprint, struct case_create_result *out)
{
	static const char sql[] =
		"SELECT fingerprint, status, body FROM idempotency WHERE tenant = ?1 AND key = ?2";
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(c, STMT_IDEM_GET, sql, &st);
	if (r != STORE_OK)
		return r;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, tenant, &rc);
	store_bind_text(st, 2, key, &rc);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = STORE_NOT_FOUND;
	} else if (rc != SQLITE_ROW) {
		r = store_fail(c->db, rc, "store: idempotency lookup");
	} else if (!fingerprint || strcmp(store_col_text(st, 0), fingerprint) != 0) {
		r = STORE_KEY_REUSED;
	} else {
		/* column_blob before column_bytes: the documented safe order. A
		 * zero-length blob comes back as NULL. */
		const void *body = sqlite3_column_blob(st, 2);
		size_t len = (size_t)sqlite3_column_bytes(st, 2);
		char *copy = malloc(len + 1); /* NUL-terminated for callers that print it */
		if (!copy) {
			r = store_fail_msg("store: idempotency lookup", "out of memory");
			goto out;
		}
		if (len)
			memcpy(copy, body, len);
		copy[len] = '\0';
		out->status = sqlite3_column_int(st, 1);
		out->body = copy;
		out->body_len = len;
		r = STORE_REPLAY;
	}
out:
	store_release(st);
	return r;
}

enum store_result store_idempotency_get(struct store *s, const char *tenant, const char *key,
					const char *fingerprint, struct case_create_result *out)
{
	struct store_conn *c = store_reader_get(s);
	enum store_result r = store_idem_lookup(c, tenant, key, fingerprint, out);
	store_reader_put(s, c);
	return r;
}

/* A value that does not fit is an error rather than a silently shortened
 * api key. */
bool store_copy_col(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
	const char *v = store_col_text(st, i);
	size_t n = v ? strlen(v) : 0;
	if (n >= cap) {
		if (cap)
			dst[0] = '\0';
		return false;
	}
	memcpy(dst, v ? v : "", n + 1);
	return true;
}

bool store_settings_read(sqlite3_stmt *st, int first, struct agency_settings *out)
{
	memset(out, 0, sizeof *out);
	if (!store_copy_col(st, first + 0, out->creditor_reference, sizeof out->creditor_reference) ||
	    !store_copy_col(st, first + 1, out->api_key, sizeof out->api_key) ||
	    !store_copy_col(st, first + 2, out->service, sizeof out->service) ||
	    !store_copy_col(st, first + 3, out->customer_type, sizeof out->customer_type) ||
	    !store_copy_col(st, first + 9, out->updated_at, sizeof out->updated_at))
		return false;
	out->api_key_set = out->api_key[0] != '\0';
	out->min_days_overdue = sqlite3_column_int(st, first + 4);
	out->reminder_wait_days = sqlite3_column_int(st, first + 5);
	out->min_amount = sqlite3_column_int64(st, first + 6);
	out->enabled = sqlite3_column_int(st, first + 7) != 0;
	out->api_key_valid = sqlite3_column_type(st, first + 8) == SQLITE_NULL
				     ? -1
				     : sqlite3_column_int(st, first + 8) != 0;
	return true;
}

enum store_result store_settings_get(struct store *s, const char *tenant,
				     struct agency_settings *out)
{
	static const char sql[] =
		"SELECT creditor_reference, api_key, service, customer_type, min_days_overdue,"
		" reminder_wait_days, min_amount, enabled, api_key_valid, updated_at"
		" FROM agency_settings WHERE tenant = ?1";
	struct store_conn *c = store_reader_get(s);
	sqlite3_stmt *st = NULL;
	enum store_result r = store_prepare(c, STMT_SETTINGS_GET, sql, &st);
	if (r != STORE_OK)
		goto out;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, tenant, &rc);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = STORE_NOT_FOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = store_fail(c->db, rc, "store: settings get");
		goto out;
	}
	if (!store_settings_read(st, 0, out)) {
		r = store_fail_msg("store: settings get", "stored value longer than its field");
		goto out;
	}
	r = STORE_OK;
out:
	store_release(st);
	store_reader_put(s, c);
	return r;
}

enum store_result store_settings_put(struct store *s, const char *tenant,
				     const struct agency_settings *in)
{
	static const char sql[] =
		"INSERT INTO agency_settings (tenant, creditor_reference, api_key, service,"
		" customer_type, min_days_overdue, reminder_wait_days, min_amount, enabled,"
		" api_key_valid, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
		" ON CONFLICT (tenant) DO UPDATE SET creditor_reference = excluded.creditor_reference,"
		" api_key = excluded.api_key, service = excluded.service,"
		" customer_type = excluded.customer_type, min_days_overdue = excluded.min_days_overdue,"
		" reminder_wait_days = excluded.reminder_wait_days, min_amount = excluded.min_amount,"
		" enabled = excluded.enabled, api_key_valid = excluded.api_key_valid,"
		" updated_at = excluded.updated_at";
	struct store_conn *w;
	sqlite3_stmt *st = NULL;
	enum store_result r = store_write_begin(s, &w);
	if (r != STORE_OK || (r = store_prepare(w, STMT_SETTINGS_PUT, sql, &st)) != STORE_OK)
		goto out;
	int rc = SQLITE_OK;
	store_bind_text(st, 1, tenant, &rc);
	store_bind_text(st, 2, in->creditor_reference, &rc);
	store_bind_text(st, 3, in->api_key_set ? in->api_key : NULL, &rc);
	store_bind_text(st, 4, in->service, &rc);
	store_bind_text(st, 5, in->customer_type, &rc);
	store_bind_int64(st, 6, in->min_days_overdue, &rc);
	store_bind_int64(st, 7, in->reminder_wait_days, &rc);
	store_bind_int64(st, 8, in->min_amount, &rc);
	store_bind_int64(st, 9, in->enabled ? 1 : 0, &rc);
	if (in->api_key_valid < 0)
		store_bind_text(st, 10, NULL, &rc);
	else
		store_bind_int64(st, 10, in->api_key_valid ? 1 : 0, &rc);
	store_bind_text(st, 11, in->updated_at, &rc);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		r = store_fail(w->db, rc, "store: settings put");
		goto out;
	}
	store_release(st);
	st = NULL;
	r = store_write_commit(w);
out:
	store_release(st);
	store_write_end(s);
	return r;
}
