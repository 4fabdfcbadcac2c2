/* SPDX-License-Identifier: MIT */
/* The validation rules of POST /v1/collection-cases (DESIGN.md, "Validation"):
 * pure logic, no I/O, no clock (today is passed in). The body is read by its
 * field table (case_read.c), the rules between members run on what it read
 * (case_rules.c), and the accepted case is rendered (case_render.c). All
 * errors are collected at once into a struct field_errors with JSON
 * pointers. */
#ifndef INKASSO_CASE_VALIDATE_H
#define INKASSO_CASE_VALIDATE_H
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "handlers/case_body.h"
#include "handlers/postal.h"
#include "lib/field_errors.h"
#include "store/store.h"

/* A validated case, normalised and ready to store and to map for the agency. */
struct case_input {
	char your_reference[CASE_REF_MAX + 1];    /* "" when absent */
	char service[16];                         /* resolved: body or tenant default */
	char debtor_type[16];                     /* resolved: consumer | business */
	char invoice_number[CASE_NUMBER_MAX + 1];
	char issued_on[11];
	char due_on[11];
	char currency[4];
	int64_t original_amount;
	int64_t outstanding_amount;
	int64_t fees;                             /* already charged fees + reminder fees */
	char debtor_name[CASE_TEXT_MAX + 1];      /* "" when absent */
	char business_name[CASE_TEXT_MAX + 1];
	char org_number[33];                      /* digits as sent, normalised (no spaces/dashes) */
	char national_id[33];                     /* clear, normalised; "" when absent */
	char date_of_birth[11];
	char country[3];
	char phone[17];                           /* E.164 after normalisation; "" when none */
	char postal_code[POSTAL_LEN];             /* normalised for the country */
	char language[3];                         /* lower case; "" when none */
	char earliest_send_date[11];              /* first day the rules allow sending */
	char *invoice_json;                       /* malloc'd: the invoice object as accepted */
	char *debtor_json;                        /* malloc'd: debtor, phone normalised, national_id masked */
};

/* Validates body (a JSON object) against DESIGN.md's rules with the tenant's
 * settings and today's date (YYYY-MM-DD, UTC). On success fills out and
 * returns true; otherwise adds every error found to errs and returns false
 * (out may be partly filled; call case_input_free either way).
 * Unknown members are ignored; server-owned members (id, status, balances)
 * never take effect. */
bool case_validate(json_object *body, const struct agency_settings *settings, const char *today,
		   struct case_input *out, struct field_errors *errs);

/* Frees the JSON strings of in. NULL-safe. */
void case_input_free(struct case_input *in);

/* Renders the accepted invoice and debtor of b, normalised as in says, into
 * in->invoice_json and in->debtor_json (the national id masked). False when
 * out of memory. */
bool case_render(const struct case_body *b, struct case_input *in);

/* Masks a national id for display: all but the last 4 characters become '*'
 * ("******4521"). Writes into out (size outlen). */
void mask_national_id(const char *id, char *out, size_t outlen);

#endif
