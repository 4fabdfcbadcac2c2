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
#include "handlers/idempotency.h"
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

/* What the 201 body is made of, for the answer and its record alike. */
struct payment_answer {
	const struct request *req;
	const struct payment_input *in;
	const struct payment_add_result *res;
	const char *actor;
};

/* The 201 body; the store calls it inside its transaction when the answer
 * is recorded (res filled by then). */
static bool write_payment(void *ctx, struct buf *body, char *location, size_t loclen)
{
	(void)location, (void)loclen;
	const struct payment_answer *a = ctx;
	struct payment_row p = {
		.id = a->res->id, .kind = (enum payment_kind)a->in->kind, .amount = a->in->amount,
		.applied = a->in->amount, .paid_on = a->in->paid_on, .reference = a->in->reference,
		.source = "api", .created_at = a->req->now, .forwarded = false, .actor = a->actor,
	};
	after_json_payment(body, &p);
	return !body->oom;
}

static enum handler_result register_payment(const struct request *req, const struct payment_input *in,
					    struct idem *idem, struct reply *out)
{
	struct payment_add_result res;
	struct buf actor = {0};
	struct store_request rq = idem_store_request(req, idem);
	struct payment_answer answer = {req, in, &res, store_actor_json(&rq.actor, &actor)};
	idem->store.render = write_payment;
	idem->store.render_ctx = &answer;
	enum store_result r = store_payment_add(req->app->store, &rq, req->path_id, (enum payment_kind)in->kind,
						in->amount, in->paid_on, in->reference, &res);
	if (idem_answered(r, idem, out)) {
		/* answered: the first request's answer, or the reused key */
	} else if (r == STORE_DUPLICATE) {
		reply_duplicate_payment(out, res.id);
	} else if (r == STORE_LIMIT) {
		reply_above_remaining(out, in->amount, res.remaining);
	} else if (r != STORE_OK) {
		char detail[96];
		snprintf(detail, sizeof detail, "the case is %s", res.status);
		reply_case_problem(out, r, detail);
	} else {
		reply_json(out, 201);
		write_payment(&answer, &out->body, NULL, 0);
	}
	buf_free(&actor);
	return HANDLER_ANSWERED;
}

enum handler_result handle_payments_post(const struct request *req, struct reply *out)
{
	struct idem idem;
	if (!idem_begin(req, 201, &idem, out)) /* the key before every other rule */
		return HANDLER_ANSWERED;
	if (!ids_valid("cc_", req->path_id)) {
		idem_free(&idem);
		return reply_problem(out, PROBLEM_NOT_FOUND, "no such case");
	}
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
		register_payment(req, &in, &idem, out);
	json_object_put(body);
	idem_free(&idem);
	return HANDLER_ANSWERED;
}
