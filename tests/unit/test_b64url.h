/* SPDX-License-Identifier: MIT */
/* Unpadded base64url (RFC 7515 2) for the token tests: written here, apart
 * from the service's decoder (auth_b64url_decode), so that a fault in one
 * is not hidden by the same fault in the other. malloc'd; free() it. */
#ifndef INKASSO_TEST_B64URL_H
#define INKASSO_TEST_B64URL_H
#include <criterion/criterion.h>
#include <stdlib.h>

static inline char *b64url(const unsigned char *p, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out = malloc(n * 4 / 3 + 4);
	cr_assert_not_null(out);
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = tab[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = tab[v & 63];
	}
	out[o] = '\0';
	return out;
}

#endif
