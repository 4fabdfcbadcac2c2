/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the Authorization header value through auth_verify, with
 * an HS256 verifier built once (fixed 40-byte secret; once without and once
 * with issuer and audience), at a fixed now (2026-06-01T00:00:00Z).
 * An input starting "SIGN\n" is "<header JSON>\n<claims JSON>": the harness
 * encodes and signs it with the secret, so that the fuzzer also reaches the
 * header and claim checks behind the signature. A token that passes must have
 * a well-formed tenant and an exp in the future. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/auth.h"

#define NOW 1780272000LL
static const char secret[] = "0123456789abcdef0123456789abcdef-inkasso";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t b64url(const unsigned char *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);
		out[o++] = t[v >> 18 & 63];
		out[o++] = t[v >> 12 & 63];
		if (i + 1 < n)
			out[o++] = t[v >> 6 & 63];
		if (i + 2 < n)
			out[o++] = t[v & 63];
	}
	return o;
}

/* "Bearer " b64(header) "." b64(claims) "." b64(HMAC-SHA256) from "h\nc". */
static char *sign(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	if (!nl)
		return NULL;
	size_t hn = (size_t)(nl - data), cn = size - hn - 1;
	char *s = malloc(7 + (size / 3 + 2) * 4 + 2 + 48);
	if (!s)
		return NULL;
	memcpy(s, "Bearer ", 7);
	size_t o = 7;
	o += b64url(data, hn, s + o);
	s[o++] = '.';
	o += b64url(nl + 1, cn, s + o);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)s + 7, o - 7, mac, &maclen);
	s[o++] = '.';
	o += b64url(mac, maclen, s + o);
	s[o] = '\0';
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct auth *plain, *strict;
	char err[256];
	if (!plain) {
		struct auth_config c = {.alg = "HS256", .secret = secret};
		plain = auth_new(&c, err, sizeof err);
		c.issuer = "https://id.example";
		c.audience = "inkasso";
		strict = auth_new(&c, err, sizeof err);
		if (!plain || !strict)
			abort();
	}
	char *value;
	if (size >= 5 && !memcmp(data, "SIGN\n", 5)) {
		value = sign(data + 5, size - 5);
	} else {
		value = malloc(size + 1); /* exactly the bytes and a NUL: ASan sees any overread */
		if (value) {
			memcpy(value, data, size);
			value[size] = '\0';
		}
	}
	if (!value)
		return 0;
	for (int i = 0; i < 2; i++) {
		struct auth_claims c;
		const char *why = NULL;
		bool ok = auth_verify(i ? strict : plain, value, NOW, &c, &why);
		size_t tn = strnlen(c.tenant, sizeof c.tenant);
		if (ok ? (why || tn == 0 || tn > 64 || c.exp <= NOW) : !why)
			abort();
	}
	free(value);
	return 0;
}
