/* SPDX-License-Identifier: MIT */
/* Calendar dates as DESIGN.md writes them (YYYY-MM-DD, proleptic Gregorian,
 * years 0001..9999) and the service's two clocks (today in UTC, RFC 3339
 * timestamps with milliseconds). Pure functions except dates_today and
 * dates_now_rfc3339, which read the real-time clock. */
#ifndef INKASSO_DATES_H
#define INKASSO_DATES_H
#include <stdbool.h>
#include <stdint.h>

/* Length of "YYYY-MM-DD" plus its NUL. */
#define DATES_LEN 11
/* Length of "2026-02-20T10:00:00.123Z" plus its NUL. */
#define DATES_TS_LEN 25

/* True if s is exactly "YYYY-MM-DD" naming a real calendar day (leap years
 * included; year 0000 refused). NULL is false. */
bool dates_valid(const char *s);

/* True if year is a Gregorian leap year. */
bool dates_is_leap(int year);

/* Days in month (1..12) of year; 0 for a month out of range. */
int dates_days_in_month(int year, int month);

/* Parses a valid date into its day number (days since 1970-01-01, negative
 * before). Returns false, leaving *days untouched, if s is not valid. */
bool dates_to_days(const char *s, int64_t *days);

/* Writes day number days as "YYYY-MM-DD" into out. Returns false (out set to
 * "") if the date falls outside years 0001..9999. */
bool dates_from_days(int64_t days, char out[DATES_LEN]);

/* out = s + n days (n may be negative). Returns false (out set to "") if s is
 * not valid or the result leaves years 0001..9999. out may alias s. */
bool dates_add_days(const char *s, int64_t n, char out[DATES_LEN]);

/* Compares two valid dates: <0, 0, >0 like strcmp (which is what it is: the
 * fixed-width format sorts as text). */
int dates_compare(const char *a, const char *b);

/* Today's date in UTC. */
void dates_today(char out[DATES_LEN]);

/* The current instant in UTC, "2026-02-20T10:00:00.123Z" (always 24 chars:
 * milliseconds included, 'Z' suffix). */
void dates_now_rfc3339(char out[DATES_TS_LEN]);

/* The instant ms (since the epoch) as dates_now_rfc3339 writes it. False,
 * with out "9999-12-31T23:59:59.999Z", when its year is outside what
 * dates_from_days writes. */
bool dates_ms_rfc3339(int64_t ms, char out[DATES_TS_LEN]);

/* The real-time clock in ms since the epoch (queue times, ages). */
int64_t dates_now_ms(void);

#endif
