/* SPDX-License-Identifier: MIT */
/* Verifying a bearer token: its three segments, the pinned algorithm, the
 * signature through libjwt, then every claim by hand (libjwt 1.10 checks
 * none). */
#include <json-c/json.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/auth_cache.h"
#include "server/auth_internal.h"

static int auth_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* No '=', no length of 4k+1, and the unused low bits of the last character
 * must be zero, so a segment has a single spelling. libjwt's own decoder is
 * laxer; we decide first. */
bool auth_b64url_decode(const char *s, size_t n, unsigned char *dst, size_t cap, size_t *outlen)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	if (n % 4 == 1 || n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0) > cap)
		return false;
	for (size_t i = 0; i < n; i++) {
		int v = auth_b64_value((unsigned char)s[i]);
		if (v < 0)
			return false;
		acc = ((acc << 6) | (uint32_t)v) & 0xffffu;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			dst[o++] = (unsigned char)(acc >> bits);
		}
	}
	if (acc & ((1u << bits) - 1))
		return false;
	*outlen = o;
	return true;
}

/* A JSON object from exactly n bytes, or NULL. json-c 0.16 accepts trailing
 * data unless the parse end is compared, stops silently at an embedded NUL,
 * and recurses as deep as the input goes unless told a depth. */
static json_object *auth_json_object(const char *s, size_t n)
{
	json_object *o = NULL;
	if (n == 0 || n > INT_MAX || memchr(s, '\0', n))
		return NULL;
	struct json_tokener *tok = json_tokener_new_ex(AUTH_JSON_DEPTH);
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, s, (int)n);
	if (!o || json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) != n ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* Decodes one base64url segment that must hold a JSON object. */
static json_object *auth_segment_object(const char *s, size_t n)
{
	unsigned char buf[AUTH_TOKEN_MAX];
	size_t len;
	if (!auth_b64url_decode(s, n, buf, sizeof buf, &len))
		return NULL;
	return auth_json_object((const char *)buf, len);
}

static bool auth_segment_is_object(const char *s, size_t n)
{
	json_object *o = auth_segment_object(s, n);
	bool ok = o != NULL;
	json_object_put(o);
	return ok;
}

/* The string of o when o is a JSON string without an embedded NUL. */
static const char *auth_json_str(json_object *o, size_t *len)
{
	if (!json_object_is_type(o, json_type_string))
		return NULL;
	const char *s = json_object_get_string(o);
	size_t n = (size_t)json_object_get_string_len(o);
	if (!s || strlen(s) != n)
		return NULL;
	*len = n;
	return s;
}

static bool auth_json_str_eq(json_object *o, const char *want)
{
	size_t n;
	const char *s = auth_json_str(o, &n);
	return s && n == strlen(want) && !memcmp(s, want, n);
}

/* With a JWKS, the key the header's kid names; "missing kid" or "unknown
 * kid" otherwise. With a PEM key the kid is ignored, as before JWKS. */
static const char *auth_pick_key(const struct auth *a, json_object *h, const struct auth_key **key)
{
	json_object *v;
	size_t n;
	const char *kid;
	if (!a->jwks) {
		*key = &a->keys[0];
		return NULL;
	}
	if (!json_object_object_get_ex(h, "kid", &v))
		return "missing kid";
	if (!(kid = auth_json_str(v, &n)) || n == 0 || n > AUTH_KID_MAX)
		return "unknown kid";
	for (size_t i = 0; i < a->nkeys; i++) {
		if (strlen(a->keys[i].kid) == n && !memcmp(a->keys[i].kid, kid, n)) {
			*key = &a->keys[i];
			return NULL;
		}
	}
	return "unknown kid";
}

/* Pins the algorithm before libjwt sees the token: jwt_decode in 1.10.2
 * verifies with whatever `alg` the token names, including "none". Picks the
 * public key into *key (left NULL with HS256). */
static const char *auth_check_header(const struct auth *a, const char *s, size_t n, const struct auth_key **key)
{
	const char *why = "malformed token";
	json_object *h = auth_segment_object(s, n), *v;
	if (!h)
		goto out;
	if (json_object_object_get_ex(h, "crit", NULL))
		goto out; /* RFC 7515 4.1.11: we understand no extension */
	if (!json_object_object_get_ex(h, "alg", &v) || !auth_json_str_eq(v, a->alg_name)) {
		why = "algorithm not allowed";
		goto out;
	}
	/* libjwt 1.10.2 compares typ with strcasecmp too; RFC 7519 5.1 says
	 * "JWT" and recommends upper case. */
	if (json_object_object_get_ex(h, "typ", &v)) {
		size_t tn;
		const char *typ = auth_json_str(v, &tn);
		if (!typ || strcasecmp(typ, "JWT"))
			goto out;
	}
	why = a->alg == JWT_ALG_HS256 ? NULL : auth_pick_key(a, h, key);
out:
	json_object_put(h);
	return why;
}

/* Printable ASCII or UTF-8 above it: no control characters, no NUL. */
static bool auth_printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

bool auth_tenant_ok(const char *s, size_t n)
{
	if (n < 1 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

/* An optional NumericDate claim: absent is fine, anything but a JSON integer
 * is not. json_object_get_int64 would turn "12", 1.5 and true into numbers. */
static bool auth_opt_int(json_object *claims, const char *name, bool *present, int64_t *val)
{
	json_object *v;
	*present = json_object_object_get_ex(claims, name, &v);
	if (!*present)
		return true;
	if (!json_object_is_type(v, json_type_int))
		return false;
	*val = json_object_get_int64(v);
	return true;
}

static bool auth_aud_matches(json_object *aud, const char *want)
{
	if (json_object_is_type(aud, json_type_string))
		return auth_json_str_eq(aud, want);
	if (!json_object_is_type(aud, json_type_array))
		return false;
	size_t n = json_object_array_length(aud);
	for (size_t i = 0; i < n; i++) {
		if (auth_json_str_eq(json_object_array_get_idx(aud, i), want))
			return true;
	}
	return false;
}

/* libjwt 1.10.2 checks no claim at all (jwt_valid_* came in 1.12): every
 * rule below is ours. Zero leeway: exp must be strictly in the future and
 * nbf not after now; we mint our own tokens, so clock skew is not a case. */
static const char *auth_check_claims(const struct auth *a, json_object *claims, int64_t now,
				     struct auth_claims *c)
{
	json_object *v;
	bool present;
	int64_t exp = 0, nbf = 0, iat = 0;
	size_t n;
	const char *s;

	if (!auth_opt_int(claims, "exp", &present, &exp))
		return "invalid exp";
	if (!present)
		return "missing exp";
	if (exp > AUTH_EXP_MAX)
		return "invalid exp";
	if (exp <= now)
		return "token expired";
	if (!auth_opt_int(claims, "nbf", &present, &nbf))
		return "malformed token";
	if (present && nbf > now)
		return "token not yet valid";
	if (!auth_opt_int(claims, "iat", &present, &iat))
		return "malformed token";
	if (a->issuer && (!json_object_object_get_ex(claims, "iss", &v) || !auth_json_str_eq(v, a->issuer)))
		return "wrong issuer";
	if (a->audience && (!json_object_object_get_ex(claims, "aud", &v) || !auth_aud_matches(v, a->audience)))
		return "wrong audience";
	if (!json_object_object_get_ex(claims, "tenant", &v) || !(s = auth_json_str(v, &n)) || !auth_tenant_ok(s, n))
		return "invalid tenant";
	memcpy(c->tenant, s, n);
	c->tenant[n] = '\0';
	/* sub names who acts (the actor of the changes it makes): a string of
	 * printable characters when present. */
	c->sub[0] = '\0';
	if (json_object_object_get_ex(claims, "sub", &v)) {
		if (!(s = auth_json_str(v, &n)) || n == 0 || n > AUTH_SUB_MAX || !auth_printable(s, n))
			return "invalid sub";
		memcpy(c->sub, s, n);
		c->sub[n] = '\0';
	}
	c->exp = exp;
	c->scopes = 0;
	/* No scope is a valid token with no rights: the route answers 403. */
	if (json_object_object_get_ex(claims, "scope", &v)) {
		const char *scope = auth_json_str(v, &n);
		if (!scope)
			return "malformed token";
		c->scopes = auth_parse_scopes(scope);
	}
	return NULL;
}

static bool auth_token_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_' || c == '.';
}

/* Splits "Bearer <token>" (RFC 6750 2.1; the scheme is case-insensitive per
 * RFC 7235 2.1) and checks the compact form: bounded length, base64url
 * characters, three non-empty segments. Nothing here allocates. */
static const char *auth_split(const char *authorization, const char **tok, size_t seg[3][2])
{
	if (!authorization || strncasecmp(authorization, "Bearer", 6) || authorization[6] != ' ' ||
	    authorization[7] == '\0')
		return "missing bearer token";
	const char *t = authorization + 7;
	/* strnlen: never walk more than the cap, whatever the header holds. */
	size_t len = strnlen(t, AUTH_TOKEN_MAX + 1);
	if (len > AUTH_TOKEN_MAX)
		return "token too long";
	size_t dots = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && t[i] != '.') {
			if (!auth_token_char((unsigned char)t[i]))
				return "malformed token";
			continue;
		}
		if (dots == 3 || i == start)
			return "malformed token";
		seg[dots][0] = start;
		seg[dots][1] = i - start;
		dots++;
		start = i + 1;
	}
	if (dots != 3)
		return "malformed token";
	*tok = t;
	return NULL;
}

/* A signature of the wrong length or spelling is refused before any crypto:
 * libjwt 1.10.2 decodes RS/ES signatures leniently (unused bits ignored). */
static bool auth_sig_len_ok(size_t want, const char *s, size_t n)
{
	unsigned char sig[AUTH_SIG_MAX];
	size_t len;
	return auth_b64url_decode(s, n, sig, sizeof sig, &len) && len == want;
}

/* jwt_decode with one key. Never a NULL or empty key: libjwt 1.10.2 then
 * skips verification. *j is set only on success. */
static bool auth_decode(const char *tok, const void *key, size_t key_len, jwt_t **j)
{
	jwt_t *got = NULL;
	if (!key || key_len == 0 || key_len > INT_MAX || jwt_decode(&got, tok, key, (int)key_len) != 0) {
		ERR_clear_error();
		return false;
	}
	*j = got;
	return true;
}

/* The signature under the pinned algorithm's key: HS256 under the secret,
 * then the previous one (a rotation); RS256/ES256 under the key picked. The
 * slot matches the pinned algorithm, so a public PEM is never an HMAC key. */
static bool auth_signature_ok(const struct auth *a, const struct auth_key *key, const char *tok, jwt_t **j)
{
	if (a->alg == JWT_ALG_HS256)
		return auth_decode(tok, a->hmac_key, a->hmac_len, j) ||
		       (a->hmac_prev && auth_decode(tok, a->hmac_prev, a->hmac_prev_len, j));
	return key && auth_decode(tok, key->pem, key->pem_len, j);
}

bool auth_verify(const struct auth *a, const char *authorization, int64_t now, struct auth_claims *out,
		 const char **why)
{
	const char *reason;
	const char *tok = NULL;
	size_t seg[3][2];
	const struct auth_key *key = NULL;
	jwt_t *j = NULL;
	char *grants = NULL;
	json_object *claims = NULL;
	struct auth_claims c;
	memset(&c, 0, sizeof c);
	if (out)
		memset(out, 0, sizeof *out);

	if (!a || !out) {
		reason = "missing bearer token";
		goto out;
	}
	if ((reason = auth_split(authorization, &tok, seg)))
		goto out;
	size_t tok_len = seg[2][0] + seg[2][1];
	if (auth_cache_get(a->cache_owner, tok, tok_len, now, out)) {
		reason = NULL;
		goto out;
	}
	if ((reason = auth_check_header(a, tok + seg[0][0], seg[0][1], &key)))
		goto out;
	/* Our own look at the payload only classifies the failure: bad JSON is
	 * "malformed token", not the "bad signature" jwt_decode would imply. */
	reason = "malformed token";
	if (!auth_segment_is_object(tok + seg[1][0], seg[1][1]))
		goto out;
	reason = "bad signature";
	if (!auth_sig_len_ok(key ? key->sig_len : 32, tok + seg[2][0], seg[2][1]) ||
	    !auth_signature_ok(a, key, tok, &j))
		goto out;
	/* Belt and braces against a header parser differential: libjwt must have
	 * verified with the algorithm we pinned, not one it read differently. */
	if (jwt_get_alg(j) != a->alg) {
		reason = "algorithm not allowed";
		goto out;
	}
	/* The claims as libjwt verified them, re-read with types intact:
	 * jwt_get_grant_int gives 0 with errno 0 for "9999999999" or 1.5. */
	reason = "malformed token";
	grants = jwt_get_grants_json(j, NULL);
	if (!grants || !(claims = auth_json_object(grants, strlen(grants))))
		goto out;
	if ((reason = auth_check_claims(a, claims, now, &c)))
		goto out;
	*out = c;
	auth_cache_put(a->cache_owner, tok, tok_len, now, &c);
out:
	json_object_put(claims);
	free(grants);
	jwt_free(j);
	if (why)
		*why = reason;
	return reason == NULL;
}

unsigned auth_parse_scopes(const char *scope)
{
	static const struct {
		const char *name;
		unsigned bit;
	} known[] = {
		{"cases:read", SCOPE_CASES_READ},
		{"cases:write", SCOPE_CASES_WRITE},
		{"settings:write", SCOPE_SETTINGS_WRITE},
		{"webhooks:write", SCOPE_WEBHOOKS_WRITE},
	};
	unsigned bits = 0;
	if (!scope)
		return 0;
	/* RFC 6749 3.3: scope tokens are separated by single spaces; runs of
	 * spaces are tolerated, any other byte is part of a token. */
	for (const char *p = scope; *p;) {
		size_t n = strcspn(p, " ");
		for (size_t i = 0; n && i < sizeof known / sizeof known[0]; i++) {
			if (strlen(known[i].name) == n && !memcmp(known[i].name, p, n))
				bits |= known[i].bit;
		}
		p += n;
		p += strspn(p, " ");
	}
	return bits;
}
