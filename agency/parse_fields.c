/* SPDX-License-Identifier: MIT */
#include "agency/parse_fields.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agency/parse.h"
#include "lib/dates.h"
#include "lib/json_read.h"
#include "lib/json_strict.h"
#include "lib/money.h"
#include "lib/utf8.h"

bool fail(char *err, size_t errlen, const char *path, const char *key, const char *what)
{
	if (errlen > 0)
		snprintf(err, errlen, "%s%s%s: %s", path, path[0] && key[0] ? "." : "", key, what);
	return false;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* "not an array" or "not an object". */
static const char *not_a(enum json_type type)
{
	return type == json_type_array ? "not an array" : "not an object";
}

json_object *parse_answer(const char *data, size_t len, enum json_type type, char *err, size_t errlen)
{
	static const char *const reasons[] = {
		[JSON_STRICT_OK] = "not JSON",
		[JSON_STRICT_EMPTY] = "empty",
		[JSON_STRICT_UTF8] = "not valid UTF-8",
		[JSON_STRICT_SYNTAX] = "not JSON",
		[JSON_STRICT_DEPTH] = "nested too deeply",
		[JSON_STRICT_TRAILING] = "trailing data after the JSON value",
		[JSON_STRICT_NUL] = "contains NUL",
		[JSON_STRICT_NOT_OBJECT] = "not an object",
		[JSON_STRICT_NO_MEMORY] = "out of memory",
	};
	enum json_strict_error e;
	/* The strict parser's own sentence names byte offsets: the agency's
	 * reasons stay the short ones its callers log. */
	json_object *o = json_strict_parse(data ? data : "", data ? len : 0, AGENCY_JSON_DEPTH, false, &e, NULL, 0);
	if (!o) {
		fail(err, errlen, "", "answer", reasons[e]);
		return NULL;
	}
	if (!json_object_is_type(o, type)) {
		fail(err, errlen, "", "answer", not_a(type));
		json_object_put(o);
		return NULL;
	}
	return o;
}

json_object *need_member(json_object *o, const char *path, const char *key, enum json_type type, char *err,
			 size_t errlen)
{
	json_object *v = json_member(o, key);
	if (!json_object_is_type(v, type)) {
		fail(err, errlen, path, key, v ? not_a(type) : "missing");
		return NULL;
	}
	return v;
}

/* Copies free text, cut at outlen - 1 bytes on a UTF-8 boundary, control
 * characters as spaces (the text ends up in events and logs: CWE-117). */
void copy_text(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
	if (outlen == 0)
		return;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq_len((const unsigned char *)s + i, n - i);
		if (k == 0) {
			if (o + 1 >= outlen)
				break;
			out[o++] = '?'; /* unreachable for checked bodies; cheap to keep safe */
			i++;
			continue;
		}
		if (o + k >= outlen)
			break;
		if (k == 1 && ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)) {
			out[o++] = ' ';
		} else {
			memcpy(out + o, s + i, k);
			o += k;
		}
		i += k;
	}
	out[o] = '\0';
}


static bool token_valid(const char *s, size_t n)
{
	if (n == 0 || n > AGENCY_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!(is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static bool two_digits(const char *s, int max)
{
	return is_digit(s[0]) && is_digit(s[1]) && (s[0] - '0') * 10 + (s[1] - '0') <= max;
}

/* YYYY-MM-DD, or RFC 3339: date "T" HH:MM:SS[.frac] ("Z" | ("+"|"-") HH:MM). */
static bool timestamp_valid(const char *s, size_t n)
{
	char day[DATES_LEN];
	if (n < 10 || n > AGENCY_TS_MAX)
		return false;
	memcpy(day, s, 10);
	day[10] = '\0';
	if (!dates_valid(day))
		return false;
	if (n == 10)
		return true;
	const char *p = s + 10, *end = s + n;
	if (end - p < 10 || (*p != 'T' && *p != 't') || !two_digits(p + 1, 23) || p[3] != ':' ||
	    !two_digits(p + 4, 59) || p[6] != ':' || !two_digits(p + 7, 60))
		return false;
	p += 9;
	if (*p == '.') {
		const char *f = ++p;
		while (p < end && is_digit(*p))
			p++;
		if (p == f || p - f > 9)
			return false;
	}
	if (end - p == 1 && (*p == 'Z' || *p == 'z'))
		return true;
	return end - p == 6 && (*p == '+' || *p == '-') && two_digits(p + 1, 23) && p[3] == ':' &&
	       two_digits(p + 4, 59);
}

/* Reads a string member into out (size outlen) as kind. A required member
 * must be present and non-null; an optional one absent or null gives "". */
bool read_str(json_object *o, const char *path, const char *key, enum str_kind kind,
		     bool required, char *out, size_t outlen, char *err, size_t errlen)
{
	json_object *v = json_member(o, key);
	out[0] = '\0';
	if (!v)
		return required ? fail(err, errlen, path, key, "missing") : true;
	if (!json_object_is_type(v, json_type_string))
		return fail(err, errlen, path, key, "not a string");
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	/* "x\u0000y": json-c keeps 3 bytes, C sees 1. */
	if (strlen(s) != n)
		return fail(err, errlen, path, key, "contains NUL");
	switch (kind) {
	case STR_TEXT:
		copy_text(s, n, out, outlen);
		return true;
	case STR_TOKEN:
		if (!token_valid(s, n))
			return fail(err, errlen, path, key, "not a status token");
		break;
	case STR_DATE:
		if (!dates_valid(s))
			return fail(err, errlen, path, key, "not a date (YYYY-MM-DD)");
		break;
	case STR_TS:
		if (!timestamp_valid(s, n))
			return fail(err, errlen, path, key, "not a date or RFC 3339 timestamp");
		break;
	case STR_ID:
		if (n == 0)
			return fail(err, errlen, path, key, "empty");
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				return fail(err, errlen, path, key, "contains control characters");
		break;
	}
	if (n >= outlen)
		return fail(err, errlen, path, key, "too long");
	memcpy(out, s, n + 1);
	return true;
}

/* An identifier that some agencies send as a number: a non-negative JSON
 * integer becomes its digits; strings are read as STR_ID. */
bool read_id_or_number(json_object *o, const char *path, const char *key, bool required,
			      char *out, size_t outlen, char *err, size_t errlen)
{
	json_object *v = json_member(o, key);
	if (!json_object_is_type(v, json_type_int))
		return read_str(o, path, key, STR_ID, required, out, outlen, err, errlen);
	int64_t id = json_object_get_int64(v);
	/* json-c clamps integers beyond int64 to INT64_MAX: not an id we can trust. */
	if (id < 0 || id == INT64_MAX)
		return fail(err, errlen, path, key, "not a usable number");
	snprintf(out, outlen, "%" PRId64, id);
	return true;
}

/* An amount member: a JSON number (never a string) in `digits` minor digits,
 * >= 0. The number's source text is parsed, not its double (json-c keeps the
 * text of doubles read from input; integers serialise exactly). */
bool read_amount(json_object *o, const char *path, const char *key, int digits, int64_t *out,
			char *err, size_t errlen)
{
	json_object *v = json_member(o, key);
	if (!v)
		return fail(err, errlen, path, key, "missing");
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return fail(err, errlen, path, key, "not a number");
	if (!agency_amount_parse(json_object_get_string(v), digits, false, out))
		return fail(err, errlen, path, key, "not an amount in the currency's minor digits");
	return true;
}

/* A currency member: an ISO 4217 code we know; *digits gets its minor digits. */
bool read_currency(json_object *o, const char *path, const char *key, char out[4],
			  int *digits, char *err, size_t errlen)
{
	char code[8];
	if (!read_str(o, path, key, STR_ID, true, code, sizeof code, err, errlen))
		return false;
	*digits = money_currency_digits(code);
	if (*digits < 0)
		return fail(err, errlen, path, key, "not a known ISO 4217 currency");
	memcpy(out, code, 4);
	return true;
}
