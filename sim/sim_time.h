/* SPDX-License-Identifier: MIT */
/* Wall-clock time, the simulator's date and timestamp formats, and a sleep
 * that a shutdown can cut short. Wall time (not monotonic) on purpose: case
 * timers are stored in SQLite and must keep their meaning across restarts. */
#ifndef SIM_TIME_H
#define SIM_TIME_H
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define SIM_TIMESTAMP_LEN 32 /* "2026-02-20T10:00:00.123Z" plus NUL, with room */
#define SIM_DATE_LEN 11      /* "2026-02-20" plus NUL */

/* Milliseconds since the Unix epoch. */
int64_t sim_now_ms(void);
/* Writes ms as RFC 3339 UTC with milliseconds: 2026-02-20T10:00:00.123Z. */
void sim_timestamp(int64_t ms, char out[SIM_TIMESTAMP_LEN]);
/* Writes the UTC calendar date of ms: 2026-02-20. */
void sim_date(int64_t ms, char out[SIM_DATE_LEN]);
/* True if s is exactly YYYY-MM-DD and a real calendar date. */
bool sim_date_valid(const char *s);
/* Sleeps ms milliseconds, returning early once *stop becomes true. */
void sim_sleep_ms(int64_t ms, const atomic_bool *stop);

#endif
