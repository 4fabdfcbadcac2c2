/* SPDX-License-Identifier: MIT */
/* Unit tests of handlers/idnum. Every number below was checked by hand with
 * the algorithm; the working is in the comment beside it. */
#include <criterion/criterion.h>
#include <string.h>

#include "handlers/idnum.h"

struct row {
	const char *country;
	const char *in;
	const char *want; /* normalised form; NULL: must be refused */
};

static void check_rows(bool (*fn)(const char *, const char *, char *), const struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char out[IDNUM_LEN] = "junk";
		bool ok = fn(rows[i].country, rows[i].in, out);
		if (rows[i].want) {
			cr_expect(ok, "%s %s refused", rows[i].country, rows[i].in);
			cr_expect_str_eq(out, rows[i].want, "%s %s", rows[i].country, rows[i].in);
		} else {
			cr_expect_not(ok, "%s %s accepted", rows[i].country, rows[i].in);
			cr_expect_str_eq(out, "", "%s %s leaves output", rows[i].country, rows[i].in);
		}
	}
}

/* Fødselsnummer DDMMYY III K1 K2; K1 weights 3 7 6 1 8 9 4 5 2, K2 weights
 * 5 4 3 2 7 6 5 4 3 2; K = 11 - sum % 11 (11 -> 0, 10 never issued). */
static const struct row no_personal[] = {
	/* 010101 123 77: K1 0+7+0+1+0+9+4+10+6 = 37, 37 % 11 = 4, 11 - 4 = 7;
	 * K2 0+4+0+2+0+6+5+8+9+14 = 48, 48 % 11 = 4 -> 7. Born 1901-01-01. */
	{"NO", "01010112377", "01010112377"},
	{"NO", "010101 12377", "01010112377"},
	/* D-number 410101 126 03 (day 01 + 40): K1 12+7+0+1+0+9+4+10+12 = 55,
	 * 55 % 11 = 0 -> 11 -> 0; K2 20+4+0+2+0+6+5+8+18+0 = 63, 63 % 11 = 8 -> 3. */
	{"NO", "41010112603", "41010112603"},
	/* 290204 500 51: 29 Feb 2004 (individual 500-999 with year < 40 is the
	 * 2000s); K1 6+63+0+2+0+36+20+0+0 = 127, % 11 = 6 -> 5; K2
	 * 10+36+0+4+0+24+25+0+0+10 = 109, % 11 = 10 -> 1. */
	{"NO", "29020450051", "29020450051"},
	/* 290200 123 80: both control digits right (K1 91 % 11 = 3 -> 8, K2
	 * 88 % 11 = 0 -> 0) but individual 123 means 1900, not a leap year. */
	{"NO", "29020012380", NULL},
	{"NO", "01010112378", NULL},  /* K2 is 7 */
	{"NO", "01010112387", NULL},  /* K1 is 7 */
	{"NO", "0101011237", NULL},   /* 10 digits */
	{"NO", "010101123770", NULL}, /* 12 digits */
	{"NO", "0101011237X", NULL},
	{"NO", "32010112377", NULL},  /* day 32 */
	{"NO", "", NULL},
};

/* Personnummer YYMMDD-NNNC, C = Luhn over the ten digits. */
static const struct row se_personal[] = {
	/* 811218-9876: doubled from the left 16->7, 1, 2, 2, 2, 8, 18->9, 8,
	 * 14->5, plus 6 = 50, divisible by 10. */
	{"SE", "811218-9876", "8112189876"},
	{"SE", "8112189876", "8112189876"},
	{"SE", "19811218-9876", "198112189876"},
	{"SE", "198112189876", "198112189876"},
	{"SE", "811218+9876", "811218+9876"}, /* 100 years or older: '+' kept */
	/* Samordningsnummer 811278-9873 (day 18 + 60): 7+1+2+2+14->5+8+18->9+8
	 * +14->5 = 47, check 3. */
	{"SE", "811278-9873", "8112789873"},
	/* 000229-1235: Feb 29 of 2000 (the century is unknown in the 10-digit
	 * form: a year divisible by 4 is given the benefit). Luhn 0+0+0+2+4+9+2
	 * +2+6 = 25 + 5 = 30. */
	{"SE", "000229-1235", "0002291235"},
	{"SE", "20000229-1235", "200002291235"},
	{"SE", "19000229-1235", NULL}, /* 1900 was not a leap year */
	{"SE", "811218-9877", NULL},   /* Luhn */
	{"SE", "811232-9878", NULL},   /* Luhn right (sum 50), day 32 */
	{"SE", "811318-9875", NULL},   /* Luhn right, month 13 */
	{"SE", "21811218-9876", NULL}, /* century 21 */
	{"SE", "19811218+9876", NULL}, /* '+' only in the 10-digit form */
	{"SE", "81121-89876", NULL},
	{"SE", "81121898765", NULL},
};

/* Henkilötunnus DDMMYYCZZZQ, Q = "0123456789ABCDEFHJKLMNPRSTUVWXY"[DDMMYYZZZ % 31]. */
static const struct row fi_personal[] = {
	/* 131052308 = 31 * 4227493 + 25, table[25] = 'T'. */
	{"FI", "131052-308T", "131052-308T"},
	{"FI", "131052-308t", "131052-308T"},
	/* 290200123 % 31 = 9: 29 Feb 2000 with 'A', a leap year. */
	{"FI", "290200A1239", "290200A1239"},
	{"FI", "290200a1239", "290200A1239"},
	{"FI", "290200-1239", NULL}, /* 1900: no 29 Feb */
	/* The 2023 century signs: 010594999 % 31 = 5. */
	{"FI", "010594Y9995", "010594Y9995"},
	{"FI", "010594X9995", "010594X9995"},
	{"FI", "010594U9995", "010594U9995"},
	{"FI", "010594B9995", "010594B9995"},
	{"FI", "010594F9995", "010594F9995"},
	{"FI", "010594+9995", "010594+9995"},
	{"FI", "131052G308T", NULL}, /* G is no century sign */
	{"FI", "131052-308U", NULL}, /* check character */
	{"FI", "311352-308T", NULL}, /* month 13 */
	{"FI", "131052308T", NULL},
};

/* No checksum elsewhere: a bounded form. */
static const struct row other_personal[] = {
	{"DE", "T22000129", "T22000129"},
	{"DK", "010101-1234", "010101-1234"}, /* CPR: no checksum since 2007 */
	{"GB", "QQ 12 34 56 C", "QQ 12 34 56 C"},
	{NULL, "ABC-123", "ABC-123"},
	{"XX", "ABC-123", "ABC-123"},
	{"DE", "T2200/0129", NULL},
	{"DE", "123456789012345678901234567890123", NULL}, /* 33 characters */
	{"DE", "   ", NULL},
	{"DE", "", NULL},
};

Test(idnum, norwegian_national_ids)
{
	check_rows(idnum_national_id, no_personal, sizeof no_personal / sizeof no_personal[0]);
}

Test(idnum, swedish_national_ids)
{
	check_rows(idnum_national_id, se_personal, sizeof se_personal / sizeof se_personal[0]);
}

Test(idnum, finnish_national_ids)
{
	check_rows(idnum_national_id, fi_personal, sizeof fi_personal / sizeof fi_personal[0]);
}

Test(idnum, other_countries_get_a_form_check)
{
	check_rows(idnum_national_id, other_personal, sizeof other_personal / sizeof other_personal[0]);
	char out[IDNUM_LEN] = "junk";
	cr_expect_not(idnum_national_id("NO", NULL, out));
	cr_expect_str_eq(out, "");
}

static const struct row orgs[] = {
	/* NO, weights 3 2 7 6 5 4 3 2. Equinor 923609016: 27+4+21+36+0+36+0+2 =
	 * 126, 126 % 11 = 5, 11 - 5 = 6. DNB Bank 984851006: 27+16+28+48+25+4+0
	 * +0 = 148, % 11 = 5 -> 6. */
	{"NO", "923609016", "923609016"},
	{"NO", "923 609 016", "923609016"},
	{"NO", "984851006", "984851006"},
	{"NO", "923609017", NULL},
	{"NO", "92360901", NULL},
	{"NO", "9236090160", NULL},
	/* SE, Luhn. Volvo AB 556012-5790: 5*2=10->1, 5, 12->3, 0, 2, 2, 10->1, 7,
	 * 18->9, 0 = 30. */
	{"SE", "556012-5790", "5560125790"},
	{"SE", "5560125790", "5560125790"},
	{"SE", "165560125790", "165560125790"},
	{"SE", "16556012-5790", "165560125790"},
	{"SE", "556012-5791", NULL},
	{"SE", "185560125790", NULL}, /* only "16" prefixes organisations */
	{"SE", "55601-25790", NULL},
	/* FI Y-tunnus, weights 7 9 10 5 8 4 2. Nokia 0112038-9: 0+9+10+10+0+12+16
	 * = 57, 57 % 11 = 2, 11 - 2 = 9. */
	{"FI", "0112038-9", "0112038-9"},
	{"FI", "01120389", "0112038-9"},
	{"FI", "0112038-8", NULL},
	/* 1234568: 7+18+30+20+40+24+16 = 155, 155 % 11 = 1: never issued. */
	{"FI", "1234568-0", NULL},
	{"FI", "1234568-1", NULL},
	{"FI", "0112038/9", NULL},
	/* DK CVR, weights 2 7 6 5 4 3 2 1, sum % 11 == 0. 10150817: 2+0+6+25+0+24
	 * +2+7 = 66 = 6 * 11. Novo Nordisk 24256790: 4+28+12+25+24+21+18+0 = 132
	 * = 12 * 11. */
	{"DK", "10150817", "10150817"},
	{"DK", "24256790", "24256790"},
	{"DK", "10 15 08 17", "10150817"},
	{"DK", "10150818", NULL},
	{"DK", "01015081", NULL}, /* CVR never starts with 0 */
	{"DK", "1015081", NULL},
	/* Elsewhere: a form check. */
	{"DE", "HRB 12345", "HRB 12345"},
	{"GB", "SC123456", "SC123456"},
	{NULL, "12-34", "12-34"},
	{"DE", "HRB_12345", NULL},
};

Test(idnum, organisation_numbers)
{
	check_rows(idnum_org_number, orgs, sizeof orgs / sizeof orgs[0]);
}

Test(idnum, which_countries_have_checksums)
{
	cr_expect(idnum_national_id_has_checksum("NO"));
	cr_expect(idnum_national_id_has_checksum("SE"));
	cr_expect(idnum_national_id_has_checksum("FI"));
	cr_expect_not(idnum_national_id_has_checksum("DK"));
	cr_expect_not(idnum_national_id_has_checksum(NULL));
	cr_expect(idnum_org_number_has_checksum("DK"));
	cr_expect(idnum_org_number_has_checksum("NO"));
	cr_expect_not(idnum_org_number_has_checksum("DE"));
	cr_expect_not(idnum_org_number_has_checksum(NULL));
}
