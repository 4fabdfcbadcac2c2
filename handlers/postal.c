/* SPDX-License-Identifier: MIT */
#include "handlers/postal.h"

#include <string.h>

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool is_letter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

static char upper(char c) { return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c; }

/* Copies in upper-cased without spaces; false if longer than POSTAL_MAX. */
static bool squeeze(const char *in, char out[POSTAL_LEN])
{
	size_t n = 0;
	for (const char *p = in; *p; p++) {
		if (*p == ' ')
			continue;
		if (n == POSTAL_MAX)
			return false;
		out[n++] = upper(*p);
	}
	out[n] = '\0';
	return true;
}

/* True if s matches pattern: '9' a digit, 'A' a letter, others themselves. */
static bool matches(const char *s, const char *pattern)
{
	if (strlen(s) != strlen(pattern))
		return false;
	for (size_t i = 0; s[i]; i++) {
		char p = pattern[i];
		if (p == '9' ? !is_digit(s[i]) : p == 'A' ? !is_letter(s[i]) : s[i] != p)
			return false;
	}
	return true;
}

/* Exactly n (4 or 5) digits, nothing else. */
static bool digits_only(const char *in, size_t n, char out[POSTAL_LEN])
{
	if (!matches(in, n == 4 ? "9999" : "99999"))
		return false;
	memcpy(out, in, n + 1);
	return true;
}

/* SE writes "123 45": the one space is allowed, no other. */
static bool se(const char *in, char out[POSTAL_LEN])
{
	if (matches(in, "999 99")) {
		memcpy(out, in, 3);
		memcpy(out + 3, in + 4, 3);
		return true;
	}
	return digits_only(in, 5, out);
}

static bool nl(const char *in, char out[POSTAL_LEN])
{
	char t[POSTAL_LEN];
	/* One space at most, and only between the digits and the letters. */
	if (!(matches(in, "9999AA") || matches(in, "9999 AA")) || in[0] == '0' || !squeeze(in, t))
		return false;
	/* PostNL never issues SA, SD and SS (their wartime connotations). */
	if (strcmp(t + 4, "SA") == 0 || strcmp(t + 4, "SD") == 0 || strcmp(t + 4, "SS") == 0)
		return false;
	memcpy(out, t, 4);
	out[4] = ' ';
	memcpy(out + 5, t + 4, 3);
	return true;
}

static bool gb(const char *in, char out[POSTAL_LEN])
{
	static const char *const outward[] = {"A9", "A99", "A9A", "AA9", "AA99", "AA9A"};
	char t[POSTAL_LEN];
	if (!squeeze(in, t) || strlen(t) < 5)
		return false;
	size_t n = strlen(t);
	bool ok = strcmp(t, "GIR0AA") == 0;
	if (!ok && matches(t + n - 3, "9AA")) {
		char head[POSTAL_LEN];
		memcpy(head, t, n - 3);
		head[n - 3] = '\0';
		for (size_t i = 0; i < sizeof outward / sizeof outward[0] && !ok; i++)
			ok = matches(head, outward[i]);
	}
	if (!ok)
		return false;
	memcpy(out, t, n - 3);
	out[n - 3] = ' ';
	memcpy(out + n - 2, t + n - 3, 4);
	return true;
}

static bool us(const char *in, char out[POSTAL_LEN])
{
	if (matches(in, "99999") || matches(in, "99999-9999")) {
		memcpy(out, in, strlen(in) + 1);
		return true;
	}
	if (matches(in, "999999999")) {
		memcpy(out, in, 5);
		out[5] = '-';
		memcpy(out + 6, in + 5, 5);
		return true;
	}
	return false;
}

static bool any_form(const char *in, char out[POSTAL_LEN])
{
	size_t n = strlen(in);
	bool alnum = false;
	if (n == 0 || n > POSTAL_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool letter_or_digit = is_digit(in[i]) || is_letter(in[i]);
		if (!letter_or_digit && in[i] != ' ' && in[i] != '-')
			return false;
		alnum |= letter_or_digit;
	}
	memcpy(out, in, n + 1);
	return alnum;
}

static bool four_digits(const char *in, char out[POSTAL_LEN]) { return digits_only(in, 4, out); }
static bool five_digits(const char *in, char out[POSTAL_LEN]) { return digits_only(in, 5, out); }

/* The countries whose postal codes have a known form. */
static const struct {
	const char *country;
	bool (*check)(const char *in, char out[POSTAL_LEN]);
} forms[] = {
	{"NO", four_digits}, {"DK", four_digits}, {"SE", se}, {"FI", five_digits}, {"DE", five_digits},
	{"NL", nl},          {"GB", gb},          {"US", us},
};

bool postal_normalise(const char *country, const char *in, char out[POSTAL_LEN])
{
	bool (*check)(const char *, char[POSTAL_LEN]) = any_form;
	for (size_t i = 0; country && i < sizeof forms / sizeof forms[0]; i++)
		if (strcmp(forms[i].country, country) == 0)
			check = forms[i].check;
	bool ok = in && check(in, out);
	if (!ok)
		out[0] = '\0';
	return ok;
}
