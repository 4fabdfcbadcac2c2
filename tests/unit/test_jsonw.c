/* SPDX-License-Identifier: MIT */
/* The JSON writer's string and key output (lib/jsonw.c): the fast paths
 * (eight bytes at a time, keys in one copy) must write exactly what the
 * byte-by-byte rules do. Pure. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jsonw.h"
#include "lib/utf8.h"

/* The rules, one byte at a time, written apart from lib/jsonw.c. */
static void reference_strn(struct buf *b, const unsigned char *p, size_t n)
{
	buf_putc(b, '"');
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		char esc[8];
		if (c == '"' || c == '\\') {
			snprintf(esc, sizeof esc, "\\%c", c);
		} else if (c == '\n' || c == '\r' || c == '\t') {
			snprintf(esc, sizeof esc, "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
		} else if (c >= 0x80) {
			size_t len = utf8_seq_len(p + i, n - i);
			if (len == 0) {
				buf_puts(b, "\\ufffd");
				i++;
			} else if (len == 3 && c == 0xE2 && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9)) {
				buf_puts(b, p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029");
				i += 3;
			} else {
				buf_append(b, p + i, len);
				i += len;
			}
			continue;
		} else {
			esc[0] = (char)c;
			esc[1] = '\0';
		}
		buf_puts(b, esc);
		i++;
	}
	buf_putc(b, '"');
}

static void expect_same(const unsigned char *p, size_t n)
{
	struct buf got = {0}, want = {0};
	jw_strn(&got, (const char *)p, n);
	reference_strn(&want, p, n);
	cr_assert_not(got.oom);
	cr_assert_eq(got.len, want.len, "length %zu vs %zu for an input of %zu bytes", got.len, want.len, n);
	cr_assert(memcmp(got.data, want.data, got.len) == 0, "output differs for an input of %zu bytes", n);
	buf_free(&got);
	buf_free(&want);
}

Test(jsonw, every_byte_value_at_every_offset_of_a_word)
{
	/* Each byte 0..255 at each position of a 8-byte block and past it, in
	 * plain text: a byte the word test misses would be copied raw. */
	unsigned char s[24];
	for (int c = 0; c < 256; c++) {
		for (size_t at = 0; at < sizeof s; at++) {
			memset(s, 'a', sizeof s);
			s[at] = (unsigned char)c;
			for (size_t n = at + 1; n <= sizeof s; n += 7)
				expect_same(s, n);
		}
	}
}

Test(jsonw, random_text_with_utf8_and_controls)
{
	static const char *const pieces[] = {"a",  "Z",  " ",    "~",    "\"",           "\\",       "\n",
					     "\t", "\x01", "\x7f", "\xc3\xa5", "\xe2\x80\xa8", "\xe2\x82\xac",
					     "\xf0\x9f\x98\x80", "\xc3", "\xff", "0123456789"};
	srand(7);
	unsigned char s[256];
	for (int round = 0; round < 20000; round++) {
		size_t n = 0;
		size_t want = (size_t)(rand() % 200);
		while (n < want) {
			const char *piece = pieces[rand() % (int)(sizeof pieces / sizeof pieces[0])];
			size_t len = strlen(piece);
			memcpy(s + n, piece, len);
			n += len;
		}
		expect_same(s, n);
	}
}

Test(jsonw, keys_are_written_as_strings)
{
	struct buf b = {0};
	buf_putc(&b, '{');
	jw_kint(&b, true, "id", 1);
	jw_kstr(&b, false, "a\"b", "x");
	jw_kraw(&b, false, "an_exceptionally_long_key_name_past_the_quick_copy", "true");
	jw_kraw(&b, false, "", "null");
	buf_putc(&b, '}');
	cr_expect_str_eq(buf_cstr(&b),
			 "{\"id\":1,\"a\\\"b\":\"x\",\"an_exceptionally_long_key_name_past_the_quick_copy\":true,"
			 "\"\":null}");
	buf_free(&b);
}

Test(jsonw, literal_keys_write_what_the_named_keys_write)
{
	struct buf k = {0}, l = {0};
	buf_putc(&k, '{');
	jw_kstr(&k, true, "id", "cc_1");
	jw_kint(&k, false, "amount", -1250);
	jw_kbool(&k, false, "forwarded", true);
	jw_kraw(&k, false, "actor", NULL);
	jw_kstr_or_null(&k, false, "last_error", "");
	jw_key(&k, false, "balance");
	buf_putc(&k, '}');
	buf_putc(&l, '{');
	jw_lstr(&l, true, JW_K("id"), "cc_1");
	jw_lint(&l, false, JW_K("amount"), -1250);
	jw_lbool(&l, false, JW_K("forwarded"), true);
	jw_lraw(&l, false, JW_K("actor"), NULL);
	jw_lstr_or_null(&l, false, JW_K("last_error"), "");
	jw_lkey(&l, false, JW_K("balance"));
	buf_putc(&l, '}');
	cr_expect_str_eq(buf_cstr(&l), buf_cstr(&k));
	cr_expect_str_eq(buf_cstr(&l),
			 "{\"id\":\"cc_1\",\"amount\":-1250,\"forwarded\":true,\"actor\":null,\"last_error\":null,"
			 "\"balance\":}");
	buf_free(&k);
	buf_free(&l);
}
