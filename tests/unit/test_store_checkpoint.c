/* SPDX-License-Identifier: MIT */
/* SQLite's WAL under a steady stream of creates (store/store_checkpoint.c):
 * the checkpointer copies it into the database while the creates go on, and
 * the WAL starts over instead of growing with every commit. SQLite only:
 * PostgreSQL has no WAL file of the store's. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "store/store.h"
#include "tests/unit/store_testkit.h"

static char dir[256], path[300];
static struct store *s;

static void setup(void)
{
	testdb_make(dir, sizeof dir, path, sizeof path, "inkasso-ckpt");
	char err[256] = "";
	s = store_open(path, &(struct store_options){.readers = 2}, err, sizeof err);
	cr_assert_not_null(s, "store_open: %s", err);
}

static void teardown(void)
{
	store_close(s);
	testdb_remove(dir, path);
}

TestSuite(checkpoint, .init = setup, .fini = teardown);

#define WRITERS 8
#define CREATES_EACH 700

static atomic_int next_case;

/* One writer: creates one case after another, each waiting for its commit,
 * so that with the others they keep the committer busy without a pause. */
static void *writer(void *arg)
{
	(void)arg;
	for (int i = 0; i < CREATES_EACH; i++) {
		int k = atomic_fetch_add(&next_case, 1);
		char id[40], invoice[40], json[80], created[32];
		snprintf(id, sizeof id, "cc_01JD8ZK5V3Q4N7M2X9R6%06d", k);
		/* Spread over the invoice index, as billing systems' numbers are. */
		snprintf(invoice, sizeof invoice, "INV-%08u", (unsigned)k * 2654435761u);
		snprintf(json, sizeof json, "{\"number\":\"%s\"}", invoice);
		snprintf(created, sizeof created, "2026-02-01T10:00:00.%03dZ", k % 1000);
		struct case_new n = {0};
		n.c.tenant = "t-ckpt";
		n.c.id = id;
		n.c.status = "pending";
		n.c.service = "collection";
		n.c.debtor_type = "consumer";
		n.c.invoice_number = invoice;
		n.c.invoice_json = json;
		n.c.debtor_json = "{\"name\":\"Kari Nordmann\"}";
		n.c.currency = "NOK";
		n.c.original = n.c.remaining = 124900;
		n.c.created_at = n.c.updated_at = created;
		struct case_create_result res;
		cr_assert_eq(store_case_create(s, &n, &res), STORE_OK, "create %d", k);
	}
	return NULL;
}

static long long file_size(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

/* Cases in the database file itself, without its WAL (immutable=1 reads
 * the file as it is and never looks at the WAL). */
static int cases_in_main_file(void)
{
	char uri[400];
	snprintf(uri, sizeof uri, "file:%s?immutable=1", path);
	sqlite3 *db = NULL;
	int n = -1;
	if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) == SQLITE_OK) {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db, "SELECT count(*) FROM cases", -1, &st, NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return n;
}

Test(checkpoint, the_wal_is_copied_and_starts_over_under_a_steady_stream_of_creates)
{
	pthread_t t[WRITERS];
	for (int i = 0; i < WRITERS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, writer, NULL), 0);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	int total = WRITERS * CREATES_EACH;
	char wal[320];
	snprintf(wal, sizeof wal, "%s-wal", path);
	long long wal_bytes = file_size(wal);
	long long frame = 8192 + 24;
	/* Each commit of this stream adds some 10 frames (the case, its event,
	 * outbox row and index pages), thousands in all. The WAL restarts once
	 * a checkpoint has copied all of it: it never holds much more than the
	 * frames that wake the checkpointer (1000) and what arrives during a
	 * pass: 1,300 to 2,300 frames here. A WAL that never restarted holds
	 * every frame of the stream (29,630 with the checkpointer of before,
	 * which did nothing). 6,000 leaves room for a slow machine. */
	cr_log_info("%d creates: WAL file %lld bytes (%lld frames)", total, wal_bytes, wal_bytes / frame);
	cr_expect_lt(wal_bytes, 6000 * frame, "the WAL grew to %lld frames: it never started over", wal_bytes / frame);
	/* And the cases are in the database file, not only in the WAL: wait for
	 * the last pass (the checkpointer runs on its own thread). */
	int in_file = 0;
	for (int i = 0; i < 100 && in_file < total / 2; i++) {
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
		in_file = cases_in_main_file();
	}
	/* -1: not even the schema is in the file (no checkpoint ever ran). */
	cr_expect_geq(in_file, total / 2, "%d of %d cases were copied into the database file", in_file, total);
}
