/* SPDX-License-Identifier: MIT */
/* Webhook endpoints in and out: the body of a create or a PATCH (url,
 * event_types, description, enabled) read with every error at once, and the
 * endpoint as JSON. */
#ifndef INKASSO_WEBHOOK_JSON_H
#define INKASSO_WEBHOOK_JSON_H
#include <stdbool.h>

#include <json-c/json.h>

#include "lib/buf.h"
#include "server/http.h"
#include "store/store_events.h"

/* An endpoint body; strings borrowed from the parsed JSON. */
struct endpoint_input {
	const char *url;
	const char *types[EVENT__COUNT + 1]; /* the names given, or "*" alone */
	int ntypes;                          /* 0: event_types absent */
	const char *description;
	bool enabled;
	bool has_enabled;                    /* enabled was in the body */
};

/* Reads a create (required: url, event_types) or a PATCH (all optional)
 * body; NULL with the 400 or 422 in out. The caller puts the object. */
json_object *endpoint_body_or_problem(const struct request *req, bool create, struct endpoint_input *in,
				      struct reply *out);
/* Writes the endpoint (its secret too when row->secret is set). */
void endpoint_json(struct buf *b, const struct endpoint_row *row);

#endif
