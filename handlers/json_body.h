/* SPDX-License-Identifier: MIT */
/* A request body as a JSON object, parsed strictly (lib/json_strict.h), or
 * the 400 that says why not. */
#ifndef INKASSO_JSON_BODY_H
#define INKASSO_JSON_BODY_H

#include <json-c/json.h>

#include "lib/json_read.h"
#include "server/http.h"

#define JSON_BODY_DEPTH 16

/* Returns the body as a JSON object (caller puts it), or NULL with a 400
 * malformed_json problem in out that says what is wrong and where. */
json_object *json_body_object_or_problem(const struct request *req, struct reply *out);
/* The body as a JSON object read by fields (lib/json_read.h; dates not after
 * req->today), or NULL with the problem in out: a 400 for a body that is not
 * a JSON object, a 422 with every field error. The caller puts the object,
 * which the fields' destinations borrow from. */
json_object *json_body_read_or_problem(const struct request *req, const struct jr_field *fields, struct reply *out);
/* json_body_read_or_problem with the rules the table cannot say: check
 * (may be NULL) adds its errors after the table's, and one 422 reports
 * them all. */
json_object *json_body_read_checked(const struct request *req, const struct jr_field *fields,
				    void (*check)(void *ctx, json_object *body, struct field_errors *errs), void *ctx,
				    struct reply *out);
/* The same on raw bytes, for tests and fuzzing: NULL with a message in
 * why (size whylen) instead of a reply. */
json_object *json_body_parse(const char *body, size_t len, char *why, size_t whylen);

#endif
