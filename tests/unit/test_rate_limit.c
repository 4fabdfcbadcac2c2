/* SPDX-License-Identifier: MIT */
/* The per-tenant rate limit (server/rate_limit.h): the bucket arithmetic on
 * an injected clock, Retry-After, the configured rate and burst, and the
 * bounded table (tenants beyond its size, idle tenants forgotten without
 * changing any answer). Nothing here measures time. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>

#include "server/rate_limit.h"

#define S 1000000000LL
#define MS 1000000LL
#define T0 (1000 * S) /* a monotonic clock some time after boot */

Test(rate_bucket, a_fresh_bucket_allows_burst_then_one_per_interval)
{
	int64_t tat = 0, wait;
	const int64_t interval = 100 * MS; /* 10 per second */
	for (int i = 0; i < 5; i++)
		cr_expect(rate_bucket_take(&tat, interval, 5, T0, &wait), "request %d of the burst", i);
	cr_expect_not(rate_bucket_take(&tat, interval, 5, T0, &wait));
	cr_expect_eq(wait, interval, "the next token comes one interval later: %lld", (long long)wait);
	int64_t before = tat;
	cr_expect_not(rate_bucket_take(&tat, interval, 5, T0 + 99 * MS, &wait));
	cr_expect_eq(tat, before, "a refused request takes nothing");
	cr_expect_eq(wait, 1 * MS);
	cr_expect(rate_bucket_take(&tat, interval, 5, T0 + 100 * MS, &wait));
	cr_expect_not(rate_bucket_take(&tat, interval, 5, T0 + 100 * MS, &wait));
}

Test(rate_bucket, refills_at_the_rate_up_to_the_burst_only)
{
	int64_t tat = 0, wait;
	const int64_t interval = 250 * MS; /* 4 per second, burst 2 */
	cr_expect(rate_bucket_take(&tat, interval, 2, T0, &wait));
	cr_expect(rate_bucket_take(&tat, interval, 2, T0, &wait));
	cr_expect_not(rate_bucket_take(&tat, interval, 2, T0, &wait));
	/* An hour idle gives back the burst, not an hour's worth. */
	int64_t later = T0 + 3600 * S, allowed = 0;
	for (int i = 0; i < 10; i++)
		allowed += rate_bucket_take(&tat, interval, 2, later, &wait);
	cr_expect_eq(allowed, 2);
	/* A steady client at the rate is never refused. */
	for (int i = 1; i <= 100; i++)
		cr_expect(rate_bucket_take(&tat, interval, 2, later + i * interval, &wait), "at %d", i);
}

Test(rate_bucket, burst_of_one_is_a_plain_rate)
{
	int64_t tat = 0, wait;
	const int64_t interval = 2 * S; /* 0.5 per second */
	cr_expect(rate_bucket_take(&tat, interval, 1, T0, &wait));
	cr_expect_not(rate_bucket_take(&tat, interval, 1, T0 + S, &wait));
	cr_expect_eq(wait, S);
	cr_expect(rate_bucket_take(&tat, interval, 1, T0 + 2 * S, &wait));
}

Test(rate_bucket, retry_after_is_whole_seconds_rounded_up_at_least_one)
{
	cr_expect_eq(rate_retry_after_s(0), 1);
	cr_expect_eq(rate_retry_after_s(1), 1);
	cr_expect_eq(rate_retry_after_s(S), 1);
	cr_expect_eq(rate_retry_after_s(S + 1), 2);
	cr_expect_eq(rate_retry_after_s(2500 * MS), 3);
}

Test(rate_bucket, configured_rate_and_burst)
{
	cr_expect_eq(rate_interval_ns(10), 100 * MS);
	cr_expect_eq(rate_interval_ns(0.5), 2 * S);
	cr_expect_eq(rate_interval_ns(3), 333333333);
	cr_expect_eq(rate_interval_ns(1e-9), 1000 * S, "rates under 0.001/s count as 0.001/s");
	cr_expect_eq(rate_interval_ns(1e12), 1);
	cr_expect_eq(rate_burst_of(20, 0), 20, "unset: one second's worth");
	cr_expect_eq(rate_burst_of(2.5, 0), 3);
	cr_expect_eq(rate_burst_of(0.5, 0), 1);
	cr_expect_eq(rate_burst_of(20, 5), 5);
	cr_expect_eq(rate_burst_of(20, 2000000), 1000000);
}

Test(rate_limit, no_limit_is_no_limiter)
{
	cr_expect_null(rate_limit_new(0, 10));
	cr_expect_null(rate_limit_new(-1, 10));
	rate_limit_free(NULL);
}

Test(rate_limit, tenants_have_buckets_of_their_own)
{
	struct rate_limit *rl = rate_limit_new(1, 3);
	cr_assert_not_null(rl);
	int ra = 0;
	for (int i = 0; i < 3; i++)
		cr_expect(rate_limit_take(rl, "flood", T0, &ra));
	cr_expect_not(rate_limit_take(rl, "flood", T0, &ra));
	cr_expect_eq(ra, 1);
	cr_expect(rate_limit_take(rl, "quiet", T0, &ra), "another tenant is not affected");
	cr_expect(rate_limit_take(rl, "floo", T0, &ra), "names are compared whole");
	cr_expect(rate_limit_take(rl, "flood", T0 + S, &ra), "one more a second later");
	cr_expect_not(rate_limit_take(rl, "flood", T0 + S, &ra));
	rate_limit_free(rl);
}

/* Far more tenants than the table holds: idle ones (full buckets) are
 * forgotten, which answers nothing differently, and busy ones keep their
 * state as long as a stripe has room. */
Test(rate_limit, the_table_is_bounded_and_idle_tenants_are_forgotten)
{
	struct rate_limit *rl = rate_limit_new(1, 1);
	cr_assert_not_null(rl);
	int ra = 0;
	char name[32];
	cr_expect(rate_limit_take(rl, "busy", T0, &ra));
	for (int i = 0; i < 10 * RATE_LIMIT_TENANTS; i++) {
		snprintf(name, sizeof name, "t%d", i);
		/* Each second a new crowd; the previous crowd's buckets are full again. */
		cr_expect(rate_limit_take(rl, name, T0 + 2 * S + (int64_t)(i / 1000) * 2 * S, &ra), "%s", name);
	}
	cr_expect(rate_limit_take(rl, "busy", T0 + 1000 * S, &ra), "refilled long ago");
	cr_expect_not(rate_limit_take(rl, "busy", T0 + 1000 * S, &ra), "and remembered again");
	rate_limit_free(rl);
}

struct worker {
	struct rate_limit *rl;
	int allowed;
};

static void *hammer(void *arg)
{
	struct worker *w = arg;
	int ra;
	for (int i = 0; i < 10000; i++)
		w->allowed += rate_limit_take(w->rl, "shared", T0, &ra);
	return NULL;
}

/* Eight threads on one tenant at one instant: exactly the burst passes. */
Test(rate_limit, threads_share_one_bucket_exactly)
{
	struct rate_limit *rl = rate_limit_new(10, 100);
	cr_assert_not_null(rl);
	pthread_t t[8];
	struct worker w[8];
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){rl, 0};
		cr_assert_eq(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
	}
	int total = 0;
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		total += w[i].allowed;
	}
	cr_expect_eq(total, 100);
	rate_limit_free(rl);
}
