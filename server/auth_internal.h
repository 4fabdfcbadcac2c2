/* SPDX-License-Identifier: MIT */
/* Shared by the three parts of the bearer-token code: auth_keys.c (loading
 * and checking keys, the verifier), auth_verify.c (a token's verification)
 * and auth_mint.c (minting tokens for support staff). Not an API. */
#ifndef INKASSO_AUTH_INTERNAL_H
#define INKASSO_AUTH_INTERNAL_H
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/auth.h"

#define AUTH_KEY_FILE_MAX (64 * 1024) /* a PEM key is a few KiB; refuse to slurp anything big */
#define AUTH_SECRET_MIN 32            /* HS256 needs 256 bits of key (RFC 7518 3.2) */
#define AUTH_JSON_DEPTH 8             /* JOSE headers are flat; claims nest an array at most */
#define AUTH_SIG_MAX 1024             /* bytes; an 8192-bit RSA signature */
#define AUTH_TTL_MAX 31536000         /* one year */
#define AUTH_EXP_MAX 253402300799LL   /* 9999-12-31T23:59:59Z: larger is not a date, just a clamp */
#define AUTH_SCOPE_MAX 1024
#define AUTH_KEYS_MAX 16              /* usable keys of a JWKS; a rotation needs two or three */
#define AUTH_KID_MAX 256              /* bytes of a kid, in the JWKS and in a token's header */

/* One public key tokens are verified with (RS256/ES256). */
struct auth_key {
	char *kid;                 /* from the JWKS; NULL for a PEM key (a token's kid is then ignored) */
	char *pem;                 /* the key we parsed, re-exported as PEM for libjwt */
	size_t pem_len;
	size_t sig_len;            /* bytes a genuine signature decodes to */
};

struct auth {
	jwt_alg_t alg;             /* pinned from configuration; the token never chooses */
	const char *alg_name;      /* static "HS256", "RS256" or "ES256" */
	unsigned char *hmac_key;   /* HS256 only; NULL otherwise */
	size_t hmac_len;
	unsigned char *hmac_prev;  /* HS256: INKASSO_JWT_SECRET_PREVIOUS, also accepted; NULL: none */
	size_t hmac_prev_len;
	struct auth_key keys[AUTH_KEYS_MAX]; /* RS256/ES256: the PEM key, or a JWKS's usable keys */
	size_t nkeys;
	bool jwks;                 /* keys came from a JWKS: a token's kid picks one */
	char *issuer;              /* NULL: not checked */
	char *audience;            /* NULL: not checked */
	uint64_t cache_owner;      /* this verifier's key in auth_cache */
};

/* Writes a printf-style message into err (NULL-safe). */
void auth_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The pinned algorithm of a configured name (case-sensitive), its static
 * canonical name into *canonical; JWT_ALG_INVAL for anything else. */
jwt_alg_t auth_alg_of(const char *name, const char **canonical);
/* True for a non-empty string. */
bool auth_is_set(const char *s);
/* A regular file of at most AUTH_KEY_FILE_MAX bytes, NUL-terminated and
 * malloc'd (the caller clears and frees it), its length in *len; NULL with a
 * message naming what and path in err. */
char *auth_read_key_file(const char *path, const char *what, size_t *len, char *err, size_t errlen);
/* Whether pkey is the kind of key alg needs, and a phrase saying which. */
bool auth_key_fits(EVP_PKEY *pkey, jwt_alg_t alg);
const char *auth_key_wanted(jwt_alg_t alg);
/* The key in a PEM file (a public key, or an unencrypted private key),
 * checked to be what alg needs; NULL with a message naming what and path. */
EVP_PKEY *auth_read_pem_key(const char *path, const char *what, bool private_key, jwt_alg_t alg,
			    const char *alg_name, char *err, size_t errlen);
/* A memory BIO's contents as a NUL-terminated malloc'd string; NULL on failure. */
char *auth_bio_string(BIO *mem, size_t *len);
/* Adds pkey (borrowed) as the verifier's next key, re-exported as PEM, with
 * kid (copied; NULL for none). False with a message in err when out of
 * memory or the table is full. */
bool auth_key_add(struct auth *a, EVP_PKEY *pkey, const char *kid, char *err, size_t errlen);
/* Loads the usable keys of a JWKS (RFC 7517), text[0..len) read from path,
 * into a (auth_jwks.c): keys of another use, algorithm, type or curve, and
 * keys without a kid, are skipped with a warning in the log. False with a
 * message naming path in err when the text is not a JWKS, a key of the
 * configured kind is malformed or too weak, two keys share a kid, or no
 * usable key is left. */
bool auth_load_jwks(struct auth *a, const char *text, size_t len, const char *path, char *err, size_t errlen);
/* Strict unpadded base64url (RFC 7515 2) of s[0..n) into dst (cap bytes),
 * the decoded length into *outlen; false for any other spelling or too long. */
bool auth_b64url_decode(const char *s, size_t n, unsigned char *dst, size_t cap, size_t *outlen);
/* True if s[0..n) is a tenant id: [A-Za-z0-9_-]{1,64}. */
bool auth_tenant_ok(const char *s, size_t n);

#endif
