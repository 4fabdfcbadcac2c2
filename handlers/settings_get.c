/* SPDX-License-Identifier: MIT */
/* GET /v1/agency-settings: the tenant's settings, api key hidden. */
#include "handlers/handlers.h"
#include "handlers/settings_json.h"
#include "handlers/store_problem.h"
#include "server/app.h"
#include "server/auth.h"

enum handler_result handle_settings_get(const struct request *req, struct reply *out)
{
	struct agency_settings s;
	enum store_result r = store_settings_get(req->app->store, req->claims->tenant, &s);
	if (r == STORE_NOT_FOUND)
		return reply_problem(out, PROBLEM_NOT_FOUND, "this tenant has no agency settings yet; PUT them first");
	if (r != STORE_OK)
		return reply_store_problem(out, r);
	reply_json(out, 200);
	settings_json_write(&out->body, &s);
	return HANDLER_ANSWERED;
}
