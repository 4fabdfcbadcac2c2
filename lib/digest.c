/* SPDX-License-Identifier: MIT */
#include "lib/digest.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <string.h>

static void to_hex(const unsigned char *md, unsigned n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * n] = '\0';
}

/* SHA-256 fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up
 * again at every digest, which cost more than hashing a request body. */
static EVP_MD *sha256;
static void sha256_fetch(void)
{
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void digest_body(const char *body, size_t len, char out[DIGEST_HEX_LEN])
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sha256_fetch);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_Digest(body, len, md, &n, sha256 ? sha256 : EVP_sha256(), NULL);
	to_hex(md, n, out);
}

void digest_national_id(const unsigned char key[32], const char *national_id, char out[DIGEST_HEX_LEN])
{
	char norm[64];
	size_t k = 0;
	for (const char *p = national_id; *p && k < sizeof norm - 1; p++) {
		if (*p == ' ' || *p == '-' || *p == '+')
			continue;
		norm[k++] = (char)toupper((unsigned char)*p);
	}
	/* strspn below reads up to the NUL: without it, whatever the stack held
	 * after the digits decided (now and then) which form was hashed. */
	norm[k] = '\0';
	/* A Swedish personnummer may come with its century (12 digits) or
	 * without (10): hash the 10-digit form so that both find the case. No
	 * other supported format is 12 plain digits. */
	const char *from = norm;
	if (k == 12 && strspn(norm, "0123456789") == 12 && (!strncmp(norm, "19", 2) || !strncmp(norm, "20", 2))) {
		from += 2;
		k -= 2;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	HMAC(EVP_sha256(), key, 32, (const unsigned char *)from, k, md, &n);
	to_hex(md, n, out);
}
