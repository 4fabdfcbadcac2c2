/* SPDX-License-Identifier: MIT */
/* POST /v1/collection-cases/{id}/payments: money the creditor received
 * directly, or a credit note. The balance changes at once; the outbox
 * forwards it to the agency as a DIRECTPAYMENT, after the case itself. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "handlers/after_json.h"
#include "handlers/handlers.h"
#include "handlers/json_body.h"
#include "handlers/store_problem.h"
#include "lib/ids.h"
#include "lib/json_read.h"
#include "lib/money.h"
#include "server/app.h"
#include "server/auth.h"

#define REFERENCE_MAX 100 /* characters */

/* A valid body; strings borrowed from the parsed JSON. */
struct payment_input {
	int kind;              /* enum payment_kind; a payment unless the body says otherwise */
	int64_t amount;
	const char *paid_on;
	const char *reference; /* NULL when absent */
};

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
	enum payment_kind kind = (enum payment_kind)in->kind;
	enum store_result r = store_payment_add(req->app->store, req->claims->tenant, req->path_id,
						kind, in->amount, in->paid_on, in->reference,
						req->now, &res);
	if (r == STORE_LIMIT)
		return reply_above_remaining(out, in->amount, res.remaining);
	if (r != STORE_OK) {
		char detail[96];
		snprintf(detail, sizeof detail, "the case is %s", res.status);
		return reply_case_problem(out, r, detail);
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
	struct payment_input in = {.kind = PAYMENT_PAYMENT}; /* what is usually reported */
	const struct jr_field fields[] = {
		JR_ENUM("kind", payment_kind_names, 0, &in.kind),
		{.name = "amount", .kind = JR_K_INT, .flags = JR_REQUIRED, .min = 1, .max = MONEY_MAX,
		 .range_code = "invalid_amount", .dst = &in.amount},
		JR_DATE("paid_on", JR_REQUIRED | JR_NOT_FUTURE, &in.paid_on),
		JR_TEXT("reference", REFERENCE_MAX, JR_CHARS, &in.reference),
		JR_END,
	};
	json_object *body = json_body_read_or_problem(req, fields, out);
	if (body)
		register_payment(req, &in, out);
	json_object_put(body);
	return HANDLER_ANSWERED;
}
