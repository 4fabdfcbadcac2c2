/* SPDX-License-Identifier: MIT */
#include "lib/jsonw.h"

#include "lib/utf8.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Bytes copied as they are: printable ASCII except '"' and '\\'. The rest
 * (controls, DEL, quotes, backslashes, UTF-8 lead bytes) goes through the
 * slow path below. The listing writes ~60 KB of strings per page, so the
 * common case is a tight scan and one copy per run. */
static inline bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* Eight bytes at a time: true when none of them needs the slow path (the
 * SWAR tests of "has a byte less than / equal to", Hacker's Delight 6-1). */
static inline bool plain8(const unsigned char *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof w);
	const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
	uint64_t low = (w - ones * 0x20) & ~w;                     /* bytes < 0x20 (or >= 0x80) */
	uint64_t quote = w ^ (ones * '"'), bslash = w ^ (ones * '\\'), del = w ^ (ones * 0x7f);
	uint64_t eq = ((quote - ones) & ~quote) | ((bslash - ones) & ~bslash) | ((del - ones) & ~del);
	return ((low | eq | w) & highs) == 0;
}

void jw_strn(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	buf_putc(b, '"');
	size_t run = 0; /* start of the pending run of bytes copied verbatim */
	size_t i = 0;
	while (i < n) {
		while (i + 8 <= n && plain8(p + i))
			i += 8;
		while (i < n && plain(p[i]))
			i++;
		if (i == n)
			break;
		unsigned c = p[i];
		const char *esc = NULL;
		char ubuf[7];
		size_t adv = 1;
		if (c == '"')
			esc = "\\\"";
		else if (c == '\\')
			esc = "\\\\";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\r')
			esc = "\\r";
		else if (c == '\t')
			esc = "\\t";
		else if (c < 0x20 || c == 0x7F) {
			ubuf[0] = '\\';
			ubuf[1] = 'u';
			ubuf[2] = '0';
			ubuf[3] = '0';
			ubuf[4] = hex[c >> 4];
			ubuf[5] = hex[c & 15];
			ubuf[6] = '\0';
			esc = ubuf;
		} else if (c >= 0x80) {
			adv = utf8_seq_len(p + i, n - i);
			if (adv == 0) {
				esc = "\\ufffd";
				adv = 1;
			} else if (adv == 3 && c == 0xE2 && p[i + 1] == 0x80 &&
				   (p[i + 2] == 0xA8 || p[i + 2] == 0xA9)) {
				/* U+2028/2029 break JavaScript string literals. */
				esc = p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
			}
		}
		if (esc) {
			buf_append(b, s + run, i - run);
			buf_puts(b, esc);
			i += adv;
			run = i;
		} else {
			i += adv;
		}
	}
	buf_append(b, s + run, n - run);
	buf_putc(b, '"');
}

void jw_str(struct buf *b, const char *s)
{
	if (!s) {
		buf_puts(b, "null");
		return;
	}
	jw_strn(b, s, strlen(s));
}

void jw_key(struct buf *b, bool first, const char *key)
{
	/* Keys are nearly always the program's own short names: written in one
	 * copy when every byte is plain, else escaped like any string. */
	size_t n = strlen(key), i = 0;
	while (i + 8 <= n && plain8((const unsigned char *)key + i))
		i += 8;
	while (i < n && plain((unsigned char)key[i]))
		i++;
	if (i == n && buf_reserve(b, n + 4)) {
		char *o = b->data + b->len;
		if (!first)
			*o++ = ',';
		*o++ = '"';
		memcpy(o, key, n);
		o += n;
		*o++ = '"';
		*o++ = ':';
		*o = '\0';
		b->len = (size_t)(o - b->data);
		return;
	}
	if (!first)
		buf_putc(b, ',');
	jw_str(b, key);
	buf_putc(b, ':');
}

void jw_kstr(struct buf *b, bool first, const char *key, const char *val)
{
	jw_key(b, first, key);
	jw_str(b, val);
}

void jw_kstr_or_null(struct buf *b, bool first, const char *key, const char *val)
{
	jw_key(b, first, key);
	jw_str(b, (val && *val) ? val : NULL);
}

/* Appends an integer, by hand: snprintf was a visible share of writing a
 * listing. */
static void put_int(struct buf *b, int64_t val)
{
	char num[24], *end = num + sizeof num, *p = end;
	uint64_t u = val < 0 ? (uint64_t)0 - (uint64_t)val : (uint64_t)val;
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (val < 0)
		*--p = '-';
	buf_append(b, p, (size_t)(end - p));
}

void jw_kint(struct buf *b, bool first, const char *key, int64_t val)
{
	jw_key(b, first, key);
	put_int(b, val);
}

void jw_kbool(struct buf *b, bool first, const char *key, bool val)
{
	jw_key(b, first, key);
	buf_puts(b, val ? "true" : "false");
}

void jw_kraw(struct buf *b, bool first, const char *key, const char *raw)
{
	jw_key(b, first, key);
	buf_puts(b, raw ? raw : "null");
}

void jw_lstr(struct buf *b, bool first, const char *lit, size_t n, const char *val)
{
	jw_lkey(b, first, lit, n);
	jw_str(b, val);
}

void jw_lint(struct buf *b, bool first, const char *lit, size_t n, int64_t val)
{
	jw_lkey(b, first, lit, n);
	put_int(b, val);
}

void jw_lbool(struct buf *b, bool first, const char *lit, size_t n, bool val)
{
	jw_lkey(b, first, lit, n);
	buf_puts(b, val ? "true" : "false");
}

void jw_lraw(struct buf *b, bool first, const char *lit, size_t n, const char *raw)
{
	jw_lkey(b, first, lit, n);
	buf_puts(b, raw ? raw : "null");
}

void jw_lstr_or_null(struct buf *b, bool first, const char *lit, size_t n, const char *val)
{
	jw_lkey(b, first, lit, n);
	jw_str(b, (val && *val) ? val : NULL);
}
