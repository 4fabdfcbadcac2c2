/* SPDX-License-Identifier: MIT */
/* Shared by the store's unit tests: a temporary database and its removal,
 * and holding the committer so that queued creates form one batch. */
#ifndef INKASSO_STORE_TESTKIT_H
#define INKASSO_STORE_TESTKIT_H
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/store_internal.h"

/* The lease of the tests' outbox claims: longer than any clock they set,
 * so that only a test about leases sees one run out. */
#ifndef TEST_LEASE_MS
#define TEST_LEASE_MS (INT64_C(1) << 50)
#endif

/* A new directory under $TMPDIR (or /tmp) named prefix-XXXXXX, and the path
 * of test.db inside it. */
static inline void testdb_make(char *dir, size_t dirlen, char *dbpath, size_t dblen, const char *prefix)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, dirlen, "%s/%s-XXXXXX", tmp && tmp[0] ? tmp : "/tmp", prefix);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(dbpath, dblen, "%s/test.db", dir);
}

/* Removes the database with its -wal, -shm and -journal, then the directory. */
static inline void testdb_remove(const char *dir, const char *dbpath)
{
	const char *suffix[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		char p[512];
		snprintf(p, sizeof p, "%s%s", dbpath, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
}

/* A create queued by queue_as_next_batch, and what it was answered. */
struct queued_create {
	const struct case_new *in;
	struct case_create_result *out;
	enum store_result result;
	void (*then)(struct queued_create *q); /* on the committer thread, after result is set */
	void *ctx;
};

static inline void queued_done(void *ctx, enum store_result result)
{
	struct queued_create *q = ctx;
	q->result = result;
	if (q->then)
		q->then(q);
}

/* Queues q[0] while holding the write lock, waits until the committer has
 * taken it (it then waits for the lock), queues the others and lets go:
 * q[1..n-1] form the next batch together. */
static inline void queue_as_next_batch(struct store *s, struct queued_create *q, int n)
{
	pthread_mutex_lock(&s->write_lock);
	store_case_create_async(s, q[0].in, q[0].out, queued_done, &q[0]);
	for (int spins = 0; spins < 5000; spins++) {
		pthread_mutex_lock(&s->queue.lock);
		bool taken = s->queue_head == NULL;
		pthread_mutex_unlock(&s->queue.lock);
		if (taken)
			break;
		usleep(1000);
	}
	for (int i = 1; i < n; i++)
		store_case_create_async(s, q[i].in, q[i].out, queued_done, &q[i]);
	pthread_mutex_unlock(&s->write_lock);
}

#endif
