/* SPDX-License-Identifier: MIT */
/* The body of POST /v1/collection-cases as its field table reads it
 * (case_read.c): every member by type and bound, views into the parsed
 * document. The rules between members run on this afterwards
 * (case_rules.c), and the accepted case is rendered from it
 * (case_render.c). */
#ifndef INKASSO_CASE_BODY_H
#define INKASSO_CASE_BODY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "lib/field_errors.h"
#include "lib/json_read.h"

/* Size bounds of accepted text fields (bytes of UTF-8). Longer: 422 too_long. */
#define CASE_REF_MAX 100     /* your_reference, payment_reference, customer_number */
#define CASE_NUMBER_MAX 64   /* invoice number */
#define CASE_TEXT_MAX 200    /* names, city, address lines */
#define CASE_DESC_MAX 500    /* invoice description */
#define CASE_EMAIL_MAX 254
#define CASE_EXTRA_TEXT_MAX 100 /* extra_fields purpose and value */
#define CASE_REMINDERS_MAX 20
#define CASE_EXTRA_FIELDS_MAX 20

/* The names the body's enums take, NULL-terminated, in index order. */
extern const char *const case_services[];       /* pre_collection, collection, international, surveillance */
extern const char *const case_customer_types[]; /* consumer, business */

struct case_reminder {
	const char *sent_on;
	enum jr_got sent_on_got;
	int64_t fee;
};

struct case_extra_field {
	const char *purpose;
	const char *value;
};

/* Every member the service reads; NULL, 0, false or -1 when absent. A
 * string of blanks counts as absent. Views into the document: valid while
 * it lives. */
struct case_body {
	const char *your_reference;
	int service;                 /* index into case_services, -1 when absent */
	enum jr_got service_got;

	json_object *invoice;        /* NULL unless an object */
	const char *number;
	const char *issued_on, *due_on;
	enum jr_got issued_on_got, due_on_got;
	const char *currency;
	int64_t original_amount, outstanding_amount, fees;
	enum jr_got original_got, outstanding_got;
	const char *description, *payment_reference;
	struct case_reminder reminders[CASE_REMINDERS_MAX];
	size_t nreminders;
	enum jr_got reminders_got;
	bool disputed;

	json_object *debtor;         /* NULL unless an object */
	const char *customer_number;
	int customer_type;           /* index into case_customer_types, -1 when absent */
	const char *name, *business_name;
	enum jr_got name_got, business_name_got;
	const char *org_number, *national_id, *date_of_birth;
	enum jr_got org_number_got;
	const char *email, *phone, *language;
	enum jr_got phone_got;
	struct case_extra_field extra_fields[CASE_EXTRA_FIELDS_MAX];
	size_t nextra_fields;

	json_object *address;        /* NULL unless an object */
	const char *line1, *line2, *city, *country, *postal_code;
};

/* Reads body (a JSON object) by the case's field table into b, every type
 * and bound error into errs; today bounds the dates that must not lie in
 * the future. True when it added no error. */
bool case_body_read(json_object *body, const char *today, struct case_body *b, struct field_errors *errs);

#endif
