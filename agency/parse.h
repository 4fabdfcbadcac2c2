/* SPDX-License-Identifier: MIT */
/* Pure parsers of the agency's answers (DESIGN.md "The agency API"): raw
 * bytes in, domain structs out, no I/O. The agency is checked as strictly as
 * a client (OWASP API10): well-formed UTF-8 without NUL, one JSON value
 * without trailing data, bounded depth, the right JSON types, identifiers
 * within their buffers, real dates, and amounts that are exact decimals in
 * the currency's minor digits (never read through a double).
 *
 * Status strings the agency may extend (invoice, case, action statuses) are
 * checked for shape only and passed through: the caller maps them.
 *
 * Every parser returns false with a short reason in err (size errlen; it
 * names the field, never a value) for an answer it does not accept; nothing
 * is delivered to a callback unless the whole answer is valid. */
#ifndef INKASSO_AGENCY_PARSE_H
#define INKASSO_AGENCY_PARSE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Nesting allowed in an answer; the deepest legitimate one (settlements) is 5. */
#define AGENCY_JSON_DEPTH 16
/* Longest agency identifier kept (invoice numbers, case, event, payment ids). */
#define AGENCY_ID_MAX 64
/* Longest status, stage or event type token. */
#define AGENCY_TOKEN_MAX 32
/* Free text (messages, descriptions) is cut at this many bytes, on a UTF-8
 * boundary: it is shown to people, never used for decisions. */
#define AGENCY_TEXT_MAX 255
/* Longest timestamp kept ("2026-02-20T10:00:00.123456789+01:00" fits). */
#define AGENCY_TS_MAX 40
/* Retry-After values are capped at an hour: a longer wait is an agency bug
 * or an attack on the forwarder, and the backoff cap takes over. */
#define AGENCY_RETRY_AFTER_MAX 3600

/* POST /api/v1/partner/invoice, 201. */
struct agency_created {
	char invoice_number[AGENCY_ID_MAX + 1];
	char status[AGENCY_TOKEN_MAX + 1];      /* "RECEIVED", or another token */
};

/* GET /api/v1/partner/validate. */
struct agency_validation {
	bool is_valid;
	char message[AGENCY_TEXT_MAX + 1];      /* "" when absent or null */
};

/* GET /api/v1/partner/invoice/distribution. */
struct agency_distribution {
	char invoice_number[AGENCY_ID_MAX + 1];
	char status[AGENCY_TOKEN_MAX + 1];
	char case_id[AGENCY_ID_MAX + 1];        /* "" until the agency assigned one */
};

/* GET /api/v1/partner/invoice/case: summary and balance (minor units). */
struct agency_case {
	char case_id[AGENCY_ID_MAX + 1];
	char status[AGENCY_TOKEN_MAX + 1];      /* ACTIVE, PAUSED, ... or unknown: passed through */
	char stage[AGENCY_TOKEN_MAX + 1];       /* as sent (any case); "" when null */
	char created_at[AGENCY_TS_MAX + 1];     /* "" when null */
	char closed_at[AGENCY_TS_MAX + 1];      /* "" when null */
	int64_t capital, interest, costs, paid, remaining;
};

/* One event of a case. */
struct agency_event {
	char event_id[AGENCY_ID_MAX + 1];
	char date[AGENCY_TS_MAX + 1];           /* YYYY-MM-DD or an RFC 3339 timestamp */
	char type[AGENCY_TOKEN_MAX + 1];
	char description[AGENCY_TEXT_MAX + 1];  /* "" when absent or null */
};

/* POST /api/v1/partner/invoice/action, 200: the first action's status. */
struct agency_action_answer {
	char status[AGENCY_TOKEN_MAX + 1];      /* "PENDING", or another token */
};

/* One payment the agency collected, as its payments list reports it (the
 * "_report" names leave struct agency_payment, agency_allocation and
 * agency_settlement to store/store_agency.h, which the sync fills from these). */
struct agency_payment_report {
	char payment_id[AGENCY_ID_MAX + 1];
	char case_id[AGENCY_ID_MAX + 1];
	char invoice_number[AGENCY_ID_MAX + 1];
	char payment_date[11];                  /* YYYY-MM-DD, a real date */
	int64_t amount;                         /* minor units of currency, > 0 */
	char currency[4];
};

/* One allocation of a settlement to a case. */
struct agency_allocation_report {
	char allocation_id[AGENCY_ID_MAX + 1];
	char case_id[AGENCY_ID_MAX + 1];
	char invoice_number[AGENCY_ID_MAX + 1];
	int64_t amount;                         /* allocatedTotalAmount, minor units, >= 0 */
	char allocation_date[11];
};

/* One payout, with its allocations (borrowed during the callback). */
struct agency_settlement_report {
	char settlement_id[AGENCY_ID_MAX + 1];
	char settlement_date[11];
	char agency[AGENCY_TEXT_MAX + 1];       /* "" when absent or null */
	char remittance_reference[AGENCY_ID_MAX + 1]; /* "" when absent or null */
	int64_t amount;                         /* settlementAmount, minor units, >= 0 */
	char currency[4];
	size_t n_allocations;
	const struct agency_allocation_report *allocations;
};

/* Callbacks: called once per item, in the answer's order, only after the
 * whole answer was found valid. Returning non-zero stops the delivery (the
 * parser still returns true). */
typedef int (*agency_event_fn)(void *ctx, const struct agency_event *e);
typedef int (*agency_payment_fn)(void *ctx, const struct agency_payment_report *p);
typedef int (*agency_settlement_fn)(void *ctx, const struct agency_settlement_report *s);

/* Converts the text of a JSON number into minor units of a currency with
 * `digits` minor digits: optional '-', digits without leading zeros, then
 * optionally '.' and 1+ digits of which at most `digits` may be non-zero
 * ("1249.00" NOK -> 124900; "1249.000" too, the value being exact; "12.345"
 * NOK, "1e5", "NaN", "1." refused). |value| <= MONEY_MAX. A '-' is refused
 * unless allow_negative. Returns false on any other text. */
bool agency_amount_parse(const char *text, int digits, bool allow_negative, int64_t *out);

/* Seconds to wait from a Retry-After header value: delta-seconds, or an
 * HTTP-date taken relative to now (a past date is 0); capped at
 * AGENCY_RETRY_AFTER_MAX. -1 for NULL, empty or unreadable values. */
int agency_retry_after(const char *value, time_t now);

/* The "message" of an error answer, for the case's event: a string member
 * of a JSON object, cut at AGENCY_TEXT_MAX bytes on a UTF-8 boundary, with
 * control characters replaced by spaces. Writes "" (and returns false) when
 * the body is not such an object; never fails otherwise. */
bool agency_parse_message(const char *data, size_t len, char *out, size_t outlen);

/* {"isValid": bool, "message": string|null}. */
bool agency_parse_validate(const char *data, size_t len, struct agency_validation *out, char *err,
			   size_t errlen);

/* {"invoiceNumber": string, "status": token}. */
bool agency_parse_create(const char *data, size_t len, struct agency_created *out, char *err,
			 size_t errlen);

/* {"invoiceNumber": string, "status": token, "caseId": string|number|null};
 * a numeric caseId (a non-negative integer) is turned into its digits. */
bool agency_parse_distribution(const char *data, size_t len, struct agency_distribution *out,
			       char *err, size_t errlen);

/* {"case": {"summary": {caseId, status, stage, createdAt, closedAt[, currency]},
 * "balance": {capitalAmount, interestAmount, costsAmount, paidAmount,
 * remainingAmount}, "events": [{eventId, date, type, description}]}}.
 * Amounts are read in `currency` (the case's, an ISO 4217 code); a summary
 * currency, when present, must equal it. Amounts are >= 0. fn (may be NULL)
 * receives each event after out is filled. */
bool agency_parse_case(const char *data, size_t len, const char *currency, struct agency_case *out,
		       agency_event_fn fn, void *ctx, char *err, size_t errlen);

/* {"actions": [{"status": token}, ...]} with at least one action; out gets
 * the first one's status. */
bool agency_parse_action(const char *data, size_t len, struct agency_action_answer *out, char *err,
			 size_t errlen);

/* [{paymentId, caseId, invoiceNumber, paymentDate, amount, currency}, ...]:
 * fn (may be NULL) receives each payment; *count (may be NULL) the number. */
bool agency_parse_payments(const char *data, size_t len, agency_payment_fn fn, void *ctx,
			   size_t *count, char *err, size_t errlen);

/* {"createdAt": ..., "settlements": [{settlementId, settlementDate, agency,
 * remittanceReference, settlementAmount, currency, allocations: [...]}]}:
 * fn (may be NULL) receives each settlement with its allocations; *count
 * (may be NULL) the number of settlements. False also when out of memory. */
bool agency_parse_settlements(const char *data, size_t len, agency_settlement_fn fn, void *ctx,
			      size_t *count, char *err, size_t errlen);

#endif
