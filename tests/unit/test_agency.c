/* SPDX-License-Identifier: MIT */
/* Unit tests of the agency client library: the mapping of a case to the
 * agency's bodies, the strict parsers of its answers (valid and hostile
 * tables), Retry-After, the base URL policy and the outcome classification,
 * and the client itself against a tiny scripted HTTP server on loopback
 * (fresh connections for POSTs, unknown outcomes, size cap, timeouts). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agency/client.h"
#include "agency/mapping.h"
#include "agency/parse.h"
#include "lib/log.h"

/* ---------- mapping ---------- */

#define INVOICE_FMT                                                                                        \
	"{\"number\":\"202600145\",\"issued_on\":\"2026-01-01\",\"due_on\":\"2026-01-15\",\"currency\":\"%s\"," \
	"\"original_amount\":%lld,\"outstanding_amount\":%lld,\"fees\":%lld,"                                  \
	"\"description\":\"Subscription January 2026\",\"payment_reference\":\"RF71234567890123456789\","      \
	"\"reminders\":[{\"sent_on\":\"2026-01-30\",\"fee\":3500}],\"disputed\":false}"

static const char consumer_json[] =
	"{\"customer_number\":\"551\",\"customer_type\":\"consumer\",\"name\":\"Kari Nordmann\","
	"\"business_name\":null,\"org_number\":null,\"national_id\":\"*******2345\",\"date_of_birth\":\"1985-04-12\","
	"\"email\":\"kari@example.no\",\"phone\":\"+4791234567\",\"extra_fields\":[],\"language\":\"nb\","
	"\"address\":{\"line1\":\"Storgata 1\",\"line2\":null,\"postal_code\":\"0155\",\"city\":\"Oslo\","
	"\"country\":\"NO\"}}";

static const char business_json[] =
	"{\"customer_number\":\"77\",\"customer_type\":\"business\",\"name\":\"Ola Contact\","
	"\"business_name\":\"Nordmann AS\",\"org_number\":\"923609016\",\"national_id\":null,"
	"\"date_of_birth\":\"1970-01-01\",\"email\":\"post@nordmann.no\",\"phone\":null,\"extra_fields\":[],"
	"\"language\":null,\"address\":{\"line1\":\"Kaigata 2\",\"line2\":\"3. etg\",\"postal_code\":\"5015\","
	"\"city\":\"Bergen\",\"country\":\"SE\"}}";

struct test_case {
	char invoice[1024];
	struct case_row row;
	struct agency_settings settings;
};

static void test_case_init(struct test_case *t, const char *currency, long long total, long long outstanding,
			   long long fees, const char *debtor, const char *debtor_type)
{
	memset(t, 0, sizeof *t);
	snprintf(t->invoice, sizeof t->invoice, INVOICE_FMT, currency, total, outstanding, fees);
	t->row.id = "cc_01JD8ZK5V3Q4N7M2X9R6T1W0YB";
	t->row.status = "pending";
	t->row.service = "collection";
	t->row.debtor_type = debtor_type;
	t->row.your_reference = "cus_551";
	t->row.invoice_number = "202600145";
	t->row.invoice_json = t->invoice;
	t->row.debtor_json = debtor;
	t->row.currency = currency;
	snprintf(t->settings.creditor_reference, sizeof t->settings.creditor_reference, "CR-1001");
	snprintf(t->settings.service, sizeof t->settings.service, "collection");
	t->settings.enabled = true;
}

/* Follows a dotted path of object members ("invoice.header.number"). */
static json_object *at(json_object *root, const char *path)
{
	char key[64];
	json_object *o = root;
	while (o && *path) {
		size_t n = strcspn(path, ".");
		cr_assert_lt(n, sizeof key);
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		path += n + (path[n] == '.');
	}
	return o;
}

static const char *str_at(json_object *root, const char *path)
{
	json_object *v = at(root, path);
	cr_assert(json_object_is_type(v, json_type_string), "%s is not a string", path);
	return json_object_get_string(v);
}

/* The number's text as written (json-c keeps a double's source text). */
static const char *num_at(json_object *root, const char *path)
{
	json_object *v = at(root, path);
	cr_assert(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int),
		  "%s is not a JSON number", path);
	return json_object_get_string(v);
}

static bool null_at(json_object *root, const char *path)
{
	json_object *v = (json_object *)1;
	char parent[128];
	const char *dot = strrchr(path, '.');
	cr_assert_not_null(dot);
	snprintf(parent, sizeof parent, "%.*s", (int)(dot - path), path);
	json_object *p = at(root, parent);
	return p && json_object_object_get_ex(p, dot + 1, &v) && v == NULL;
}

static json_object *map_ok(struct test_case *t, const char *national_id)
{
	char err[200] = "";
	char *body = agency_invoice_body(&t->row, national_id, &t->settings, err, sizeof err);
	cr_assert_not_null(body, "mapping failed: %s", err);
	json_object *root = json_tokener_parse(body);
	free(body);
	cr_assert_not_null(root, "the body is not JSON");
	return root;
}

Test(mapping, design_example_consumer_nok)
{
	struct test_case t;
	test_case_init(&t, "NOK", 124900, 124900, 3500, consumer_json, "consumer");
	json_object *r = map_ok(&t, "01018512345");
	cr_expect_str_eq(str_at(r, "invoice.header.number"), "202600145");
	cr_expect_str_eq(str_at(r, "invoice.header.type"), "COLLECTION");
	cr_expect_str_eq(str_at(r, "invoice.header.date"), "2026-01-01");
	cr_expect_str_eq(str_at(r, "invoice.header.dueDate"), "2026-01-15");
	cr_expect_str_eq(str_at(r, "invoice.header.description"), "Subscription January 2026");
	cr_expect_str_eq(str_at(r, "invoice.header.currencyCode"), "NOK");
	cr_expect_str_eq(str_at(r, "invoice.header.languageCode"), "NB");
	cr_expect_str_eq(str_at(r, "invoice.header.service"), "COLLECTION");
	cr_expect_str_eq(str_at(r, "invoice.references.buyer"), "551");
	cr_expect_str_eq(str_at(r, "invoice.references.payment"), "RF71234567890123456789");
	cr_expect_str_eq(str_at(r, "invoice.references.sales"), "cus_551");
	cr_expect_str_eq(str_at(r, "invoice.parties.sellerParty.name"), "CR-1001");
	cr_expect_str_eq(str_at(r, "invoice.parties.sellerParty.businessId"), "CR-1001");
	cr_expect_str_eq(str_at(r, "invoice.parties.buyerParty.entityType"), "PERSON");
	cr_expect_str_eq(str_at(r, "invoice.parties.buyerParty.name"), "Kari Nordmann");
	cr_expect_str_eq(str_at(r, "invoice.parties.buyerParty.customerAccountId"), "551");
	cr_expect_str_eq(str_at(r, "invoice.parties.buyerParty.personalIdentityNumber"), "01018512345");
	cr_expect(null_at(r, "invoice.parties.buyerParty.businessId"));
	cr_expect_str_eq(str_at(r, "invoice.parties.buyerParty.dateOfBirth"), "1985-04-12");
	cr_expect_str_eq(str_at(r, "invoice.parties.buyerParty.address.street"), "Storgata 1");
	cr_expect(null_at(r, "invoice.parties.buyerParty.address.street2"));
	cr_expect_str_eq(str_at(r, "invoice.parties.buyerParty.address.postalCode"), "0155");
	cr_expect_str_eq(str_at(r, "invoice.parties.buyerParty.address.postalDistrict"), "Oslo");
	cr_expect_str_eq(str_at(r, "invoice.parties.buyerParty.address.countryCode"), "NO");
	cr_expect_str_eq(str_at(r, "invoice.parties.buyerParty.contact.email"), "kari@example.no");
	cr_expect_str_eq(str_at(r, "invoice.parties.buyerParty.contact.phone"), "+4791234567");
	cr_expect_str_eq(num_at(r, "invoice.amounts.totalAmount"), "1249.00");
	cr_expect_str_eq(num_at(r, "invoice.amounts.outstandingAmount"), "1249.00");
	cr_expect_str_eq(num_at(r, "invoice.collectionCosts.creditorCostsAmount"), "35.00");
	cr_expect_str_eq(num_at(r, "invoice.collectionCosts.collectionFeesAmount"), "0.00");
	json_object *rems = at(r, "invoice.reminders");
	cr_assert(json_object_is_type(rems, json_type_array));
	cr_assert_eq(json_object_array_length(rems), 1);
	cr_expect_str_eq(json_object_get_string(at(json_object_array_get_idx(rems, 0), "date")), "2026-01-30");
	json_object_put(r);
}

Test(mapping, currencies_without_and_with_three_minor_digits)
{
	struct test_case t;
	test_case_init(&t, "JPY", 5000, 4000, 0, consumer_json, "consumer");
	json_object *r = map_ok(&t, NULL);
	cr_expect_str_eq(num_at(r, "invoice.amounts.totalAmount"), "5000");
	cr_expect_str_eq(num_at(r, "invoice.amounts.outstandingAmount"), "4000");
	cr_expect_str_eq(num_at(r, "invoice.collectionCosts.collectionFeesAmount"), "0");
	cr_expect(null_at(r, "invoice.parties.buyerParty.personalIdentityNumber"));
	json_object_put(r);

	test_case_init(&t, "KWD", 1234, 1234, 5, consumer_json, "consumer");
	r = map_ok(&t, "");
	cr_expect_str_eq(num_at(r, "invoice.amounts.totalAmount"), "1.234");
	cr_expect_str_eq(num_at(r, "invoice.collectionCosts.creditorCostsAmount"), "0.005");
	cr_expect(null_at(r, "invoice.parties.buyerParty.personalIdentityNumber"));
	json_object_put(r);
}

Test(mapping, business_is_a_company_without_personal_data)
{
	struct test_case t;
	test_case_init(&t, "SEK", 100, 100, 0, business_json, "business");
	t.row.your_reference = NULL;
	t.row.service = "pre_collection";
	json_object *r = map_ok(&t, "19850412-1234"); /* must not go out on a company */
	cr_expect_str_eq(str_at(r, "invoice.parties.buyerParty.entityType"), "COMPANY");
	cr_expect_str_eq(str_at(r, "invoice.parties.buyerParty.name"), "Nordmann AS");
	cr_expect_str_eq(str_at(r, "invoice.parties.buyerParty.businessId"), "923609016");
	cr_expect(null_at(r, "invoice.parties.buyerParty.personalIdentityNumber"));
	cr_expect(null_at(r, "invoice.parties.buyerParty.dateOfBirth"));
	cr_expect(null_at(r, "invoice.parties.buyerParty.contact.phone"));
	cr_expect(null_at(r, "invoice.references.sales"));
	cr_expect_str_eq(str_at(r, "invoice.parties.buyerParty.address.street2"), "3. etg");
	cr_expect_str_eq(str_at(r, "invoice.header.languageCode"), "SV"); /* from the country */
	cr_expect_str_eq(str_at(r, "invoice.header.service"), "PRECOLLECTION");
	cr_expect_str_eq(num_at(r, "invoice.amounts.totalAmount"), "1.00");
	json_object_put(r);
}

Test(mapping, language_defaults_and_services)
{
	static const struct {
		const char *country, *language, *expect;
	} langs[] = {{"NO", NULL, "NB"}, {"SE", NULL, "SV"}, {"FI", NULL, "FI"}, {"DK", NULL, "DA"},
		     {"DE", NULL, "EN"}, {"NO", "sv", "SV"}, {"FI", "EN", "EN"}};
	static const struct {
		const char *ours, *theirs;
	} services[] = {{"pre_collection", "PRECOLLECTION"},
			{"collection", "COLLECTION"},
			{"international", "INTERNATIONAL"},
			{"surveillance", "SURVEILLANCE"}};
	for (size_t i = 0; i < sizeof langs / sizeof langs[0]; i++) {
		char debtor[600];
		snprintf(debtor, sizeof debtor,
			 "{\"customer_number\":\"1\",\"name\":\"A B\",\"language\":%s%s%s,"
			 "\"address\":{\"line1\":\"x\",\"postal_code\":\"1\",\"city\":\"c\",\"country\":\"%s\"}}",
			 langs[i].language ? "\"" : "", langs[i].language ? langs[i].language : "null",
			 langs[i].language ? "\"" : "", langs[i].country);
		struct test_case t;
		test_case_init(&t, "EUR", 100, 100, 0, debtor, "consumer");
		t.row.service = services[i % 4].ours;
		json_object *r = map_ok(&t, NULL);
		cr_expect_str_eq(str_at(r, "invoice.header.languageCode"), langs[i].expect, "case %zu", i);
		cr_expect_str_eq(str_at(r, "invoice.header.service"), services[i % 4].theirs, "case %zu", i);
		json_object_put(r);
	}
}

Test(mapping, refuses_what_the_agency_cannot_take)
{
	struct test_case t;
	char err[200];
	const char *secret = "01018512345";

	test_case_init(&t, "NOK", 100, 100, 0, consumer_json, "consumer");
	t.row.service = "express";
	cr_expect_null(agency_invoice_body(&t.row, secret, &t.settings, err, sizeof err));
	cr_expect(strstr(err, "service") != NULL, "%s", err);

	test_case_init(&t, "NOK", 100, 100, 0, consumer_json, "consumer");
	t.settings.creditor_reference[0] = '\0';
	cr_expect_null(agency_invoice_body(&t.row, secret, &t.settings, err, sizeof err));
	cr_expect(strstr(err, "creditor_reference") != NULL, "%s", err);

	test_case_init(&t, "XXX", 100, 100, 0, consumer_json, "consumer");
	cr_expect_null(agency_invoice_body(&t.row, secret, &t.settings, err, sizeof err));

	test_case_init(&t, "NOK", 100, 100, 0, consumer_json, "robot");
	cr_expect_null(agency_invoice_body(&t.row, secret, &t.settings, err, sizeof err));

	test_case_init(&t, "NOK", -5, 100, 0, consumer_json, "consumer");
	cr_expect_null(agency_invoice_body(&t.row, secret, &t.settings, err, sizeof err));
	cr_expect(strstr(err, secret) == NULL);

	test_case_init(&t, "NOK", 100, 100, 0, "[1,2]", "consumer");
	cr_expect_null(agency_invoice_body(&t.row, secret, &t.settings, err, sizeof err));

	test_case_init(&t, "NOK", 100, 100, 0, "{not json", "consumer");
	cr_expect_null(agency_invoice_body(&t.row, secret, &t.settings, err, sizeof err));

	/* A business without its org number. */
	test_case_init(&t, "NOK", 100, 100, 0, consumer_json, "business");
	cr_expect_null(agency_invoice_body(&t.row, secret, &t.settings, err, sizeof err));
	cr_expect(strstr(err, secret) == NULL);

	/* Amounts stored as text or fractions never go out. */
	test_case_init(&t, "NOK", 100, 100, 0, consumer_json, "consumer");
	snprintf(t.invoice, sizeof t.invoice,
		 "{\"issued_on\":\"2026-01-01\",\"due_on\":\"2026-01-15\",\"original_amount\":\"100\","
		 "\"outstanding_amount\":100}");
	cr_expect_null(agency_invoice_body(&t.row, secret, &t.settings, err, sizeof err));
	snprintf(t.invoice, sizeof t.invoice,
		 "{\"issued_on\":\"2026-01-01\",\"due_on\":\"2026-01-15\",\"original_amount\":1.5,"
		 "\"outstanding_amount\":100}");
	cr_expect_null(agency_invoice_body(&t.row, secret, &t.settings, err, sizeof err));
	snprintf(t.invoice, sizeof t.invoice, "{\"issued_on\":\"2026-02-30\",\"due_on\":\"2026-01-15\"}");
	cr_expect_null(agency_invoice_body(&t.row, secret, &t.settings, err, sizeof err));
}

Test(mapping, action_bodies)
{
	char *b = agency_action_body("COMMENT", "Called \"the debtor\"", "202600145", "481920", NULL);
	cr_assert_not_null(b);
	json_object *r = json_tokener_parse(b);
	free(b);
	json_object *a = json_object_array_get_idx(at(r, "actions"), 0);
	cr_expect_str_eq(str_at(a, "code"), "COMMENT");
	cr_expect_str_eq(str_at(a, "comment"), "Called \"the debtor\"");
	cr_expect_str_eq(str_at(a, "data.invoiceNumber"), "202600145");
	cr_expect_str_eq(str_at(a, "data.caseId"), "481920");
	json_object_put(r);

	/* Before the agency assigned a case id, caseId is left out. */
	b = agency_action_body("WITHDRAW", NULL, "202600145", NULL, NULL);
	cr_assert_not_null(b);
	r = json_tokener_parse(b);
	free(b);
	a = json_object_array_get_idx(at(r, "actions"), 0);
	cr_expect_str_eq(str_at(a, "comment"), "");
	cr_expect_null(at(a, "data.caseId"));
	json_object_put(r);

	struct agency_payment_data p = {.amount = 1234,
					.currency = "KWD",
					.payment_date = "2026-02-09",
					.reference = "BANKREF-88921",
					.method = "CREDIT_NOTE"};
	b = agency_action_body("DIRECTPAYMENT", "", "202600145", "481920", &p);
	cr_assert_not_null(b);
	r = json_tokener_parse(b);
	free(b);
	a = json_object_array_get_idx(at(r, "actions"), 0);
	cr_expect_str_eq(num_at(a, "data.amount"), "1.234");
	cr_expect_str_eq(str_at(a, "data.currency"), "KWD");
	cr_expect_str_eq(str_at(a, "data.paymentDate"), "2026-02-09");
	cr_expect_str_eq(str_at(a, "data.reference"), "BANKREF-88921");
	cr_expect_str_eq(str_at(a, "data.paymentMethod"), "CREDIT_NOTE");
	json_object_put(r);

	struct agency_payment_data bad = p;
	cr_expect_null(agency_action_body("DIRECTPAYMENT", NULL, "1", NULL, NULL)); /* payment missing */
	cr_expect_null(agency_action_body("COMMENT", NULL, "1", NULL, &p));         /* payment on a comment */
	cr_expect_null(agency_action_body("DELETE", NULL, "1", NULL, NULL));
	cr_expect_null(agency_action_body("COMMENT", NULL, "", NULL, NULL));
	cr_expect_null(agency_action_body(NULL, NULL, "1", NULL, NULL));
	bad.amount = 0;
	cr_expect_null(agency_action_body("DIRECTPAYMENT", NULL, "1", NULL, &bad));
	bad = p;
	bad.method = "CASH";
	cr_expect_null(agency_action_body("DIRECTPAYMENT", NULL, "1", NULL, &bad));
	bad = p;
	bad.payment_date = "2026-13-01";
	cr_expect_null(agency_action_body("DIRECTPAYMENT", NULL, "1", NULL, &bad));
	bad = p;
	bad.currency = "kwd";
	cr_expect_null(agency_action_body("DIRECTPAYMENT", NULL, "1", NULL, &bad));
}

/* ---------- amounts and Retry-After ---------- */

Test(parse, amounts_exact_in_minor_units)
{
	static const struct {
		const char *text;
		int digits;
		bool negative_ok;
		bool ok;
		int64_t minor;
	} rows[] = {
		{"1249.00", 2, false, true, 124900},
		{"1249", 2, false, true, 124900},
		{"1249.5", 2, false, true, 124950},
		{"0.01", 2, false, true, 1},
		{"0", 2, false, true, 0},
		{"5000", 0, false, true, 5000},
		{"1.234", 3, false, true, 1234},
		{"1249.000", 2, false, true, 124900},       /* zeros beyond the digits: exact */
		{"100000000000.00", 2, false, true, 10000000000000},
		{"-0.50", 2, true, true, -50},
		{"-0.50", 2, false, false, 0},
		{"12.345", 2, false, false, 0},
		{"5000.5", 0, false, false, 0},
		{"-0.001", 2, true, false, 0},
		{"1e5", 2, false, false, 0},
		{"1E5", 2, false, false, 0},
		{"1.5e2", 2, false, false, 0},
		{"NaN", 2, false, false, 0},
		{"Infinity", 2, false, false, 0},
		{"1.", 2, false, false, 0},
		{".5", 2, false, false, 0},
		{"01", 2, false, false, 0},
		{"+1", 2, false, false, 0},
		{"", 2, false, false, 0},
		{"-", 2, true, false, 0},
		{"1 ", 2, false, false, 0},
		{"100000000000.01", 2, false, false, 0},    /* above MONEY_MAX */
		{"18446744073709551615", 2, false, false, 0},
		{"99999999999999999999999999999", 0, false, false, 0},
		{"0.0000000000000000000001", 2, false, false, 0},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int64_t v = -7;
		bool ok = agency_amount_parse(rows[i].text, rows[i].digits, rows[i].negative_ok, &v);
		cr_expect_eq(ok, rows[i].ok, "\"%s\" digits %d: %d", rows[i].text, rows[i].digits, ok);
		if (ok && rows[i].ok)
			cr_expect_eq(v, rows[i].minor, "\"%s\": %lld", rows[i].text, (long long)v);
	}
	int64_t v;
	cr_expect_not(agency_amount_parse(NULL, 2, false, &v));
}

Test(parse, retry_after_seconds_and_dates)
{
	time_t now = 1771581600; /* 2026-02-20T10:00:00Z */
	cr_expect_eq(agency_retry_after("120", now), 120);
	cr_expect_eq(agency_retry_after(" 5 ", now), 5);
	cr_expect_eq(agency_retry_after("0", now), 0);
	cr_expect_eq(agency_retry_after("3601", now), AGENCY_RETRY_AFTER_MAX);
	cr_expect_eq(agency_retry_after("99999999999999999999999", now), AGENCY_RETRY_AFTER_MAX);
	cr_expect_eq(agency_retry_after("Fri, 20 Feb 2026 10:01:30 GMT", now), 90);
	cr_expect_eq(agency_retry_after("Friday, 20-Feb-26 10:00:10 GMT", now), 10);
	cr_expect_eq(agency_retry_after("Fri Feb 20 10:00:20 2026", now), 20);
	cr_expect_eq(agency_retry_after("Thu, 19 Feb 2026 10:00:00 GMT", now), 0);
	cr_expect_eq(agency_retry_after("Sat, 20 Feb 2027 10:00:00 GMT", now), AGENCY_RETRY_AFTER_MAX);
	cr_expect_eq(agency_retry_after(NULL, now), -1);
	cr_expect_eq(agency_retry_after("", now), -1);
	cr_expect_eq(agency_retry_after("-1", now), -1);
	cr_expect_eq(agency_retry_after("1.5", now), -1);
	cr_expect_eq(agency_retry_after("12a", now), -1);
	cr_expect_eq(agency_retry_after("soon", now), -1);
	cr_expect_eq(agency_retry_after("+30", now), -1);
}

/* ---------- answers ---------- */

static const char case_answer[] =
	"{\"case\":{\"summary\":{\"caseId\":\"481920\",\"status\":\"ACTIVE\",\"stage\":\"COLLECTION\","
	"\"createdAt\":\"2026-02-20T10:00:01.123Z\",\"closedAt\":null,\"invoiceNumber\":\"202600145\","
	"\"currency\":\"NOK\"},\"balance\":{\"capitalAmount\":1249.00,\"interestAmount\":12.5,"
	"\"costsAmount\":35,\"paidAmount\":250.00,\"remainingAmount\":1046.50},\"events\":["
	"{\"eventId\":\"ev1\",\"date\":\"2026-02-20T10:00:01Z\",\"type\":\"CASE_CREATED\",\"description\":\"Case "
	"created\"},{\"eventId\":2,\"date\":\"2026-02-21\",\"type\":\"REMINDER_SENT\",\"description\":\"line\\nbreak\"}]}}";

struct collected {
	size_t n;
	char ids[8][AGENCY_ID_MAX + 1];
	int64_t amounts[8];
	size_t allocs[8];
	int stop_after;
};

static int collect_event(void *ctx, const struct agency_event *e)
{
	struct collected *c = ctx;
	if (c->n < 8)
		snprintf(c->ids[c->n], sizeof c->ids[0], "%s", e->event_id);
	c->n++;
	return c->stop_after && (int)c->n >= c->stop_after;
}

Test(parse, case_details)
{
	struct agency_case ac;
	struct collected got = {0};
	char err[200] = "";
	cr_assert(agency_parse_case(case_answer, strlen(case_answer), "NOK", &ac, collect_event, &got, err, sizeof err),
		  "%s", err);
	cr_expect_str_eq(ac.case_id, "481920");
	cr_expect_str_eq(ac.status, "ACTIVE");
	cr_expect_str_eq(ac.stage, "COLLECTION");
	cr_expect_str_eq(ac.created_at, "2026-02-20T10:00:01.123Z");
	cr_expect_str_eq(ac.closed_at, "");
	cr_expect_eq(ac.capital, 124900);
	cr_expect_eq(ac.interest, 1250);
	cr_expect_eq(ac.costs, 3500);
	cr_expect_eq(ac.paid, 25000);
	cr_expect_eq(ac.remaining, 104650);
	cr_expect_eq(got.n, 2);
	cr_expect_str_eq(got.ids[0], "ev1");
	cr_expect_str_eq(got.ids[1], "2"); /* numeric id as digits */

	/* Another currency's digits would misread every amount. */
	cr_expect_not(agency_parse_case(case_answer, strlen(case_answer), "KWD", &ac, NULL, NULL, err, sizeof err));
	cr_expect(strstr(err, "currency") != NULL, "%s", err);
	cr_expect_not(agency_parse_case(case_answer, strlen(case_answer), "ZZZ", &ac, NULL, NULL, err, sizeof err));

	/* A callback may stop the delivery. */
	struct collected one = {.stop_after = 1};
	cr_expect(agency_parse_case(case_answer, strlen(case_answer), "NOK", &ac, collect_event, &one, err, sizeof err));
	cr_expect_eq(one.n, 1);
}

Test(parse, small_answers)
{
	char err[200] = "";
	struct agency_validation v;
	const char *ok_v = "{\"isValid\": true, \"message\": \"\"}";
	cr_expect(agency_parse_validate(ok_v, strlen(ok_v), &v, err, sizeof err));
	cr_expect(v.is_valid);
	const char *no_v = "{\"isValid\":false,\"message\":\"invalid api key\\u0007\"}";
	cr_expect(agency_parse_validate(no_v, strlen(no_v), &v, err, sizeof err));
	cr_expect_not(v.is_valid);
	cr_expect_str_eq(v.message, "invalid api key "); /* control character cleaned */
	/* Quotes inside strings are text, not json-c's single-quoted keys. */
	const char *quotes = "{\"x\\\"'\":1,\"isValid\":true,\"message\":\"it's \\\\\"}";
	cr_expect(agency_parse_validate(quotes, strlen(quotes), &v, err, sizeof err), "%s", err);
	cr_expect_str_eq(v.message, "it's \\");
	const char *null_msg = "{\"isValid\":true,\"message\":null}";
	cr_expect(agency_parse_validate(null_msg, strlen(null_msg), &v, err, sizeof err));

	struct agency_created c;
	const char *ok_c = "{\"invoiceNumber\":\"202600145\",\"status\":\"RECEIVED\"}\r\n";
	cr_expect(agency_parse_create(ok_c, strlen(ok_c), &c, err, sizeof err), "%s", err);
	cr_expect_str_eq(c.invoice_number, "202600145");
	cr_expect_str_eq(c.status, "RECEIVED");

	struct agency_distribution d;
	const char *d1 = "{\"invoiceNumber\":\"202600145\",\"status\":\"RECEIVED\",\"caseId\":null}";
	cr_expect(agency_parse_distribution(d1, strlen(d1), &d, err, sizeof err), "%s", err);
	cr_expect_str_eq(d.case_id, "");
	const char *d2 = "{\"invoiceNumber\":\"202600145\",\"status\":\"REGISTERED\",\"caseId\":\"481920\"}";
	cr_expect(agency_parse_distribution(d2, strlen(d2), &d, err, sizeof err));
	cr_expect_str_eq(d.case_id, "481920");
	const char *d3 = "{\"invoiceNumber\":\"202600145\",\"status\":\"SOMETHING_NEW\",\"caseId\":481920}";
	cr_expect(agency_parse_distribution(d3, strlen(d3), &d, err, sizeof err));
	cr_expect_str_eq(d.case_id, "481920");
	cr_expect_str_eq(d.status, "SOMETHING_NEW"); /* unknown statuses pass through */
	const char *d4 = "{\"invoiceNumber\":\"202600145\",\"status\":\"RECEIVED\"}";
	cr_expect(agency_parse_distribution(d4, strlen(d4), &d, err, sizeof err));

	struct agency_action_answer a;
	const char *ok_a = "{\"actions\":[{\"status\":\"PENDING\"},{\"status\":\"DONE\"}]}";
	cr_expect(agency_parse_action(ok_a, strlen(ok_a), &a, err, sizeof err));
	cr_expect_str_eq(a.status, "PENDING");

	char msg[64];
	const char *m1 = "{\"message\":\"invoice already received\"}";
	cr_expect(agency_parse_message(m1, strlen(m1), msg, sizeof msg));
	cr_expect_str_eq(msg, "invoice already received");
	const char *m2 = "<html>502 Bad Gateway</html>";
	cr_expect_not(agency_parse_message(m2, strlen(m2), msg, sizeof msg));
	cr_expect_str_eq(msg, "");
	const char *m3 = "{\"message\":\"\\u00e6\\u00f8\\u00e5 \\r\\n 0123456789012345678901234567890123456789"
			 "0123456789012345678901234567890123456789\"}";
	cr_expect(agency_parse_message(m3, strlen(m3), msg, sizeof msg));
	cr_expect_eq(strlen(msg), sizeof msg - 1);
	cr_expect(strncmp(msg, "\xc3\xa6\xc3\xb8\xc3\xa5    0123", 14) == 0, "%s", msg);
	char tiny[3]; /* "æ" is 2 bytes; "ø" must not be cut in half */
	cr_expect(agency_parse_message(m3, strlen(m3), tiny, sizeof tiny));
	cr_expect_str_eq(tiny, "\xc3\xa6");
}

static const char payments_answer[] =
	"[{\"paymentId\":\"p1\",\"caseId\":\"481920\",\"invoiceNumber\":\"202600145\",\"paymentDate\":\"2026-02-09\","
	"\"amount\":250.00,\"currency\":\"NOK\",\"extra\":{\"ignored\":[1,2]}},"
	"{\"paymentId\":\"p2\",\"caseId\":481921,\"invoiceNumber\":\"7\",\"paymentDate\":\"2026-02-10\","
	"\"amount\":5000,\"currency\":\"JPY\"},"
	"{\"paymentId\":\"p3\",\"caseId\":\"9\",\"invoiceNumber\":\"8\",\"paymentDate\":\"2026-02-11\","
	"\"amount\":0.001,\"currency\":\"KWD\"}]";

static int collect_payment(void *ctx, const struct agency_payment_report *p)
{
	struct collected *c = ctx;
	if (c->n < 8) {
		snprintf(c->ids[c->n], sizeof c->ids[0], "%s", p->case_id);
		c->amounts[c->n] = p->amount;
	}
	c->n++;
	return 0;
}

Test(parse, payments)
{
	struct collected got = {0};
	size_t n = 0;
	char err[200] = "";
	cr_assert(agency_parse_payments(payments_answer, strlen(payments_answer), collect_payment, &got, &n, err,
					sizeof err),
		  "%s", err);
	cr_expect_eq(n, 3);
	cr_expect_eq(got.n, 3);
	cr_expect_eq(got.amounts[0], 25000);
	cr_expect_eq(got.amounts[1], 5000);
	cr_expect_eq(got.amounts[2], 1);
	cr_expect_str_eq(got.ids[1], "481921");
	cr_expect(agency_parse_payments("[]", 2, collect_payment, &got, &n, err, sizeof err));
	cr_expect_eq(n, 0);

	/* All or nothing: a bad third payment withholds the first two. */
	const char *partly =
		"[{\"paymentId\":\"p1\",\"caseId\":\"1\",\"invoiceNumber\":\"1\",\"paymentDate\":\"2026-02-09\","
		"\"amount\":1,\"currency\":\"NOK\"},{\"paymentId\":\"p2\",\"caseId\":\"1\",\"invoiceNumber\":\"1\","
		"\"paymentDate\":\"2026-02-09\",\"amount\":1,\"currency\":\"NOK\"},{\"paymentId\":\"p3\",\"caseId\":\"1\","
		"\"invoiceNumber\":\"1\",\"paymentDate\":\"2026-02-09\",\"amount\":\"1\",\"currency\":\"NOK\"}]";
	struct collected none = {0};
	cr_expect_not(agency_parse_payments(partly, strlen(partly), collect_payment, &none, &n, err, sizeof err));
	cr_expect_eq(none.n, 0);
	cr_expect(strstr(err, "[2].amount") != NULL, "%s", err);
}

static const char settlements_answer[] =
	"{\"createdAt\":\"2026-02-20T10:00:00.000Z\",\"settlements\":["
	"{\"settlementId\":\"s1\",\"settlementDate\":\"2026-02-16\",\"agency\":\"Confirma Finance (simulator)\","
	"\"remittanceReference\":\"RR-1\",\"settlementAmount\":300.00,\"currency\":\"NOK\",\"allocations\":["
	"{\"allocationId\":\"a1\",\"caseId\":\"481920\",\"invoiceNumber\":\"202600145\","
	"\"allocatedTotalAmount\":250.00,\"allocationDate\":\"2026-02-09\"},"
	"{\"allocationId\":\"a2\",\"caseId\":\"481921\",\"invoiceNumber\":\"202600146\","
	"\"allocatedTotalAmount\":50,\"allocationDate\":\"2026-02-10\"}]},"
	"{\"settlementId\":\"s2\",\"settlementDate\":\"2026-02-23\",\"agency\":null,\"remittanceReference\":null,"
	"\"settlementAmount\":0,\"currency\":\"JPY\",\"allocations\":[]}]}";

static int collect_settlement(void *ctx, const struct agency_settlement_report *s)
{
	struct collected *c = ctx;
	if (c->n < 8) {
		snprintf(c->ids[c->n], sizeof c->ids[0], "%s", s->settlement_id);
		c->amounts[c->n] = s->amount;
		c->allocs[c->n] = s->n_allocations;
		if (s->n_allocations == 2) {
			cr_expect_str_eq(s->allocations[0].case_id, "481920");
			cr_expect_eq(s->allocations[0].amount, 25000);
			cr_expect_eq(s->allocations[1].amount, 5000);
			cr_expect_str_eq(s->allocations[1].allocation_date, "2026-02-10");
		}
	}
	c->n++;
	return 0;
}

Test(parse, settlements)
{
	struct collected got = {0};
	size_t n = 0;
	char err[200] = "";
	cr_assert(agency_parse_settlements(settlements_answer, strlen(settlements_answer), collect_settlement, &got, &n,
					   err, sizeof err),
		  "%s", err);
	cr_expect_eq(n, 2);
	cr_expect_eq(got.n, 2);
	cr_expect_str_eq(got.ids[0], "s1");
	cr_expect_eq(got.amounts[0], 30000);
	cr_expect_eq(got.allocs[0], 2);
	cr_expect_eq(got.allocs[1], 0);
	const char *empty = "{\"createdAt\":\"2026-02-20T10:00:00Z\",\"settlements\":[]}";
	cr_expect(agency_parse_settlements(empty, strlen(empty), collect_settlement, &got, &n, err, sizeof err));
	cr_expect_eq(n, 0);
}

/* Hostile answers: each must be refused with a reason, without a crash. */
enum which { P_VALIDATE, P_CREATE, P_DIST, P_CASE, P_ACTION, P_PAYMENTS, P_SETTLEMENTS };

#define PAY(amount) \
	"[{\"paymentId\":\"p\",\"caseId\":\"1\",\"invoiceNumber\":\"1\",\"paymentDate\":\"2026-02-09\",\"amount\":" amount ",\"currency\":\"NOK\"}]"
#define PAYF(field_and_value) \
	"[{\"paymentId\":\"p\",\"caseId\":\"1\",\"invoiceNumber\":\"1\",\"amount\":1," field_and_value "}]"
#define BAL(paid)                                                                                            \
	"{\"case\":{\"summary\":{\"caseId\":\"1\",\"status\":\"ACTIVE\",\"stage\":null,\"createdAt\":null," \
	"\"closedAt\":null},\"balance\":{\"capitalAmount\":1,\"interestAmount\":0,\"costsAmount\":0,"       \
	"\"paidAmount\":" paid ",\"remainingAmount\":1},\"events\":[]}}"
#define SET(alloc_amount)                                                                                      \
	"{\"settlements\":[{\"settlementId\":\"s\",\"settlementDate\":\"2026-02-16\",\"settlementAmount\":1,"  \
	"\"currency\":\"NOK\",\"allocations\":[{\"allocationId\":\"a\",\"caseId\":\"1\",\"invoiceNumber\":\"1\"," \
	"\"allocatedTotalAmount\":" alloc_amount ",\"allocationDate\":\"2026-02-09\"}]}]}"

static const struct {
	enum which parser;
	const char *body;
	size_t len; /* 0: strlen */
} hostile[] = {
	{P_VALIDATE, "", 0},
	{P_VALIDATE, "not json", 0},
	{P_VALIDATE, "<html>Service Unavailable</html>", 0},
	{P_VALIDATE, "{\"isValid\":\"true\"}", 0},
	{P_VALIDATE, "{\"isValid\":1}", 0},
	{P_VALIDATE, "{\"message\":\"\"}", 0},
	{P_VALIDATE, "{\"isValid\":true,\"message\":5}", 0},
	{P_VALIDATE, "{\"isValid\":true} {\"isValid\":false}", 0},
	{P_VALIDATE, "{\"isValid\":true}x", 0},
	{P_VALIDATE, "{\"isValid\":true}\0", 17},
	{P_VALIDATE, "[true]", 0},
	{P_VALIDATE, "{\"isValid\":true,}", 0},
	{P_VALIDATE, "{'isValid':true}", 0},
	{P_CREATE, "{\"invoiceNumber\":\"1\"}", 0},
	{P_CREATE, "{\"invoiceNumber\":1,\"status\":\"RECEIVED\"}", 0},
	{P_CREATE, "{\"invoiceNumber\":\"\",\"status\":\"RECEIVED\"}", 0},
	{P_CREATE, "{\"invoiceNumber\":\"1\",\"status\":\"RECEIVED; DROP\"}", 0},
	{P_CREATE, "{\"invoiceNumber\":\"1\",\"status\":\"\"}", 0},
	{P_CREATE, "{\"invoiceNumber\":\"a\\u0000b\",\"status\":\"RECEIVED\"}", 0},
	{P_CREATE, "{\"invoiceNumber\":\"a\\nb\",\"status\":\"RECEIVED\"}", 0},
	{P_CREATE, "{\"invoiceNumber\":\"\xc0\xaf\",\"status\":\"RECEIVED\"}", 0},
	{P_CREATE, "{\"invoiceNumber\":\"\xed\xa0\x80\",\"status\":\"RECEIVED\"}", 0},
	{P_CREATE,
	 "{\"invoiceNumber\":\"0123456789012345678901234567890123456789012345678901234567890123456789\","
	 "\"status\":\"RECEIVED\"}",
	 0},
	{P_CREATE, "{\"invoiceNumber\":\"1\",\"status\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", 0},
	{P_DIST, "{\"invoiceNumber\":\"1\",\"status\":\"RECEIVED\",\"caseId\":true}", 0},
	{P_DIST, "{\"invoiceNumber\":\"1\",\"status\":\"RECEIVED\",\"caseId\":-4}", 0},
	{P_DIST, "{\"invoiceNumber\":\"1\",\"status\":\"RECEIVED\",\"caseId\":4.5}", 0},
	{P_DIST, "{\"invoiceNumber\":\"1\",\"status\":\"RECEIVED\",\"caseId\":99999999999999999999}", 0},
	{P_DIST, "{\"invoiceNumber\":\"1\",\"status\":\"RECEIVED\",\"caseId\":{}}", 0},
	{P_DIST, "{\"invoiceNumber\":\"1\",\"status\":null}", 0},
	{P_CASE, "{}", 0},
	{P_CASE, "{\"case\":[]}", 0},
	{P_CASE, BAL("\"12.00\""), 0},
	{P_CASE, BAL("1e5"), 0},
	{P_CASE, BAL("12.345"), 0},
	{P_CASE, BAL("-0.001"), 0},
	{P_CASE, BAL("-1"), 0},
	{P_CASE, BAL("99999999999999999999999999"), 0},
	{P_CASE, BAL("100000000000.01"), 0},
	{P_CASE, BAL("NaN"), 0},
	{P_CASE, BAL("true"), 0},
	{P_CASE, BAL("null"), 0},
	{P_CASE,
	 "{\"case\":{\"summary\":{\"caseId\":\"1\",\"status\":\"ACTIVE\",\"createdAt\":\"2026-02-30\"},"
	 "\"balance\":{},\"events\":[]}}",
	 0},
	{P_CASE,
	 "{\"case\":{\"summary\":{\"caseId\":\"1\",\"status\":\"ACTIVE\",\"createdAt\":\"2026-02-20T25:00:00Z\"},"
	 "\"balance\":{},\"events\":[]}}",
	 0},
	{P_CASE,
	 "{\"case\":{\"summary\":{\"caseId\":\"1\",\"status\":\"ACTIVE\"},\"balance\":{\"capitalAmount\":1,"
	 "\"interestAmount\":0,\"costsAmount\":0,\"paidAmount\":0,\"remainingAmount\":1},\"events\":{}}}",
	 0},
	{P_CASE,
	 "{\"case\":{\"summary\":{\"caseId\":\"1\",\"status\":\"ACTIVE\"},\"balance\":{\"capitalAmount\":1,"
	 "\"interestAmount\":0,\"costsAmount\":0,\"paidAmount\":0,\"remainingAmount\":1},\"events\":[{\"eventId\":"
	 "\"e\",\"date\":\"yesterday\",\"type\":\"X\"}]}}",
	 0},
	{P_CASE,
	 "{\"case\":{\"summary\":{\"caseId\":\"1\",\"status\":\"ACTIVE\"},\"balance\":{\"capitalAmount\":1,"
	 "\"interestAmount\":0,\"costsAmount\":0,\"paidAmount\":0,\"remainingAmount\":1},\"events\":[7]}}",
	 0},
	{P_ACTION, "{\"actions\":[]}", 0},
	{P_ACTION, "{\"actions\":[{}]}", 0},
	{P_ACTION, "{\"actions\":[{\"status\":1}]}", 0},
	{P_ACTION, "{\"actions\":\"PENDING\"}", 0},
	{P_PAYMENTS, "{}", 0},
	{P_PAYMENTS, "[1]", 0},
	{P_PAYMENTS, PAY("\"12.00\""), 0},
	{P_PAYMENTS, PAY("1e5"), 0},
	{P_PAYMENTS, PAY("12.345"), 0},
	{P_PAYMENTS, PAY("-0.001"), 0},
	{P_PAYMENTS, PAY("-5"), 0},
	{P_PAYMENTS, PAY("0"), 0},
	{P_PAYMENTS, PAY("0.00"), 0},
	{P_PAYMENTS, PAY("18446744073709551616"), 0},
	{P_PAYMENTS, PAY("1" "00000000000000000000000000000000000000000000000000000000000000000000000000000.5"), 0},
	{P_PAYMENTS, PAY("null"), 0},
	{P_PAYMENTS, PAY("[1]"), 0},
	{P_PAYMENTS, PAYF("\"paymentDate\":\"2026-02-30\",\"currency\":\"NOK\""), 0},
	{P_PAYMENTS, PAYF("\"paymentDate\":\"2026-2-3\",\"currency\":\"NOK\""), 0},
	{P_PAYMENTS, PAYF("\"paymentDate\":\"2026-02-09\",\"currency\":\"nok\""), 0},
	{P_PAYMENTS, PAYF("\"paymentDate\":\"2026-02-09\",\"currency\":\"XAU\""), 0},
	{P_PAYMENTS, PAYF("\"paymentDate\":\"2026-02-09\""), 0},
	{P_PAYMENTS, PAYF("\"currency\":\"NOK\""), 0},
	{P_PAYMENTS, "[{\"caseId\":\"1\",\"invoiceNumber\":\"1\",\"paymentDate\":\"2026-02-09\",\"amount\":1,\"currency\":\"NOK\"}]", 0},
	{P_PAYMENTS, PAY("1") "]", 0},
	{P_PAYMENTS, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", 0},
	{P_PAYMENTS, "[{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{}}}}}}}}}}}}}}}}}]", 0},
	{P_SETTLEMENTS, "{\"settlements\":{}}", 0},
	{P_SETTLEMENTS, "{\"createdAt\":5,\"settlements\":[]}", 0},
	{P_SETTLEMENTS, SET("\"1\""), 0},
	{P_SETTLEMENTS, SET("1e5"), 0},
	{P_SETTLEMENTS, SET("0.001"), 0},
	{P_SETTLEMENTS, SET("-1"), 0},
	{P_SETTLEMENTS,
	 "{\"settlements\":[{\"settlementId\":\"s\",\"settlementDate\":\"2026-02-16\",\"settlementAmount\":1,"
	 "\"currency\":\"NOK\"}]}",
	 0},
	{P_SETTLEMENTS,
	 "{\"settlements\":[{\"settlementId\":\"s\",\"settlementDate\":\"2026-02-16\",\"settlementAmount\":1,"
	 "\"currency\":\"NOK\",\"allocations\":[null]}]}",
	 0},
};

static bool run_parser(enum which p, const char *body, size_t len, char *err, size_t errlen)
{
	struct agency_validation v;
	struct agency_created c;
	struct agency_distribution d;
	struct agency_case k;
	struct agency_action_answer a;
	struct collected got = {0};
	bool ok = false;
	switch (p) {
	case P_VALIDATE:
		ok = agency_parse_validate(body, len, &v, err, errlen);
		break;
	case P_CREATE:
		ok = agency_parse_create(body, len, &c, err, errlen);
		break;
	case P_DIST:
		ok = agency_parse_distribution(body, len, &d, err, errlen);
		break;
	case P_CASE:
		ok = agency_parse_case(body, len, "NOK", &k, collect_event, &got, err, errlen);
		break;
	case P_ACTION:
		ok = agency_parse_action(body, len, &a, err, errlen);
		break;
	case P_PAYMENTS:
		ok = agency_parse_payments(body, len, collect_payment, &got, NULL, err, errlen);
		break;
	case P_SETTLEMENTS:
		ok = agency_parse_settlements(body, len, collect_settlement, &got, NULL, err, errlen);
		break;
	}
	cr_expect(ok || got.n == 0, "a refused answer delivered items");
	return ok;
}

Test(parse, refuses_hostile_answers)
{
	for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		char err[200] = "";
		size_t len = hostile[i].len ? hostile[i].len : strlen(hostile[i].body);
		cr_expect_not(run_parser(hostile[i].parser, hostile[i].body, len, err, sizeof err),
			      "hostile answer %zu accepted: %s", i, hostile[i].body);
		cr_expect(err[0] != '\0', "hostile answer %zu: no reason", i);
	}
}

Test(parse, valid_answers_pass_every_parser)
{
	/* Sanity of the tables above: the valid bases of the macros pass. */
	char err[200] = "";
	cr_expect(run_parser(P_PAYMENTS, PAY("1.5"), strlen(PAY("1.5")), err, sizeof err), "%s", err);
	cr_expect(run_parser(P_CASE, BAL("0.5"), strlen(BAL("0.5")), err, sizeof err), "%s", err);
	cr_expect(run_parser(P_SETTLEMENTS, SET("1"), strlen(SET("1")), err, sizeof err), "%s", err);
	cr_expect(run_parser(P_PAYMENTS, PAYF("\"paymentDate\":\"2024-02-29\",\"currency\":\"NOK\""),
			     strlen(PAYF("\"paymentDate\":\"2024-02-29\",\"currency\":\"NOK\"")), err, sizeof err),
		  "%s", err);
}

Test(parse, survives_truncations_of_valid_answers)
{
	/* Every prefix of a valid answer is refused (or, for none, accepted);
	 * the point is that nothing crashes under the sanitizers. */
	const char *bodies[] = {case_answer, payments_answer, settlements_answer};
	const enum which parsers[] = {P_CASE, P_PAYMENTS, P_SETTLEMENTS};
	for (size_t b = 0; b < 3; b++) {
		size_t n = strlen(bodies[b]);
		for (size_t len = 0; len < n; len++) {
			char err[200];
			char *copy = malloc(len + 1); /* exact size: ASan sees any overread */
			memcpy(copy, bodies[b], len);
			cr_expect_not(run_parser(parsers[b], copy, len, err, sizeof err), "prefix %zu of %zu accepted", len, b);
			free(copy);
		}
	}
}

/* ---------- base URL and classification ---------- */

Test(client, base_url_policy)
{
	static const struct {
		const char *url;
		bool allow_http;
		bool ok;
	} rows[] = {
		{"https://agency.example", false, true},
		{"https://agency.example:8443/gateway/", false, true},
		{"http://127.0.0.1:8090", false, true},
		{"http://127.12.0.1:8090", false, true},
		{"http://localhost:8090", false, true},
		{"http://LOCALHOST:8090", false, true},
		{"http://[::1]:8090", false, true},
		{"http://agency-sim:8090", true, true},
		{"http://agency-sim:8090", false, false},
		{"http://128.0.0.1", false, false},
		{"http://127.0.0.1.evil.example", false, false},
		{"http://127.1", false, true}, /* curl normalises it to 127.0.0.1, where it connects */
		{"http://localhost.evil.example", false, false},
		{"ftp://agency.example", true, false},
		{"file:///etc/passwd", true, false},
		{"agency.example", false, false},
		{"https://user:pw@agency.example", false, false},
		{"https://agency.example/?q=1", false, false},
		{"https://agency.example/#x", false, false},
		{"https://agency.example/a b", false, false},
		{"https://agency.example/\n", false, false},
		{"", false, false},
		{NULL, false, false},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char err[200] = "";
		bool ok = agency_base_url_ok(rows[i].url, rows[i].allow_http, err, sizeof err);
		cr_expect_eq(ok, rows[i].ok, "%s (allow_http %d): %d %s", rows[i].url ? rows[i].url : "(null)",
			     rows[i].allow_http, ok, err);
		if (!ok)
			cr_expect(err[0], "no reason for %zu", i);
	}
	char long_url[700] = "https://agency.example/";
	memset(long_url + strlen(long_url), 'a', 600);
	long_url[sizeof long_url - 1] = '\0';
	char err[200];
	cr_expect_not(agency_base_url_ok(long_url, false, err, sizeof err));
	cr_expect_null(agency_client_new("https://agency.example", 0, false, err, sizeof err));
	cr_expect_null(agency_client_new("https://agency.example", 600001, false, err, sizeof err));
	cr_expect_null(agency_client_new("http://agency.example", 1000, false, err, sizeof err));
	struct agency_client *ac = agency_client_new("https://agency.example/", 1000, false, err, sizeof err);
	cr_expect_not_null(ac, "%s", err);
	agency_client_free(ac);
	agency_client_free(NULL);
}

Test(client, classification)
{
	static const struct {
		int status;
		enum agency_outcome get, post;
	} statuses[] = {
		{200, AGENCY_OK, AGENCY_OK},
		{201, AGENCY_OK, AGENCY_OK},
		{204, AGENCY_OK, AGENCY_OK},
		{301, AGENCY_RETRY, AGENCY_UNKNOWN},
		{303, AGENCY_RETRY, AGENCY_UNKNOWN},
		{400, AGENCY_REJECTED, AGENCY_REJECTED},
		{401, AGENCY_REJECTED, AGENCY_REJECTED},
		{403, AGENCY_REJECTED, AGENCY_REJECTED},
		{404, AGENCY_NOT_FOUND, AGENCY_NOT_FOUND},
		{408, AGENCY_RETRY, AGENCY_RETRY},
		{409, AGENCY_CONFLICT, AGENCY_CONFLICT},
		{422, AGENCY_REJECTED, AGENCY_REJECTED},
		{429, AGENCY_RETRY, AGENCY_RETRY},
		{500, AGENCY_RETRY, AGENCY_UNKNOWN},
		{501, AGENCY_RETRY, AGENCY_RETRY},
		{502, AGENCY_RETRY, AGENCY_UNKNOWN},
		{503, AGENCY_RETRY, AGENCY_RETRY},
		{504, AGENCY_RETRY, AGENCY_UNKNOWN},
		{0, AGENCY_RETRY, AGENCY_UNKNOWN},
		{100, AGENCY_RETRY, AGENCY_UNKNOWN},
		{999, AGENCY_RETRY, AGENCY_UNKNOWN},
	};
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
		cr_expect_eq(agency_classify_status(statuses[i].status, false), statuses[i].get, "GET %d",
			     statuses[i].status);
		cr_expect_eq(agency_classify_status(statuses[i].status, true), statuses[i].post, "POST %d",
			     statuses[i].status);
	}
	static const struct {
		CURLcode code;
		enum agency_outcome get, post;
	} codes[] = {
		{CURLE_COULDNT_CONNECT, AGENCY_RETRY, AGENCY_RETRY},
		{CURLE_COULDNT_RESOLVE_HOST, AGENCY_RETRY, AGENCY_RETRY},
		{CURLE_COULDNT_RESOLVE_PROXY, AGENCY_RETRY, AGENCY_RETRY},
		{CURLE_SSL_CONNECT_ERROR, AGENCY_RETRY, AGENCY_RETRY},
		{CURLE_PEER_FAILED_VERIFICATION, AGENCY_RETRY, AGENCY_RETRY},
		{CURLE_OPERATION_TIMEDOUT, AGENCY_RETRY, AGENCY_UNKNOWN},
		{CURLE_GOT_NOTHING, AGENCY_RETRY, AGENCY_UNKNOWN},
		{CURLE_RECV_ERROR, AGENCY_RETRY, AGENCY_UNKNOWN},
		{CURLE_SEND_ERROR, AGENCY_RETRY, AGENCY_UNKNOWN},
		{CURLE_PARTIAL_FILE, AGENCY_RETRY, AGENCY_UNKNOWN},
		{CURLE_HTTP2, AGENCY_RETRY, AGENCY_UNKNOWN},
	};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		cr_expect_eq(agency_classify_curl(codes[i].code, false), codes[i].get, "GET curl %d", codes[i].code);
		cr_expect_eq(agency_classify_curl(codes[i].code, true), codes[i].post, "POST curl %d", codes[i].code);
	}
	const char *names[] = {"ok", "conflict", "not_found", "rejected", "retry", "unknown", "bad_answer"};
	for (int o = AGENCY_OK; o <= AGENCY_BAD_ANSWER; o++)
		cr_expect_str_eq(agency_outcome_name((enum agency_outcome)o), names[o]);
}

/* ---------- the client against a scripted loopback server ---------- */

enum reply_kind {
	R_TEXT,    /* send head, a Content-Length, then body */
	R_CLOSE,   /* read the request, close without a byte */
	R_SLEEP,   /* read the request, answer nothing for a second, then close */
	R_HUGE,    /* 200 with a Content-Length body of 2 MiB */
	R_CHUNKED, /* 200 with a chunked body of 2 MiB */
};

struct reply {
	enum reply_kind kind;
	const char *head; /* status line and headers, each ending in CRLF */
	const char *body;
};

#define SRV_MAX_CONN 16
#define SRV_REQ_MAX 65536

struct server {
	int fd;
	int port;
	pthread_t acceptor;
	pthread_t conns[SRV_MAX_CONN];
	int n_conns;
	pthread_mutex_t lock;
	const struct reply *script;
	size_t n_script, next;
	int n_requests;
	char last_request[SRV_REQ_MAX + 1];
};

static struct server srv;

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k <= 0)
			return;
		p += k;
		n -= (size_t)k;
	}
}

/* Reads one request (headers and a Content-Length body); false at EOF. */
static bool read_request(int fd, char *req, size_t cap)
{
	size_t len = 0;
	char *end = NULL;
	while (!(end = strstr(req, "\r\n\r\n"))) {
		if (len == cap)
			return false;
		ssize_t k = recv(fd, req + len, cap - len, 0);
		if (k <= 0)
			return false;
		len += (size_t)k;
		req[len] = '\0';
	}
	size_t body = 0;
	const char *cl = strcasestr(req, "\r\nContent-Length:");
	if (cl && cl < end)
		body = strtoul(cl + 17, NULL, 10);
	size_t want = (size_t)(end + 4 - req) + body;
	while (len < want && len < cap) {
		ssize_t k = recv(fd, req + len, cap - len, 0);
		if (k <= 0)
			return false;
		len += (size_t)k;
		req[len] = '\0';
	}
	return true;
}

static void send_huge(int fd, bool chunked)
{
	static char block[65536];
	memset(block, 'x', sizeof block);
	const char *head = chunked ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				   : "HTTP/1.1 200 OK\r\nContent-Length: 2097152\r\n\r\n";
	send_all(fd, head, strlen(head));
	for (int i = 0; i < 32; i++) {
		if (chunked)
			send_all(fd, "10000\r\n", 7);
		send_all(fd, block, sizeof block);
		if (chunked)
			send_all(fd, "\r\n", 2);
	}
	if (chunked)
		send_all(fd, "0\r\n\r\n", 5);
}

static void *serve_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char *req = calloc(1, SRV_REQ_MAX + 1);
	while (req && read_request(fd, req, SRV_REQ_MAX)) {
		struct reply r = {R_CLOSE, NULL, NULL};
		pthread_mutex_lock(&srv.lock);
		snprintf(srv.last_request, sizeof srv.last_request, "%s", req);
		srv.n_requests++;
		if (srv.next < srv.n_script)
			r = srv.script[srv.next++];
		pthread_mutex_unlock(&srv.lock);
		memset(req, 0, SRV_REQ_MAX + 1);
		if (r.kind == R_CLOSE)
			break;
		if (r.kind == R_SLEEP) {
			usleep(1000 * 1000);
			break;
		}
		if (r.kind == R_HUGE || r.kind == R_CHUNKED) {
			send_huge(fd, r.kind == R_CHUNKED);
			continue;
		}
		char cl[64];
		snprintf(cl, sizeof cl, "Content-Length: %zu\r\n\r\n", strlen(r.body));
		send_all(fd, r.head, strlen(r.head));
		send_all(fd, cl, strlen(cl));
		send_all(fd, r.body, strlen(r.body));
	}
	free(req);
	close(fd);
	return NULL;
}

static void *accept_loop(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(srv.fd, NULL, NULL);
		if (c < 0)
			return NULL; /* shutdown() of the listening socket */
		/* Counted before the thread runs: the client may see the answer
		 * (and the test read the count) before pthread_create returns. */
		pthread_mutex_lock(&srv.lock);
		int i = srv.n_conns < SRV_MAX_CONN ? srv.n_conns++ : -1;
		if (i >= 0 && pthread_create(&srv.conns[i], NULL, serve_conn, (void *)(intptr_t)c) != 0) {
			srv.n_conns--;
			i = -1;
		}
		pthread_mutex_unlock(&srv.lock);
		if (i < 0)
			close(c);
	}
}

static void server_start(const struct reply *script, size_t n)
{
	memset(&srv, 0, sizeof srv);
	pthread_mutex_init(&srv.lock, NULL);
	srv.script = script;
	srv.n_script = n;
	srv.fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(srv.fd, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof a;
	cr_assert_eq(bind(srv.fd, (struct sockaddr *)&a, sizeof a), 0);
	cr_assert_eq(listen(srv.fd, 16), 0);
	cr_assert_eq(getsockname(srv.fd, (struct sockaddr *)&a, &alen), 0);
	srv.port = ntohs(a.sin_port);
	cr_assert_eq(pthread_create(&srv.acceptor, NULL, accept_loop, NULL), 0);
}

/* Call after agency_client_free: the client's connections are closed, so
 * every connection thread sees EOF and ends. */
static void server_stop(void)
{
	shutdown(srv.fd, SHUT_RDWR);
	pthread_join(srv.acceptor, NULL);
	close(srv.fd);
	for (int i = 0; i < srv.n_conns; i++)
		pthread_join(srv.conns[i], NULL);
	pthread_mutex_destroy(&srv.lock);
}

/* Connections and requests seen so far (the server threads write them). */
static int conns(void)
{
	pthread_mutex_lock(&srv.lock);
	int n = srv.n_conns;
	pthread_mutex_unlock(&srv.lock);
	return n;
}

static int requests(void)
{
	pthread_mutex_lock(&srv.lock);
	int n = srv.n_requests;
	pthread_mutex_unlock(&srv.lock);
	return n;
}

static struct agency_client *client_for_server(int timeout_ms)
{
	char url[64], err[200];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", srv.port);
	struct agency_client *ac = agency_client_new(url, timeout_ms, false, err, sizeof err);
	cr_assert_not_null(ac, "%s", err);
	return ac;
}

static void net_setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	log_set_level("error"); /* the client's warnings are expected here */
}

static void net_teardown(void) { curl_global_cleanup(); }

#define OK_200 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"

static const struct reply created_201 = {R_TEXT, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n",
					 "{\"invoiceNumber\":\"202600145\",\"status\":\"RECEIVED\"}"};
static const struct reply valid_200 = {R_TEXT, OK_200, "{\"isValid\":true,\"message\":\"ok\"}"};

Test(net, get_and_post_headers_and_connection_policy)
{
	const struct reply script[] = {valid_200, valid_200, created_201, created_201, valid_200};
	server_start(script, 5);
	struct agency_client *ac = client_for_server(2000);
	struct agency_result res;
	struct agency_validation v;
	struct agency_created c;

	cr_expect_eq(agency_validate(ac, "key-1", &v, &res), AGENCY_OK, "%s", res.message);
	cr_expect(v.is_valid);
	cr_expect_eq(res.http_status, 200);
	cr_expect_eq(res.retry_after_s, -1);
	cr_expect(strstr(srv.last_request, "GET /api/v1/partner/validate HTTP/1.1\r\n") == srv.last_request, "%s",
		  srv.last_request);
	cr_expect(strcasestr(srv.last_request, "\r\nX-Api-Key: key-1\r\n") != NULL);
	cr_expect(strcasestr(srv.last_request, "\r\nAccept: application/json\r\n") != NULL);
	cr_expect_eq(agency_validate(ac, "key-1", &v, &res), AGENCY_OK);
	cr_expect_eq(conns(), 1, "GETs reuse the connection");

	const char *body = "{\"invoice\":{}}";
	cr_expect_eq(agency_invoice_create(ac, "key-1", body, &c, &res), AGENCY_OK, "%s", res.message);
	cr_expect_str_eq(c.invoice_number, "202600145");
	cr_expect_eq(res.http_status, 201);
	cr_expect(strstr(srv.last_request, "POST /api/v1/partner/invoice HTTP/1.1\r\n") == srv.last_request);
	cr_expect(strcasestr(srv.last_request, "\r\nContent-Type: application/json\r\n") != NULL);
	cr_expect(strcasestr(srv.last_request, "\r\nExpect:") == NULL);
	cr_expect(strstr(srv.last_request, "\r\n\r\n{\"invoice\":{}}") != NULL);
	cr_expect_eq(conns(), 2, "the POST gets a fresh connection");
	cr_expect_eq(agency_invoice_create(ac, "key-1", body, &c, &res), AGENCY_OK, "%s", res.message);
	cr_expect_eq(conns(), 3, "and so does the next one");
	cr_expect_eq(agency_validate(ac, "key-1", &v, &res), AGENCY_OK);
	cr_expect_eq(requests(), 5);
	agency_client_free(ac);
	server_stop();
}

Test(net, error_statuses)
{
	static const struct reply script[] = {
		{R_TEXT, "HTTP/1.1 409 Conflict\r\n", "{\"message\":\"invoice already received\"}"},
		{R_TEXT, "HTTP/1.1 404 Not Found\r\n", "{\"message\":\"invoice\\u0007 x\"}"},
		{R_TEXT, "HTTP/1.1 400 Bad Request\r\n", "<html>bad</html>\n"},
		{R_TEXT, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n", "{}"},
		{R_TEXT, "HTTP/1.1 503 Unavailable\r\nRetry-After: 99999\r\n", ""},
		{R_TEXT, "HTTP/1.1 500 Oops\r\n", ""},
		{R_TEXT, "HTTP/1.1 500 Oops\r\n", ""},
		{R_TEXT, "HTTP/1.1 302 Found\r\nLocation: http://evil.example/\r\n", ""},
		{R_TEXT, OK_200, "not json!"},
	};
	server_start(script, sizeof script / sizeof script[0]);
	struct agency_client *ac = client_for_server(2000);
	struct agency_result res;
	struct agency_distribution d;
	const char *body = "{\"invoice\":{}}";

	cr_expect_eq(agency_invoice_create(ac, "k", body, NULL, &res), AGENCY_CONFLICT);
	cr_expect_eq(res.http_status, 409);
	cr_expect_str_eq(res.message, "invoice already received");
	cr_expect_eq(agency_distribution(ac, "k", "202600145", &d, &res), AGENCY_NOT_FOUND);
	cr_expect_str_eq(res.message, "invoice  x");
	cr_expect_eq(agency_distribution(ac, "k", "1", &d, &res), AGENCY_REJECTED);
	cr_expect_str_eq(res.message, "HTTP 400");
	cr_expect_eq(agency_invoice_create(ac, "k", body, NULL, &res), AGENCY_RETRY);
	cr_expect_eq(res.retry_after_s, 7);
	cr_expect_eq(agency_validate(ac, "k", NULL, &res), AGENCY_RETRY);
	cr_expect_eq(res.retry_after_s, AGENCY_RETRY_AFTER_MAX);
	cr_expect_eq(agency_invoice_create(ac, "k", body, NULL, &res), AGENCY_UNKNOWN, "a 500 on a POST");
	cr_expect_eq(agency_validate(ac, "k", NULL, &res), AGENCY_RETRY, "a 500 on a GET");
	cr_expect_eq(agency_invoice_create(ac, "k", body, NULL, &res), AGENCY_UNKNOWN, "a redirect is not followed");
	cr_expect_eq(res.http_status, 302);
	cr_expect_eq(agency_validate(ac, "k", NULL, &res), AGENCY_BAD_ANSWER);
	cr_expect(strstr(res.message, "not JSON") != NULL, "%s", res.message);
	cr_expect_eq(requests(), 9, "the redirect was not followed");
	agency_client_free(ac);
	server_stop();
}

Test(net, lost_answers_and_caps)
{
	static const struct reply script[] = {
		{R_CLOSE, NULL, NULL}, {R_CLOSE, NULL, NULL}, {R_SLEEP, NULL, NULL}, {R_HUGE, NULL, NULL},
		{R_CHUNKED, NULL, NULL},
	};
	server_start(script, sizeof script / sizeof script[0]);
	struct agency_client *ac = client_for_server(400);
	struct agency_result res;
	char action[] = "{\"actions\":[]}";

	cr_expect_eq(agency_action(ac, "k", action, NULL, &res), AGENCY_UNKNOWN, "empty reply to a POST: %s",
		     res.message);
	cr_expect_eq(res.http_status, 0);
	cr_expect(res.message[0]);
	cr_expect_eq(agency_validate(ac, "k", NULL, &res), AGENCY_RETRY, "empty reply to a GET");
	cr_expect_eq(agency_invoice_create(ac, "k", "{}", NULL, &res), AGENCY_UNKNOWN, "timeout after sending");
	cr_expect_eq(agency_payments(ac, "k", "2026-01-01", "2026-02-01", NULL, NULL, &res), AGENCY_BAD_ANSWER,
		     "2 MiB answer");
	cr_expect(strstr(res.message, "1 MiB") != NULL, "%s", res.message);
	cr_expect_eq(agency_settlements(ac, "k", NULL, NULL, NULL, NULL, &res), AGENCY_BAD_ANSWER, "2 MiB chunked");
	agency_client_free(ac);
	server_stop();
}

Test(net, query_escaping_and_local_refusals)
{
	static const struct reply script[] = {
		{R_TEXT, OK_200, "{\"invoiceNumber\":\"A B&C/\xc3\xb8\",\"status\":\"RECEIVED\",\"caseId\":null}"},
		{R_TEXT, OK_200, "[]"},
	};
	server_start(script, sizeof script / sizeof script[0]);
	struct agency_client *ac = client_for_server(2000);
	struct agency_result res;
	struct agency_distribution d;
	cr_expect_eq(agency_distribution(ac, "k", "A B&C/\xc3\xb8", &d, &res), AGENCY_OK, "%s", res.message);
	cr_expect(strstr(srv.last_request, "GET /api/v1/partner/invoice/distribution?invoiceNumber=A%20B%26C%2F%C3%B8 ") ==
			  srv.last_request,
		  "%s", srv.last_request);
	cr_expect_eq(agency_payments(ac, "k", "2026-01-01", NULL, NULL, NULL, &res), AGENCY_OK, "%s", res.message);
	cr_expect(strstr(srv.last_request, "GET /api/v1/partner/payments?fromDate=2026-01-01 ") == srv.last_request, "%s",
		  srv.last_request);

	/* Refused before anything is sent. */
	cr_expect_eq(agency_validate(ac, "k\r\nX-Evil: 1", NULL, &res), AGENCY_RETRY);
	cr_expect_eq(agency_validate(ac, "", NULL, &res), AGENCY_RETRY);
	cr_expect_eq(agency_validate(ac, NULL, NULL, &res), AGENCY_RETRY);
	cr_expect_eq(res.http_status, 0);
	cr_expect_eq(agency_payments(ac, "k", "2026-02-30", NULL, NULL, NULL, &res), AGENCY_REJECTED);
	cr_expect_eq(agency_settlements(ac, "k", NULL, "2026-1-1", NULL, NULL, &res), AGENCY_REJECTED);
	cr_expect_eq(agency_distribution(ac, "k", "", NULL, &res), AGENCY_REJECTED);
	cr_expect_eq(agency_case(ac, "k", NULL, "NOK", NULL, NULL, NULL, &res), AGENCY_REJECTED);
	cr_expect_eq(agency_case(ac, "k", "481920", "nok", NULL, NULL, NULL, &res), AGENCY_REJECTED);
	cr_expect_eq(agency_invoice_create(ac, "k", NULL, NULL, &res), AGENCY_REJECTED);
	cr_expect_eq(agency_action(ac, "k", "", NULL, &res), AGENCY_REJECTED);
	cr_expect_eq(requests(), 2);
	agency_client_free(ac);
	server_stop();
}

Test(net, nothing_listening_is_not_delivered)
{
	/* Bind a port, then close it: nothing listens there afterwards. */
	server_start(NULL, 0);
	int port = srv.port;
	server_stop();
	char url[64], err[200];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
	struct agency_client *ac = agency_client_new(url, 2000, false, err, sizeof err);
	cr_assert_not_null(ac, "%s", err);
	struct agency_result res;
	cr_expect_eq(agency_invoice_create(ac, "k", "{}", NULL, &res), AGENCY_RETRY, "%s", res.message);
	cr_expect_eq(res.http_status, 0);
	cr_expect(res.message[0]);
	agency_client_free(ac);
}

TestSuite(net, .init = net_setup, .fini = net_teardown, .timeout = 30);
