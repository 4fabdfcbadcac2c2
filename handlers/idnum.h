/* SPDX-License-Identifier: MIT */
/* National identity numbers and organisation numbers: checksum validation
 * where the country has one, normalisation everywhere.
 * Personal: NO fødselsnummer/D-nummer, SE personnummer/samordningsnummer,
 * FI henkilötunnus. Organisations: NO organisasjonsnummer, SE
 * organisationsnummer, FI Y-tunnus, DK CVR-nummer. Other countries (and an
 * unknown country) get a form check only: 1..32 of [A-Za-z0-9 -]. */
#ifndef INKASSO_IDNUM_H
#define INKASSO_IDNUM_H
#include <stdbool.h>

/* Longest accepted number, in characters. */
#define IDNUM_MAX 32
/* Size of a buffer for a normalised number. */
#define IDNUM_LEN (IDNUM_MAX + 1)

/* True for the countries whose personal numbers are checksum-verified. */
bool idnum_national_id_has_checksum(const char *country);
/* True for the countries whose organisation numbers are checksum-verified. */
bool idnum_org_number_has_checksum(const char *country);

/* Checks a personal identity number of country (upper-case alpha-2; NULL or
 * unknown: form check only) and writes its normalised form into out:
 * NO: 11 digits, spaces and '-' dropped; date part valid (D-number: day + 40;
 *     H-number: month + 40), both mod-11 control digits right.
 * SE: "YYMMDD-NNNC", "YYMMDDNNNC", "YYMMDD+NNNC" (100 years or older),
 *     "YYYYMMDD[-]NNNC"; date part valid (samordningsnummer: day + 60), Luhn
 *     on the 10-digit form. Normalised to digits only, 10 or 12 as written,
 *     except that the 10-digit '+' form keeps its '+' (it carries the century).
 * FI: "DDMMYYCZZZQ", century sign C one of + - Y X W V U A B C D E F (the
 *     2023 additions included), check character from DDMMYYZZZ mod 31;
 *     normalised upper-case.
 * Returns false (out "") if the number fails. */
bool idnum_national_id(const char *country, const char *in, char out[IDNUM_LEN]);

/* Checks an organisation number of country like idnum_national_id:
 * NO: 9 digits, mod 11 with weights 3 2 7 6 5 4 3 2.
 * SE: 10 digits ("NNNNNN-NNNN" allowed) or 12 with the "16" prefix, Luhn on
 *     the last 10; normalised to the digits as written.
 * FI: Y-tunnus "NNNNNNN-C" (the '-' may be left out), weights 7 9 10 5 8 4 2,
 *     mod 11, remainder 1 never issued; normalised with the '-'.
 * DK: CVR, 8 digits not starting with 0, weights 2 7 6 5 4 3 2 1, sum
 *     divisible by 11.
 * Spaces are dropped for all four. Returns false (out "") if it fails. */
bool idnum_org_number(const char *country, const char *in, char out[IDNUM_LEN]);

#endif
