/* SPDX-License-Identifier: MIT */
#include "webhooks/sign.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>

#include "lib/ids.h"

#define SECRET_PREFIX "whsec_"
#define SECRET_RANDOM_BYTES 32
#define MAC_LEN 32     /* SHA-256 */
#define MAC_B64_LEN 44 /* base64 of 32 bytes, padded */
/* A timestamp of more digits is further in the future than any clock: the
 * bound also keeps the distance to now free of overflow. */
#define TIMESTAMP_MAX_DIGITS 12

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes standard base64 (padding optional, nothing else allowed) into out;
 * returns the byte count, or -1 for bad input or more than outmax bytes.
 * EVP_DecodeBlock is not used: it skips whitespace and counts padding as
 * zero bytes. */
static int b64_decode(const char *s, unsigned char *out, size_t outmax)
{
	size_t n = strlen(s), pad = 0;
	while (pad < 2 && n > 0 && s[n - 1] == '=') {
		n--;
		pad++;
	}
	if (n % 4 == 1 || (pad && (n + pad) % 4 != 0))
		return -1;
	size_t k = 0;
	unsigned acc = 0, bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value((unsigned char)s[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (k == outmax)
				return -1;
			out[k++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) /* leftover bits must be zero: one spelling per key */
		return -1;
	return (int)k;
}

/* The HMAC key of a secret, with or without its "whsec_" prefix; returns
 * its length, or -1 for an unusable secret. */
static int secret_key(const char *secret, unsigned char key[WEBHOOK_KEY_MAX])
{
	if (!secret)
		return -1;
	if (!strncmp(secret, SECRET_PREFIX, strlen(SECRET_PREFIX)))
		secret += strlen(SECRET_PREFIX);
	int n = b64_decode(secret, key, WEBHOOK_KEY_MAX);
	return n > 0 ? n : -1;
}

bool webhook_secret_new(char out[WEBHOOK_SECRET_MAX])
{
	unsigned char raw[SECRET_RANDOM_BYTES];
	out[0] = '\0';
	if (!ids_random(raw, sizeof raw))
		return false;
	memcpy(out, SECRET_PREFIX, strlen(SECRET_PREFIX));
	EVP_EncodeBlock((unsigned char *)out + strlen(SECRET_PREFIX), raw, sizeof raw); /* writes the NUL */
	OPENSSL_cleanse(raw, sizeof raw);
	return true;
}

bool webhook_secret_valid(const char *secret)
{
	unsigned char key[WEBHOOK_KEY_MAX];
	int n = secret_key(secret, key);
	OPENSSL_cleanse(key, sizeof key);
	return n > 0;
}

/* HMAC-SHA256 of "{msg_id}.{timestamp}.{body}" under key, fed in pieces so
 * that the body is never copied. */
static bool mac_of(const unsigned char *key, size_t keylen, const char *msg_id, int64_t timestamp,
		   const char *body, size_t len, unsigned char md[MAC_LEN])
{
	char ts[24];
	int tslen = snprintf(ts, sizeof ts, "%lld", (long long)timestamp);
	bool ok = false;
	size_t mdlen = 0;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	if (!ctx || !EVP_MAC_init(ctx, key, keylen, params))
		goto out;
	ok = EVP_MAC_update(ctx, (const unsigned char *)msg_id, strlen(msg_id)) &&
	     EVP_MAC_update(ctx, (const unsigned char *)".", 1) &&
	     EVP_MAC_update(ctx, (const unsigned char *)ts, (size_t)tslen) &&
	     EVP_MAC_update(ctx, (const unsigned char *)".", 1) &&
	     (len == 0 || EVP_MAC_update(ctx, (const unsigned char *)body, len)) &&
	     EVP_MAC_final(ctx, md, &mdlen, MAC_LEN) && mdlen == MAC_LEN;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok;
}

bool webhook_sign(const char *secret, const char *msg_id, int64_t timestamp, const char *body, size_t len,
		  char *out, size_t outlen)
{
	unsigned char key[WEBHOOK_KEY_MAX], md[MAC_LEN];
	bool ok = false;
	if (out && outlen)
		out[0] = '\0';
	int keylen = secret_key(secret, key);
	if (!out || outlen < WEBHOOK_SIGNATURE_LEN || keylen < 0 || !msg_id || (!body && len))
		goto out;
	if (!mac_of(key, (size_t)keylen, msg_id, timestamp, body, len, md))
		goto out;
	memcpy(out, "v1,", 3);
	EVP_EncodeBlock((unsigned char *)out + 3, md, MAC_LEN);
	ok = true;
out:
	OPENSSL_cleanse(key, sizeof key);
	return ok;
}

/* Parses a webhook-timestamp value: decimal digits only. */
static bool timestamp_parse(const char *s, int64_t *out)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > TIMESTAMP_MAX_DIGITS || strspn(s, "0123456789") != n)
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	*out = v;
	return true;
}

/* True if one "v1,<base64>" entry of the space-separated header equals
 * expected (the base64 part of our own signature). */
static bool header_has(const char *header, const char *expected)
{
	bool found = false;
	for (const char *p = header; *p;) {
		size_t n = strcspn(p, " ");
		/* Comparing in constant time keeps how much of a guess matched
		 * secret; where a match sits in the list is not. */
		if (n == 3 + MAC_B64_LEN && !memcmp(p, "v1,", 3) && !CRYPTO_memcmp(p + 3, expected, MAC_B64_LEN))
			found = true;
		p += n;
		p += strspn(p, " ");
	}
	return found;
}

enum webhook_verify_result webhook_verify(const char *secret, const char *msg_id, const char *timestamp,
					  const char *signature_header, const char *body, size_t len, int64_t now,
					  int64_t tolerance_s)
{
	if (!msg_id || !*msg_id || !signature_header || !*signature_header)
		return WEBHOOK_MISSING_HEADERS;
	int64_t ts;
	if (!timestamp_parse(timestamp, &ts))
		return WEBHOOK_BAD_TIMESTAMP;
	int64_t distance = ts > now ? ts - now : now - ts;
	if (tolerance_s < 0 || distance > tolerance_s)
		return WEBHOOK_BAD_TIMESTAMP;
	char expected[WEBHOOK_SIGNATURE_LEN];
	if (!webhook_sign(secret, msg_id, ts, body, len, expected, sizeof expected))
		return WEBHOOK_BAD_SIGNATURE;
	bool ok = header_has(signature_header, expected + 3);
	OPENSSL_cleanse(expected, sizeof expected);
	return ok ? WEBHOOK_VERIFIED : WEBHOOK_BAD_SIGNATURE;
}

const char *webhook_verify_result_name(enum webhook_verify_result r)
{
	switch (r) {
	case WEBHOOK_VERIFIED:
		return "verified";
	case WEBHOOK_BAD_SIGNATURE:
		return "bad signature";
	case WEBHOOK_BAD_TIMESTAMP:
		return "timestamp missing or outside tolerance";
	case WEBHOOK_MISSING_HEADERS:
		return "missing webhook headers";
	}
	return "unknown";
}
