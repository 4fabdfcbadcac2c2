/* SPDX-License-Identifier: MIT */
/* Strict UTF-8 (RFC 3629): json-c lets overlong forms, surrogates and code
 * points above U+10FFFF through, so bodies are checked here first. */
#ifndef INKASSO_UTF8_H
#define INKASSO_UTF8_H
#include <stdbool.h>
#include <stddef.h>

/* Length (1..4) of the well-formed sequence at s (n bytes left), or 0. */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* True if s[0..n) is well-formed UTF-8 without NUL bytes; otherwise false
 * with the offset of the first bad byte in *bad (when bad is not NULL). */
bool utf8_valid(const char *s, size_t n, size_t *bad);

#endif
