/* SPDX-License-Identifier: MIT */
/* POST /v1/collection-cases/{id}/actions: a comment, withdraw, pause, resume
 * or dispute for the agency, queued behind the case's earlier rows; 202.
 * Withdrawing a case the agency never received happens at once, here. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "handlers/after_json.h"
#include "handlers/handlers.h"
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

static enum handler_result register_action(const struct request *req, const struct action_input *in,
			   struct reply *out)
{
	struct action_add_result res;
	enum action_type type = (enum action_type)in->type;
	enum store_result r = store_action_add(req->app->store, req->claims->tenant, req->path_id,
					       type, in->comment, req->now, &res);
	if (r != STORE_OK) {
		char detail[96];
		snprintf(detail, sizeof detail, "%s is not possible while the case is %s", action_type_name(type),
			 res.status);
		return reply_case_problem(out, r, detail);
	}
	struct action_row a = {
		.id = res.id, .type = type, .comment = in->comment, .state = res.state,
		.created_at = req->now,
	};
	reply_json(out, 202);
	after_json_action(&out->body, &a);
	return HANDLER_ANSWERED;
}

enum handler_result handle_actions_post(const struct request *req, struct reply *out)
{
	if (!ids_valid("cc_", req->path_id))
		return reply_problem(out, PROBLEM_NOT_FOUND, "no such case");
	struct action_input in = {.comment = NULL};
	const struct jr_field fields[] = {
		JR_ENUM("type", action_type_names, JR_REQUIRED, &in.type),
		JR_TEXT("comment", COMMENT_MAX, JR_CHARS, &in.comment),
		JR_END,
	};
	json_object *body = json_body_read_or_problem(req, fields, out);
	if (body)
		register_action(req, &in, out);
	json_object_put(body);
	return HANDLER_ANSWERED;
}
