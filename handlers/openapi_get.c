/* SPDX-License-Identifier: MIT */
/* GET /openapi.yaml: the contract this binary was built with. */
#include "handlers/handlers.h"
#include "server/app.h"
#include "server/problem.h"

enum handler_result handle_openapi(const struct request *req, struct reply *out)
{
	if (!req->app->openapi)
		return reply_problem(out, PROBLEM_NOT_FOUND, "no contract embedded");
	buf_append(&out->body, req->app->openapi, req->app->openapi_len);
	out->status = 200;
	out->content_type = "application/yaml";
	return HANDLER_ANSWERED;
}
