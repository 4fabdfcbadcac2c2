/* SPDX-License-Identifier: MIT */
#include "sim/sim_time.h"

#include <string.h>
#include <time.h>

int64_t sim_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sim_tm(int64_t ms, struct tm *tm)
{
	time_t t = (time_t)(ms / 1000);
	gmtime_r(&t, tm);
}

void sim_timestamp(int64_t ms, char out[SIM_TIMESTAMP_LEN])
{
	struct tm tm;
	sim_tm(ms, &tm);
	/* strftime rather than snprintf: gcc cannot prove a tm's fields small
	 * and -Wformat-truncation would fail the build. */
	size_t n = strftime(out, SIM_TIMESTAMP_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	int milli = (int)(ms % 1000);
	if (n + 6 > SIM_TIMESTAMP_LEN)
		n = 0; /* beyond year 9999: never in this simulator's lifetime */
	out[n++] = '.';
	out[n++] = (char)('0' + milli / 100);
	out[n++] = (char)('0' + milli / 10 % 10);
	out[n++] = (char)('0' + milli % 10);
	out[n++] = 'Z';
	out[n] = '\0';
}

void sim_date(int64_t ms, char out[SIM_DATE_LEN])
{
	struct tm tm;
	sim_tm(ms, &tm);
	if (strftime(out, SIM_DATE_LEN, "%Y-%m-%d", &tm) == 0)
		out[0] = '\0';
}

bool sim_date_valid(const char *s)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0');
	int d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1900 || m < 1 || m > 12 || d < 1)
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= days[m - 1] + (m == 2 && leap);
}

void sim_sleep_ms(int64_t ms, const atomic_bool *stop)
{
	/* Slices of 20 ms keep a SIGTERM from waiting out a long injected
	 * timeout, at no cost worth measuring. */
	while (ms > 0 && !atomic_load(stop)) {
		int64_t slice = ms < 20 ? ms : 20;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)slice * 1000000L};
		nanosleep(&ts, NULL);
		ms -= slice;
	}
}
