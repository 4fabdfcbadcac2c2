/* SPDX-License-Identifier: MIT */
#include "lib/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* Agency calls: a small table of (endpoint, outcome) counters. They are
 * rare next to HTTP requests, so one mutex is simpler than being clever. */
#define AGENCY_SLOTS 64
static pthread_mutex_t agency_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	const char *endpoint; /* static strings of the agency client */
	const char *outcome;
	uint64_t n;
} agency[AGENCY_SLOTS];

void metrics_agency_call(const char *endpoint, const char *outcome)
{
	pthread_mutex_lock(&agency_lock);
	for (int i = 0; i < AGENCY_SLOTS; i++) {
		if (!agency[i].endpoint) {
			agency[i].endpoint = endpoint;
			agency[i].outcome = outcome;
		}
		if (!strcmp(agency[i].endpoint, endpoint) && !strcmp(agency[i].outcome, outcome)) {
			agency[i].n++;
			break;
		}
	}
	pthread_mutex_unlock(&agency_lock);
}

void metrics_render_agency(struct buf *b)
{
	buf_puts(b, "# HELP inkasso_agency_calls_total Calls to the agency API, by endpoint and outcome.\n"
		    "# TYPE inkasso_agency_calls_total counter\n");
	pthread_mutex_lock(&agency_lock);
	for (int i = 0; i < AGENCY_SLOTS && agency[i].endpoint; i++)
		buf_printf(b, "inkasso_agency_calls_total{endpoint=\"%s\",outcome=\"%s\"} %llu\n",
			   agency[i].endpoint, agency[i].outcome, (unsigned long long)agency[i].n);
	pthread_mutex_unlock(&agency_lock);
}

/* Last successful sync per tenant: tenants are few; a small table under a
 * mutex. Past SYNC_TENANTS tenants the rest are not shown (logged instead). */
#define SYNC_TENANTS 256
static struct {
	char tenant[65];
	int64_t epoch;
} syncs[SYNC_TENANTS];
static atomic_uint_fast64_t forwarder_retries, forwarder_gave_up;

void metrics_sync_ok(const char *tenant, int64_t epoch)
{
	pthread_mutex_lock(&agency_lock);
	for (int i = 0; i < SYNC_TENANTS; i++) {
		if (!syncs[i].tenant[0])
			snprintf(syncs[i].tenant, sizeof syncs[i].tenant, "%s", tenant);
		if (!strcmp(syncs[i].tenant, tenant)) {
			syncs[i].epoch = epoch;
			break;
		}
	}
	pthread_mutex_unlock(&agency_lock);
}

void metrics_forwarder_retry(void) { atomic_fetch_add(&forwarder_retries, 1); }

void metrics_forwarder_gave_up(void) { atomic_fetch_add(&forwarder_gave_up, 1); }

void metrics_render_forwarder(struct buf *b)
{
	buf_printf(b, "# HELP inkasso_forwarder_retries_total Agency deliveries rescheduled with backoff.\n"
		      "# TYPE inkasso_forwarder_retries_total counter\n"
		      "inkasso_forwarder_retries_total %llu\n"
		      "# HELP inkasso_forwarder_failed_total Agency deliveries given up after the last attempt or "
		      "refused.\n"
		      "# TYPE inkasso_forwarder_failed_total counter\n"
		      "inkasso_forwarder_failed_total %llu\n",
		   (unsigned long long)atomic_load(&forwarder_retries),
		   (unsigned long long)atomic_load(&forwarder_gave_up));
	/* No tenant label: /metrics is public (DESIGN.md), and a label would
	 * list every tenant to anyone who can reach the port. The oldest of the
	 * tenants' last good syncs is what an alert needs ("some tenant has not
	 * synced for an hour"); which one is in the sync's log lines. */
	int n = 0;
	long long oldest = 0;
	pthread_mutex_lock(&agency_lock);
	for (int i = 0; i < SYNC_TENANTS && syncs[i].tenant[0]; i++, n++)
		if (n == 0 || syncs[i].epoch < oldest)
			oldest = (long long)syncs[i].epoch;
	pthread_mutex_unlock(&agency_lock);
	buf_printf(b, "# HELP inkasso_agency_synced_tenants Tenants with at least one agency sync without errors.\n"
		      "# TYPE inkasso_agency_synced_tenants gauge\n"
		      "inkasso_agency_synced_tenants %d\n",
		   n);
	if (n > 0)
		buf_printf(b, "# HELP inkasso_agency_oldest_sync_timestamp_seconds The oldest of the tenants' last "
			      "agency syncs without errors.\n"
			      "# TYPE inkasso_agency_oldest_sync_timestamp_seconds gauge\n"
			      "inkasso_agency_oldest_sync_timestamp_seconds %lld\n",
			   oldest);
}

/* ---- webhooks ---- */

static atomic_uint_fast64_t webhook_attempts[METRICS_WEBHOOK__COUNT];

void metrics_webhook_attempt(enum metrics_webhook_outcome o)
{
	if ((int)o >= 0 && o < METRICS_WEBHOOK__COUNT)
		atomic_fetch_add(&webhook_attempts[o], 1);
}

void metrics_render_webhooks(struct buf *b)
{
	static const char *const names[METRICS_WEBHOOK__COUNT] = {
		[METRICS_WEBHOOK_DELIVERED] = "delivered",
		[METRICS_WEBHOOK_RETRIED] = "retried",
		[METRICS_WEBHOOK_FAILED] = "failed",
		[METRICS_WEBHOOK_GONE] = "gone",
	};
	buf_puts(b, "# HELP inkasso_webhook_attempts_total Webhook delivery attempts by outcome: delivered (2xx),"
		    " retried (failed, again later), failed (the schedule spent), gone (410: endpoint disabled).\n"
		    "# TYPE inkasso_webhook_attempts_total counter\n");
	for (int i = 0; i < METRICS_WEBHOOK__COUNT; i++)
		buf_printf(b, "inkasso_webhook_attempts_total{outcome=\"%s\"} %llu\n", names[i],
			   (unsigned long long)atomic_load(&webhook_attempts[i]));
}
