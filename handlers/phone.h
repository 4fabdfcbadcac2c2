/* SPDX-License-Identifier: MIT */
/* Telephone numbers: the E.164 check and the normalisation of a number
 * written the national way ("912 34 567", "030 1234567") with the debtor's
 * country. No numbering-plan database: a number is usable when it has the
 * shape of E.164 after the rules below, which is what the agency checks. */
#ifndef INKASSO_PHONE_H
#define INKASSO_PHONE_H
#include <stdbool.h>

/* Size of a buffer for an E.164 number: '+', at most 15 digits, NUL. */
#define PHONE_LEN 17

/* True if s is E.164 as the service stores it: '+', then 8 to 15 digits in
 * all (country code included), the first not 0, nothing else. */
bool phone_is_e164(const char *s);

/* For a number that must already be international (debtor.phone): drops
 * the separators people write (spaces, tabs, '-', '.', '/', parentheses)
 * and a "(0)" trunk hint after the country code ("+44 (0)20 7946 0958"),
 * then requires E.164. Writes the compact form into out ("" on failure). */
bool phone_compact_e164(const char *in, char out[PHONE_LEN]);

/* Normalises in to E.164 with country (ISO 3166-1 alpha-2) for national
 * numbers: separators dropped as above; "+" or "00" starts an international
 * number; otherwise one of the country's trunk prefixes is dropped ("0" in
 * DE, SE, GB; none in NO, DK) and its calling code put in front:
 * "912 34 567" NO gives "+4791234567". Returns false (out "") when the result
 * is not E.164, in holds other characters, or a national number comes with
 * an unknown country. */
bool phone_normalise(const char *in, const char *country, char out[PHONE_LEN]);

#endif
