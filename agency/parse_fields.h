/* SPDX-License-Identifier: MIT */
/* The typed member readers the agency parsers share (parse_fields.c), each
 * failing with "path.key: what" in err (they name fields, never values: the
 * reasons are logged). Not an API: agency/parse.h is. */
#ifndef INKASSO_AGENCY_PARSE_FIELDS_H
#define INKASSO_AGENCY_PARSE_FIELDS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* Writes "path.key: what" into err and returns false, so that every check
 * reads `return fail(...)`. */
bool fail(char *err, size_t errlen, const char *path, const char *key, const char *what);

/* The whole answer as one strictly parsed JSON value of top-level type
 * (json_type_object or json_type_array); NULL with the reason in err. */
json_object *parse_answer(const char *data, size_t len, enum json_type type, char *err, size_t errlen);

/* An object member that must be of type (json_type_object or _array). */
json_object *need_member(json_object *o, const char *path, const char *key, enum json_type type, char *err,
			 size_t errlen);

/* Copies free text, cut at outlen - 1 bytes on a UTF-8 boundary, control
 * characters as spaces (the text ends up in events and logs: CWE-117). */
void copy_text(const char *s, size_t n, char *out, size_t outlen);

enum str_kind {
	STR_ID,    /* 1..AGENCY_ID_MAX bytes (buffer bound), no control characters */
	STR_TOKEN, /* [A-Za-z0-9_-], 1..AGENCY_TOKEN_MAX */
	STR_TEXT,  /* anything, cut and cleaned (copy_text) */
	STR_DATE,  /* YYYY-MM-DD, a real date */
	STR_TS,    /* YYYY-MM-DD or an RFC 3339 timestamp */
};

/* Reads a string member into out (size outlen) as kind. A required member
 * must be present and non-null; an optional one absent or null gives "". */
bool read_str(json_object *o, const char *path, const char *key, enum str_kind kind, bool required, char *out,
	      size_t outlen, char *err, size_t errlen);
/* An identifier that some agencies send as a number: a non-negative JSON
 * integer becomes its digits; strings are read as STR_ID. */
bool read_id_or_number(json_object *o, const char *path, const char *key, bool required, char *out, size_t outlen,
		       char *err, size_t errlen);
/* An amount member: a JSON number (never a string) in `digits` minor digits,
 * >= 0, read from its source text, never through a double. */
bool read_amount(json_object *o, const char *path, const char *key, int digits, int64_t *out, char *err,
		 size_t errlen);
/* A currency member: an ISO 4217 code we know; *digits gets its minor digits. */
bool read_currency(json_object *o, const char *path, const char *key, char out[4], int *digits, char *err,
		   size_t errlen);

#endif
