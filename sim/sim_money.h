/* SPDX-License-Identifier: MIT */
/* Money on the agency's wire is a JSON decimal in major units (1249.00);
 * inside the simulator it is an int64 of minor units, so sums and caps are
 * exact. The number of minor digits comes from the currency. */
#ifndef SIM_MONEY_H
#define SIM_MONEY_H
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"

struct json_object;

#define SIM_MONEY_MAX 1000000000000000LL /* 10^15 minor units: far above any invoice */

/* True if code is three upper-case ASCII letters (the ISO 4217 shape; the
 * list itself is not checked, an agency would accept new codes). */
bool sim_currency_valid(const char *code);
/* Minor digits of a currency: 0 for JPY ISK KRW, 3 for KWD BHD OMR JOD TND
 * LYD IQD, otherwise 2. */
int sim_currency_digits(const char *code);
/* Reads a JSON number (int or double, not a string) as minor units with
 * the given digits into *out. False for another type, a negative value, an
 * exponent, more fraction digits than the currency has (unless they are
 * zeros), or a value of SIM_MONEY_MAX or more. */
bool sim_money_from_json(struct json_object *o, int digits, int64_t *out);
/* Appends minor as a JSON number with exactly digits fraction digits. */
void sim_money_put(struct buf *b, int64_t minor, int digits);
/* Appends "key":<money> with a leading comma unless first. */
void sim_money_kput(struct buf *b, bool first, const char *key, int64_t minor, int digits);

#endif
