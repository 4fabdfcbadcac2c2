/* SPDX-License-Identifier: MIT */
/* Storage faults (issue 5): the fault VFS of tests/fault fails the N-th write
 * or sync of a case create, or reports the disk full, once or from then on,
 * for N = 1, 2, ... until a create runs through without meeting the fault.
 * After each: a create that returned STORE_OK is there after a reopen, one
 * that did not is absent with none of its rows; the same open store goes on
 * (the retry and a fresh create commit); PRAGMA integrity_check is "ok".
 * The crash suite does the faulted create in a child that then dies without
 * closing, and checks what a restart finds. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_internal.h" /* the write lock, to shape a batch */
#include "tests/unit/store_testkit.h"

#define FAULTVFS_NO_CONSTRUCTOR
#include "tests/fault/faultvfs.c"

#define TENANT "t_faults"
#define PRELOAD 20    /* cases in the database before the sweep */
#define SWEEP_MAX 400 /* a sweep that has not ended by then is a failure */

static char dir[256];
static char dbpath[300];
static char logpath[320];
static struct store *s;

static struct store *open_store(void)
{
	char err[256] = "";
	struct store *st = store_open(dbpath, &(struct store_options){.readers = 2}, err, sizeof err);
	cr_assert_not_null(st, "store_open: %s", err);
	return st;
}

static void teardown(void)
{
	faultvfs_disarm();
	store_close(s);
	s = NULL;
	unlink(logpath);
	testdb_remove(dir, dbpath);
}

/* ---- cases ---- */

/* A case with its own strings; n points into them, so never copy one. */
struct tcase {
	char id[40], invoice[40], created[32], key[48], fp[65], body[96], invoice_json[96];
	struct case_new n;
};

/* The case named tag: the same tag gives the same case, id and key (a retry). */
static void tcase_init(struct tcase *t, const char *tag)
{
	memset(t, 0, sizeof *t);
	unsigned h = 5381;
	for (const char *p = tag; *p; p++)
		h = h * 33 + (unsigned char)*p;
	snprintf(t->id, sizeof t->id, "cc_01JD8ZK5V3Q4N7%010u", h); /* the whole hash: no two tags of a sweep collide */
	snprintf(t->invoice, sizeof t->invoice, "INV-%s", tag);
	snprintf(t->created, sizeof t->created, "2026-02-20T10:00:00.%03uZ", h % 1000);
	snprintf(t->key, sizeof t->key, "key-%s", tag);
	snprintf(t->fp, sizeof t->fp, "%064u", h);
	snprintf(t->body, sizeof t->body, "{\"id\":\"%s\"}", t->id);
	snprintf(t->invoice_json, sizeof t->invoice_json, "{\"number\":\"%s\"}", t->invoice);
	struct case_new *n = &t->n;
	n->c.tenant = TENANT;
	n->c.id = t->id;
	n->c.status = "pending";
	n->c.service = "collection";
	n->c.debtor_type = "consumer";
	n->c.your_reference = "cus_551";
	n->c.invoice_number = t->invoice;
	n->c.invoice_json = t->invoice_json;
	n->c.debtor_json = "{\"name\":\"Kari Nordmann\"}";
	n->c.currency = "NOK";
	n->c.original = 124900;
	n->c.remaining = 124900;
	n->c.created_at = t->created;
	n->c.updated_at = t->created;
	n->debtor_name = "Kari Nordmann";
	n->idem.key = t->key;
	n->idem.fingerprint = t->fp;
	n->idem.status = 201;
	n->idem.body = t->body;
	n->idem.body_len = strlen(t->body);
}

static enum store_result create(struct store *st, const char *tag)
{
	struct tcase t;
	tcase_init(&t, tag);
	struct case_create_result res;
	enum store_result r = store_case_create(st, &t.n, &res);
	free(res.replay.body); /* STORE_REPLAY hands over a copy */
	return r;
}

static int found(void *ctx, const struct case_row *c)
{
	(void)c;
	*(bool *)ctx = true;
	return 0;
}

/* Whether the store shows the case tag (asserting the read itself works). */
static bool visible(struct store *st, const char *tag)
{
	struct tcase t;
	tcase_init(&t, tag);
	bool seen = false;
	enum store_result r = store_case_get(st, TENANT, t.id, found, NULL, &seen);
	cr_assert(r == STORE_OK || r == STORE_NOT_FOUND, "get %s: %d", tag, r);
	cr_assert_eq(seen, r == STORE_OK);
	return seen;
}

/* ---- the database, read directly ---- */

static int64_t raw_int(const char *sql, const char *arg)
{
	sqlite3 *db = NULL;
	cr_assert_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* integrity_check and foreign_key_check on the file, and no case without all
 * of its rows, nor rows without their case. Counts the "ok"s. */
static void check_database(int *integrity_ok)
{
	sqlite3 *db = NULL;
	cr_assert_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "foreign_key_check found a row without its case");
	sqlite3_finalize(st);
	sqlite3_close(db);
	(*integrity_ok)++;
	cr_assert_eq(raw_int("SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM outbox o"
			     " WHERE o.case_id = c.id AND o.kind = 'create')", NULL), 0,
		     "a case without its outbox row");
	cr_assert_eq(raw_int("SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM"
			     " case_events e WHERE e.case_id = c.id AND e.seq = 1)", NULL), 0,
		     "a case without its first event");
	/* Every case of the test was created with a key, and only cases have keys. */
	cr_assert_eq(raw_int("SELECT (SELECT count(*) FROM cases) - (SELECT count(*) FROM idempotency)",
			     NULL), 0, "cases and idempotency records differ in number");
	cr_assert_eq(raw_int("SELECT count(*) FROM idempotency i WHERE NOT EXISTS (SELECT 1 FROM cases c"
			     " WHERE c.tenant = i.tenant AND 'key-' || substr(c.invoice_number, 5) = i.key)",
			     NULL), 0, "an idempotency record without its case");
}

/* Whether the file holds the case tag: its case row, counted directly. */
static bool stored(const char *tag)
{
	struct tcase t;
	tcase_init(&t, tag);
	return raw_int("SELECT count(*) FROM cases WHERE id = ?1", t.id) == 1;
}

/* ---- the sweeps ---- */

struct figures {
	int tried;        /* N values tried, the last one (no fault met) included */
	int ok;           /* STORE_OK although the fault fired (after the commit point) */
	int refused;      /* not STORE_OK */
	int appeared;     /* crash suite: refused, yet there after the restart */
	int integrity_ok; /* integrity checks passed */
	char files[128];  /* the file each first failure hit, in order, run-length */
};

static void note_file(struct figures *f, const char *file)
{
	size_t len = strlen(f->files);
	const char *last = len ? strrchr(f->files, ' ') : NULL;
	last = last ? last + 1 : f->files;
	if (len && strncmp(last, file, strlen(file)) == 0)
		return;
	if (len + strlen(file) + 2 < sizeof f->files)
		snprintf(f->files + len, sizeof f->files - len, "%s%s", len ? " " : "", file);
}

static void preload(void)
{
	for (int i = 0; i < PRELOAD; i++) {
		char tag[32];
		snprintf(tag, sizeof tag, "pre-%d", i);
		cr_assert_eq(create(s, tag), STORE_OK);
	}
}

/* Runs fn with fd 2 going to logpath (the store's error lines), so that the
 * test output stays readable; returns what it logged in buf. */
static enum store_result create_logged(const char *tag, char *buf, size_t cap)
{
	int fd = open(logpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	int saved = dup(2);
	dup2(fd, 2);
	enum store_result r = create(s, tag);
	dup2(saved, 2);
	close(saved);
	ssize_t n = pread(fd, buf, cap - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return r;
}

/* A checkpoint after every commit (the WAL's pages copied into the database
 * file and synced there), so that the faults also meet the database file,
 * not only the WAL: the store leaves SQLite's default of 1000 pages, which a
 * sweep of small creates never reaches. Without reaching into the store: an
 * auto-extension notes every connection store_open opens (SQLite sets the
 * default after auto-extensions run, so it cannot set it there), then each
 * gets wal_autocheckpoint 1 (readers never commit; it does nothing there). */
static sqlite3 *opened[16];
static int nopened;

static int note_connection(sqlite3 *db, const char **err, const sqlite3_api_routines *api)
{
	(void)err;
	(void)api;
	if (nopened < (int)(sizeof opened / sizeof opened[0]))
		opened[nopened++] = db;
	return SQLITE_OK;
}

static struct store *open_store_for(bool checkpoint_each)
{
	nopened = 0;
	if (checkpoint_each)
		cr_assert_eq(sqlite3_auto_extension((void (*)(void))note_connection), SQLITE_OK);
	struct store *st = open_store();
	sqlite3_reset_auto_extension();
	for (int i = 0; i < nopened; i++)
		cr_assert_eq(sqlite3_wal_autocheckpoint(opened[i], 1), SQLITE_OK);
	cr_assert(!checkpoint_each || nopened >= 2, "no connection noted");
	return st;
}

static void sweep(enum faultvfs_kind kind, bool persistent, bool checkpoint_each)
{
	const char *mode = persistent ? "persist" : "once";
	struct figures f = {0};
	cr_assert_eq(faultvfs_register(), SQLITE_OK);
	s = open_store_for(checkpoint_each);
	preload();
	for (int n = 1;; n++) {
		cr_assert_leq(n, SWEEP_MAX, "the create still meets the fault at N = %d", n);
		char tag[48], fresh[64], log[8192];
		snprintf(tag, sizeof tag, "%s-%s-%s%d", faultvfs_kind_name(kind), mode,
			 checkpoint_each ? "ck-" : "", n);
		snprintf(fresh, sizeof fresh, "%s-after", tag);
		f.tried++;

		faultvfs_arm(kind, n, persistent);
		enum store_result r = create_logged(tag, log, sizeof log);
		long fired = faultvfs_fired();
		const char *file = faultvfs_first_file();
		faultvfs_disarm();

		if (fired == 0) {
			cr_assert_eq(r, STORE_OK, "%s: no fault met, yet %d", tag, r);
		} else {
			note_file(&f, file);
			if (r == STORE_OK) {
				f.ok++;
			} else {
				f.refused++;
				cr_assert_eq(r, STORE_HARD_ERROR, "%s: %d", tag, r);
				cr_assert_not_null(strstr(log, "\"level\":\"error\""), "%s: not logged: %s", tag, log);
			}
		}
		/* The same open store, right after the fault: it shows the case iff
		 * it said OK, the retry (same key) replays or now commits, and a
		 * fresh create commits. */
		cr_assert_eq(visible(s, tag), r == STORE_OK, "%s: result %d", tag, r);
		cr_assert_eq(create(s, tag), r == STORE_OK ? STORE_REPLAY : STORE_OK, "%s: retry", tag);
		cr_assert_eq(create(s, fresh), STORE_OK, "%s: a fresh create after the fault", tag);
		cr_assert(store_writable(s));

		/* Reopened without the fault: both there, every row in place. */
		store_close(s);
		s = NULL;
		check_database(&f.integrity_ok);
		cr_assert(stored(tag) && stored(fresh), "%s", tag);
		s = open_store_for(checkpoint_each);
		cr_assert(visible(s, tag) && visible(s, fresh), "%s", tag);
		if (fired == 0)
			break;
	}
	printf("FAULTS kind=%s mode=%s%s tried=%d ok_after_fault=%d refused=%d integrity_ok=%d"
	       " files=%s\n", faultvfs_kind_name(kind), mode, checkpoint_each ? "+checkpoint" : "",
	       f.tried, f.ok, f.refused, f.integrity_ok, f.files);
	fflush(stdout);
	cr_assert_gt(f.refused, 0, "the sweep never made a create fail");
}

static void setup(void)
{
	testdb_make(dir, sizeof dir, dbpath, sizeof dbpath, "inkasso-faults");
	snprintf(logpath, sizeof logpath, "%s/stderr.txt", dir);
}

TestSuite(faults, .init = setup, .fini = teardown, .timeout = 120);

Test(faults, write_once) { sweep(FAULTVFS_WRITE, false, false); }
Test(faults, write_persistent) { sweep(FAULTVFS_WRITE, true, false); }
Test(faults, sync_once) { sweep(FAULTVFS_SYNC, false, false); }
Test(faults, sync_persistent) { sweep(FAULTVFS_SYNC, true, false); }
Test(faults, full_once) { sweep(FAULTVFS_FULL, false, false); }
Test(faults, full_persistent) { sweep(FAULTVFS_FULL, true, false); }
Test(faults, write_once_checkpointing) { sweep(FAULTVFS_WRITE, false, true); }
Test(faults, write_persistent_checkpointing) { sweep(FAULTVFS_WRITE, true, true); }
Test(faults, sync_once_checkpointing) { sweep(FAULTVFS_SYNC, false, true); }
Test(faults, sync_persistent_checkpointing) { sweep(FAULTVFS_SYNC, true, true); }
Test(faults, full_once_checkpointing) { sweep(FAULTVFS_FULL, false, true); }
Test(faults, full_persistent_checkpointing) { sweep(FAULTVFS_FULL, true, true); }

/* ---- the crash sweep ---- */

/* In a child: open the store, do the faulted create, and die without closing
 * anything (as kill -9 would). Exit status: the store result + 10, or 100 +
 * that when the fault fired. */
static int crashed_create(enum faultvfs_kind kind, int n, const char *tag, bool checkpoint_each)
{
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 2);
		char err[256];
		nopened = 0;
		if (checkpoint_each)
			sqlite3_auto_extension((void (*)(void))note_connection);
		struct store *c = store_open(dbpath, &(struct store_options){.readers = 1}, err, sizeof err);
		if (!c)
			_exit(1);
		for (int i = 0; i < nopened; i++)
			sqlite3_wal_autocheckpoint(opened[i], 1);
		faultvfs_arm(kind, n, false);
		enum store_result r = create(c, tag);
		int fired = faultvfs_fired() > 0;
		_exit(10 + (int)r + (fired ? 100 : 0));
	}
	int status = 0;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) >= 10, "child status %d", status);
	return WEXITSTATUS(status);
}

static void crash_sweep(enum faultvfs_kind kind, bool checkpoint_each)
{
	struct figures f = {0};
	cr_assert_eq(faultvfs_register(), SQLITE_OK);
	s = open_store();
	preload();
	store_close(s);
	s = NULL;
	for (int n = 1;; n++) {
		cr_assert_leq(n, SWEEP_MAX, "the create still meets the fault at N = %d", n);
		char tag[48];
		snprintf(tag, sizeof tag, "crash-%s-%s%d", faultvfs_kind_name(kind),
			 checkpoint_each ? "ck-" : "", n);
		f.tried++;
		int code = crashed_create(kind, n, tag, checkpoint_each);
		bool fired = code >= 100;
		enum store_result r = (enum store_result)((fired ? code - 100 : code) - 10);

		/* The restart: recovery, then every property of a clean database. */
		check_database(&f.integrity_ok);
		s = open_store();
		bool there = visible(s, tag);
		cr_assert_eq(there, stored(tag));
		if (r == STORE_OK) {
			f.ok += fired;
			cr_assert(there, "%s: STORE_OK, yet gone after the crash", tag);
		} else {
			f.refused++;
			cr_assert_eq(r, STORE_HARD_ERROR, "%s: %d", tag, r);
			/* The commit reached the file although its sync failed: allowed
			 * only because the retry with the same key replays the answer. */
			f.appeared += there;
		}
		cr_assert_eq(create(s, tag), there ? STORE_REPLAY : STORE_OK, "%s: retry", tag);
		store_close(s);
		s = NULL;
		if (!fired) {
			cr_assert_eq(r, STORE_OK);
			break;
		}
	}
	printf("FAULTS kind=%s mode=once-then-crash%s tried=%d ok_after_fault=%d refused=%d"
	       " refused_but_stored=%d integrity_ok=%d\n", faultvfs_kind_name(kind),
	       checkpoint_each ? "+checkpoint" : "", f.tried, f.ok, f.refused, f.appeared,
	       f.integrity_ok);
	fflush(stdout);
	cr_assert_gt(f.refused, 0);
}

TestSuite(crash, .init = setup, .fini = teardown, .timeout = 120);

Test(crash, write_then_kill) { crash_sweep(FAULTVFS_WRITE, false); }
Test(crash, sync_then_kill) { crash_sweep(FAULTVFS_SYNC, false); }
Test(crash, full_then_kill) { crash_sweep(FAULTVFS_FULL, false); }
Test(crash, write_then_kill_checkpointing) { crash_sweep(FAULTVFS_WRITE, true); }
Test(crash, sync_then_kill_checkpointing) { crash_sweep(FAULTVFS_SYNC, true); }
Test(crash, full_then_kill_checkpointing) { crash_sweep(FAULTVFS_FULL, true); }

/* ---- the group commit ---- */

/* jobs[0] commits alone; its done() arms a sync fault, so the transaction
 * holding all the others (queued meanwhile) fails at its WAL sync. */
#define GROUP 8
static struct tcase group[GROUP];
static struct case_create_result group_res[GROUP];
static struct queued_create group_jobs[GROUP];
static int group_done;
static pthread_mutex_t group_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t group_cond = PTHREAD_COND_INITIALIZER;

static void group_job_done(struct queued_create *q)
{
	if (q->ctx) /* jobs[0]: the next COMMIT's sync fails */
		faultvfs_arm(FAULTVFS_SYNC, 1, false);
	pthread_mutex_lock(&group_lock);
	group_done++;
	pthread_cond_signal(&group_cond);
	pthread_mutex_unlock(&group_lock);
}

Test(faults, failed_group_commit_fails_every_create_it_held)
{
	cr_assert_eq(faultvfs_register(), SQLITE_OK);
	s = open_store();
	char tag[16];
	for (int i = 0; i < GROUP; i++) {
		snprintf(tag, sizeof tag, "g%d", i);
		tcase_init(&group[i], tag);
		group_jobs[i] = (struct queued_create){
			.in = &group[i].n, .out = &group_res[i], .then = group_job_done, .ctx = i == 0 ? s : NULL};
	}
	/* With the write lock held here, the committer takes jobs[0] and waits
	 * while the others queue up behind it: they form the next batch. */
	queue_as_next_batch(s, group_jobs, GROUP);
	pthread_mutex_lock(&group_lock);
	while (group_done < GROUP)
		pthread_cond_wait(&group_cond, &group_lock);
	pthread_mutex_unlock(&group_lock);
	faultvfs_disarm();
	int failed = 0;
	for (int i = 1; i < GROUP; i++) {
		cr_assert(group_jobs[i].result == STORE_OK || group_jobs[i].result == STORE_HARD_ERROR,
			  "g%d: %d", i, group_jobs[i].result);
		failed += group_jobs[i].result == STORE_HARD_ERROR;
	}
	cr_assert_eq(group_jobs[0].result, STORE_OK);
	cr_assert_eq(failed, GROUP - 1, "one transaction held them all, and its COMMIT failed");
	faultvfs_arm(FAULTVFS_SYNC, 1, true);
	cr_assert_not(store_writable(s), "readyz: a COMMIT failed and the disk still fails");
	faultvfs_disarm();
	cr_assert(store_writable(s), "readyz: the disk works again");
	store_close(s);
	s = open_store();
	int integrity_ok = 0;
	check_database(&integrity_ok);
	for (int i = 0; i < GROUP; i++) {
		snprintf(tag, sizeof tag, "g%d", i);
		cr_assert_eq(stored(tag), group_jobs[i].result == STORE_OK, "g%d: stored iff acknowledged", i);
	}
	cr_assert_eq(create(s, "after-group"), STORE_OK, "the store goes on");
}
