/* SPDX-License-Identifier: MIT */
/* The webhook delivery queue as the workers drain it: claim in per-endpoint,
 * per-subject order, end an attempt (delivered, again later, given up, the
 * endpoint gone), requeue what a crash left sending, and the figures of
 * /metrics. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/dates.h"
#include "lib/log.h"
#include "store/rows.h"
#include "store/store_internal.h"

#define ERROR_MAX "300" /* characters of an attempt's error kept */

void store_webhook_job_free(struct webhook_job *j)
{
	if (!j)
		return;
	free(j->url);
	free(j->body);
	explicit_bzero(j, sizeof *j); /* the secrets do not linger */
}

/* RFC 3339 with milliseconds of ms since the epoch. */
static void iso_of_ms(int64_t ms, char out[DATES_TS_LEN])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char text[64]; /* room for any int the compiler imagines */
	snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	memcpy(out, text, DATES_TS_LEN - 1); /* 24 characters for any year of four digits */
	out[DATES_TS_LEN - 1] = '\0';
}

/* Deliveries left sending, back to pending and due at once: their open
 * attempt failed with why, a new one queued. expired_at >= 0: only those
 * whose lease ended by then; < 0: all (a SQLite start). How many into *n. */
static enum store_result requeue_in_tx(struct db_conn *w, int64_t expired_at, const char *why, int64_t *n)
{
	static const char attempts[] =
		"UPDATE webhook_attempts SET status = 'failed', error = ?3"
		" WHERE status = 'pending' AND delivery_id IN (SELECT id FROM webhook_deliveries"
		"   WHERE state = 'sending' AND (CAST(?2 AS BIGINT) < 0 OR lease_until <= ?2))";
	static const char next[] =
		"INSERT INTO webhook_attempts (endpoint_id, delivery_id, event_id, attempt, at, status,"
		" next_attempt_at)"
		" SELECT d.endpoint_id, d.id, e.id, d.attempts + 1, ?1, 'pending', ?1 FROM webhook_deliveries d"
		" JOIN events e ON e.pos = d.event_pos"
		" WHERE d.state = 'sending' AND (CAST(?2 AS BIGINT) < 0 OR d.lease_until <= ?2)";
	static const char deliveries[] = "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = 0"
					 " WHERE state = 'sending' AND (CAST(?2 AS BIGINT) < 0 OR lease_until <= ?2)";
	char at[DATES_TS_LEN];
	dates_now_rfc3339(at);
	const struct db_param p[] = {DB_TEXT(at), DB_INT(expired_at), DB_TEXT(why), DB_END};
	const struct db_param p2[] = {DB_TEXT(at), DB_INT(expired_at), DB_END};
	enum store_result r = db_exec(w, attempts, p, "store: webhook requeue");
	if (r == STORE_OK)
		r = db_exec(w, next, p2, "store: webhook requeue");
	if (r == STORE_OK)
		r = db_exec(w, deliveries, p2, "store: webhook requeue");
	*n = r == STORE_OK ? db_changes(w) : 0;
	return r;
}

enum store_result store_webhook_claim(struct store *s, int64_t now_ms, int64_t lease_ms, struct webhook_job *out)
{
	/* The inner SELECT walks webhook_deliveries_due in order and stops at
	 * the first delivery not held back by an earlier event of its subject
	 * for the same endpoint (one probe of webhook_deliveries_order each).
	 * One statement under the write lock: two workers never claim the
	 * same delivery. */
	static const char claim[] =
		"UPDATE webhook_deliveries SET state = 'sending', attempts = attempts + 1, lease_until = ?1 + ?2"
		" WHERE id = (SELECT d.id FROM webhook_deliveries d WHERE d.state = 'pending'"
		"   AND d.next_attempt_at <= ?1 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p"
		"     WHERE p.endpoint_id = d.endpoint_id AND p.subject = d.subject AND p.sequence < d.sequence"
		"     AND p.state IN ('pending', 'sending'))"
		"   ORDER BY d.next_attempt_at, d.id LIMIT 1)"
		" RETURNING id, endpoint_id, event_pos, attempts";
	/* What the attempt sends: the endpoint's URL and secrets, the event. */
	static const char load[] =
		"SELECT p.url, p.secret, CASE WHEN p.previous_until > ?2 THEN p.previous_secret END, e.id, e.body"
		" FROM webhook_endpoints p, events e WHERE p.id = ?1 AND e.pos = ?3";
	/* Its row in the log: the pending one queued with it, now under way. */
	static const char attempt[] = "SELECT id FROM webhook_attempts WHERE delivery_id = ?1 AND status = 'pending'"
				      " ORDER BY id DESC LIMIT 1";
	static const char new_attempt[] =
		"INSERT INTO webhook_attempts (endpoint_id, delivery_id, event_id, attempt, at, status)"
		" VALUES (?1, ?2, ?3, ?4, ?5, 'pending') RETURNING id";
	static const char start[] = "UPDATE webhook_attempts SET attempt = ?2, at = ?3 WHERE id = ?1";
	memset(out, 0, sizeof *out);
	int64_t pos = 0;
	char at[DATES_TS_LEN];
	iso_of_ms(now_ms, at);
	const struct db_param now[] = {DB_INT(now_ms), DB_END};
	const struct db_param now_lease[] = {DB_INT(now_ms), DB_INT(lease_ms), DB_END};
	const struct db_col claimed[] = {
		DB_COL_INT64(&out->delivery_id), DB_COL_COPY(out->endpoint_id), DB_COL_INT64(&pos),
		DB_COL_INT(&out->attempt, 0), DB_END_COL,
	};
	const struct db_col loaded[] = {
		DB_COL_DUP(&out->url), DB_COL_COPY(out->secret), DB_COL_COPY(out->previous_secret),
		DB_COL_COPY(out->event_id), DB_COL_BLOB(&out->body, &out->body_len), DB_END_COL,
	};
	const struct db_col attempt_col[] = {DB_COL_INT64(&out->attempt_id), DB_END_COL};
	/* Whether anything is due, on a reader first: idle workers poll, and
	 * must not take the write lock from the creates each time. */
	static const char due[] = "SELECT 1 FROM webhook_deliveries WHERE (state = 'pending' AND next_attempt_at <= ?1)"
				  " OR (state = 'sending' AND lease_until <= ?1) LIMIT 1";
	int one = 0;
	const struct db_col one_col[] = {DB_COL_INT(&one, 0), DB_END_COL};
	struct db_conn *c = store_reader_get(s);
	enum store_result r = db_one(c, due, now, one_col, "store: webhook due");
	store_reader_put(s, c);
	if (r != STORE_OK)
		return r; /* STORE_NOT_FOUND: nothing due */
	struct db_conn *w;
	int64_t taken_over = 0;
	r = store_write_begin(s, &w);
	if (r == STORE_OK)
		r = requeue_in_tx(w, now_ms, "interrupted: lease expired", &taken_over);
	if (r == STORE_OK)
		r = db_one(w, claim, now_lease, claimed, "store: webhook claim");
	if (r == STORE_OK) {
		const struct db_param by[] = {DB_TEXT(out->endpoint_id), DB_INT(now_ms), DB_INT(pos), DB_END};
		r = db_one(w, load, by, loaded, "store: webhook claim");
		if (r == STORE_NOT_FOUND)
			r = db_fail_msg("store: webhook claim", "the delivery's endpoint or event is gone");
	}
	if (r == STORE_OK) {
		const struct db_param by[] = {DB_INT(out->delivery_id), DB_END};
		r = db_one(w, attempt, by, attempt_col, "store: webhook claim");
	}
	if (r == STORE_OK) {
		const struct db_param by[] = {DB_INT(out->attempt_id), DB_INT(out->attempt), DB_TEXT(at), DB_END};
		r = db_exec(w, start, by, "store: webhook claim");
	} else if (r == STORE_NOT_FOUND && out->delivery_id) { /* a log row lost: a new one */
		const struct db_param row[] = {
			DB_TEXT(out->endpoint_id), DB_INT(out->delivery_id), DB_TEXT(out->event_id),
			DB_INT(out->attempt),      DB_TEXT(at),              DB_END,
		};
		r = db_one(w, new_attempt, row, attempt_col, "store: webhook claim");
	}
	r = store_write_finish(s, r);
	if (r != STORE_OK)
		store_webhook_job_free(out);
	else if (taken_over > 0) {
		char n[24];
		snprintf(n, sizeof n, "%lld", (long long)taken_over);
		log_write(LOG_WARN, "webhooks: deliveries taken over after their lease ended", "deliveries", n, NULL);
	}
	return r;
}

/* The endpoint's failure streak after an attempt: cleared by a success,
 * started by the first failure, and the endpoint disabled (failing) once it
 * has lasted disable_after_ms. *disabled when this attempt did it. */
static enum store_result streak(struct db_conn *w, const struct webhook_job *j, const struct webhook_attempt_end *e,
				bool *disabled)
{
	static const char ok[] = "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?1";
	static const char failed[] = "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?2)"
				     " WHERE id = ?1 RETURNING failing_since, enabled";
	static const char disable[] = "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?2,"
				      " updated_at = ?3 WHERE id = ?1";
	const struct db_param by_endpoint[] = {DB_TEXT(j->endpoint_id), DB_END};
	const struct db_param by_id[] = {DB_TEXT(j->endpoint_id), DB_INT(e->now_ms), DB_END};
	if (e->outcome == WEBHOOK_DELIVERED)
		return db_exec(w, ok, by_endpoint, "store: webhook streak");
	int64_t since = e->now_ms;
	bool enabled = false;
	const struct db_col cols[] = {DB_COL_INT64(&since), DB_COL_BOOL(&enabled), DB_END_COL};
	enum store_result r = db_one(w, failed, by_id, cols, "store: webhook streak");
	const char *why = e->outcome == WEBHOOK_GONE                                     ? "gone"
			  : e->disable_after_ms > 0 && e->now_ms - since >= e->disable_after_ms ? "failing"
											       : NULL;
	if (r != STORE_OK || !why || !enabled)
		return r;
	char at[DATES_TS_LEN];
	iso_of_ms(e->now_ms, at);
	const struct db_param off[] = {DB_TEXT(j->endpoint_id), DB_TEXT(why), DB_TEXT(at), DB_END};
	r = db_exec(w, disable, off, "store: webhook disable");
	if (r == STORE_OK)
		*disabled = true;
	/* What waited for it will not go: cancelled, like a disable by PATCH. */
	static const char cancel_attempts[] =
		"UPDATE webhook_attempts SET status = 'failed', error = ?2, next_attempt_at = NULL"
		" WHERE endpoint_id = ?1 AND status = 'pending'";
	static const char cancel[] = "UPDATE webhook_deliveries SET state = 'cancelled'"
				     " WHERE endpoint_id = ?1 AND state IN ('pending', 'sending')";
	const struct db_param reason[] = {
		DB_TEXT(j->endpoint_id),
		DB_TEXT(why[0] == 'g' ? "endpoint disabled: gone" : "endpoint disabled: failing"),
		DB_END,
	};
	if (r == STORE_OK)
		r = db_exec(w, cancel_attempts, reason, "store: webhook disable");
	if (r == STORE_OK)
		r = db_exec(w, cancel, by_endpoint, "store: webhook disable");
	return r;
}

static enum store_result webhook_finish_once(struct store *s, const struct webhook_job *j,
					     const struct webhook_attempt_end *e, bool *disabled)
{
	static const char delivery[] = "UPDATE webhook_deliveries SET state = ?2, next_attempt_at = ?3"
				       " WHERE id = ?1 AND state = 'sending' AND attempts = ?4";
	static const char attempt[] =
		"UPDATE webhook_attempts SET status = ?2, status_code = ?3, duration_ms = ?4,"
		" error = substr(?5, 1, " ERROR_MAX "), next_attempt_at = ?6 WHERE id = ?1";
	static const char next[] =
		"INSERT INTO webhook_attempts (endpoint_id, delivery_id, event_id, attempt, at, status,"
		" next_attempt_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?5)";
	assert(j && e);
	bool again = e->outcome == WEBHOOK_RETRY;
	const char *state = e->outcome == WEBHOOK_DELIVERED ? "succeeded" : again ? "pending" : "failed";
	char next_at[DATES_TS_LEN];
	iso_of_ms(again ? e->next_attempt_ms : 0, next_at);
	const struct db_param d[] = {
		DB_INT(j->delivery_id), DB_TEXT(state), DB_INT(again ? e->next_attempt_ms : e->now_ms),
		DB_INT(j->attempt),     DB_END,
	};
	const struct db_param a[] = {
		DB_INT(j->attempt_id),
		DB_TEXT(e->outcome == WEBHOOK_DELIVERED ? "succeeded" : "failed"),
		e->status_code ? DB_INT(e->status_code) : DB_TEXT(NULL),
		DB_INT(e->duration_ms),
		DB_TEXT(e->error),
		DB_TEXT(again ? next_at : NULL),
		DB_END,
	};
	const struct db_param n[] = {
		DB_TEXT(j->endpoint_id), DB_INT(j->delivery_id), DB_TEXT(j->event_id), DB_INT(j->attempt + 1),
		DB_TEXT(next_at),        DB_END,
	};
	struct db_conn *w;
	bool off = false;
	enum store_result r = store_write_begin(s, &w);
	if (r == STORE_OK)
		r = db_exec(w, delivery, d, "store: webhook finish");
	if (r == STORE_OK && db_changes(w) == 0)
		r = STORE_STATE; /* not sending: an endpoint disabled or deleted meanwhile, or taken over */
	if (r == STORE_OK)
		r = db_exec(w, attempt, a, "store: webhook finish");
	if (r == STORE_OK && again)
		r = db_exec(w, next, n, "store: webhook finish");
	if (r == STORE_OK)
		r = streak(w, j, e, &off);
	r = store_write_finish(s, r);
	if (disabled)
		*disabled = r == STORE_OK && off;
	return r;
}

enum store_result store_webhook_finish(struct store *s, const struct webhook_job *j,
				       const struct webhook_attempt_end *e, bool *disabled)
{
	enum store_result r;
	STORE_WRITE_RETRYING(r, webhook_finish_once(s, j, e, disabled));
	return r;
}

enum store_result store_webhook_requeue_sending(struct store *s, int64_t *requeued)
{
	/* The attempt under way when the process died has no answer: it is
	 * failed, and the delivery goes again at once with a new one. */
	int64_t n = 0;
	struct db_conn *w;
	enum store_result r = STORE_OK;
	if (!s->shared) { /* PostgreSQL: the claim takes expired leases over */
		r = store_write_begin(s, &w);
		if (r == STORE_OK)
			r = requeue_in_tx(w, -1, "interrupted: inkasso restarted", &n);
		r = store_write_finish(s, r);
	}
	if (requeued)
		*requeued = r == STORE_OK ? n : 0;
	return r;
}

enum store_result store_webhook_stats(struct store *s, struct webhook_stats *out)
{
	static const char queued[] = "SELECT count(*), COALESCE(MIN(created_at), 0) FROM webhook_deliveries"
				     " WHERE state IN ('pending', 'sending')";
	static const char disabled[] = "SELECT count(*) FROM webhook_endpoints WHERE enabled = 0"
				       " AND disabled_reason IS NOT NULL";
	memset(out, 0, sizeof *out);
	const struct db_col q[] = {DB_COL_INT64(&out->queued), DB_COL_INT64(&out->oldest_queued_ms), DB_END_COL};
	const struct db_col d[] = {DB_COL_INT64(&out->disabled_endpoints), DB_END_COL};
	struct db_conn *c;
	enum store_result r = store_snapshot_begin(s, &c);
	if (r == STORE_OK)
		r = db_one(c, queued, NULL, q, "store: webhook stats");
	if (r == STORE_OK)
		r = db_one(c, disabled, NULL, d, "store: webhook stats");
	return store_snapshot_end(s, c, r);
}
