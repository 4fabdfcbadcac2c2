/* SPDX-License-Identifier: MIT */
/* A request rate limit per tenant (INKASSO_TENANT_RATE, INKASSO_TENANT_BURST):
 * one token bucket per tenant, kept as GCRA's "theoretical arrival time"
 * (one integer per tenant: the time at which its bucket is full again). A
 * request at now is allowed when, with it, the bucket would not be more
 * than burst requests "ahead": tat' = max(tat, now) + interval and
 * tat' - now <= burst * interval. That is exactly a bucket of burst tokens
 * refilled at rate per second, without a refill loop or a float per tenant.
 *
 * The table is bounded: RATE_LIMIT_TENANTS tenants in RATE_LIMIT_STRIPES
 * stripes, each behind its own mutex (a request locks one stripe for a
 * few dozen compares). A tenant whose bucket is full again (tat <= now)
 * carries no state a fresh entry would not have, so its slot is reused
 * freely; only with more tenants busy at once than a stripe holds is the
 * least busy of them forgotten (it then starts again with a full bucket). */
#ifndef INKASSO_RATE_LIMIT_H
#define INKASSO_RATE_LIMIT_H
#include <stdbool.h>
#include <stdint.h>

#define RATE_LIMIT_STRIPES 64
#define RATE_LIMIT_WAYS 64 /* tenants per stripe */
#define RATE_LIMIT_TENANTS (RATE_LIMIT_STRIPES * RATE_LIMIT_WAYS)

/* The pure arithmetic, for one bucket. interval_ns: nanoseconds per request
 * (1e9 / rate); burst >= 1. Takes one request at now_ns from the bucket
 * whose theoretical arrival time is *tat (0: never used, a full bucket).
 * Returns true and advances *tat, or false (and *tat unchanged) with the
 * nanoseconds until the request would be allowed in *wait_ns. */
bool rate_bucket_take(int64_t *tat, int64_t interval_ns, int64_t burst, int64_t now_ns, int64_t *wait_ns);

/* Retry-After for a wait: whole seconds, rounded up, at least 1. */
int rate_retry_after_s(int64_t wait_ns);

/* The interval of a rate (requests per second, > 0), at least 1 ns. */
int64_t rate_interval_ns(double per_second);

/* The burst used for a configured one: burst when > 0, else ceil(rate)
 * (one second's worth), at least 1. */
int64_t rate_burst_of(double per_second, int burst);

struct rate_limit;

/* A limiter of per_second requests per second per tenant, burst as
 * rate_burst_of. NULL when per_second <= 0 (no limit) or out of memory. */
struct rate_limit *rate_limit_new(double per_second, int burst);
/* NULL-safe. */
void rate_limit_free(struct rate_limit *rl);

/* Counts one request of tenant (NUL-terminated, at most 64 bytes) at now_ns
 * (a monotonic clock). True when allowed; false with the Retry-After
 * seconds in *retry_after_s. Thread-safe. */
bool rate_limit_take(struct rate_limit *rl, const char *tenant, int64_t now_ns, int *retry_after_s);

#endif
