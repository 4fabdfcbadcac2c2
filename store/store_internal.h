/* SPDX-License-Identifier: MIT */
/* Shared by the store's .c files (and its white-box unit test); not part of
 * the store API. Everything here is SQLite-specific. */
#ifndef INKASSO_STORE_INTERNAL_H
#define INKASSO_STORE_INTERNAL_H
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store/store.h"

#define STORE_BUSY_TIMEOUT_MS 5000
/* Page size of a new database, and the page caches (KiB). The writer's holds
 * the index pages a group commit touches; each reader's the upper levels of
 * the trees. With the default pool (cores + 2 readers) on 2 cores that is
 * 32 + 4 x 8 = 64 MiB at most, inside the 100 MB the service aims at. */
#define STORE_PAGE_SIZE 8192
#define STORE_WRITER_CACHE_KIB 32768
#define STORE_READER_CACHE_KIB 8192
#define STORE_LIST_CACHE 16 /* list statements kept per connection, one per filter shape */

/* One slot per statement; each connection prepares a statement on first use
 * and keeps it until close. The SQL text stays beside the function that runs it. */
enum store_stmt {
	STMT_BEGIN,
	STMT_BEGIN_IMMEDIATE,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_IDEM_GET,
	STMT_IDEM_INSERT,
	STMT_CASE_LIVE,
	STMT_CASE_NEXT_SEQ,
	STMT_CASE_INSERT,
	STMT_CASE_GET,
	STMT_EVENT_INSERT,
	STMT_EVENTS_GET,
	STMT_OUTBOX_INSERT,
	STMT_OUTBOX_DEPTH,
	STMT_CASES_FAILED,
	STMT_SETTINGS_GET,
	STMT_SETTINGS_PUT,
	/* after the handoff (store_after.c) */
	STMT_CASE_STATE,
	STMT_CASE_BALANCE_ADD,
	STMT_CASE_SET_STATUS,
	STMT_EVENT_ADD,
	STMT_PAYMENT_INSERT,
	STMT_OUTBOX_INSERT_REF,
	STMT_ACTION_INSERT,
	STMT_CREATE_ROW,
	STMT_OUTBOX_CANCEL_CASE,
	STMT_ACTIONS_CANCEL_CASE,
	STMT_OUTBOX_RETRY_CASE,
	STMT_ACTIONS_RETRY_CASE,
	STMT_DETAIL_PAYMENTS,
	STMT_DETAIL_ACTIONS,
	STMT_DETAIL_SETTLEMENTS,
	/* the outbox and the forwarder (store_outbox.c) */
	STMT_OUTBOX_CLAIM,
	STMT_OUTBOX_REQUEUE,
	STMT_OUTBOX_DONE,
	STMT_OUTBOX_RETRY,
	STMT_OUTBOX_FAIL,
	STMT_ACTION_SET_STATE,
	STMT_CASE_AGENCY_STATE,
	STMT_CASE_AGENCY_UPDATE,
	STMT_CASE_FOR_AGENCY,
	STMT_ACTION_BY_ID,
	STMT_PAYMENT_BY_ID,
	/* the sync loop (store_sync.c) */
	STMT_SETTINGS_ALL,
	STMT_CASES_TO_SYNC,
	STMT_CASE_BY_AGENCY_ID,
	STMT_CASE_BY_INVOICE,
	STMT_PAYMENT_AGENCY_SEEN,
	STMT_SETTLEMENT_SEEN,
	STMT_SETTLEMENT_NEXT_SEQ,
	STMT_SETTLEMENT_INSERT,
	STMT_ALLOCATION_INSERT,
	STMT_AGENCY_EVENT_INSERT,
	/* settlements (store_settlements.c) */
	STMT_SETTLEMENT_CURSOR,
	STMT_SETTLEMENT_LIST,
	STMT_SETTLEMENT_GET,
	STMT_ALLOCATIONS_GET,
	STMT__COUNT
};

/* A connection with its statements. Used by one thread at a time: the writer
 * under store.write_lock, a reader while taken from the pool. */
struct store_conn {
	sqlite3 *db;
	sqlite3_stmt *stmt[STMT__COUNT];
	struct {
		uint32_t shape; /* list_shape() of the filter the statement was built for */
		sqlite3_stmt *st;
	} list[STORE_LIST_CACHE];
	unsigned list_next; /* next cache slot to replace, round robin */
	bool commit_failed; /* the writer's last COMMIT failed for a reason other than busy */
};

struct store {
	struct store_conn writer;
	pthread_mutex_t write_lock;  /* held for a whole write transaction */
	struct store_conn *readers;
	int nreaders;
	struct store_conn **idle;    /* stack of readers not in use */
	int nidle;
	pthread_mutex_t read_lock;   /* guards idle/nidle */
	pthread_cond_t read_free;    /* signalled when a reader returns to the pool */
	bool locks_ready;            /* the mutexes and the condvar were initialised */
	/* Group commit (store_commit.c): creates queue here and one thread
	 * writes up to commit_batch of them per transaction. */
	pthread_mutex_t queue_lock;
	pthread_cond_t queue_cond;   /* signalled when a job is queued or on stop */
	struct store_create_job *queue_head, *queue_tail;
	int commit_batch;
	bool committer_running, committer_stop;
	pthread_t committer;
	/* Checkpoints off the commit path (store_checkpoint.c). */
	sqlite3 *ckpt_db;
	pthread_mutex_t ckpt_lock;
	pthread_cond_t ckpt_cond;
	bool ckpt_wanted, ckpt_stop, ckpt_running;
	pthread_t ckpt_thread;
};

/* Logs the connection's SQLite error once (no bound values: SQLite's messages
 * name columns, never values) and maps rc: BUSY/LOCKED -> STORE_BUSY, the
 * rest -> STORE_HARD_ERROR. what: "store: <operation>". */
enum store_result store_fail(sqlite3 *db, int rc, const char *what);
/* Logs a failure that is not SQLite's (out of memory, bad value) and returns
 * STORE_HARD_ERROR. */
enum store_result store_fail_msg(const char *what, const char *detail);

/* Writes an open-time error message into err (NULL-safe). */
void store_set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sets *st to the connection's prepared statement id, preparing sql on first use. */
enum store_result store_prepare(struct store_conn *c, enum store_stmt id, const char *sql,
				sqlite3_stmt **st);
/* Resets st and clears its bindings, ending its read of the database. NULL-safe. */
void store_release(sqlite3_stmt *st);
/* Prepares (once) and steps a statement that returns no row (BEGIN, COMMIT...). */
enum store_result store_run(struct store_conn *c, enum store_stmt id, const char *sql,
			    const char *what);

/* Takes the write lock and runs BEGIN IMMEDIATE on the writer. Whatever it
 * returns, the caller ends with store_write_end. */
enum store_result store_write_begin(struct store *s, struct store_conn **w);
/* COMMIT on the writer; STORE_OK only when SQLite answered SQLITE_OK/DONE. */
enum store_result store_write_commit(struct store_conn *w);
/* Rolls back a transaction still open (nothing was committed) and releases the lock. */
void store_write_end(struct store *s);

/* The checks and inserts of store_case_create inside the writer's open
 * transaction: idempotency re-check, live duplicate, then the rows. Writes
 * nothing unless it returns STORE_OK; commits nothing. */
enum store_result store_case_create_in_tx(struct store_conn *w, const struct case_new *in,
					  struct case_create_result *out);

/* The committer (store_commit.c): started by store_open, stopped by store_close. */
bool store_committer_start(struct store *s, char *err, size_t errlen);
void store_committer_stop(struct store *s);
/* The checkpointer (store_checkpoint.c): its own connection and thread,
 * woken by the writer's WAL hook. Started after the writer is set up. */
bool store_checkpointer_start(struct store *s, const char *path, char *err, size_t errlen);
void store_checkpointer_stop(struct store *s);

/* Takes a reader from the pool, waiting for one if all are in use. */
struct store_conn *store_reader_get(struct store *s);
/* Returns a reader to the pool. */
void store_reader_put(struct store *s, struct store_conn *c);

/* Binding that keeps the first error in *rc so a run of binds is checked
 * once. Text is bound SQLITE_STATIC: it outlives the statement's use. NULL
 * binds SQL NULL. */
void store_bind_text(sqlite3_stmt *st, int i, const char *v, int *rc);
void store_bind_int64(sqlite3_stmt *st, int i, int64_t v, int *rc);
/* Column text as char *, NULL for SQL NULL. */
const char *store_col_text(sqlite3_stmt *st, int i);

/* Looks up (tenant, key) on c: STORE_NOT_FOUND, STORE_REPLAY (status and a
 * malloc'd copy of the body in out) or STORE_KEY_REUSED. */
enum store_result store_idem_lookup(struct store_conn *c, const char *tenant, const char *key,
				    const char *fingerprint, struct case_create_result *out);

/* The columns of a struct case_row, in the order store_case_row_read reads
 * them. national_id (the clear number) is deliberately not among them. */
#define CASE_COLUMNS                                                                          \
	"id, tenant, seq, status, stage, agency_status, service, debtor_type, your_reference,"  \
	" agency_case_id, invoice_number, invoice_json, debtor_json, currency, original, paid," \
	" credited, remaining, interest, costs, created_at, updated_at, submitted_at, closed_at"
#define CASE_NCOLUMNS 24

/* Fills r with borrowed views of the current row of a statement selecting
 * CASE_COLUMNS first; valid until the next step or reset. */
void store_case_row_read(sqlite3_stmt *st, struct case_row *r);
/* Reads the tenant's case id on c and calls case_fn; *stop when it returned
 * non-zero. STORE_NOT_FOUND for an unknown id or another tenant's. */
enum store_result store_case_read(struct store_conn *c, const char *tenant, const char *id,
				  store_case_fn case_fn, void *ctx, bool *stop);
/* Calls event_fn for each event of case id, oldest first; *stop when it
 * returned non-zero. */
enum store_result store_events_read(struct store_conn *c, const char *id, store_event_fn event_fn,
				    void *ctx, bool *stop);

/* Steps an insert or update that returns no row and releases it. A
 * unique-constraint failure is STORE_DUPLICATE, not logged; the caller
 * decides what it means. rc: the result of the binds. */
enum store_result store_step_done(struct store_conn *c, sqlite3_stmt *st, int rc, const char *what);

/* Steps st (bound; rc the result of the binds) and calls row(st, arg) for each
 * row until it returns non-zero (*stop set) or the rows end; releases st.
 * stop may be NULL. */
enum store_result store_each(struct store_conn *c, sqlite3_stmt *st, int rc,
			     int (*row)(sqlite3_stmt *st, void *arg), void *arg, bool *stop,
			     const char *what);

/* Appends an event {from, to, source, detail} at `at` to case_id, numbered
 * after its last one, on the writer inside its transaction. */
enum store_result store_event_add(struct store_conn *w, const char *case_id, const char *at,
				  const char *from, const char *to, const char *source,
				  const char *detail);

/* Sets the case's status on the writer: updated_at = at, submitted_at = at on
 * -> submitted (kept when already set), closed_at = at on -> a closed status
 * and NULL on -> an open one. */
enum store_result store_case_set_status(struct store_conn *w, const char *case_id,
					const char *status, const char *at);

/* Cancels the case's pending and failed outbox rows and actions (the agency
 * will never have a case for them), on the writer. */
enum store_result store_case_cancel_queue(struct store_conn *w, const char *case_id,
					  const char *at);

/* Counts an amount in the case's balance on the writer: paid and credited up
 * by these amounts, remaining down by both, updated_at = at. */
enum store_result store_case_balance_add(struct store_conn *w, const char *case_id, int64_t paid,
					 int64_t credited, const char *at);
/* Inserts a payment row (all of p but forwarded) on the writer. */
enum store_result store_payment_insert(struct store_conn *w, const struct payment_row *p);
/* True if status names a case status whose bit is in mask. */
bool store_status_in(const char *status, unsigned mask);

/* Copies the current row of a statement selecting agency_settings columns
 * (creditor_reference, api_key, service, customer_type, min_days_overdue,
 * reminder_wait_days, min_amount, enabled, api_key_valid, updated_at) from
 * column first. False when a value is longer than its field. */
bool store_settings_read(sqlite3_stmt *st, int first, struct agency_settings *out);

/* Copies a text column into a fixed field; false (dst "") when it does not fit. */
bool store_copy_col(sqlite3_stmt *st, int i, char *dst, size_t cap);

/* Brings db to the newest schema (PRAGMA user_version). False with err set. */
bool store_schema_migrate(sqlite3 *db, char *err, size_t errlen);
/* The user_version the newest migration leaves. */
int store_schema_version(void);

/* Writes the SELECT that store_case_list runs for f into sql (for EXPLAIN
 * QUERY PLAN in tests). Returns its length, or -1 if it does not fit. */
int store_case_list_sql(const struct case_filter *f, char *sql, size_t cap);

#endif
