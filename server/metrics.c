/* SPDX-License-Identifier: MIT */
#include "server/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* Statuses the service answers; anything else is counted under "other". */
static const int statuses[] = {200, 201, 202, 400, 401, 403, 404, 405, 408,
			       409, 413, 415, 422, 431, 500, 503, 0};
#define NSTATUS (sizeof statuses / sizeof statuses[0])

/* Latency buckets in seconds (upper bounds); +Inf is the count. */
static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
#define NBUCKET (sizeof bounds / sizeof bounds[0])

static atomic_uint_fast64_t requests[ROUTE__COUNT][NSTATUS];
static atomic_uint_fast64_t buckets[ROUTE__COUNT][NBUCKET];
static atomic_uint_fast64_t counts[ROUTE__COUNT];
static atomic_uint_fast64_t sum_us[ROUTE__COUNT]; /* microseconds: integers stay atomic */

void metrics_observe_request(enum route_id route, int status, double seconds)
{
	size_t s = NSTATUS - 1;
	for (size_t i = 0; i + 1 < NSTATUS; i++)
		if (statuses[i] == status)
			s = i;
	atomic_fetch_add_explicit(&requests[route][s], 1, memory_order_relaxed);
	for (size_t i = 0; i < NBUCKET; i++)
		if (seconds <= bounds[i])
			atomic_fetch_add_explicit(&buckets[route][i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&counts[route], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&sum_us[route], (uint_fast64_t)(seconds * 1e6), memory_order_relaxed);
}

void metrics_render_requests(struct buf *b)
{
	buf_puts(b, "# HELP inkasso_http_requests_total HTTP requests answered, by route and status.\n"
		    "# TYPE inkasso_http_requests_total counter\n");
	for (int r = 0; r < ROUTE__COUNT; r++)
		for (size_t s = 0; s < NSTATUS; s++) {
			uint64_t v = atomic_load_explicit(&requests[r][s], memory_order_relaxed);
			if (!v)
				continue;
			if (statuses[s])
				buf_printf(b, "inkasso_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
					   route_name((enum route_id)r), statuses[s], (unsigned long long)v);
			else
				buf_printf(b, "inkasso_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
					   route_name((enum route_id)r), (unsigned long long)v);
		}
	buf_puts(b, "# HELP inkasso_http_request_duration_seconds Time from first byte to answer queued.\n"
		    "# TYPE inkasso_http_request_duration_seconds histogram\n");
	for (int r = 0; r < ROUTE__COUNT; r++) {
		uint64_t n = atomic_load_explicit(&counts[r], memory_order_relaxed);
		if (!n)
			continue;
		const char *name = route_name((enum route_id)r);
		for (size_t i = 0; i < NBUCKET; i++)
			buf_printf(b, "inkasso_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
				   name, bounds[i],
				   (unsigned long long)atomic_load_explicit(&buckets[r][i], memory_order_relaxed));
		buf_printf(b, "inkasso_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", name,
			   (unsigned long long)n);
		buf_printf(b, "inkasso_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", name,
			   (double)atomic_load_explicit(&sum_us[r], memory_order_relaxed) / 1e6);
		buf_printf(b, "inkasso_http_request_duration_seconds_count{route=\"%s\"} %llu\n", name,
			   (unsigned long long)n);
	}
}

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
		      "# HELP inkasso_forwarder_failed_total Agency deliveries given up after the last attempt or refused.\n"
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
