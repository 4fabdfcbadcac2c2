/* SPDX-License-Identifier: MIT */
/* The bookkeeping behind /sim/stats: calls per path, Retry-After keeping,
 * and the exactly-once figures the tests assert on. */
#include "sim/sim_store_int.h"

#include <string.h>

void sim_store_count_call(struct sim_store *s, const char *key, const char *path,
			  enum sim_call_outcome outcome, bool delayed)
{
	static const char *const sql[] = {
		[SIM_CALL_OK] = "INSERT INTO calls (api_key, path, ok, delayed) VALUES (?1, ?2, 1, ?3) "
				"ON CONFLICT (api_key, path) DO UPDATE SET ok = ok + 1, "
				"delayed = delayed + ?3",
		[SIM_CALL_REJECTED] = "INSERT INTO calls (api_key, path, rejected, delayed) "
				      "VALUES (?1, ?2, 1, ?3) ON CONFLICT (api_key, path) DO UPDATE "
				      "SET rejected = rejected + 1, delayed = delayed + ?3",
		[SIM_CALL_FAULTED] = "INSERT INTO calls (api_key, path, faulted, delayed) "
				     "VALUES (?1, ?2, 1, ?3) ON CONFLICT (api_key, path) DO UPDATE "
				     "SET faulted = faulted + 1, delayed = delayed + ?3",
		[SIM_CALL_DROPPED] = "INSERT INTO calls (api_key, path, dropped, delayed) "
				     "VALUES (?1, ?2, 1, ?3) ON CONFLICT (api_key, path) DO UPDATE "
				     "SET dropped = dropped + 1, delayed = delayed + ?3",
	};
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = sim_stmt(s, sql[outcome]);
	if (st) {
		sqlite3_bind_text(st, 1, key ? key : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, delayed ? 1 : 0);
		sim_step_done(s, st);
	}
	pthread_mutex_unlock(&s->lock);
}

void sim_store_retry_after_record(struct sim_store *s, const char *key, const char *const *subjects,
				  size_t n, int64_t now_ms, int retry_after)
{
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = sim_stmt(s, "INSERT OR REPLACE INTO retry_after (api_key, subject, "
				       "answered_ms, retry_after) VALUES (?, ?, ?, ?)");
	for (size_t i = 0; st && i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, subjects[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now_ms);
		sqlite3_bind_int(st, 4, retry_after);
		sim_step_done(s, st);
	}
	if (st)
		sim_counter_add(s, key, "retry_after_answers", 1);
	pthread_mutex_unlock(&s->lock);
}

bool sim_store_retry_after_check(struct sim_store *s, const char *key, const char *const *subjects,
				 size_t n, int64_t now_ms)
{
	bool violation = false;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *get = sim_stmt(s, "SELECT answered_ms + retry_after * 1000 FROM retry_after "
					"WHERE api_key = ? AND subject = ?");
	sqlite3_stmt *del = sim_stmt(s, "DELETE FROM retry_after WHERE api_key = ? AND subject = ?");
	for (size_t i = 0; get && del && i < n; i++) {
		sqlite3_reset(get);
		sqlite3_bind_text(get, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(get, 2, subjects[i], -1, SQLITE_STATIC);
		if (sqlite3_step(get) != SQLITE_ROW) {
			sqlite3_reset(get);
			continue;
		}
		/* Strict: the 429 is recorded before it is sent, so a client that
		 * waited Retry-After from receiving it always arrives later. */
		if (now_ms < sqlite3_column_int64(get, 0))
			violation = true;
		sqlite3_reset(get);
		sqlite3_reset(del);
		sqlite3_bind_text(del, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(del, 2, subjects[i], -1, SQLITE_STATIC);
		sim_step_done(s, del);
	}
	if (violation)
		sim_counter_add(s, key, "retry_after_violations", 1);
	pthread_mutex_unlock(&s->lock);
	return violation;
}

/* Runs a one-value COUNT query filtered by an optional client. */
static bool sim_stats_count(struct sim_store *s, const char *sql, const char *key, int64_t *out)
{
	sqlite3_stmt *st = sim_stmt(s, sql);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	bool ok = sqlite3_step(st) == SQLITE_ROW;
	if (ok)
		*out = sqlite3_column_int64(st, 0);
	else
		sim_db_error(s, "stats");
	sqlite3_reset(st);
	return ok;
}

static bool sim_stats_counters(struct sim_store *s, const char *key, struct sim_stats *out)
{
	sqlite3_stmt *st = sim_stmt(s, "SELECT name, SUM(value) FROM counters "
				       "WHERE ?1 IS NULL OR api_key = ?1 GROUP BY name");
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		int64_t v = sqlite3_column_int64(st, 1);
		if (strcmp(name, "duplicates_rejected") == 0)
			out->duplicates_rejected = v;
		else if (strcmp(name, "retry_after_answers") == 0)
			out->retry_after_answers = v;
		else if (strcmp(name, "retry_after_violations") == 0)
			out->retry_after_violations = v;
	}
	sqlite3_reset(st);
	return step == SQLITE_DONE;
}

static bool sim_stats_paths(struct sim_store *s, const char *key,
			    void (*each_path)(const char *, const int64_t[5], void *), void *ctx)
{
	sqlite3_stmt *st = sim_stmt(s, "SELECT path, SUM(ok), SUM(rejected), SUM(faulted), "
				       "SUM(dropped), SUM(delayed) FROM calls "
				       "WHERE ?1 IS NULL OR api_key = ?1 GROUP BY path ORDER BY path");
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t c[5];
		for (int i = 0; i < 5; i++)
			c[i] = sqlite3_column_int64(st, i + 1);
		each_path((const char *)sqlite3_column_text(st, 0), c, ctx);
	}
	sqlite3_reset(st);
	return step == SQLITE_DONE;
}

enum sim_store_rc sim_store_stats(struct sim_store *s, const char *key, struct sim_stats *out,
				  void (*each_path)(const char *path, const int64_t counts[5], void *),
				  void *ctx)
{
	enum sim_store_rc rc = SIM_STORE_ERROR;
	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&s->lock);
	/* One read transaction, so that the figures agree with each other. */
	sqlite3_stmt *begin = sim_stmt(s, "BEGIN");
	if (!begin || !sim_step_done(s, begin))
		goto out;
	bool ok =
		sim_stats_count(s, "SELECT COUNT(*) FROM (SELECT 1 FROM invoices WHERE ?1 IS NULL "
				   "OR api_key = ?1 GROUP BY api_key, number)",
				key, &out->invoices_received) &&
		sim_stats_count(s, "SELECT COUNT(*) FROM invoices WHERE ?1 IS NULL OR api_key = ?1",
				key, &out->invoice_creations) &&
		sim_stats_count(s, "SELECT COUNT(*) FROM (SELECT 1 FROM invoices WHERE ?1 IS NULL "
				   "OR api_key = ?1 GROUP BY api_key, number HAVING COUNT(*) > 1)",
				key, &out->duplicate_numbers) &&
		sim_stats_count(s, "SELECT COUNT(*) FROM payments WHERE ?1 IS NULL OR api_key = ?1",
				key, &out->payments) &&
		sim_stats_count(s, "SELECT COUNT(*) FROM settlements WHERE ?1 IS NULL OR api_key = ?1",
				key, &out->settlements) &&
		sim_stats_count(s, "SELECT COUNT(*) FROM actions a JOIN invoices i "
				   "ON i.id = a.invoice_id WHERE ?1 IS NULL OR i.api_key = ?1",
				key, &out->actions) &&
		sim_stats_counters(s, key, out) && sim_stats_paths(s, key, each_path, ctx);
	out->duplicates_created = out->invoice_creations - out->invoices_received;
	sim_tx_rollback(s); /* ends the read transaction */
	if (ok)
		rc = SIM_STORE_OK;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}
