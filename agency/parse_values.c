/* SPDX-License-Identifier: MIT */
/* The agency's values that are not JSON: amounts as decimal text and the
 * Retry-After header. */
#include <curl/curl.h>
#include <string.h>

#include "agency/parse.h"
#include "lib/money.h"

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool agency_amount_parse(const char *text, int digits, bool allow_negative, int64_t *out)
{
	const char *p = text;
	bool negative = false;
	int64_t v = 0;
	int frac = 0;
	if (!p || digits < 0 || digits > 9)
		return false;
	if (*p == '-') {
		if (!allow_negative)
			return false;
		negative = true;
		p++;
	}
	/* JSON grammar: at least one digit, no leading zero ("01"). */
	if (!is_digit(*p) || (p[0] == '0' && is_digit(p[1])))
		return false;
	/* v stays <= MONEY_MAX (1e13) before each "* 10 + 9": no overflow. */
	for (; is_digit(*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > MONEY_MAX)
			return false;
	}
	if (*p == '.') {
		p++;
		if (!is_digit(*p))
			return false; /* "1." */
		for (; is_digit(*p); p++) {
			if (frac == digits) {
				/* Zeros beyond the minor digits do not change the value
				 * (an agency formatting with a longer table); anything
				 * else is a fraction of a minor unit. */
				if (*p != '0')
					return false;
				continue;
			}
			v = v * 10 + (*p - '0');
			frac++;
			if (v > MONEY_MAX)
				return false;
		}
	}
	if (*p != '\0')
		return false; /* exponents (1e5), NaN, Infinity, anything else */
	for (; frac < digits; frac++) {
		v *= 10;
		if (v > MONEY_MAX)
			return false;
	}
	*out = negative ? -v : v;
	return true;
}

int agency_retry_after(const char *value, time_t now)
{
	if (!value)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	size_t n = strlen(value);
	while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
		n--;
	if (n == 0 || n > 64)
		return -1;
	char v[65];
	memcpy(v, value, n);
	v[n] = '\0';
	if (is_digit(v[0])) {
		long secs = 0;
		for (size_t i = 0; i < n; i++) {
			if (!is_digit(v[i]))
				return -1;
			if (secs < AGENCY_RETRY_AFTER_MAX) /* saturate: no overflow on long digit runs */
				secs = secs * 10 + (v[i] - '0');
		}
		return secs > AGENCY_RETRY_AFTER_MAX ? AGENCY_RETRY_AFTER_MAX : (int)secs;
	}
	/* The three HTTP-date forms (IMF-fixdate, RFC 850, asctime) all begin
	 * with a day name; curl_getdate reads all of them, but is lenient
	 * about anything else, so other shapes are refused first. */
	if (!((v[0] >= 'A' && v[0] <= 'Z') || (v[0] >= 'a' && v[0] <= 'z')))
		return -1;
	time_t t = curl_getdate(v, NULL);
	if (t == (time_t)-1)
		return -1;
	if (t <= now)
		return 0;
	return t - now > AGENCY_RETRY_AFTER_MAX ? AGENCY_RETRY_AFTER_MAX : (int)(t - now);
}
