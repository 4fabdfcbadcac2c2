/* SPDX-License-Identifier: MIT */
#include "server/http_metrics.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Statuses the service answers; anything else is counted under "other". */
static const int statuses[] = {200, 201, 202, 400, 401, 403, 404, 405, 408,
			       409, 413, 415, 422, 431, 500, 503, 0};
#define NSTATUS (sizeof statuses / sizeof statuses[0])

/* Latency buckets in seconds (upper bounds); +Inf is the count. */
static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
#define NBUCKET (sizeof bounds / sizeof bounds[0])
#define SLOTS (ROUTER_PATHS_MAX + 1)

static atomic_uint_fast64_t requests[SLOTS][NSTATUS];
static atomic_uint_fast64_t buckets[SLOTS][NBUCKET];
static atomic_uint_fast64_t counts[SLOTS];
static atomic_uint_fast64_t sum_us[SLOTS]; /* microseconds: integers stay atomic */

void metrics_observe_request(int route, int status, double seconds)
{
	if (route < 0 || route >= SLOTS)
		return;
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

void metrics_render_requests(struct buf *b, const struct router *rt)
{
	buf_puts(b, "# HELP inkasso_http_requests_total HTTP requests answered, by route and status.\n"
		    "# TYPE inkasso_http_requests_total counter\n");
	for (int r = 0; r <= router_unmatched(rt); r++)
		for (size_t s = 0; s < NSTATUS; s++) {
			uint64_t v = atomic_load_explicit(&requests[r][s], memory_order_relaxed);
			if (!v)
				continue;
			if (statuses[s])
				buf_printf(b, "inkasso_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
					   rt->paths[r], statuses[s], (unsigned long long)v);
			else
				buf_printf(b, "inkasso_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
					   rt->paths[r], (unsigned long long)v);
		}
	buf_puts(b, "# HELP inkasso_http_request_duration_seconds Time from first byte to answer queued.\n"
		    "# TYPE inkasso_http_request_duration_seconds histogram\n");
	for (int r = 0; r <= router_unmatched(rt); r++) {
		uint64_t n = atomic_load_explicit(&counts[r], memory_order_relaxed);
		if (!n)
			continue;
		const char *name = rt->paths[r];
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
