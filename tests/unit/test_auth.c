/* SPDX-License-Identifier: MIT */
/* Bearer JWT verification: a table of hostile tokens that must all be
 * rejected with the right reason, valid HS256/RS256/ES256 tokens that must
 * pass, and auth_new/auth_mint configuration errors. Tokens are built here
 * byte by byte (OpenSSL signs them), so the header and claims can be anything. */
#include "server/auth.h"

#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/test_b64url.h"

#define NOW 1700000000LL
#define ISS "https://id.example"
#define AUD "inkasso"
#define ISSAUD "\"iss\":\"" ISS "\",\"aud\":\"" AUD "\""
#define BASE "\"tenant\":\"acme\",\"scope\":\"cases:read cases:write\"," ISSAUD
#define EXP_OK "\"exp\":1700003600"
#define GOODP "{" BASE "," EXP_OK "}"
#define HS_H "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define RS_H "{\"alg\":\"RS256\",\"typ\":\"JWT\"}"
#define ES_H "{\"alg\":\"ES256\",\"typ\":\"JWT\"}"

static const char secret[] = "0123456789abcdef0123456789abcdef-inkasso";
static const char other_secret[] = "fedcba9876543210fedcba9876543210-intruder";

/* Keys and their PEM files, made fresh by keys_setup for each test process. */
static char dir[64];
static char rsa_pub[128], rsa_priv[128], ec_pub[128], ec_priv[128];
static char rsa_small_pub[128], ec384_pub[128], enc_priv[128], big_file[128], junk_pem[128], no_block[128];
static char *rsa_pub_pem; /* the public key PEM text, the HMAC key of the confusion attack */
static EVP_PKEY *rsa_key, *ec_key;

static void write_text(const char *path, const char *text, size_t n)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "cannot create %s", path);
	cr_assert_eq(fwrite(text, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
}

static void write_key(const char *path, EVP_PKEY *k, bool private_key, const char *passphrase)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "cannot create %s", path);
	int ok;
	if (!private_key)
		ok = PEM_write_PUBKEY(f, k);
	else if (passphrase)
		ok = PEM_write_PKCS8PrivateKey(f, k, EVP_aes_256_cbc(), (char *)passphrase, (int)strlen(passphrase),
					       NULL, NULL);
	else
		ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	cr_assert_eq(ok, 1);
	cr_assert_eq(fclose(f), 0);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f);
	char *buf = calloc(1, 65536);
	cr_assert_not_null(buf);
	size_t n = fread(buf, 1, 65535, f);
	cr_assert_gt(n, 0);
	fclose(f);
	return buf;
}

static void keys_setup(void)
{
	strcpy(dir, "/tmp/inkasso-auth-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(rsa_pub, sizeof rsa_pub, "%s/rsa.pub.pem", dir);
	snprintf(rsa_priv, sizeof rsa_priv, "%s/rsa.pem", dir);
	snprintf(ec_pub, sizeof ec_pub, "%s/ec.pub.pem", dir);
	snprintf(ec_priv, sizeof ec_priv, "%s/ec.pem", dir);
	snprintf(rsa_small_pub, sizeof rsa_small_pub, "%s/rsa1024.pub.pem", dir);
	snprintf(ec384_pub, sizeof ec384_pub, "%s/ec384.pub.pem", dir);
	snprintf(enc_priv, sizeof enc_priv, "%s/enc.pem", dir);
	snprintf(big_file, sizeof big_file, "%s/big.pem", dir);
	snprintf(junk_pem, sizeof junk_pem, "%s/junk.pem", dir);
	snprintf(no_block, sizeof no_block, "%s/noblock.pem", dir);

	rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *rsa_small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	EVP_PKEY *ec384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	cr_assert(rsa_key && ec_key && rsa_small && ec384);
	write_key(rsa_pub, rsa_key, false, NULL);
	write_key(rsa_priv, rsa_key, true, NULL);
	write_key(ec_pub, ec_key, false, NULL);
	write_key(ec_priv, ec_key, true, NULL);
	write_key(rsa_small_pub, rsa_small, false, NULL);
	write_key(ec384_pub, ec384, false, NULL);
	write_key(enc_priv, rsa_key, true, "correct horse");
	EVP_PKEY_free(rsa_small);
	EVP_PKEY_free(ec384);
	rsa_pub_pem = slurp(rsa_pub);

	/* A real key followed by 64 KiB of comment: over the cap. */
	size_t n = strlen(rsa_pub_pem) + 65536;
	char *big = malloc(n);
	cr_assert_not_null(big);
	memcpy(big, rsa_pub_pem, strlen(rsa_pub_pem));
	memset(big + strlen(rsa_pub_pem), '#', n - strlen(rsa_pub_pem));
	write_text(big_file, big, n);
	free(big);
	const char junk[] = "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n";
	write_text(junk_pem, junk, sizeof junk - 1);
	const char plain[] = "just some text\n";
	write_text(no_block, plain, sizeof plain - 1);
}

static void keys_teardown(void)
{
	const char *files[] = {rsa_pub, rsa_priv, ec_pub, ec_priv, rsa_small_pub, ec384_pub,
			       enc_priv, big_file, junk_pem, no_block};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		unlink(files[i]);
	rmdir(dir);
	free(rsa_pub_pem);
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(ec_key);
	rsa_pub_pem = NULL;
	rsa_key = ec_key = NULL;
}

/* ---- building tokens ---- */

static char *b64url_str(const char *s)
{
	return b64url((const unsigned char *)s, strlen(s));
}

enum signer { SIG_EMPTY, SIG_HS, SIG_HS_WRONG, SIG_HS_RSAPUB, SIG_RS, SIG_ES };

static size_t evp_sign(EVP_PKEY *k, const char *in, unsigned char *out, size_t cap)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t n = cap;
	cr_assert_not_null(ctx);
	cr_assert_eq(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k), 1);
	cr_assert_eq(EVP_DigestSign(ctx, out, &n, (const unsigned char *)in, strlen(in)), 1);
	EVP_MD_CTX_free(ctx);
	return n;
}

/* ES256 wants raw R || S, 32 bytes each, not the DER that OpenSSL emits. */
static size_t es256_sign(const char *in, unsigned char *out)
{
	unsigned char der[128];
	size_t n = evp_sign(ec_key, in, der, sizeof der);
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)n);
	cr_assert_not_null(sig);
	const BIGNUM *r, *s;
	ECDSA_SIG_get0(sig, &r, &s);
	cr_assert_eq(BN_bn2binpad(r, out, 32), 32);
	cr_assert_eq(BN_bn2binpad(s, out + 32, 32), 32);
	ECDSA_SIG_free(sig);
	return 64;
}

static char *sign_b64(enum signer s, const char *input)
{
	unsigned char sig[1024];
	unsigned int hl = 0;
	size_t n = 0;
	switch (s) {
	case SIG_EMPTY:
		break;
	case SIG_HS:
	case SIG_HS_WRONG:
	case SIG_HS_RSAPUB: {
		const char *k = s == SIG_HS ? secret : s == SIG_HS_WRONG ? other_secret : rsa_pub_pem;
		cr_assert_not_null(HMAC(EVP_sha256(), k, (int)strlen(k), (const unsigned char *)input, strlen(input),
					sig, &hl));
		n = hl;
		break;
	}
	case SIG_RS:
		n = evp_sign(rsa_key, input, sig, sizeof sig);
		break;
	case SIG_ES:
		n = es256_sign(input, sig);
		break;
	}
	return b64url(sig, n);
}

/* "b64(header).b64(emitted payload).sig(b64(header).b64(signed payload))". */
static char *make_token(const char *header, const char *payload, const char *emit, enum signer s)
{
	char *h = b64url_str(header), *p = b64url_str(payload), *e = b64url_str(emit ? emit : payload);
	char *input, *tok, *sig;
	cr_assert_gt(asprintf(&input, "%s.%s", h, p), 0);
	sig = sign_b64(s, input);
	cr_assert_gt(asprintf(&tok, "%s.%s.%s", h, e, sig), 0);
	free(h);
	free(p);
	free(e);
	free(input);
	free(sig);
	return tok;
}

static char *bearer(const char *prefix, const char *tok)
{
	char *s;
	cr_assert_gt(asprintf(&s, "%s%s", prefix, tok), 0);
	return s;
}

/* ---- verifiers ---- */

enum verifier { V_HS, V_RS, V_ES, V_COUNT };

static struct auth *new_or_die(const char *alg, const char *sec, const char *pub, const char *iss, const char *aud)
{
	char err[256] = "";
	struct auth_config cfg = {.alg = alg, .secret = sec, .public_key_file = pub, .issuer = iss, .audience = aud};
	struct auth *a = auth_new(&cfg, err, sizeof err);
	cr_assert_not_null(a, "auth_new(%s): %s", alg ? alg : "default", err);
	return a;
}

static void verifiers(struct auth *v[V_COUNT])
{
	v[V_HS] = new_or_die("HS256", secret, NULL, ISS, AUD);
	v[V_RS] = new_or_die("RS256", NULL, rsa_pub, ISS, AUD);
	v[V_ES] = new_or_die("ES256", NULL, ec_pub, ISS, AUD);
}

static void free_verifiers(struct auth *v[V_COUNT])
{
	for (int i = 0; i < V_COUNT; i++)
		auth_free(v[i]);
}

/* ---- the hostile table ---- */

enum mutation {
	M_NONE,
	M_TRUNC_SIG,    /* drop the last signature character */
	M_PAD_SIG,      /* append "=" */
	M_LONG_SIG,     /* append "AAAA": three more signature bytes */
	M_NONCANON_SIG, /* set an unused low bit of the last character */
	M_TWO_SEG,      /* header.payload */
	M_FOUR_SEG,     /* header.payload.sig.sig */
	M_EMPTY_HEADER, /* .payload.sig */
	M_EMPTY_PAYLOAD,
	M_TRAILING_DOT, /* header.payload.sig. */
	M_PLUS,         /* standard-base64 '+' in the payload */
	M_SLASH_SIG,    /* standard-base64 '/' in the signature */
	M_SPACE,        /* a space inside the token */
	M_TRAILING_SP,  /* a space after the token */
	M_OVERSIZE,     /* a signed token of AUTH_TOKEN_MAX + 1 bytes */
};

struct hostile {
	const char *name;
	enum verifier v;
	const char *raw;    /* the whole Authorization value; the fields below are then unused */
	const char *prefix; /* NULL: "Bearer " */
	const char *header;
	const char *payload;
	const char *emit;   /* non-NULL: the payload sent instead of the one signed */
	enum signer sig;
	enum mutation mut;
	const char *why;
};

#define P(...) "{" __VA_ARGS__ "}"
#define TENANT_65 "a123456789b123456789c123456789d123456789e123456789f123456789ghijk"

static const struct hostile hostile[] = {
	/* alg none in its spellings; without a signature the empty third segment fails first */
	{"alg none, no signature", V_HS, NULL, NULL, "{\"alg\":\"none\",\"typ\":\"JWT\"}", GOODP, NULL, SIG_EMPTY, M_NONE, "malformed token"},
	{"alg none, signed", V_HS, NULL, NULL, "{\"alg\":\"none\",\"typ\":\"JWT\"}", GOODP, NULL, SIG_HS, M_NONE, "algorithm not allowed"},
	{"alg None, no signature", V_HS, NULL, NULL, "{\"alg\":\"None\"}", GOODP, NULL, SIG_EMPTY, M_NONE, "malformed token"},
	{"alg None, signed", V_HS, NULL, NULL, "{\"alg\":\"None\"}", GOODP, NULL, SIG_HS, M_NONE, "algorithm not allowed"},
	{"alg NONE, no signature", V_HS, NULL, NULL, "{\"alg\":\"NONE\"}", GOODP, NULL, SIG_EMPTY, M_NONE, "malformed token"},
	{"alg NONE, signed", V_HS, NULL, NULL, "{\"alg\":\"NONE\"}", GOODP, NULL, SIG_HS, M_NONE, "algorithm not allowed"},
	{"alg none against RS256", V_RS, NULL, NULL, "{\"alg\":\"none\"}", GOODP, NULL, SIG_RS, M_NONE, "algorithm not allowed"},
	{"alg none against ES256", V_ES, NULL, NULL, "{\"alg\":\"none\"}", GOODP, NULL, SIG_ES, M_NONE, "algorithm not allowed"},
	{"alg hs256 lower case", V_HS, NULL, NULL, "{\"alg\":\"hs256\",\"typ\":\"JWT\"}", GOODP, NULL, SIG_HS, M_NONE, "algorithm not allowed"},
	{"alg HS512", V_HS, NULL, NULL, "{\"alg\":\"HS512\",\"typ\":\"JWT\"}", GOODP, NULL, SIG_HS, M_NONE, "algorithm not allowed"},
	{"alg missing", V_HS, NULL, NULL, "{\"typ\":\"JWT\"}", GOODP, NULL, SIG_HS, M_NONE, "algorithm not allowed"},
	{"alg as array", V_HS, NULL, NULL, "{\"alg\":[\"HS256\"]}", GOODP, NULL, SIG_HS, M_NONE, "algorithm not allowed"},
	{"alg with NUL", V_HS, NULL, NULL, "{\"alg\":\"HS256\\u0000x\"}", GOODP, NULL, SIG_HS, M_NONE, "algorithm not allowed"},
	{"confusion: HS256 keyed with the RSA public PEM", V_RS, NULL, NULL, HS_H, GOODP, NULL, SIG_HS_RSAPUB, M_NONE, "algorithm not allowed"},
	{"RS256 token, HS256 verifier", V_HS, NULL, NULL, RS_H, GOODP, NULL, SIG_RS, M_NONE, "algorithm not allowed"},
	{"ES256 token, RS256 verifier", V_RS, NULL, NULL, ES_H, GOODP, NULL, SIG_ES, M_NONE, "algorithm not allowed"},
	{"RS256 token, ES256 verifier", V_ES, NULL, NULL, RS_H, GOODP, NULL, SIG_RS, M_NONE, "algorithm not allowed"},
	{"HS256 token, ES256 verifier", V_ES, NULL, NULL, HS_H, GOODP, NULL, SIG_HS, M_NONE, "algorithm not allowed"},
	{"ES256 header, HMAC signature", V_ES, NULL, NULL, ES_H, GOODP, NULL, SIG_HS, M_NONE, "bad signature"},
	{"typ JOSE", V_HS, NULL, NULL, "{\"alg\":\"HS256\",\"typ\":\"JOSE\"}", GOODP, NULL, SIG_HS, M_NONE, "malformed token"},
	{"typ number", V_HS, NULL, NULL, "{\"alg\":\"HS256\",\"typ\":1}", GOODP, NULL, SIG_HS, M_NONE, "malformed token"},
	{"crit header", V_HS, NULL, NULL, "{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", GOODP, NULL, SIG_HS, M_NONE, "malformed token"},
	{"header not JSON", V_HS, NULL, NULL, "alg=HS256", GOODP, NULL, SIG_HS, M_NONE, "malformed token"},
	{"header JSON array", V_HS, NULL, NULL, "[\"HS256\",\"JWT\"]", GOODP, NULL, SIG_HS, M_NONE, "malformed token"},
	{"header trailing data", V_HS, NULL, NULL, HS_H "x", GOODP, NULL, SIG_HS, M_NONE, "malformed token"},
	{"header two objects", V_HS, NULL, NULL, HS_H "{}", GOODP, NULL, SIG_HS, M_NONE, "malformed token"},
	{"header too deep", V_HS, NULL, NULL, "{\"alg\":\"HS256\",\"x\":[[[[[[[[[[[[1]]]]]]]]]]]]}", GOODP, NULL, SIG_HS, M_NONE, "malformed token"},
	{"header empty object", V_HS, NULL, NULL, "{}", GOODP, NULL, SIG_HS, M_NONE, "algorithm not allowed"},
	{"payload not JSON", V_HS, NULL, NULL, HS_H, "tenant=acme", NULL, SIG_HS, M_NONE, "malformed token"},
	{"payload JSON array", V_HS, NULL, NULL, HS_H, "[" GOODP "]", NULL, SIG_HS, M_NONE, "malformed token"},
	{"payload trailing data", V_HS, NULL, NULL, HS_H, GOODP "]", NULL, SIG_HS, M_NONE, "malformed token"},
	{"payload truncated JSON", V_HS, NULL, NULL, HS_H, "{" BASE, NULL, SIG_HS, M_NONE, "malformed token"},
	{"expired", V_HS, NULL, NULL, HS_H, P(BASE ",\"exp\":1699999999"), NULL, SIG_HS, M_NONE, "token expired"},
	{"exp equals now (no leeway)", V_HS, NULL, NULL, HS_H, P(BASE ",\"exp\":1700000000"), NULL, SIG_HS, M_NONE, "token expired"},
	{"exp negative", V_HS, NULL, NULL, HS_H, P(BASE ",\"exp\":-1"), NULL, SIG_HS, M_NONE, "token expired"},
	{"exp missing", V_HS, NULL, NULL, HS_H, P(BASE), NULL, SIG_HS, M_NONE, "missing exp"},
	{"exp as string", V_HS, NULL, NULL, HS_H, P(BASE ",\"exp\":\"9999999999\""), NULL, SIG_HS, M_NONE, "invalid exp"},
	{"exp as float", V_HS, NULL, NULL, HS_H, P(BASE ",\"exp\":9999999999.5"), NULL, SIG_HS, M_NONE, "invalid exp"},
	{"exp as float .0", V_HS, NULL, NULL, HS_H, P(BASE ",\"exp\":9999999999.0"), NULL, SIG_HS, M_NONE, "invalid exp"},
	{"exp as exponent", V_HS, NULL, NULL, HS_H, P(BASE ",\"exp\":1e10"), NULL, SIG_HS, M_NONE, "invalid exp"},
	{"exp as bool", V_HS, NULL, NULL, HS_H, P(BASE ",\"exp\":true"), NULL, SIG_HS, M_NONE, "invalid exp"},
	{"exp null", V_HS, NULL, NULL, HS_H, P(BASE ",\"exp\":null"), NULL, SIG_HS, M_NONE, "invalid exp"},
	{"exp object", V_HS, NULL, NULL, HS_H, P(BASE ",\"exp\":{\"t\":9999999999}"), NULL, SIG_HS, M_NONE, "invalid exp"},
	{"exp past year 9999", V_HS, NULL, NULL, HS_H, P(BASE ",\"exp\":9223372036854775807"), NULL, SIG_HS, M_NONE, "invalid exp"},
	{"nbf in the future", V_HS, NULL, NULL, HS_H, P(BASE "," EXP_OK ",\"nbf\":1700000001"), NULL, SIG_HS, M_NONE, "token not yet valid"},
	{"nbf as string", V_HS, NULL, NULL, HS_H, P(BASE "," EXP_OK ",\"nbf\":\"0\""), NULL, SIG_HS, M_NONE, "malformed token"},
	{"iat as string", V_HS, NULL, NULL, HS_H, P(BASE "," EXP_OK ",\"iat\":\"0\""), NULL, SIG_HS, M_NONE, "malformed token"},
	{"wrong iss", V_HS, NULL, NULL, HS_H, P("\"tenant\":\"acme\",\"iss\":\"https://evil.example\",\"aud\":\"" AUD "\"," EXP_OK), NULL, SIG_HS, M_NONE, "wrong issuer"},
	{"iss missing", V_HS, NULL, NULL, HS_H, P("\"tenant\":\"acme\",\"aud\":\"" AUD "\"," EXP_OK), NULL, SIG_HS, M_NONE, "wrong issuer"},
	{"iss as array", V_HS, NULL, NULL, HS_H, P("\"tenant\":\"acme\",\"iss\":[\"" ISS "\"],\"aud\":\"" AUD "\"," EXP_OK), NULL, SIG_HS, M_NONE, "wrong issuer"},
	{"iss prefix only", V_HS, NULL, NULL, HS_H, P("\"tenant\":\"acme\",\"iss\":\"https://id.exampl\",\"aud\":\"" AUD "\"," EXP_OK), NULL, SIG_HS, M_NONE, "wrong issuer"},
	{"wrong aud", V_HS, NULL, NULL, HS_H, P("\"tenant\":\"acme\",\"iss\":\"" ISS "\",\"aud\":\"other\"," EXP_OK), NULL, SIG_HS, M_NONE, "wrong audience"},
	{"aud array without ours", V_HS, NULL, NULL, HS_H, P("\"tenant\":\"acme\",\"iss\":\"" ISS "\",\"aud\":[\"a\",\"b\"]," EXP_OK), NULL, SIG_HS, M_NONE, "wrong audience"},
	{"aud missing", V_HS, NULL, NULL, HS_H, P("\"tenant\":\"acme\",\"iss\":\"" ISS "\"," EXP_OK), NULL, SIG_HS, M_NONE, "wrong audience"},
	{"aud nested array", V_HS, NULL, NULL, HS_H, P("\"tenant\":\"acme\",\"iss\":\"" ISS "\",\"aud\":[[\"" AUD "\"]]," EXP_OK), NULL, SIG_HS, M_NONE, "wrong audience"},
	{"tenant missing", V_HS, NULL, NULL, HS_H, P(ISSAUD "," EXP_OK), NULL, SIG_HS, M_NONE, "invalid tenant"},
	{"tenant empty", V_HS, NULL, NULL, HS_H, P("\"tenant\":\"\"," ISSAUD "," EXP_OK), NULL, SIG_HS, M_NONE, "invalid tenant"},
	{"tenant 65 chars", V_HS, NULL, NULL, HS_H, P("\"tenant\":\"" TENANT_65 "\"," ISSAUD "," EXP_OK), NULL, SIG_HS, M_NONE, "invalid tenant"},
	{"tenant with space", V_HS, NULL, NULL, HS_H, P("\"tenant\":\"ac me\"," ISSAUD "," EXP_OK), NULL, SIG_HS, M_NONE, "invalid tenant"},
	{"tenant with dots and slash", V_HS, NULL, NULL, HS_H, P("\"tenant\":\"../acme\"," ISSAUD "," EXP_OK), NULL, SIG_HS, M_NONE, "invalid tenant"},
	{"tenant with quote", V_HS, NULL, NULL, HS_H, P("\"tenant\":\"ac\\\"me\"," ISSAUD "," EXP_OK), NULL, SIG_HS, M_NONE, "invalid tenant"},
	{"tenant non-ASCII", V_HS, NULL, NULL, HS_H, P("\"tenant\":\"acm\\u00e9\"," ISSAUD "," EXP_OK), NULL, SIG_HS, M_NONE, "invalid tenant"},
	{"tenant number", V_HS, NULL, NULL, HS_H, P("\"tenant\":42," ISSAUD "," EXP_OK), NULL, SIG_HS, M_NONE, "invalid tenant"},
	{"scope as array", V_HS, NULL, NULL, HS_H, P("\"tenant\":\"acme\",\"scope\":[\"cases:read\"]," ISSAUD "," EXP_OK), NULL, SIG_HS, M_NONE, "malformed token"},
	{"tampered payload HS256", V_HS, NULL, NULL, HS_H, GOODP, P("\"tenant\":\"acmf\",\"scope\":\"cases:read cases:write\"," ISSAUD "," EXP_OK), SIG_HS, M_NONE, "bad signature"},
	{"tampered payload RS256", V_RS, NULL, NULL, RS_H, GOODP, P("\"tenant\":\"acmf\",\"scope\":\"cases:read cases:write\"," ISSAUD "," EXP_OK), SIG_RS, M_NONE, "bad signature"},
	{"tampered payload ES256", V_ES, NULL, NULL, ES_H, GOODP, P("\"tenant\":\"acmf\",\"scope\":\"cases:read cases:write\"," ISSAUD "," EXP_OK), SIG_ES, M_NONE, "bad signature"},
	{"tampered exp", V_HS, NULL, NULL, HS_H, P(BASE ",\"exp\":1699999999"), P(BASE ",\"exp\":1799999999"), SIG_HS, M_NONE, "bad signature"},
	{"wrong secret", V_HS, NULL, NULL, HS_H, GOODP, NULL, SIG_HS_WRONG, M_NONE, "bad signature"},
	{"truncated signature HS256", V_HS, NULL, NULL, HS_H, GOODP, NULL, SIG_HS, M_TRUNC_SIG, "bad signature"},
	{"truncated signature RS256", V_RS, NULL, NULL, RS_H, GOODP, NULL, SIG_RS, M_TRUNC_SIG, "bad signature"},
	{"truncated signature ES256", V_ES, NULL, NULL, ES_H, GOODP, NULL, SIG_ES, M_TRUNC_SIG, "bad signature"},
	{"padded signature", V_HS, NULL, NULL, HS_H, GOODP, NULL, SIG_HS, M_PAD_SIG, "malformed token"},
	{"extended signature", V_HS, NULL, NULL, HS_H, GOODP, NULL, SIG_HS, M_LONG_SIG, "bad signature"},
	{"extended signature ES256", V_ES, NULL, NULL, ES_H, GOODP, NULL, SIG_ES, M_LONG_SIG, "bad signature"},
	{"non-canonical base64 signature", V_HS, NULL, NULL, HS_H, GOODP, NULL, SIG_HS, M_NONCANON_SIG, "bad signature"},
	{"non-canonical base64 signature RS256", V_RS, NULL, NULL, RS_H, GOODP, NULL, SIG_RS, M_NONCANON_SIG, "bad signature"},
	{"non-canonical base64 signature ES256", V_ES, NULL, NULL, ES_H, GOODP, NULL, SIG_ES, M_NONCANON_SIG, "bad signature"},
	{"2 segments", V_HS, NULL, NULL, HS_H, GOODP, NULL, SIG_HS, M_TWO_SEG, "malformed token"},
	{"4 segments", V_HS, NULL, NULL, HS_H, GOODP, NULL, SIG_HS, M_FOUR_SEG, "malformed token"},
	{"empty header segment", V_HS, NULL, NULL, HS_H, GOODP, NULL, SIG_HS, M_EMPTY_HEADER, "malformed token"},
	{"empty payload segment", V_HS, NULL, NULL, HS_H, GOODP, NULL, SIG_HS, M_EMPTY_PAYLOAD, "malformed token"},
	{"trailing dot", V_HS, NULL, NULL, HS_H, GOODP, NULL, SIG_HS, M_TRAILING_DOT, "malformed token"},
	{"'+' in payload", V_HS, NULL, NULL, HS_H, GOODP, NULL, SIG_HS, M_PLUS, "malformed token"},
	{"'/' in signature", V_HS, NULL, NULL, HS_H, GOODP, NULL, SIG_HS, M_SLASH_SIG, "malformed token"},
	{"space inside token", V_HS, NULL, NULL, HS_H, GOODP, NULL, SIG_HS, M_SPACE, "malformed token"},
	{"space after token", V_HS, NULL, NULL, HS_H, GOODP, NULL, SIG_HS, M_TRAILING_SP, "malformed token"},
	{"oversize token", V_HS, NULL, NULL, HS_H, GOODP, NULL, SIG_HS, M_OVERSIZE, "token too long"},
	{"Bearer with two spaces", V_HS, NULL, "Bearer  ", HS_H, GOODP, NULL, SIG_HS, M_NONE, "malformed token"},
	{"Bearer with a tab", V_HS, NULL, "Bearer\t", HS_H, GOODP, NULL, SIG_HS, M_NONE, "missing bearer token"},
	{"Bearerx scheme", V_HS, NULL, "Bearerx ", HS_H, GOODP, NULL, SIG_HS, M_NONE, "missing bearer token"},
	{"Token scheme", V_HS, NULL, "Token ", HS_H, GOODP, NULL, SIG_HS, M_NONE, "missing bearer token"},
	{"leading space", V_HS, NULL, " Bearer ", HS_H, GOODP, NULL, SIG_HS, M_NONE, "missing bearer token"},
	{"Basic credentials", V_HS, "Basic dXNlcjpwYXNzd29yZA==", NULL, NULL, NULL, NULL, SIG_EMPTY, M_NONE, "missing bearer token"},
	{"Bearer alone", V_HS, "Bearer", NULL, NULL, NULL, NULL, SIG_EMPTY, M_NONE, "missing bearer token"},
	{"Bearer and a space", V_HS, "Bearer ", NULL, NULL, NULL, NULL, SIG_EMPTY, M_NONE, "missing bearer token"},
	{"empty header", V_HS, "", NULL, NULL, NULL, NULL, SIG_EMPTY, M_NONE, "missing bearer token"},
	{"dots only", V_HS, "Bearer ..", NULL, NULL, NULL, NULL, SIG_EMPTY, M_NONE, "malformed token"},
	{"one segment", V_HS, "Bearer abc", NULL, NULL, NULL, NULL, SIG_EMPTY, M_NONE, "malformed token"},
};

static const char *const reasons[] = {
	"missing bearer token", "malformed token", "token too long", "algorithm not allowed",
	"bad signature", "token expired", "missing exp", "invalid exp",
	"token not yet valid", "wrong issuer", "wrong audience", "invalid tenant",
};

static char *insert_at(const char *tok, size_t at, const char *what)
{
	char *s;
	cr_assert_gt(asprintf(&s, "%.*s%s%s", (int)at, tok, what, tok + at), 0);
	return s;
}

/* A signed HS256 token whose compact form is exactly len bytes, padded with
 * a "pad" claim and a "kid" header; base64url skips lengths of 4k+1, so
 * both are varied. */
static char *token_of_length(size_t len, const char *iss_aud)
{
	for (size_t kid = 0; kid < 4; kid++) {
		char header[64];
		snprintf(header, sizeof header, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%.*s\"}", (int)kid,
			 "kkkk");
		size_t hl = (strlen(header) * 4 + 2) / 3;
		for (size_t pad = 0; pad < AUTH_TOKEN_MAX; pad++) {
			char *payload;
			cr_assert_gt(asprintf(&payload, "{\"tenant\":\"acme\",%s\"exp\":1700003600,\"pad\":\"%*s\"}",
					      iss_aud, (int)pad, ""),
				     0);
			size_t total = hl + 1 + (strlen(payload) * 4 + 2) / 3 + 1 + 43;
			if (total == len) {
				char *tok = make_token(header, payload, NULL, SIG_HS);
				free(payload);
				cr_assert_eq(strlen(tok), len);
				return tok;
			}
			free(payload);
			if (total > len)
				break;
		}
	}
	cr_assert_fail("no token of length %zu", len);
	return NULL;
}

static char b64_flip_low_bit(char c)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *p = strchr(tab, c);
	cr_assert(c && p);
	return tab[(p - tab) ^ 1];
}

static char *hostile_value(const struct hostile *h)
{
	if (h->raw)
		return strdup(h->raw);
	char *tok = h->mut == M_OVERSIZE ? token_of_length(AUTH_TOKEN_MAX + 1, ISSAUD ",")
					 : make_token(h->header, h->payload, h->emit, h->sig);
	char *first = strchr(tok, '.'), *last = strrchr(tok, '.');
	size_t len = strlen(tok);
	char *m = NULL;
	switch (h->mut) {
	case M_NONE:
	case M_OVERSIZE:
		m = strdup(tok);
		break;
	case M_TRUNC_SIG:
		tok[len - 1] = '\0';
		m = strdup(tok);
		break;
	case M_PAD_SIG:
		m = insert_at(tok, len, "=");
		break;
	case M_LONG_SIG:
		m = insert_at(tok, len, "AAAA");
		break;
	case M_NONCANON_SIG:
		/* 43, 86 and 342 characters carry 2 or 4 bits more than the 32, 64
		 * and 256 bytes of signature: flip the lowest, unused one. */
		tok[len - 1] = b64_flip_low_bit(tok[len - 1]);
		m = strdup(tok);
		break;
	case M_TWO_SEG:
		*last = '\0';
		m = strdup(tok);
		break;
	case M_FOUR_SEG:
		m = insert_at(tok, len, last);
		break;
	case M_EMPTY_HEADER:
		m = strdup(first);
		break;
	case M_EMPTY_PAYLOAD:
		cr_assert_gt(asprintf(&m, "%.*s.%s", (int)(first - tok), tok, last), 0);
		break;
	case M_TRAILING_DOT:
		m = insert_at(tok, len, ".");
		break;
	case M_PLUS:
		m = insert_at(tok, (size_t)(first - tok) + 2, "+");
		break;
	case M_SLASH_SIG:
		m = insert_at(tok, (size_t)(last - tok) + 2, "/");
		break;
	case M_SPACE:
		m = insert_at(tok, (size_t)(first - tok) + 2, " ");
		break;
	case M_TRAILING_SP:
		m = insert_at(tok, len, " ");
		break;
	}
	cr_assert_not_null(m);
	char *value = bearer(h->prefix ? h->prefix : "Bearer ", m);
	free(m);
	free(tok);
	return value;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

TestSuite(auth_keys, .init = keys_setup, .fini = keys_teardown, .timeout = 60);

Test(auth_keys, hostile_tokens_are_rejected)
{
	enum { N = sizeof hostile / sizeof hostile[0] };
	cr_assert_geq(N, 40);
	struct auth *v[V_COUNT];
	verifiers(v);
	char *values[N];
	for (size_t i = 0; i < N; i++)
		values[i] = hostile_value(&hostile[i]);

	const char *why[N];
	bool ok[N];
	struct auth_claims c[N];
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < N; i++)
		ok[i] = auth_verify(v[hostile[i].v], values[i], NOW, &c[i], &why[i]);
	double took = seconds_since(&t0);

	for (size_t i = 0; i < N; i++) {
		const struct hostile *h = &hostile[i];
		cr_expect(!ok[i], "[%zu] %s: accepted", i, h->name);
		cr_expect_str_eq(why[i] ? why[i] : "(null)", h->why, "[%zu] %s: why \"%s\", want \"%s\"", i, h->name,
				 why[i] ? why[i] : "(null)", h->why);
		bool known = false;
		for (size_t r = 0; why[i] && r < sizeof reasons / sizeof reasons[0]; r++)
			known |= why[i] == reasons[r] || !strcmp(why[i], reasons[r]);
		cr_expect(known, "[%zu] %s: reason is not one of the static strings", i, h->name);
		cr_expect_eq(c[i].tenant[0], '\0', "[%zu] %s: claims filled on failure", i, h->name);
		cr_expect_eq(c[i].scopes, 0u);
		free(values[i]);
	}
	/* A sanity bound, not a benchmark: rejection must not decode megabytes. */
	cr_expect_lt(took, 1.0, "%d rejections took %.3f s", (int)N, took);
	free_verifiers(v);
}

/* ---- accepted tokens ---- */

static void expect_accepted(const struct auth *a, const char *value, const char *tenant, unsigned scopes)
{
	struct auth_claims c;
	const char *why = NULL;
	bool ok = auth_verify(a, value, NOW, &c, &why);
	cr_assert(ok, "rejected (%s): %s", why ? why : "?", value);
	cr_assert_str_eq(c.tenant, tenant);
	cr_assert_eq(c.scopes, scopes, "scopes %#x, want %#x", c.scopes, scopes);
}

static void expect_token(const struct auth *a, const char *header, const char *payload, enum signer s,
			 const char *prefix, unsigned scopes)
{
	char *tok = make_token(header, payload, NULL, s);
	char *value = bearer(prefix, tok);
	expect_accepted(a, value, "acme", scopes);
	free(value);
	free(tok);
}

#define RW (SCOPE_CASES_READ | SCOPE_CASES_WRITE)

Test(auth_keys, valid_tokens_of_each_algorithm)
{
	struct auth *v[V_COUNT];
	verifiers(v);
	expect_token(v[V_HS], HS_H, GOODP, SIG_HS, "Bearer ", RW);
	expect_token(v[V_RS], RS_H, GOODP, SIG_RS, "Bearer ", RW);
	expect_token(v[V_ES], ES_H, GOODP, SIG_ES, "Bearer ", RW);

	struct auth_claims c;
	const char *why;
	char *tok = make_token(HS_H, GOODP, NULL, SIG_HS), *value = bearer("Bearer ", tok);
	cr_assert(auth_verify(v[V_HS], value, NOW, &c, &why));
	cr_assert_eq(c.exp, 1700003600);
	/* one second before exp is still valid; at exp it is not */
	cr_assert(auth_verify(v[V_HS], value, 1700003599, &c, &why));
	cr_assert_not(auth_verify(v[V_HS], value, 1700003600, &c, &why));
	cr_assert_str_eq(why, "token expired");
	free(value);
	free(tok);
	free_verifiers(v);
}

/* server/auth_cache.c: a verified token is remembered per thread, but only
 * for the verifier that checked it and only within its time window. */
Test(auth_keys, memo_is_per_verifier_and_rechecks_time)
{
	struct auth *v[V_COUNT];
	verifiers(v);
	struct auth *intruder = new_or_die("HS256", other_secret, NULL, ISS, AUD);
	struct auth_claims c, again;
	const char *why;
	char *tok = make_token(HS_H, "{" BASE ",\"nbf\":1700000000," EXP_OK "}", NULL, SIG_HS);
	char *value = bearer("Bearer ", tok);
	cr_assert(auth_verify(v[V_HS], value, NOW, &c, &why));
	cr_assert(auth_verify(v[V_HS], value, NOW + 1, &again, &why), "a hit");
	cr_assert_eq(memcmp(&c, &again, sizeof c), 0, "the same claims");
	cr_assert_not(auth_verify(intruder, value, NOW + 1, &again, &why), "another secret: no hit");
	cr_assert_str_eq(why, "bad signature");
	cr_assert_not(auth_verify(v[V_HS], value, NOW - 10, &again, &why), "clock behind: checked in full");
	cr_assert_str_eq(why, "token not yet valid");
	cr_assert_not(auth_verify(v[V_HS], value, 1700003600, &again, &why), "at exp: checked in full");
	cr_assert_str_eq(why, "token expired");
	free(value);
	free(tok);
	auth_free(intruder);
	free_verifiers(v);
}

Test(auth_keys, es256_signatures_with_short_r_or_s)
{
	/* One signature in 128 has an R or S below 2^248; both must be
	 * zero-padded to 32 bytes by signer and verifier alike. */
	struct auth *a = new_or_die("ES256", NULL, ec_pub, NULL, NULL);
	for (int i = 0; i < 300; i++) {
		char payload[128];
		snprintf(payload, sizeof payload, "{\"tenant\":\"acme\",\"n\":%d," EXP_OK "}", i);
		expect_token(a, ES_H, payload, SIG_ES, "Bearer ", 0);
	}
	auth_free(a);
}

Test(auth_keys, scheme_is_case_insensitive)
{
	struct auth *v[V_COUNT];
	verifiers(v);
	const char *schemes[] = {"bearer ", "BEARER ", "bEaReR "};
	for (size_t i = 0; i < 3; i++)
		expect_token(v[V_HS], HS_H, GOODP, SIG_HS, schemes[i], RW);
	free_verifiers(v);
}

Test(auth_keys, optional_parts_accepted)
{
	struct auth *v[V_COUNT];
	verifiers(v);
	/* no typ, lower-case typ, an extra header field */
	expect_token(v[V_HS], "{\"alg\":\"HS256\"}", GOODP, SIG_HS, "Bearer ", RW);
	expect_token(v[V_HS], "{\"alg\":\"HS256\",\"typ\":\"jwt\"}", GOODP, SIG_HS, "Bearer ", RW);
	expect_token(v[V_RS], "{\"typ\":\"JWT\",\"kid\":\"k1\",\"alg\":\"RS256\"}", GOODP, SIG_RS, "Bearer ", RW);
	/* aud as an array holding ours; nbf now; iat; extra claims */
	expect_token(v[V_HS], HS_H,
		     P("\"tenant\":\"acme\",\"iss\":\"" ISS "\",\"aud\":[\"x\",\"" AUD "\"],\"nbf\":1700000000,"
		       "\"iat\":1699999000,\"roles\":{\"a\":[1,2]}," EXP_OK),
		     SIG_HS, "Bearer ", 0);
	/* no scope: valid, no rights (the route answers 403) */
	expect_token(v[V_ES], ES_H, P("\"tenant\":\"acme\"," ISSAUD "," EXP_OK), SIG_ES, "Bearer ", 0);
	/* every scope, unknown ones ignored */
	expect_token(v[V_HS], HS_H,
		     P("\"tenant\":\"acme\",\"scope\":\"openid cases:read  settings:write cases:write\"," ISSAUD
		       "," EXP_OK),
		     SIG_HS, "Bearer ", RW | SCOPE_SETTINGS_WRITE);
	free_verifiers(v);
}

Test(auth_keys, tenant_edges)
{
	struct auth *a = new_or_die(NULL, secret, NULL, NULL, NULL);
	char *tok = make_token(HS_H, P("\"tenant\":\"" TENANT_65 "\"," EXP_OK), NULL, SIG_HS);
	char *value = bearer("Bearer ", tok);
	struct auth_claims c;
	const char *why;
	cr_assert_not(auth_verify(a, value, NOW, &c, &why));
	free(value);
	free(tok);
	/* 64 characters, the full alphabet */
	const char t64[] = "Az09_-b123456789c123456789d123456789e123456789f123456789ghijklmn";
	cr_assert_eq(strlen(t64), 64);
	char *payload;
	cr_assert_gt(asprintf(&payload, "{\"tenant\":\"%s\"," EXP_OK "}", t64), 0);
	tok = make_token(HS_H, payload, NULL, SIG_HS);
	value = bearer("Bearer ", tok);
	expect_accepted(a, value, t64, 0);
	free(payload);
	free(value);
	free(tok);
	auth_free(a);
}

Test(auth_keys, no_issuer_or_audience_configured)
{
	struct auth *a = new_or_die("HS256", secret, NULL, "", NULL);
	expect_token(a, HS_H, P("\"tenant\":\"acme\"," EXP_OK), SIG_HS, "Bearer ", 0);
	expect_token(a, HS_H, P("\"tenant\":\"acme\",\"iss\":\"anyone\",\"aud\":7," EXP_OK), SIG_HS, "Bearer ", 0);
	auth_free(a);
}

Test(auth_keys, length_boundary)
{
	struct auth *a = new_or_die("HS256", secret, NULL, NULL, NULL);
	char *at = token_of_length(AUTH_TOKEN_MAX, ""), *over = token_of_length(AUTH_TOKEN_MAX + 1, "");
	char *v1 = bearer("Bearer ", at), *v2 = bearer("Bearer ", over);
	expect_accepted(a, v1, "acme", 0);
	struct auth_claims c;
	const char *why;
	cr_assert_not(auth_verify(a, v2, NOW, &c, &why));
	cr_assert_str_eq(why, "token too long");

	/* 8 MB of header: rejected by length, without reading it all. */
	size_t big = 8u << 20;
	char *huge = malloc(big + 1);
	cr_assert_not_null(huge);
	memcpy(huge, "Bearer ", 7);
	memset(huge + 7, 'a', big - 7);
	huge[big] = '\0';
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_not(auth_verify(a, huge, NOW, &c, &why));
	cr_assert_lt(seconds_since(&t0), 0.1);
	cr_assert_str_eq(why, "token too long");
	free(huge);
	free(v1);
	free(v2);
	free(at);
	free(over);
	auth_free(a);
}

Test(auth_keys, null_arguments)
{
	struct auth *a = new_or_die("HS256", secret, NULL, NULL, NULL);
	struct auth_claims c;
	const char *why = NULL;
	cr_assert_not(auth_verify(a, NULL, NOW, &c, &why));
	cr_assert_str_eq(why, "missing bearer token");
	cr_assert_not(auth_verify(NULL, "Bearer a.b.c", NOW, &c, &why));
	char *tok = make_token(HS_H, GOODP, NULL, SIG_HS), *value = bearer("Bearer ", tok);
	cr_assert_not(auth_verify(a, value, NOW, NULL, &why));
	cr_assert(auth_verify(a, value, NOW, &c, NULL));
	free(value);
	free(tok);
	auth_free(a);
	auth_free(NULL);
}

/* ---- auth_new ---- */

struct new_case {
	const char *name;
	const char *alg, *secret, *pub;
	const char *err; /* substring of the message */
};

Test(auth_keys, bad_configurations_are_refused)
{
	const char short_secret[] = "0123456789abcdef0123456789abcde"; /* 31 bytes */
	const struct new_case cases[] = {
		{"no secret", "HS256", NULL, NULL, "INKASSO_JWT_SECRET is missing or shorter than 32 bytes"},
		{"empty secret", NULL, "", NULL, "INKASSO_JWT_SECRET is missing or shorter than 32 bytes"},
		{"31-byte secret", "HS256", short_secret, NULL, "INKASSO_JWT_SECRET is missing or shorter than 32 bytes"},
		{"HS256 with a public key", "HS256", secret, rsa_pub, "INKASSO_JWT_PUBLIC_KEY_FILE is for RS256 or ES256"},
		{"alg none", "none", secret, NULL, "INKASSO_JWT_ALG must be HS256, RS256 or ES256"},
		{"alg lower case", "hs256", secret, NULL, "INKASSO_JWT_ALG must be"},
		{"alg HS512", "HS512", secret, NULL, "INKASSO_JWT_ALG must be"},
		{"alg empty", "", secret, NULL, "INKASSO_JWT_ALG must be"},
		{"RS256 without a key", "RS256", NULL, NULL, "RS256 needs INKASSO_JWT_PUBLIC_KEY_FILE"},
		{"RS256 with a secret", "RS256", secret, rsa_pub, "unset INKASSO_JWT_SECRET"},
		{"ES256 with a secret", "ES256", secret, ec_pub, "unset INKASSO_JWT_SECRET"},
		{"missing file", "RS256", NULL, "/nonexistent/key.pem", "cannot be opened"},
		{"a directory", "RS256", NULL, "/tmp", "not a regular file"},
		{"a device", "RS256", NULL, "/dev/zero", "not a regular file"},
		{"over 64 KiB", "RS256", NULL, big_file, "larger than 64 KiB"},
		{"no PEM block", "RS256", NULL, no_block, "-----BEGIN PUBLIC KEY-----"},
		{"private key as public", "RS256", NULL, rsa_priv, "-----BEGIN PUBLIC KEY-----"},
		{"PEM block of junk", "RS256", NULL, junk_pem, "not a readable PEM public key"},
		{"EC key for RS256", "RS256", NULL, ec_pub, "RS256 needs an RSA key"},
		{"RSA key for ES256", "ES256", NULL, rsa_pub, "ES256 needs an EC P-256 key"},
		{"RSA 1024", "RS256", NULL, rsa_small_pub, "at least 2048 bits"},
		{"P-384 for ES256", "ES256", NULL, ec384_pub, "ES256 needs an EC P-256 key"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct new_case *k = &cases[i];
		char err[256] = "";
		struct auth_config cfg = {.alg = k->alg, .secret = k->secret, .public_key_file = k->pub};
		struct auth *a = auth_new(&cfg, err, sizeof err);
		cr_expect_null(a, "%s: accepted", k->name);
		auth_free(a);
		cr_expect(strstr(err, k->err) != NULL, "%s: \"%s\" lacks \"%s\"", k->name, err, k->err);
	}
	/* no room for a message is fine too */
	struct auth_config cfg = {.alg = "HS256"};
	cr_assert_null(auth_new(&cfg, NULL, 0));
	cr_assert_null(auth_new(NULL, NULL, 0));
}

Test(auth_keys, good_configurations)
{
	char err[256];
	struct auth_config cfgs[] = {
		{.alg = NULL, .secret = secret},
		{.alg = "HS256", .secret = secret, .public_key_file = ""},
		{.alg = "RS256", .secret = "", .public_key_file = rsa_pub},
		{.alg = "ES256", .public_key_file = ec_pub, .issuer = ISS, .audience = AUD},
	};
	for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
		struct auth *a = auth_new(&cfgs[i], err, sizeof err);
		cr_expect_not_null(a, "config %zu: %s", i, err);
		auth_free(a);
	}
}

/* ---- auth_parse_scopes ---- */

Test(auth, parse_scopes)
{
	const struct {
		const char *in;
		unsigned want;
	} cases[] = {
		{NULL, 0},
		{"", 0},
		{"   ", 0},
		{"cases:read", SCOPE_CASES_READ},
		{"cases:write", SCOPE_CASES_WRITE},
		{"settings:write", SCOPE_SETTINGS_WRITE},
		{"cases:read cases:write settings:write", RW | SCOPE_SETTINGS_WRITE},
		{"  cases:read   cases:write  ", RW},
		{"cases:read cases:read", SCOPE_CASES_READ},
		{"openid cases:write profile", SCOPE_CASES_WRITE},
		{"CASES:READ", 0},
		{"cases:readx", 0},
		{"cases:rea", 0},
		{"xcases:read", 0},
		{"cases:read,cases:write", 0},
		{"cases:read\tcases:write", 0},
		{"cases", 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		cr_expect_eq(auth_parse_scopes(cases[i].in), cases[i].want, "\"%s\"", cases[i].in ? cases[i].in : "NULL");
}

/* ---- auth_mint ---- */

static void expect_minted(const struct auth_config *cfg, const char *key, const char *pub, unsigned scopes)
{
	char err[256] = "";
	char *tok = auth_mint(cfg, key, "tenant_1", "cases:read settings:write", NULL, 3600, NOW, err, sizeof err);
	cr_assert_not_null(tok, "mint: %s", err);
	struct auth_config vc = *cfg;
	if (pub) {
		vc.secret = NULL;
		vc.public_key_file = pub;
	}
	struct auth *a = auth_new(&vc, err, sizeof err);
	cr_assert_not_null(a, "%s", err);
	char *value = bearer("Bearer ", tok);
	struct auth_claims c;
	const char *why = NULL;
	cr_assert(auth_verify(a, value, NOW, &c, &why), "minted token rejected: %s", why ? why : "?");
	cr_assert_str_eq(c.tenant, "tenant_1");
	cr_assert_eq(c.scopes, scopes);
	cr_assert_eq(c.exp, NOW + 3600);
	cr_assert_not(auth_verify(a, value, NOW + 3600, &c, &why));
	cr_assert_str_eq(why, "token expired");
	free(value);
	free(tok);
	auth_free(a);
}

Test(auth_keys, mint_round_trips)
{
	const unsigned want = SCOPE_CASES_READ | SCOPE_SETTINGS_WRITE;
	struct auth_config hs = {.alg = "HS256", .secret = secret, .issuer = ISS, .audience = AUD};
	struct auth_config hs_default = {.secret = secret};
	struct auth_config rs = {.alg = "RS256", .issuer = ISS};
	struct auth_config es = {.alg = "ES256", .secret = "", .audience = AUD};
	expect_minted(&hs, NULL, NULL, want);
	expect_minted(&hs_default, "", NULL, want);
	expect_minted(&rs, rsa_priv, rsa_pub, want);
	for (int i = 0; i < 40; i++) /* exercise R/S padding in libjwt's signer */
		expect_minted(&es, ec_priv, ec_pub, want);
}

Test(auth_keys, mint_token_without_scope)
{
	char err[256];
	struct auth_config hs = {.secret = secret};
	char *tok = auth_mint(&hs, NULL, "acme", NULL, NULL, 60, NOW, err, sizeof err);
	cr_assert_not_null(tok, "%s", err);
	struct auth *a = auth_new(&hs, err, sizeof err);
	char *value = bearer("Bearer ", tok);
	expect_accepted(a, value, "acme", 0);
	free(value);
	free(tok);
	auth_free(a);
}

struct mint_case {
	const char *name;
	const char *alg, *secret, *key, *tenant, *scope;
	long long ttl;
	const char *err;
};

Test(auth_keys, mint_refuses)
{
	const char *long_scope = NULL;
	char scope_buf[1100];
	memset(scope_buf, 'a', sizeof scope_buf - 1);
	scope_buf[sizeof scope_buf - 1] = '\0';
	long_scope = scope_buf;
	const struct mint_case cases[] = {
		{"short secret", "HS256", "short", NULL, "acme", "cases:read", 60, "shorter than 32 bytes"},
		{"no secret", "HS256", NULL, NULL, "acme", "cases:read", 60, "shorter than 32 bytes"},
		{"HS256 with a key file", "HS256", secret, rsa_priv, "acme", "cases:read", 60, "a key file is for RS256"},
		{"bad alg", "none", secret, NULL, "acme", "cases:read", 60, "INKASSO_JWT_ALG must be"},
		{"no tenant", "HS256", secret, NULL, NULL, "cases:read", 60, "tenant must match"},
		{"empty tenant", "HS256", secret, NULL, "", "cases:read", 60, "tenant must match"},
		{"bad tenant", "HS256", secret, NULL, "a/b", "cases:read", 60, "tenant must match"},
		{"long tenant", "HS256", secret, NULL, TENANT_65, "cases:read", 60, "tenant must match"},
		{"control char in scope", "HS256", secret, NULL, "acme", "cases:read\n", 60, "printable ASCII"},
		{"scope too long", "HS256", secret, NULL, "acme", long_scope, 60, "printable ASCII"},
		{"ttl 0", "HS256", secret, NULL, "acme", "cases:read", 0, "ttl must be 1..31536000"},
		{"ttl negative", "HS256", secret, NULL, "acme", "cases:read", -5, "ttl must be 1..31536000"},
		{"ttl over a year", "HS256", secret, NULL, "acme", "cases:read", 31536001, "ttl must be 1..31536000"},
		{"RS256 without a key", "RS256", NULL, NULL, "acme", "cases:read", 60, "RS256 signs with a private key file"},
		{"RS256 with a public key", "RS256", NULL, rsa_pub, "acme", "cases:read", 60, "not an unencrypted PEM private key"},
		{"RS256 with an EC key", "RS256", NULL, ec_priv, "acme", "cases:read", 60, "RS256 needs an RSA key"},
		{"ES256 with an RSA key", "ES256", NULL, rsa_priv, "acme", "cases:read", 60, "ES256 needs an EC P-256 key"},
		{"encrypted key, no prompt", "RS256", NULL, enc_priv, "acme", "cases:read", 60, "not an unencrypted PEM private key"},
		{"missing key file", "ES256", NULL, "/nonexistent.pem", "acme", "cases:read", 60, "cannot be opened"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct mint_case *k = &cases[i];
		char err[256] = "";
		struct auth_config cfg = {.alg = k->alg, .secret = k->secret};
		char *tok = auth_mint(&cfg, k->key, k->tenant, k->scope, NULL, k->ttl, NOW, err, sizeof err);
		cr_expect_null(tok, "%s: minted", k->name);
		free(tok);
		cr_expect(strstr(err, k->err) != NULL, "%s: \"%s\" lacks \"%s\"", k->name, err, k->err);
	}
	struct auth_config cfg = {.secret = secret};
	char err[64];
	cr_assert_null(auth_mint(&cfg, NULL, "acme", NULL, NULL, 60, -1, err, sizeof err));
	cr_assert_null(auth_mint(NULL, NULL, "acme", NULL, NULL, 60, NOW, NULL, 0));
}
