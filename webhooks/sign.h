/* SPDX-License-Identifier: MIT */
/* Webhook signatures as the Standard Webhooks specification 1.0 defines
 * them, so that receivers can check them with any of its reference
 * libraries: HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}"
 * under the base64-decoded secret (the part after "whsec_"), sent as
 * "webhook-signature: v1,<base64>"; several space-separated signatures
 * during a secret rotation. OpenSSL's libcrypto does the HMAC. */
#ifndef INKASSO_WEBHOOK_SIGN_H
#define INKASSO_WEBHOOK_SIGN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for a secret of webhook_secret_new: "whsec_" + 44 base64 characters
 * + NUL, with space to spare for secrets of other senders. */
#define WEBHOOK_SECRET_MAX 64
/* Room for one signature of webhook_sign: "v1," + 44 base64 characters + NUL. */
#define WEBHOOK_SIGNATURE_LEN 48
/* Longest key accepted, decoded (the specification asks for 24 to 64 bytes). */
#define WEBHOOK_KEY_MAX 64
/* Receivers reject timestamps further than this from their clock. */
#define WEBHOOK_TOLERANCE_S 300

/* Writes a new secret, "whsec_" + standard base64 (padded) of 32 bytes
 * from getrandom(2), into out. Returns false if the random source failed
 * (out is then ""). */
bool webhook_secret_new(char out[WEBHOOK_SECRET_MAX]);

/* True if secret can sign: "whsec_" (optional) followed by standard base64
 * of 1 to WEBHOOK_KEY_MAX bytes. */
bool webhook_secret_valid(const char *secret);

/* Writes "v1,<base64 HMAC-SHA256>" of msg_id, timestamp and the len bytes
 * of body under secret into out (outlen >= WEBHOOK_SIGNATURE_LEN). Returns
 * false, with out "" when outlen allows, for an unusable secret, a NULL
 * argument or a buffer too small. */
bool webhook_sign(const char *secret, const char *msg_id, int64_t timestamp, const char *body, size_t len,
		  char *out, size_t outlen);

enum webhook_verify_result {
	WEBHOOK_VERIFIED,        /* a v1 signature of the header matches and the timestamp is recent */
	WEBHOOK_BAD_SIGNATURE,   /* no v1 signature matches (or the secret itself is unusable) */
	WEBHOOK_BAD_TIMESTAMP,   /* missing, not an integer, or further than the tolerance from now */
	WEBHOOK_MISSING_HEADERS, /* webhook-id or webhook-signature missing or empty */
};

/* Checks a delivery as a receiver does: msg_id, timestamp and
 * signature_header are the values of the webhook-id, webhook-timestamp and
 * webhook-signature headers (NULL when absent). The header is a
 * space-separated list of "<version>,<base64>"; only "v1" entries count,
 * others (such as "v1a,") are skipped. Signatures are compared in constant
 * time (CRYPTO_memcmp). now and tolerance_s are Unix seconds. The checks run
 * in this order: headers, timestamp, signature. */
enum webhook_verify_result webhook_verify(const char *secret, const char *msg_id, const char *timestamp,
					  const char *signature_header, const char *body, size_t len, int64_t now,
					  int64_t tolerance_s);

/* A short English name of r for messages ("bad signature", ...), static. */
const char *webhook_verify_result_name(enum webhook_verify_result r);

#endif
