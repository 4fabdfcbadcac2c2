/* SPDX-License-Identifier: MIT */
#include "agency/key_check.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/wake.h"

struct check {
	char api_key[AGENCY_KEY_MAX + 2]; /* one byte more: a longer key still reads as too long */
	enum agency_environment env;
	void (*done)(void *ctx, int valid);
	void *ctx;
	struct check *next;
};

struct key_check {
	struct wake w;       /* its lock guards the queue */
	struct check *head, *tail;
	int queued;
	int nthreads;
	pthread_t threads[KEY_CHECK_THREADS];
	struct agency_clients clients[KEY_CHECK_THREADS];
	struct worker {
		struct key_check *kc;
		const struct agency_clients *clients;
	} workers[KEY_CHECK_THREADS];
};

int key_check_once(struct agency_client *ac, const char *api_key)
{
	struct agency_validation v;
	struct agency_result res;
	if (!ac)
		return -1;
	switch (agency_validate(ac, api_key, &v, &res)) {
	case AGENCY_OK:
		return v.is_valid ? 1 : 0;
	case AGENCY_REJECTED: /* 401/403: the agency does not know this key */
		return res.http_status == 401 || res.http_status == 403 ? 0 : -1;
	default:
		return -1;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct key_check *kc = w->kc;
	pthread_mutex_lock(&kc->w.lock);
	for (;;) {
		while (!kc->head && !kc->w.stop)
			pthread_cond_wait(&kc->w.cond, &kc->w.lock);
		struct check *c = kc->head;
		if (!c)
			break; /* stopping with nothing left */
		kc->head = c->next;
		if (!kc->head)
			kc->tail = NULL;
		kc->queued--;
		bool stopping = kc->w.stop;
		pthread_mutex_unlock(&kc->w.lock);
		/* Stopping: what still waits is answered without asking the agency. */
		int valid = stopping ? -1 : key_check_once(agency_clients_pick(w->clients, c->env), c->api_key);
		explicit_bzero(c->api_key, sizeof c->api_key);
		c->done(c->ctx, valid);
		free(c);
		pthread_mutex_lock(&kc->w.lock);
	}
	pthread_mutex_unlock(&kc->w.lock);
	return NULL;
}

struct key_check *key_check_start(const struct agency_options *agency, char *err, size_t errlen)
{
	struct key_check *kc = calloc(1, sizeof *kc);
	if (!kc) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!wake_init(&kc->w)) {
		snprintf(err, errlen, "cannot start the key checker");
		free(kc);
		return NULL;
	}
	for (int i = 0; i < KEY_CHECK_THREADS; i++)
		if (!agency_clients_init(&kc->clients[i], agency, err, errlen))
			goto fail;
	for (int i = 0; i < KEY_CHECK_THREADS; i++) {
		kc->workers[i] = (struct worker){kc, &kc->clients[i]};
		if (pthread_create(&kc->threads[i], NULL, worker_main, &kc->workers[i]) != 0) {
			snprintf(err, errlen, "cannot start a key check thread");
			goto fail;
		}
		kc->nthreads++;
	}
	return kc;
fail:
	key_check_stop(kc);
	return NULL;
}

void key_check_stop(struct key_check *kc)
{
	if (!kc)
		return;
	wake_stop(&kc->w);
	for (int i = 0; i < kc->nthreads; i++)
		pthread_join(kc->threads[i], NULL);
	for (int i = 0; i < KEY_CHECK_THREADS; i++)
		agency_clients_free(&kc->clients[i]);
	wake_destroy(&kc->w);
	free(kc);
}

void key_check_submit(struct key_check *kc, enum agency_environment env, const char *api_key,
		      void (*done)(void *ctx, int valid), void *ctx)
{
	assert(done);
	struct check *c = kc ? calloc(1, sizeof *c) : NULL;
	if (!c) {
		done(ctx, -1);
		return;
	}
	snprintf(c->api_key, sizeof c->api_key, "%s", api_key ? api_key : "");
	c->env = env;
	c->done = done;
	c->ctx = ctx;
	pthread_mutex_lock(&kc->w.lock);
	bool room = kc->queued < KEY_CHECK_QUEUE_MAX && !kc->w.stop;
	if (room) {
		if (kc->tail)
			kc->tail->next = c;
		else
			kc->head = c;
		kc->tail = c;
		kc->queued++;
		wake_one(&kc->w);
	}
	pthread_mutex_unlock(&kc->w.lock);
	if (!room) {
		explicit_bzero(c->api_key, sizeof c->api_key);
		free(c);
		done(ctx, -1);
	}
}
