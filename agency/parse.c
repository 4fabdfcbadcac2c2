/* SPDX-License-Identifier: MIT */
#include "agency/parse.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dates.h"
#include "lib/money.h"
#include "lib/utf8.h"

/* Writes "path.key: what" into err and returns false, so that every check
 * reads `return fail(...)`. Reasons name fields, never values: the caller
 * may log them, and values can be personal data. */
static bool fail(char *err, size_t errlen, const char *path, const char *key, const char *what)
{
	if (errlen > 0)
		snprintf(err, errlen, "%s%s%s: %s", path, path[0] && key[0] ? "." : "", key, what);
	return false;
}

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

/* json-c 0.16 accepts single-quoted object keys even in strict mode: find
 * a quote outside double-quoted strings (escapes skipped). */
static bool single_quote_outside_strings(const char *data, size_t len)
{
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		char c = data[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '\'') {
			return true;
		}
	}
	return false;
}

/* Parses one JSON value from the whole of data, refusing what json-c lets
 * through (RELIABILITY.md): bad UTF-8, NUL bytes, trailing data, depth. */
static json_object *parse_root(const char *data, size_t len, char *err, size_t errlen)
{
	json_object *o = NULL;
	json_tokener *tok = NULL;
	size_t bad = 0;
	if (!data || len == 0) {
		fail(err, errlen, "", "answer", "empty");
		goto out;
	}
	if (len > INT32_MAX) {
		fail(err, errlen, "", "answer", "too large");
		goto out;
	}
	if (!utf8_valid(data, len, &bad)) {
		fail(err, errlen, "", "answer", "not valid UTF-8");
		goto out;
	}
	if (single_quote_outside_strings(data, len)) {
		fail(err, errlen, "", "answer", "not JSON");
		goto out;
	}
	tok = json_tokener_new_ex(AGENCY_JSON_DEPTH);
	if (!tok) {
		fail(err, errlen, "", "answer", "out of memory");
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, data, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	if (!o || jerr != json_tokener_success) {
		json_object_put(o);
		o = NULL;
		fail(err, errlen, "", "answer",
		     jerr == json_tokener_error_depth ? "nested too deeply" : "not JSON");
		goto out;
	}
	for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
		if (!strchr(" \t\r\n", data[i])) {
			json_object_put(o);
			o = NULL;
			fail(err, errlen, "", "answer", "trailing data after the JSON value");
			goto out;
		}
	}
out:
	if (tok) /* json_tokener_free is not NULL-safe in 0.16 */
		json_tokener_free(tok);
	return o;
}

/* The member key of object o; NULL when absent or JSON null (json-c
 * represents null as a NULL object). */
static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

/* An object member that must be an object. */
static json_object *need_object(json_object *o, const char *path, const char *key, char *err,
				size_t errlen)
{
	json_object *v = member(o, key);
	if (!json_object_is_type(v, json_type_object)) {
		fail(err, errlen, path, key, v ? "not an object" : "missing");
		return NULL;
	}
	return v;
}

/* An object member that must be an array. */
static json_object *need_array(json_object *o, const char *path, const char *key, char *err,
			       size_t errlen)
{
	json_object *v = member(o, key);
	if (!json_object_is_type(v, json_type_array)) {
		fail(err, errlen, path, key, v ? "not an array" : "missing");
		return NULL;
	}
	return v;
}

/* Copies free text, cut at outlen - 1 bytes on a UTF-8 boundary, control
 * characters as spaces (the text ends up in events and logs: CWE-117). */
static void copy_text(const char *s, size_t n, char *out, size_t outlen)
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

enum str_kind {
	STR_ID,    /* 1..AGENCY_ID_MAX bytes (buffer bound), no control characters */
	STR_TOKEN, /* [A-Za-z0-9_-], 1..AGENCY_TOKEN_MAX */
	STR_TEXT,  /* anything, cut and cleaned (copy_text) */
	STR_DATE,  /* YYYY-MM-DD, a real date */
	STR_TS,    /* YYYY-MM-DD or an RFC 3339 timestamp */
};

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
static bool read_str(json_object *o, const char *path, const char *key, enum str_kind kind,
		     bool required, char *out, size_t outlen, char *err, size_t errlen)
{
	json_object *v = member(o, key);
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
static bool read_id_or_number(json_object *o, const char *path, const char *key, bool required,
			      char *out, size_t outlen, char *err, size_t errlen)
{
	json_object *v = member(o, key);
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
static bool read_amount(json_object *o, const char *path, const char *key, int digits, int64_t *out,
			char *err, size_t errlen)
{
	json_object *v = member(o, key);
	if (!v)
		return fail(err, errlen, path, key, "missing");
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return fail(err, errlen, path, key, "not a number");
	if (!agency_amount_parse(json_object_get_string(v), digits, false, out))
		return fail(err, errlen, path, key, "not an amount in the currency's minor digits");
	return true;
}

/* A currency member: an ISO 4217 code we know; *digits gets its minor digits. */
static bool read_currency(json_object *o, const char *path, const char *key, char out[4],
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

bool agency_parse_message(const char *data, size_t len, char *out, size_t outlen)
{
	char err[8];
	bool ok = false;
	if (outlen > 0)
		out[0] = '\0';
	json_object *root = parse_root(data, len, err, sizeof err);
	json_object *m = member(root, "message");
	if (outlen > 0 && json_object_is_type(m, json_type_string)) {
		const char *s = json_object_get_string(m);
		copy_text(s, strlen(s), out, outlen);
		ok = true;
	}
	json_object_put(root);
	return ok;
}

/* The shared frame of the parsers: parse, require the top-level type. */
static json_object *root_of_type(const char *data, size_t len, enum json_type type, char *err,
				 size_t errlen)
{
	json_object *root = parse_root(data, len, err, errlen);
	if (root && !json_object_is_type(root, type)) {
		fail(err, errlen, "", "answer", type == json_type_array ? "not an array" : "not an object");
		json_object_put(root);
		return NULL;
	}
	return root;
}

bool agency_parse_validate(const char *data, size_t len, struct agency_validation *out, char *err,
			   size_t errlen)
{
	bool ok = false;
	memset(out, 0, sizeof *out);
	json_object *root = root_of_type(data, len, json_type_object, err, errlen);
	if (!root)
		goto out;
	json_object *v = member(root, "isValid");
	if (!json_object_is_type(v, json_type_boolean)) {
		fail(err, errlen, "", "isValid", v ? "not a boolean" : "missing");
		goto out;
	}
	out->is_valid = json_object_get_boolean(v);
	ok = read_str(root, "", "message", STR_TEXT, false, out->message, sizeof out->message, err,
		      errlen);
out:
	json_object_put(root);
	return ok;
}

bool agency_parse_create(const char *data, size_t len, struct agency_created *out, char *err,
			 size_t errlen)
{
	memset(out, 0, sizeof *out);
	json_object *root = root_of_type(data, len, json_type_object, err, errlen);
	bool ok = root &&
		  read_str(root, "", "invoiceNumber", STR_ID, true, out->invoice_number,
			   sizeof out->invoice_number, err, errlen) &&
		  read_str(root, "", "status", STR_TOKEN, true, out->status, sizeof out->status, err,
			   errlen);
	json_object_put(root);
	return ok;
}

bool agency_parse_distribution(const char *data, size_t len, struct agency_distribution *out,
			       char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	json_object *root = root_of_type(data, len, json_type_object, err, errlen);
	bool ok = root &&
		  read_str(root, "", "invoiceNumber", STR_ID, true, out->invoice_number,
			   sizeof out->invoice_number, err, errlen) &&
		  read_str(root, "", "status", STR_TOKEN, true, out->status, sizeof out->status, err,
			   errlen) &&
		  read_id_or_number(root, "", "caseId", false, out->case_id, sizeof out->case_id, err,
				    errlen);
	json_object_put(root);
	return ok;
}

static bool read_summary(json_object *c, const char *currency, struct agency_case *out, char *err,
			 size_t errlen)
{
	const char *p = "case.summary";
	char cur[8];
	json_object *s = need_object(c, "case", "summary", err, errlen);
	if (!s || !read_id_or_number(s, p, "caseId", true, out->case_id, sizeof out->case_id, err, errlen) ||
	    !read_str(s, p, "status", STR_TOKEN, true, out->status, sizeof out->status, err, errlen) ||
	    !read_str(s, p, "stage", STR_TOKEN, false, out->stage, sizeof out->stage, err, errlen) ||
	    !read_str(s, p, "createdAt", STR_TS, false, out->created_at, sizeof out->created_at, err,
		      errlen) ||
	    !read_str(s, p, "closedAt", STR_TS, false, out->closed_at, sizeof out->closed_at, err, errlen) ||
	    !read_str(s, p, "currency", STR_ID, false, cur, sizeof cur, err, errlen))
		return false;
	/* Amounts in another currency would be read with the wrong digits. */
	if (cur[0] && strcmp(cur, currency) != 0)
		return fail(err, errlen, p, "currency", "not the case's currency");
	return true;
}

static bool read_balance(json_object *c, int digits, struct agency_case *out, char *err, size_t errlen)
{
	const char *p = "case.balance";
	json_object *b = need_object(c, "case", "balance", err, errlen);
	return b && read_amount(b, p, "capitalAmount", digits, &out->capital, err, errlen) &&
	       read_amount(b, p, "interestAmount", digits, &out->interest, err, errlen) &&
	       read_amount(b, p, "costsAmount", digits, &out->costs, err, errlen) &&
	       read_amount(b, p, "paidAmount", digits, &out->paid, err, errlen) &&
	       read_amount(b, p, "remainingAmount", digits, &out->remaining, err, errlen);
}

static bool read_event(json_object *e, size_t i, struct agency_event *out, char *err, size_t errlen)
{
	char p[48];
	snprintf(p, sizeof p, "case.events[%zu]", i);
	memset(out, 0, sizeof *out);
	if (!json_object_is_type(e, json_type_object))
		return fail(err, errlen, p, "", "not an object");
	return read_id_or_number(e, p, "eventId", true, out->event_id, sizeof out->event_id, err, errlen) &&
	       read_str(e, p, "date", STR_TS, true, out->date, sizeof out->date, err, errlen) &&
	       read_str(e, p, "type", STR_TOKEN, true, out->type, sizeof out->type, err, errlen) &&
	       read_str(e, p, "description", STR_TEXT, false, out->description, sizeof out->description,
			err, errlen);
}

bool agency_parse_case(const char *data, size_t len, const char *currency, struct agency_case *out,
		       agency_event_fn fn, void *ctx, char *err, size_t errlen)
{
	bool ok = false;
	struct agency_event ev;
	int digits = money_currency_digits(currency);
	memset(out, 0, sizeof *out);
	json_object *root = NULL;
	if (digits < 0) {
		fail(err, errlen, "", "currency", "not a known ISO 4217 currency (caller)");
		goto out;
	}
	root = root_of_type(data, len, json_type_object, err, errlen);
	json_object *c = root ? need_object(root, "", "case", err, errlen) : NULL;
	json_object *events = c ? need_array(c, "case", "events", err, errlen) : NULL;
	if (!events || !read_summary(c, currency, out, err, errlen) ||
	    !read_balance(c, digits, out, err, errlen))
		goto out;
	size_t n = json_object_array_length(events);
	/* Validate every event before delivering any: all or nothing. */
	for (size_t i = 0; i < n; i++)
		if (!read_event(json_object_array_get_idx(events, i), i, &ev, err, errlen))
			goto out;
	for (size_t i = 0; fn && i < n; i++) {
		read_event(json_object_array_get_idx(events, i), i, &ev, err, errlen);
		if (fn(ctx, &ev) != 0)
			break;
	}
	ok = true;
out:
	json_object_put(root);
	return ok;
}

bool agency_parse_action(const char *data, size_t len, struct agency_action_answer *out, char *err,
			 size_t errlen)
{
	bool ok = false;
	memset(out, 0, sizeof *out);
	json_object *root = root_of_type(data, len, json_type_object, err, errlen);
	json_object *list = root ? need_array(root, "", "actions", err, errlen) : NULL;
	if (!list)
		goto out;
	size_t n = json_object_array_length(list);
	if (n == 0) {
		fail(err, errlen, "", "actions", "empty");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char p[32];
		struct agency_action_answer a;
		json_object *item = json_object_array_get_idx(list, i);
		snprintf(p, sizeof p, "actions[%zu]", i);
		if (!json_object_is_type(item, json_type_object)) {
			fail(err, errlen, p, "", "not an object");
			goto out;
		}
		if (!read_str(item, p, "status", STR_TOKEN, true, a.status, sizeof a.status, err, errlen))
			goto out;
		if (i == 0)
			*out = a;
	}
	ok = true;
out:
	json_object_put(root);
	return ok;
}

static bool read_payment(json_object *o, size_t i, struct agency_payment_report *out, char *err, size_t errlen)
{
	char p[32];
	int digits;
	snprintf(p, sizeof p, "[%zu]", i);
	memset(out, 0, sizeof *out);
	if (!json_object_is_type(o, json_type_object))
		return fail(err, errlen, p, "", "not an object");
	if (!read_id_or_number(o, p, "paymentId", true, out->payment_id, sizeof out->payment_id, err,
			       errlen) ||
	    !read_id_or_number(o, p, "caseId", true, out->case_id, sizeof out->case_id, err, errlen) ||
	    !read_str(o, p, "invoiceNumber", STR_ID, true, out->invoice_number, sizeof out->invoice_number,
		      err, errlen) ||
	    !read_str(o, p, "paymentDate", STR_DATE, true, out->payment_date, sizeof out->payment_date, err,
		      errlen) ||
	    !read_currency(o, p, "currency", out->currency, &digits, err, errlen) ||
	    !read_amount(o, p, "amount", digits, &out->amount, err, errlen))
		return false;
	/* A payment of nothing is not a payment; refunds are not part of this API. */
	if (out->amount == 0)
		return fail(err, errlen, p, "amount", "zero");
	return true;
}

bool agency_parse_payments(const char *data, size_t len, agency_payment_fn fn, void *ctx,
			   size_t *count, char *err, size_t errlen)
{
	bool ok = false;
	struct agency_payment_report pay;
	if (count)
		*count = 0;
	json_object *root = root_of_type(data, len, json_type_array, err, errlen);
	if (!root)
		goto out;
	size_t n = json_object_array_length(root);
	for (size_t i = 0; i < n; i++)
		if (!read_payment(json_object_array_get_idx(root, i), i, &pay, err, errlen))
			goto out;
	for (size_t i = 0; fn && i < n; i++) {
		read_payment(json_object_array_get_idx(root, i), i, &pay, err, errlen);
		if (fn(ctx, &pay) != 0)
			break;
	}
	if (count)
		*count = n;
	ok = true;
out:
	json_object_put(root);
	return ok;
}

static bool read_allocation(json_object *o, const char *sp, size_t j, int digits,
			    struct agency_allocation_report *out, char *err, size_t errlen)
{
	char p[96];
	snprintf(p, sizeof p, "%s.allocations[%zu]", sp, j);
	memset(out, 0, sizeof *out);
	if (!json_object_is_type(o, json_type_object))
		return fail(err, errlen, p, "", "not an object");
	return read_id_or_number(o, p, "allocationId", true, out->allocation_id, sizeof out->allocation_id,
				 err, errlen) &&
	       read_id_or_number(o, p, "caseId", true, out->case_id, sizeof out->case_id, err, errlen) &&
	       read_str(o, p, "invoiceNumber", STR_ID, true, out->invoice_number, sizeof out->invoice_number,
			err, errlen) &&
	       read_amount(o, p, "allocatedTotalAmount", digits, &out->amount, err, errlen) &&
	       read_str(o, p, "allocationDate", STR_DATE, true, out->allocation_date,
			sizeof out->allocation_date, err, errlen);
}

/* Reads settlement i; its allocations go to allocs (room for max of them)
 * when allocs is not NULL, else are only checked. */
static bool read_settlement(json_object *o, size_t i, struct agency_settlement_report *out,
			    struct agency_allocation_report *allocs, char *err, size_t errlen)
{
	char p[32];
	int digits;
	struct agency_allocation_report scratch;
	snprintf(p, sizeof p, "settlements[%zu]", i);
	memset(out, 0, sizeof *out);
	if (!json_object_is_type(o, json_type_object))
		return fail(err, errlen, p, "", "not an object");
	json_object *list = need_array(o, p, "allocations", err, errlen);
	if (!list ||
	    !read_id_or_number(o, p, "settlementId", true, out->settlement_id, sizeof out->settlement_id,
			       err, errlen) ||
	    !read_str(o, p, "settlementDate", STR_DATE, true, out->settlement_date,
		      sizeof out->settlement_date, err, errlen) ||
	    !read_str(o, p, "agency", STR_TEXT, false, out->agency, sizeof out->agency, err, errlen) ||
	    !read_str(o, p, "remittanceReference", STR_ID, false, out->remittance_reference,
		      sizeof out->remittance_reference, err, errlen) ||
	    !read_currency(o, p, "currency", out->currency, &digits, err, errlen) ||
	    !read_amount(o, p, "settlementAmount", digits, &out->amount, err, errlen))
		return false;
	size_t n = json_object_array_length(list);
	for (size_t j = 0; j < n; j++)
		if (!read_allocation(json_object_array_get_idx(list, j), p, j, digits,
				     allocs ? &allocs[j] : &scratch, err, errlen))
			return false;
	out->n_allocations = n;
	out->allocations = allocs;
	return true;
}

bool agency_parse_settlements(const char *data, size_t len, agency_settlement_fn fn, void *ctx,
			      size_t *count, char *err, size_t errlen)
{
	bool ok = false;
	struct agency_settlement_report s;
	struct agency_allocation_report *allocs = NULL;
	char created[AGENCY_TS_MAX + 1];
	size_t most = 0;
	if (count)
		*count = 0;
	json_object *root = root_of_type(data, len, json_type_object, err, errlen);
	json_object *list = root ? need_array(root, "", "settlements", err, errlen) : NULL;
	if (!list || !read_str(root, "", "createdAt", STR_TS, false, created, sizeof created, err, errlen))
		goto out;
	size_t n = json_object_array_length(list);
	for (size_t i = 0; i < n; i++) {
		if (!read_settlement(json_object_array_get_idx(list, i), i, &s, NULL, err, errlen))
			goto out;
		if (s.n_allocations > most)
			most = s.n_allocations;
	}
	/* One array, sized for the largest settlement, reused for each. */
	allocs = calloc(most ? most : 1, sizeof *allocs);
	if (!allocs) {
		fail(err, errlen, "", "answer", "out of memory");
		goto out;
	}
	for (size_t i = 0; fn && i < n; i++) {
		read_settlement(json_object_array_get_idx(list, i), i, &s, allocs, err, errlen);
		if (fn(ctx, &s) != 0)
			break;
	}
	if (count)
		*count = n;
	ok = true;
out:
	free(allocs);
	json_object_put(root);
	return ok;
}
