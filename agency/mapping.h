/* SPDX-License-Identifier: MIT */
/* From our case to the agency's request bodies (DESIGN.md "The agency API"):
 * pure functions, no I/O. Amounts go out as JSON numbers in major units with
 * exactly the currency's minor digits (124900 NOK -> 1249.00, 5000 JPY ->
 * 5000, 1234 KWD -> 1.234), written from the integers, never via a double. */
#ifndef INKASSO_AGENCY_MAPPING_H
#define INKASSO_AGENCY_MAPPING_H
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The payment of a DIRECTPAYMENT action. */
struct agency_payment_data {
	int64_t amount;           /* minor units of currency, 1..MONEY_MAX */
	const char *currency;     /* ISO 4217 */
	const char *payment_date; /* YYYY-MM-DD */
	const char *reference;    /* may be NULL */
	const char *method;       /* "PAYMENT" or "CREDIT_NOTE" */
};

/* The body of POST /api/v1/partner/invoice for case c (its invoice_json and
 * debtor_json as stored; service and debtor_type resolved), with the clear
 * national_id (NULL or "" when none; sent only for a consumer) and the
 * tenant's settings (creditor_reference is the seller). Returns a malloc'd
 * NUL-terminated JSON text the caller frees, or NULL with a reason in err
 * (size errlen) when the stored case lacks what the agency needs, holds an
 * unknown service, debtor type or currency, or memory ran out. The reason
 * names a field, never a value. */
char *agency_invoice_body(const struct case_row *c, const char *national_id,
			  const struct agency_settings *s, char *err, size_t errlen);

/* The agency's action code of an action type: COMMENT, WITHDRAW, PAUSE,
 * RESUME, OBJECTION (a dispute); NULL for an out-of-range value. */
const char *agency_action_code(enum action_type type);
/* The paymentMethod of a DIRECTPAYMENT: PAYMENT or CREDIT_NOTE. */
const char *agency_payment_method(enum payment_kind kind);

/* The body of POST /api/v1/partner/invoice/action with one action: code is
 * DIRECTPAYMENT, COMMENT, WITHDRAW, PAUSE, RESUME or OBJECTION; comment may
 * be NULL (sent as ""); invoice_number is required; case_id may be NULL or
 * "" before the agency assigned one (then left out); p is required for
 * DIRECTPAYMENT and must be NULL otherwise. Returns a malloc'd JSON text the
 * caller frees, or NULL for an invalid argument or when out of memory. */
char *agency_action_body(const char *code, const char *comment, const char *invoice_number,
			 const char *case_id, const struct agency_payment_data *p);

#endif
