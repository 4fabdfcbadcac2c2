/* SPDX-License-Identifier: MIT */
/* Parses JSON text strictly, refusing everything json-c 0.16 would let
 * through (shared/RELIABILITY.md): invalid UTF-8, NUL bytes and "\u0000"
 * escapes, lone surrogate escapes ("\ud800"), single quotes, NaN and
 * Infinity, raw control characters in strings, trailing data, nesting
 * deeper than asked. For request bodies and the agency's answers alike. */
#ifndef INKASSO_JSON_STRICT_H
#define INKASSO_JSON_STRICT_H
#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

/* What was wrong with a text that did not parse. */
enum json_strict_error {
	JSON_STRICT_OK,
	JSON_STRICT_EMPTY,      /* no bytes */
	JSON_STRICT_UTF8,       /* not well-formed UTF-8, or a NUL byte */
	JSON_STRICT_SYNTAX,     /* not JSON (what json-c refuses, and what it should) */
	JSON_STRICT_DEPTH,      /* nested deeper than the depth asked for */
	JSON_STRICT_TRAILING,   /* something after the value */
	JSON_STRICT_NUL,        /* a "\u0000" in a string or a key */
	JSON_STRICT_NOT_OBJECT, /* a value, but object_only was asked */
	JSON_STRICT_NO_MEMORY,
};

/* Parses text[0..len) (not NUL-terminated in general) as one JSON value of
 * at most depth levels; object_only refuses anything but an object. Returns
 * the value (the caller puts it), or NULL with *error set and, in why (size
 * whylen), a sentence saying what is wrong and at which byte: it names
 * offsets and members, never values. */
json_object *json_strict_parse(const char *text, size_t len, int depth, bool object_only,
			       enum json_strict_error *error, char *why, size_t whylen);

#endif
