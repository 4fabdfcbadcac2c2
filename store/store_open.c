/* SPDX-License-Identifier: MIT */
/* Opening and closing the store: the writer and its settings, the pool of
 * read connections, the committer and (SQLite) checkpointer threads, and
 * the transactions on them. INKASSO_DB's form picks the engine: a
 * postgres:// or postgresql:// URI is PostgreSQL, anything else a SQLite
 * file. Both run the same operations of store/ over store/db.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"

#include "store/schema_pg.h"
#include "store/store_internal.h"

void store_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- transactions and the pool ---- */

/* The last write transaction this thread ended failed on a serialization
 * failure or a deadlock (store_write_again). Per thread, because the
 * writer's own flag belongs to whoever holds the write lock next. */
static _Thread_local bool write_conflicted;

enum store_result store_write_begin(struct store *s, struct db_conn **w)
{
	pthread_mutex_lock(&s->write_lock);
	*w = &s->writer;
	(*w)->retry = false;
	return db_begin(*w, true);
}

void store_write_end(struct store *s)
{
	write_conflicted = s->writer.retry;
	db_rollback_open(&s->writer);
	pthread_mutex_unlock(&s->write_lock);
}

bool store_write_again(enum store_result r, int *attempt)
{
	if (r != STORE_BUSY || !write_conflicted || ++*attempt >= STORE_WRITE_ATTEMPTS)
		return false;
	write_conflicted = false;
	char n[16];
	snprintf(n, sizeof n, "%d", *attempt + 1);
	log_write(LOG_WARN, "store: write conflict", "attempt", n, NULL);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now); /* its nanoseconds are random enough here */
	long wait_ms = 1 + now.tv_nsec % (5L * *attempt);
	struct timespec ts = {0, wait_ms * 1000000L};
	nanosleep(&ts, NULL);
	return true;
}

enum store_result store_write_finish(struct store *s, enum store_result r)
{
	if (r == STORE_OK)
		r = db_commit(&s->writer);
	store_write_end(s);
	return r;
}

struct db_conn *store_reader_get(struct store *s)
{
	pthread_mutex_lock(&s->read_lock);
	while (s->nidle == 0)
		pthread_cond_wait(&s->read_free, &s->read_lock);
	struct db_conn *c = s->idle[--s->nidle];
	pthread_mutex_unlock(&s->read_lock);
	return c;
}

void store_reader_put(struct store *s, struct db_conn *c)
{
	/* Never hand on an open read transaction: it would pin an old snapshot. */
	db_rollback_open(c);
	pthread_mutex_lock(&s->read_lock);
	s->idle[s->nidle++] = c;
	pthread_cond_signal(&s->read_free);
	pthread_mutex_unlock(&s->read_lock);
}

enum store_result store_snapshot_begin(struct store *s, struct db_conn **c)
{
	/* In WAL mode a read transaction's snapshot is fixed at its first read. */
	*c = store_reader_get(s);
	return db_begin(*c, false);
}

enum store_result store_snapshot_end(struct store *s, struct db_conn *c, enum store_result r)
{
	if (r >= 0 && db_in_tx(c)) {
		enum store_result end = db_commit(c);
		if (end < 0)
			r = end;
	}
	store_reader_put(s, c); /* rolls back a read left open by an error */
	return r;
}

/* ---- opening ---- */

/* Runs a PRAGMA and copies the first column of its first row into out. */
static bool pragma_text(sqlite3 *db, const char *sql, char *out, size_t outlen, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(st, 0);
		snprintf(out, outlen, "%s", v ? (const char *)v : "");
	} else {
		store_set_err(err, errlen, "%s: %s", sql, rc == SQLITE_DONE ? "no answer" : sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW;
}

/* Runs a PRAGMA that sets a value, then reads it back and compares: SQLite
 * ignores an unknown pragma, or one it cannot apply, without an error. */
static bool pragma_set(sqlite3 *db, const char *set, const char *get, const char *want, char *err, size_t errlen)
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

/* Runs a PRAGMA whose first answer must be want; else err says what it
 * answered and why that stops the start. */
static bool pragma_answers(sqlite3 *db, const char *sql, const char *want, const char *why, char *err,
			   size_t errlen)
{
	char answer[128];
	if (!pragma_text(db, sql, answer, sizeof answer, err, errlen))
		return false;
	if (strcmp(answer, want) == 0)
		return true;
	store_set_err(err, errlen, "%s answered \"%s\": %s", sql, answer, why);
	return false;
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

static bool conn_open(struct db_conn *c, const char *path, bool readonly, char *err, size_t errlen)
{
	/* NOMUTEX: a connection is used by one thread at a time (the write
	 * lock, the read pool), so SQLite's per-connection mutex is not needed. */
	int flags = SQLITE_OPEN_NOMUTEX;
	flags |= readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (!db_open(c, path, flags, STORE_BUSY_TIMEOUT_MS, err, errlen))
		return false;
	return !readonly ||
	       (exec_pragma(c->db, "PRAGMA cache_size = -" STR(STORE_READER_CACHE_KIB), err, errlen) &&
		exec_pragma(c->db, "PRAGMA mmap_size = " STR(STORE_READER_MMAP_BYTES), err, errlen) &&
		pragma_set(c->db, "PRAGMA query_only = ON", "PRAGMA query_only", "1", err, errlen));
}

/* The writer's settings, checked, then the schema and a structural check. */
static bool writer_setup(sqlite3 *db, char *err, size_t errlen)
{
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
	if (!pragma_answers(db, "PRAGMA journal_mode = WAL", "wal", "WAL is required", err, errlen))
		return false;
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
	return pragma_answers(db, "PRAGMA quick_check", "ok", "the database failed it", err, errlen);
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

bool store_path_is_pg(const char *path)
{
	return path && (strncmp(path, "postgres://", 11) == 0 || strncmp(path, "postgresql://", 13) == 0);
}

/* The writer and the readers of a PostgreSQL store, and its schema. */
static bool open_pg(struct store *s, const char *uri, int readers, char *err, size_t errlen)
{
	s->shared = true;
	if (!db_open_pg(&s->writer, uri, err, errlen) ||
	    !store_schema_pg_migrate((PGconn *)s->writer.pg, err, errlen))
		return false;
	for (s->nreaders = 0; s->nreaders < readers; s->nreaders++) {
		struct db_conn *c = &s->readers[s->nreaders];
		if (!db_open_pg(c, uri, err, errlen)) {
			s->nreaders++; /* db_open_pg may leave a handle to close */
			return false;
		}
		s->idle[s->nidle++] = c;
	}
	return true;
}

/* The writer and the readers of a SQLite store, its schema and the
 * checkpointer. */
static bool open_sqlite(struct store *s, const char *path, int readers, char *err, size_t errlen)
{
	/* NOMUTEX needs a library built thread-safe; with SQLITE_THREADSAFE=0
	 * no flag makes sharing connections between threads safe. */
	if (!sqlite3_threadsafe()) {
		store_set_err(err, errlen, "the SQLite library was built without thread support");
		return false;
	}
	/* The writer first: it creates the file, switches it to WAL and
	 * migrates; a read-only connection can do none of these. */
	if (!conn_open(&s->writer, path, false, err, errlen) || !writer_setup(s->writer.db, err, errlen))
		return false;
	for (s->nreaders = 0; s->nreaders < readers; s->nreaders++) {
		struct db_conn *c = &s->readers[s->nreaders];
		if (!conn_open(c, path, true, err, errlen)) {
			s->nreaders++; /* conn_open may leave a handle to close */
			return false;
		}
		s->idle[s->nidle++] = c;
	}
	return store_checkpointer_start(s, path, err, errlen);
}

struct store *store_open(const char *path, const struct store_options *opt, char *err, size_t errlen)
{
	struct store *s = NULL;
	bool ok = false;
	int batch = opt ? opt->commit_batch : 0;
	if (!path || !opt || opt->readers < 1) {
		store_set_err(err, errlen, "store_open: a path and at least one read connection are required");
		return NULL;
	}
	if (batch < 0 || batch > STORE_COMMIT_BATCH_MAX) {
		store_set_err(err, errlen, "store_open: the commit batch must be 1 to %d", STORE_COMMIT_BATCH_MAX);
		return NULL;
	}
	s = calloc(1, sizeof *s);
	if (!s || !(s->readers = calloc((size_t)opt->readers, sizeof *s->readers)) ||
	    !(s->idle = calloc((size_t)opt->readers, sizeof *s->idle)) || !locks_init(s)) {
		store_set_err(err, errlen, "store_open: cannot allocate the store or its locks");
		goto out;
	}
	if (!(store_path_is_pg(path) ? open_pg(s, path, opt->readers, err, errlen)
				     : open_sqlite(s, path, opt->readers, err, errlen)) ||
	    !store_committer_start(s, batch ? batch : STORE_COMMIT_BATCH_DEFAULT, err, errlen))
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
		db_close(&s->readers[i]);
	/* The writer last: the last connection to close checkpoints the WAL
	 * into the database and removes it. */
	db_close(&s->writer);
	if (s->locks_ready) {
		pthread_cond_destroy(&s->read_free);
		pthread_mutex_destroy(&s->read_lock);
		pthread_mutex_destroy(&s->write_lock);
	}
	free(s->idle);
	free(s->readers);
	free(s);
}

bool store_writable(struct store *s)
{
	static const char probe_in[] = "INSERT INTO secrets (name, value) VALUES ('readyz-probe', ?1)";
	static const char probe_out[] = "DELETE FROM secrets WHERE name = 'readyz-probe'";
	struct db_conn *w;
	bool ok = store_write_begin(s, &w) == STORE_OK;
	/* After a failed COMMIT (an I/O error, a full disk) taking the lock
	 * proves nothing: write a row and take it back, so that the COMMIT
	 * goes to the disk and its sync. Only then, so a healthy readyz stays
	 * free of writes. */
	if (ok && w->commit_failed)
		ok = db_exec(w, probe_in, (struct db_param[]){DB_BLOB("", 1), DB_END}, "store: readyz probe") ==
			     STORE_OK &&
		     db_exec(w, probe_out, NULL, "store: readyz probe") == STORE_OK && db_commit(w) == STORE_OK;
	store_write_end(s); /* rolls back an empty or failed transaction */
	return ok;
}
