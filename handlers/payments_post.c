/* SPDX-License-Identifier: MIT */
/* POST /v1/collection-cases/{id}/payments: money the creditor received
 * directly, or a credit note. The balance changes at once; the outbox
 * forwards it to the agency as a DIRECTPAYMENT, after the case itself. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "handlers/after_json.h"
#include "lib/dates.h"
#include "handlers/fields.h"
#include "handlers/handlers.h"
#include "handlers/json_body.h"
#include "lib/money.h"
#include "handlers/store_problem.h"
#include "server/app.h"
#include "server/auth.h"
#include "lib/ids.h"

#define REFERENCE_MAX 100 /* characters */

/* A valid body; strings borrowed from the parsed JSON. */
struct payment_input {
	const char *kind;
	int64_t amount;
	const char *paid_on;
	const char *reference; /* NULL when absent */
};

static void check_kind(json_object *body, struct payment_input *in, struct field_errors *errs)
{
	const char *kind;
	in->kind = "payment"; /* the default: a payment is what is usually reported */
	if (fields_text(body, "kind", 16, false, &kind, errs) != FIELDS_OK)
		return;
	if (strcmp(kind, "payment") && strcmp(kind, "credit_note"))
		field_errors_add(errs, "/kind", "invalid_value", "kind must be payment or credit_note");
	else
		in->kind = kind;
}

static void check_amount(json_object *body, struct payment_input *in, struct field_errors *errs)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(body, "amount", &v) || !v) {
		field_errors_add(errs, "/amount", "required", "amount is required");
		return;
	}
	/* json_type_int only: json-c would turn "12", 12.5 or 1e30 into a number. */
	if (!json_object_is_type(v, json_type_int)) {
		field_errors_add(errs, "/amount", "invalid_type",
				 "amount must be an integer amount in minor units");
		return;
	}
	in->amount = json_object_get_int64(v);
	if (in->amount <= 0 || in->amount > MONEY_MAX)
		field_errors_add(errs, "/amount", "invalid_amount",
				 "amount must be from 1 to %" PRId64 " minor units", MONEY_MAX);
}

static void check_paid_on(json_object *body, const char *today, struct payment_input *in,
			  struct field_errors *errs)
{
	/* A generous bound: a wrong date is invalid_date, not too_long. */
	if (fields_text(body, "paid_on", 64, true, &in->paid_on, errs) != FIELDS_OK)
		return;
	if (!dates_valid(in->paid_on))
		field_errors_add(errs, "/paid_on", "invalid_date", "paid_on must be a calendar date YYYY-MM-DD");
	else if (dates_compare(in->paid_on, today) > 0)
		field_errors_add(errs, "/paid_on", "invalid_date", "paid_on %s is in the future (today is %s)",
				 in->paid_on, today);
}

/* Fills in from body; every error at once into a 422 in out. */
static bool payment_from_json_or_problem(json_object *body, const char *today,
					 struct payment_input *in, struct reply *out)
{
	struct field_errors errs = {0};
	check_kind(body, in, &errs);
	check_amount(body, in, &errs);
	check_paid_on(body, today, in, &errs);
	fields_text(body, "reference", REFERENCE_MAX, false, &in->reference, &errs);
	bool ok = errs.n == 0;
	if (!ok)
		reply_field_problem(out, PROBLEM_VALIDATION_FAILED, &errs);
	field_errors_free(&errs);
	return ok;
}

/* The 422 of an amount above what the debtor still owes. */
static enum handler_result reply_above_remaining(struct reply *out, int64_t amount, int64_t remaining)
{
	struct field_errors errs = {0};
	field_errors_add(&errs, "/amount", "invalid_amount",
			 "amount %" PRId64 " is above the remaining balance of %" PRId64, amount, remaining);
	reply_field_problem(out, PROBLEM_VALIDATION_FAILED, &errs);
	field_errors_free(&errs);
	return HANDLER_ANSWERED;
}

static enum handler_result register_payment(const struct request *req, const struct payment_input *in,
			    struct reply *out)
{
	struct payment_add_result res;
	enum payment_kind kind = strcmp(in->kind, "credit_note") ? PAYMENT_PAYMENT : PAYMENT_CREDIT_NOTE;
	enum store_result r = store_payment_add(req->app->store, req->claims->tenant, req->path_id,
						kind, in->amount, in->paid_on, in->reference,
						req->now, &res);
	char detail[96];
	switch (r) {
	case STORE_OK:
		break;
	case STORE_NOT_FOUND:
		return reply_problem(out, PROBLEM_NOT_FOUND, "no such case");
	case STORE_STATE:
		snprintf(detail, sizeof detail, "the case is %s", res.status);
		return reply_problem(out, PROBLEM_INVALID_STATE, detail);
	case STORE_LIMIT:
		return reply_above_remaining(out, in->amount, res.remaining);
	default:
		return reply_store_problem(out, r);
	}
	struct payment_row p = {
		.id = res.id, .kind = kind, .amount = in->amount, .paid_on = in->paid_on,
		.reference = in->reference, .created_at = req->now, .forwarded = false,
	};
	reply_json(out, 201);
	after_json_payment(&out->body, &p);
	return HANDLER_ANSWERED;
}

enum handler_result handle_payments_post(const struct request *req, struct reply *out)
{
	if (!ids_valid("cc_", req->path_id))
		return reply_problem(out, PROBLEM_NOT_FOUND, "no such case");
	json_object *body = json_body_object_or_problem(req, out);
	if (!body)
		return HANDLER_ANSWERED;
	struct payment_input in = {0};
	if (payment_from_json_or_problem(body, req->today, &in, out))
		register_payment(req, &in, out);
	json_object_put(body);
	return HANDLER_ANSWERED;
}
