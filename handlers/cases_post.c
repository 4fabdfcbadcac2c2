/* SPDX-License-Identifier: MIT */
/* POST /v1/collection-cases: validate, store durably with its outbox row and
 * idempotency record in one transaction, answer 201 only after COMMIT.
 * POST /v1/collection-cases/preview: the same checks, nothing stored. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/after_json.h"
#include "handlers/case_json.h"
#include "handlers/case_validate.h"
#include "handlers/handlers.h"
#include "handlers/idempotency.h"
#include "handlers/json_body.h"
#include "handlers/store_problem.h"
#include "lib/digest.h"
#include "lib/ids.h"
#include "lib/json_read.h"
#include "lib/jsonw.h"
#include "server/app.h"
#include "server/auth.h"

/* The view of a new (or previewed) case: borrowed from in. */
static void case_row_of(const struct case_input *in, const char *id, const char *now, struct case_row *c)
{
	memset(c, 0, sizeof *c);
	c->id = id;
	c->status = "pending";
	c->service = in->service;
	c->debtor_type = in->debtor_type;
	c->your_reference = in->your_reference[0] ? in->your_reference : NULL;
	c->invoice_number = in->invoice_number;
	c->invoice_json = in->invoice_json;
	c->debtor_json = in->debtor_json;
	c->currency = in->currency;
	/* The claim handed over is what is still outstanding; fees are costs. */
	c->original = in->outstanding_amount;
	c->remaining = in->outstanding_amount;
	c->costs = in->fees;
	c->created_at = now;
	c->updated_at = now;
}

/* Writes the 201 body: the case detail as a read of it answers, with its
 * first event, empty lists, and its delivery: the create queued for the
 * agency in the same transaction, due since then. */
static void write_created(struct buf *b, const struct case_row *c, const char *actor)
{
	case_json_open(b, c);
	struct case_event_row first = {.seq = 1, .at = c->created_at, .to = "pending", .source = "api", .actor = actor};
	jw_key(b, false, "events");
	buf_putc(b, '[');
	case_json_event(b, &first);
	buf_puts(b, "],\"payments\":[],\"actions\":[],\"settlements\":[]");
	const struct case_delivery_row queued = {
		.kind = OUTBOX_CREATE, .state = "pending", .updated_at = c->created_at,
	};
	jw_key(b, false, "delivery");
	after_json_delivery(b, &queued);
	buf_putc(b, '}');
}

/* Parses, loads the settings and validates; on failure the problem is in out. */
static bool validated_or_problem(const struct request *req, struct case_input *in, struct reply *out)
{
	json_object *body = json_body_object_or_problem(req, out);
	if (!body)
		return false;
	bool ok = false;
	struct field_errors errs = {0};
	struct agency_settings s;
	enum store_result r = store_settings_get(req->app->store, req->claims->tenant, &s);
	if (r == STORE_NOT_FOUND || (r == STORE_OK && !s.enabled)) {
		reply_problem(out, PROBLEM_INTEGRATION_NOT_CONFIGURED,
			      "PUT /v1/agency-settings with enabled: true before sending cases");
		goto out;
	}
	if (r != STORE_OK) {
		reply_store_problem(out, r);
		goto out;
	}
	if (!case_validate(body, &s, req->today, in, &errs)) {
		if (errs.n)
			reply_field_problem(out, PROBLEM_VALIDATION_FAILED, &errs);
		else /* refused without a field error: it ran out of memory */
			reply_problem(out, PROBLEM_INTERNAL_ERROR, NULL);
		goto out;
	}
	ok = true;
out:
	field_errors_free(&errs);
	json_object_put(body);
	return ok;
}

/* A create on its way through the store's group commit: everything the
 * store reads until the COMMIT lives here, not on the HTTP thread's stack. */
struct create_job {
	struct store *store;
	struct case_input in;
	struct case_new n;
	struct case_create_result res;
	enum store_result result;   /* set by the committer, before wake */
	void (*wake)(void *wake_ctx);
	void *wake_ctx;
	struct idem idem;
	struct buf created; /* the 201 body, also stored for replays */
	struct buf actor;   /* the actor's JSON, in the body's first event */
	char id[40];
	char tenant[sizeof ((struct auth_claims *)0)->tenant];
	char sub[sizeof ((struct auth_claims *)0)->sub];
	char request_id[65];
	char now[25];
	char location[64];
	char nid_hash[DIGEST_HEX_LEN];
};

static void create_job_free(struct create_job *j)
{
	free(j->res.replay.body);
	idem_free(&j->idem);
	buf_free(&j->actor);
	buf_free(&j->created);
	case_input_free(&j->in);
	free(j);
}

/* On the committer thread, after the COMMIT (or its failure). */
static void create_done(void *job, enum store_result result)
{
	struct create_job *j = job;
	j->result = result;
	j->wake(j->wake_ctx);
}

static void create_start(void *job, void (*wake)(void *), void *wake_ctx)
{
	struct create_job *j = job;
	j->wake = wake;
	j->wake_ctx = wake_ctx;
	store_case_create_async(j->store, &j->n, &j->res, create_done, j);
}

/* After the COMMIT that held the create (or its failure). */
static void create_finish(void *job, struct reply *out)
{
	struct create_job *j = job;
	switch (j->result) {
	case STORE_OK:
		reply_json(out, 201);
		buf_append(&out->body, j->created.data, j->created.len);
		snprintf(out->location, sizeof out->location, "%s", j->location);
		break;
	case STORE_DUPLICATE:
		reply_duplicate(out, j->res.case_id);
		break;
	case STORE_REPLAY: /* the same key committed while we validated */
		j->idem.replay = j->res.replay;
		j->res.replay.body = NULL;
		idem_answered(STORE_REPLAY, &j->idem, out);
		break;
	case STORE_KEY_REUSED:
		idem_answered(STORE_KEY_REUSED, &j->idem, out);
		break;
	case STORE_BUSY:
		reply_store_problem(out, STORE_BUSY);
		break;
	default:
		reply_store_problem(out, STORE_HARD_ERROR);
		break;
	}
	create_job_free(j);
}

enum handler_result handle_cases_post(const struct request *req, struct reply *out)
{
	struct create_job *j = calloc(1, sizeof *j);
	if (!j)
		return reply_problem(out, PROBLEM_INTERNAL_ERROR, NULL);
	/* The key before every rule: a replay skips them all. */
	if (!idem_begin(req, 201, &j->idem, out) || !validated_or_problem(req, &j->in, out))
		goto refused;
	if (!ids_new("cc_", j->id, sizeof j->id)) {
		reply_problem(out, PROBLEM_INTERNAL_ERROR, NULL);
		goto refused;
	}
	j->store = req->app->store;
	snprintf(j->tenant, sizeof j->tenant, "%s", req->claims->tenant);
	snprintf(j->now, sizeof j->now, "%s", req->now);
	struct case_input *in = &j->in;
	struct case_new *n = &j->n;
	case_row_of(in, j->id, j->now, &n->c);
	n->c.tenant = j->tenant;
	snprintf(j->sub, sizeof j->sub, "%s", req->claims->sub);
	snprintf(j->request_id, sizeof j->request_id, "%s", req->request_id);
	n->actor = (struct store_actor){.sub = j->sub[0] ? j->sub : NULL, .request_id = j->request_id};
	snprintf(j->location, sizeof j->location, "/v1/collection-cases/%s", j->id);
	write_created(&j->created, &n->c, store_actor_json(&n->actor, &j->actor));
	if (j->created.oom) {
		reply_problem(out, PROBLEM_INTERNAL_ERROR, NULL);
		goto refused;
	}
	if (in->national_id[0])
		digest_national_id(req->app->id_hash_key, in->national_id, j->nid_hash);
	n->debtor_name = in->debtor_name[0] ? in->debtor_name : NULL;
	n->business_name = in->business_name[0] ? in->business_name : NULL;
	n->org_number = in->org_number[0] ? in->org_number : NULL;
	n->date_of_birth = in->date_of_birth[0] ? in->date_of_birth : NULL;
	n->national_id = in->national_id[0] ? in->national_id : NULL;
	n->national_id_hash = in->national_id[0] ? j->nid_hash : NULL;
	n->idem = j->idem.store; /* key NULL without a header: nothing recorded */
	n->idem.body = j->created.data;
	n->idem.body_len = j->created.len;
	n->idem.location = j->location;
	/* The answer comes after the group commit: request.c suspends the
	 * connection, create_start queues the job, create_finish replies. */
	*req->defer = (struct deferral){.job = j, .start = create_start, .finish = create_finish};
	return HANDLER_DEFERRED;
refused:
	create_job_free(j);
	return HANDLER_ANSWERED;
}

/* Finds a live case for the invoice number (preview's duplicate check). */
struct dup_probe {
	char id[40];
};

static int note_dup(void *ctx, const struct case_row *c)
{
	struct dup_probe *p = ctx;
	snprintf(p->id, sizeof p->id, "%s", c->id);
	return 1;
}

enum handler_result handle_cases_preview(const struct request *req, struct reply *out)
{
	struct case_input in = {0};
	/* A preview changes nothing and records nothing; its key is still
	 * checked, so that a key of another request is refused here too. */
	struct idem idem;
	bool go_on = idem_begin(req, 200, &idem, out);
	idem_free(&idem);
	if (!go_on || !validated_or_problem(req, &in, out))
		goto out;
	struct case_filter f = {
		.tenant = req->claims->tenant,
		.status_mask = ~((1u << CASE_WITHDRAWN) | (1u << CASE_REJECTED)) & ((1u << CASE__COUNT) - 1),
		.invoice_number = in.invoice_number,
		.limit = 1,
	};
	struct dup_probe probe = {{0}};
	bool more;
	enum store_result r = store_case_list(req->app->store, &f, note_dup, &probe, &more);
	if (r < 0) {
		reply_store_problem(out, r);
		goto out;
	}
	if (probe.id[0]) {
		reply_duplicate(out, probe.id);
		goto out;
	}
	struct case_row c;
	case_row_of(&in, NULL, NULL, &c);
	reply_json(out, 200);
	case_json_open(&out->body, &c);
	jw_kstr(&out->body, false, "earliest_send_date", in.earliest_send_date);
	buf_putc(&out->body, '}');
out:
	case_input_free(&in);
	return HANDLER_ANSWERED;
}
