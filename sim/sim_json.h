/* SPDX-License-Identifier: MIT */
/* Parsing request bodies with json-c without trusting them: strict UTF-8,
 * no NUL, a depth limit, no trailing data, and typed getters that answer
 * NULL rather than converting (json-c would turn "12" into 12). */
#ifndef SIM_JSON_H
#define SIM_JSON_H
#include <stdbool.h>
#include <stddef.h>

struct json_object;

#define SIM_JSON_DEPTH 32 /* deep enough for any agency body, shallow enough for the stack */

/* Parses s[0..n) as one JSON object. Returns a new reference (json_object_put
 * it) or NULL with a static reason in *why. */
struct json_object *sim_json_parse(const char *s, size_t n, const char **why);
/* True if s[0..n) is well-formed UTF-8 (RFC 3629) without NUL bytes. */
bool sim_utf8_valid(const char *s, size_t n);
/* The member key of obj if it is an object, else NULL. Borrowed. */
struct json_object *sim_json_object(struct json_object *obj, const char *key);
/* The member key of obj if it is an array, else NULL. Borrowed. */
struct json_object *sim_json_array(struct json_object *obj, const char *key);
/* The member key of obj if it is present and not null, else NULL. Borrowed. */
struct json_object *sim_json_member(struct json_object *obj, const char *key);
/* The member key of obj as a string without embedded NUL, else NULL (also
 * for a missing member or another type). Owned by obj. */
const char *sim_json_string(struct json_object *obj, const char *key);
/* True if the member key is missing, null, or a string. */
bool sim_json_string_or_absent(struct json_object *obj, const char *key);

#endif
