/* SPDX-License-Identifier: MIT */
#include "server/auth_cache.h"

#include <openssl/crypto.h>
#include <stdatomic.h>
#include <string.h>

#define SLOTS 32 /* tokens in use at once by the clients of one HTTP thread (128 KiB) */

struct slot {
	uint64_t owner; /* 0: empty */
	int64_t verified_at;
	uint64_t tail; /* the token's last 8 bytes (of its signature), see tail_of */
	struct auth_claims claims;
	size_t len;
	char tok[AUTH_TOKEN_MAX];
};

/* Per thread: no lock on the request path, and a thread only ever sees the
 * tokens it verified itself. */
static _Thread_local struct slot memo[SLOTS];
static _Thread_local unsigned next_slot;
static atomic_uint_fast64_t owners;

/* The last 8 bytes of a token, as one word: a cheap first test before the
 * constant-time comparison of the whole token, which every slot used to pay.
 * One word compared equal or not says nothing about which bytes differ, so
 * the test leaks no more than the full comparison does. */
static uint64_t tail_of(const char *tok, size_t len)
{
	uint64_t w = 0;
	memcpy(&w, tok + len - (len < sizeof w ? len : sizeof w), len < sizeof w ? len : sizeof w);
	return w;
}

uint64_t auth_cache_new_owner(void)
{
	return atomic_fetch_add(&owners, 1) + 1;
}

bool auth_cache_get(uint64_t owner, const char *tok, size_t len, int64_t now, struct auth_claims *out)
{
	if (len == 0)
		return false;
	uint64_t tail = tail_of(tok, len);
	for (int i = 0; i < SLOTS; i++) {
		const struct slot *s = &memo[i];
		if (s->tail != tail || s->owner != owner || s->len != len || CRYPTO_memcmp(s->tok, tok, len) != 0)
			continue;
		if (s->claims.exp <= now || now < s->verified_at)
			return false; /* the full check answers, with its reason */
		*out = s->claims;
		return true;
	}
	return false;
}

void auth_cache_put(uint64_t owner, const char *tok, size_t len, int64_t now, const struct auth_claims *c)
{
	if (len == 0 || len > AUTH_TOKEN_MAX)
		return;
	struct slot *s = &memo[next_slot++ % SLOTS];
	s->owner = owner;
	s->verified_at = now;
	s->claims = *c;
	s->len = len;
	s->tail = tail_of(tok, len);
	memcpy(s->tok, tok, len);
}
