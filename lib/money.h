/* SPDX-License-Identifier: MIT */
/* Currencies (ISO 4217 List One, the codes in circulation) and money in
 * minor units. Amounts travel as int64 minor units everywhere; only the
 * agency's wire format wants decimals in major units. */
#ifndef INKASSO_MONEY_H
#define INKASSO_MONEY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest amount (minor units) the service accepts: 10^13, i.e. 100
 * billion in a 2-digit currency. Far beyond any invoice, far below int64,
 * so sums of a few amounts cannot overflow. */
#define MONEY_MAX INT64_C(10000000000000)

/* Minor-unit digits of an active ISO 4217 code ("NOK" 2, "JPY" 0, "KWD" 3,
 * "CLF" 4); -1 for NULL, an unknown or withdrawn code, lower case, or a code
 * without minor units (precious metals, XDR, XTS, XXX: not invoice money). */
int money_currency_digits(const char *code);

/* True if code is an active ISO 4217 invoice currency. */
bool money_currency_valid(const char *code);

/* Formats minor units of currency as a decimal in major units with exactly
 * the currency's digits: 124900 NOK "1249.00", 1249 JPY "1249", -50 EUR
 * "-0.50", 1 KWD "0.001". Returns false (out "" when outlen > 0) for an
 * unknown currency or when out is too small; 32 bytes always suffice. */
bool money_format_major(int64_t minor, const char *currency, char *out, size_t outlen);

#endif
