/* SPDX-License-Identifier: MIT */
#include "agency/mapping.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/dates.h"
#include "lib/json_read.h"
#include "lib/jsonw.h"
#include "lib/money.h"

/* The stored objects of a case, parsed once per body. */
struct mapping {
	json_object *invoice;
	json_object *debtor;
	json_object *address;
	const char *number;
	const char *currency;
	bool company;
	char *err;
	size_t errlen;
};

static bool fail(struct mapping *m, const char *what)
{
	if (m->errlen > 0)
		snprintf(m->err, m->errlen, "%s", what);
	return false;
}

/* An integer money member within [0, MONEY_MAX]; absent or null is `absent`
 * (-1: required). The stored JSON was validated, but it comes back from the
 * database: a wrong amount must stop the send, not go out. */
static bool money(json_object *o, const char *key, int64_t absent, int64_t *out)
{
	json_object *v = json_member(o, key);
	if (!v) {
		*out = absent;
		return absent >= 0;
	}
	if (!json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return *out >= 0 && *out <= MONEY_MAX;
}

/* Writes "key":<amount> as a JSON number in major units. */
static bool put_amount(struct buf *b, bool first, const char *key, int64_t minor, const char *currency)
{
	char num[32];
	if (!money_format_major(minor, currency, num, sizeof num))
		return false;
	jw_key(b, first, key);
	buf_puts(b, num);
	return true;
}

const char *agency_action_code(enum action_type type)
{
	static const char *const codes[ACTION__COUNT] = {
		[ACTION_COMMENT] = "COMMENT", [ACTION_WITHDRAW] = "WITHDRAW", [ACTION_PAUSE] = "PAUSE",
		[ACTION_RESUME] = "RESUME",   [ACTION_DISPUTE] = "OBJECTION",
	};
	return (int)type >= 0 && type < ACTION__COUNT ? codes[type] : NULL;
}

const char *agency_payment_method(enum payment_kind kind)
{
	return kind == PAYMENT_CREDIT_NOTE ? "CREDIT_NOTE" : "PAYMENT";
}

/* Our service names to the agency's. */
static const char *agency_service(const char *service)
{
	static const char *const map[][2] = {
		{"pre_collection", "PRECOLLECTION"},
		{"collection", "COLLECTION"},
		{"international", "INTERNATIONAL"},
		{"surveillance", "SURVEILLANCE"},
	};
	for (size_t i = 0; service && i < sizeof map / sizeof map[0]; i++)
		if (strcmp(service, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

/* The debtor's language upper-cased; without one, the main language of the
 * debtor's country, as the agency writes letters in it. */
static void language_code(const char *language, const char *country, char out[3])
{
	static const char *const by_country[][2] = {{"NO", "NB"}, {"SE", "SV"}, {"FI", "FI"}, {"DK", "DA"}};
	if (language && strlen(language) == 2) {
		for (int i = 0; i < 2; i++)
			out[i] = (language[i] >= 'a' && language[i] <= 'z') ? (char)(language[i] - 'a' + 'A')
									   : language[i];
		out[2] = '\0';
		return;
	}
	for (size_t i = 0; country && i < sizeof by_country / sizeof by_country[0]; i++)
		if (strcmp(country, by_country[i][0]) == 0) {
			memcpy(out, by_country[i][1], 3);
			return;
		}
	memcpy(out, "EN", 3);
}

static bool write_header(struct mapping *m, const struct case_row *c, struct buf *b)
{
	const char *issued = json_member_text(m->invoice, "issued_on"), *due = json_member_text(m->invoice, "due_on");
	const char *service = agency_service(c->service);
	char lang[3];
	if (!dates_valid(issued) || !dates_valid(due))
		return fail(m, "invoice.issued_on and invoice.due_on must be dates");
	if (!service)
		return fail(m, "service is not one of pre_collection, collection, international, surveillance");
	language_code(json_member_text(m->debtor, "language"), json_member_text(m->address, "country"), lang);
	jw_key(b, true, "header");
	buf_putc(b, '{');
	jw_kstr(b, true, "number", m->number);
	jw_kstr(b, false, "type", "COLLECTION");
	jw_kstr(b, false, "date", issued);
	jw_kstr(b, false, "dueDate", due);
	jw_kstr(b, false, "description", json_member_text(m->invoice, "description"));
	jw_kstr(b, false, "currencyCode", m->currency);
	jw_kstr(b, false, "languageCode", lang);
	jw_kstr(b, false, "service", service);
	buf_puts(b, "},");
	jw_key(b, true, "references");
	buf_putc(b, '{');
	jw_kstr(b, true, "buyer", json_member_text(m->debtor, "customer_number"));
	jw_kstr(b, false, "payment", json_member_text(m->invoice, "payment_reference"));
	jw_kstr_or_null(b, false, "sales", c->your_reference);
	buf_putc(b, '}');
	return true;
}

static bool write_buyer(struct mapping *m, const char *national_id, struct buf *b)
{
	const char *name = json_member_text(m->debtor, m->company ? "business_name" : "name");
	const char *org = json_member_text(m->debtor, "org_number");
	if (!name || !name[0])
		return fail(m, m->company ? "debtor.business_name is required" : "debtor.name is required");
	if (m->company && (!org || !org[0]))
		return fail(m, "debtor.org_number is required for a business");
	jw_key(b, false, "buyerParty");
	buf_putc(b, '{');
	jw_kstr(b, true, "entityType", m->company ? "COMPANY" : "PERSON");
	jw_kstr(b, false, "name", name);
	jw_kstr(b, false, "customerAccountId", json_member_text(m->debtor, "customer_number"));
	/* Identity numbers by kind only: a person's never goes out on a
	 * company, nor a birth date (data minimisation). */
	jw_kstr_or_null(b, false, "personalIdentityNumber", m->company ? NULL : national_id);
	jw_kstr_or_null(b, false, "businessId", m->company ? org : NULL);
	jw_kstr_or_null(b, false, "dateOfBirth", m->company ? NULL : json_member_text(m->debtor, "date_of_birth"));
	jw_key(b, false, "address");
	buf_putc(b, '{');
	jw_kstr(b, true, "street", json_member_text(m->address, "line1"));
	jw_kstr_or_null(b, false, "street2", json_member_text(m->address, "line2"));
	jw_kstr(b, false, "postalCode", json_member_text(m->address, "postal_code"));
	jw_kstr(b, false, "postalDistrict", json_member_text(m->address, "city"));
	jw_kstr(b, false, "countryCode", json_member_text(m->address, "country"));
	buf_puts(b, "},");
	jw_key(b, true, "contact");
	buf_putc(b, '{');
	jw_kstr_or_null(b, true, "email", json_member_text(m->debtor, "email"));
	jw_kstr_or_null(b, false, "phone", json_member_text(m->debtor, "phone"));
	buf_puts(b, "}}");
	return true;
}

static bool write_parties(struct mapping *m, const char *national_id, const struct agency_settings *s,
			  struct buf *b)
{
	if (!s->creditor_reference[0])
		return fail(m, "the tenant's creditor_reference is not set");
	jw_key(b, false, "parties");
	buf_putc(b, '{');
	jw_key(b, true, "sellerParty");
	buf_putc(b, '{');
	jw_kstr(b, true, "name", s->creditor_reference);
	jw_kstr(b, false, "businessId", s->creditor_reference);
	buf_putc(b, '}');
	if (!write_buyer(m, national_id, b))
		return false;
	buf_putc(b, '}');
	return true;
}

static bool write_amounts(struct mapping *m, struct buf *b)
{
	int64_t total, outstanding, fees;
	if (!money(m->invoice, "original_amount", -1, &total) ||
	    !money(m->invoice, "outstanding_amount", -1, &outstanding) || !money(m->invoice, "fees", 0, &fees))
		return fail(m, "invoice amounts must be integers in minor units");
	jw_key(b, false, "amounts");
	buf_putc(b, '{');
	if (!put_amount(b, true, "totalAmount", total, m->currency) ||
	    !put_amount(b, false, "outstandingAmount", outstanding, m->currency))
		return fail(m, "invoice.currency has no minor digits we know");
	buf_puts(b, "},");
	jw_key(b, true, "collectionCosts");
	buf_putc(b, '{');
	/* Fees already charged are the creditor's costs; the agency adds its own. */
	put_amount(b, true, "creditorCostsAmount", fees, m->currency);
	put_amount(b, false, "collectionFeesAmount", 0, m->currency);
	buf_putc(b, '}');
	return true;
}

static bool write_reminders(struct mapping *m, struct buf *b)
{
	json_object *list = json_member(m->invoice, "reminders");
	size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	jw_key(b, false, "reminders");
	buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		const char *sent = json_member_text(json_object_array_get_idx(list, i), "sent_on");
		if (!dates_valid(sent))
			return fail(m, "invoice.reminders[].sent_on must be dates");
		buf_puts(b, i ? ",{" : "{");
		jw_kstr(b, true, "date", sent);
		buf_putc(b, '}');
	}
	buf_putc(b, ']');
	return true;
}

/* Parses the stored JSON objects and resolves what every part needs. */
static bool load(struct mapping *m, const struct case_row *c)
{
	m->invoice = c->invoice_json ? json_tokener_parse(c->invoice_json) : NULL;
	m->debtor = c->debtor_json ? json_tokener_parse(c->debtor_json) : NULL;
	if (!json_object_is_type(m->invoice, json_type_object) || !json_object_is_type(m->debtor, json_type_object))
		return fail(m, "the stored invoice and debtor must be JSON objects");
	m->address = json_member(m->debtor, "address");
	m->number = c->invoice_number ? c->invoice_number : json_member_text(m->invoice, "number");
	m->currency = c->currency ? c->currency : json_member_text(m->invoice, "currency");
	const char *type = c->debtor_type ? c->debtor_type : json_member_text(m->debtor, "customer_type");
	if (!m->number || !m->number[0])
		return fail(m, "invoice.number is required");
	if (!money_currency_valid(m->currency))
		return fail(m, "invoice.currency is not an ISO 4217 code we know");
	if (!type || (strcmp(type, "consumer") != 0 && strcmp(type, "business") != 0))
		return fail(m, "debtor_type must be consumer or business");
	m->company = strcmp(type, "business") == 0;
	return true;
}

char *agency_invoice_body(const struct case_row *c, const char *national_id,
			  const struct agency_settings *s, char *err, size_t errlen)
{
	struct mapping m = {.err = err, .errlen = errlen};
	struct buf b = {0};
	char *body = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if (!load(&m, c))
		goto out;
	buf_puts(&b, "{\"invoice\":{");
	if (!write_header(&m, c, &b) || !write_parties(&m, national_id, s, &b) || !write_amounts(&m, &b) ||
	    !write_reminders(&m, &b))
		goto out;
	buf_puts(&b, "}}");
	if (b.oom) {
		fail(&m, "out of memory");
		goto out;
	}
	body = buf_steal(&b, NULL);
out:
	buf_free(&b);
	json_object_put(m.invoice);
	json_object_put(m.debtor);
	return body;
}

static bool action_code_known(const char *code)
{
	static const char *const codes[] = {"DIRECTPAYMENT", "COMMENT", "WITHDRAW", "PAUSE", "RESUME", "OBJECTION"};
	for (size_t i = 0; code && i < sizeof codes / sizeof codes[0]; i++)
		if (strcmp(code, codes[i]) == 0)
			return true;
	return false;
}

static bool payment_valid(const struct agency_payment_data *p)
{
	return p->amount > 0 && p->amount <= MONEY_MAX && money_currency_valid(p->currency) &&
	       dates_valid(p->payment_date) && p->method &&
	       (strcmp(p->method, "PAYMENT") == 0 || strcmp(p->method, "CREDIT_NOTE") == 0);
}

char *agency_action_body(const char *code, const char *comment, const char *invoice_number,
			 const char *case_id, const struct agency_payment_data *p)
{
	struct buf b = {0};
	bool payment = code && strcmp(code, "DIRECTPAYMENT") == 0;
	if (!action_code_known(code) || !invoice_number || !invoice_number[0] || payment != (p != NULL) ||
	    (p && !payment_valid(p)))
		return NULL;
	buf_puts(&b, "{\"actions\":[{");
	jw_kstr(&b, true, "code", code);
	jw_kstr(&b, false, "comment", comment ? comment : "");
	jw_key(&b, false, "data");
	buf_putc(&b, '{');
	jw_kstr(&b, true, "invoiceNumber", invoice_number);
	if (case_id && case_id[0])
		jw_kstr(&b, false, "caseId", case_id);
	if (p) {
		put_amount(&b, false, "amount", p->amount, p->currency);
		jw_kstr(&b, false, "currency", p->currency);
		jw_kstr(&b, false, "paymentDate", p->payment_date);
		jw_kstr_or_null(&b, false, "reference", p->reference);
		jw_kstr(&b, false, "paymentMethod", p->method);
	}
	buf_puts(&b, "}}]}");
	if (b.oom) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}
