/* SPDX-License-Identifier: MIT */
/* Per-database secrets: made once from getrandom(2), kept in the database so
 * that what they key (search hashes) stays valid for the data's lifetime. */
#include <string.h>
#include <sys/random.h>

#include "store/store_internal.h"

/* Reads the secret on c; STORE_NOT_FOUND when absent. */
static enum store_result secret_read(struct store_conn *c, const char *name, unsigned char *out, size_t len)
{
	sqlite3_stmt *st = NULL;
	enum store_result r;
	int rc = sqlite3_prepare_v2(c->db, "SELECT value FROM secrets WHERE name = ?1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(c->db, rc, "store: secret read");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = STORE_NOT_FOUND;
	} else if (rc != SQLITE_ROW) {
		r = store_fail(c->db, rc, "store: secret read");
	} else if ((size_t)sqlite3_column_bytes(st, 0) != len) {
		r = store_fail_msg("store: secret read", "stored secret has another length");
	} else {
		memcpy(out, sqlite3_column_blob(st, 0), len);
		r = STORE_OK;
	}
	sqlite3_finalize(st);
	return r;
}

enum store_result store_secret_get(struct store *s, const char *name, unsigned char *out, size_t len)
{
	struct store_conn *w;
	enum store_result r = store_write_begin(s, &w);
	if (r != STORE_OK)
		goto out;
	r = secret_read(w, name, out, len);
	if (r != STORE_NOT_FOUND)
		goto out;
	if (getrandom(out, len, 0) != (ssize_t)len) {
		r = store_fail_msg("store: secret create", "getrandom failed");
		goto out;
	}
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(w->db, "INSERT INTO secrets(name, value) VALUES (?1, ?2)", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, out, (int)len, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		r = store_fail(w->db, rc, "store: secret create");
		goto out;
	}
	r = store_write_commit(w);
out:
	store_write_end(s);
	return r;
}
