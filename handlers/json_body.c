/* SPDX-License-Identifier: MIT */
#include "handlers/json_body.h"

#include "lib/json_strict.h"
#include "server/problem.h"

json_object *json_body_parse(const char *body, size_t len, char *why, size_t whylen)
{
	enum json_strict_error e;
	return json_strict_parse(body, len, JSON_BODY_DEPTH, true, &e, why, whylen);
}

json_object *json_body_read_or_problem(const struct request *req, const struct jr_field *fields, struct reply *out)
{
	return json_body_read_checked(req, fields, NULL, NULL, out);
}

json_object *json_body_read_checked(const struct request *req, const struct jr_field *fields,
				    void (*check)(void *ctx, json_object *body, struct field_errors *errs), void *ctx,
				    struct reply *out)
{
	json_object *body = json_body_object_or_problem(req, out);
	if (!body)
		return NULL;
	struct field_errors errs = {0};
	bool ok = json_read(body, "", fields, &(const struct jr_context){.errs = &errs, .today = req->today});
	if (check)
		check(ctx, body, &errs);
	if (!ok || errs.n) {
		reply_field_problem(out, PROBLEM_VALIDATION_FAILED, &errs);
		json_object_put(body);
		body = NULL;
	}
	field_errors_free(&errs);
	return body;
}

json_object *json_body_object_or_problem(const struct request *req, struct reply *out)
{
	char why[300];
	json_object *o = json_body_parse(req->body, req->body_len, why, sizeof why);
	if (!o)
		reply_problem(out, PROBLEM_MALFORMED_JSON, why);
	return o;
}
