/* SPDX-License-Identifier: MIT */
/* RFC 9457 problem+json answers, from one registry of codes. The registry
 * (problem.c) is mirrored in openapi.yaml (components/schemas/ProblemCode). */
#ifndef INKASSO_PROBLEM_H
#define INKASSO_PROBLEM_H
#include <stddef.h>

#include "server/http.h"

enum problem_code {
	PROBLEM_MALFORMED_JSON,         /* 400 */
	PROBLEM_INVALID_PARAMETER,      /* 400 */
	PROBLEM_INVALID_HEADER,         /* 400 */
	PROBLEM_UNAUTHORIZED,           /* 401 */
	PROBLEM_FORBIDDEN,              /* 403 */
	PROBLEM_NOT_FOUND,              /* 404 */
	PROBLEM_METHOD_NOT_ALLOWED,     /* 405 */
	PROBLEM_REQUEST_TIMEOUT,        /* 408 */
	PROBLEM_DUPLICATE_CASE,         /* 409 */
	PROBLEM_INTEGRATION_NOT_CONFIGURED, /* 409 */
	PROBLEM_INVALID_STATE,          /* 409 */
	PROBLEM_PAYLOAD_TOO_LARGE,      /* 413 */
	PROBLEM_UNSUPPORTED_MEDIA_TYPE, /* 415 */
	PROBLEM_VALIDATION_FAILED,      /* 422 */
	PROBLEM_IDEMPOTENCY_KEY_REUSED, /* 422 */
	PROBLEM_HEADERS_TOO_LARGE,      /* 431 */
	PROBLEM_INTERNAL_ERROR,         /* 500 */
	PROBLEM_SERVICE_UNAVAILABLE,    /* 503 */
	PROBLEM__COUNT
};

/* One field error of a 422: JSON pointer into the request body, a rule code
 * (see openapi.yaml FieldErrorCode) and a human detail. */
struct field_error {
	char pointer[128];
	char code[40];
	char detail[240];
};

/* A list of field errors; all errors of a request are reported at once. */
struct field_errors {
	struct field_error *v;
	size_t n;
	size_t cap;
};

/* Adds an error (printf-style detail). Silently drops past 64 errors: a
 * hostile body must not grow the answer without bound. */
void field_errors_add(struct field_errors *e, const char *pointer, const char *code,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* True if an error with this pointer is already present. */
int field_errors_has(const struct field_errors *e, const char *pointer);
/* Releases the list. NULL-safe. */
void field_errors_free(struct field_errors *e);

/* HTTP status of a code. */
int problem_status(enum problem_code code);
/* Machine-readable code string ("duplicate_case"). */
const char *problem_name(enum problem_code code);

/* Fills out with a problem answer; detail may be NULL. Returns the status. */
int reply_problem(struct reply *out, enum problem_code code, const char *detail);
/* A 400 invalid_parameter naming the query parameter. */
int reply_invalid_parameter(struct reply *out, const char *param, const char *detail);
/* A 422 validation_failed (or another code) with its field errors. */
int reply_field_problem(struct reply *out, enum problem_code code, const struct field_errors *e);
/* A 409 duplicate_case carrying case_id. */
int reply_duplicate(struct reply *out, const char *case_id);

#endif
