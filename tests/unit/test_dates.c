/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/dates: strict calendar dates, day arithmetic, clocks. */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "lib/dates.h"

Test(dates, accepts_real_calendar_days)
{
	static const char *const ok[] = {
		"2024-02-29", /* 2024 is divisible by 4 */
		"2000-02-29", /* divisible by 400: leap */
		"2026-01-31", "2026-03-31", "2026-04-30", "2026-12-31", "2026-02-28",
		"0001-01-01", "9999-12-31", "1970-01-01",
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		cr_expect(dates_valid(ok[i]), "%s refused", ok[i]);
}

Test(dates, refuses_what_is_not_a_day)
{
	static const char *const bad[] = {
		"2026-02-29", /* 2026 is not a leap year */
		"1900-02-29", /* divisible by 100, not by 400 */
		"2026-04-31", "2026-06-31", "2026-09-31", "2026-11-31", "2026-01-32",
		"2026-00-10", "2026-13-01", "2026-01-00", "0000-01-01",
		"2026-1-01", "2026-01-1", "26-01-01", "2026/01/01", "20260101",
		"2026-01-01 ", " 2026-01-01", "2026-01-01T00:00:00Z", "+026-01-01", "2026-0a-01",
		"", "2026-02-2\xd9",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_not(dates_valid(bad[i]), "%s accepted", bad[i]);
	cr_expect_not(dates_valid(NULL));
}

Test(dates, leap_years_and_month_lengths)
{
	cr_expect(dates_is_leap(2024));
	cr_expect(dates_is_leap(2000));
	cr_expect_not(dates_is_leap(1900));
	cr_expect_not(dates_is_leap(2026));
	cr_expect_eq(dates_days_in_month(2024, 2), 29);
	cr_expect_eq(dates_days_in_month(2026, 2), 28);
	cr_expect_eq(dates_days_in_month(2026, 4), 30);
	cr_expect_eq(dates_days_in_month(2026, 12), 31);
	cr_expect_eq(dates_days_in_month(2026, 13), 0);
	cr_expect_eq(dates_days_in_month(2026, 0), 0);
}

Test(dates, day_numbers_round_trip)
{
	int64_t d = -1;
	cr_assert(dates_to_days("1970-01-01", &d));
	cr_expect_eq(d, 0);
	cr_assert(dates_to_days("2000-03-01", &d));
	cr_expect_eq(d, 11017); /* 30 years incl. 7 leap days + Jan and Feb 2000 (31 + 29) */
	cr_assert(dates_to_days("1969-12-31", &d));
	cr_expect_eq(d, -1);
	char out[DATES_LEN];
	/* Every day of four years (a leap year among them) survives the round trip. */
	int64_t start;
	cr_assert(dates_to_days("2023-01-01", &start));
	for (int64_t i = 0; i < 4 * 366; i++) {
		int64_t back;
		cr_assert(dates_from_days(start + i, out));
		cr_assert(dates_valid(out), "%s", out);
		cr_assert(dates_to_days(out, &back));
		cr_assert_eq(back, start + i, "%s", out);
	}
	cr_expect_not(dates_to_days("2026-02-29", &d));
}

Test(dates, add_days_crosses_month_and_year_ends)
{
	static const struct {
		const char *from;
		int64_t n;
		const char *want;
	} rows[] = {
		{"2026-01-15", 14, "2026-01-29"}, {"2026-01-30", 14, "2026-02-13"}, {"2026-02-20", 14, "2026-03-06"},
		{"2024-02-20", 14, "2024-03-05"}, /* through the 29th */
		{"2026-12-25", 14, "2027-01-08"}, {"2026-03-01", -1, "2026-02-28"}, {"2024-03-01", -1, "2024-02-29"},
		{"2026-01-01", 0, "2026-01-01"},  {"2026-01-01", 365, "2027-01-01"}, {"2024-01-01", 366, "2025-01-01"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char out[DATES_LEN];
		cr_expect(dates_add_days(rows[i].from, rows[i].n, out), "row %zu", i);
		cr_expect_str_eq(out, rows[i].want, "%s + %lld", rows[i].from, (long long)rows[i].n);
	}
}

Test(dates, add_days_refuses_leaving_the_four_digit_years)
{
	char out[DATES_LEN] = "x";
	cr_expect_not(dates_add_days("9999-12-31", 1, out));
	cr_expect_str_eq(out, "");
	cr_expect_not(dates_add_days("0001-01-01", -1, out));
	cr_expect_not(dates_add_days("2026-01-01", INT64_MAX, out));
	cr_expect_not(dates_add_days("2026-01-01", INT64_MIN, out));
	cr_expect_not(dates_add_days("2026-02-30", 1, out));
	cr_expect(dates_add_days("9999-12-30", 1, out));
	cr_expect_str_eq(out, "9999-12-31");
}

Test(dates, compare_orders_dates)
{
	cr_expect_lt(dates_compare("2026-01-15", "2026-02-01"), 0);
	cr_expect_gt(dates_compare("2027-01-01", "2026-12-31"), 0);
	cr_expect_eq(dates_compare("2026-01-15", "2026-01-15"), 0);
}

Test(dates, today_is_the_utc_date)
{
	char today[DATES_LEN];
	time_t before = time(NULL);
	dates_today(today);
	time_t after = time(NULL);
	cr_assert(dates_valid(today), "%s", today);
	struct tm a, b;
	gmtime_r(&before, &a);
	gmtime_r(&after, &b);
	char wa[DATES_LEN], wb[DATES_LEN];
	strftime(wa, sizeof wa, "%Y-%m-%d", &a);
	strftime(wb, sizeof wb, "%Y-%m-%d", &b);
	cr_expect(strcmp(today, wa) == 0 || strcmp(today, wb) == 0, "%s vs %s/%s", today, wa, wb);
}

Test(dates, now_has_the_fixed_rfc3339_shape)
{
	char now[DATES_TS_LEN], today[DATES_LEN];
	dates_now_rfc3339(now);
	dates_today(today);
	cr_assert_eq(strlen(now), 24, "%s", now);
	/* 2026-02-20T10:00:00.123Z: every position is a digit or its separator. */
	const char *shape = "dddd-dd-ddTdd:dd:dd.dddZ";
	for (int i = 0; i < 24; i++) {
		if (shape[i] == 'd')
			cr_expect(now[i] >= '0' && now[i] <= '9', "%s at %d", now, i);
		else
			cr_expect_eq(now[i], shape[i], "%s at %d", now, i);
	}
	char date[DATES_LEN];
	memcpy(date, now, 10);
	date[10] = '\0';
	cr_expect(dates_valid(date));
	cr_expect_leq(dates_compare(date, today), 0, "now %s, then today %s", now, today);
	cr_expect_lt((now[11] - '0') * 10 + (now[12] - '0'), 24);
	cr_expect_lt((now[14] - '0') * 10 + (now[15] - '0'), 60);
}

Test(dates, instants_in_ms_as_rfc3339_utc)
{
	char out[DATES_TS_LEN];
	cr_expect(dates_ms_rfc3339(0, out));
	cr_expect_str_eq(out, "1970-01-01T00:00:00.000Z");
	cr_expect(dates_ms_rfc3339(INT64_C(1771581600123), out));
	cr_expect_str_eq(out, "2026-02-20T10:00:00.123Z");
	cr_expect(dates_ms_rfc3339(INT64_C(951868799999), out), "the last ms of a leap day");
	cr_expect_str_eq(out, "2000-02-29T23:59:59.999Z");
	cr_expect(dates_ms_rfc3339(-1, out), "floor division before 1970");
	cr_expect_str_eq(out, "1969-12-31T23:59:59.999Z");
	cr_expect_not(dates_ms_rfc3339(INT64_MAX, out), "beyond year 9999");
	cr_expect_str_eq(out, "9999-12-31T23:59:59.999Z");
	cr_expect_not(dates_ms_rfc3339(INT64_MIN, out));
	cr_expect_eq(strlen(out), DATES_TS_LEN - 1, "the fixed width on an absurd value");
}
