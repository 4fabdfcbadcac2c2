/* SPDX-License-Identifier: MIT */
#include "lib/json_strict.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/utf8.h"

/* Finds a string (or key) holding a NUL, which json-c accepts from "\u0000";
 * writes its JSON pointer into ptr. Depth is already bounded by the parser. */
static bool find_nul(json_object *o, char *ptr, size_t plen)
{
	size_t used = strlen(ptr);
	if (json_object_is_type(o, json_type_string))
		return strlen(json_object_get_string(o)) != (size_t)json_object_get_string_len(o);
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, val)
		{
			snprintf(ptr + used, plen - used, "/%s", key);
			if (find_nul(val, ptr, plen))
				return true;
		}
	} else if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);
		for (size_t i = 0; i < n; i++) {
			snprintf(ptr + used, plen - used, "/%zu", i);
			if (find_nul(json_object_array_get_idx(o, i), ptr, plen))
				return true;
		}
	}
	ptr[used] = '\0';
	return false;
}

/* The value of 4 hex digits at p (which has 4 bytes), or -1. */
static long hex4(const char *p)
{
	long v = 0;
	for (int k = 0; k < 4; k++) {
		int d = p[k] >= '0' && p[k] <= '9'   ? p[k] - '0'
			: p[k] >= 'a' && p[k] <= 'f' ? p[k] - 'a' + 10
			: p[k] >= 'A' && p[k] <= 'F' ? p[k] - 'A' + 10
						     : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* json-c 0.16 accepts, even with JSON_TOKENER_STRICT, what RFC 8259 forbids:
 * single-quoted strings, NaN and Infinity, raw control characters inside
 * strings, lone UTF-16 surrogate escapes ("\ud800", which it turns into
 * U+FFFD); and it cuts an object key at "\u0000" ({"a\u0000b":1} has the key
 * "a"), which no later check can see (a NUL in a value is found by find_nul,
 * which names its pointer). One pass over the raw bytes refuses them; returns
 * NULL or what is wrong, with *bad the offset of the offending byte. */
static const char *json_lexical_problem(const char *b, size_t n, size_t *bad)
{
	bool in_string = false;
	size_t nul_at = 0;
	bool has_nul = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];
		*bad = i;
		if (in_string) {
			if (c < 0x20)
				return "control character in a string";
			if (c == '\\') {
				if (!has_nul && i + 5 < n && b[i + 1] == 'u' && !memcmp(b + i + 2, "0000", 4)) {
					has_nul = true;
					nul_at = i;
				}
				long u = i + 5 < n && b[i + 1] == 'u' ? hex4(b + i + 2) : -1;
				if (u >= 0xdc00 && u <= 0xdfff)
					return "a lone low surrogate escape";
				if (u >= 0xd800 && u <= 0xdbff) {
					/* json-c would store U+FFFD for a lone one: the text
					 * is not Unicode, so it is refused, not repaired. */
					bool escape = i + 11 < n && b[i + 6] == '\\' && b[i + 7] == 'u';
					long lo = escape ? hex4(b + i + 8) : -1;
					if (lo < 0xdc00 || lo > 0xdfff)
						return "a lone high surrogate escape";
					i += 6; /* the pair's second half is checked here */
				}
				i++; /* the escaped character cannot end the string */
			} else if (c == '"') {
				in_string = false;
				size_t j = i + 1;
				while (j < n && strchr(" \t\r\n", b[j]) && b[j])
					j++;
				if (has_nul && j < n && b[j] == ':') {
					*bad = nul_at;
					return "NUL character in a key";
				}
			}
			continue;
		}
		if (c == '"') {
			in_string = true;
			has_nul = false;
		} else if (c == 't' || c == 'f' || c == 'n') {
			const char *word = c == 't' ? "true" : c == 'f' ? "false" : "null";
			size_t wl = strlen(word);
			if (n - i < wl || memcmp(b + i, word, wl) != 0)
				return "unexpected character";
			i += wl - 1;
		} else if (c == 'e' || c == 'E') {
			if (i == 0 || !strchr("0123456789", b[i - 1]) || !b[i - 1]) /* only a number's exponent */
				return "unexpected character";
		} else if (c == '\0' || !strchr(" \t\r\n{}[],:-+.0123456789", c)) {
			return "unexpected character";
		}
	}
	return NULL;
}

static json_object *refuse(enum json_strict_error *error, enum json_strict_error e, char *why, size_t whylen,
			   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Sets *error and why; returns NULL for the caller to return. */
static json_object *refuse(enum json_strict_error *error, enum json_strict_error e, char *why, size_t whylen,
			   const char *fmt, ...)
{
	*error = e;
	if (why && whylen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return NULL;
}

json_object *json_strict_parse(const char *text, size_t len, int depth, bool object_only,
			       enum json_strict_error *error, char *why, size_t whylen)
{
	size_t bad;
	*error = JSON_STRICT_OK;
	if (len == 0)
		return refuse(error, JSON_STRICT_EMPTY, why, whylen, "the body is empty; send a JSON object");
	if (len > INT32_MAX)
		return refuse(error, JSON_STRICT_SYNTAX, why, whylen, "too large to parse");
	if (!utf8_valid(text, len, &bad))
		return refuse(error, JSON_STRICT_UTF8, why, whylen, "the body is not valid UTF-8 (byte %zu)", bad);
	/* Saying "an object" up front also beats json-c's "unexpected end" for
	 * a bare number, which it waits to see finished. */
	size_t first = 0;
	while (first < len && text[first] && strchr(" \t\r\n", text[first]))
		first++; /* bounded by len: text need not be NUL-terminated */
	if (object_only && (first >= len || text[first] != '{'))
		return refuse(error, JSON_STRICT_NOT_OBJECT, why, whylen, "the body must be a JSON object");
	json_tokener *tok = json_tokener_new_ex(depth);
	if (!tok)
		return refuse(error, JSON_STRICT_NO_MEMORY, why, whylen, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *o = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!o || jerr != json_tokener_success) {
		json_object_put(o);
		return refuse(error, jerr == json_tokener_error_depth ? JSON_STRICT_DEPTH : JSON_STRICT_SYNTAX, why,
			      whylen, "not valid JSON at byte %zu: %s", end,
			      jerr == json_tokener_continue ? "unexpected end" : json_tokener_error_desc(jerr));
	}
	/* json-c stops after the first value: anything but whitespace after it
	 * is trailing data that must not be silently ignored. */
	for (size_t i = end; i < len; i++) {
		if (!strchr(" \t\r\n", text[i]) || !text[i]) {
			json_object_put(o);
			return refuse(error, JSON_STRICT_TRAILING, why, whylen,
				      "trailing data after the JSON value at byte %zu", i);
		}
	}
	/* What json-c let through that is not JSON (see json_lexical_problem). */
	const char *lex = json_lexical_problem(text, len, &bad);
	if (lex) {
		json_object_put(o);
		return refuse(error, JSON_STRICT_SYNTAX, why, whylen, "not valid JSON at byte %zu: %s", bad, lex);
	}
	if (object_only && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return refuse(error, JSON_STRICT_NOT_OBJECT, why, whylen, "the body must be a JSON object");
	}
	/* Only "\u0000" makes a NUL (raw control bytes were refused above), so
	 * the walk that names its pointer runs only when the text has one. */
	char ptr[256] = "";
	if (memmem(text, len, "\\u0000", 6) && find_nul(o, ptr, sizeof ptr)) {
		json_object_put(o);
		return refuse(error, JSON_STRICT_NUL, why, whylen, "NUL character in %s", ptr[0] ? ptr : "a key");
	}
	return o;
}
