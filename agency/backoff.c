/* SPDX-License-Identifier: MIT */
#include "agency/backoff.h"

int64_t backoff_ceiling_ms(int attempt, int64_t base_ms, int64_t cap_ms)
{
	int64_t c = base_ms > 0 ? base_ms : 1;
	for (int i = 1; i < attempt && c < cap_ms; i++)
		c *= 2; /* stops at cap long before int64 could overflow */
	return c < cap_ms ? c : cap_ms;
}

int64_t backoff_delay_ms(int attempt, int64_t base_ms, int64_t cap_ms, int retry_after_s, uint64_t r)
{
	int64_t ceiling = backoff_ceiling_ms(attempt, base_ms, cap_ms);
	int64_t d = (int64_t)(r % (uint64_t)(ceiling + 1));
	if (retry_after_s >= 0 && (int64_t)retry_after_s * 1000 > d)
		d = (int64_t)retry_after_s * 1000;
	return d;
}
