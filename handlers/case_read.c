/* SPDX-License-Identifier: MIT */
/* The field table of a case body: DESIGN.md's request, member by member. */
#include <string.h>

#include "handlers/case_body.h"
#include "handlers/idnum.h"

const char *const case_services[] = {"pre_collection", "collection", "international", "surveillance", NULL};
const char *const case_customer_types[] = {"consumer", "business", NULL};

/* Text members count blank strings as absent, as billing systems send them. */
#define B JR_BLANK_ABSENT
#define REQ (JR_REQUIRED | JR_BLANK_ABSENT)

bool case_body_read(json_object *body, const char *today, struct case_body *b, struct field_errors *errs)
{
	memset(b, 0, sizeof *b);
	b->service = b->customer_type = -1;
	struct case_reminder *rem = &b->reminders[0];
	struct case_extra_field *extra = &b->extra_fields[0];
	const struct jr_field reminder[] = {
		{.name = "sent_on", .kind = JR_K_DATE, .flags = REQ | JR_NOT_FUTURE, .dst = &rem->sent_on,
		 .got = &rem->sent_on_got},
		JR_MONEY("fee", 0, 0, &rem->fee),
		JR_END,
	};
	const struct jr_field extra_field[] = {
		JR_TEXT("purpose", CASE_EXTRA_TEXT_MAX, REQ, &extra->purpose),
		JR_TEXT("value", CASE_EXTRA_TEXT_MAX, B, &extra->value),
		JR_END,
	};
	const struct jr_field invoice[] = {
		JR_TEXT("number", CASE_NUMBER_MAX, REQ, &b->number),
		{.name = "issued_on", .kind = JR_K_DATE, .flags = REQ | JR_NOT_FUTURE, .dst = &b->issued_on,
		 .got = &b->issued_on_got},
		/* Payment terms enabled: a due date is what the overdue rule counts from. */
		{.name = "due_on", .kind = JR_K_DATE, .flags = REQ, .missing = "due_date_required", .dst = &b->due_on,
		 .got = &b->due_on_got},
		JR_TEXT("currency", 0, REQ, &b->currency),
		{.name = "original_amount", .kind = JR_K_MONEY, .flags = JR_REQUIRED, .min = 1,
		 .dst = &b->original_amount, .got = &b->original_got},
		{.name = "outstanding_amount", .kind = JR_K_MONEY, .flags = JR_REQUIRED, .min = 1,
		 .dst = &b->outstanding_amount, .got = &b->outstanding_got},
		JR_MONEY("fees", 0, 0, &b->fees),
		JR_TEXT("description", CASE_DESC_MAX, B, &b->description),
		JR_TEXT("payment_reference", CASE_REF_MAX, B, &b->payment_reference),
		{.name = "reminders", .kind = JR_K_ARRAY, .max = CASE_REMINDERS_MAX, .sub = reminder,
		 .stride = sizeof *rem, .count = &b->nreminders, .got = &b->reminders_got,
		 .elem_detail = "a reminder must be an object with sent_on"},
		JR_BOOL("disputed", &b->disputed),
		JR_END,
	};
	const struct jr_field address[] = {
		JR_TEXT("line1", CASE_TEXT_MAX, REQ, &b->line1),
		JR_TEXT("line2", CASE_TEXT_MAX, B, &b->line2),
		JR_TEXT("city", CASE_TEXT_MAX, REQ, &b->city),
		JR_TEXT("country", 0, REQ, &b->country),
		JR_TEXT("postal_code", 0, REQ, &b->postal_code),
		JR_END,
	};
	const struct jr_field debtor[] = {
		JR_OBJECT("address", JR_REQUIRED, address, &b->address),
		JR_TEXT("customer_number", CASE_REF_MAX, B, &b->customer_number),
		JR_ENUM("customer_type", case_customer_types, B, &b->customer_type),
		{.name = "name", .kind = JR_K_TEXT, .flags = B, .max = CASE_TEXT_MAX, .dst = &b->name,
		 .got = &b->name_got},
		{.name = "business_name", .kind = JR_K_TEXT, .flags = B, .max = CASE_TEXT_MAX, .dst = &b->business_name,
		 .got = &b->business_name_got},
		{.name = "org_number", .kind = JR_K_TEXT, .flags = B, .max = IDNUM_MAX, .dst = &b->org_number,
		 .got = &b->org_number_got},
		JR_TEXT("national_id", IDNUM_MAX, B, &b->national_id),
		JR_DATE("date_of_birth", B | JR_NOT_FUTURE, &b->date_of_birth),
		JR_TEXT("email", CASE_EMAIL_MAX, B, &b->email),
		JR_TEXT("language", 0, B, &b->language),
		{.name = "extra_fields", .kind = JR_K_ARRAY, .max = CASE_EXTRA_FIELDS_MAX, .sub = extra_field,
		 .stride = sizeof *extra, .count = &b->nextra_fields,
		 .elem_detail = "an extra field must be an object with purpose and value"},
		{.name = "phone", .kind = JR_K_TEXT, .flags = B, .dst = &b->phone, .got = &b->phone_got},
		JR_END,
	};
	const struct jr_field top[] = {
		JR_TEXT("your_reference", CASE_REF_MAX, B, &b->your_reference),
		{.name = "service", .kind = JR_K_ENUM, .flags = B, .names = case_services, .dst = &b->service,
		 .got = &b->service_got},
		JR_OBJECT("invoice", JR_REQUIRED, invoice, &b->invoice),
		JR_OBJECT("debtor", JR_REQUIRED, debtor, &b->debtor),
		JR_END,
	};
	return json_read(body, "", top, &(const struct jr_context){.errs = errs, .today = today});
}
