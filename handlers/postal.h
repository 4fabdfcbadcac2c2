/* SPDX-License-Identifier: MIT */
/* Postal codes: a plausibility check for the countries the agency serves
 * most, and a bounded form check for the rest. Not a lookup: "0155" passes
 * in NO whether or not a post office has it. */
#ifndef INKASSO_POSTAL_H
#define INKASSO_POSTAL_H
#include <stdbool.h>

/* Longest accepted postal code, in characters. */
#define POSTAL_MAX 12
/* Size of a buffer for a normalised postal code. */
#define POSTAL_LEN (POSTAL_MAX + 1)

/* Checks in as a postal code of country (upper-case alpha-2; NULL or
 * unknown: the form check) and writes its normalised form into out:
 * NO, DK: 4 digits. SE: 5 digits, "123 45" allowed, normalised "12345".
 * FI, DE: 5 digits. NL: 4 digits not starting with 0, an optional space, 2
 * letters other than SA, SD, SS; normalised "1234 AB". GB: the outward forms
 * A9, A99, A9A, AA9, AA99, AA9A then 9AA (and GIR 0AA), any case, space
 * optional; normalised upper-case with one space ("SW1A 1AA"). US: 5 digits
 * or ZIP+4 ("12345-6789", also written without the dash).
 * Others: 1..12 of [A-Za-z0-9 -] with at least one letter or digit, kept as
 * written. Returns false (out "") if implausible. */
bool postal_normalise(const char *country, const char *in, char out[POSTAL_LEN]);

#endif
