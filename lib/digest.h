/* SPDX-License-Identifier: MIT */
/* Hashes of request data, hex-encoded (OpenSSL's libcrypto, already loaded
 * by libjwt and libcurl). */
#ifndef INKASSO_DIGEST_H
#define INKASSO_DIGEST_H
#include <stddef.h>

#define DIGEST_HEX_LEN 65 /* 64 hex digits + NUL */

/* SHA-256 of the raw body: the Idempotency-Key fingerprint. */
void digest_body(const char *body, size_t len, char out[DIGEST_HEX_LEN]);
/* HMAC-SHA256 of a national id under the database's search key, after
 * removing spaces, '-' and '+' and upper-casing, so that the clear number
 * is never stored in a searchable form nor logged. */
void digest_national_id(const unsigned char key[32], const char *national_id, char out[DIGEST_HEX_LEN]);

#endif
