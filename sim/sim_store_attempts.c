/* SPDX-License-Identifier: MIT */
/* The call log behind /sim/attempts: every agency call about an invoice
 * number with its arrival time and fate, so that tests can measure the
 * service's retry spacing (jitter) per invoice. */
#include "sim/sim_store_int.h"

#include <string.h>

void sim_store_attempt_record(struct sim_store *s, const char *key, const char *const *subjects,
			      size_t n, const char *method, const char *path, int status,
			      const char *outcome, int64_t at_ms)
{
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = sim_stmt(s, "INSERT INTO attempts (api_key, number, method, path, status, "
				       "outcome, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)");
	for (size_t i = 0; st && i < n && s->attempts_logged < SIM_ATTEMPTS_MAX; i++) {
		/* Only invoice numbers: case ids and paths are other subjects. */
		if (strncmp(subjects[i], "case:", 5) == 0 || subjects[i][0] == '/')
			continue;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, key ? key : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, subjects[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, method, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, path, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 5, status);
		sqlite3_bind_text(st, 6, outcome, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, at_ms);
		if (sim_step_done(s, st))
			s->attempts_logged++;
	}
	pthread_mutex_unlock(&s->lock);
}

enum sim_store_rc sim_store_attempts(struct sim_store *s, const char *key, const char *number,
				     void (*each)(const struct sim_attempt *, void *), void *ctx,
				     bool *truncated)
{
	enum sim_store_rc rc = SIM_STORE_ERROR;
	pthread_mutex_lock(&s->lock);
	*truncated = s->attempts_logged >= SIM_ATTEMPTS_MAX;
	sqlite3_stmt *st = sim_stmt(s, "SELECT api_key, number, method, path, status, outcome, at_ms "
				       "FROM attempts WHERE (?1 IS NULL OR api_key = ?1) "
				       "AND (?2 IS NULL OR number = ?2) ORDER BY api_key, number, at_ms, id");
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, number, -1, SQLITE_STATIC);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct sim_attempt a = {
			.api_key = (const char *)sqlite3_column_text(st, 0),
			.number = (const char *)sqlite3_column_text(st, 1),
			.method = (const char *)sqlite3_column_text(st, 2),
			.path = (const char *)sqlite3_column_text(st, 3),
			.status = sqlite3_column_int(st, 4),
			.outcome = (const char *)sqlite3_column_text(st, 5),
			.at_ms = sqlite3_column_int64(st, 6),
		};
		each(&a, ctx);
	}
	sqlite3_reset(st);
	if (step == SQLITE_DONE)
		rc = SIM_STORE_OK;
	else
		sim_db_error(s, "attempts");
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}
