/* SPDX-License-Identifier: MIT */
#include "handlers/phone.h"

#include <string.h>

#include "handlers/country.h"

#define E164_MIN_DIGITS 8
#define E164_MAX_DIGITS 15
/* Longest input considered: generous for separators, short enough that no
 * hostile value costs anything. */
#define PHONE_IN_MAX 64

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool is_separator(char c)
{
	return c == ' ' || c == '\t' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')';
}

bool phone_is_e164(const char *s)
{
	if (!s || s[0] != '+' || !is_digit(s[1]) || s[1] == '0')
		return false;
	size_t n = 0;
	for (const char *p = s + 1; *p; p++, n++)
		if (!is_digit(*p))
			return false;
	return n >= E164_MIN_DIGITS && n <= E164_MAX_DIGITS;
}

/* Copies the digits of in into out (at most cap - 1 of them), with a '+'
 * kept only as the first character. A "(0)" right after an international
 * start is the trunk hint some countries print and is not dialled from
 * abroad. False for any other character or an overlong value. */
static bool compact(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	if (strlen(in) > PHONE_IN_MAX)
		return false;
	for (const char *p = in; *p; p++) {
		if (*p == '+' && n == 0) {
			out[n++] = '+';
		} else if (*p == '(' && p[1] == '0' && p[2] == ')' && n > 1 && out[0] == '+') {
			p += 2;
		} else if (is_digit(*p)) {
			if (n + 1 >= cap)
				return false;
			out[n++] = *p;
		} else if (!is_separator(*p)) {
			return false;
		}
	}
	out[n] = '\0';
	return true;
}

/* Writes "+" cc digits into out if it fits; the E.164 check follows. */
static bool join(const char *cc, const char *digits, char out[PHONE_LEN])
{
	size_t a = strlen(cc), b = strlen(digits);
	if (1 + a + b >= PHONE_LEN)
		return false;
	out[0] = '+';
	memcpy(out + 1, cc, a);
	memcpy(out + 1 + a, digits, b + 1);
	return true;
}

/* Returns digits past the first of the comma-separated trunk prefixes it
 * starts with, or digits itself. */
static const char *drop_trunk(const char *digits, const char *trunks)
{
	while (*trunks) {
		size_t len = strcspn(trunks, ",");
		if (len > 0 && strncmp(digits, trunks, len) == 0)
			return digits + len;
		trunks += len;
		if (*trunks == ',')
			trunks++;
	}
	return digits;
}

bool phone_compact_e164(const char *in, char out[PHONE_LEN])
{
	if (!in || !compact(in, out, PHONE_LEN) || !phone_is_e164(out)) {
		out[0] = '\0';
		return false;
	}
	return true;
}

bool phone_normalise(const char *in, const char *country, char out[PHONE_LEN])
{
	char d[PHONE_IN_MAX + 1];
	bool ok = false;
	out[0] = '\0';
	if (!in || !compact(in, d, sizeof d))
		return false;
	if (d[0] == '+') {
		ok = join("", d + 1, out);
	} else if (d[0] == '0' && d[1] == '0') {
		ok = join("", d + 2, out); /* the international prefix of most of the world */
	} else {
		const char *cc = country_calling_code(country);
		const char *trunks = country_trunk_prefixes(country);
		ok = cc && trunks && join(cc, drop_trunk(d, trunks), out);
	}
	if (!ok || !phone_is_e164(out)) {
		out[0] = '\0';
		return false;
	}
	return true;
}
