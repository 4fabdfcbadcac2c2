/* SPDX-License-Identifier: MIT */
/* Unit tests of handlers/case_validate: DESIGN.md's example body, then a
 * table of edits to it, each with the exact set of (pointer, code) errors
 * it must produce: every rule failing alone, and several at once. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/case_validate.h"

#define TODAY "2026-02-20"

/* DESIGN.md's request body, verbatim. On 2026-02-20 it may be sent: due
 * 2026-01-15 + 14 = 2026-01-29, last reminder 2026-01-30 + 14 = 2026-02-13. */
static const char base_body[] =
	"{\"your_reference\": \"cus_551\", \"service\": \"collection\","
	" \"invoice\": {\"number\": \"202600145\", \"issued_on\": \"2026-01-01\", \"due_on\": \"2026-01-15\","
	"  \"currency\": \"NOK\", \"original_amount\": 124900, \"outstanding_amount\": 124900, \"fees\": 3500,"
	"  \"description\": \"Subscription January 2026\", \"payment_reference\": \"RF71234567890123456789\","
	"  \"reminders\": [{\"sent_on\": \"2026-01-30\", \"fee\": 3500}], \"disputed\": false},"
	" \"debtor\": {\"customer_number\": \"551\", \"customer_type\": \"consumer\", \"name\": \"Kari Nordmann\","
	"  \"business_name\": null, \"org_number\": null, \"national_id\": null, \"date_of_birth\": \"1985-04-12\","
	"  \"email\": \"kari@example.no\", \"phone\": \"+4791234567\","
	"  \"extra_fields\": [{\"purpose\": \"phone_number\", \"value\": \"912 34 567\"}], \"language\": \"nb\","
	"  \"address\": {\"line1\": \"Storgata 1\", \"line2\": null, \"postal_code\": \"0155\", \"city\": \"Oslo\","
	"   \"country\": \"NO\"}}}";

static struct agency_settings settings_default(void)
{
	struct agency_settings s = {
		.service = "collection",
		.customer_type = "auto",
		.min_days_overdue = 14,
		.reminder_wait_days = 14,
		.min_amount = 1,
		.enabled = true,
	};
	return s;
}

/* An edit of the base body: set the member at ptr to json, or delete it
 * when json is NULL ("null" sets JSON null). */
struct edit {
	const char *ptr;
	const char *json;
};

struct expect {
	const char *ptr;
	const char *code;
};

static json_object *child(json_object *o, const char *tok)
{
	json_object *c = NULL;
	if (json_object_is_type(o, json_type_array))
		return json_object_array_get_idx(o, (size_t)atoi(tok));
	json_object_object_get_ex(o, tok, &c);
	return c;
}

static void apply(json_object *root, const struct edit *e)
{
	char path[128];
	snprintf(path, sizeof path, "%s", e->ptr + 1);
	json_object *o = root;
	char *tok = path, *slash;
	while ((slash = strchr(tok, '/'))) {
		*slash = '\0';
		o = child(o, tok);
		cr_assert_not_null(o, "edit %s: no parent %s", e->ptr, tok);
		tok = slash + 1;
	}
	if (json_object_is_type(o, json_type_array)) {
		size_t i = (size_t)atoi(tok);
		if (e->json)
			json_object_array_put_idx(o, i, json_tokener_parse(e->json));
		else
			json_object_array_del_idx(o, i, 1);
	} else if (e->json) {
		json_object *v = json_tokener_parse(e->json);
		cr_assert(v || strcmp(e->json, "null") == 0, "edit %s: bad JSON %s", e->ptr, e->json);
		json_object_object_add(o, tok, v);
	} else {
		json_object_object_del(o, tok);
	}
}

static json_object *body_with(const struct edit *edits)
{
	json_object *b = json_tokener_parse(base_body);
	cr_assert_not_null(b);
	for (; edits && edits->ptr; edits++)
		apply(b, edits);
	return b;
}

static bool has(const struct field_errors *e, const char *ptr, const char *code)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->v[i].pointer, ptr) == 0 && strcmp(e->v[i].code, code) == 0)
			return true;
	return false;
}

static void dump(const char *name, const struct field_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		cr_log_error("%s: %s %s (%s)", name, e->v[i].pointer, e->v[i].code, e->v[i].detail);
}

/* Validates edits of the base body; the errors must be exactly want. */
static void expect_errors(const char *name, const struct agency_settings *s, const char *today,
			  const struct edit *edits, const struct expect *want)
{
	json_object *b = body_with(edits);
	struct case_input in = {0};
	struct field_errors errs = {0};
	bool ok = case_validate(b, s, today, &in, &errs);
	size_t n = 0;
	for (; want[n].ptr; n++)
		cr_expect(has(&errs, want[n].ptr, want[n].code), "%s: lacks %s %s", name, want[n].ptr, want[n].code);
	cr_expect_eq(ok, n == 0, "%s: returned %d", name, ok);
	cr_expect_eq(errs.n, n, "%s: %zu errors, want %zu", name, errs.n, n);
	if (errs.n != n)
		dump(name, &errs);
	for (size_t i = 0; i < errs.n; i++)
		cr_expect(errs.v[i].detail[0], "%s: %s has no detail", name, errs.v[i].pointer);
	case_input_free(&in);
	field_errors_free(&errs);
	json_object_put(b);
}

#define EDITS(...) ((const struct edit[]){__VA_ARGS__, {NULL, NULL}})
#define WANT(...) ((const struct expect[]){__VA_ARGS__, {NULL, NULL}})
#define VALID ((const struct expect[]){{NULL, NULL}})

Test(validate, design_example_is_valid_and_normalised)
{
	struct agency_settings s = settings_default();
	json_object *b = body_with(NULL);
	struct case_input in = {0};
	struct field_errors errs = {0};
	cr_assert(case_validate(b, &s, TODAY, &in, &errs));
	dump("example", &errs);
	cr_expect_eq(errs.n, 0);
	cr_expect_str_eq(in.your_reference, "cus_551");
	cr_expect_str_eq(in.service, "collection");
	cr_expect_str_eq(in.debtor_type, "consumer");
	cr_expect_str_eq(in.invoice_number, "202600145");
	cr_expect_str_eq(in.issued_on, "2026-01-01");
	cr_expect_str_eq(in.due_on, "2026-01-15");
	cr_expect_str_eq(in.currency, "NOK");
	cr_expect_eq(in.original_amount, 124900);
	cr_expect_eq(in.outstanding_amount, 124900);
	cr_expect_eq(in.fees, 3500); /* invoice.fees, reminder fees not added twice */
	cr_expect_str_eq(in.debtor_name, "Kari Nordmann");
	cr_expect_str_eq(in.business_name, "");
	cr_expect_str_eq(in.org_number, "");
	cr_expect_str_eq(in.national_id, "");
	cr_expect_str_eq(in.date_of_birth, "1985-04-12");
	cr_expect_str_eq(in.country, "NO");
	cr_expect_str_eq(in.phone, "+4791234567");
	cr_expect_str_eq(in.earliest_send_date, "2026-02-13");
	cr_assert_not_null(in.invoice_json);
	cr_assert_not_null(in.debtor_json);
	cr_expect_str_eq(
		in.invoice_json,
		"{\"number\":\"202600145\",\"issued_on\":\"2026-01-01\",\"due_on\":\"2026-01-15\","
		"\"currency\":\"NOK\",\"original_amount\":124900,\"outstanding_amount\":124900,\"fees\":3500,"
		"\"description\":\"Subscription January 2026\",\"payment_reference\":\"RF71234567890123456789\","
		"\"reminders\":[{\"sent_on\":\"2026-01-30\",\"fee\":3500}],\"disputed\":false}");
	cr_expect_str_eq(
		in.debtor_json,
		"{\"customer_number\":\"551\",\"customer_type\":\"consumer\",\"name\":\"Kari Nordmann\","
		"\"business_name\":null,\"org_number\":null,\"national_id\":null,\"date_of_birth\":\"1985-04-12\","
		"\"email\":\"kari@example.no\",\"phone\":\"+4791234567\","
		"\"extra_fields\":[{\"purpose\":\"phone_number\",\"value\":\"912 34 567\"}],\"language\":\"nb\","
		"\"address\":{\"line1\":\"Storgata 1\",\"line2\":null,\"postal_code\":\"0155\",\"city\":\"Oslo\","
		"\"country\":\"NO\"}}");
	/* Both renderings are JSON that parses back. */
	json_object *inv = json_tokener_parse(in.invoice_json), *deb = json_tokener_parse(in.debtor_json);
	cr_expect_not_null(inv);
	cr_expect_not_null(deb);
	json_object_put(inv);
	json_object_put(deb);
	case_input_free(&in);
	cr_expect_null(in.invoice_json);
	case_input_free(&in); /* twice is harmless */
	case_input_free(NULL);
	field_errors_free(&errs);
	json_object_put(b);
}

/* Edits that must be accepted: the rules' edges and the optional members. */
Test(validate, accepted_variants)
{
	struct agency_settings s = settings_default();
	const struct {
		const char *name;
		const struct edit *edits;
		const char *today; /* NULL: TODAY */
	} rows[] = {
		{"exactly 14 days overdue, exactly 14 days after the reminder", NULL, "2026-02-13"},
		{"optional members absent",
		 EDITS({"/your_reference", NULL}, {"/invoice/fees", NULL}, {"/invoice/description", NULL},
		       {"/invoice/payment_reference", NULL}, {"/invoice/disputed", NULL},
		       {"/debtor/customer_number", NULL}, {"/debtor/customer_type", NULL},
		       {"/debtor/date_of_birth", NULL}, {"/debtor/email", NULL}, {"/debtor/phone", NULL},
		       {"/debtor/extra_fields", NULL}, {"/debtor/language", NULL}, {"/debtor/address/line2", NULL}),
		 NULL},
		{"optional members null",
		 EDITS({"/your_reference", "null"}, {"/service", "null"}, {"/invoice/fees", "null"},
		       {"/invoice/description", "null"}, {"/invoice/disputed", "null"}, {"/debtor/email", "null"},
		       {"/debtor/phone", "null"}, {"/debtor/language", "null"}, {"/debtor/extra_fields", "null"}),
		 NULL},
		{"service from the tenant", EDITS({"/service", NULL}), NULL},
		{"pre_collection needs no reminder",
		 EDITS({"/service", "\"pre_collection\""}, {"/invoice/reminders", NULL}), NULL},
		{"surveillance with a recent reminder",
		 EDITS({"/service", "\"surveillance\""}, {"/invoice/reminders/0/sent_on", "\"2026-02-19\""}), NULL},
		{"outstanding below original", EDITS({"/invoice/outstanding_amount", "1"}), NULL},
		{"fees zero", EDITS({"/invoice/fees", "0"}), NULL},
		{"amount at the bound", EDITS({"/invoice/original_amount", "10000000000000"}), NULL},
		{"lower-case country", EDITS({"/debtor/address/country", "\"no\""}), NULL},
		{"upper-case language", EDITS({"/debtor/language", "\"NB\""}), NULL},
		{"valid Norwegian national id", EDITS({"/debtor/national_id", "\"01010112377\""}), NULL},
		{"Swedish debtor",
		 EDITS({"/debtor/address/country", "\"SE\""}, {"/debtor/address/postal_code", "\"123 45\""},
		       {"/debtor/national_id", "\"811218-9876\""}),
		 NULL},
		{"Finnish debtor",
		 EDITS({"/debtor/address/country", "\"FI\""}, {"/debtor/address/postal_code", "\"00100\""},
		       {"/debtor/national_id", "\"131052-308T\""}, {"/invoice/currency", "\"EUR\""}),
		 NULL},
		{"phone from extra_fields", EDITS({"/debtor/phone", "\"\""}), NULL},
		{"blank phone falls back", EDITS({"/debtor/phone", "\"  \""}), NULL},
		{"phone with spaces", EDITS({"/debtor/phone", "\"+47 912 34 567\""}), NULL},
		{"no phone at all", EDITS({"/debtor/phone", NULL}, {"/debtor/extra_fields", "[]"}), NULL},
		{"extra field without value", EDITS({"/debtor/phone", NULL}, {"/debtor/extra_fields/0/value", "null"}),
		 NULL},
		{"business under auto with org number",
		 EDITS({"/debtor/customer_type", "\"business\""}, {"/debtor/business_name", "\"Nordmann AS\""},
		       {"/debtor/org_number", "\"923 609 016\""}, {"/debtor/name", NULL}),
		 NULL},
		{"customer_type business under auto without business_name: consumer",
		 EDITS({"/debtor/customer_type", "\"business\""}), NULL},
		{"business name under auto but customer_type consumer: consumer, no org number needed",
		 EDITS({"/debtor/business_name", "\"Nordmann AS\""}), NULL},
		{"reminder without fee", EDITS({"/invoice/reminders/0/fee", NULL}), NULL},
		{"several reminders, the latest counts",
		 EDITS({"/invoice/reminders", "[{\"sent_on\":\"2026-02-01\"},{\"sent_on\":\"2026-01-20\"}]"}), NULL},
		{"JPY without minor units", EDITS({"/invoice/currency", "\"JPY\""}), NULL},
		{"unknown and server-owned members ignored",
		 EDITS({"/status", "\"paid\""}, {"/id", "\"cc_x\""}, {"/invoice/extra", "1"},
		       {"/debtor/balance", "{}"}),
		 NULL},
		{"email with plus and subdomain", EDITS({"/debtor/email", "\"kari.n+inkasso@mail.example.co.uk\""}),
		 NULL},
		{"unknown country's postal code form",
		 EDITS({"/debtor/address/country", "\"FR\""}, {"/debtor/address/postal_code", "\"75008\""}), NULL},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		expect_errors(rows[i].name, &s, rows[i].today ? rows[i].today : TODAY, rows[i].edits, VALID);
}

/* JSON strings one byte over CASE_REF_MAX (100) and CASE_TEXT_MAX (200). */
#define X10 "xxxxxxxxxx"
#define X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
static const char long101[] = "\"" X100 "x\"";
static const char long201[] = "\"" X100 X100 "x\"";

/* Each rule failing alone. */
Test(validate, each_rule_alone)
{
	struct agency_settings s = settings_default();
	const struct {
		const char *name;
		const struct edit *edits;
		const struct expect *want;
	} rows[] = {
		/* required / invalid_type / too_long */
		{"no invoice", EDITS({"/invoice", NULL}), WANT({"/invoice", "required"})},
		{"invoice not an object", EDITS({"/invoice", "[]"}), WANT({"/invoice", "invalid_type"})},
		{"no debtor", EDITS({"/debtor", NULL}), WANT({"/debtor", "required"})},
		{"debtor a string", EDITS({"/debtor", "\"Kari\""}), WANT({"/debtor", "invalid_type"})},
		{"no number", EDITS({"/invoice/number", NULL}), WANT({"/invoice/number", "required"})},
		{"empty number", EDITS({"/invoice/number", "\"\""}), WANT({"/invoice/number", "required"})},
		{"number an integer", EDITS({"/invoice/number", "202600145"}),
		 WANT({"/invoice/number", "invalid_type"})},
		{"number 65 bytes",
		 EDITS({"/invoice/number", "\"12345678901234567890123456789012345678901234567890123456789012345\""}),
		 WANT({"/invoice/number", "too_long"})},
		{"your_reference 101 bytes", EDITS({"/your_reference", long101}),
		 WANT({"/your_reference", "too_long"})},
		{"your_reference a number", EDITS({"/your_reference", "551"}),
		 WANT({"/your_reference", "invalid_type"})},
		{"no issued_on", EDITS({"/invoice/issued_on", NULL}), WANT({"/invoice/issued_on", "required"})},
		{"no currency", EDITS({"/invoice/currency", NULL}), WANT({"/invoice/currency", "required"})},
		{"no original_amount", EDITS({"/invoice/original_amount", NULL}),
		 WANT({"/invoice/original_amount", "required"})},
		{"no outstanding_amount", EDITS({"/invoice/outstanding_amount", NULL}),
		 WANT({"/invoice/outstanding_amount", "required"})},
		{"no address", EDITS({"/debtor/address", NULL}), WANT({"/debtor/address", "required"})},
		{"no line1", EDITS({"/debtor/address/line1", NULL}), WANT({"/debtor/address/line1", "required"})},
		{"blank city", EDITS({"/debtor/address/city", "\"   \""}), WANT({"/debtor/address/city", "required"})},
		{"no postal_code", EDITS({"/debtor/address/postal_code", NULL}),
		 WANT({"/debtor/address/postal_code", "required"})},
		{"no country", EDITS({"/debtor/address/country", NULL}), WANT({"/debtor/address/country", "required"})},
		{"consumer without name", EDITS({"/debtor/name", NULL}), WANT({"/debtor/name", "required"})},
		{"name an object", EDITS({"/debtor/name", "{}"}), WANT({"/debtor/name", "invalid_type"})},
		{"line2 too long", EDITS({"/debtor/address/line2", long201}),
		 WANT({"/debtor/address/line2", "too_long"})},
		{"embedded NUL", EDITS({"/debtor/name", "\"Kari\\u0000Nordmann\""}),
		 WANT({"/debtor/name", "invalid_value"})},
		/* enums */
		{"unknown service", EDITS({"/service", "\"debt\""}), WANT({"/service", "invalid_value"})},
		{"unknown customer_type", EDITS({"/debtor/customer_type", "\"company\""}),
		 WANT({"/debtor/customer_type", "invalid_value"})},
		{"unknown language", EDITS({"/debtor/language", "\"xx\""}),
		 WANT({"/debtor/language", "invalid_value"})},
		{"three-letter language", EDITS({"/debtor/language", "\"nob\""}),
		 WANT({"/debtor/language", "invalid_value"})},
		/* dates */
		{"issued_on not a day", EDITS({"/invoice/issued_on", "\"2026-02-30\""}),
		 WANT({"/invoice/issued_on", "invalid_date"})},
		{"issued_on in the future", EDITS({"/invoice/issued_on", "\"2026-02-21\""}),
		 WANT({"/invoice/issued_on", "invalid_date"})},
		{"issued_on a timestamp", EDITS({"/invoice/issued_on", "\"2026-01-01T00:00:00Z\""}),
		 WANT({"/invoice/issued_on", "invalid_date"})},
		{"due_on absent", EDITS({"/invoice/due_on", NULL}), WANT({"/invoice/due_on", "due_date_required"})},
		{"due_on null", EDITS({"/invoice/due_on", "null"}), WANT({"/invoice/due_on", "due_date_required"})},
		{"due_on not a day", EDITS({"/invoice/due_on", "\"2025-02-29\""}),
		 WANT({"/invoice/due_on", "invalid_date"})},
		{"due_on before issued_on", EDITS({"/invoice/due_on", "\"2025-12-31\""}),
		 WANT({"/invoice/due_on", "invalid_date_order"})},
		{"not overdue enough", EDITS({"/invoice/due_on", "\"2026-02-10\""}),
		 WANT({"/invoice/due_on", "not_overdue_enough"})},
		{"date_of_birth not a day", EDITS({"/debtor/date_of_birth", "\"1985-02-29\""}),
		 WANT({"/debtor/date_of_birth", "invalid_date"})},
		{"date_of_birth in the future", EDITS({"/debtor/date_of_birth", "\"2027-01-01\""}),
		 WANT({"/debtor/date_of_birth", "invalid_date"})},
		/* reminders */
		{"collection without reminders", EDITS({"/invoice/reminders", NULL}),
		 WANT({"/invoice/reminders", "reminder_required"})},
		{"collection with no reminder", EDITS({"/invoice/reminders", "[]"}),
		 WANT({"/invoice/reminders", "reminder_required"})},
		{"reminder too recent", EDITS({"/invoice/reminders/0/sent_on", "\"2026-02-10\""}),
		 WANT({"/invoice/reminders/0/sent_on", "reminder_wait_not_elapsed"})},
		{"latest reminder, listed first, too recent",
		 EDITS({"/invoice/reminders", "[{\"sent_on\":\"2026-02-15\"},{\"sent_on\":\"2026-01-20\"}]"}),
		 WANT({"/invoice/reminders/0/sent_on", "reminder_wait_not_elapsed"})},
		{"latest reminder too recent",
		 EDITS({"/invoice/reminders", "[{\"sent_on\":\"2026-01-20\"},{\"sent_on\":\"2026-02-15\"}]"}),
		 WANT({"/invoice/reminders/1/sent_on", "reminder_wait_not_elapsed"})},
		{"reminder not a day", EDITS({"/invoice/reminders/0/sent_on", "\"2026-01-32\""}),
		 WANT({"/invoice/reminders/0/sent_on", "invalid_date"})},
		{"reminder in the future", EDITS({"/invoice/reminders/0/sent_on", "\"2026-02-21\""}),
		 WANT({"/invoice/reminders/0/sent_on", "invalid_date"})},
		{"reminder before the invoice", EDITS({"/invoice/reminders/0/sent_on", "\"2025-12-30\""}),
		 WANT({"/invoice/reminders/0/sent_on", "invalid_date_order"})},
		{"reminder without sent_on", EDITS({"/invoice/reminders/0/sent_on", NULL}),
		 WANT({"/invoice/reminders/0/sent_on", "required"})},
		{"reminder not an object", EDITS({"/invoice/reminders/0", "\"2026-01-30\""}),
		 WANT({"/invoice/reminders/0", "invalid_type"})},
		{"reminder fee negative", EDITS({"/invoice/reminders/0/fee", "-1"}),
		 WANT({"/invoice/reminders/0/fee", "invalid_amount"})},
		{"reminders not an array", EDITS({"/invoice/reminders", "{}"}),
		 WANT({"/invoice/reminders", "invalid_type"})},
		{"21 reminders",
		 EDITS({"/invoice/reminders",
			"[{\"sent_on\":\"2026-01-30\"},{\"sent_on\":\"2026-01-30\"},{\"sent_on\":\"2026-01-30\"},"
			"{\"sent_on\":\"2026-01-30\"},{\"sent_on\":\"2026-01-30\"},{\"sent_on\":\"2026-01-30\"},"
			"{\"sent_on\":\"2026-01-30\"},{\"sent_on\":\"2026-01-30\"},{\"sent_on\":\"2026-01-30\"},"
			"{\"sent_on\":\"2026-01-30\"},{\"sent_on\":\"2026-01-30\"},{\"sent_on\":\"2026-01-30\"},"
			"{\"sent_on\":\"2026-01-30\"},{\"sent_on\":\"2026-01-30\"},{\"sent_on\":\"2026-01-30\"},"
			"{\"sent_on\":\"2026-01-30\"},{\"sent_on\":\"2026-01-30\"},{\"sent_on\":\"2026-01-30\"},"
			"{\"sent_on\":\"2026-01-30\"},{\"sent_on\":\"2026-01-30\"},{\"sent_on\":\"2026-01-30\"}]"}),
		 WANT({"/invoice/reminders", "too_long"})},
		/* amounts */
		{"amount as a string", EDITS({"/invoice/original_amount", "\"124900\""}),
		 WANT({"/invoice/original_amount", "invalid_type"})},
		{"amount with decimals", EDITS({"/invoice/original_amount", "1249.5"}),
		 WANT({"/invoice/original_amount", "invalid_amount"})},
		{"amount 1249.00 is still a double", EDITS({"/invoice/outstanding_amount", "124900.0"}),
		 WANT({"/invoice/outstanding_amount", "invalid_amount"})},
		{"amount a boolean", EDITS({"/invoice/original_amount", "true"}),
		 WANT({"/invoice/original_amount", "invalid_type"})},
		{"original zero", EDITS({"/invoice/original_amount", "0"}, {"/invoice/outstanding_amount", "0"}),
		 WANT({"/invoice/original_amount", "invalid_amount"},
		      {"/invoice/outstanding_amount", "invalid_amount"})},
		{"outstanding negative", EDITS({"/invoice/outstanding_amount", "-100"}),
		 WANT({"/invoice/outstanding_amount", "invalid_amount"})},
		{"outstanding above original", EDITS({"/invoice/outstanding_amount", "124901"}),
		 WANT({"/invoice/outstanding_amount", "invalid_amount"})},
		{"above the bound", EDITS({"/invoice/original_amount", "10000000000001"}),
		 WANT({"/invoice/original_amount", "invalid_amount"})},
		{"beyond int64", EDITS({"/invoice/original_amount", "99999999999999999999999"}),
		 WANT({"/invoice/original_amount", "invalid_amount"})},
		{"below -int64", EDITS({"/invoice/outstanding_amount", "-99999999999999999999999"}),
		 WANT({"/invoice/outstanding_amount", "invalid_amount"})},
		{"fees negative", EDITS({"/invoice/fees", "-1"}), WANT({"/invoice/fees", "invalid_amount"})},
		{"fees a string", EDITS({"/invoice/fees", "\"35\""}), WANT({"/invoice/fees", "invalid_type"})},
		/* codes of things */
		{"unknown currency", EDITS({"/invoice/currency", "\"XYZ\""}),
		 WANT({"/invoice/currency", "invalid_currency"})},
		{"lower-case currency", EDITS({"/invoice/currency", "\"nok\""}),
		 WANT({"/invoice/currency", "invalid_currency"})},
		{"withdrawn currency", EDITS({"/invoice/currency", "\"HRK\""}),
		 WANT({"/invoice/currency", "invalid_currency"})},
		{"unknown country", EDITS({"/debtor/address/country", "\"XX\""}),
		 WANT({"/debtor/address/country", "invalid_country"})},
		{"country by name", EDITS({"/debtor/address/country", "\"Norway\""}),
		 WANT({"/debtor/address/country", "invalid_country"})},
		{"NO postal code of 3 digits", EDITS({"/debtor/address/postal_code", "\"155\""}),
		 WANT({"/debtor/address/postal_code", "invalid_postal_code"})},
		{"SE postal code on a NO address", EDITS({"/debtor/address/postal_code", "\"123 45\""}),
		 WANT({"/debtor/address/postal_code", "invalid_postal_code"})},
		/* identity */
		{"bad Norwegian national id", EDITS({"/debtor/national_id", "\"01010112378\""}),
		 WANT({"/debtor/national_id", "invalid_national_id"})},
		{"national id too long", EDITS({"/debtor/national_id", "\"012345678901234567890123456789012\""}),
		 WANT({"/debtor/national_id", "too_long"})},
		{"bad org number", EDITS({"/debtor/org_number", "\"923609017\""}),
		 WANT({"/debtor/org_number", "invalid_org_number"})},
		{"auto business without org number",
		 EDITS({"/debtor/customer_type", "\"business\""}, {"/debtor/business_name", "\"Nordmann AS\""}),
		 WANT({"/debtor/org_number", "org_number_required"})},
		/* contact */
		{"email without domain dot", EDITS({"/debtor/email", "\"kari@example\""}),
		 WANT({"/debtor/email", "invalid_email"})},
		{"email with a space", EDITS({"/debtor/email", "\"kari nordmann@example.no\""}),
		 WANT({"/debtor/email", "invalid_email"})},
		{"email with two @", EDITS({"/debtor/email", "\"kari@@example.no\""}),
		 WANT({"/debtor/email", "invalid_email"})},
		{"email without local part", EDITS({"/debtor/email", "\"@example.no\""}),
		 WANT({"/debtor/email", "invalid_email"})},
		{"email with a bad label", EDITS({"/debtor/email", "\"kari@-example.no\""}),
		 WANT({"/debtor/email", "invalid_email"})},
		{"email with double dot", EDITS({"/debtor/email", "\"kari..n@example.no\""}),
		 WANT({"/debtor/email", "invalid_email"})},
		{"email with numeric TLD", EDITS({"/debtor/email", "\"kari@10.0.0.1\""}),
		 WANT({"/debtor/email", "invalid_email"})},
		{"phone not E.164", EDITS({"/debtor/phone", "\"912 34 567\""}),
		 WANT({"/debtor/phone", "invalid_phone"})},
		{"phone a number", EDITS({"/debtor/phone", "4791234567"}), WANT({"/debtor/phone", "invalid_type"})},
		{"unusable extra phone",
		 EDITS({"/debtor/phone", NULL}, {"/debtor/extra_fields/0/value", "\"call me\""}),
		 WANT({"/debtor/extra_fields/0/value", "invalid_phone"})},
		{"unusable second extra phone",
		 EDITS({"/debtor/phone", NULL},
		       {"/debtor/extra_fields",
			"[{\"purpose\":\"vat\",\"value\":\"x\"},{\"purpose\":\"phone_number\",\"value\":\"12\"}]"}),
		 WANT({"/debtor/extra_fields/1/value", "invalid_phone"})},
		{"extra field without purpose", EDITS({"/debtor/extra_fields/0/purpose", NULL}),
		 WANT({"/debtor/extra_fields/0/purpose", "required"})},
		{"extra field not an object", EDITS({"/debtor/extra_fields/0", "\"912 34 567\""}),
		 WANT({"/debtor/extra_fields/0", "invalid_type"})},
		{"extra value too long", EDITS({"/debtor/extra_fields/0/value", long101}),
		 WANT({"/debtor/extra_fields/0/value", "too_long"})},
		/* disputed */
		{"disputed", EDITS({"/invoice/disputed", "true"}), WANT({"/invoice/disputed", "claim_disputed"})},
		{"disputed a string", EDITS({"/invoice/disputed", "\"no\""}),
		 WANT({"/invoice/disputed", "invalid_type"})},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		expect_errors(rows[i].name, &s, TODAY, rows[i].edits, rows[i].want);
}

static void business_tenant(struct agency_settings *s) { strcpy(s->customer_type, "business"); }
static void consumer_tenant(struct agency_settings *s) { strcpy(s->customer_type, "consumer"); }
static void no_default_service(struct agency_settings *s) { s->service[0] = '\0'; }
static void min_amount_2000(struct agency_settings *s) { s->min_amount = 200000; }
static void overdue_0(struct agency_settings *s) { s->min_days_overdue = 0; }
static void overdue_40(struct agency_settings *s) { s->min_days_overdue = 40; }
static void wait_30(struct agency_settings *s) { s->reminder_wait_days = 30; }

/* Rules that depend on the tenant's settings. */
Test(validate, tenant_settings)
{
	const struct {
		const char *name;
		void (*tweak)(struct agency_settings *);
		const struct edit *edits;
		const struct expect *want;
	} rows[] = {
		{"business tenant: business_name and org_number", business_tenant, NULL,
		 WANT({"/debtor/business_name", "required"}, {"/debtor/org_number", "org_number_required"})},
		{"business tenant, complete, no person's name needed", business_tenant,
		 EDITS({"/debtor/business_name", "\"Nordmann AS\""}, {"/debtor/org_number", "\"923609016\""},
		       {"/debtor/name", NULL}),
		 VALID},
		{"business tenant, bad checksum", business_tenant,
		 EDITS({"/debtor/business_name", "\"Nordmann AS\""}, {"/debtor/org_number", "\"923609061\""}),
		 WANT({"/debtor/org_number", "invalid_org_number"})},
		{"consumer tenant ignores the debtor's business type", consumer_tenant,
		 EDITS({"/debtor/customer_type", "\"business\""}, {"/debtor/business_name", "\"Nordmann AS\""}), VALID},
		{"consumer tenant still needs a name", consumer_tenant, EDITS({"/debtor/name", NULL}),
		 WANT({"/debtor/name", "required"})},
		{"no service anywhere", no_default_service, EDITS({"/service", NULL}), WANT({"/service", "required"})},
		{"service in the body when the tenant has none", no_default_service, NULL, VALID},
		{"below min_amount", min_amount_2000, NULL,
		 WANT({"/invoice/outstanding_amount", "amount_below_minimum"})},
		{"legal floor of NO beats min_days_overdue 0", overdue_0, EDITS({"/invoice/due_on", "\"2026-02-10\""}),
		 WANT({"/invoice/due_on", "not_overdue_enough"})},
		{"legal floor of FI", overdue_0,
		 EDITS({"/invoice/due_on", "\"2026-02-10\""}, {"/debtor/address/country", "\"FI\""},
		       {"/debtor/address/postal_code", "\"00100\""}),
		 WANT({"/invoice/due_on", "not_overdue_enough"})},
		{"no floor in SE", overdue_0,
		 EDITS({"/invoice/due_on", "\"2026-02-10\""}, {"/debtor/address/country", "\"SE\""},
		       {"/debtor/address/postal_code", "\"12345\""}),
		 VALID},
		{"due today, sent today: no floor in DE with min_days_overdue 0", overdue_0,
		 EDITS({"/service", "\"international\""}, {"/invoice/issued_on", "\"2026-02-20\""},
		       {"/invoice/due_on", "\"2026-02-20\""}, {"/invoice/reminders", "[]"},
		       {"/debtor/address/country", "\"DE\""}, {"/debtor/address/postal_code", "\"10115\""}),
		 VALID},
		{"min_days_overdue 40", overdue_40, NULL, WANT({"/invoice/due_on", "not_overdue_enough"})},
		{"reminder_wait_days 30", wait_30, NULL,
		 WANT({"/invoice/reminders/0/sent_on", "reminder_wait_not_elapsed"})},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct agency_settings s = settings_default();
		rows[i].tweak(&s);
		expect_errors(rows[i].name, &s, TODAY, rows[i].edits, rows[i].want);
	}
}

/* Several failures reported together, and derived errors not piled on. */
Test(validate, several_at_once_without_derived_errors)
{
	struct agency_settings s = settings_default();
	expect_errors("four independent errors", &s, TODAY,
		      EDITS({"/invoice/number", NULL}, {"/invoice/currency", "\"ZZZ\""}, {"/debtor/email", "\"nope\""},
			    {"/invoice/disputed", "true"}),
		      WANT({"/invoice/number", "required"}, {"/invoice/currency", "invalid_currency"},
			   {"/debtor/email", "invalid_email"}, {"/invoice/disputed", "claim_disputed"}));
	expect_errors("everything about the debtor", &s, TODAY,
		      EDITS({"/debtor/name", NULL}, {"/debtor/address/line1", NULL}, {"/debtor/address/city", NULL},
			    {"/debtor/national_id", "\"01010112378\""}, {"/debtor/phone", "\"+0\""},
			    {"/debtor/language", "\"zz\""}),
		      WANT({"/debtor/name", "required"}, {"/debtor/address/line1", "required"},
			   {"/debtor/address/city", "required"}, {"/debtor/national_id", "invalid_national_id"},
			   {"/debtor/phone", "invalid_phone"}, {"/debtor/language", "invalid_value"}));
	/* An invalid due_on gives no overdue error; an unknown country no
	 * checksum, postal or phone-country error. */
	expect_errors("invalid due_on alone", &s, TODAY, EDITS({"/invoice/due_on", "\"2026-13-01\""}),
		      WANT({"/invoice/due_on", "invalid_date"}));
	expect_errors("unknown country alone", &s, TODAY,
		      EDITS({"/debtor/address/country", "\"QQ\""}, {"/debtor/national_id", "\"01010112378\""},
			    {"/debtor/phone", NULL}),
		      WANT({"/debtor/address/country", "invalid_country"}));
	/* A future issued_on is not also "after due_on" or "after the reminder". */
	expect_errors("future issued_on alone", &s, TODAY, EDITS({"/invoice/issued_on", "\"2026-03-01\""}),
		      WANT({"/invoice/issued_on", "invalid_date"}));
	/* A bad reminder date: no wait rule guessed from the others. */
	expect_errors("bad reminder, no wait rule", &s, TODAY,
		      EDITS({"/invoice/reminders", "[{\"sent_on\":\"2026-02-19\"},{\"sent_on\":\"x\"}]"}),
		      WANT({"/invoice/reminders/1/sent_on", "invalid_date"}));
	/* Both date rules at once. */
	expect_errors("too early twice", &s, TODAY,
		      EDITS({"/invoice/due_on", "\"2026-02-15\""}, {"/invoice/reminders/0/sent_on", "\"2026-02-16\""}),
		      WANT({"/invoice/due_on", "not_overdue_enough"},
			   {"/invoice/reminders/0/sent_on", "reminder_wait_not_elapsed"}));
	/* An invalid service: no guess whether reminders are needed. */
	expect_errors("unknown service, no reminders", &s, TODAY,
		      EDITS({"/service", "\"x\""}, {"/invoice/reminders", NULL}), WANT({"/service", "invalid_value"}));
}

/* Validates and hands back the first error (the body must fail with one). */
static void first_error(const struct agency_settings *s, const char *today, const struct edit *edits,
			struct field_error *out, char earliest[11])
{
	json_object *b = body_with(edits);
	struct case_input in = {0};
	struct field_errors errs = {0};
	cr_assert_not(case_validate(b, s, today, &in, &errs));
	if (errs.n != 1)
		dump("first_error", &errs);
	cr_assert_eq(errs.n, 1);
	*out = errs.v[0];
	strcpy(earliest, in.earliest_send_date);
	case_input_free(&in);
	field_errors_free(&errs);
	json_object_put(b);
}

Test(validate, date_details_name_the_first_allowed_day)
{
	struct agency_settings s = settings_default();
	struct field_error e;
	char earliest[11];
	first_error(&s, "2026-11-25",
		    EDITS({"/invoice/issued_on", "\"2026-11-01\""}, {"/invoice/due_on", "\"2026-11-20\""},
			  {"/service", "\"pre_collection\""}, {"/invoice/reminders", NULL}),
		    &e, earliest);
	cr_expect_str_eq(e.pointer, "/invoice/due_on");
	cr_expect_str_eq(e.code, "not_overdue_enough");
	cr_expect_str_eq(e.detail, "due 2026-11-20; can be sent from 2026-12-04 (14 days overdue)");
	cr_expect_str_eq(earliest, "2026-12-04"); /* filled although the date rule failed */

	first_error(&s, TODAY, EDITS({"/invoice/reminders/0/sent_on", "\"2026-02-10\""}), &e, earliest);
	cr_expect_str_eq(e.pointer, "/invoice/reminders/0/sent_on");
	cr_expect_str_eq(e.code, "reminder_wait_not_elapsed");
	cr_expect_str_eq(e.detail,
			 "last reminder sent 2026-02-10; can be sent from 2026-02-24 (14 days after the reminder)");
	cr_expect_str_eq(earliest, "2026-02-24"); /* the later of 2026-01-29 and 2026-02-24 */

	s.min_days_overdue = 30;
	first_error(&s, TODAY, EDITS({"/invoice/due_on", "\"2026-02-01\""}), &e, earliest);
	cr_expect_str_eq(e.detail, "due 2026-02-01; can be sent from 2026-03-03 (30 days overdue)");
	cr_expect_str_eq(earliest, "2026-03-03");

	first_error(&s, TODAY, EDITS({"/invoice/due_on", "\"9999-12-31\""}, {"/invoice/issued_on", "\"2026-01-01\""}),
		    &e, earliest);
	cr_expect_str_eq(e.code, "not_overdue_enough");
	cr_expect_str_eq(earliest, "");
}

/* Runs a body that must pass and hands back the input. */
static void valid(const struct agency_settings *s, const struct edit *edits, struct case_input *in)
{
	json_object *b = body_with(edits);
	struct field_errors errs = {0};
	bool ok = case_validate(b, s, TODAY, in, &errs);
	dump("valid", &errs);
	cr_assert(ok);
	field_errors_free(&errs);
	json_object_put(b);
}

Test(validate, normalises_what_it_accepts)
{
	struct agency_settings s = settings_default();
	struct case_input in = {0};
	valid(&s,
	      EDITS({"/debtor/phone", NULL}, {"/debtor/national_id", "\"010101 12377\""},
		    {"/debtor/address/country", "\"no\""}, {"/debtor/language", "\"NB\""}, {"/service", NULL},
		    {"/invoice/fees", NULL}, {"/invoice/reminders/0/fee", NULL}, {"/invoice/disputed", NULL}),
	      &in);
	cr_expect_str_eq(in.phone, "+4791234567"); /* "912 34 567" with NO's calling code */
	cr_expect_str_eq(in.national_id, "01010112377");
	cr_expect_str_eq(in.country, "NO");
	cr_expect_str_eq(in.service, "collection");
	cr_expect_eq(in.fees, 0);
	cr_expect(strstr(in.debtor_json, "\"national_id\":\"*******2377\"") != NULL, "%s", in.debtor_json);
	cr_expect(strstr(in.debtor_json, "01010112377") == NULL, "clear id leaked: %s", in.debtor_json);
	cr_expect(strstr(in.debtor_json, "\"phone\":\"+4791234567\"") != NULL, "%s", in.debtor_json);
	cr_expect(strstr(in.debtor_json, "\"language\":\"nb\"") != NULL, "%s", in.debtor_json);
	cr_expect(strstr(in.debtor_json, "\"country\":\"NO\"}") != NULL, "%s", in.debtor_json);
	cr_expect(strstr(in.invoice_json, "\"fees\":0") != NULL, "%s", in.invoice_json);
	cr_expect(strstr(in.invoice_json, "{\"sent_on\":\"2026-01-30\",\"fee\":0}") != NULL, "%s", in.invoice_json);
	cr_expect(strstr(in.invoice_json, "\"disputed\":false}") != NULL, "%s", in.invoice_json);
	case_input_free(&in);

	valid(&s,
	      EDITS({"/service", "\"pre_collection\""}, {"/invoice/reminders", NULL},
		    {"/debtor/address/country", "\"SE\""}, {"/debtor/address/postal_code", "\"123 45\""},
		    {"/debtor/customer_type", "\"business\""}, {"/debtor/business_name", "\"Nordmann AB\""},
		    {"/debtor/org_number", "\"556012-5790\""}, {"/debtor/phone", "\"+46 (0)70-123 45 67\""},
		    {"/debtor/name", NULL}, {"/debtor/email", "\"  \""}),
	      &in);
	cr_expect_str_eq(in.debtor_type, "business");
	cr_expect_str_eq(in.service, "pre_collection");
	cr_expect_str_eq(in.org_number, "5560125790");
	cr_expect_str_eq(in.business_name, "Nordmann AB");
	cr_expect_str_eq(in.debtor_name, "");
	cr_expect_str_eq(in.phone, "+46701234567");
	cr_expect_str_eq(in.earliest_send_date, "2026-01-29"); /* no reminder rule outside collection */
	cr_expect(strstr(in.invoice_json, "\"reminders\":[]") != NULL, "%s", in.invoice_json);
	cr_expect(strstr(in.debtor_json, "\"postal_code\":\"12345\"") != NULL, "%s", in.debtor_json);
	cr_expect(strstr(in.debtor_json, "\"org_number\":\"5560125790\"") != NULL, "%s", in.debtor_json);
	cr_expect(strstr(in.debtor_json, "\"name\":null") != NULL, "%s", in.debtor_json);
	cr_expect(strstr(in.debtor_json, "\"email\":null") != NULL, "%s", in.debtor_json);
	case_input_free(&in);

	/* Text is escaped into valid JSON whatever it holds. */
	valid(&s, EDITS({"/debtor/name", "\"Kari \\\"K\\\" N\\u00f8rdmann\\n\""}), &in);
	json_object *deb = json_tokener_parse(in.debtor_json);
	cr_assert_not_null(deb, "%s", in.debtor_json);
	json_object *name = NULL;
	cr_assert(json_object_object_get_ex(deb, "name", &name));
	cr_expect_str_eq(json_object_get_string(name), "Kari \"K\" N\xc3\xb8rdmann\n");
	json_object_put(deb);
	case_input_free(&in);
}

Test(validate, refuses_a_body_that_is_not_an_object)
{
	struct agency_settings s = settings_default();
	json_object *arr = json_object_new_array();
	struct case_input in = {0};
	struct field_errors errs = {0};
	cr_expect_not(case_validate(arr, &s, TODAY, &in, &errs));
	cr_expect_eq(errs.n, 1);
	cr_expect_null(in.invoice_json);
	field_errors_free(&errs);
	json_object_put(arr);
}

Test(validate, mask_national_id)
{
	static const struct {
		const char *id, *want;
	} rows[] = {
		{"01010112377", "*******2377"},
		{"811218-9876", "*******9876"},
		{"12345", "*2345"},
		{"1234", "****"}, /* four or fewer: the whole id would show */
		{"12", "**"},
		{"", ""},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char out[33];
		mask_national_id(rows[i].id, out, sizeof out);
		cr_expect_str_eq(out, rows[i].want, "%s", rows[i].id);
	}
	char small[6];
	mask_national_id("01010112377", small, sizeof small);
	cr_expect_str_eq(small, "*2377"); /* truncated, still ends with the last four */
	char out[4] = "x";
	mask_national_id(NULL, out, sizeof out);
	cr_expect_str_eq(out, "");
}
