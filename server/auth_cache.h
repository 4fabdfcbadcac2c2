/* SPDX-License-Identifier: MIT */
/* A small per-thread memo of bearer tokens this process has verified.
 *
 * A platform sends the same token with every request until it expires;
 * verifying it again each time (base64, JSON, HMAC or RSA, the claims) was
 * the largest cost of a cached read after the database itself. A hit needs
 * the very same bytes (compared in constant time: the token is a secret)
 * under the same verifier, and is re-checked against the clock: exp still
 * ahead, and the clock not behind the time of the full verification (so
 * nbf, checked then, still holds). Only successes are kept. */
#ifndef INKASSO_AUTH_CACHE_H
#define INKASSO_AUTH_CACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/auth.h"

/* A verifier's key in the memo: unique for the life of the process, so a
 * verifier freed and another made at the same address never share entries. */
uint64_t auth_cache_new_owner(void);

/* True and *out filled when tok (len bytes) was verified by owner and is
 * still within its time window at now. */
bool auth_cache_get(uint64_t owner, const char *tok, size_t len, int64_t now, struct auth_claims *out);
/* Remembers a token that passed full verification at now. */
void auth_cache_put(uint64_t owner, const char *tok, size_t len, int64_t now, const struct auth_claims *c);

#endif
