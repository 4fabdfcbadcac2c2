/* SPDX-License-Identifier: MIT */
/* The small queries: a tenant's settings, idempotency records, the
 * per-database secrets, and the counts /metrics shows. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "store/rows.h"
#include "store/store_internal.h"

enum store_result store_settings_get(struct store *s, const char *tenant, struct agency_settings *out)
{
	static const char sql[] = "SELECT " SETTINGS_COLUMNS " FROM agency_settings WHERE tenant = ?1";
	const struct db_param params[] = {DB_TEXT(tenant), DB_END};
	struct db_col cols[SETTINGS_NCOLUMNS + 1];
	rows_settings_cols(out, cols);
	struct db_conn *c = store_reader_get(s);
	enum store_result r = db_one(c, sql, params, cols, "store: settings get");
	store_reader_put(s, c);
	rows_settings_done(out);
	return r;
}

static enum store_result settings_put_once(struct store *s, const char *tenant, const struct agency_settings *in,
					  const char *actor)
{
	static const char sql[] =
		"INSERT INTO agency_settings (tenant, " SETTINGS_COLUMNS ")"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
		" ON CONFLICT (tenant) DO UPDATE SET creditor_reference = excluded.creditor_reference,"
		" api_key = excluded.api_key, service = excluded.service,"
		" customer_type = excluded.customer_type, min_days_overdue = excluded.min_days_overdue,"
		" reminder_wait_days = excluded.reminder_wait_days, min_amount = excluded.min_amount,"
		" enabled = excluded.enabled, api_key_valid = excluded.api_key_valid,"
		" updated_at = excluded.updated_at, agency_environment = excluded.agency_environment,"
		" actor = excluded.actor";
	const char *environment = agency_environment_name(in->environment);
	if (!environment)
		return db_fail_msg("store: settings put", "unknown agency environment");
	const struct db_param params[] = {
		DB_TEXT(tenant),
		DB_TEXT(in->creditor_reference),
		DB_TEXT(in->api_key_set ? in->api_key : NULL),
		DB_TEXT(in->service),
		DB_TEXT(in->customer_type),
		DB_INT(in->min_days_overdue),
		DB_INT(in->reminder_wait_days),
		DB_INT(in->min_amount),
		DB_BOOL(in->enabled),
		in->api_key_valid < 0 ? DB_TEXT(NULL) : DB_BOOL(in->api_key_valid),
		DB_TEXT(in->updated_at),
		DB_TEXT(environment),
		DB_TEXT(actor),
		DB_END,
	};
	struct db_conn *w;
	enum store_result r = store_write_begin(s, &w);
	if (r == STORE_OK)
		r = db_exec(w, sql, params, "store: settings put");
	return store_write_finish(s, r);
}

enum store_result store_settings_put(struct store *s, const char *tenant, const struct agency_settings *in,
				     const struct store_actor *actor)
{
	struct buf b = {0};
	const char *json = store_actor_json(actor, &b);
	enum store_result r;
	if (actor && actor->request_id && !json)
		r = db_fail_msg("store: settings put", "out of memory");
	else if (json && strlen(json) >= STORE_ACTOR_JSON_MAX)
		r = db_fail_msg("store: settings put", "actor longer than its field");
	else
		STORE_WRITE_RETRYING(r, settings_put_once(s, tenant, in, json));
	buf_free(&b);
	return r;
}

enum store_result store_idempotency_get(struct store *s, const char *tenant, const struct store_idem *idem,
					struct store_replay *out)
{
	struct db_conn *c = store_reader_get(s);
	enum store_result r = rows_idem_check(c, tenant, idem, out);
	store_reader_put(s, c);
	return r;
}

/* A count(*) on a reader; -1 on error. */
static int64_t count_of(struct store *s, const char *sql, const char *what)
{
	int64_t n = -1;
	const struct db_col cols[] = {DB_COL_INT64(&n), DB_END_COL};
	struct db_conn *c = store_reader_get(s);
	if (db_one(c, sql, NULL, cols, what) != STORE_OK)
		n = -1;
	store_reader_put(s, c);
	return n;
}

int64_t store_outbox_depth(struct store *s)
{
	static const char sql[] = "SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')";
	return count_of(s, sql, "store: outbox depth");
}

int64_t store_cases_failed(struct store *s)
{
	/* Served by the partial index cases_failed: a scrape never scans all cases. */
	static const char sql[] = "SELECT count(*) FROM cases WHERE status = 'failed'";
	return count_of(s, sql, "store: failed cases");
}

/* Per-database secrets: made once from getrandom(2), kept in the database so
 * that what they key (search hashes) stays valid for the data's lifetime. */
enum store_result store_secret_get(struct store *s, const char *name, unsigned char *out, size_t len)
{
	static const char read[] = "SELECT value FROM secrets WHERE name = ?1";
	static const char insert[] = "INSERT INTO secrets (name, value) VALUES (?1, ?2)";
	char *value = NULL;
	size_t n = 0;
	const struct db_param by_name[] = {DB_TEXT(name), DB_END};
	const struct db_col cols[] = {DB_COL_BLOB(&value, &n), DB_END_COL};
	struct db_conn *w;
	enum store_result r = store_write_begin(s, &w);
	if (r == STORE_OK)
		r = db_one(w, read, by_name, cols, "store: secret read");
	if (r == STORE_OK) {
		if (n == len)
			memcpy(out, value, len);
		else
			r = db_fail_msg("store: secret read", "stored secret has another length");
	} else if (r == STORE_NOT_FOUND) {
		if (getrandom(out, len, 0) != (ssize_t)len) {
			r = db_fail_msg("store: secret create", "getrandom failed");
		} else {
			const struct db_param row[] = {DB_TEXT(name), DB_BLOB(out, len), DB_END};
			r = db_exec(w, insert, row, "store: secret create");
			if (r == STORE_OK)
				r = db_commit(w);
		}
	}
	store_write_end(s);
	if (value)
		explicit_bzero(value, n);
	free(value);
	return r;
}
