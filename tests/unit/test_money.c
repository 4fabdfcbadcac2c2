/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/money: ISO 4217 minor units and the agency's decimals. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/money.h"

Test(money, minor_digits_follow_iso_4217)
{
	static const struct {
		const char *code;
		int digits;
	} rows[] = {
		{"NOK", 2}, {"SEK", 2}, {"DKK", 2}, {"EUR", 2}, {"USD", 2}, {"GBP", 2}, {"CHF", 2},
		{"JPY", 0}, {"KRW", 0}, {"ISK", 0}, {"CLP", 0}, {"VND", 0}, {"XOF", 0}, {"UGX", 0},
		{"BHD", 3}, {"KWD", 3}, {"OMR", 3}, {"JOD", 3}, {"TND", 3}, {"LYD", 3}, {"IQD", 3},
		{"CLF", 4}, {"UYW", 4},
		{"HUF", 2}, {"IDR", 2}, {"ZWG", 2}, {"XCG", 2}, {"SLE", 2}, {"VED", 2},
		/* first and last of the sorted table: the search reaches both ends */
		{"AED", 2}, {"ZWG", 2},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		cr_expect_eq(money_currency_digits(rows[i].code), rows[i].digits, "%s", rows[i].code);
}

Test(money, refuses_unknown_withdrawn_and_non_money_codes)
{
	static const char *const bad[] = {
		"HRK", /* replaced by EUR in 2023 */
		"ZWL", "XAU", "XDR", "XTS", "XXX", "nok", "Nok", "NO", "NOKK", "", "ABC", "N0K", "AAA", "ZZZ",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_expect_eq(money_currency_digits(bad[i]), -1, "%s", bad[i]);
		cr_expect_not(money_currency_valid(bad[i]), "%s", bad[i]);
	}
	cr_expect_eq(money_currency_digits(NULL), -1);
	cr_expect(money_currency_valid("NOK"));
}

Test(money, formats_major_units_with_the_currency_digits)
{
	static const struct {
		int64_t minor;
		const char *currency;
		const char *want;
	} rows[] = {
		{124900, "NOK", "1249.00"}, {3500, "NOK", "35.00"}, {0, "NOK", "0.00"}, {5, "EUR", "0.05"},
		{-50, "EUR", "-0.50"}, {-124900, "SEK", "-1249.00"}, {1249, "JPY", "1249"}, {-7, "JPY", "-7"},
		{0, "ISK", "0"}, {1, "KWD", "0.001"}, {1234567, "BHD", "1234.567"}, {10001, "CLF", "1.0001"},
		{MONEY_MAX, "NOK", "100000000000.00"},
		{INT64_MAX, "EUR", "92233720368547758.07"}, {INT64_MIN, "EUR", "-92233720368547758.08"},
		{INT64_MIN, "JPY", "-9223372036854775808"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char out[32];
		cr_expect(money_format_major(rows[i].minor, rows[i].currency, out, sizeof out), "row %zu", i);
		cr_expect_str_eq(out, rows[i].want, "row %zu", i);
	}
}

Test(money, format_fails_cleanly)
{
	char out[8] = "junk";
	cr_expect_not(money_format_major(100, "XXX", out, sizeof out));
	cr_expect_str_eq(out, "");
	strcpy(out, "junk");
	cr_expect_not(money_format_major(124900000, "NOK", out, sizeof out)); /* "1249000.00" needs 11 bytes */
	cr_expect_str_eq(out, "");
	cr_expect(money_format_major(12490, "NOK", out, sizeof out)); /* "124.90" fits in 8 */
	cr_expect_str_eq(out, "124.90");
	cr_expect_not(money_format_major(1, "NOK", out, 0));
}
