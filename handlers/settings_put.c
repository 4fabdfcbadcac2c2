/* SPDX-License-Identifier: MIT */
/* PUT /v1/agency-settings: replace the tenant's settings. A body without
 * api_key keeps the stored key; agency_environment staging needs
 * INKASSO_AGENCY_STAGING_URL (422 otherwise). The token's sub and the request
 * id are recorded as the change's actor. The key is checked with the
 * agency's validate call, in the tenant's new environment, when an agency is
 * configured, on the key checker's threads (agency/key_check.h): the request
 * is deferred meanwhile and holds no HTTP thread. The settings are saved in
 * every case, and api_key_valid says what the agency answered (null: no
 * answer, within INKASSO_AGENCY_TIMEOUT_MS). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agency/key_check.h"
#include "handlers/handlers.h"
#include "handlers/json_body.h"
#include "handlers/settings_json.h"
#include "handlers/store_problem.h"
#include "server/app.h"
#include "server/auth.h"
#include "server/config.h"
#include "server/problem.h"

/* A PUT waiting for the agency's answer on the key. */
struct settings_job {
	struct store *store;
	struct key_check *kc;
	struct agency_settings s;
	char tenant[sizeof ((struct auth_claims *)0)->tenant];
	char sub[sizeof ((struct auth_claims *)0)->sub];  /* the actor, "" without a sub */
	char request_id[65];
	void (*wake)(void *wake_ctx);
	void *wake_ctx;
};

/* Saves the settings with their actor and writes the answer, which shows
 * that actor as a GET will. */
static enum handler_result save(struct store *store, const char *tenant, struct agency_settings *s, const char *sub,
				const char *request_id, struct reply *out)
{
	const struct store_actor actor = {.sub = sub[0] ? sub : NULL, .request_id = request_id};
	enum store_result r = store_settings_put(store, tenant, s, &actor);
	if (r != STORE_OK)
		return reply_store_problem(out, r);
	struct buf b = {0};
	const char *json = store_actor_json(&actor, &b);
	snprintf(s->actor, sizeof s->actor, "%s", json ? json : "");
	buf_free(&b);
	reply_json(out, 200);
	settings_json_write(&out->body, s);
	return HANDLER_ANSWERED;
}

static void job_free(struct settings_job *j)
{
	explicit_bzero(&j->s, sizeof j->s); /* the api key */
	free(j);
}

/* On a key checker thread, or at once when the check cannot be queued. */
static void key_checked(void *ctx, int valid)
{
	struct settings_job *j = ctx;
	j->s.api_key_valid = valid;
	j->wake(j->wake_ctx);
}

static void check_start(void *job, void (*wake)(void *), void *wake_ctx)
{
	struct settings_job *j = job;
	j->wake = wake;
	j->wake_ctx = wake_ctx;
	key_check_submit(j->kc, j->s.environment, j->s.api_key, key_checked, j);
}

static void check_finish(void *job, struct reply *out)
{
	struct settings_job *j = job;
	save(j->store, j->tenant, &j->s, j->sub, j->request_id, out);
	job_free(j);
}

enum handler_result handle_settings_put(const struct request *req, struct reply *out)
{
	json_object *body = json_body_object_or_problem(req, out);
	if (!body)
		return HANDLER_ANSWERED;
	struct agency_settings s, stored;
	struct field_errors errs = {0};
	enum handler_result done = HANDLER_ANSWERED;
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
	bool ok = settings_from_json(body, s.api_key_set, &s, &errs);
	if (s.environment == AGENCY_ENV_STAGING && (!req->app->cfg || !req->app->cfg->agency_staging_url[0])) {
		field_errors_add(&errs, "/agency_environment", "environment_not_configured",
				 "this service has no staging agency (INKASSO_AGENCY_STAGING_URL is not set)");
		ok = false;
	}
	if (!ok) {
		reply_field_problem(out, PROBLEM_VALIDATION_FAILED, &errs);
		goto out;
	}
	memcpy(s.updated_at, req->now, sizeof s.updated_at);
	s.api_key_valid = -1;
	if (!req->app->key_check) { /* no agency configured: nothing to ask */
		done = save(req->app->store, req->claims->tenant, &s, req->claims->sub, req->request_id, out);
		goto out;
	}
	struct settings_job *j = calloc(1, sizeof *j);
	if (!j) {
		reply_problem(out, PROBLEM_INTERNAL_ERROR, NULL);
		goto out;
	}
	j->store = req->app->store;
	j->kc = req->app->key_check;
	j->s = s;
	memcpy(j->tenant, req->claims->tenant, sizeof j->tenant);
	memcpy(j->sub, req->claims->sub, sizeof j->sub);
	snprintf(j->request_id, sizeof j->request_id, "%s", req->request_id);
	*req->defer = (struct deferral){.job = j, .start = check_start, .finish = check_finish};
	done = HANDLER_DEFERRED;
out:
	explicit_bzero(&s, sizeof s);
	explicit_bzero(&stored, sizeof stored);
	field_errors_free(&errs);
	json_object_put(body);
	return done;
}
