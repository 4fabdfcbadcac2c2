/* SPDX-License-Identifier: MIT */
/* PUT /v1/agency-settings: replace the tenant's settings. A body without
 * api_key keeps the stored key. The key is checked with the agency's
 * validate call when an agency is configured; the settings are saved in
 * every case and api_key_valid says what the agency answered (null: no
 * answer). */
#include <json-c/json.h>
#include <string.h>

#include "handlers/handlers.h"
#include "handlers/json_body.h"
#include "handlers/settings_json.h"
#include "handlers/store_problem.h"
#include "server/app.h"
#include "server/auth.h"

int handle_settings_put(const struct request *req, struct reply *out)
{
	json_object *body = json_body_object_or_problem(req, out);
	if (!body)
		return out->status;
	struct agency_settings s, stored;
	struct field_errors errs = {0};
	enum store_result r = store_settings_get(req->app->store, req->claims->tenant, &stored);
	if (r != STORE_OK && r != STORE_NOT_FOUND) {
		reply_store_problem(out, r);
		goto out;
	}
	/* PUT replaces: members left out take their defaults (openapi.yaml),
	 * except the api key, which is kept when the body carries none. */
	settings_defaults(&s);
	if (r == STORE_OK && stored.api_key_set) {
		memcpy(s.api_key, stored.api_key, sizeof s.api_key);
		s.api_key_set = true;
		s.api_key_valid = stored.api_key_valid;
	}
	if (!settings_from_json(body, s.api_key_set, &s, &errs)) {
		reply_field_problem(out, PROBLEM_VALIDATION_FAILED, &errs);
		goto out;
	}
	memcpy(s.updated_at, req->now, sizeof s.updated_at);
	r = store_settings_put(req->app->store, req->claims->tenant, &s);
	if (r != STORE_OK) {
		reply_store_problem(out, r);
		goto out;
	}
	reply_json(out, 200);
	settings_json_write(&out->body, &s);
out:
	field_errors_free(&errs);
	json_object_put(body);
	return out->status;
}
