/* SPDX-License-Identifier: MIT */
/* Unit tests of handlers/phone and the country table it relies on. */
#include <criterion/criterion.h>
#include <string.h>

#include "handlers/country.h"
#include "handlers/phone.h"

Test(phone, e164_shape)
{
	static const char *const ok[] = {"+4791234567", "+46701234567", "+12025550123", "+358401234567",
					 "+44207946095", "+12345678", "+123456789012345"};
	static const char *const bad[] = {
		"4791234567", "+04791234567", "+1234567", /* 7 digits */
		"+1234567890123456",                      /* 16 digits */
		"+47 91234567", "+47-91234567", "++4791234567", "+", "", "+47912345a7",
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		cr_expect(phone_is_e164(ok[i]), "%s", ok[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_not(phone_is_e164(bad[i]), "%s", bad[i]);
	cr_expect_not(phone_is_e164(NULL));
}

Test(phone, compact_keeps_only_international_numbers)
{
	static const struct {
		const char *in;
		const char *want; /* NULL: refused */
	} rows[] = {
		{"+4791234567", "+4791234567"},      {"+47 912 34 567", "+4791234567"},
		{"+1 (202) 555-0123", "+12025550123"}, {"+44 (0)20 7946 0958", "+442079460958"},
		{"+49.30.1234567", "+49301234567"},  {"912 34 567", NULL},
		{"004791234567", NULL}, /* debtor.phone must already be E.164 */
		{"+47 912 34 567 ext 2", NULL},      {"+47912345678901234", NULL},
		{"", NULL},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char out[PHONE_LEN] = "junk";
		bool ok = phone_compact_e164(rows[i].in, out);
		cr_expect_eq(ok, rows[i].want != NULL, "%s", rows[i].in);
		cr_expect_str_eq(out, rows[i].want ? rows[i].want : "", "%s", rows[i].in);
	}
}

Test(phone, normalises_national_numbers_with_the_country)
{
	static const struct {
		const char *in;
		const char *country;
		const char *want; /* NULL: refused */
	} rows[] = {
		{"912 34 567", "NO", "+4791234567"},          /* DESIGN.md's example; no trunk in NO */
		{"91234567", "NO", "+4791234567"},
		{"22 33 44 55", "NO", "+4722334455"},
		{"20 12 34 56", "DK", "+4520123456"},
		{"070-123 45 67", "SE", "+46701234567"},      /* trunk 0 dropped */
		{"040 123 4567", "FI", "+358401234567"},
		{"030 1234567", "DE", "+49301234567"},
		{"(030) 123-4567", "DE", "+49301234567"},
		{"06 12345678", "NL", "+31612345678"},
		{"020 7946 0958", "GB", "+442079460958"},
		{"06 12 34 56 78", "FR", "+33612345678"},
		{"06 1234 5678", "IT", "+390612345678"},      /* no trunk in IT: the 0 is dialled */
		{"(202) 555-0123", "US", "+12025550123"},
		{"1 202 555 0123", "US", "+12025550123"},     /* NANP trunk 1 */
		{"8 912 345-67-89", "RU", "+79123456789"},
		{"06 1 234 5678", "HU", "+3612345678"},
		{"+46 70 123 45 67", "NO", "+46701234567"},   /* international wins over the country */
		{"0046 70 123 45 67", "NO", "+46701234567"},
		{"00 47 912 34 567", NULL, "+4791234567"},    /* international needs no country */
		{"+44 (0)20 7946 0958", "GB", "+442079460958"},
		{"912 34 567", NULL, NULL},                   /* national without a country */
		{"912 34 567", "XX", NULL},
		{"12", "NO", NULL},                           /* too short */
		{"0", "DE", NULL},
		{"00", "DE", NULL},
		{"+", "DE", NULL},
		{"912 34 567 / 2", "NO", "+47912345672"},     /* '/' is a separator; the digits decide */
		{"912-34-567x", "NO", NULL},
		{"phone me", "NO", NULL},
		{"+47 9123 4567 8901 2345", "NO", NULL},     /* 18 digits */
		{"0123456789012345678901234567890123456789012345678901234567890123456789", "DE", NULL},
		{"", "NO", NULL},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char out[PHONE_LEN] = "junk";
		bool ok = phone_normalise(rows[i].in, rows[i].country, out);
		cr_expect_eq(ok, rows[i].want != NULL, "%s %s", rows[i].in, rows[i].country);
		cr_expect_str_eq(out, rows[i].want ? rows[i].want : "", "%s %s", rows[i].in, rows[i].country);
	}
	char out[PHONE_LEN];
	cr_expect_not(phone_normalise(NULL, "NO", out));
}

Test(country, table_has_every_iso_3166_code_once_and_sorted)
{
	/* The 249 codes of ISO 3166-1 as listed in Debian's iso-codes 4.15. */
	static const char all[] =
		"ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCGCHCICKCLCMCN"
		"COCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHM"
		"HNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMK"
		"MLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURW"
		"SASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVI"
		"VNVUWFWSYEYTZAZMZW";
	cr_assert_eq(strlen(all), 2 * COUNTRY_COUNT);
	for (size_t i = 0; i < sizeof all - 1; i += 2) {
		char code[3] = {all[i], all[i + 1], '\0'};
		cr_expect(country_valid(code), "%s", code);
		const char *cc = country_calling_code(code);
		cr_expect(cc && cc[0] >= '1' && cc[0] <= '9' && strlen(cc) <= 3, "%s: calling code %s", code,
			  cc ? cc : "NULL");
		cr_expect_not_null(country_trunk_prefixes(code), "%s", code);
	}
	/* Not assigned, reserved or not alpha-2. */
	static const char *const bad[] = {"XX", "UK", "EU", "XK", "no", "NOR", "N", "", "ZZ", "AA"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_expect_not(country_valid(bad[i]), "%s", bad[i]);
		cr_expect_null(country_calling_code(bad[i]), "%s", bad[i]);
	}
	cr_expect_not(country_valid(NULL));
}

Test(country, calling_codes_trunks_and_legal_floors)
{
	static const struct {
		const char *code, *calling, *trunk;
	} rows[] = {
		{"NO", "47", ""},  {"SE", "46", "0"}, {"DK", "45", ""},  {"FI", "358", "0"}, {"DE", "49", "0"},
		{"NL", "31", "0"}, {"GB", "44", "0"}, {"FR", "33", "0"}, {"IT", "39", ""},   {"US", "1", "1"},
		{"CA", "1", "1"},  {"RU", "7", "8"},  {"KZ", "7", "8"},  {"HU", "36", "06"}, {"AX", "358", "0"},
		{"SJ", "47", ""},  {"IS", "354", ""},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		cr_expect_str_eq(country_calling_code(rows[i].code), rows[i].calling, "%s", rows[i].code);
		cr_expect_str_eq(country_trunk_prefixes(rows[i].code), rows[i].trunk, "%s", rows[i].code);
	}
	cr_expect_eq(country_legal_overdue_days("NO"), 14);
	cr_expect_eq(country_legal_overdue_days("FI"), 14);
	cr_expect_eq(country_legal_overdue_days("SE"), 0);
	cr_expect_eq(country_legal_overdue_days("DE"), 0);
	cr_expect_eq(country_legal_overdue_days("XX"), 0);
	cr_expect_eq(country_legal_overdue_days(NULL), 0);
}

Test(country, normalise_upper_cases)
{
	char out[3] = "zz";
	cr_expect(country_normalise("no", out));
	cr_expect_str_eq(out, "NO");
	cr_expect(country_normalise("Se", out));
	cr_expect_str_eq(out, "SE");
	cr_expect_not(country_normalise("xx", out));
	cr_expect_str_eq(out, "");
	cr_expect_not(country_normalise("nor", out));
	cr_expect_not(country_normalise(NULL, out));
}
