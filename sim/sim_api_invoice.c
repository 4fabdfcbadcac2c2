/* SPDX-License-Identifier: MIT */
/* POST /api/v1/partner/invoice: receive an invoice for collection. The body
 * is checked as an agency would (shape, dates, currency, amounts); a
 * repeated number is 409 unless duplicates are accepted (a careless agency). */
#include <json-c/json.h>
#include <string.h>

#include "lib/jsonw.h"
#include "sim/sim_app.h"
#include "sim/sim_handlers.h"
#include "sim/sim_json.h"
#include "sim/sim_money.h"
#include "sim/sim_store.h"

/* True if obj's member key is absent, null, or of the given type. */
static bool sim_kind_or_absent(struct json_object *obj, const char *key, enum json_type type)
{
	struct json_object *v = sim_json_member(obj, key);
	return !v || json_object_is_type(v, type);
}

static bool sim_number_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > SIM_NUMBER_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
			return false;
	return true;
}

static bool sim_header_or_why(struct json_object *header, struct sim_invoice_new *in,
			      const char **why)
{
	static const char *const optional[] = {"type", "description", "languageCode", "service"};
	in->number = sim_json_string(header, "number");
	const char *date = sim_json_string(header, "date");
	const char *due = sim_json_string(header, "dueDate");
	in->currency = sim_json_string(header, "currencyCode");
	if (!sim_number_valid(in->number))
		*why = "invoice.header.number must be a string of 1 to 64 printable characters";
	else if (!sim_date_valid(date))
		*why = "invoice.header.date must be a date (YYYY-MM-DD)";
	else if (!sim_date_valid(due))
		*why = "invoice.header.dueDate must be a date (YYYY-MM-DD)";
	else if (strcmp(due, date) < 0)
		*why = "invoice.header.dueDate is before invoice.header.date";
	else if (!sim_currency_valid(in->currency))
		*why = "invoice.header.currencyCode must be an ISO 4217 code";
	for (size_t i = 0; !*why && i < sizeof optional / sizeof optional[0]; i++)
		if (!sim_json_string_or_absent(header, optional[i]))
			*why = "invoice.header.type, description, languageCode and service must be strings";
	return !*why;
}

static bool sim_amounts_or_why(struct json_object *inv, struct sim_invoice_new *in,
			       const char **why)
{
	struct json_object *amounts = sim_json_object(inv, "amounts");
	struct json_object *costs = sim_json_member(inv, "collectionCosts");
	int64_t total = 0, outstanding = 0, creditor = 0, fees = 0;
	if (!amounts)
		*why = "invoice.amounts must be an object";
	else if (!sim_money_from_json(sim_json_member(amounts, "totalAmount"), in->digits, &total))
		*why = "invoice.amounts.totalAmount must be a non-negative number in the "
		       "currency's minor digits";
	else if (!sim_money_from_json(sim_json_member(amounts, "outstandingAmount"), in->digits,
				      &outstanding))
		*why = "invoice.amounts.outstandingAmount must be a non-negative number in the "
		       "currency's minor digits";
	else if (outstanding == 0 || outstanding > total)
		*why = "invoice.amounts.outstandingAmount must be above 0 and at most totalAmount";
	else if (costs && !json_object_is_type(costs, json_type_object))
		*why = "invoice.collectionCosts must be an object";
	else if (sim_json_member(costs, "creditorCostsAmount") &&
		 !sim_money_from_json(sim_json_member(costs, "creditorCostsAmount"), in->digits,
				      &creditor))
		*why = "invoice.collectionCosts.creditorCostsAmount must be a non-negative number";
	else if (sim_json_member(costs, "collectionFeesAmount") &&
		 !sim_money_from_json(sim_json_member(costs, "collectionFeesAmount"), in->digits,
				      &fees))
		*why = "invoice.collectionCosts.collectionFeesAmount must be a non-negative number";
	in->capital = outstanding;
	in->costs = creditor + fees; /* each below 10^15: no overflow */
	return !*why;
}

/* Reads the invoice into *in (strings borrowed from body); false with a
 * static reason in *why. */
static bool sim_invoice_or_why(struct json_object *body, struct sim_invoice_new *in,
			       const char **why)
{
	struct json_object *inv = sim_json_object(body, "invoice");
	struct json_object *header = sim_json_object(inv, "header");
	*why = NULL;
	if (!inv)
		*why = "invoice must be an object";
	else if (!header)
		*why = "invoice.header must be an object";
	else if (!sim_kind_or_absent(inv, "references", json_type_object) ||
		 !sim_kind_or_absent(inv, "parties", json_type_object))
		*why = "invoice.references and invoice.parties must be objects";
	else if (!sim_kind_or_absent(inv, "reminders", json_type_array))
		*why = "invoice.reminders must be an array";
	if (*why || !sim_header_or_why(header, in, why))
		return false;
	in->digits = sim_currency_digits(in->currency);
	return sim_amounts_or_why(inv, in, why);
}

int sim_api_invoice_post(const struct sim_request *r, struct buf *out)
{
	struct sim_invoice_new in = {0};
	const char *why = NULL;
	if (!sim_invoice_or_why(r->body, &in, &why))
		return sim_reply_message(out, 400, why);
	struct sim_settings set;
	sim_app_settings(r->app, &set);
	in.api_key = r->api_key;
	/* Kept compact for /sim/invoices; json-c keeps numbers' original text,
	 * so amounts read back exactly as they were sent. */
	in.body = json_object_to_json_string_ext(r->body, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!in.body)
		return sim_reply_message(out, 500, "out of memory");
	in.accept_duplicates = set.accept_duplicates;
	in.assign_at_ms = sim_now_ms() + set.timing.assign_delay_ms;
	switch (sim_store_invoice_create(r->app->store, &in)) {
	case SIM_STORE_OK:
		buf_putc(out, '{');
		jw_kstr(out, true, "invoiceNumber", in.number);
		jw_kstr(out, false, "status", "RECEIVED");
		buf_putc(out, '}');
		return 201;
	case SIM_STORE_CONFLICT:
		return sim_reply_message(out, 409, "invoice already received");
	default:
		return sim_reply_message(out, 500, "the simulator could not store the invoice");
	}
}
