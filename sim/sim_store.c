/* SPDX-License-Identifier: MIT */
/* Opening, schema, reset, the statement cache and the case mechanics shared
 * by the other sim_store_*.c files. */
#include "sim/sim_store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "sim/sim_log.h"
#include "sim/sim_money.h"

static const char sim_schema[] =
	"CREATE TABLE IF NOT EXISTS invoices ("
	" id INTEGER PRIMARY KEY, api_key TEXT NOT NULL, number TEXT NOT NULL,"
	" received_at TEXT NOT NULL, currency TEXT NOT NULL, digits INTEGER NOT NULL,"
	" capital INTEGER NOT NULL, costs INTEGER NOT NULL, interest INTEGER NOT NULL DEFAULT 0,"
	" paid INTEGER NOT NULL DEFAULT 0, assign_at_ms INTEGER NOT NULL,"
	" case_id TEXT UNIQUE, case_status TEXT, stage TEXT, stage_at_ms INTEGER,"
	" case_created_at TEXT, closed_at TEXT, body TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS invoices_number ON invoices(api_key, number);"
	"CREATE INDEX IF NOT EXISTS invoices_pending ON invoices(assign_at_ms) WHERE case_id IS NULL;"
	"CREATE TABLE IF NOT EXISTS events ("
	" id INTEGER PRIMARY KEY, invoice_id INTEGER NOT NULL, event_id TEXT NOT NULL,"
	" at TEXT NOT NULL, type TEXT NOT NULL, description TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS events_invoice ON events(invoice_id);"
	"CREATE TABLE IF NOT EXISTS actions ("
	" id INTEGER PRIMARY KEY, invoice_id INTEGER NOT NULL, code TEXT NOT NULL, comment TEXT,"
	" amount INTEGER, currency TEXT, payment_date TEXT, reference TEXT, payment_method TEXT,"
	" received_at TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS actions_invoice ON actions(invoice_id);"
	"CREATE TABLE IF NOT EXISTS payments ("
	" id INTEGER PRIMARY KEY, payment_id TEXT NOT NULL UNIQUE, api_key TEXT NOT NULL,"
	" invoice_id INTEGER NOT NULL, case_id TEXT NOT NULL, invoice_number TEXT NOT NULL,"
	" payment_date TEXT NOT NULL, amount INTEGER NOT NULL, currency TEXT NOT NULL,"
	" digits INTEGER NOT NULL, settlement INTEGER, allocation_id TEXT);"
	"CREATE INDEX IF NOT EXISTS payments_key ON payments(api_key, payment_date);"
	"CREATE TABLE IF NOT EXISTS settlements ("
	" id INTEGER PRIMARY KEY, settlement_id TEXT NOT NULL UNIQUE, api_key TEXT NOT NULL,"
	" currency TEXT NOT NULL, digits INTEGER NOT NULL, settlement_date TEXT NOT NULL,"
	" created_at TEXT NOT NULL, amount INTEGER NOT NULL, reference TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS calls ("
	" api_key TEXT NOT NULL, path TEXT NOT NULL, ok INTEGER NOT NULL DEFAULT 0,"
	" rejected INTEGER NOT NULL DEFAULT 0, faulted INTEGER NOT NULL DEFAULT 0,"
	" dropped INTEGER NOT NULL DEFAULT 0, delayed INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (api_key, path));"
	"CREATE TABLE IF NOT EXISTS counters ("
	" api_key TEXT NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL,"
	" PRIMARY KEY (api_key, name));"
	"CREATE TABLE IF NOT EXISTS retry_after ("
	" api_key TEXT NOT NULL, subject TEXT NOT NULL, answered_ms INTEGER NOT NULL,"
	" retry_after INTEGER NOT NULL, PRIMARY KEY (api_key, subject));"
	"CREATE TABLE IF NOT EXISTS attempts ("
	" id INTEGER PRIMARY KEY, api_key TEXT NOT NULL, number TEXT NOT NULL,"
	" method TEXT NOT NULL, path TEXT NOT NULL, status INTEGER NOT NULL,"
	" outcome TEXT NOT NULL, at_ms INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS attempts_number ON attempts(api_key, number, at_ms);";

struct sim_store *sim_store_open(const char *path, char *err, size_t errlen)
{
	bool ok = false;
	char *msg = NULL;
	struct sim_store *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	/* NOMUTEX: the store's own mutex already serialises every use. */
	int rc = sqlite3_open_v2(path, &s->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", path,
			 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_busy_timeout(s->db, 5000);
	/* WAL keeps a second process (sqlite3 CLI during a demo) from blocking
	 * us; NORMAL is enough for a simulator, a power cut may lose the last
	 * transitions and nothing else. ":memory:" quietly stays "memory". */
	if (sqlite3_exec(s->db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
			 "PRAGMA foreign_keys=ON;",
			 NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(s->db, sim_schema, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "cannot initialise %s: %s", path, msg ? msg : "?");
		goto out;
	}
	ok = true;
out:
	sqlite3_free(msg);
	if (!ok) {
		sim_store_close(s);
		s = NULL;
	}
	return s;
}

void sim_store_close(struct sim_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nstmts; i++)
		sqlite3_finalize(s->stmts[i].st);
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

enum sim_store_rc sim_store_reset(struct sim_store *s)
{
	static const char *const del[] = {
		"DELETE FROM invoices",	  "DELETE FROM events",	  "DELETE FROM actions",
		"DELETE FROM payments",	  "DELETE FROM settlements", "DELETE FROM calls",
		"DELETE FROM counters",	  "DELETE FROM retry_after", "DELETE FROM attempts",
	};
	enum sim_store_rc rc = SIM_STORE_ERROR;
	pthread_mutex_lock(&s->lock);
	if (!sim_tx_begin(s))
		goto out;
	for (size_t i = 0; i < sizeof del / sizeof del[0]; i++) {
		sqlite3_stmt *st = sim_stmt(s, del[i]);
		if (!st || !sim_step_done(s, st))
			goto out;
	}
	if (!sim_tx_commit(s))
		goto out;
	s->last_settle_ms = 0;
	s->attempts_logged = 0;
	rc = SIM_STORE_OK;
out:
	if (rc == SIM_STORE_ERROR)
		sim_tx_rollback(s);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void sim_db_error(struct sim_store *s, const char *what)
{
	sim_log("error", "sqlite", "op", what, "error", sqlite3_errmsg(s->db), NULL);
}

sqlite3_stmt *sim_stmt(struct sim_store *s, const char *sql)
{
	for (size_t i = 0; i < s->nstmts; i++) {
		if (s->stmts[i].sql == sql) {
			sqlite3_reset(s->stmts[i].st);
			sqlite3_clear_bindings(s->stmts[i].st);
			return s->stmts[i].st;
		}
	}
	if (s->nstmts == SIM_STMT_MAX) {
		sim_log("error", "statement cache full; raise SIM_STMT_MAX", NULL);
		return NULL;
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		sim_db_error(s, "prepare");
		return NULL;
	}
	s->stmts[s->nstmts].sql = sql;
	s->stmts[s->nstmts].st = st;
	s->nstmts++;
	return st;
}

bool sim_step_done(struct sim_store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		sim_db_error(s, "step");
		return false;
	}
	sqlite3_reset(st);
	return true;
}

bool sim_tx_begin(struct sim_store *s)
{
	sqlite3_stmt *st = sim_stmt(s, "BEGIN IMMEDIATE");
	return st && sim_step_done(s, st);
}

bool sim_tx_commit(struct sim_store *s)
{
	sqlite3_stmt *st = sim_stmt(s, "COMMIT");
	if (st && sim_step_done(s, st))
		return true;
	sim_tx_rollback(s);
	return false;
}

void sim_tx_rollback(struct sim_store *s)
{
	/* Safe outside a transaction, so that every "out:" can call it. */
	/* Open statements would keep the rollback from releasing the tables. */
	for (size_t i = 0; i < s->nstmts; i++)
		sqlite3_reset(s->stmts[i].st);
	if (sqlite3_get_autocommit(s->db))
		return;
	sqlite3_stmt *st = sim_stmt(s, "ROLLBACK");
	if (st)
		sim_step_done(s, st);
}

void sim_copy(char *dst, size_t n, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	snprintf(dst, n, "%s", t ? (const char *)t : "");
}

void sim_invoice_read(sqlite3_stmt *st, struct sim_invoice *out)
{
	memset(out, 0, sizeof *out);
	out->id = sqlite3_column_int64(st, 0);
	sim_copy(out->number, sizeof out->number, st, 1);
	sim_copy(out->currency, sizeof out->currency, st, 2);
	out->digits = sqlite3_column_int(st, 3);
	out->capital = sqlite3_column_int64(st, 4);
	out->costs = sqlite3_column_int64(st, 5);
	out->interest = sqlite3_column_int64(st, 6);
	out->paid = sqlite3_column_int64(st, 7);
	sim_copy(out->case_id, sizeof out->case_id, st, 8);
	sim_copy(out->case_status, sizeof out->case_status, st, 9);
	sim_copy(out->stage, sizeof out->stage, st, 10);
	sim_copy(out->received_at, sizeof out->received_at, st, 11);
	sim_copy(out->case_created_at, sizeof out->case_created_at, st, 12);
	sim_copy(out->closed_at, sizeof out->closed_at, st, 13);
	out->creations = sqlite3_column_int64(st, 14);
	out->copy = sqlite3_column_int64(st, 15);
}

bool sim_invoice_load(struct sim_store *s, int64_t id, struct sim_invoice *out)
{
	sqlite3_stmt *st = sim_stmt(s, "SELECT " SIM_INVOICE_COLS " FROM invoices i WHERE i.id = ?");
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, id);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		sim_invoice_read(st, out);
	sqlite3_reset(st);
	return found;
}

bool sim_case_terminal(const char *status)
{
	return strcmp(status, "PAID") == 0 || strcmp(status, "WITHDRAWN") == 0 ||
	       strcmp(status, "CLOSED") == 0 || strcmp(status, "REJECTED") == 0;
}

int64_t sim_case_remaining(const struct sim_invoice *inv)
{
	int64_t r = inv->capital + inv->interest + inv->costs - inv->paid;
	return r > 0 ? r : 0;
}

bool sim_event_add(struct sim_store *s, int64_t invoice_id, int64_t now_ms, const char *type,
		   const char *description)
{
	sqlite3_stmt *st = sim_stmt(s, "INSERT INTO events (invoice_id, event_id, at, type, "
				       "description) VALUES (?, ?, ?, ?, ?)");
	if (!st)
		return false;
	char id[SIM_UUID_LEN], at[SIM_TIMESTAMP_LEN];
	sim_uuid(id);
	sim_timestamp(now_ms, at);
	sqlite3_bind_int64(st, 1, invoice_id);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, description ? description : "", -1, SQLITE_STATIC);
	return sim_step_done(s, st);
}

bool sim_case_save(struct sim_store *s, const struct sim_invoice *inv, int64_t stage_at_ms)
{
	sqlite3_stmt *st = sim_stmt(
		s, "UPDATE invoices SET case_status = NULLIF(?1, ''), stage = NULLIF(?2, ''), "
		   "paid = ?3, closed_at = NULLIF(?4, ''), "
		   "stage_at_ms = CASE WHEN ?5 < 0 THEN stage_at_ms ELSE ?5 END WHERE id = ?6");
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, inv->case_status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, inv->stage, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, inv->paid);
	sqlite3_bind_text(st, 4, inv->closed_at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, stage_at_ms);
	sqlite3_bind_int64(st, 6, inv->id);
	return sim_step_done(s, st);
}

bool sim_case_assign(struct sim_store *s, struct sim_invoice *inv, int64_t now_ms)
{
	if (inv->case_id[0])
		return true;
	sqlite3_stmt *taken = sim_stmt(s, "SELECT 1 FROM invoices WHERE case_id = ?");
	if (!taken)
		return false;
	char id[SIM_CASE_ID_LEN];
	/* 10^6..10^9 ids: a clash is rare, and eight in a row means a broken
	 * random source rather than bad luck. */
	int tries = 0;
	for (;;) {
		sim_case_id(id);
		sqlite3_reset(taken);
		sqlite3_bind_text(taken, 1, id, -1, SQLITE_STATIC);
		int rc = sqlite3_step(taken);
		sqlite3_reset(taken);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW || ++tries == 8) {
			sim_db_error(s, "case id");
			return false;
		}
	}
	sqlite3_stmt *st = sim_stmt(
		s, "UPDATE invoices SET case_id = ?1, case_created_at = ?2, "
		   "case_status = COALESCE(case_status, 'ACTIVE'), stage = 'REMINDER', "
		   "stage_at_ms = ?3 WHERE id = ?4");
	if (!st)
		return false;
	char at[SIM_TIMESTAMP_LEN];
	sim_timestamp(now_ms, at);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms);
	sqlite3_bind_int64(st, 4, inv->id);
	if (!sim_step_done(s, st))
		return false;
	char desc[64];
	snprintf(desc, sizeof desc, "case %s registered", id);
	if (!sim_event_add(s, inv->id, now_ms, "CASE_REGISTERED", desc) ||
	    !sim_event_add(s, inv->id, now_ms, "REMINDER_SENT", "reminder letter sent to the debtor"))
		return false;
	return sim_invoice_load(s, inv->id, inv);
}

bool sim_case_set_status(struct sim_store *s, struct sim_invoice *inv, const char *status,
			 const char *event_type, const char *description, int64_t now_ms)
{
	snprintf(inv->case_status, sizeof inv->case_status, "%s", status);
	if (sim_case_terminal(status))
		sim_timestamp(now_ms, inv->closed_at);
	else
		inv->closed_at[0] = '\0';
	return sim_case_save(s, inv, -1) && sim_event_add(s, inv->id, now_ms, event_type, description);
}

bool sim_case_collect(struct sim_store *s, struct sim_invoice *inv, int64_t amount,
		      int64_t now_ms)
{
	int64_t remaining = sim_case_remaining(inv);
	if (amount > remaining)
		amount = remaining;
	if (amount > 0) {
		sqlite3_stmt *st = sim_stmt(
			s, "INSERT INTO payments (payment_id, api_key, invoice_id, case_id, "
			   "invoice_number, payment_date, amount, currency, digits) "
			   "SELECT ?1, api_key, id, case_id, number, ?2, ?3, currency, digits "
			   "FROM invoices WHERE id = ?4");
		if (!st)
			return false;
		char id[SIM_UUID_LEN], date[SIM_DATE_LEN];
		sim_uuid(id);
		sim_date(now_ms, date);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, date, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, amount);
		sqlite3_bind_int64(st, 4, inv->id);
		if (!sim_step_done(s, st))
			return false;
		inv->paid += amount;
		struct buf d = {0};
		buf_puts(&d, "debtor paid ");
		sim_money_put(&d, amount, inv->digits);
		buf_printf(&d, " %s", inv->currency);
		bool ok = !d.oom && sim_case_save(s, inv, -1) &&
			  sim_event_add(s, inv->id, now_ms, "PAYMENT_RECEIVED", buf_cstr(&d));
		buf_free(&d);
		if (!ok)
			return false;
	}
	if (sim_case_remaining(inv) == 0 && strcmp(inv->case_status, "PAID") != 0)
		return sim_case_set_status(s, inv, "PAID", "CASE_PAID", "claim paid in full", now_ms);
	return true;
}

bool sim_counter_add(struct sim_store *s, const char *key, const char *name, int64_t delta)
{
	sqlite3_stmt *st = sim_stmt(s, "INSERT INTO counters (api_key, name, value) VALUES (?1, ?2, ?3) "
				       "ON CONFLICT (api_key, name) DO UPDATE SET value = value + ?3");
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, key ? key : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, delta);
	return sim_step_done(s, st);
}
