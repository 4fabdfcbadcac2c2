/* SPDX-License-Identifier: MIT */
#include "server/auth.h"
#include "server/auth_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <jwt.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

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

static void auth_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void auth_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Case-sensitive on purpose: RFC 7515 names are case-sensitive, and a
 * lenient compare is how "None" slips past a "none" blocklist. */
static jwt_alg_t auth_alg_of(const char *name, const char **canonical)
{
	static const char *const names[] = {"HS256", "RS256", "ES256"};
	static const jwt_alg_t algs[] = {JWT_ALG_HS256, JWT_ALG_RS256, JWT_ALG_ES256};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!strcmp(name, names[i])) {
			*canonical = names[i];
			return algs[i];
		}
	}
	return JWT_ALG_INVAL;
}

static bool auth_is_set(const char *s)
{
	return s && *s;
}

/* Reads a regular file of at most AUTH_KEY_FILE_MAX bytes into a NUL-terminated
 * malloc'd buffer. O_NONBLOCK keeps a FIFO from hanging start-up; the size cap
 * keeps /dev/zero or a wrong path from growing the process. */
static char *auth_read_key_file(const char *path, const char *what, size_t *len, char *err, size_t errlen)
{
	char *buf = NULL, *ret = NULL;
	size_t got = 0;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		auth_err(err, errlen, "%s %s cannot be opened: %s", what, path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		auth_err(err, errlen, "%s %s is not a regular file", what, path);
		goto out;
	}
	if (st.st_size > AUTH_KEY_FILE_MAX) {
		auth_err(err, errlen, "%s %s is larger than 64 KiB", what, path);
		goto out;
	}
	buf = malloc(AUTH_KEY_FILE_MAX + 2);
	if (!buf) {
		auth_err(err, errlen, "out of memory reading %s", what);
		goto out;
	}
	/* Read one byte past the cap so a file that grew after fstat is caught. */
	while (got <= AUTH_KEY_FILE_MAX) {
		ssize_t n = read(fd, buf + got, AUTH_KEY_FILE_MAX + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			auth_err(err, errlen, "%s %s cannot be read: %s", what, path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > AUTH_KEY_FILE_MAX) {
		auth_err(err, errlen, "%s %s is larger than 64 KiB", what, path);
		goto out;
	}
	/* strstr and PEM parsing stop at a NUL; a key file never holds one. */
	if (memchr(buf, '\0', got)) {
		auth_err(err, errlen, "%s %s is not a PEM file", what, path);
		goto out;
	}
	buf[got] = '\0';
	*len = got;
	ret = buf;
	buf = NULL;
out:
	if (buf)
		explicit_bzero(buf, AUTH_KEY_FILE_MAX + 2); /* may hold private key bytes */
	free(buf);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Checked at start-up, not discovered at the first request: RS256 wants plain
 * RSA (not RSA-PSS) of >= 2048 bits, ES256 exactly P-256 (RFC 7518 3.3, 3.4). */
static bool auth_key_fits(EVP_PKEY *pkey, jwt_alg_t alg)
{
	if (alg == JWT_ALG_RS256)
		return EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA && EVP_PKEY_get_bits(pkey) >= 2048 &&
		       EVP_PKEY_get_size(pkey) <= AUTH_SIG_MAX;
	if (alg == JWT_ALG_ES256) {
		char group[32];
		size_t glen = 0;
		return EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC &&
		       EVP_PKEY_get_group_name(pkey, group, sizeof group, &glen) == 1 &&
		       !strcmp(group, "prime256v1");
	}
	return false;
}

static const char *auth_key_wanted(jwt_alg_t alg)
{
	return alg == JWT_ALG_RS256 ? "an RSA key of at least 2048 bits" : "an EC P-256 key";
}

/* Copies a memory BIO's contents into a NUL-terminated malloc'd string. */
static char *auth_bio_string(BIO *mem, size_t *len)
{
	char *data = NULL;
	long n = BIO_get_mem_data(mem, &data);
	if (n <= 0 || !data)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	*len = (size_t)n;
	return s;
}

/* Parses the public key ourselves and hands libjwt the re-exported PEM: what
 * libjwt verifies with is then exactly the one key we checked, not whatever
 * else the file holds after it. */
static bool auth_load_public_key(struct auth *a, const char *path, char *err, size_t errlen)
{
	static const char what[] = "INKASSO_JWT_PUBLIC_KEY_FILE";
	bool ok = false;
	size_t len = 0;
	BIO *in = NULL, *mem = NULL;
	EVP_PKEY *pkey = NULL;
	char *pem = auth_read_key_file(path, what, &len, err, errlen);
	if (!pem)
		goto out;
	if (!strstr(pem, "-----BEGIN PUBLIC KEY-----")) {
		auth_err(err, errlen, "%s %s holds no \"-----BEGIN PUBLIC KEY-----\" block", what, path);
		goto out;
	}
	in = BIO_new_mem_buf(pem, (int)len);
	mem = BIO_new(BIO_s_mem());
	if (!in || !mem) {
		auth_err(err, errlen, "out of memory loading %s", what);
		goto out;
	}
	pkey = PEM_read_bio_PUBKEY(in, NULL, NULL, NULL);
	if (!pkey) {
		auth_err(err, errlen, "%s %s is not a readable PEM public key", what, path);
		goto out;
	}
	if (!auth_key_fits(pkey, a->alg)) {
		auth_err(err, errlen, "%s %s: %s needs %s", what, path, a->alg_name, auth_key_wanted(a->alg));
		goto out;
	}
	if (PEM_write_bio_PUBKEY(mem, pkey) != 1 || !(a->public_pem = auth_bio_string(mem, &a->public_len))) {
		auth_err(err, errlen, "out of memory loading %s", what);
		goto out;
	}
	/* ES256 signatures are raw R || S (RFC 7518 3.4), 32 bytes each. */
	a->sig_len = a->alg == JWT_ALG_ES256 ? 64 : (size_t)EVP_PKEY_get_size(pkey);
	ok = true;
out:
	/* Leave no stale error on the thread's queue for the next OpenSSL caller. */
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	BIO_free(mem);
	BIO_free(in);
	free(pem);
	return ok;
}

static char *auth_strdup_opt(const char *s, bool *oom)
{
	if (!auth_is_set(s))
		return NULL;
	char *d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

struct auth *auth_new(const struct auth_config *cfg, char *err, size_t errlen)
{
	const char *name = cfg && cfg->alg ? cfg->alg : "HS256";
	struct auth *a = NULL, *ret = NULL;
	bool oom = false;
	if (!cfg) {
		auth_err(err, errlen, "no auth configuration");
		goto out;
	}
	a = calloc(1, sizeof *a);
	if (!a) {
		auth_err(err, errlen, "out of memory");
		goto out;
	}
	a->cache_owner = auth_cache_new_owner();
	a->alg = auth_alg_of(name, &a->alg_name);
	if (a->alg == JWT_ALG_INVAL) {
		auth_err(err, errlen, "INKASSO_JWT_ALG must be HS256, RS256 or ES256");
		goto out;
	}
	if (a->alg == JWT_ALG_HS256) {
		size_t n = cfg->secret ? strlen(cfg->secret) : 0;
		if (auth_is_set(cfg->public_key_file)) {
			auth_err(err, errlen, "HS256 verifies with INKASSO_JWT_SECRET; "
					      "INKASSO_JWT_PUBLIC_KEY_FILE is for RS256 or ES256");
			goto out;
		}
		if (n < AUTH_SECRET_MIN) {
			auth_err(err, errlen, "INKASSO_JWT_SECRET is missing or shorter than 32 bytes");
			goto out;
		}
		a->hmac_key = malloc(n);
		if (!a->hmac_key) {
			auth_err(err, errlen, "out of memory");
			goto out;
		}
		memcpy(a->hmac_key, cfg->secret, n);
		a->hmac_len = n;
		a->sig_len = 32;
	} else {
		/* Separate slots: a secret next to a public key is how an HS256
		 * token gets verified with the public PEM as HMAC key (libjwt #200). */
		if (auth_is_set(cfg->secret)) {
			auth_err(err, errlen, "%s verifies with INKASSO_JWT_PUBLIC_KEY_FILE; unset INKASSO_JWT_SECRET",
				 a->alg_name);
			goto out;
		}
		if (!auth_is_set(cfg->public_key_file)) {
			auth_err(err, errlen, "%s needs INKASSO_JWT_PUBLIC_KEY_FILE", a->alg_name);
			goto out;
		}
		if (!auth_load_public_key(a, cfg->public_key_file, err, errlen))
			goto out;
	}
	/* An empty issuer or audience means "not configured", as in main.c. */
	a->issuer = auth_strdup_opt(cfg->issuer, &oom);
	a->audience = auth_strdup_opt(cfg->audience, &oom);
	if (oom) {
		auth_err(err, errlen, "out of memory");
		goto out;
	}
	ret = a;
	a = NULL;
out:
	auth_free(a);
	return ret;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	if (a->hmac_key)
		explicit_bzero(a->hmac_key, a->hmac_len);
	free(a->hmac_key);
	free(a->public_pem);
	free(a->issuer);
	free(a->audience);
	free(a);
}

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

/* Strict unpadded base64url (RFC 7515 2): no '=', no length of 4k+1, and the
 * unused low bits of the last character must be zero, so a segment has a
 * single spelling. libjwt's own decoder is laxer; we decide first. */
static bool auth_b64url_decode(const char *s, size_t n, unsigned char *dst, size_t cap, size_t *outlen)
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

/* Pins the algorithm before libjwt sees the token: jwt_decode in 1.10.2
 * verifies with whatever `alg` the token names, including "none". */
static const char *auth_check_header(const struct auth *a, const char *s, size_t n)
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
	why = NULL;
out:
	json_object_put(h);
	return why;
}

static bool auth_tenant_ok(const char *s, size_t n)
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
static bool auth_sig_len_ok(const struct auth *a, const char *s, size_t n)
{
	unsigned char sig[AUTH_SIG_MAX];
	size_t len;
	return auth_b64url_decode(s, n, sig, sizeof sig, &len) && len == a->sig_len;
}

bool auth_verify(const struct auth *a, const char *authorization, int64_t now, struct auth_claims *out,
		 const char **why)
{
	const char *reason;
	const char *tok = NULL;
	size_t seg[3][2];
	const unsigned char *key;
	size_t key_len;
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
	if ((reason = auth_check_header(a, tok + seg[0][0], seg[0][1])))
		goto out;
	/* Our own look at the payload only classifies the failure: bad JSON is
	 * "malformed token", not the "bad signature" jwt_decode would imply. */
	reason = "malformed token";
	if (!auth_segment_is_object(tok + seg[1][0], seg[1][1]))
		goto out;
	reason = "bad signature";
	if (!auth_sig_len_ok(a, tok + seg[2][0], seg[2][1]))
		goto out;
	/* Never a NULL or empty key: libjwt 1.10.2 then skips verification. The
	 * slot matches the pinned algorithm, so the public PEM is never an HMAC key. */
	key = a->alg == JWT_ALG_HS256 ? a->hmac_key : (const unsigned char *)a->public_pem;
	key_len = a->alg == JWT_ALG_HS256 ? a->hmac_len : a->public_len;
	if (!key || key_len == 0 || key_len > INT_MAX || jwt_decode(&j, tok, key, (int)key_len) != 0) {
		ERR_clear_error();
		goto out;
	}
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

static int auth_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0; /* an encrypted key fails instead of prompting on the terminal */
}

/* Loads and checks a private key, and returns it re-exported as unencrypted
 * PKCS#8 PEM for jwt_set_alg (which would prompt for a passphrase itself). */
static char *auth_load_private_key(const char *path, jwt_alg_t alg, const char *alg_name, size_t *len, char *err,
				   size_t errlen)
{
	static const char what[] = "private key file";
	char *out = NULL;
	size_t flen = 0;
	BIO *in = NULL, *mem = NULL;
	EVP_PKEY *pkey = NULL;
	char *pem = auth_read_key_file(path, what, &flen, err, errlen);
	if (!pem)
		goto out;
	in = BIO_new_mem_buf(pem, (int)flen);
	mem = BIO_new(BIO_s_mem());
	if (!in || !mem) {
		auth_err(err, errlen, "out of memory loading the %s", what);
		goto out;
	}
	pkey = PEM_read_bio_PrivateKey(in, NULL, auth_no_passphrase, NULL);
	if (!pkey) {
		auth_err(err, errlen, "%s %s is not an unencrypted PEM private key", what, path);
		goto out;
	}
	if (!auth_key_fits(pkey, alg)) {
		auth_err(err, errlen, "%s %s: %s needs %s", what, path, alg_name, auth_key_wanted(alg));
		goto out;
	}
	if (PEM_write_bio_PrivateKey(mem, pkey, NULL, NULL, 0, NULL, NULL) != 1 || !(out = auth_bio_string(mem, len)))
		auth_err(err, errlen, "out of memory loading the %s", what);
out:
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	BIO_free(mem); /* BUF_MEM_free clears before freeing */
	BIO_free(in);
	if (pem)
		explicit_bzero(pem, flen);
	free(pem);
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
		const char *scope, int64_t ttl, int64_t now, char *err, size_t errlen)
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
	    (scope && jwt_add_grant(j, "scope", scope) != 0) || jwt_add_grant_int(j, "iat", (long)now) != 0 ||
	    jwt_add_grant_int(j, "exp", (long)(now + ttl)) != 0 ||
	    (auth_is_set(cfg->issuer) && jwt_add_grant(j, "iss", cfg->issuer) != 0) ||
	    (auth_is_set(cfg->audience) && jwt_add_grant(j, "aud", cfg->audience) != 0) ||
	    jwt_set_alg(j, alg, key, (int)key_len) != 0) {
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
