/* SPDX-License-Identifier: MIT */
/* The agency's answers, one parser each (agency/parse.h), on the shared
 * readers of parse_fields.c. */
#include "agency/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agency/parse_fields.h"
#include "lib/json_read.h"
#include "lib/money.h"

bool agency_parse_message(const char *data, size_t len, char *out, size_t outlen)
{
	char err[8];
	bool ok = false;
	if (outlen > 0)
		out[0] = '\0';
	json_object *root = parse_answer(data, len, json_type_object, err, sizeof err);
	json_object *m = json_member(root, "message");
	if (outlen > 0 && json_object_is_type(m, json_type_string)) {
		const char *s = json_object_get_string(m);
		copy_text(s, strlen(s), out, outlen);
		ok = true;
	}
	json_object_put(root);
	return ok;
}

bool agency_parse_validate(const char *data, size_t len, struct agency_validation *out, char *err,
			   size_t errlen)
{
	bool ok = false;
	memset(out, 0, sizeof *out);
	json_object *root = parse_answer(data, len, json_type_object, err, errlen);
	if (!root)
		goto out;
	json_object *v = json_member(root, "isValid");
	if (!json_object_is_type(v, json_type_boolean)) {
		fail(err, errlen, "", "isValid", v ? "not a boolean" : "missing");
		goto out;
	}
	out->is_valid = json_object_get_boolean(v);
	ok = read_str(root, "", "message", STR_TEXT, false, out->message, sizeof out->message, err,
		      errlen);
out:
	json_object_put(root);
	return ok;
}

bool agency_parse_create(const char *data, size_t len, struct agency_created *out, char *err,
			 size_t errlen)
{
	memset(out, 0, sizeof *out);
	json_object *root = parse_answer(data, len, json_type_object, err, errlen);
	bool ok = root &&
		  read_str(root, "", "invoiceNumber", STR_ID, true, out->invoice_number,
			   sizeof out->invoice_number, err, errlen) &&
		  read_str(root, "", "status", STR_TOKEN, true, out->status, sizeof out->status, err,
			   errlen);
	json_object_put(root);
	return ok;
}

bool agency_parse_distribution(const char *data, size_t len, struct agency_distribution *out,
			       char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	json_object *root = parse_answer(data, len, json_type_object, err, errlen);
	bool ok = root &&
		  read_str(root, "", "invoiceNumber", STR_ID, true, out->invoice_number,
			   sizeof out->invoice_number, err, errlen) &&
		  read_str(root, "", "status", STR_TOKEN, true, out->status, sizeof out->status, err,
			   errlen) &&
		  read_id_or_number(root, "", "caseId", false, out->case_id, sizeof out->case_id, err,
				    errlen);
	json_object_put(root);
	return ok;
}

static bool read_summary(json_object *c, const char *currency, struct agency_case *out, char *err,
			 size_t errlen)
{
	const char *p = "case.summary";
	char cur[8];
	json_object *s = need_member(c, "case", "summary", json_type_object, err, errlen);
	if (!s || !read_id_or_number(s, p, "caseId", true, out->case_id, sizeof out->case_id, err, errlen) ||
	    !read_str(s, p, "status", STR_TOKEN, true, out->status, sizeof out->status, err, errlen) ||
	    !read_str(s, p, "stage", STR_TOKEN, false, out->stage, sizeof out->stage, err, errlen) ||
	    !read_str(s, p, "createdAt", STR_TS, false, out->created_at, sizeof out->created_at, err,
		      errlen) ||
	    !read_str(s, p, "closedAt", STR_TS, false, out->closed_at, sizeof out->closed_at, err, errlen) ||
	    !read_str(s, p, "currency", STR_ID, false, cur, sizeof cur, err, errlen))
		return false;
	/* Amounts in another currency would be read with the wrong digits. */
	if (cur[0] && strcmp(cur, currency) != 0)
		return fail(err, errlen, p, "currency", "not the case's currency");
	return true;
}

static bool read_balance(json_object *c, int digits, struct agency_case *out, char *err, size_t errlen)
{
	const char *p = "case.balance";
	json_object *b = need_member(c, "case", "balance", json_type_object, err, errlen);
	return b && read_amount(b, p, "capitalAmount", digits, &out->capital, err, errlen) &&
	       read_amount(b, p, "interestAmount", digits, &out->interest, err, errlen) &&
	       read_amount(b, p, "costsAmount", digits, &out->costs, err, errlen) &&
	       read_amount(b, p, "paidAmount", digits, &out->paid, err, errlen) &&
	       read_amount(b, p, "remainingAmount", digits, &out->remaining, err, errlen);
}

static bool read_event(json_object *e, size_t i, struct agency_event *out, char *err, size_t errlen)
{
	char p[48];
	snprintf(p, sizeof p, "case.events[%zu]", i);
	memset(out, 0, sizeof *out);
	if (!json_object_is_type(e, json_type_object))
		return fail(err, errlen, p, "", "not an object");
	return read_id_or_number(e, p, "eventId", true, out->event_id, sizeof out->event_id, err, errlen) &&
	       read_str(e, p, "date", STR_TS, true, out->date, sizeof out->date, err, errlen) &&
	       read_str(e, p, "type", STR_TOKEN, true, out->type, sizeof out->type, err, errlen) &&
	       read_str(e, p, "description", STR_TEXT, false, out->description, sizeof out->description,
			err, errlen);
}

bool agency_parse_case(const char *data, size_t len, const char *currency, struct agency_case *out,
		       agency_event_fn fn, void *ctx, char *err, size_t errlen)
{
	bool ok = false;
	struct agency_event ev;
	int digits = money_currency_digits(currency);
	memset(out, 0, sizeof *out);
	json_object *root = NULL;
	if (digits < 0) {
		fail(err, errlen, "", "currency", "not a known ISO 4217 currency (caller)");
		goto out;
	}
	root = parse_answer(data, len, json_type_object, err, errlen);
	json_object *c = root ? need_member(root, "", "case", json_type_object, err, errlen) : NULL;
	json_object *events = c ? need_member(c, "case", "events", json_type_array, err, errlen) : NULL;
	if (!events || !read_summary(c, currency, out, err, errlen) ||
	    !read_balance(c, digits, out, err, errlen))
		goto out;
	size_t n = json_object_array_length(events);
	/* Validate every event before delivering any: all or nothing. */
	for (size_t i = 0; i < n; i++)
		if (!read_event(json_object_array_get_idx(events, i), i, &ev, err, errlen))
			goto out;
	for (size_t i = 0; fn && i < n; i++) {
		read_event(json_object_array_get_idx(events, i), i, &ev, err, errlen);
		if (fn(ctx, &ev) != 0)
			break;
	}
	ok = true;
out:
	json_object_put(root);
	return ok;
}

bool agency_parse_action(const char *data, size_t len, struct agency_action_answer *out, char *err,
			 size_t errlen)
{
	bool ok = false;
	memset(out, 0, sizeof *out);
	json_object *root = parse_answer(data, len, json_type_object, err, errlen);
	json_object *list = root ? need_member(root, "", "actions", json_type_array, err, errlen) : NULL;
	if (!list)
		goto out;
	size_t n = json_object_array_length(list);
	if (n == 0) {
		fail(err, errlen, "", "actions", "empty");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char p[32];
		struct agency_action_answer a;
		json_object *item = json_object_array_get_idx(list, i);
		snprintf(p, sizeof p, "actions[%zu]", i);
		if (!json_object_is_type(item, json_type_object)) {
			fail(err, errlen, p, "", "not an object");
			goto out;
		}
		if (!read_str(item, p, "status", STR_TOKEN, true, a.status, sizeof a.status, err, errlen))
			goto out;
		if (i == 0)
			*out = a;
	}
	ok = true;
out:
	json_object_put(root);
	return ok;
}

static bool read_payment(json_object *o, size_t i, struct agency_payment_report *out, char *err, size_t errlen)
{
	char p[32];
	int digits;
	snprintf(p, sizeof p, "[%zu]", i);
	memset(out, 0, sizeof *out);
	if (!json_object_is_type(o, json_type_object))
		return fail(err, errlen, p, "", "not an object");
	if (!read_id_or_number(o, p, "paymentId", true, out->payment_id, sizeof out->payment_id, err,
			       errlen) ||
	    !read_id_or_number(o, p, "caseId", true, out->case_id, sizeof out->case_id, err, errlen) ||
	    !read_str(o, p, "invoiceNumber", STR_ID, true, out->invoice_number, sizeof out->invoice_number,
		      err, errlen) ||
	    !read_str(o, p, "paymentDate", STR_DATE, true, out->payment_date, sizeof out->payment_date, err,
		      errlen) ||
	    !read_currency(o, p, "currency", out->currency, &digits, err, errlen) ||
	    !read_amount(o, p, "amount", digits, &out->amount, err, errlen))
		return false;
	/* A payment of nothing is not a payment; refunds are not part of this API. */
	if (out->amount == 0)
		return fail(err, errlen, p, "amount", "zero");
	return true;
}

bool agency_parse_payments(const char *data, size_t len, agency_payment_fn fn, void *ctx,
			   size_t *count, char *err, size_t errlen)
{
	bool ok = false;
	struct agency_payment_report pay;
	if (count)
		*count = 0;
	json_object *root = parse_answer(data, len, json_type_array, err, errlen);
	if (!root)
		goto out;
	size_t n = json_object_array_length(root);
	for (size_t i = 0; i < n; i++)
		if (!read_payment(json_object_array_get_idx(root, i), i, &pay, err, errlen))
			goto out;
	for (size_t i = 0; fn && i < n; i++) {
		read_payment(json_object_array_get_idx(root, i), i, &pay, err, errlen);
		if (fn(ctx, &pay) != 0)
			break;
	}
	if (count)
		*count = n;
	ok = true;
out:
	json_object_put(root);
	return ok;
}

static bool read_allocation(json_object *o, const char *sp, size_t j, int digits,
			    struct agency_allocation_report *out, char *err, size_t errlen)
{
	char p[96];
	snprintf(p, sizeof p, "%s.allocations[%zu]", sp, j);
	memset(out, 0, sizeof *out);
	if (!json_object_is_type(o, json_type_object))
		return fail(err, errlen, p, "", "not an object");
	return read_id_or_number(o, p, "allocationId", true, out->allocation_id, sizeof out->allocation_id,
				 err, errlen) &&
	       read_id_or_number(o, p, "caseId", true, out->case_id, sizeof out->case_id, err, errlen) &&
	       read_str(o, p, "invoiceNumber", STR_ID, true, out->invoice_number, sizeof out->invoice_number,
			err, errlen) &&
	       read_amount(o, p, "allocatedTotalAmount", digits, &out->amount, err, errlen) &&
	       read_str(o, p, "allocationDate", STR_DATE, true, out->allocation_date,
			sizeof out->allocation_date, err, errlen);
}

/* Reads settlement i; its allocations go to allocs (room for max of them)
 * when allocs is not NULL, else are only checked. */
static bool read_settlement(json_object *o, size_t i, struct agency_settlement_report *out,
			    struct agency_allocation_report *allocs, char *err, size_t errlen)
{
	char p[32];
	int digits;
	struct agency_allocation_report scratch;
	snprintf(p, sizeof p, "settlements[%zu]", i);
	memset(out, 0, sizeof *out);
	if (!json_object_is_type(o, json_type_object))
		return fail(err, errlen, p, "", "not an object");
	json_object *list = need_member(o, p, "allocations", json_type_array, err, errlen);
	if (!list ||
	    !read_id_or_number(o, p, "settlementId", true, out->settlement_id, sizeof out->settlement_id,
			       err, errlen) ||
	    !read_str(o, p, "settlementDate", STR_DATE, true, out->settlement_date,
		      sizeof out->settlement_date, err, errlen) ||
	    !read_str(o, p, "agency", STR_TEXT, false, out->agency, sizeof out->agency, err, errlen) ||
	    !read_str(o, p, "remittanceReference", STR_ID, false, out->remittance_reference,
		      sizeof out->remittance_reference, err, errlen) ||
	    !read_currency(o, p, "currency", out->currency, &digits, err, errlen) ||
	    !read_amount(o, p, "settlementAmount", digits, &out->amount, err, errlen))
		return false;
	size_t n = json_object_array_length(list);
	for (size_t j = 0; j < n; j++)
		if (!read_allocation(json_object_array_get_idx(list, j), p, j, digits,
				     allocs ? &allocs[j] : &scratch, err, errlen))
			return false;
	out->n_allocations = n;
	out->allocations = allocs;
	return true;
}

bool agency_parse_settlements(const char *data, size_t len, agency_settlement_fn fn, void *ctx,
			      size_t *count, char *err, size_t errlen)
{
	bool ok = false;
	struct agency_settlement_report s;
	struct agency_allocation_report *allocs = NULL;
	char created[AGENCY_TS_MAX + 1];
	size_t most = 0;
	if (count)
		*count = 0;
	json_object *root = parse_answer(data, len, json_type_object, err, errlen);
	json_object *list = root ? need_member(root, "", "settlements", json_type_array, err, errlen) : NULL;
	if (!list || !read_str(root, "", "createdAt", STR_TS, false, created, sizeof created, err, errlen))
		goto out;
	size_t n = json_object_array_length(list);
	for (size_t i = 0; i < n; i++) {
		if (!read_settlement(json_object_array_get_idx(list, i), i, &s, NULL, err, errlen))
			goto out;
		if (s.n_allocations > most)
			most = s.n_allocations;
	}
	/* One array, sized for the largest settlement, reused for each. */
	allocs = calloc(most ? most : 1, sizeof *allocs);
	if (!allocs) {
		fail(err, errlen, "", "answer", "out of memory");
		goto out;
	}
	for (size_t i = 0; fn && i < n; i++) {
		read_settlement(json_object_array_get_idx(list, i), i, &s, allocs, err, errlen);
		if (fn(ctx, &s) != 0)
			break;
	}
	if (count)
		*count = n;
	ok = true;
out:
	free(allocs);
	json_object_put(root);
	return ok;
}
