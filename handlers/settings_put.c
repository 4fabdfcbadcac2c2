/* SPDX-License-Identifier: MIT */
/* PUT /v1/agency-settings: replace the tenant's settings. A body without
 * api_key keeps the stored key. The key is checked with the agency's
 * validate call when an agency is configured; the settings are saved in
 * every case and api_key_valid says what the agency answered (null: no
 * answer). The call waits at most INKASSO_AGENCY_TIMEOUT_MS. */
#include <json-c/json.h>
#include <string.h>

#include "handlers/handlers.h"
#include "handlers/json_body.h"
#include "handlers/settings_json.h"
#include "handlers/store_problem.h"
#include "server/app.h"
#include "agency/client.h"
#include "server/auth.h"

/* Asks the agency whether the key is valid: 1, 0, or -1 when it could not
 * say (not configured, unreachable, an answer we cannot read). */
static int check_api_key(const struct config *cfg, const char *api_key)
{
	if (!*cfg->agency_url)
		return -1;
	char err[160];
	struct agency_client *ac =
		agency_client_new(cfg->agency_url, cfg->agency_timeout_ms, cfg->agency_allow_http, err, sizeof err);
	if (!ac)
		return -1;
	struct agency_validation v;
	struct agency_result res;
	int valid = -1;
	switch (agency_validate(ac, api_key, &v, &res)) {
	case AGENCY_OK:
		valid = v.is_valid;
		break;
	case AGENCY_REJECTED: /* 401/403: the agency does not know this key */
		valid = (res.http_status == 401 || res.http_status == 403) ? 0 : -1;
		break;
	default:
		break;
	}
	agency_client_free(ac);
	return valid;
}

enum handler_result handle_settings_put(const struct request *req, struct reply *out)
{
	json_object *body = json_body_object_or_problem(req, out);
	if (!body)
		return HANDLER_ANSWERED;
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
	s.api_key_valid = check_api_key(req->app->cfg, s.api_key);
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
	return HANDLER_ANSWERED;
}
