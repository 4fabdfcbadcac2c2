/* SPDX-License-Identifier: MIT */
/* A mutex, a condition variable and a stop flag: what every background
 * thread of the service (the committer, the checkpointer, the sync, the key
 * checker, the request-head watchdog) waits on, and what stops it. */
#ifndef INKASSO_WAKE_H
#define INKASSO_WAKE_H
#include <pthread.h>
#include <stdbool.h>

struct wake {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop; /* under lock */
};

/* Initialises w (stop false); false when the system refuses. */
bool wake_init(struct wake *w);
/* Releases w; no thread may wait on it. */
void wake_destroy(struct wake *w);
/* Sets stop under the lock and wakes every waiter. */
void wake_stop(struct wake *w);
/* Wakes one waiter (call with the lock held, after changing what it waits for). */
static inline void wake_one(struct wake *w) { pthread_cond_signal(&w->cond); }

#endif
