/* SPDX-License-Identifier: MIT */
/* POST /api/v1/partner/invoice/action: the creditor's actions on a case,
 * recorded in order and applied all or none. Answered PENDING, as the
 * agency processes actions later; the effect shows in the case details. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_app.h"
#include "sim/sim_handlers.h"
#include "sim/sim_json.h"
#include "sim/sim_money.h"
#include "sim/sim_store.h"

#define SIM_ACTIONS_MAX 100  /* per request */
#define SIM_COMMENT_MAX 1000 /* bytes; the service itself caps comments at 300 characters */
#define SIM_REFERENCE_MAX 140

static bool sim_code_known(const char *code)
{
	static const char *const codes[] = {"DIRECTPAYMENT", "COMMENT", "WITHDRAW",
					    "PAUSE",	     "RESUME",	"OBJECTION"};
	for (size_t i = 0; code && i < sizeof codes / sizeof codes[0]; i++)
		if (strcmp(code, codes[i]) == 0)
			return true;
	return false;
}

/* The payment fields of a DIRECTPAYMENT's data. */
static const char *sim_payment_why(struct json_object *data, struct sim_action *a)
{
	a->currency = sim_json_string(data, "currency");
	a->payment_date = sim_json_string(data, "paymentDate");
	a->reference = sim_json_string(data, "reference");
	a->payment_method = sim_json_string(data, "paymentMethod");
	if (!sim_currency_valid(a->currency))
		return "data.currency must be an ISO 4217 code";
	if (!sim_money_from_json(sim_json_member(data, "amount"), sim_currency_digits(a->currency),
				 &a->amount) ||
	    a->amount == 0)
		return "data.amount must be a positive number in the currency's minor digits";
	a->has_amount = true;
	if (!sim_date_valid(a->payment_date))
		return "data.paymentDate must be a date (YYYY-MM-DD)";
	if (!sim_json_string_or_absent(data, "reference") ||
	    (a->reference && strlen(a->reference) > SIM_REFERENCE_MAX))
		return "data.reference must be a string of at most 140 characters";
	if (!a->payment_method || (strcmp(a->payment_method, "PAYMENT") != 0 &&
				   strcmp(a->payment_method, "CREDIT_NOTE") != 0))
		return "data.paymentMethod must be PAYMENT or CREDIT_NOTE";
	return NULL;
}

/* Reads one action into *a (strings borrowed from the body); NULL or why not. */
static const char *sim_action_why(struct json_object *obj, struct sim_action *a)
{
	memset(a, 0, sizeof *a);
	if (!obj || !json_object_is_type(obj, json_type_object))
		return "each action must be an object";
	a->code = sim_json_string(obj, "code");
	if (!sim_code_known(a->code))
		return "code must be one of DIRECTPAYMENT COMMENT WITHDRAW PAUSE RESUME OBJECTION";
	a->comment = sim_json_string(obj, "comment");
	if (!sim_json_string_or_absent(obj, "comment") ||
	    (a->comment && strlen(a->comment) > SIM_COMMENT_MAX))
		return "comment must be a string of at most 1000 bytes";
	struct json_object *data = sim_json_object(obj, "data");
	if (!data)
		return "data must be an object";
	a->invoice_number = sim_json_string(data, "invoiceNumber");
	a->case_id = sim_json_string(data, "caseId");
	if (!sim_json_string_or_absent(data, "invoiceNumber") ||
	    !sim_json_string_or_absent(data, "caseId"))
		return "data.invoiceNumber and data.caseId must be strings";
	if ((!a->invoice_number || !a->invoice_number[0]) && (!a->case_id || !a->case_id[0]))
		return "data.invoiceNumber or data.caseId is required";
	if (strcmp(a->code, "DIRECTPAYMENT") == 0)
		return sim_payment_why(data, a);
	return NULL;
}

int sim_api_action(const struct sim_request *r, struct buf *out)
{
	struct sim_action *acts = NULL;
	int status;
	struct json_object *list = sim_json_array(r->body, "actions");
	size_t n = list ? json_object_array_length(list) : 0;
	if (n == 0 || n > SIM_ACTIONS_MAX) {
		status = sim_reply_message(out, 400, "actions must be an array of 1 to 100 actions");
		goto out;
	}
	acts = calloc(n, sizeof *acts);
	if (!acts) {
		status = sim_reply_message(out, 500, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *why = sim_action_why(json_object_array_get_idx(list, i), &acts[i]);
		if (why) {
			char msg[160];
			snprintf(msg, sizeof msg, "actions[%zu]: %s", i, why);
			status = sim_reply_message(out, 400, msg);
			goto out;
		}
	}
	size_t bad = 0;
	const char *why = NULL;
	char msg[160];
	switch (sim_store_actions_apply(r->app->store, r->api_key, acts, n, sim_now_ms(), &bad,
					&why)) {
	case SIM_STORE_OK:
		buf_puts(out, "{\"actions\":[");
		for (size_t i = 0; i < n; i++)
			buf_puts(out, i ? ",{\"status\":\"PENDING\"}" : "{\"status\":\"PENDING\"}");
		buf_puts(out, "]}");
		status = 200;
		break;
	case SIM_STORE_NONE:
		snprintf(msg, sizeof msg, "actions[%zu]: %s not found", bad,
			 acts[bad].case_id && acts[bad].case_id[0] ? "case" : "invoice");
		status = sim_reply_message(out, 404, msg);
		break;
	case SIM_STORE_INVALID:
		snprintf(msg, sizeof msg, "actions[%zu]: %s", bad, why);
		status = sim_reply_message(out, 400, msg);
		break;
	default:
		status = sim_reply_message(out, 500, "the simulator could not record the actions");
		break;
	}
out:
	free(acts);
	return status;
}
