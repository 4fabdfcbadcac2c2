/* SPDX-License-Identifier: MIT */
#include "webhooks/dispatch.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "lib/dates.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/wake.h"
#include "webhooks/send.h"
#include "webhooks/sign.h"

#define WORKERS_MAX 32
#define IDLE_POLL_MS 100          /* how long a worker naps when nothing is due */
#define ERROR_NAP_MS 1000         /* and after the store failed */
#define PRUNE_EVERY_MS (600 * 1000)
#define PRUNE_BATCH 1000

struct webhooks {
	struct store *st;
	struct webhook_options opt;
	struct wake wake;             /* stop, and the naps */
	int nworkers;
	pthread_t threads[WORKERS_MAX];
	struct webhook_sender *senders[WORKERS_MAX];
	struct worker_arg {
		struct webhooks *w;
		int index;
	} args[WORKERS_MAX];
};

/* Sleeps ms, or less when stopped; true when stopped. */
static bool nap(struct webhooks *w, int ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->wake.lock);
	if (!w->wake.stop)
		pthread_cond_timedwait(&w->wake.cond, &w->wake.lock, &until);
	bool stop = w->wake.stop;
	pthread_mutex_unlock(&w->wake.lock);
	return stop;
}

static bool stopped(struct webhooks *w)
{
	pthread_mutex_lock(&w->wake.lock);
	bool stop = w->wake.stop;
	pthread_mutex_unlock(&w->wake.lock);
	return stop;
}

bool webhook_schedule_parse(const char *text, struct webhook_options *o)
{
	int n = 0;
	const char *p = text;
	while (p && *p) {
		char *end;
		long long v = strtoll(p, &end, 10);
		int64_t unit = 0;
		if (end == p || v < 0)
			return false;
		if (!strncmp(end, "ms", 2)) {
			unit = 1;
			end += 2;
		} else {
			unit = *end == 's'   ? 1000
			       : *end == 'm' ? 60000
			       : *end == 'h' ? 3600000
			       : *end == 'd' ? 86400000
					     : 0;
			end += unit != 0;
		}
		if (!unit || v > 30LL * 86400000 / unit || n == WEBHOOK_SCHEDULE_MAX || (*end && *end != ','))
			return false;
		o->schedule_ms[n++] = v * unit;
		p = *end ? end + 1 : NULL;
		if (p && !*p)
			return false; /* a trailing comma */
	}
	if (n == 0)
		return false;
	o->nschedule = n;
	return true;
}

int64_t webhook_next_attempt(const struct webhook_options *o, int attempt, int64_t now_ms_, int64_t retry_after_s,
			     double r)
{
	if (attempt < 1 || attempt > o->nschedule)
		return -1;
	int64_t wait = o->schedule_ms[attempt - 1];
	wait += (int64_t)((double)wait * 0.2 * (r - 0.5)); /* ±10% */
	if (retry_after_s >= 0) {
		int64_t floor = retry_after_s > WEBHOOK_RETRY_AFTER_CAP_MS / 1000 ? WEBHOOK_RETRY_AFTER_CAP_MS
										 : retry_after_s * 1000;
		if (wait < floor)
			wait = floor;
	}
	return now_ms_ + wait;
}

/* A uniform double in [0, 1) from getrandom(2), 0.5 without it. */
static double jitter(void)
{
	uint32_t v;
	return getrandom(&v, sizeof v, 0) == (ssize_t)sizeof v ? (double)v / 4294967296.0 : 0.5;
}

/* The webhook-signature header: the current secret's signature, and the
 * previous one's while it still signs (a rotation). */
static bool signatures(const struct webhook_job *j, int64_t ts, char *out, size_t cap)
{
	char one[WEBHOOK_SIGNATURE_LEN], two[WEBHOOK_SIGNATURE_LEN];
	if (!webhook_sign(j->secret, j->event_id, ts, j->body, j->body_len, one, sizeof one))
		return false;
	if (!j->previous_secret[0]) {
		snprintf(out, cap, "%s", one);
		return true;
	}
	if (!webhook_sign(j->previous_secret, j->event_id, ts, j->body, j->body_len, two, sizeof two))
		return false;
	snprintf(out, cap, "%s %s", one, two);
	return true;
}

/* One attempt of a claimed delivery, and its record. */
static void attempt(struct webhooks *w, struct webhook_sender *sender, struct webhook_job *j)
{
	int64_t start = dates_now_ms();
	char header[2 * WEBHOOK_SIGNATURE_LEN + 2];
	struct webhook_send_result res = {.retry_after_s = -1};
	if (signatures(j, start / 1000, header, sizeof header)) {
		webhook_send(sender, j->url, j->event_id, start / 1000, header, j->body, j->body_len, &res);
	} else {
		snprintf(res.error, sizeof res.error, "the endpoint's secret cannot sign");
	}
	/* Rounded up: a Retry-After floor counted from a truncated end could
	 * fall a fraction of a millisecond before the receiver's own second. */
	int64_t end = dates_now_ms() + 1;
	struct webhook_attempt_end e = {
		.status_code = res.status_code,
		.duration_ms = res.duration_ms ? res.duration_ms : end - start,
		.now_ms = end,
		.disable_after_ms = w->opt.disable_after_ms,
	};
	char why[200];
	if (res.status_code >= 200 && res.status_code <= 299) {
		e.outcome = WEBHOOK_DELIVERED;
	} else if (res.status_code == 410) {
		e.outcome = WEBHOOK_GONE;
		e.error = "410 Gone: the endpoint is disabled";
	} else {
		if (res.status_code)
			snprintf(why, sizeof why, "HTTP %d", res.status_code);
		else
			snprintf(why, sizeof why, "%s", res.error[0] ? res.error : "no answer");
		e.error = why;
		e.next_attempt_ms = webhook_next_attempt(&w->opt, j->attempt, end, res.retry_after_s, jitter());
		e.outcome = e.next_attempt_ms < 0 ? WEBHOOK_GIVE_UP : WEBHOOK_RETRY;
	}
	static const enum metrics_webhook_outcome counted[] = {
		[WEBHOOK_DELIVERED] = METRICS_WEBHOOK_DELIVERED, [WEBHOOK_RETRY] = METRICS_WEBHOOK_RETRIED,
		[WEBHOOK_GIVE_UP] = METRICS_WEBHOOK_FAILED,       [WEBHOOK_GONE] = METRICS_WEBHOOK_GONE,
	};
	metrics_webhook_attempt(counted[e.outcome]);
	bool disabled = false;
	enum store_result r = store_webhook_finish(w->st, j, &e, &disabled);
	char attempt_no[16], code[16];
	snprintf(attempt_no, sizeof attempt_no, "%d", j->attempt);
	snprintf(code, sizeof code, "%d", res.status_code);
	/* Never the URL (it may hold a token) nor the answer's body. */
	log_write(e.outcome == WEBHOOK_DELIVERED ? LOG_DEBUG : LOG_INFO, "webhook attempt", "endpoint", j->endpoint_id,
		  "event", j->event_id, "attempt", attempt_no, "status", code, "error", e.error ? e.error : "", NULL);
	if (disabled)
		log_write(LOG_WARN, "webhook endpoint disabled", "endpoint", j->endpoint_id, "reason",
			  e.outcome == WEBHOOK_GONE ? "gone" : "failing", NULL);
	if (r < 0)
		log_write(LOG_ERROR, "webhook attempt not recorded; it is sent again", "endpoint", j->endpoint_id,
			  "event", j->event_id, NULL);
}

/* Deletes what is past its retention, a batch at a time. */
static void prune(struct webhooks *w)
{
	char cutoff[DATES_TS_LEN], idem[DATES_TS_LEN], today[DATES_LEN], day[DATES_LEN];
	dates_today(today);
	if (!dates_add_days(today, -w->opt.retention_days, day))
		return;
	snprintf(cutoff, sizeof cutoff, "%sT00:00:00.000Z", day);
	if (!dates_add_days(today, -w->opt.idempotency_days, day))
		return;
	snprintf(idem, sizeof idem, "%sT00:00:00.000Z", day);
	int64_t n = PRUNE_BATCH;
	for (int rounds = 0; n == PRUNE_BATCH && rounds < 100 && !stopped(w); rounds++)
		if (store_events_prune(w->st, cutoff, idem, PRUNE_BATCH, &n) != STORE_OK)
			break;
}

static void *worker(void *arg)
{
	struct worker_arg *a = arg;
	struct webhooks *w = a->w;
	int64_t next_prune = dates_now_ms() + 5000; /* shortly after the start, then every 10 minutes */
	while (!stopped(w)) {
		if (a->index == 0 && dates_now_ms() >= next_prune) {
			prune(w);
			next_prune = dates_now_ms() + PRUNE_EVERY_MS;
		}
		struct webhook_job j;
		/* The lease: one attempt, bounded by its timeout, and the
		 * store's writes around it. */
		int64_t lease_ms = (int64_t)w->opt.timeout_ms + 10000;
		enum store_result r = store_webhook_claim(w->st, dates_now_ms(), lease_ms, &j);
		if (r == STORE_OK) {
			attempt(w, w->senders[a->index], &j);
			store_webhook_job_free(&j);
			continue;
		}
		if (nap(w, r == STORE_NOT_FOUND ? IDLE_POLL_MS : ERROR_NAP_MS))
			break;
	}
	return NULL;
}

struct webhooks *webhooks_start(struct store *st, const struct webhook_options *o, char *err, size_t errlen)
{
	assert(st && o);
	if (o->workers < 1 || o->workers > WORKERS_MAX || o->nschedule < 1 || o->nschedule > WEBHOOK_SCHEDULE_MAX) {
		snprintf(err, errlen, "webhooks: 1..%d workers and a schedule of 1..%d waits", WORKERS_MAX,
			 WEBHOOK_SCHEDULE_MAX);
		return NULL;
	}
	struct webhooks *w = calloc(1, sizeof *w);
	if (!w || !wake_init(&w->wake)) {
		free(w);
		snprintf(err, errlen, "webhooks: out of memory");
		return NULL;
	}
	w->st = st;
	w->opt = *o;
	int64_t requeued = 0;
	if (store_webhook_requeue_sending(st, &requeued) != STORE_OK) {
		snprintf(err, errlen, "webhooks: cannot requeue the deliveries a previous run left sending");
		goto fail;
	}
	if (requeued) {
		char n[24];
		snprintf(n, sizeof n, "%lld", (long long)requeued);
		log_write(LOG_INFO, "webhook deliveries requeued after a restart", "count", n, NULL);
	}
	const struct webhook_sender_options so = {.timeout_ms = o->timeout_ms, .allow_private = o->allow_private};
	for (int i = 0; i < o->workers; i++) {
		if (!(w->senders[i] = webhook_sender_new(&so))) {
			snprintf(err, errlen, "webhooks: cannot set up a sender (timeout 1..%ld ms)",
				 WEBHOOK_TIMEOUT_MAX_MS);
			goto fail;
		}
	}
	for (int i = 0; i < o->workers; i++) {
		w->args[i] = (struct worker_arg){w, i};
		if (pthread_create(&w->threads[i], NULL, worker, &w->args[i]) != 0) {
			snprintf(err, errlen, "webhooks: cannot start a worker thread");
			goto fail;
		}
		w->nworkers++;
	}
	return w;
fail:
	webhooks_stop(w);
	return NULL;
}

void webhooks_stop(struct webhooks *w)
{
	if (!w)
		return;
	wake_stop(&w->wake);
	for (int i = 0; i < w->nworkers; i++)
		pthread_join(w->threads[i], NULL);
	for (int i = 0; i < WORKERS_MAX; i++)
		webhook_sender_free(w->senders[i]);
	wake_destroy(&w->wake);
	free(w);
}
