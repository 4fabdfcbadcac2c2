/* SPDX-License-Identifier: MIT */
/* Group commit: one thread writes the queued case creates, many per
 * transaction, and reports each only after the COMMIT that contains it.
 *
 * With synchronous=FULL every COMMIT syncs the WAL. Creates that arrive while
 * one COMMIT is syncing wait in the queue and share the next one, so a burst
 * of N creates costs about N / batch syncs instead of N, and no HTTP thread
 * ever waits on fsync (the handler suspends its connection instead). Nothing
 * is answered early: a create's result is published only after SQLite
 * answered the COMMIT. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

void store_case_create_async(struct store *s, const struct case_new *in, struct case_create_result *out,
			     void (*done)(void *ctx, enum store_result result), void *ctx)
{
	assert(s && in && out && done);
	struct create_job *job = malloc(sizeof *job);
	if (!job) {
		db_fail_msg("store: create", "out of memory");
		done(ctx, STORE_HARD_ERROR);
		return;
	}
	*job = (struct create_job){.in = in, .out = out, .result = STORE_HARD_ERROR, .done = done, .ctx = ctx};
	pthread_mutex_lock(&s->queue.lock);
	if (s->queue_tail)
		s->queue_tail->next = job;
	else
		s->queue_head = job;
	s->queue_tail = job;
	wake_one(&s->queue);
	pthread_mutex_unlock(&s->queue.lock);
}

/* Takes up to commit_batch jobs off the queue, waiting for the first.
 * NULL when stopping with nothing left to write. */
static struct create_job *take_batch(struct store *s)
{
	pthread_mutex_lock(&s->queue.lock);
	while (!s->queue_head && !s->queue.stop)
		pthread_cond_wait(&s->queue.cond, &s->queue.lock);
	struct create_job *first = s->queue_head, *last = first;
	for (int n = 1; last && n < s->commit_batch && last->next; n++)
		last = last->next;
	if (last) {
		s->queue_head = last->next;
		if (!s->queue_head)
			s->queue_tail = NULL;
		last->next = NULL;
	}
	pthread_mutex_unlock(&s->queue.lock);
	return first;
}

/* Forgets what an attempt at a transaction computed for a job. */
static void clear_answer(struct create_job *j)
{
	if (j->result == STORE_REPLAY)
		free(j->out->replay.body);
	memset(j->out, 0, sizeof *j->out);
	j->result = STORE_HARD_ERROR;
}

/* One transaction for the jobs of batch not refused yet. Returns the index
 * of a job that failed on its own, with the transaction rolled back and its
 * result set, so that the others can go again without it; -1 when the
 * transaction committed or failed as a whole (every result set).
 *
 * There is no savepoint per create: it would copy every page a create
 * touches into a statement journal, which costs more than the rest of the
 * create. A create writes nothing unless it returns STORE_OK, and one that
 * fails half-way sends the whole transaction back to run without it. */
static int try_batch(struct store *s, struct create_job *batch, const bool *refused)
{
	struct db_conn *w;
	enum store_result r = store_write_begin(s, &w);
	bool lost = r != STORE_OK;
	int culprit = -1, i = 0;
	for (struct create_job *j = batch; !lost && j; j = j->next, i++) {
		if (refused[i])
			continue;
		enum store_result jr = store_case_create_in_tx(w, j->in, j->out);
		if (jr < 0) {
			r = jr;
			/* An I/O error or a full disk may have rolled it all back.
			 * A serialization failure or deadlock is not this create's
			 * fault: the whole batch goes again (write_batch). */
			lost = !db_in_tx(w) || w->retry;
			if (!lost)
				culprit = i;
			break;
		}
		j->result = jr;
	}
	if (!lost && culprit < 0) {
		r = db_commit(w);
		lost = r != STORE_OK;
	}
	store_write_end(s); /* rolls back whatever did not commit */
	if (lost || culprit >= 0) {
		i = 0;
		for (struct create_job *j = batch; j; j = j->next, i++) {
			if (refused[i])
				continue;
			clear_answer(j);
			if (lost || i == culprit)
				j->result = r < 0 ? r : STORE_HARD_ERROR;
		}
	}
	return lost ? -1 : culprit;
}

/* The result of the batch's first create not refused: after a transaction
 * that failed as a whole, every one's. */
static enum store_result first_result(const struct create_job *batch, const bool *refused)
{
	int i = 0;
	for (const struct create_job *j = batch; j; j = j->next, i++)
		if (!refused[i])
			return j->result;
	return STORE_OK;
}

static void write_batch(struct store *s, struct create_job *batch)
{
	for (struct create_job *j = batch; j; j = j->next)
		j->result = STORE_HARD_ERROR; /* nothing to free yet */
	bool refused[STORE_COMMIT_BATCH_MAX] = {false};
	int culprit, attempt = 0;
	/* Each round refuses one more create or counts one more attempt after
	 * a conflict, so this ends. */
	for (;;) {
		culprit = try_batch(s, batch, refused);
		if (culprit >= 0)
			refused[culprit] = true;
		else if (!store_write_again(first_result(batch, refused), &attempt))
			break;
	}
}

static void *committer_main(void *arg)
{
	struct store *s = arg;
	struct create_job *batch;
	while ((batch = take_batch(s))) {
		write_batch(s, batch);
		/* After the write lock is released; done() may free in and out. */
		for (struct create_job *j = batch, *next; j; j = next) {
			next = j->next;
			j->done(j->ctx, j->result);
			free(j);
		}
	}
	return NULL;
}

bool store_committer_start(struct store *s, int batch, char *err, size_t errlen)
{
	if (!wake_init(&s->queue))
		goto fail;
	s->commit_batch = batch;
	if (pthread_create(&s->committer, NULL, committer_main, s) != 0) {
		wake_destroy(&s->queue);
		goto fail;
	}
	s->committer_running = true;
	return true;
fail:
	store_set_err(err, errlen, "store_open: cannot start the committer thread");
	return false;
}

void store_committer_stop(struct store *s)
{
	if (!s->committer_running)
		return;
	wake_stop(&s->queue); /* the thread still writes what is queued */
	pthread_join(s->committer, NULL);
	wake_destroy(&s->queue);
	s->committer_running = false;
}

/* ---- the blocking form ---- */

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	enum store_result result;
};

static void wake_waiter(void *ctx, enum store_result result)
{
	struct waiter *w = ctx;
	pthread_mutex_lock(&w->lock);
	w->result = result;
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

enum store_result store_case_create(struct store *s, const struct case_new *in,
				    struct case_create_result *out)
{
	struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, STORE_HARD_ERROR};
	store_case_create_async(s, in, out, wake_waiter, &w);
	pthread_mutex_lock(&w.lock);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
	return w.result;
}
