/* SPDX-License-Identifier: MIT */
/* Shared inside the sim_store_*.c files only: the store handle, the
 * statement cache, transactions, and the case mechanics every entry point
 * reuses. All of these expect the store lock to be held. */
#ifndef SIM_STORE_INT_H
#define SIM_STORE_INT_H
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim/sim_store.h"

#define SIM_STMT_MAX 96

struct sim_store {
	sqlite3 *db;
	pthread_mutex_t lock;
	struct {
		const char *sql; /* identity of a string literal: the cache key */
		sqlite3_stmt *st;
	} stmts[SIM_STMT_MAX];
	size_t nstmts;
	int64_t last_settle_ms; /* 0 until the first tick */
	int64_t attempts_logged; /* rows in attempts, capped at SIM_ATTEMPTS_MAX */
};

/* The statement for sql, prepared on first use and reset for this one.
 * sql must be a string literal (cached by address). NULL on error, logged. */
sqlite3_stmt *sim_stmt(struct sim_store *s, const char *sql);
/* Logs the connection's last error with what. */
void sim_db_error(struct sim_store *s, const char *what);
/* Steps st to completion (an INSERT/UPDATE/DELETE); false on error, logged. */
bool sim_step_done(struct sim_store *s, sqlite3_stmt *st);
bool sim_tx_begin(struct sim_store *s);
bool sim_tx_commit(struct sim_store *s);
void sim_tx_rollback(struct sim_store *s);
/* Copies a column's text into dst[n], "" for NULL. */
void sim_copy(char *dst, size_t n, sqlite3_stmt *st, int col);

/* Column list that sim_invoice_read expects, from a table aliased i. */
#define SIM_INVOICE_COLS                                                                        \
	"i.id, i.number, i.currency, i.digits, i.capital, i.costs, i.interest, i.paid, i.case_id, " \
	"i.case_status, i.stage, i.received_at, i.case_created_at, i.closed_at, "                  \
	"(SELECT COUNT(*) FROM invoices d WHERE d.api_key = i.api_key AND d.number = i.number), "  \
	"(SELECT COUNT(*) FROM invoices d WHERE d.api_key = i.api_key AND d.number = i.number "    \
	"AND d.id <= i.id)"
void sim_invoice_read(sqlite3_stmt *st, struct sim_invoice *out);
/* Loads invoice id; false if missing or on error. */
bool sim_invoice_load(struct sim_store *s, int64_t id, struct sim_invoice *out);

/* True for the statuses a case never leaves by itself. */
bool sim_case_terminal(const char *status);
/* Capital + interest + costs - paid, never below 0. */
int64_t sim_case_remaining(const struct sim_invoice *inv);
/* Appends an event to the invoice's case. */
bool sim_event_add(struct sim_store *s, int64_t invoice_id, int64_t now_ms, const char *type,
		   const char *description);
/* Writes back case_status, stage, paid and closed_at; stage_at_ms < 0 keeps
 * the stage timer running. */
bool sim_case_save(struct sim_store *s, const struct sim_invoice *inv, int64_t stage_at_ms);
/* Gives the invoice a fresh unique case id (stage REMINDER) if it has none. */
bool sim_case_assign(struct sim_store *s, struct sim_invoice *inv, int64_t now_ms);
/* Records a debtor payment of up to amount (capped at the remaining
 * balance); the case becomes PAID when nothing remains. */
bool sim_case_collect(struct sim_store *s, struct sim_invoice *inv, int64_t amount,
		      int64_t now_ms);
/* Sets a terminal or paused status with its event; closed_at for terminal ones. */
bool sim_case_set_status(struct sim_store *s, struct sim_invoice *inv, const char *status,
			 const char *event_type, const char *description, int64_t now_ms);
/* Adds delta to a named counter of the client. */
bool sim_counter_add(struct sim_store *s, const char *key, const char *name, int64_t delta);
/* Settles as sim_store_settle does, with the lock held. */
bool sim_settle_locked(struct sim_store *s, const char *key, int64_t now_ms, int64_t *created);

#endif
