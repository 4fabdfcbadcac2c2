/* SPDX-License-Identifier: MIT */
/* Retry delays: exponential backoff with full jitter (AWS Architecture Blog,
 * "Exponential Backoff and Jitter"): sleep = random(0, min(cap, base * 2^n)),
 * never shorter than the agency's Retry-After. */
#ifndef INKASSO_AGENCY_BACKOFF_H
#define INKASSO_AGENCY_BACKOFF_H
#include <stdint.h>

/* The ceiling of the delay after attempt (1 = the first attempt failed):
 * min(cap_ms, base_ms * 2^(attempt-1)), without overflow. */
int64_t backoff_ceiling_ms(int attempt, int64_t base_ms, int64_t cap_ms);
/* The delay after attempt: uniform in [0, ceiling] from the random value r
 * (any 64-bit value), raised to retry_after_s * 1000 when that is larger
 * (retry_after_s < 0: none). Pure, so that tests can drive it. */
int64_t backoff_delay_ms(int attempt, int64_t base_ms, int64_t cap_ms, int retry_after_s, uint64_t r);

#endif
