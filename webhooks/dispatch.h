/* SPDX-License-Identifier: MIT */
/* The webhook workers: threads that drain the store's delivery queue
 * (written in the transaction of each event), sign each attempt (Standard
 * Webhooks 1.0), send it through the SSRF guard and record how it ended,
 * retrying on the schedule. Delivery is at least once: a crash between the
 * send and its record sends it again after the restart. One worker also
 * prunes what is past its retention. */
#ifndef INKASSO_WEBHOOKS_DISPATCH_H
#define INKASSO_WEBHOOKS_DISPATCH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store_events.h"

#define WEBHOOK_SCHEDULE_MAX 16
#define WEBHOOK_RETRY_AFTER_CAP_MS (24LL * 3600 * 1000) /* a Retry-After floor further out is cut here */

struct webhook_options {
	int workers;                 /* threads, 1..32 */
	long timeout_ms;             /* one attempt, INKASSO_WEBHOOK_TIMEOUT_MS */
	bool allow_private;          /* INKASSO_WEBHOOK_ALLOW_PRIVATE: any address, plain http */
	int64_t schedule_ms[WEBHOOK_SCHEDULE_MAX]; /* the waits before attempts 2, 3, ... */
	int nschedule;               /* 1..WEBHOOK_SCHEDULE_MAX */
	int64_t disable_after_ms;    /* an endpoint failing this long is disabled (5 days) */
	int retention_days;          /* events kept at least this long */
	int idempotency_days;        /* idempotency records kept this long */
};

/* Parses a schedule such as "5s,5m,30m,2h,5h,10h,10h" (units ms, s, m, h,
 * d) into o; false for anything else. */
bool webhook_schedule_parse(const char *text, struct webhook_options *o);

struct webhooks;

/* Requeues deliveries left sending by a previous process, then starts the
 * workers. o is copied; st must outlive them. NULL with a reason in err. */
struct webhooks *webhooks_start(struct store *st, const struct webhook_options *o, char *err, size_t errlen);
/* Stops the workers (an attempt in progress ends within its timeout) and
 * frees everything. NULL-safe. */
void webhooks_stop(struct webhooks *w);

/* When a delivery that failed its attempt-th attempt (1 = the first) goes
 * again: the schedule's wait with jitter r (0..1 maps to -10%..+10%), at
 * least retry_after_s (-1: none) capped at WEBHOOK_RETRY_AFTER_CAP_MS;
 * -1 when the schedule is spent. */
int64_t webhook_next_attempt(const struct webhook_options *o, int attempt, int64_t now_ms, int64_t retry_after_s,
			     double r);

#endif
