/* SPDX-License-Identifier: MIT */
/* POST /v1/collection-cases/{id}/actions: a comment, withdraw, pause, resume
 * or dispute for the agency, queued behind the case's earlier rows; 202.
 * Withdrawing a case the agency never received happens at once, here. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "handlers/after_json.h"
#include "handlers/handlers.h"
#include "handlers/idempotency.h"
#include "handlers/json_body.h"
#include "handlers/store_problem.h"
#include "lib/ids.h"
#include "lib/json_read.h"
#include "server/app.h"
#include "server/auth.h"

#define COMMENT_MAX 300 /* characters, the agency's limit */

/* A valid body; strings borrowed from the parsed JSON. */
struct action_input {
	int type;            /* enum action_type */
	const char *comment; /* NULL when absent */
};

/* What the 202 body is made of, for the answer and its record alike. */
struct action_answer {
	const struct request *req;
	const struct action_input *in;
	const struct action_add_result *res;
	const char *actor;
};

/* The 202 body; the store calls it inside its transaction when the answer
 * is recorded (res filled by then). */
static bool write_action(void *ctx, struct buf *body, char *location, size_t loclen)
{
	(void)location, (void)loclen;
	const struct action_answer *a = ctx;
	struct action_row row = {
		.id = a->res->id, .type = (enum action_type)a->in->type, .comment = a->in->comment,
		.state = a->res->state, .created_at = a->req->now, .actor = a->actor,
	};
	after_json_action(body, &row);
	return !body->oom;
}

static enum handler_result register_action(const struct request *req, const struct action_input *in,
					   struct idem *idem, struct reply *out)
{
	struct action_add_result res;
	struct buf actor = {0};
	enum action_type type = (enum action_type)in->type;
	struct store_request rq = idem_store_request(req, idem);
	struct action_answer answer = {req, in, &res, store_actor_json(&rq.actor, &actor)};
	idem->store.render = write_action;
	idem->store.render_ctx = &answer;
	enum store_result r = store_action_add(req->app->store, &rq, req->path_id, type, in->comment, &res);
	if (idem_answered(r, idem, out)) {
		/* answered: the first request's answer, or the reused key */
	} else if (r != STORE_OK) {
		char detail[96];
		snprintf(detail, sizeof detail, "%s is not possible while the case is %s", action_type_name(type),
			 res.status);
		reply_case_problem(out, r, detail);
	} else {
		reply_json(out, 202);
		write_action(&answer, &out->body, NULL, 0);
	}
	buf_free(&actor);
	return HANDLER_ANSWERED;
}

enum handler_result handle_actions_post(const struct request *req, struct reply *out)
{
	struct idem idem;
	if (!idem_begin(req, 202, &idem, out)) /* the key before every other rule */
		return HANDLER_ANSWERED;
	if (!ids_valid("cc_", req->path_id)) {
		idem_free(&idem);
		return reply_problem(out, PROBLEM_NOT_FOUND, "no such case");
	}
	struct action_input in = {.comment = NULL};
	const struct jr_field fields[] = {
		JR_ENUM("type", action_type_names, JR_REQUIRED, &in.type),
		JR_TEXT("comment", COMMENT_MAX, JR_CHARS, &in.comment),
		JR_END,
	};
	json_object *body = json_body_read_or_problem(req, fields, out);
	if (body)
		register_action(req, &in, &idem, out);
	json_object_put(body);
	idem_free(&idem);
	return HANDLER_ANSWERED;
}
