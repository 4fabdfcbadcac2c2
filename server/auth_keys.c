/* SPDX-License-Identifier: MIT */
/* Loading and checking the keys tokens are verified with, and the verifier
 * built from them. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/auth_cache.h"
#include "server/auth_internal.h"

void auth_err(char *err, size_t errlen, const char *fmt, ...)
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
jwt_alg_t auth_alg_of(const char *name, const char **canonical)
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

bool auth_is_set(const char *s)
{
	return s && *s;
}

/* Reads a regular file of at most AUTH_KEY_FILE_MAX bytes into a NUL-terminated
 * malloc'd buffer. O_NONBLOCK keeps a FIFO from hanging start-up; the size cap
 * keeps /dev/zero or a wrong path from growing the process. */
char *auth_read_key_file(const char *path, const char *what, size_t *len, char *err, size_t errlen)
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
bool auth_key_fits(EVP_PKEY *pkey, jwt_alg_t alg)
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

const char *auth_key_wanted(jwt_alg_t alg)
{
	return alg == JWT_ALG_RS256 ? "an RSA key of at least 2048 bits" : "an EC P-256 key";
}

/* Copies a memory BIO's contents into a NUL-terminated malloc'd string. */
char *auth_bio_string(BIO *mem, size_t *len)
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

static int auth_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0; /* an encrypted key fails instead of prompting on the terminal */
}

/* The key in pem[0..len) (path and what name it in messages). */
static EVP_PKEY *auth_parse_pem_key(const char *pem, size_t len, const char *path, const char *what,
				    bool private_key, jwt_alg_t alg, const char *alg_name, char *err, size_t errlen)
{
	BIO *in = NULL;
	EVP_PKEY *pkey = NULL;
	if (!private_key && !strstr(pem, "-----BEGIN PUBLIC KEY-----")) {
		auth_err(err, errlen, "%s %s holds no \"-----BEGIN PUBLIC KEY-----\" block", what, path);
		goto out;
	}
	if (!(in = BIO_new_mem_buf(pem, (int)len))) {
		auth_err(err, errlen, "out of memory loading the %s", what);
		goto out;
	}
	pkey = private_key ? PEM_read_bio_PrivateKey(in, NULL, auth_no_passphrase, NULL)
			   : PEM_read_bio_PUBKEY(in, NULL, NULL, NULL);
	if (!pkey) {
		auth_err(err, errlen, "%s %s is not %s", what, path,
			 private_key ? "an unencrypted PEM private key" : "a readable PEM public key");
	} else if (!auth_key_fits(pkey, alg)) {
		auth_err(err, errlen, "%s %s: %s needs %s", what, path, alg_name, auth_key_wanted(alg));
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	/* Leave no stale error on the thread's queue for the next OpenSSL caller. */
	ERR_clear_error();
	BIO_free(in);
	return pkey;
}

EVP_PKEY *auth_read_pem_key(const char *path, const char *what, bool private_key, jwt_alg_t alg,
			    const char *alg_name, char *err, size_t errlen)
{
	size_t len = 0;
	char *pem = auth_read_key_file(path, what, &len, err, errlen);
	if (!pem)
		return NULL;
	EVP_PKEY *pkey = auth_parse_pem_key(pem, len, path, what, private_key, alg, alg_name, err, errlen);
	explicit_bzero(pem, len); /* may hold private key bytes */
	free(pem);
	return pkey;
}

bool auth_key_add(struct auth *a, EVP_PKEY *pkey, const char *kid, char *err, size_t errlen)
{
	if (a->nkeys == AUTH_KEYS_MAX) {
		auth_err(err, errlen, "more than %d usable keys", AUTH_KEYS_MAX);
		return false;
	}
	struct auth_key *k = &a->keys[a->nkeys];
	BIO *mem = BIO_new(BIO_s_mem());
	bool ok = mem && PEM_write_bio_PUBKEY(mem, pkey) == 1 && (k->pem = auth_bio_string(mem, &k->pem_len)) &&
		  (!kid || (k->kid = strdup(kid)));
	ERR_clear_error();
	BIO_free(mem);
	if (!ok) {
		free(k->pem);
		*k = (struct auth_key){0};
		auth_err(err, errlen, "out of memory loading a key");
		return false;
	}
	/* ES256 signatures are raw R || S (RFC 7518 3.4), 32 bytes each. */
	k->sig_len = a->alg == JWT_ALG_ES256 ? 64 : (size_t)EVP_PKEY_get_size(pkey);
	a->nkeys++;
	return true;
}

/* Parses the public key ourselves and hands libjwt the re-exported PEM: what
 * libjwt verifies with is then exactly the one key we checked, not whatever
 * else the file holds after it. A file whose first character (after white
 * space) is '{' is a JWKS; anything else must be a PEM public key. */
static bool auth_load_public_key(struct auth *a, const char *path, char *err, size_t errlen)
{
	static const char what[] = "INKASSO_JWT_PUBLIC_KEY_FILE";
	size_t len = 0;
	bool ok = false;
	char *text = auth_read_key_file(path, what, &len, err, errlen);
	if (!text)
		return false;
	if (text[strspn(text, " \t\r\n")] == '{') {
		a->jwks = true;
		ok = auth_load_jwks(a, text, len, path, err, errlen);
	} else {
		EVP_PKEY *pkey = auth_parse_pem_key(text, len, path, what, false, a->alg, a->alg_name, err, errlen);
		ok = pkey && auth_key_add(a, pkey, NULL, err, errlen);
		EVP_PKEY_free(pkey);
	}
	free(text);
	return ok;
}

/* A malloc'd copy of an HS256 secret of at least AUTH_SECRET_MIN bytes. */
static bool auth_secret_copy(const char *secret, const char *name, unsigned char **key, size_t *len, char *err,
			     size_t errlen)
{
	size_t n = secret ? strlen(secret) : 0;
	if (n < AUTH_SECRET_MIN) {
		auth_err(err, errlen, "%s is missing or shorter than 32 bytes", name);
		return false;
	}
	if (!(*key = malloc(n))) {
		auth_err(err, errlen, "out of memory");
		return false;
	}
	memcpy(*key, secret, n);
	*len = n;
	return true;
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
		if (auth_is_set(cfg->public_key_file)) {
			auth_err(err, errlen, "HS256 verifies with INKASSO_JWT_SECRET; "
					      "INKASSO_JWT_PUBLIC_KEY_FILE is for RS256 or ES256");
			goto out;
		}
		if (!auth_secret_copy(cfg->secret, "INKASSO_JWT_SECRET", &a->hmac_key, &a->hmac_len, err, errlen))
			goto out;
		/* Unset or empty: no previous secret (as an empty issuer is none). */
		if (auth_is_set(cfg->secret_previous) &&
		    !auth_secret_copy(cfg->secret_previous, "INKASSO_JWT_SECRET_PREVIOUS", &a->hmac_prev,
				      &a->hmac_prev_len, err, errlen))
			goto out;
	} else {
		if (auth_is_set(cfg->secret_previous)) {
			auth_err(err, errlen, "INKASSO_JWT_SECRET_PREVIOUS is for HS256; %s rotates keys with a JWKS "
					      "in INKASSO_JWT_PUBLIC_KEY_FILE", a->alg_name);
			goto out;
		}
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
	if (a->hmac_prev)
		explicit_bzero(a->hmac_prev, a->hmac_prev_len);
	free(a->hmac_key);
	free(a->hmac_prev);
	for (size_t i = 0; i < a->nkeys; i++) {
		free(a->keys[i].kid);
		free(a->keys[i].pem);
	}
	free(a->issuer);
	free(a->audience);
	free(a);
}
