/* SPDX-License-Identifier: MIT */
/* The SQLite store's own state, shared by its .c files (and its white-box
 * unit tests); not part of the store API. Below it stands store/db.h (one
 * connection and its statements); beside it store/rows.h (the rows several
 * operations read and write). */
#ifndef INKASSO_STORE_INTERNAL_H
#define INKASSO_STORE_INTERNAL_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "lib/wake.h"
#include "store/db.h"
#include "store/store_agency.h"

#define STORE_BUSY_TIMEOUT_MS 5000
/* Page size of a new database, and the page caches (KiB). The writer's holds
 * the index pages a group commit touches; each reader's the upper levels of
 * the trees. With the default pool (cores + 2 readers) on 2 cores that is
 * 32 + 4 x 8 = 64 MiB at most, inside the 100 MB the service aims at. */
#define STORE_PAGE_SIZE 8192
#define STORE_WRITER_CACHE_KIB 32768
#define STORE_READER_CACHE_KIB 8192
/* The readers map the database file (PRAGMA mmap_size): a page is read in
 * place from the kernel's page cache instead of a pread() and a copy into
 * each reader's own cache. Those pages are the kernel's (file-backed, shared
 * by every reader), not the service's private memory. SQLite caps the size
 * at its compile-time SQLITE_MAX_MMAP_SIZE (2 GiB in Debian's build); past
 * it, the rest of a bigger file is read with pread() as before. */
#define STORE_READER_MMAP_BYTES 2147418112

/* A create waiting for the committer (store_commit.c). */
struct create_job {
	const struct case_new *in;
	struct case_create_result *out;
	enum store_result result;
	void (*done)(void *ctx, enum store_result result);
	void *ctx;
	struct create_job *next;
};

struct store {
	struct db_conn writer;
	pthread_mutex_t write_lock;  /* held for a whole write transaction */
	struct db_conn *readers;
	int nreaders;
	struct db_conn **idle;       /* stack of readers not in use */
	int nidle;
	pthread_mutex_t read_lock;   /* guards idle/nidle */
	pthread_cond_t read_free;    /* signalled when a reader returns to the pool */
	bool locks_ready;            /* the mutexes and the condvar were initialised */
	bool shared;                 /* PostgreSQL: other replicas may use the database beside this one */
	/* Group commit (store_commit.c): creates queue here and one thread
	 * writes up to commit_batch of them per transaction. */
	struct wake queue;           /* its lock guards the queue; its cond: a job queued, or stop */
	struct create_job *queue_head, *queue_tail;
	int commit_batch;
	bool committer_running;
	pthread_t committer;
	/* Checkpoints off the commit path (store_checkpoint.c). */
	sqlite3 *ckpt_db;
	struct wake ckpt;            /* its cond: a checkpoint wanted, or stop */
	bool ckpt_wanted, ckpt_running;
	atomic_int wal_frames;       /* the WAL's frames after the last commit (its hook) */
	pthread_t ckpt_thread;
};

/* Writes an open-time error message into err (NULL-safe). */
void store_set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Takes the write lock and begins a write transaction on the writer.
 * Whatever it returns, the caller ends with store_write_end. */
enum store_result store_write_begin(struct store *s, struct db_conn **w);
/* Rolls back a transaction still open (nothing was committed) and releases
 * the lock. */
void store_write_end(struct store *s);
/* Ends a write transaction by its outcome: commits when r is STORE_OK (then
 * returns the commit's result), else rolls back; releases the lock. */
enum store_result store_write_finish(struct store *s, enum store_result r);
/* Whether a write operation that returned r should run its transaction
 * again, from its beginning: true when the transaction this thread ended
 * last failed on a serialization failure or a deadlock (PostgreSQL's 40001
 * and 40P01; the write lock leaves them to sessions that are not inkasso's)
 * and *attempt, counted here, has not reached STORE_WRITE_ATTEMPTS. It
 * waits a few random milliseconds first, so that two that collided do not
 * collide again. */
#define STORE_WRITE_ATTEMPTS 3
bool store_write_again(enum store_result r, int *attempt);
/* Sets r to CALL's result, CALL being one whole write transaction, run
 * again while store_write_again says so. A callback that CALL hands rows to
 * inside its transaction may so be called again: it starts its answer over. */
#define STORE_WRITE_RETRYING(r, CALL)                                                                     \
	do {                                                                                              \
		int attempt_ = 0;                                                                         \
		do                                                                                        \
			(r) = (CALL);                                                                     \
		while (store_write_again((r), &attempt_));                                                \
	} while (0)
/* Takes a reader from the pool, waiting for one if all are in use. */
struct db_conn *store_reader_get(struct store *s);
/* Returns a reader to the pool, rolling back a read left open. */
void store_reader_put(struct store *s, struct db_conn *c);
/* A reader with a read transaction begun on it: the reads that follow see
 * one snapshot. End with store_snapshot_end, whatever this returned. */
enum store_result store_snapshot_begin(struct store *s, struct db_conn **c);
/* Ends the read (its failure overrides a success r) and returns the reader;
 * returns r. */
enum store_result store_snapshot_end(struct store *s, struct db_conn *c, enum store_result r);

/* The checks and inserts of store_case_create inside the writer's open
 * transaction: idempotency re-check, live duplicate, then the rows. Writes
 * nothing unless it returns STORE_OK; commits nothing. */
enum store_result store_case_create_in_tx(struct db_conn *w, const struct case_new *in,
					  struct case_create_result *out);

/* The committer (store_commit.c): started by store_open, stopped by store_close. */
bool store_committer_start(struct store *s, int batch, char *err, size_t errlen);
void store_committer_stop(struct store *s);
/* The checkpointer (store_checkpoint.c): its own connection and thread,
 * woken by the writer's WAL hook. Started after the writer is set up. */
bool store_checkpointer_start(struct store *s, const char *path, char *err, size_t errlen);
void store_checkpointer_stop(struct store *s);

/* Brings db to the newest schema (PRAGMA user_version). False with err set. */
bool store_schema_migrate(sqlite3 *db, char *err, size_t errlen);
/* The user_version the newest migration leaves. */
int store_schema_version(void);

/* Writes the SELECT that store_case_list runs for f into sql (for EXPLAIN
 * QUERY PLAN in tests). Returns its length, or -1 if it does not fit. */
int store_case_list_sql(const struct case_filter *f, char *sql, size_t cap);

#endif
