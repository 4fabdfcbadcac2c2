/* SPDX-License-Identifier: MIT */
#include "lib/dates.h"

#include <string.h>
#include <time.h>

/* Day numbers of 0001-01-01 and 9999-12-31: the range dates_from_days writes. */
#define DAYS_MIN (-719162)
#define DAYS_MAX 2932896

bool dates_is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int dates_days_in_month(int year, int month)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (month < 1 || month > 12)
		return 0;
	return month == 2 && dates_is_leap(year) ? 29 : mdays[month - 1];
}

/* Reads n ASCII digits; -1 if any is not a digit (sscanf would take signs and spaces). */
static int read_digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Splits a strict YYYY-MM-DD; false unless it names a real day. */
static bool split_date(const char *s, int *y, int *m, int *d)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	*y = read_digits(s, 4);
	*m = read_digits(s + 5, 2);
	*d = read_digits(s + 8, 2);
	if (*y < 1 || *m < 1 || *d < 1)
		return false;
	return *d <= dates_days_in_month(*y, *m);
}

/* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse, civil_from_days. */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Writes v as exactly width digits (v < 10^width). snprintf would do, but
 * gcc's -Wformat-truncation cannot see that v is bounded. */
static char *put_num(char *p, unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

/* Writes y-m-d (a valid date) as "YYYY-MM-DD"; returns the end. */
static char *put_date(char *p, int y, int m, int d)
{
	p = put_num(p, (unsigned)y, 4);
	*p++ = '-';
	p = put_num(p, (unsigned)m, 2);
	*p++ = '-';
	p = put_num(p, (unsigned)d, 2);
	*p = '\0';
	return p;
}

bool dates_valid(const char *s)
{
	int y, m, d;
	return split_date(s, &y, &m, &d);
}

bool dates_to_days(const char *s, int64_t *days)
{
	int y, m, d;
	if (!split_date(s, &y, &m, &d))
		return false;
	*days = days_from_civil(y, m, d);
	return true;
}

bool dates_from_days(int64_t days, char out[DATES_LEN])
{
	if (days < DAYS_MIN || days > DAYS_MAX) {
		out[0] = '\0';
		return false;
	}
	int y, m, d;
	civil_from_days(days, &y, &m, &d);
	put_date(out, y, m, d);
	return true;
}

bool dates_add_days(const char *s, int64_t n, char out[DATES_LEN])
{
	int64_t days;
	/* Bounding n first keeps days + n far from overflow whatever the caller passes. */
	if (!dates_to_days(s, &days) || n < DAYS_MIN - DAYS_MAX || n > DAYS_MAX - DAYS_MIN) {
		out[0] = '\0';
		return false;
	}
	return dates_from_days(days + n, out);
}

int dates_compare(const char *a, const char *b) { return strcmp(a, b); }

void dates_today(char out[DATES_LEN])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	/* Floor division: the day number of an instant before 1970 is negative. */
	int64_t secs = (int64_t)ts.tv_sec;
	int64_t days = secs / 86400 - (secs % 86400 < 0);
	dates_from_days(days, out);
}

int64_t dates_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool dates_ms_rfc3339(int64_t ms, char out[DATES_TS_LEN])
{
	/* Floor division: an instant before 1970 has a negative day number and
	 * a millisecond of the day in 0..86399999 all the same. */
	int64_t days = ms / 86400000 - (ms % 86400000 < 0);
	int64_t msod = ms - days * 86400000;
	if (!dates_from_days(days, out)) {
		memcpy(out, "9999-12-31T23:59:59.999Z", DATES_TS_LEN); /* the fixed width on an absurd value */
		return false;
	}
	char *p = out + 10;
	*p++ = 'T';
	p = put_num(p, (unsigned)(msod / 3600000), 2);
	*p++ = ':';
	p = put_num(p, (unsigned)(msod / 60000 % 60), 2);
	*p++ = ':';
	p = put_num(p, (unsigned)(msod / 1000 % 60), 2);
	*p++ = '.';
	p = put_num(p, (unsigned)(msod % 1000), 3);
	*p++ = 'Z';
	*p = '\0';
	return true;
}

void dates_now_rfc3339(char out[DATES_TS_LEN]) { dates_ms_rfc3339(dates_now_ms(), out); }
