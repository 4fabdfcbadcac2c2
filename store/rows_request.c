/* SPDX-License-Identifier: MIT */
/* Who asked for a change (its actor), and the idempotency record that
 * answers a retried request again: both written inside the change's own
 * transaction. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jsonw.h"
#include "store/rows.h"

const char *store_actor_json(const struct store_actor *a, struct buf *b)
{
	if (!a || !a->request_id)
		return NULL;
	buf_reset(b);
	buf_putc(b, '{');
	jw_kstr(b, true, "sub", a->sub);
	jw_kstr(b, false, "request_id", a->request_id);
	buf_putc(b, '}');
	return b->oom ? NULL : buf_cstr(b);
}

enum store_result rows_idem_check(struct db_conn *c, const char *tenant, const struct store_idem *idem,
				  struct store_replay *out)
{
	static const char sql[] = "SELECT fingerprint, status, body, location FROM idempotency"
				  " WHERE tenant = ?1 AND key = ?2";
	if (!idem || !idem->key)
		return STORE_NOT_FOUND;
	assert(idem->fingerprint);
	char *stored = NULL, *body = NULL, *location = NULL;
	int status = 0;
	size_t len = 0;
	const struct db_param params[] = {DB_TEXT(tenant), DB_TEXT(idem->key), DB_END};
	const struct db_col cols[] = {
		DB_COL_DUP(&stored), DB_COL_INT(&status, 0), DB_COL_BLOB(&body, &len), DB_COL_DUP(&location),
		DB_END_COL,
	};
	enum store_result r = db_one(c, sql, params, cols, "store: idempotency lookup");
	if (r == STORE_OK) {
		/* A record of an older build holds its own fingerprint of the
		 * same request: it is the same request too. */
		bool same = stored && (strcmp(stored, idem->fingerprint) == 0 ||
				       (idem->legacy_fingerprint && strcmp(stored, idem->legacy_fingerprint) == 0));
		r = same ? STORE_REPLAY : STORE_KEY_REUSED;
	}
	if (r == STORE_REPLAY && out) {
		memset(out, 0, sizeof *out);
		out->status = status;
		out->body = body;
		out->body_len = len;
		body = NULL;
		if (location && strlen(location) < sizeof out->location)
			strcpy(out->location, location);
	}
	free(stored);
	free(body);
	free(location);
	return r;
}

enum store_result rows_idem_record(struct db_conn *w, const char *tenant, const struct store_idem *idem,
				   const char *now)
{
	static const char sql[] = "INSERT INTO idempotency (tenant, key, fingerprint, status, body, location,"
				  " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	if (!idem || !idem->key)
		return STORE_OK;
	assert(idem->fingerprint && idem->status >= 200 && idem->status <= 299);
	struct buf body = {0};
	char location[160] = "";
	const char *data = idem->body;
	size_t len = idem->body_len;
	if (idem->location)
		snprintf(location, sizeof location, "%s", idem->location);
	if (idem->render) {
		if (!idem->render(idem->render_ctx, &body, location, sizeof location) || body.oom) {
			buf_free(&body);
			return db_fail_msg("store: idempotency record", "out of memory");
		}
		data = body.len ? body.data : "";
		len = body.len;
	}
	/* The body is replayed byte for byte, so it is a BLOB of exact length. */
	const struct db_param params[] = {
		DB_TEXT(tenant), DB_TEXT(idem->key), DB_TEXT(idem->fingerprint), DB_INT(idem->status),
		DB_BLOB(data ? data : "", len), DB_TEXT(location[0] ? location : NULL), DB_TEXT(now), DB_END,
	};
	/* The key was checked in this transaction: a clash is a fault. */
	enum store_result r =
		db_no_duplicate(db_exec(w, sql, params, "store: idempotency record"), "store: idempotency record");
	buf_free(&body);
	return r;
}
