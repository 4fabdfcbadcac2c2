/* SPDX-License-Identifier: MIT */
/* A JWKS (RFC 7517) in INKASSO_JWT_PUBLIC_KEY_FILE: the keys of a rotation,
 * each chosen by its kid. libjwt 1.10.2 knows no JWK, so each key is built
 * with OpenSSL from its members (RSA n, e; EC P-256 x, y, RFC 7518 6.2-6.3),
 * checked as a PEM key is (auth_key_fits), and handed to libjwt as PEM. */
#include <json-c/json.h>
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "server/auth_internal.h"

#define JWKS_DEPTH 6        /* {"keys":[{"x5c":[...]}]}: four levels */
#define JWKS_ENTRIES_MAX 64 /* entries looked at; a real JWKS has a handful */
#define JWK_E_MAX 8         /* bytes of an RSA public exponent (65537 is 3) */

/* A member of a JWK that is a JSON string without an embedded NUL; NULL
 * when absent or of another type. */
static const char *jwk_str(json_object *jwk, const char *name, size_t *len)
{
	json_object *v;
	if (!json_object_object_get_ex(jwk, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	if (!s || strlen(s) != n)
		return NULL;
	*len = n;
	return s;
}

static bool jwk_has(json_object *jwk, const char *name)
{
	return json_object_object_get_ex(jwk, name, NULL);
}

/* A base64url member decoded into dst; false when absent or misspelt. */
static bool jwk_bytes(json_object *jwk, const char *name, unsigned char *dst, size_t cap, size_t *len)
{
	size_t n;
	const char *s = jwk_str(jwk, name, &n);
	return s && n > 0 && auth_b64url_decode(s, n, dst, cap, len) && *len > 0;
}

/* The public key of params (built by bld) as an EVP_PKEY of type name,
 * checked by OpenSSL (an EC point on its curve, an RSA modulus that is odd). */
static EVP_PKEY *jwk_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = params ? EVP_PKEY_CTX_new_from_name(NULL, type, NULL) : NULL;
	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	EVP_PKEY_CTX_free(ctx);
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!ctx || EVP_PKEY_public_check(ctx) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static EVP_PKEY *jwk_rsa(json_object *jwk)
{
	unsigned char n[AUTH_SIG_MAX], e[JWK_E_MAX];
	size_t nlen, elen;
	EVP_PKEY *pkey = NULL;
	if (!jwk_bytes(jwk, "n", n, sizeof n, &nlen) || !jwk_bytes(jwk, "e", e, sizeof e, &elen))
		return NULL;
	BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_bin2bn(e, (int)elen, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	if (bn && be && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) == 1)
		pkey = jwk_from_params("RSA", bld);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return pkey;
}

/* P-256 only (the curve ES256 names): x and y are exactly 32 bytes each. */
static EVP_PKEY *jwk_ec(json_object *jwk)
{
	unsigned char point[65], x[33], y[33];
	size_t xlen, ylen;
	EVP_PKEY *pkey = NULL;
	if (!jwk_bytes(jwk, "x", x, sizeof x, &xlen) || !jwk_bytes(jwk, "y", y, sizeof y, &ylen) || xlen != 32 ||
	    ylen != 32)
		return NULL;
	point[0] = 0x04; /* uncompressed (SEC 1 2.3.3) */
	memcpy(point + 1, x, 32);
	memcpy(point + 33, y, 32);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point) == 1)
		pkey = jwk_from_params("EC", bld);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

static bool jwk_str_is(json_object *jwk, const char *name, const char *want)
{
	size_t n;
	const char *s = jwk_str(jwk, name, &n);
	return s && n == strlen(want) && !memcmp(s, want, n);
}

/* Why entry is not a key for this verifier (a static phrase), or NULL when
 * it is one; the kid then in *kid. Skipping is for keys published for
 * something else (encryption, another algorithm or curve), which a JWKS
 * shared with other services may well hold. */
static const char *jwk_skip_reason(const struct auth *a, json_object *jwk, const char **kid)
{
	size_t n;
	if (jwk_has(jwk, "use") && !jwk_str_is(jwk, "use", "sig"))
		return "its use is not sig";
	if (jwk_has(jwk, "alg") && !jwk_str_is(jwk, "alg", a->alg_name))
		return "its alg is not INKASSO_JWT_ALG";
	if (!jwk_str_is(jwk, "kty", a->alg == JWT_ALG_RS256 ? "RSA" : "EC"))
		return a->alg == JWT_ALG_RS256 ? "its kty is not RSA (RS256)" : "its kty is not EC (ES256)";
	if (a->alg == JWT_ALG_ES256 && !jwk_str_is(jwk, "crv", "P-256"))
		return "its crv is not P-256 (ES256)";
	*kid = jwk_str(jwk, "kid", &n);
	if (!*kid || n == 0 || n > AUTH_KID_MAX)
		return "it has no kid (of 1 to 256 bytes) a token could name";
	return NULL;
}

/* The log names a key by its kid when it has a printable one, else by its
 * place in the array. */
static void jwk_warn_skipped(json_object *jwk, size_t i, const char *why)
{
	char where[32], kid[AUTH_KID_MAX + 1] = "";
	size_t n;
	const char *s = jwk_str(jwk, "kid", &n);
	if (s && n <= AUTH_KID_MAX)
		memcpy(kid, s, n + 1);
	snprintf(where, sizeof where, "%zu", i);
	log_write(LOG_WARN, "INKASSO_JWT_PUBLIC_KEY_FILE: a JWKS key is skipped", "index", where, "kid", kid,
		  "reason", why, NULL);
}

static bool jwk_kid_taken(const struct auth *a, const char *kid)
{
	for (size_t i = 0; i < a->nkeys; i++)
		if (!strcmp(a->keys[i].kid, kid))
			return true;
	return false;
}

/* One entry of "keys": skipped, added, or (false) a reason to stop. */
static bool jwk_load(struct auth *a, json_object *jwk, size_t i, const char *path, char *err, size_t errlen)
{
	const char *kid = NULL, *why;
	if (!json_object_is_type(jwk, json_type_object)) {
		auth_err(err, errlen, "INKASSO_JWT_PUBLIC_KEY_FILE %s: keys[%zu] is not a JSON object", path, i);
		return false;
	}
	if ((why = jwk_skip_reason(a, jwk, &kid))) {
		jwk_warn_skipped(jwk, i, why);
		return true;
	}
	if (jwk_kid_taken(a, kid)) {
		auth_err(err, errlen, "INKASSO_JWT_PUBLIC_KEY_FILE %s: two keys have the kid \"%.64s\"", path, kid);
		return false;
	}
	EVP_PKEY *pkey = a->alg == JWT_ALG_RS256 ? jwk_rsa(jwk) : jwk_ec(jwk);
	bool ok = false;
	if (!pkey)
		auth_err(err, errlen, "INKASSO_JWT_PUBLIC_KEY_FILE %s: key \"%.64s\" is not a valid %s public key "
				      "(%s)", path, kid, a->alg == JWT_ALG_RS256 ? "RSA" : "EC P-256",
			 a->alg == JWT_ALG_RS256 ? "n and e, base64url" : "x and y, 32 bytes each, base64url");
	else if (!auth_key_fits(pkey, a->alg))
		auth_err(err, errlen, "INKASSO_JWT_PUBLIC_KEY_FILE %s: key \"%.64s\": %s needs %s", path, kid,
			 a->alg_name, auth_key_wanted(a->alg));
	else if (auth_key_add(a, pkey, kid, err, errlen))
		ok = true;
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	return ok;
}

static json_object *jwks_parse(const char *text, size_t len)
{
	json_object *o = NULL;
	if (len > INT_MAX)
		return NULL;
	struct json_tokener *tok = json_tokener_new_ex(JWKS_DEPTH);
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)len);
	bool whole = o && json_tokener_get_error(tok) == json_tokener_success;
	/* json-c 0.16 stops after the value: white space may follow, nothing else. */
	for (size_t i = whole ? json_tokener_get_parse_end(tok) : len; i < len; i++)
		whole = whole && strchr(" \t\r\n", text[i]) && text[i];
	if (!whole) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

bool auth_load_jwks(struct auth *a, const char *text, size_t len, const char *path, char *err, size_t errlen)
{
	bool ok = false;
	json_object *keys, *jwks = jwks_parse(text, len);
	if (!jwks || !json_object_is_type(jwks, json_type_object) || !json_object_object_get_ex(jwks, "keys", &keys) ||
	    !json_object_is_type(keys, json_type_array)) {
		auth_err(err, errlen, "INKASSO_JWT_PUBLIC_KEY_FILE %s is neither a PEM public key nor a JWKS "
				      "(valid JSON {\"keys\":[...]})", path);
		goto out;
	}
	size_t n = json_object_array_length(keys);
	if (n > JWKS_ENTRIES_MAX) {
		auth_err(err, errlen, "INKASSO_JWT_PUBLIC_KEY_FILE %s: more than %d keys", path, JWKS_ENTRIES_MAX);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (!jwk_load(a, json_object_array_get_idx(keys, i), i, path, err, errlen))
			goto out;
	if (a->nkeys == 0) {
		auth_err(err, errlen, "INKASSO_JWT_PUBLIC_KEY_FILE %s: the JWKS has no usable key (%s with a kid, "
				      "use sig or none, alg %s or none)", path,
			 a->alg == JWT_ALG_RS256 ? "kty RSA" : "kty EC, crv P-256", a->alg_name);
		goto out;
	}
	ok = true;
out:
	json_object_put(jwks);
	return ok;
}
