/* SPDX-License-Identifier: MIT */
/* Countries: ISO 3166-1 alpha-2 codes (all 249 officially assigned), with what
 * the case rules need of each: the telephone calling code and trunk prefix
 * (phone normalisation) and the legal minimum of days overdue before an
 * invoice may go to collection. */
#ifndef INKASSO_COUNTRY_H
#define INKASSO_COUNTRY_H
#include <stdbool.h>

/* Number of codes in the table (249). */
#define COUNTRY_COUNT 249

/* True if code is exactly an upper-case ISO 3166-1 alpha-2 code ("NO"). */
bool country_valid(const char *code);

/* Accepts a code in either case ("no", "No"), writes it upper-case into out
 * and returns true if it is an ISO 3166-1 alpha-2 code; out is "" otherwise. */
bool country_normalise(const char *in, char out[3]);

/* The ITU-T E.164 calling code of a valid code, digits only ("47", "1" for
 * the whole North American plan); NULL for an unknown code. Static storage. */
const char *country_calling_code(const char *code);

/* The national trunk prefixes dialled before a national number (e.g. "0" in
 * DE, SE, GB; "1" in the North American plan; "8" in RU; "06" in HU; "" where
 * there is none, as in NO, DK, IT, ES), comma-separated when a country has
 * two in use ("0,8" in LT). NULL for an unknown code. Static storage. */
const char *country_trunk_prefixes(const char *code);

/* The legal minimum of days after the due date before collection may start
 * (NO 14, FI 14); 0 for other and unknown codes. */
int country_legal_overdue_days(const char *code);

#endif
