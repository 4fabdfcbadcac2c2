/* SPDX-License-Identifier: MIT */
/* Keys that rotate without downtime: a JWKS in INKASSO_JWT_PUBLIC_KEY_FILE
 * (RSA and EC keys chosen by the token's kid, keys for something else
 * skipped, broken files refused at start) and INKASSO_JWT_SECRET_PREVIOUS
 * beside the HS256 secret. Keys are made fresh here and written as JWK by
 * hand from their numbers, so the JWK reader is checked against OpenSSL. */
#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/auth.h"
#include "tests/unit/test_b64url.h"

#define NOW 1700000000LL
#define CLAIMS "{\"tenant\":\"acme\",\"scope\":\"cases:read\",\"exp\":1700003600}"

static const char secret[] = "0123456789abcdef0123456789abcdef-current";
static const char previous[] = "fedcba9876543210fedcba9876543210-previous";
static const char third[] = "0011223344556677889900112233445566-third";

static char dir[64];
static EVP_PKEY *rsa1, *rsa2, *rsa_small, *ec1, *ec384;

static void setup(void)
{
	strcpy(dir, "/tmp/inkasso-jwks-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	rsa1 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	rsa2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	rsa_small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	ec1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ec384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	cr_assert(rsa1 && rsa2 && rsa_small && ec1 && ec384);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
	EVP_PKEY_free(rsa1);
	EVP_PKEY_free(rsa2);
	EVP_PKEY_free(rsa_small);
	EVP_PKEY_free(ec1);
	EVP_PKEY_free(ec384);
}

/* A big-number parameter of k, base64url, padded to pad bytes (0: minimal). */
static char *bn_param(EVP_PKEY *k, const char *name, int pad)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	cr_assert_eq(EVP_PKEY_get_bn_param(k, name, &bn), 1, "%s", name);
	int n = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
	cr_assert_gt(n, 0);
	BN_free(bn);
	return b64url(buf, (size_t)n);
}

/* A JWK of k: extra is spliced in (",\"use\":\"enc\"" and the like), kid NULL: none. */
static char *jwk(EVP_PKEY *k, const char *kid, const char *extra)
{
	char *s, *a, *b, kidm[300] = "";
	if (kid)
		snprintf(kidm, sizeof kidm, ",\"kid\":\"%s\"", kid);
	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA) {
		a = bn_param(k, OSSL_PKEY_PARAM_RSA_N, 0);
		b = bn_param(k, OSSL_PKEY_PARAM_RSA_E, 0);
		cr_assert_gt(asprintf(&s, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"%s%s}", a, b, kidm, extra), 0);
	} else {
		int bytes = EVP_PKEY_get_bits(k) / 8;
		a = bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, bytes);
		b = bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, bytes);
		cr_assert_gt(asprintf(&s, "{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"%s%s}",
				      bytes == 32 ? "P-256" : "P-384", a, b, kidm, extra), 0);
	}
	free(a);
	free(b);
	return s;
}

static const char *write_file(const char *name, const char *text)
{
	static char path[8][128];
	static int next;
	char *p = path[next++ % 8];
	snprintf(p, 128, "%s/%s", dir, name);
	FILE *f = fopen(p, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	cr_assert_eq(fclose(f), 0);
	return p;
}

/* {"keys":[a,b,c]} written to name, the JWKs freed. */
static const char *jwks_file(const char *name, char *a, char *b, char *c)
{
	char *s;
	cr_assert_gt(asprintf(&s, "{\"keys\":[%s%s%s%s%s]}\n", a, b ? "," : "", b ? b : "", c ? "," : "", c ? c : ""),
		     0);
	const char *p = write_file(name, s);
	free(s);
	free(a);
	free(b);
	free(c);
	return p;
}

static char *sign_token(EVP_PKEY *k, const char *header)
{
	char *h = b64url((const unsigned char *)header, strlen(header));
	char *p = b64url((const unsigned char *)CLAIMS, strlen(CLAIMS)), *input, *tok;
	unsigned char sig[1024], raw[64];
	size_t n = sizeof sig;
	cr_assert_gt(asprintf(&input, "%s.%s", h, p), 0);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	cr_assert_eq(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k), 1);
	cr_assert_eq(EVP_DigestSign(ctx, sig, &n, (const unsigned char *)input, strlen(input)), 1);
	EVP_MD_CTX_free(ctx);
	const unsigned char *d = sig;
	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC) { /* ES256 is raw R || S, not DER */
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &d, (long)n);
		cr_assert_not_null(es);
		cr_assert_eq(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32), 32);
		cr_assert_eq(BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32), 32);
		ECDSA_SIG_free(es);
		d = raw;
		n = 64;
	}
	char *s = b64url(d, n);
	cr_assert_gt(asprintf(&tok, "Bearer %s.%s", input, s), 0);
	free(h);
	free(p);
	free(input);
	free(s);
	return tok;
}

static char *hs_token(const char *key)
{
	const char *header = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	char *h = b64url((const unsigned char *)header, strlen(header));
	char *p = b64url((const unsigned char *)CLAIMS, strlen(CLAIMS)), *input, *tok;
	unsigned char sig[32];
	unsigned int n = 0;
	cr_assert_gt(asprintf(&input, "%s.%s", h, p), 0);
	cr_assert_not_null(HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)input, strlen(input), sig,
				&n));
	char *s = b64url(sig, n);
	cr_assert_gt(asprintf(&tok, "Bearer %s.%s", input, s), 0);
	free(h);
	free(p);
	free(input);
	free(s);
	return tok;
}

static struct auth *verifier(const char *alg, const char *sec, const char *prev, const char *file, char *err)
{
	struct auth_config cfg = {.alg = alg, .secret = sec, .secret_previous = prev, .public_key_file = file};
	err[0] = '\0';
	return auth_new(&cfg, err, 512);
}

/* Verifies a token signed by k with header, freeing it; the reason or "ok". */
static const char *verdict(struct auth *a, char *tok)
{
	struct auth_claims c;
	const char *why = NULL;
	bool ok = auth_verify(a, tok, NOW, &c, &why);
	free(tok);
	if (ok)
		cr_expect_str_eq(c.tenant, "acme");
	return ok ? "ok" : why;
}

#define RS(kid) "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"" kid "\"}"
#define ES(kid) "{\"alg\":\"ES256\",\"kid\":\"" kid "\"}"

TestSuite(jwks, .init = setup, .fini = teardown, .timeout = 60);

Test(jwks, rsa_keys_chosen_by_kid)
{
	char err[512];
	const char *f = jwks_file("rsa.json", jwk(rsa1, "2026-01", ",\"use\":\"sig\",\"alg\":\"RS256\""),
				  jwk(rsa2, "2026-07", ""), NULL);
	struct auth *a = verifier("RS256", NULL, NULL, f, err);
	cr_assert_not_null(a, "%s", err);
	cr_expect_str_eq(verdict(a, sign_token(rsa1, RS("2026-01"))), "ok");
	cr_expect_str_eq(verdict(a, sign_token(rsa2, RS("2026-07"))), "ok");
	cr_expect_str_eq(verdict(a, sign_token(rsa2, RS("2026-01"))), "bad signature");
	cr_expect_str_eq(verdict(a, sign_token(rsa1, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}")), "missing kid");
	cr_expect_str_eq(verdict(a, sign_token(rsa1, RS("2025-07"))), "unknown kid");
	cr_expect_str_eq(verdict(a, sign_token(rsa1, RS("2026-0"))), "unknown kid");
	cr_expect_str_eq(verdict(a, sign_token(rsa1, "{\"alg\":\"RS256\",\"kid\":7}")), "unknown kid");
	cr_expect_str_eq(verdict(a, sign_token(rsa1, "{\"alg\":\"RS256\",\"kid\":\"\"}")), "unknown kid");
	auth_free(a);
}

Test(jwks, ec_key_and_keys_of_other_kinds_skipped)
{
	char err[512];
	/* An RSA key and a P-384 key beside the P-256 one: not ES256 keys. */
	const char *f = jwks_file("ec.json", jwk(rsa1, "r", ""), jwk(ec384, "p384", ""), jwk(ec1, "e1", ""));
	struct auth *a = verifier("ES256", NULL, NULL, f, err);
	cr_assert_not_null(a, "%s", err);
	cr_expect_str_eq(verdict(a, sign_token(ec1, ES("e1"))), "ok");
	cr_expect_str_eq(verdict(a, sign_token(ec1, ES("p384"))), "unknown kid");
	cr_expect_str_eq(verdict(a, sign_token(ec1, ES("r"))), "unknown kid");
	auth_free(a);
}

Test(jwks, keys_for_other_uses_algorithms_or_without_kid_are_skipped)
{
	char err[512];
	char *s;
	char *enc = jwk(rsa2, "enc", ",\"use\":\"enc\""), *ps = jwk(rsa2, "ps", ",\"alg\":\"PS256\"");
	char *nokid = jwk(rsa2, NULL, ""), *good = jwk(rsa1, "good", ",\"alg\":\"RS256\",\"use\":\"sig\"");
	cr_assert_gt(asprintf(&s, "  {\"keys\":[%s,%s,%s,%s]}\n\n", enc, ps, nokid, good), 0);
	struct auth *a = verifier("RS256", NULL, NULL, write_file("skip.json", s), err);
	cr_assert_not_null(a, "%s", err);
	cr_expect_str_eq(verdict(a, sign_token(rsa1, RS("good"))), "ok");
	cr_expect_str_eq(verdict(a, sign_token(rsa2, RS("enc"))), "unknown kid");
	cr_expect_str_eq(verdict(a, sign_token(rsa2, RS("ps"))), "unknown kid");
	auth_free(a);
	free(s);
	free(enc);
	free(ps);
	free(nokid);
	free(good);
}

Test(jwks, pem_key_ignores_kid)
{
	char err[512];
	const char *path = write_file("rsa1.pub.pem", "");
	FILE *f = fopen(path, "wb");
	cr_assert_eq(PEM_write_PUBKEY(f, rsa1), 1);
	fclose(f);
	struct auth *a = verifier("RS256", NULL, NULL, path, err);
	cr_assert_not_null(a, "%s", err);
	cr_expect_str_eq(verdict(a, sign_token(rsa1, RS("anything"))), "ok");
	cr_expect_str_eq(verdict(a, sign_token(rsa1, "{\"alg\":\"RS256\"}")), "ok");
	auth_free(a);
}

/* Each of these stops the service at start, with a message naming why. */
Test(jwks, broken_files_are_refused)
{
	char *bad_n, *off_curve, *e1 = jwk(ec1, "e1", "");
	char *rsa1_jwk = jwk(rsa1, "k", "");
	cr_assert_gt(asprintf(&bad_n, "{\"kty\":\"RSA\",\"kid\":\"k\",\"n\":\"AB+/\",\"e\":\"AQAB\"}"), 0);
	/* e1 with the last character of y changed: no longer on the curve. */
	off_curve = strdup(e1);
	char *y = strstr(off_curve, "\"y\":\"") + 5;
	y[10] = y[10] == 'A' ? 'B' : 'A';
	struct {
		const char *alg, *name, *text, *says;
	} cases[] = {
		{"RS256", "notjson", "{\"keys\":[", "neither a PEM public key nor a JWKS"},
		{"RS256", "trailing", "{\"keys\":[]} x", "neither a PEM public key nor a JWKS"},
		{"RS256", "keysobject", "{\"keys\":{}}", "neither a PEM public key nor a JWKS"},
		{"RS256", "nokeys", "{\"k\":[]}", "neither a PEM public key nor a JWKS"},
		{"RS256", "empty", "{\"keys\":[]}", "no usable key"},
		{"RS256", "entry", "{\"keys\":[1]}", "keys[0] is not a JSON object"},
		{"RS256", "badn", NULL, "not a valid RSA public key"},
		{"ES256", "offcurve", NULL, "not a valid EC P-256 public key"},
		{"ES256", "allskipped", NULL, "no usable key"},
		{"RS256", "dupkid", NULL, "two keys have the kid \"k\""},
		{"RS256", "weak", NULL, "RS256 needs an RSA key of at least 2048 bits"},
	};
	char *texts[5];
	cr_assert_gt(asprintf(&texts[0], "{\"keys\":[%s]}", bad_n), 0);
	cr_assert_gt(asprintf(&texts[1], "{\"keys\":[%s]}", off_curve), 0);
	cr_assert_gt(asprintf(&texts[2], "{\"keys\":[%s]}", rsa1_jwk), 0); /* an RSA key for ES256 */
	cr_assert_gt(asprintf(&texts[3], "{\"keys\":[%s,%s]}", rsa1_jwk, rsa1_jwk), 0);
	char *weak = jwk(rsa_small, "w", "");
	cr_assert_gt(asprintf(&texts[4], "{\"keys\":[%s]}", weak), 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char err[512];
		const char *text = cases[i].text ? cases[i].text : texts[i - 6];
		struct auth *a = verifier(cases[i].alg, NULL, NULL, write_file(cases[i].name, text), err);
		cr_expect_null(a, "%s: accepted", cases[i].name);
		cr_expect(strstr(err, cases[i].says), "%s: \"%s\" does not say \"%s\"", cases[i].name, err,
			  cases[i].says);
		auth_free(a);
	}
	for (int i = 0; i < 5; i++)
		free(texts[i]);
	free(bad_n);
	free(off_curve);
	free(e1);
	free(rsa1_jwk);
	free(weak);
}

TestSuite(previous_secret, .init = setup, .fini = teardown, .timeout = 60);

Test(previous_secret, both_secrets_accepted_a_third_refused)
{
	char err[512];
	struct auth *a = verifier("HS256", secret, previous, NULL, err);
	cr_assert_not_null(a, "%s", err);
	cr_expect_str_eq(verdict(a, hs_token(secret)), "ok");
	cr_expect_str_eq(verdict(a, hs_token(previous)), "ok");
	cr_expect_str_eq(verdict(a, hs_token(third)), "bad signature");
	auth_free(a);
	/* Without it (the rotation done), the previous secret is refused. */
	struct auth *b = verifier("HS256", secret, "", NULL, err);
	cr_assert_not_null(b, "%s", err);
	cr_expect_str_eq(verdict(b, hs_token(secret)), "ok");
	cr_expect_str_eq(verdict(b, hs_token(previous)), "bad signature");
	auth_free(b);
}

/* The memo of verified tokens belongs to one verifier: a token verified
 * under the previous secret is not a hit for a verifier without it. */
Test(previous_secret, memo_does_not_outlive_the_secret)
{
	char err[512];
	struct auth *a = verifier("HS256", secret, previous, NULL, err);
	cr_assert_not_null(a, "%s", err);
	char *tok = hs_token(previous);
	struct auth_claims c;
	const char *why;
	cr_expect(auth_verify(a, tok, NOW, &c, &why));
	cr_expect(auth_verify(a, tok, NOW, &c, &why)); /* now from the memo */
	auth_free(a);
	struct auth *b = verifier("HS256", secret, NULL, NULL, err);
	cr_assert_not_null(b, "%s", err);
	cr_expect_not(auth_verify(b, tok, NOW, &c, &why));
	cr_expect_str_eq(why, "bad signature");
	auth_free(b);
	free(tok);
}

Test(previous_secret, configuration_errors)
{
	char err[512];
	cr_expect_null(verifier("HS256", secret, "short-previous-secret", NULL, err));
	cr_expect(strstr(err, "INKASSO_JWT_SECRET_PREVIOUS is missing or shorter than 32 bytes"), "%s", err);
	cr_expect_null(verifier("HS256", NULL, previous, NULL, err));
	cr_expect(strstr(err, "INKASSO_JWT_SECRET is missing"), "%s", err);
	const char *path = write_file("ec.pub.pem", "");
	FILE *f = fopen(path, "wb");
	cr_assert_eq(PEM_write_PUBKEY(f, ec1), 1);
	fclose(f);
	cr_expect_null(verifier("ES256", NULL, previous, path, err));
	cr_expect(strstr(err, "INKASSO_JWT_SECRET_PREVIOUS is for HS256"), "%s", err);
}

/* inkasso token --key --kid: a token naming its key, as a JWKS wants it. */
Test(jwks, minted_token_names_its_key)
{
	char err[512];
	const char *f = jwks_file("mint.json", jwk(rsa1, "2026-01", ""), jwk(rsa2, "2026-07", ""), NULL);
	struct auth *a = verifier("RS256", NULL, NULL, f, err);
	cr_assert_not_null(a, "%s", err);
	const char *priv = write_file("rsa2.pem", "");
	FILE *fp = fopen(priv, "wb");
	cr_assert_eq(PEM_write_PrivateKey(fp, rsa2, NULL, NULL, 0, NULL, NULL), 1);
	fclose(fp);
	struct auth_config cfg = {.alg = "RS256", .kid = "2026-07"};
	char *tok = auth_mint(&cfg, priv, "acme", "cases:read", NULL, 3600, NOW, err, sizeof err), *bearer;
	cr_assert_not_null(tok, "%s", err);
	cr_assert_gt(asprintf(&bearer, "Bearer %s", tok), 0);
	cr_expect_str_eq(verdict(a, bearer), "ok");
	free(tok);
	cfg.kid = NULL;
	tok = auth_mint(&cfg, priv, "acme", "cases:read", NULL, 3600, NOW, err, sizeof err);
	cr_assert_not_null(tok, "%s", err);
	cr_assert_gt(asprintf(&bearer, "Bearer %s", tok), 0);
	cr_expect_str_eq(verdict(a, bearer), "missing kid");
	free(tok);
	const char *bad[] = {"", "a\nb"};
	for (size_t i = 0; i < 2; i++) {
		cfg.kid = bad[i];
		cr_expect_null(auth_mint(&cfg, priv, "acme", NULL, NULL, 60, NOW, err, sizeof err));
		cr_expect(strstr(err, "kid must be"), "%s", err);
	}
	auth_free(a);
}
