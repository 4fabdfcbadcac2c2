/* SPDX-License-Identifier: MIT */
/* A debtor's e-mail address and language: pure checks, no I/O. */
#ifndef INKASSO_CONTACT_H
#define INKASSO_CONTACT_H
#include <stdbool.h>

/* A pragmatic address check: one '@', a local part of at most 64 bytes
 * without spaces or the characters that need quoting, a domain of at least
 * two dot-separated labels of [A-Za-z0-9-], the last not all digits. Quoted
 * local parts and IP literals are valid RFC 5321 but no billing system sends
 * them. */
bool contact_email_ok(const char *s);

/* An ISO 639-1 code in either case; out gets it lower case. */
bool contact_language_ok(const char *s, char out[3]);

#endif
