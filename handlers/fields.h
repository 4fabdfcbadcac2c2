/* SPDX-License-Identifier: MIT */
/* Members of the small request bodies (payments, actions): read by type,
 * texts bounded in characters rather than bytes, every error collected into
 * a struct field_errors with the member's JSON pointer. */
#ifndef INKASSO_FIELDS_H
#define INKASSO_FIELDS_H
#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "server/problem.h"

enum fields_got {
	FIELDS_ABSENT, /* missing or null */
	FIELDS_OK,
	FIELDS_BAD,    /* an error was added */
};

/* Number of characters (code points) of s. s is valid UTF-8: request bodies
 * are checked before they are parsed (json_body.h). */
size_t fields_chars(const char *s);

/* Reads the string member key of o into *out (borrowed from o). Missing or
 * null: FIELDS_ABSENT, plus a `required` error when required. Not a string:
 * `invalid_type`; more than max_chars characters: `too_long`. */
enum fields_got fields_text(json_object *o, const char *key, size_t max_chars, bool required,
			    const char **out, struct field_errors *errs);

#endif
