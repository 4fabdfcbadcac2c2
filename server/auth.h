/* SPDX-License-Identifier: MIT */
/* Bearer JWT verification with libjwt 1.10.2, which checks no claims at all
 * (see shared/RELIABILITY.md): the algorithm is pinned from configuration,
 * exp is required, iss/aud checked when configured, tokens are length-capped. */
#ifndef INKASSO_AUTH_H
#define INKASSO_AUTH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_TOKEN_MAX 4096   /* bytes of the compact token; longer is 401 before decoding */

enum auth_scope {
	SCOPE_CASES_READ = 1u << 0,
	SCOPE_CASES_WRITE = 1u << 1,
	SCOPE_SETTINGS_WRITE = 1u << 2,
	SCOPE_WEBHOOKS_WRITE = 1u << 3,
};

#define AUTH_SUB_MAX 255 /* bytes of the sub claim; a longer one is refused */

struct auth_claims {
	char tenant[65];   /* [A-Za-z0-9_-]{1,64} */
	char sub[AUTH_SUB_MAX + 1]; /* the subject ("" when the token has none): the actor of its changes */
	unsigned scopes;   /* enum auth_scope bits */
	int64_t exp;
};

struct auth_config {
	const char *alg;             /* "HS256" (default), "RS256" or "ES256" */
	const char *secret;          /* HS256 secret; NULL when a public key is used */
	const char *secret_previous; /* HS256: a second secret also accepted (a rotation); NULL: none */
	const char *public_key_file; /* RS256/ES256: a PEM public key, or a JWKS (keys by kid); NULL with HS256 */
	const char *issuer;          /* NULL: not checked */
	const char *audience;        /* NULL: not checked */
	const char *kid;             /* auth_mint only: the token's kid header (a key of a JWKS); NULL: none */
};

struct auth;

/* Builds a verifier. Fails (NULL, message in err) when the secret (or the
 * previous secret, when given) is shorter than 32 bytes, a previous secret is
 * given with RS256/ES256, the key file is unreadable or neither a PEM public
 * key nor a JWKS with a usable key, or the algorithm is not one of the three.
 * The keys are fixed for the verifier's life: a rotation is a restart. */
struct auth *auth_new(const struct auth_config *cfg, char *err, size_t errlen);
/* NULL-safe. */
void auth_free(struct auth *a);

/* Verifies an Authorization header value ("Bearer <jwt>") at time now
 * (seconds): with HS256 under the secret or the previous one, with a JWKS
 * under the key its header's kid names (no kid, or an unknown one: false).
 * Returns true and fills out, or false with a short reason in
 * *why (static string, safe to log: never contains the token). */
bool auth_verify(const struct auth *a, const char *authorization, int64_t now,
		 struct auth_claims *out, const char **why);

/* Parses a space-separated scope string into bits; unknown scopes are
 * ignored. */
unsigned auth_parse_scopes(const char *scope);

/* Mints a token for tenant with scope, sub (NULL: none) and ttl seconds from now, signed with
 * the configured HS256 secret, or with private_key_file (PEM) for RS256/ES256.
 * Returns a malloc'd string or NULL with a message in err. */
char *auth_mint(const struct auth_config *cfg, const char *private_key_file, const char *tenant,
		const char *scope, const char *sub, int64_t ttl, int64_t now, char *err, size_t errlen);

#endif
