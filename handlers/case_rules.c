/* SPDX-License-Identifier: MIT */
/* The rules between the members of a case (DESIGN.md, "Validation"), run on
 * what the field table read (case_read.c): dates in order and overdue
 * enough, amounts that fit, the debtor's type resolved, identity numbers,
 * phone and postal code normalised for the country. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/case_validate.h"
#include "handlers/contact.h"
#include "handlers/country.h"
#include "handlers/idnum.h"
#include "handlers/phone.h"
#include "lib/dates.h"
#include "lib/money.h"

/* One run of the rules: inputs, outputs, and what later rules need of
 * earlier ones. */
struct run {
	const struct agency_settings *settings;
	const char *today;
	const struct case_body *b;
	struct case_input *out;
	struct field_errors *errs;
	bool service_known;           /* out->service is one of case_services */
	bool due_usable;              /* due_on valid and not before issued_on */
	bool reminders_usable;        /* at least one reminder, every sent_on valid */
	int last_reminder;            /* index of the latest sent_on */
	const char *last_sent_on;     /* the latest valid sent_on */
	bool country_known;           /* out->country is an ISO 3166-1 code */
};

/* Copies a read (hence bounded) string; NULL copies as "". */
static void set(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	assert(n < cap); /* the field table's bounds fit the buffers */
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static bool one_of(const char *s, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (strcmp(s, *allowed) == 0)
			return true;
	return false;
}

/* your_reference and service: the body's, or the tenant's default. */
static void check_top(struct run *r)
{
	const struct case_body *b = r->b;
	set(r->out->your_reference, sizeof r->out->your_reference, b->your_reference);
	if (b->service_got == JR_BAD)
		return;
	const char *service = b->service_got == JR_OK ? case_services[b->service] : r->settings->service;
	if (!one_of(service, case_services)) {
		field_errors_add(r->errs, "/service", "required",
				 "service is required: the tenant has no default service");
		return;
	}
	set(r->out->service, sizeof r->out->service, service);
	r->service_known = true;
}

/* issued_on and due_on in order. */
static void check_invoice_dates(struct run *r)
{
	const struct case_body *b = r->b;
	struct case_input *out = r->out;
	set(out->invoice_number, sizeof out->invoice_number, b->number);
	/* A future issued_on is reported alone: comparing other dates with a
	 * date known to be wrong would only pile up errors. */
	bool issued_ok = b->issued_on_got == JR_OK;
	if (issued_ok)
		set(out->issued_on, sizeof out->issued_on, b->issued_on);
	if (b->due_on_got != JR_OK)
		return;
	set(out->due_on, sizeof out->due_on, b->due_on);
	if (issued_ok && dates_compare(out->issued_on, out->due_on) > 0) {
		field_errors_add(r->errs, "/invoice/due_on", "invalid_date_order", "due_on %s is before issued_on %s",
				 out->due_on, out->issued_on);
		return; /* one of the two dates is wrong: no overdue rule on a guess */
	}
	r->due_usable = true;
}

/* The currency, and the amounts against each other and the tenant's minimum. */
static void check_invoice_money(struct run *r)
{
	const struct case_body *b = r->b;
	struct case_input *out = r->out;
	if (b->currency && money_currency_valid(b->currency))
		set(out->currency, sizeof out->currency, b->currency);
	else if (b->currency)
		field_errors_add(r->errs, "/invoice/currency", "invalid_currency",
				 "currency must be an ISO 4217 code in use, upper case (NOK, EUR, SEK)");
	out->original_amount = b->original_amount;
	out->outstanding_amount = b->outstanding_amount;
	/* invoice.fees are all fees already charged, reminder fees included
	 * (openapi Invoice.fees): reminders[].fee only documents each one, so it
	 * is not added again. */
	out->fees = b->fees;
	if (b->outstanding_got != JR_OK)
		return;
	if (b->original_got == JR_OK && out->outstanding_amount > out->original_amount)
		field_errors_add(r->errs, "/invoice/outstanding_amount", "invalid_amount",
				 "outstanding_amount %" PRId64 " is more than original_amount %" PRId64,
				 out->outstanding_amount, out->original_amount);
	else if (out->outstanding_amount < r->settings->min_amount)
		field_errors_add(r->errs, "/invoice/outstanding_amount", "amount_below_minimum",
				 "outstanding_amount must be at least %" PRId64 " (the tenant's min_amount)",
				 r->settings->min_amount);
}

/* The reminders after the issue date; the latest one; a dispute. */
static void check_invoice_rest(struct run *r)
{
	const struct case_body *b = r->b;
	bool all_ok = true;
	for (size_t i = 0; i < b->nreminders; i++) {
		const struct case_reminder *rem = &b->reminders[i];
		if (rem->sent_on_got != JR_OK) {
			all_ok = false;
			continue;
		}
		if (r->out->issued_on[0] && dates_compare(rem->sent_on, r->out->issued_on) < 0) {
			char at[FIELD_POINTER_MAX];
			snprintf(at, sizeof at, "/invoice/reminders/%zu/sent_on", i);
			field_errors_add(r->errs, at, "invalid_date_order", "sent_on %s is before issued_on %s",
					 rem->sent_on, r->out->issued_on);
			all_ok = false;
			continue;
		}
		if (!r->last_sent_on || dates_compare(rem->sent_on, r->last_sent_on) > 0) {
			r->last_sent_on = rem->sent_on;
			r->last_reminder = (int)i;
		}
	}
	r->reminders_usable = b->nreminders > 0 && all_ok;
	if (b->reminders_got != JR_BAD && b->nreminders == 0 && r->service_known &&
	    strcmp(r->out->service, "collection") == 0)
		field_errors_add(r->errs, "/invoice/reminders", "reminder_required",
				 "service collection needs at least one reminder sent before");
	if (b->disputed)
		field_errors_add(r->errs, "/invoice/disputed", "claim_disputed",
				 "a disputed claim cannot be sent to collection");
}

/* The country first (it decides checksums, the postal code and the phone's
 * calling code), then the postal code for it. */
static void check_address(struct run *r)
{
	const struct case_body *b = r->b;
	if (b->country) {
		r->country_known = country_normalise(b->country, r->out->country);
		if (!r->country_known)
			field_errors_add(r->errs, "/debtor/address/country", "invalid_country",
					 "country must be an ISO 3166-1 alpha-2 code (NO, SE, DE)");
	}
	if (b->postal_code) {
		/* With an unknown country, only the form check: its own error says enough. */
		const char *country = r->country_known ? r->out->country : NULL;
		if (!postal_normalise(country, b->postal_code, r->out->postal_code))
			field_errors_add(r->errs, "/debtor/address/postal_code", "invalid_postal_code",
					 "postal_code is not a plausible postal code%s%s", country ? " for " : "",
					 country ? country : "");
	}
}

/* consumer | business: the tenant's fixed type, or with auto (and any
 * other value, which PUT /v1/agency-settings never stores) the debtor's own
 * customer_type when a business name is given too. */
static void resolve_debtor_type(struct run *r)
{
	const char *fixed = r->settings->customer_type;
	bool business;
	if (strcmp(fixed, "consumer") == 0 || strcmp(fixed, "business") == 0)
		business = strcmp(fixed, "business") == 0;
	else
		business = r->b->business_name && r->b->customer_type >= 0 &&
			   strcmp(case_customer_types[r->b->customer_type], "business") == 0;
	set(r->out->debtor_type, sizeof r->out->debtor_type, business ? "business" : "consumer");
}

/* The error of an identity number (org_number, national_id) that did not
 * pass: its country's checksum, or the plain form where it has none. */
static void check_idnum(struct run *r, const char *member, const char *code, const char *what, bool ok,
			bool has_checksum)
{
	if (ok)
		return;
	char ptr[FIELD_POINTER_MAX];
	snprintf(ptr, sizeof ptr, "/debtor/%s", member);
	if (has_checksum)
		field_errors_add(r->errs, ptr, code, "%s is not a valid %s %s", member, r->out->country, what);
	else
		field_errors_add(r->errs, ptr, code, "%s must be 1 to 32 letters, digits, spaces or dashes", member);
}

/* Names, debtor type, org_number, national_id, date_of_birth. */
static void check_identity(struct run *r)
{
	const struct case_body *b = r->b;
	struct case_input *out = r->out;
	const char *country = r->country_known ? out->country : NULL;
	set(out->debtor_name, sizeof out->debtor_name, b->name);
	set(out->business_name, sizeof out->business_name, b->business_name);
	resolve_debtor_type(r);
	bool business = strcmp(out->debtor_type, "business") == 0;
	if (!business && !b->name && b->name_got != JR_BAD)
		field_errors_add(r->errs, "/debtor/name", "required", "name is required for a consumer debtor");
	if (business && !b->business_name && b->business_name_got != JR_BAD)
		field_errors_add(r->errs, "/debtor/business_name", "required",
				 "business_name is required for a business debtor");
	if (b->org_number_got == JR_ABSENT && business)
		field_errors_add(r->errs, "/debtor/org_number", "org_number_required",
				 "org_number is required for a business debtor");
	if (b->org_number)
		check_idnum(r, "org_number", "invalid_org_number", "organisation number",
			    idnum_org_number(country, b->org_number, out->org_number),
			    idnum_org_number_has_checksum(country));
	if (b->national_id)
		check_idnum(r, "national_id", "invalid_national_id", "identity number",
			    idnum_national_id(country, b->national_id, out->national_id),
			    idnum_national_id_has_checksum(country));
	set(out->date_of_birth, sizeof out->date_of_birth, b->date_of_birth);
}

/* The phone_number extra field at index at, normalised with the country. */
static void check_phone_fallback(struct run *r, const char *value, size_t at)
{
	const char *country = r->country_known ? r->out->country : NULL;
	bool international = value[strspn(value, " ")] == '+' || strncmp(value + strspn(value, " "), "00", 2) == 0;
	if (phone_normalise(value, country, r->out->phone))
		return;
	/* A national number needs the country: when that is what is missing,
	 * the country's own error is the one to fix. */
	if (!country && !international)
		return;
	char ptr[FIELD_POINTER_MAX];
	snprintf(ptr, sizeof ptr, "/debtor/extra_fields/%zu/value", at);
	if (country)
		field_errors_add(r->errs, ptr, "invalid_phone", "the phone_number is not a usable number in %s",
				 country);
	else
		field_errors_add(r->errs, ptr, "invalid_phone",
				 "the phone_number is not a usable international number");
}

/* email, language, phone and the extra_fields phone fallback. */
static void check_contact(struct run *r)
{
	const struct case_body *b = r->b;
	if (b->email && !contact_email_ok(b->email))
		field_errors_add(r->errs, "/debtor/email", "invalid_email", "email is not a valid e-mail address");
	if (b->language && !contact_language_ok(b->language, r->out->language))
		field_errors_add(r->errs, "/debtor/language", "invalid_value",
				 "language must be an ISO 639-1 code (nb, sv, fi, da, en)");
	if (b->phone_got == JR_OK && !phone_compact_e164(b->phone, r->out->phone))
		field_errors_add(r->errs, "/debtor/phone", "invalid_phone",
				 "phone must be in E.164 form, e.g. +4791234567");
	if (b->phone_got != JR_ABSENT)
		return;
	for (size_t i = 0; i < b->nextra_fields; i++) {
		const struct case_extra_field *f = &b->extra_fields[i];
		if (f->purpose && strcmp(f->purpose, "phone_number") == 0 && f->value) {
			check_phone_fallback(r, f->value, i);
			return;
		}
	}
}

/* The dates the case may be sent from: due_on + max(min_days_overdue, the
 * country's legal floor) and, for collection, the last reminder +
 * reminder_wait_days. earliest_send_date is the later of those. */
static void check_timing(struct run *r)
{
	struct case_input *out = r->out;
	const struct agency_settings *st = r->settings;
	char earliest[DATES_LEN] = "", after_reminder[DATES_LEN] = "";
	if (r->due_usable) {
		int days = st->min_days_overdue > 0 ? st->min_days_overdue : 0;
		int legal = r->country_known ? country_legal_overdue_days(out->country) : 0;
		if (legal > days)
			days = legal;
		if (!dates_add_days(out->due_on, days, earliest))
			field_errors_add(r->errs, "/invoice/due_on", "not_overdue_enough",
					 "due %s; too far in the future to be sent", out->due_on);
		else if (dates_compare(r->today, earliest) < 0)
			field_errors_add(r->errs, "/invoice/due_on", "not_overdue_enough",
					 "due %s; can be sent from %s (%d days overdue)", out->due_on, earliest, days);
	}
	if (r->service_known && strcmp(out->service, "collection") == 0 && r->reminders_usable) {
		int wait = st->reminder_wait_days > 0 ? st->reminder_wait_days : 0;
		char ptr[FIELD_POINTER_MAX];
		snprintf(ptr, sizeof ptr, "/invoice/reminders/%d/sent_on", r->last_reminder);
		if (!dates_add_days(r->last_sent_on, wait, after_reminder))
			field_errors_add(r->errs, ptr, "reminder_wait_not_elapsed",
					 "last reminder sent %s; reminder_wait_days is out of range", r->last_sent_on);
		else if (dates_compare(r->today, after_reminder) < 0)
			field_errors_add(r->errs, ptr, "reminder_wait_not_elapsed",
					 "last reminder sent %s; can be sent from %s (%d days after the reminder)",
					 r->last_sent_on, after_reminder, wait);
	}
	if (earliest[0])
		set(out->earliest_send_date, sizeof out->earliest_send_date,
		    dates_compare(after_reminder, earliest) > 0 ? after_reminder : earliest);
}

bool case_validate(json_object *body, const struct agency_settings *settings, const char *today,
		   struct case_input *out, struct field_errors *errs)
{
	assert(dates_valid(today)); /* the caller's clock, never client input */
	memset(out, 0, sizeof *out);
	size_t errs_before = errs->n;
	if (!json_object_is_type(body, json_type_object)) {
		field_errors_add(errs, "", "invalid_type", "the body must be a JSON object");
		return false;
	}
	struct case_body *b = malloc(sizeof *b); /* some 2 KB of views: off the stack */
	if (!b)
		return false; /* no field error: the caller answers 500 */
	case_body_read(body, today, b, errs);
	struct run r = {.settings = settings, .today = today, .b = b, .out = out, .errs = errs, .last_reminder = -1};
	check_top(&r);
	if (b->invoice) {
		check_invoice_dates(&r);
		check_invoice_money(&r);
		check_invoice_rest(&r);
	}
	if (b->debtor && b->address)
		check_address(&r);
	if (b->debtor) {
		check_identity(&r);
		check_contact(&r);
	}
	check_timing(&r);
	/* Out of memory: false with no field error, which the caller answers 500. */
	bool ok = errs->n == errs_before && case_render(b, out);
	free(b);
	return ok;
}

void case_input_free(struct case_input *in)
{
	if (!in)
		return;
	free(in->invoice_json);
	free(in->debtor_json);
	in->invoice_json = NULL;
	in->debtor_json = NULL;
}
