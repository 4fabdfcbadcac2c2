/* SPDX-License-Identifier: MIT */
/* Unit tests of handlers/postal: plausible postal codes per country. */
#include <criterion/criterion.h>

#include "handlers/postal.h"

Test(postal, plausible_codes_and_their_normal_form)
{
	static const struct {
		const char *country, *in;
		const char *want; /* NULL: refused */
	} rows[] = {
		{"NO", "0155", "0155"},        {"NO", "155", NULL},          {"NO", "01555", NULL},
		{"NO", "0l55", NULL},          {"NO", " 0155", NULL},        {"DK", "2100", "2100"},
		{"DK", "DK-2100", NULL},       {"SE", "12345", "12345"},     {"SE", "123 45", "12345"},
		{"SE", "123  45", NULL},       {"SE", "1234 5", NULL},       {"SE", "1234", NULL},
		{"FI", "00100", "00100"},      {"FI", "0010", NULL},         {"DE", "10115", "10115"},
		{"DE", "1011", NULL},          {"NL", "1012 AB", "1012 AB"}, {"NL", "1012AB", "1012 AB"},
		{"NL", "1012ab", "1012 AB"},   {"NL", "0123 AB", NULL},      /* never starts with 0 */
		{"NL", "1012 SA", NULL},       {"NL", "1012 SD", NULL},      {"NL", "1012 ss", NULL},
		{"NL", "1012  AB", NULL},      {"NL", "1012 A", NULL},       {"GB", "SW1A 1AA", "SW1A 1AA"},
		{"GB", "sw1a1aa", "SW1A 1AA"}, {"GB", "M1 1AE", "M1 1AE"},   {"GB", "B33 8TH", "B33 8TH"},
		{"GB", "CR2 6XH", "CR2 6XH"},  {"GB", "DN55 1PT", "DN55 1PT"}, {"GB", "W1A 0AX", "W1A 0AX"},
		{"GB", "EC1A 1BB", "EC1A 1BB"}, {"GB", "GIR 0AA", "GIR 0AA"}, {"GB", "12345", NULL},
		{"GB", "SW1A", NULL},          {"GB", "SW1A 1A1", NULL},     {"GB", "SWW1A 1AA", NULL},
		{"US", "20500", "20500"},      {"US", "20500-0003", "20500-0003"}, {"US", "205000003", "20500-0003"},
		{"US", "2050", NULL},          {"US", "20500-003", NULL},
		/* Elsewhere: a bounded form. */
		{"FR", "75008", "75008"},      {"CA", "K1A 0B1", "K1A 0B1"}, {"IE", "D02 X285", "D02 X285"},
		{"PT", "1000-001", "1000-001"}, {NULL, "AB-12", "AB-12"},    {"FR", "75008/", NULL},
		{"FR", "1234567890123", NULL}, /* 13 characters */
		{"FR", "  ", NULL},            {"FR", "", NULL},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char out[POSTAL_LEN] = "junk";
		bool ok = postal_normalise(rows[i].country, rows[i].in, out);
		cr_expect_eq(ok, rows[i].want != NULL, "%s \"%s\"", rows[i].country, rows[i].in);
		cr_expect_str_eq(out, rows[i].want ? rows[i].want : "", "%s \"%s\"", rows[i].country, rows[i].in);
	}
	char out[POSTAL_LEN];
	cr_expect_not(postal_normalise("NO", NULL, out));
}
