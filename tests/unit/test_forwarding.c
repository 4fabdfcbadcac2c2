/* SPDX-License-Identifier: MIT */
/* Backoff bounds and the agency status mapping. */
#include <criterion/criterion.h>
#include <string.h>

#include "agency/backoff.h"
#include "agency/status_map.h"

Test(backoff, ceiling_doubles_then_caps_without_overflow)
{
	cr_expect_eq(backoff_ceiling_ms(1, 500, 300000), 500);
	cr_expect_eq(backoff_ceiling_ms(2, 500, 300000), 1000);
	cr_expect_eq(backoff_ceiling_ms(5, 500, 300000), 8000);
	cr_expect_eq(backoff_ceiling_ms(20, 500, 300000), 300000);
	cr_expect_eq(backoff_ceiling_ms(1000, 500, 300000), 300000, "huge attempts stay at the cap");
	cr_expect_eq(backoff_ceiling_ms(3, 0, 100), 4, "a zero base is treated as 1 ms");
}

Test(backoff, full_jitter_stays_within_zero_and_ceiling)
{
	uint64_t rs[] = {0, 1, 499, 500, 501, 123456789, UINT64_MAX};
	for (int attempt = 1; attempt < 12; attempt++) {
		int64_t ceiling = backoff_ceiling_ms(attempt, 100, 5000);
		for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) {
			int64_t d = backoff_delay_ms(attempt, 100, 5000, -1, rs[i]);
			cr_expect(d >= 0 && d <= ceiling, "attempt %d r %zu: %lld not in [0,%lld]", attempt, i,
				  (long long)d, (long long)ceiling);
		}
	}
	/* Different random values give different delays: the jitter is real. */
	cr_expect_neq(backoff_delay_ms(6, 100, 5000, -1, 17), backoff_delay_ms(6, 100, 5000, -1, 1234));
}

Test(backoff, retry_after_is_a_floor)
{
	cr_expect_eq(backoff_delay_ms(1, 100, 5000, 3, 0), 3000);
	cr_expect_eq(backoff_delay_ms(1, 100, 5000, 0, 50), 50, "Retry-After 0 does not shorten the jitter");
	cr_expect_geq(backoff_delay_ms(8, 100, 60000, 2, 9999), 2000);
}

Test(status_map, agency_statuses_map_to_ours)
{
	static const char *const pairs[][2] = {
		{"ACTIVE", "open"}, {"PAUSED", "paused"}, {"DISPUTED", "disputed"}, {"PAID", "paid"},
		{"WITHDRAWN", "withdrawn"}, {"CLOSED", "closed"}, {"REJECTED", "rejected"}, {"active", "open"},
		{"LEGAL_REVIEW", "open"}, {"", "open"},
	};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
		cr_expect_str_eq(status_map_agency(pairs[i][0]), pairs[i][1], "%s", pairs[i][0]);
}

Test(status_map, stage_is_lower_case_and_cleaned)
{
	char out[16];
	status_map_stage("COLLECTION", out, sizeof out);
	cr_expect_str_eq(out, "collection");
	status_map_stage("PAYMENT_PLAN", out, sizeof out);
	cr_expect_str_eq(out, "payment_plan");
	status_map_stage("a\"b\n<c>", out, sizeof out);
	cr_expect_str_eq(out, "a_b__c_");
	status_map_stage("AVERYLONGSTAGENAMEINDEED", out, sizeof out);
	cr_expect_eq(strlen(out), 15, "truncated to the buffer");
}
