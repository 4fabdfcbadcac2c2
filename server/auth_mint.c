/* SPDX-License-Identifier: MIT */
/* Minting a token (inkasso token): for support staff and local use, signed
 * with the configured secret or a private key file. */
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "server/auth_internal.h"

/* Loads and checks a private key, and returns it re-exported as unencrypted
 * PKCS#8 PEM for jwt_set_alg (which would prompt for a passphrase itself). */
static char *auth_load_private_key(const char *path, jwt_alg_t alg, const char *alg_name, size_t *len, char *err,
				   size_t errlen)
{
	static const char what[] = "private key file";
	char *out = NULL;
	EVP_PKEY *pkey = auth_read_pem_key(path, what, true, alg, alg_name, err, errlen);
	BIO *mem = pkey ? BIO_new(BIO_s_mem()) : NULL;
	if (pkey && (!mem || PEM_write_bio_PrivateKey(mem, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
		     !(out = auth_bio_string(mem, len))))
		auth_err(err, errlen, "out of memory loading the %s", what);
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	BIO_free(mem); /* BUF_MEM_free clears before freeing */
	return out;
}

static bool auth_scope_ok(const char *scope)
{
	size_t n = strlen(scope);
	if (n > AUTH_SCOPE_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (scope[i] < 0x20 || scope[i] > 0x7e)
			return false;
	}
	return true;
}

char *auth_mint(const struct auth_config *cfg, const char *private_key_file, const char *tenant,
		const char *scope, const char *sub, int64_t ttl, int64_t now, char *err, size_t errlen)
{
	char *tok = NULL;
	unsigned char *key = NULL;
	size_t key_len = 0;
	jwt_t *j = NULL;
	const char *alg_name = NULL;
	jwt_alg_t alg;

	if (!cfg) {
		auth_err(err, errlen, "no auth configuration");
		goto out;
	}
	alg = auth_alg_of(cfg->alg ? cfg->alg : "HS256", &alg_name);
	if (alg == JWT_ALG_INVAL) {
		auth_err(err, errlen, "INKASSO_JWT_ALG must be HS256, RS256 or ES256");
		goto out;
	}
	if (!tenant || !auth_tenant_ok(tenant, strlen(tenant))) {
		auth_err(err, errlen, "tenant must match [A-Za-z0-9_-]{1,64}");
		goto out;
	}
	if (scope && !auth_scope_ok(scope)) {
		auth_err(err, errlen, "scope must be printable ASCII of at most 1024 bytes");
		goto out;
	}
	if (cfg->kid && (!*cfg->kid || strlen(cfg->kid) > AUTH_KID_MAX || !auth_scope_ok(cfg->kid))) {
		auth_err(err, errlen, "kid must be 1 to 256 bytes of printable ASCII");
		goto out;
	}
	if (ttl < 1 || ttl > AUTH_TTL_MAX) {
		auth_err(err, errlen, "ttl must be 1..31536000 seconds");
		goto out;
	}
	/* jwt_add_grant_int takes a long. */
	if (now < 0 || now > LONG_MAX - ttl || now + ttl > AUTH_EXP_MAX) {
		auth_err(err, errlen, "the clock is out of range");
		goto out;
	}
	if (alg == JWT_ALG_HS256) {
		if (auth_is_set(private_key_file)) {
			auth_err(err, errlen, "HS256 signs with INKASSO_JWT_SECRET; a key file is for RS256 or ES256");
			goto out;
		}
		key_len = cfg->secret ? strlen(cfg->secret) : 0;
		if (key_len < AUTH_SECRET_MIN) {
			auth_err(err, errlen, "INKASSO_JWT_SECRET is missing or shorter than 32 bytes");
			goto out;
		}
		key = malloc(key_len);
		if (!key) {
			auth_err(err, errlen, "out of memory");
			goto out;
		}
		memcpy(key, cfg->secret, key_len);
	} else {
		if (!auth_is_set(private_key_file)) {
			auth_err(err, errlen, "%s signs with a private key file", alg_name);
			goto out;
		}
		key = (unsigned char *)auth_load_private_key(private_key_file, alg, alg_name, &key_len, err, errlen);
		if (!key)
			goto out;
	}
	if (key_len > INT_MAX || jwt_new(&j) != 0 || jwt_add_grant(j, "tenant", tenant) != 0 ||
	    (scope && jwt_add_grant(j, "scope", scope) != 0) || (sub && jwt_add_grant(j, "sub", sub) != 0) ||
	    jwt_add_grant_int(j, "iat", (long)now) != 0 ||
	    jwt_add_grant_int(j, "exp", (long)(now + ttl)) != 0 ||
	    (auth_is_set(cfg->issuer) && jwt_add_grant(j, "iss", cfg->issuer) != 0) ||
	    (auth_is_set(cfg->audience) && jwt_add_grant(j, "aud", cfg->audience) != 0) ||
	    jwt_set_alg(j, alg, key, (int)key_len) != 0 || (cfg->kid && jwt_add_header(j, "kid", cfg->kid) != 0)) {
		auth_err(err, errlen, "cannot build the token");
		goto out;
	}
	tok = jwt_encode_str(j);
	if (!tok)
		auth_err(err, errlen, "cannot sign the token with %s", alg_name);
out:
	ERR_clear_error();
	jwt_free(j);
	if (key)
		explicit_bzero(key, key_len);
	free(key);
	return tok;
}
