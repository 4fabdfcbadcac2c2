/* SPDX-License-Identifier: MIT */
#include "handlers/json_body.h"

#include "lib/json_strict.h"
#include "server/problem.h"

json_object *json_body_parse(const char *body, size_t len, char *why, size_t whylen)
{
	enum json_strict_error e;
	return json_strict_parse(body, len, JSON_BODY_DEPTH, true, &e, why, whylen);
}

json_object *json_body_object_or_problem(const struct request *req, struct reply *out)
{
	char why[300];
	json_object *o = json_body_parse(req->body, req->body_len, why, sizeof why);
	if (!o)
		reply_problem(out, PROBLEM_MALFORMED_JSON, why);
	return o;
}
