/* SPDX-License-Identifier: MIT */
/* WAL checkpoints on their own thread and connection.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that pushes the WAL
 * past 1000 pages: that commit then copies the WAL into the database and
 * syncs it, and every create waiting in the group commit waits with it (the
 * p99 of durable creates). Here the writer only notes the WAL's size (its
 * WAL hook) and wakes this thread, which runs a PASSIVE checkpoint: it never
 * blocks the writer or the readers, and a later commit restarts the WAL from
 * its beginning once a checkpoint has copied all of it. Durability is
 * unchanged: a commit is durable when its WAL frames are synced.
 *
 * Under a steady stream of commits a PASSIVE checkpoint never copies all of
 * the WAL: frames arrive while it copies, so the WAL never restarts and
 * grows without bound (1.7 GB after 30 s of creates, each commit appending
 * new blocks that the file system zeroes first). So once a pass has left
 * only a short tail, the checkpointer copies that tail holding the write
 * lock: no frame arrives meanwhile, the WAL is then wholly in the database
 * and the next commit starts it over. A write waits at most for that short
 * copy and one sync of the database file. */
#include "store/store_internal.h"

/* Frames in the WAL that wake the checkpointer (SQLite's own default). */
#define CHECKPOINT_FRAMES 1000
/* The most frames left for the pass under the write lock (4 MB of 8 KiB
 * pages); more, and another pass without the lock goes first. */
#define CHECKPOINT_TAIL_FRAMES 512
#define CHECKPOINT_PASSES 4

/* The writer's WAL hook, called after each commit on the committing thread. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	struct store *s = arg;
	atomic_store(&s->wal_frames, frames);
	if (frames >= CHECKPOINT_FRAMES) {
		pthread_mutex_lock(&s->ckpt.lock);
		s->ckpt_wanted = true;
		wake_one(&s->ckpt);
		pthread_mutex_unlock(&s->ckpt.lock);
	}
	return SQLITE_OK;
}

/* One PASSIVE pass; false on an error or when a reader held it back
 * (SQLITE_BUSY). *frames: the WAL's frames it saw, *left: those it did not
 * copy. */
static bool pass(struct store *s, int *frames, int *left)
{
	int copied = 0;
	*frames = 0;
	int rc = sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, frames, &copied);
	if (rc != SQLITE_OK) {
		if ((rc & 0xff) != SQLITE_BUSY)
			db_fail(s->ckpt_db, rc, "store: checkpoint");
		return false;
	}
	*left = *frames > copied ? *frames - copied : 0;
	return true;
}

static void checkpoint(struct store *s)
{
	for (int i = 0; i < CHECKPOINT_PASSES; i++) {
		int frames, left;
		if (!pass(s, &frames, &left))
			return;
		/* Behind: what the pass left, and what commits added meanwhile. */
		int now = atomic_load(&s->wal_frames);
		int behind = left + (now > frames ? now - frames : 0);
		if (behind == 0)
			return; /* all of it copied: the next commit restarts the WAL */
		if (behind <= CHECKPOINT_TAIL_FRAMES) {
			pthread_mutex_lock(&s->write_lock);
			pass(s, &frames, &left);
			pthread_mutex_unlock(&s->write_lock);
			return;
		}
	}
}

static void *checkpointer_main(void *arg)
{
	struct store *s = arg;
	pthread_mutex_lock(&s->ckpt.lock);
	for (;;) {
		while (!s->ckpt_wanted && !s->ckpt.stop)
			pthread_cond_wait(&s->ckpt.cond, &s->ckpt.lock);
		if (s->ckpt.stop)
			break;
		s->ckpt_wanted = false;
		pthread_mutex_unlock(&s->ckpt.lock);
		checkpoint(s);
		pthread_mutex_lock(&s->ckpt.lock);
	}
	pthread_mutex_unlock(&s->ckpt.lock);
	return NULL;
}

bool store_checkpointer_start(struct store *s, const char *path, char *err, size_t errlen)
{
	int rc = sqlite3_open_v2(path, &s->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		store_set_err(err, errlen, "open %s for checkpoints: %s", path,
			      s->ckpt_db ? sqlite3_errmsg(s->ckpt_db) : sqlite3_errstr(rc));
		sqlite3_close(s->ckpt_db);
		s->ckpt_db = NULL;
		return false;
	}
	sqlite3_extended_result_codes(s->ckpt_db, 1);
	/* A connection opens the WAL at its first read; until then SQLite 3.40's
	 * checkpoint finds no WAL and does nothing (it answers SQLITE_OK with -1
	 * frames, which is how the checkpointer once ran for nothing). */
	rc = sqlite3_exec(s->ckpt_db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		store_set_err(err, errlen, "open %s for checkpoints: %s", path, sqlite3_errmsg(s->ckpt_db));
		goto fail_db_quiet;
	}
	if (!wake_init(&s->ckpt))
		goto fail_db;
	if (pthread_create(&s->ckpt_thread, NULL, checkpointer_main, s) != 0)
		goto fail_wake;
	s->ckpt_running = true;
	/* Replaces SQLite's automatic checkpoint on the writer. */
	sqlite3_wal_hook(s->writer.db, on_wal_commit, s);
	return true;
fail_wake:
	wake_destroy(&s->ckpt);
fail_db:
	store_set_err(err, errlen, "store_open: cannot start the checkpointer thread");
fail_db_quiet:
	sqlite3_close(s->ckpt_db);
	s->ckpt_db = NULL;
	return false;
}

void store_checkpointer_stop(struct store *s)
{
	if (s->ckpt_running) {
		wake_stop(&s->ckpt);
		pthread_join(s->ckpt_thread, NULL);
		wake_destroy(&s->ckpt);
		s->ckpt_running = false;
	}
	if (s->writer.db)
		sqlite3_wal_hook(s->writer.db, NULL, NULL);
	if (s->ckpt_db) {
		sqlite3_close(s->ckpt_db);
		s->ckpt_db = NULL;
	}
}
