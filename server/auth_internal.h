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

struct auth {
	jwt_alg_t alg;             /* pinned from configuration; the token never chooses */
	const char *alg_name;      /* static "HS256", "RS256" or "ES256" */
	unsigned char *hmac_key;   /* HS256 only; NULL otherwise */
	size_t hmac_len;
	char *public_pem;          /* RS256/ES256 only: the key we parsed, re-exported; NULL otherwise */
	size_t public_len;
	size_t sig_len;            /* bytes a genuine signature decodes to */
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
/* True if s[0..n) is a tenant id: [A-Za-z0-9_-]{1,64}. */
bool auth_tenant_ok(const char *s, size_t n);

#endif
