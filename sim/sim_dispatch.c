/* SPDX-License-Identifier: MIT */
#include "sim/sim_dispatch.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "sim/sim_app.h"
#include "sim/sim_faults.h"
#include "sim/sim_json.h"
#include "sim/sim_routes.h"
#include "sim/sim_store.h"
#include "sim/sim_time.h"

#define SIM_SUBJECTS_MAX 8
#define SIM_SUBJECT_LEN (SIM_NUMBER_MAX + 8)

/* What a 429 is about, so that the next call about the same thing can be
 * checked against its Retry-After: the invoice numbers a call names, else
 * its case ids ("case:<id>"), else the path itself. */
static size_t sim_subjects(const struct sim_request *r, char subj[][SIM_SUBJECT_LEN])
{
	size_t n = 0;
	const char *number = sim_request_query(r, "invoiceNumber");
	const char *case_id = sim_request_query(r, "caseId");
	if (number)
		snprintf(subj[n++], SIM_SUBJECT_LEN, "%s", number);
	else if (case_id)
		snprintf(subj[n++], SIM_SUBJECT_LEN, "case:%s", case_id);
	struct json_object *header = sim_json_object(sim_json_object(r->body, "invoice"), "header");
	const char *posted = sim_json_string(header, "number");
	if (posted && n < SIM_SUBJECTS_MAX)
		snprintf(subj[n++], SIM_SUBJECT_LEN, "%s", posted);
	struct json_object *actions = sim_json_array(r->body, "actions");
	size_t len = actions ? json_object_array_length(actions) : 0;
	for (size_t i = 0; i < len && n < SIM_SUBJECTS_MAX; i++) {
		struct json_object *data = sim_json_object(json_object_array_get_idx(actions, i), "data");
		const char *num = sim_json_string(data, "invoiceNumber");
		const char *cid = sim_json_string(data, "caseId");
		if (num && num[0])
			snprintf(subj[n++], SIM_SUBJECT_LEN, "%s", num);
		else if (cid && cid[0])
			snprintf(subj[n++], SIM_SUBJECT_LEN, "case:%s", cid);
	}
	if (n == 0)
		snprintf(subj[n++], SIM_SUBJECT_LEN, "%s", r->path);
	return n;
}

/* An agency API call: faults are drawn after the Retry-After check, so that
 * a client hammering through 429s is seen even when the next call fails too. */
static void sim_dispatch_api(const struct sim_route *rt, struct sim_request *r,
			     struct sim_outcome *out)
{
	struct sim_app *app = r->app;
	char subj[SIM_SUBJECTS_MAX][SIM_SUBJECT_LEN];
	const char *subjects[SIM_SUBJECTS_MAX];
	size_t n = sim_subjects(r, subj);
	for (size_t i = 0; i < n; i++)
		subjects[i] = subj[i];
	int64_t now = sim_now_ms();
	sim_store_retry_after_check(app->store, r->api_key, subjects, n, now);

	struct sim_fault_decision d;
	sim_faults_decide(app->faults, r->path, &d);
	if (d.status) {
		out->status = sim_reply_message(&out->body, d.status,
						d.status == 429 ? "too many requests" :
								  "simulated agency failure");
		out->fault = d.kind;
		if (d.status == 429) {
			out->retry_after = d.retry_after;
			sim_store_retry_after_record(app->store, r->api_key, subjects, n, now,
						     d.retry_after);
		}
		sim_store_count_call(app->store, r->api_key, r->path, SIM_CALL_FAULTED, false);
		sim_store_attempt_record(app->store, r->api_key, subjects, n, r->method, r->path,
					 out->status, "error", now);
		return;
	}
	out->status = rt->handle(r, &out->body);
	out->drop = d.drop;
	out->delay_ms = d.delay_ms;
	out->fault = d.kind;
	enum sim_call_outcome oc = d.drop ? SIM_CALL_DROPPED :
				   out->status < 300 ? SIM_CALL_OK : SIM_CALL_REJECTED;
	sim_store_count_call(app->store, r->api_key, r->path, oc, d.delay_ms > 0);
	sim_store_attempt_record(app->store, r->api_key, subjects, n, r->method, r->path, out->status,
				 d.kind ? d.kind : out->status < 300 ? "ok" : "rejected", now);
}

/* Checks the api key of an agency call; false with the 401 written. */
static bool sim_key_or_reply(const struct sim_route *rt, struct sim_request *r,
			     struct sim_outcome *out)
{
	const char *why = NULL;
	if (!r->api_key || !r->api_key[0])
		why = "missing api key";
	else if (strlen(r->api_key) > SIM_KEY_MAX)
		why = "invalid api key";
	else if (!(rt->flags & SIM_ROUTE_ANY_KEY) && strcmp(r->api_key, "invalid") == 0)
		why = "invalid api key";
	if (!why)
		return true;
	out->status = sim_reply_message(&out->body, 401, why);
	return false;
}

void sim_dispatch(struct sim_request *r, bool loopback, struct sim_outcome *out)
{
	bool known;
	const struct sim_route *rt = sim_route_find(r->method, r->path, &known, &out->allow);
	if (!rt) {
		out->status = known ? sim_reply_message(&out->body, 405, "method not allowed") :
				      sim_reply_message(&out->body, 404, "not found");
		return;
	}
	if ((rt->flags & SIM_ROUTE_CONTROL) && !loopback) {
		out->status = sim_reply_message(&out->body, 403, "the control API is loopback only");
		return;
	}
	if ((rt->flags & SIM_ROUTE_API) && !sim_key_or_reply(rt, r, out))
		return;
	bool wants_body = rt->flags & (SIM_ROUTE_BODY | SIM_ROUTE_BODY_OPT);
	if (wants_body && (r->raw_len > 0 || (rt->flags & SIM_ROUTE_BODY))) {
		const char *why = NULL;
		r->body = sim_json_parse(r->raw_body, r->raw_len, &why);
		if (!r->body) {
			out->status = sim_reply_message(&out->body, 400, why);
			if (rt->flags & SIM_ROUTE_API)
				sim_store_count_call(r->app->store, r->api_key, r->path,
						     SIM_CALL_REJECTED, false);
			return;
		}
	}
	if (rt->flags & SIM_ROUTE_API)
		sim_dispatch_api(rt, r, out);
	else
		out->status = rt->handle(r, &out->body);
	json_object_put(r->body);
	r->body = NULL;
}
