/* SPDX-License-Identifier: MIT */
#include "handlers/cursor.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/jsonw.h"

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void cursor_encode(int64_t seq, char out[CURSOR_MAX])
{
	char raw[32];
	int n = snprintf(raw, sizeof raw, "v1.%" PRId64, seq);
	size_t o = 0;
	for (int i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)raw[i] << 16;
		int left = n - i;
		if (left > 1)
			v |= (uint32_t)(unsigned char)raw[i + 1] << 8;
		if (left > 2)
			v |= (unsigned char)raw[i + 2];
		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		if (left > 1)
			out[o++] = b64url[(v >> 6) & 63];
		if (left > 2)
			out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
}

bool cursor_decode(const char *s, int64_t *seq)
{
	size_t n = strlen(s);
	if (n == 0 || n > 32 || n % 4 == 1)
		return false;
	char raw[32];
	size_t r = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		const char *p = strchr(b64url, s[i]);
		if (!p || !s[i])
			return false;
		acc = (acc << 6) | (uint32_t)(p - b64url);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			raw[r++] = (char)((acc >> bits) & 0xFF);
		}
	}
	raw[r] = '\0';
	if (strncmp(raw, "v1.", 3) != 0 || r < 4 || r > 22)
		return false;
	int64_t v = 0;
	for (size_t i = 3; i < r; i++) {
		if (raw[i] < '0' || raw[i] > '9')
			return false;
		int d = raw[i] - '0';
		if (v > (INT64_MAX - d) / 10)
			return false; /* would overflow */
		v = v * 10 + d;
	}
	if (v <= 0)
		return false;
	/* Only our own canonical encoding is accepted (no padding bits games). */
	char again[CURSOR_MAX];
	cursor_encode(v, again);
	if (strcmp(again, s) != 0)
		return false;
	*seq = v;
	return true;
}

void cursor_page_end(struct buf *b, bool has_more, int64_t last_seq)
{
	buf_putc(b, ']');
	jw_kbool(b, false, "has_more", has_more);
	char cur[CURSOR_MAX];
	if (has_more)
		cursor_encode(last_seq, cur);
	jw_kstr(b, false, "next_cursor", has_more ? cur : NULL);
	buf_putc(b, '}');
}
