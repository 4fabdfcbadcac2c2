/* SPDX-License-Identifier: MIT */
/* A direct JSON writer onto a struct buf. Responses are written with it
 * instead of building json-c trees (json-c is for parsing only): it is the
 * difference between ~140 µs and a few µs for a 50-case listing.
 * The caller writes commas itself through jw_key/jw_sep, kept explicit so the
 * output shape reads straight from the code. */
#ifndef INKASSO_JSONW_H
#define INKASSO_JSONW_H
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"

/* Appends s as a JSON string literal (quotes included); NULL writes null.
 * Control characters, quotes, backslashes, U+2028/9 are escaped; invalid UTF-8
 * bytes are replaced by U+FFFD so the output is always valid JSON. */
void jw_str(struct buf *b, const char *s);
/* Same for a counted string (may contain NUL, which is escaped). */
void jw_strn(struct buf *b, const char *s, size_t n);
/* Appends "key": (with a leading comma unless first). */
void jw_key(struct buf *b, bool first, const char *key);
/* Appends "key":"value" / null. */
void jw_kstr(struct buf *b, bool first, const char *key, const char *val);
/* Appends "key":value for an integer. */
void jw_kint(struct buf *b, bool first, const char *key, int64_t val);
/* Appends "key":true|false. */
void jw_kbool(struct buf *b, bool first, const char *key, bool val);
/* Appends "key":<raw>, raw being already valid JSON (NULL writes null). */
void jw_kraw(struct buf *b, bool first, const char *key, const char *raw);
/* Appends "key":"value", or null when val is NULL or empty. */
void jw_kstr_or_null(struct buf *b, bool first, const char *key, const char *val);

/* The same writers with the key as a literal, for the answers written most
 * (a case, its events and lists): JW_K("name") is the text ,"name": and its
 * length, made by the compiler, so a key costs one copy instead of a strlen
 * and a scan. The name must be a string literal needing no escape; a
 * variable does not compile. */
#define JW_K(name) ",\"" name "\":", (sizeof(",\"" name "\":") - 1)
static inline void jw_lkey(struct buf *b, bool first, const char *lit, size_t n)
{
	buf_append(b, lit + first, n - first);
}
void jw_lstr(struct buf *b, bool first, const char *lit, size_t n, const char *val);
void jw_lint(struct buf *b, bool first, const char *lit, size_t n, int64_t val);
void jw_lbool(struct buf *b, bool first, const char *lit, size_t n, bool val);
void jw_lraw(struct buf *b, bool first, const char *lit, size_t n, const char *raw);
void jw_lstr_or_null(struct buf *b, bool first, const char *lit, size_t n, const char *val);

#endif
