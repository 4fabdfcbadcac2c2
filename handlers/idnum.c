/* SPDX-License-Identifier: MIT */
#include "handlers/idnum.h"

#include <string.h>

#include "lib/dates.h"

/* FI henkilötunnus: the check character of DDMMYYZZZ mod 31 (G, I, O, Q, Z
 * are left out so they cannot be misread). */
static const char fi_check_chars[] = "0123456789ABCDEFHJKLMNPRSTUVWXY";

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static int digit(char c) { return c - '0'; }

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

static int two_digits(const char *s) { return digit(s[0]) * 10 + digit(s[1]); }

/* Copies in without the characters of drop, at most IDNUM_MAX of them;
 * false if longer. */
static bool strip(const char *in, const char *drop, char out[IDNUM_LEN])
{
	size_t n = 0;
	for (const char *p = in; *p; p++) {
		if (strchr(drop, *p))
			continue;
		if (n == IDNUM_MAX)
			return false;
		out[n++] = *p;
	}
	out[n] = '\0';
	return true;
}

/* Day and month plausible; year < 0 means "century unknown": Feb 29 is then
 * allowed whenever the two-digit year could be a leap year. */
static bool date_ok(int year, int yy, int month, int day)
{
	if (month < 1 || month > 12 || day < 1)
		return false;
	if (year < 0)
		year = yy % 4 == 0 ? 2000 : 2001;
	return day <= dates_days_in_month(year, month);
}

/* Sum of digits[i] * weights[i] over n digits. */
static int weighted(const char *digits, const int *weights, int n)
{
	int sum = 0;
	for (int i = 0; i < n; i++)
		sum += digit(digits[i]) * weights[i];
	return sum;
}

/* The mod-11 control digit used in Norway: 11 - sum % 11, 11 meaning 0;
 * -1 for remainder 1 (a 10 is never issued). */
static int mod11_control(int sum)
{
	int c = 11 - sum % 11;
	return c == 11 ? 0 : c == 10 ? -1 : c;
}

/* Luhn over n digits, the last being the check digit. */
static bool luhn_ok(const char *digits, size_t n)
{
	int sum = 0;
	for (size_t i = 0; i < n; i++) {
		int d = digit(digits[n - 1 - i]);
		if (i % 2 == 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return sum % 10 == 0;
}

/* The birth year of a Norwegian number from its individual number
 * (Skatteetaten's ranges); -1 for a combination those ranges do not cover. */
static int no_birth_year(int yy, int individual)
{
	if (individual <= 499)
		return 1900 + yy;
	if (individual <= 749 && yy >= 54)
		return 1800 + yy;
	if (yy <= 39)
		return 2000 + yy;
	if (individual >= 900)
		return 1900 + yy;
	return -1;
}

static bool no_personal(const char *in, char out[IDNUM_LEN])
{
	static const int w1[9] = {3, 7, 6, 1, 8, 9, 4, 5, 2};
	static const int w2[10] = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
	if (!strip(in, " -", out) || strlen(out) != 11 || !all_digits(out, 11))
		return false;
	int day = two_digits(out), month = two_digits(out + 2), yy = two_digits(out + 4);
	if (day > 40)
		day -= 40; /* D-number (foreign residents) */
	if (month > 40)
		month -= 40; /* H-number (assistance numbers) */
	int year = no_birth_year(yy, digit(out[6]) * 100 + two_digits(out + 7));
	if (!date_ok(year, yy, month, day))
		return false;
	return mod11_control(weighted(out, w1, 9)) == digit(out[9]) &&
	       mod11_control(weighted(out, w2, 10)) == digit(out[10]);
}

static bool se_personal(const char *in, char out[IDNUM_LEN])
{
	char t[IDNUM_LEN];
	if (!strip(in, " ", t))
		return false;
	size_t n = strlen(t);
	bool plus = false;
	/* Separator forms first: YYMMDD-NNNC / YYMMDD+NNNC / YYYYMMDD-NNNC. */
	if ((n == 11 && (t[6] == '-' || t[6] == '+')) || (n == 13 && t[8] == '-')) {
		plus = t[n - 5] == '+';
		memmove(t + n - 5, t + n - 4, 5);
		n--;
	}
	if ((n != 10 && n != 12) || !all_digits(t, n))
		return false;
	const char *ten = t + n - 10;
	int year = -1;
	if (n == 12) {
		int century = two_digits(t);
		if (century < 18 || century > 20)
			return false;
		year = century * 100 + two_digits(ten);
	}
	int day = two_digits(ten + 4);
	if (day > 60)
		day -= 60; /* samordningsnummer */
	if (!date_ok(year, two_digits(ten), two_digits(ten + 2), day) || !luhn_ok(ten, 10))
		return false;
	if (plus) {
		memcpy(out, ten, 6);
		out[6] = '+';
		memcpy(out + 7, ten + 6, 5);
	} else {
		memcpy(out, t, n + 1);
	}
	return true;
}

/* The century of a henkilötunnus sign; -1 if not a sign. */
static int fi_century(char sign)
{
	if (sign == '\0')
		return -1; /* strchr would find the terminator */
	if (sign == '+')
		return 1800;
	if (strchr("-YXWVU", sign))
		return 1900;
	if (strchr("ABCDEF", sign))
		return 2000;
	return -1;
}

static char upper(char c) { return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c; }

static bool fi_personal(const char *in, char out[IDNUM_LEN])
{
	if (!strip(in, " ", out) || strlen(out) != 11)
		return false;
	out[6] = upper(out[6]);
	out[10] = upper(out[10]);
	int century = fi_century(out[6]);
	if (century < 0 || !all_digits(out, 6) || !all_digits(out + 7, 3))
		return false;
	int yy = two_digits(out + 4);
	if (!date_ok(century + yy, yy, two_digits(out + 2), two_digits(out)))
		return false;
	long n = 0;
	for (int i = 0; i < 10; i++)
		if (i != 6)
			n = n * 10 + digit(out[i]);
	return fi_check_chars[n % 31] == out[10];
}

/* Countries without a checksum: a bounded, printable form. */
static bool any_form(const char *in, char out[IDNUM_LEN])
{
	size_t n = strlen(in);
	bool alnum = false;
	if (n == 0 || n > IDNUM_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		bool letter_or_digit = is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
		if (!letter_or_digit && c != ' ' && c != '-')
			return false;
		alnum |= letter_or_digit;
	}
	memcpy(out, in, n + 1);
	return alnum;
}

typedef bool (*idnum_check)(const char *in, char out[IDNUM_LEN]);

struct by_country {
	const char *country;
	idnum_check check;
};

/* The check of country in table (NULL-terminated), or NULL. */
static idnum_check check_of(const struct by_country *table, const char *country)
{
	for (; country && table->country; table++)
		if (strcmp(table->country, country) == 0)
			return table->check;
	return NULL;
}

/* Normalises in with the country's check, else the form check; out "" when it fails. */
static bool normalise(const struct by_country *table, const char *country, const char *in, char out[IDNUM_LEN])
{
	idnum_check check = check_of(table, country);
	bool ok = in && (check ? check : any_form)(in, out);
	if (!ok)
		out[0] = '\0';
	return ok;
}

static const struct by_country national_ids[] = {
	{"NO", no_personal}, {"SE", se_personal}, {"FI", fi_personal}, {NULL, NULL},
};

bool idnum_national_id_has_checksum(const char *country) { return check_of(national_ids, country) != NULL; }

bool idnum_national_id(const char *country, const char *in, char out[IDNUM_LEN])
{
	return normalise(national_ids, country, in, out);
}

static bool no_org(const char *in, char out[IDNUM_LEN])
{
	static const int w[8] = {3, 2, 7, 6, 5, 4, 3, 2};
	if (!strip(in, " ", out) || strlen(out) != 9 || !all_digits(out, 9))
		return false;
	return mod11_control(weighted(out, w, 8)) == digit(out[8]);
}

static bool se_org(const char *in, char out[IDNUM_LEN])
{
	if (!strip(in, " ", out))
		return false;
	size_t n = strlen(out);
	if ((n == 11 && out[6] == '-') || (n == 13 && out[8] == '-')) {
		memmove(out + n - 5, out + n - 4, 5);
		n--;
	}
	if ((n != 10 && n != 12) || !all_digits(out, n))
		return false;
	if (n == 12 && (out[0] != '1' || out[1] != '6'))
		return false; /* the "16" prefix is the only one organisations get */
	return luhn_ok(out + n - 10, 10);
}

static bool fi_org(const char *in, char out[IDNUM_LEN])
{
	static const int w[7] = {7, 9, 10, 5, 8, 4, 2};
	if (!strip(in, " ", out))
		return false;
	size_t n = strlen(out);
	if (n == 8 && all_digits(out, 8)) { /* written without the dash: put it back */
		out[8] = out[7];
		out[7] = '-';
		out[9] = '\0';
	} else if (n != 9 || out[7] != '-' || !all_digits(out, 7) || !is_digit(out[8])) {
		return false;
	}
	/* Remainder 1 would ask for a check digit of 10: such numbers are never
	 * issued, and no digit matches 10. */
	int r = weighted(out, w, 7) % 11;
	return (r == 0 ? 0 : 11 - r) == digit(out[8]);
}

static bool dk_org(const char *in, char out[IDNUM_LEN])
{
	static const int w[8] = {2, 7, 6, 5, 4, 3, 2, 1};
	if (!strip(in, " ", out) || strlen(out) != 8 || !all_digits(out, 8) || out[0] == '0')
		return false;
	return weighted(out, w, 8) % 11 == 0;
}

static const struct by_country org_numbers[] = {
	{"NO", no_org}, {"SE", se_org}, {"FI", fi_org}, {"DK", dk_org}, {NULL, NULL},
};

bool idnum_org_number_has_checksum(const char *country) { return check_of(org_numbers, country) != NULL; }

bool idnum_org_number(const char *country, const char *in, char out[IDNUM_LEN])
{
	return normalise(org_numbers, country, in, out);
}
