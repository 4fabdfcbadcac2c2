/* SPDX-License-Identifier: MIT */
/* `inkasso migrate-db --from inkasso.db --to postgres://...`: every table of
 * a SQLite store into an empty PostgreSQL one with COPY, in one transaction,
 * then each table read back from both sides and compared. The two schemas
 * have the same tables and columns (store/schema_pg.c), so a row is copied
 * column by column as it is. */
#include "store/migrate.h"

#include <libpq-fe.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "store/schema_pg.h"
#include "store/store.h"

/* Every table, parents before the tables whose foreign keys name them. The
 * SQLite file must hold exactly these (a table unknown here would be left
 * behind: refused instead). */
static const char *const tables[] = {
	"cases",       "case_events",     "outbox",         "idempotency",       "agency_settings",
	"secrets",     "payments",        "actions",        "settlements",       "settlement_allocations",
	"agency_events", "events",        "event_sequences", "webhook_endpoints", "webhook_deliveries",
	"webhook_attempts", "sync_rounds",
};
#define NTABLES ((int)(sizeof tables / sizeof tables[0]))

/* The tables whose integer key SQLite numbers (AUTOINCREMENT) and
 * PostgreSQL's identity column continues. */
static const struct {
	const char *table, *column;
} identities[] = {
	{"outbox", "id"}, {"events", "pos"}, {"webhook_deliveries", "id"}, {"webhook_attempts", "id"},
};

static bool fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

/* A table's columns in order, and its primary key's, as SQL lists. */
struct columns {
	struct buf list; /* "a, b, c" */
	struct buf key;  /* "a, b": ORDER BY */
};

static bool columns_of(sqlite3 *db, const char *table, struct columns *c, char *err, size_t errlen)
{
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT name, pk FROM pragma_table_info('%s') ORDER BY cid", table);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(err, errlen, "%s: %s", table, sqlite3_errmsg(db));
	/* pk is the column's place in the key (1, 2, ...), 0 outside it. */
	const char *key[16] = {0};
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		int pk = sqlite3_column_int(st, 1);
		buf_printf(&c->list, "%s%s", n++ ? ", " : "", name);
		if (pk > 0 && pk <= 16)
			key[pk - 1] = strdup(name);
	}
	sqlite3_finalize(st);
	for (int i = 0; i < 16 && key[i]; i++)
		buf_printf(&c->key, "%s%s", i ? ", " : "", key[i]);
	for (int i = 0; i < 16; i++)
		free((char *)key[i]);
	if (n == 0 || !c->key.len || c->list.oom || c->key.oom)
		return fail(err, errlen, "%s: no columns or no primary key", table);
	return true;
}

/* One value in COPY's text format, as PostgreSQL's COPY TO writes it back:
 * \N for NULL; backslash, \b \f \n \r \t \v escaped; a blob as bytea's hex
 * form with its backslash escaped. */
static bool put_value(struct buf *line, sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		buf_puts(line, "\\N");
		return true;
	case SQLITE_INTEGER:
		buf_printf(line, "%lld", (long long)sqlite3_column_int64(st, i));
		return true;
	case SQLITE_BLOB: {
		const unsigned char *b = sqlite3_column_blob(st, i);
		int n = sqlite3_column_bytes(st, i);
		buf_puts(line, "\\\\x");
		for (int k = 0; k < n; k++)
			buf_printf(line, "%02x", b[k]);
		return true;
	}
	case SQLITE_TEXT: {
		static const char special[] = "\\\b\f\n\r\t\v", letter[] = "\\bfnrtv";
		const char *t = (const char *)sqlite3_column_text(st, i);
		for (; *t; t++) {
			const char *esc = strchr(special, *t);
			if (esc) {
				buf_putc(line, '\\');
				buf_putc(line, letter[esc - special]);
			} else {
				buf_putc(line, *t);
			}
		}
		return true;
	}
	default:
		return false; /* REAL: no column of the schema holds one */
	}
}

static void hex_of(const unsigned char *md, char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Copies one table: its rows in key order, each line hashed as it goes. */
static bool copy_table(sqlite3 *db, PGconn *pg, const char *table, struct columns *c, int64_t *rows,
		       char digest[65], char *err, size_t errlen)
{
	struct buf sql = {0};
	buf_printf(&sql, "SELECT %s FROM %s ORDER BY %s", buf_cstr(&c->list), table, buf_cstr(&c->key));
	sqlite3_stmt *st = NULL;
	bool ok = !sql.oom && sqlite3_prepare_v2(db, buf_cstr(&sql), -1, &st, NULL) == SQLITE_OK;
	buf_free(&sql);
	if (!ok)
		return fail(err, errlen, "%s: %s", table, sqlite3_errmsg(db));
	buf_printf(&sql, "COPY %s (%s) FROM STDIN", table, buf_cstr(&c->list));
	PGresult *res = PQexec(pg, buf_cstr(&sql));
	buf_free(&sql);
	ok = PQresultStatus(res) == PGRES_COPY_IN;
	PQclear(res);
	if (!ok) {
		sqlite3_finalize(st);
		return fail(err, errlen, "%s: COPY: %s", table, PQerrorMessage(pg));
	}
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	struct buf chunk = {0}, line = {0};
	int ncols = sqlite3_column_count(st), rc = SQLITE_DONE;
	*rows = 0;
	while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		buf_reset(&line);
		for (int i = 0; ok && i < ncols; i++) {
			if (i)
				buf_putc(&line, '\t');
			ok = put_value(&line, st, i);
		}
		buf_putc(&line, '\n');
		ok = ok && !line.oom;
		EVP_DigestUpdate(md, line.data, line.len);
		buf_append(&chunk, line.data, line.len);
		(*rows)++;
		if (ok && chunk.len >= 1 << 16) {
			ok = PQputCopyData(pg, chunk.data, (int)chunk.len) == 1;
			chunk.len = 0;
		}
	}
	if (ok && rc != SQLITE_DONE)
		ok = fail(err, errlen, "%s: read: %s", table, sqlite3_errmsg(db));
	else if (!ok && !err[0])
		fail(err, errlen, "%s: a value that cannot be copied (out of memory, or a REAL)", table);
	if (ok && chunk.len)
		ok = PQputCopyData(pg, chunk.data, (int)chunk.len) == 1;
	/* End the COPY either way: an error message aborts it. */
	ok = PQputCopyEnd(pg, ok ? NULL : "inkasso migrate-db: source read failed") == 1 && ok;
	while ((res = PQgetResult(pg))) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && ok)
			ok = fail(err, errlen, "%s: COPY: %s", table, PQresultErrorMessage(res));
		PQclear(res);
	}
	unsigned char sum[32];
	EVP_DigestFinal_ex(md, sum, NULL);
	EVP_MD_CTX_free(md);
	hex_of(sum, digest);
	buf_free(&chunk);
	buf_free(&line);
	sqlite3_finalize(st);
	return ok;
}

/* The table as PostgreSQL gives it back: COPY TO in key order, hashed. */
static bool read_back(PGconn *pg, const char *table, struct columns *c, int64_t *rows, char digest[65],
		      char *err, size_t errlen)
{
	struct buf sql = {0};
	buf_printf(&sql, "COPY (SELECT %s FROM %s ORDER BY %s) TO STDOUT", buf_cstr(&c->list), table,
		   buf_cstr(&c->key));
	PGresult *res = PQexec(pg, buf_cstr(&sql));
	buf_free(&sql);
	bool ok = PQresultStatus(res) == PGRES_COPY_OUT;
	PQclear(res);
	if (!ok)
		return fail(err, errlen, "%s: read back: %s", table, PQerrorMessage(pg));
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	char *row;
	int n;
	*rows = 0;
	while ((n = PQgetCopyData(pg, &row, 0)) > 0) {
		EVP_DigestUpdate(md, row, (size_t)n);
		(*rows)++;
		PQfreemem(row);
	}
	while ((res = PQgetResult(pg))) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && ok)
			ok = fail(err, errlen, "%s: read back: %s", table, PQresultErrorMessage(res));
		PQclear(res);
	}
	unsigned char sum[32];
	EVP_DigestFinal_ex(md, sum, NULL);
	EVP_MD_CTX_free(md);
	hex_of(sum, digest);
	return ok && n == -1;
}

static bool pg_exec(PGconn *pg, const char *sql, char *err, size_t errlen)
{
	PGresult *res = PQexec(pg, sql);
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		fail(err, errlen, "%s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
	return ok;
}

/* The single integer of a query's first row (0 when none). */
static int64_t pg_int(PGconn *pg, const char *sql, bool *ok)
{
	PGresult *res = PQexec(pg, sql);
	int64_t v = 0;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		*ok = false;
	else if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}

static int64_t sqlite_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The source holds exactly the tables of the list. */
static bool same_tables(sqlite3 *db, char *err, size_t errlen)
{
	int64_t n = sqlite_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
				   " AND name NOT LIKE 'sqlite%'");
	for (int i = 0; i < NTABLES; i++) {
		char sql[160];
		snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '%s'",
			 tables[i]);
		if (sqlite_int(db, sql) != 1)
			return fail(err, errlen, "the SQLite file has no table %s", tables[i]);
	}
	return n == NTABLES || fail(err, errlen, "the SQLite file has tables this build does not know");
}

/* Moves each identity sequence past the ids copied, and past those SQLite
 * ever handed out (AUTOINCREMENT never reuses one). */
static bool move_sequences(sqlite3 *db, PGconn *pg, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof identities / sizeof identities[0]; i++) {
		char sql[256];
		snprintf(sql, sizeof sql, "SELECT max((SELECT COALESCE(max(%s), 0) FROM %s),"
			 " COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '%s'), 0))",
			 identities[i].column, identities[i].table, identities[i].table);
		int64_t last = sqlite_int(db, sql);
		if (last < 1)
			continue;
		snprintf(sql, sizeof sql, "SELECT setval(pg_get_serial_sequence('%s', '%s'), %lld)",
			 identities[i].table, identities[i].column, (long long)last);
		if (!pg_exec(pg, sql, err, errlen))
			return false;
	}
	return true;
}

bool store_migrate_db(const char *from, const char *to, FILE *out, char *err, size_t errlen)
{
	err[0] = '\0';
	if (!store_path_is_pg(to))
		return fail(err, errlen, "--to must be a PostgreSQL URI (postgres://... or postgresql://...)");
	if (store_path_is_pg(from))
		return fail(err, errlen, "--from must be a SQLite file");
	/* Opening the store brings the file to this build's schema, as a start
	 * of the service would; it must exist already. */
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(from, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return fail(err, errlen, "cannot open %s", from);
	}
	sqlite3_close(db);
	db = NULL;
	struct store *s = store_open(from, &(struct store_options){.readers = 1, .commit_batch = 1}, err, errlen);
	if (!s)
		return false;
	store_close(s);
	if (sqlite3_open_v2(from, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return fail(err, errlen, "cannot open %s", from);
	}
	PGconn *pg = PQconnectdb(to);
	bool ok = PQstatus(pg) == CONNECTION_OK ||
		  fail(err, errlen, "connect: %.*s", (int)strcspn(PQerrorMessage(pg), "\n"), PQerrorMessage(pg));
	ok = ok && same_tables(db, err, errlen) && store_schema_pg_migrate(pg, err, errlen);
	for (int i = 0; ok && i < NTABLES; i++) {
		char sql[96];
		snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[i]);
		if (pg_int(pg, sql, &ok) != 0)
			ok = fail(err, errlen, "the target is not empty (table %s has rows): refused", tables[i]);
	}
	struct columns cols[NTABLES];
	memset(cols, 0, sizeof cols);
	int64_t rows[NTABLES] = {0};
	char sums[NTABLES][65];
	/* REPEATABLE READ: the source read as one snapshot would be SQLite's;
	 * on the target, one transaction for everything. */
	ok = ok && pg_exec(pg, "BEGIN", err, errlen);
	ok = ok && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	for (int i = 0; ok && i < NTABLES; i++)
		ok = columns_of(db, tables[i], &cols[i], err, errlen) &&
		     copy_table(db, pg, tables[i], &cols[i], &rows[i], sums[i], err, errlen);
	ok = ok && move_sequences(db, pg, err, errlen) && pg_exec(pg, "COMMIT", err, errlen);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (!ok && PQstatus(pg) == CONNECTION_OK)
		PQclear(PQexec(pg, "ROLLBACK"));
	/* Each table back from the target, against what was read from the
	 * source. */
	for (int i = 0; ok && i < NTABLES; i++) {
		int64_t n = 0;
		char sum[65];
		ok = read_back(pg, tables[i], &cols[i], &n, sum, err, errlen);
		if (ok && (n != rows[i] || strcmp(sum, sums[i]) != 0))
			ok = fail(err, errlen, "%s: verification failed (%lld rows copied, %lld read back)", tables[i],
				  (long long)rows[i], (long long)n);
		if (ok && out)
			fprintf(out, "%-24s %9lld rows  sha256 %.16s  verified\n", tables[i], (long long)rows[i], sum);
	}
	for (int i = 0; i < NTABLES; i++) {
		buf_free(&cols[i].list);
		buf_free(&cols[i].key);
	}
	PQfinish(pg);
	sqlite3_close(db);
	return ok;
}
