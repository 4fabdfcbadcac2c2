/* SPDX-License-Identifier: MIT */
/* Identifiers: random, never sequential (OWASP API1), sortable by time. */
#ifndef INKASSO_IDS_H
#define INKASSO_IDS_H
#include <stdbool.h>
#include <stddef.h>

/* Writes prefix + a 26-character ULID (48-bit ms time, 80 random bits,
 * Crockford base32) into out. Returns false if the random source failed. */
bool ids_new(const char *prefix, char *out, size_t outlen);
/* Fills buf with n random bytes from getrandom(2). Returns false on failure. */
bool ids_random(void *buf, size_t n);
/* True if s is prefix + a well-formed ULID (used to answer 404 early on junk ids). */
bool ids_valid(const char *prefix, const char *s);

#endif
