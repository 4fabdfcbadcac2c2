/* SPDX-License-Identifier: MIT */
/* RFC 9457 problem+json answers, from one registry of codes: PROBLEMS below
 * makes both the enum and the table (problem.c). openapi.yaml's ProblemCode
 * mirrors it, and tests/unit/test_problems.c fails when the two differ. */
#ifndef INKASSO_PROBLEM_H
#define INKASSO_PROBLEM_H
#include <stddef.h>

#include "lib/field_errors.h"
#include "server/http.h"

/* X(enum suffix, HTTP status, code, title) */
#define PROBLEMS(X)                                                                                   \
	X(MALFORMED_JSON, 400, "malformed_json", "The body is not a JSON object")                       \
	X(INVALID_PARAMETER, 400, "invalid_parameter", "A query parameter is not valid")                \
	X(INVALID_HEADER, 400, "invalid_header", "A request header is not valid")                       \
	X(UNAUTHORIZED, 401, "unauthorized", "A valid bearer token is required")                        \
	X(FORBIDDEN, 403, "forbidden", "The token lacks the scope for this operation")                  \
	X(NOT_FOUND, 404, "not_found", "Not found")                                                     \
	X(METHOD_NOT_ALLOWED, 405, "method_not_allowed", "Method not allowed on this path")             \
	X(REQUEST_TIMEOUT, 408, "request_timeout", "The request took too long to arrive")               \
	X(DUPLICATE_CASE, 409, "duplicate_case", "A live case exists for this invoice")                 \
	X(INTEGRATION_NOT_CONFIGURED, 409, "integration_not_configured",                                \
	  "The agency integration is not configured or not enabled")                                    \
	X(INVALID_STATE, 409, "invalid_state", "The case is not in a state that allows this")           \
	X(DUPLICATE_PAYMENT, 409, "duplicate_payment",                                                  \
	  "A payment with this reference is already booked on the case")                               \
	X(LIMIT_REACHED, 409, "limit_reached", "The tenant has as many of these as allowed")            \
	X(PAYLOAD_TOO_LARGE, 413, "payload_too_large", "The body exceeds 64 KiB")                       \
	X(UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type", "The body must be application/json")   \
	X(VALIDATION_FAILED, 422, "validation_failed", "The body is not valid")                         \
	X(IDEMPOTENCY_KEY_REUSED, 422, "idempotency_key_reused",                                        \
	  "This Idempotency-Key was used with a different body")                                        \
	X(RATE_LIMITED, 429, "rate_limited", "Too many requests for this tenant; retry after Retry-After")  \
	X(HEADERS_TOO_LARGE, 431, "headers_too_large", "Request headers are too large")                 \
	X(INTERNAL_ERROR, 500, "internal_error", "Internal error")                                      \
	X(SERVICE_UNAVAILABLE, 503, "service_unavailable", "The service cannot answer now; retry later")

enum problem_code {
#define PROBLEM_ENUM(id, status, name, title) PROBLEM_##id,
	PROBLEMS(PROBLEM_ENUM)
#undef PROBLEM_ENUM
	PROBLEM__COUNT
};

/* HTTP status of a code. */
int problem_status(enum problem_code code);
/* Machine-readable code string ("duplicate_case"). */
const char *problem_name(enum problem_code code);

/* Each fills out with a problem answer and returns HANDLER_ANSWERED, so that
 * a handler can end with `return reply_problem(out, ...)`. */

/* A problem with an optional detail (NULL: none). */
enum handler_result reply_problem(struct reply *out, enum problem_code code, const char *detail);
/* A 400 invalid_parameter naming the query parameter. */
enum handler_result reply_invalid_parameter(struct reply *out, const char *param, const char *detail);
/* A 422 validation_failed (or another code) with its field errors. */
enum handler_result reply_field_problem(struct reply *out, enum problem_code code, const struct field_errors *e);
/* A 409 duplicate_case carrying case_id. */
enum handler_result reply_duplicate(struct reply *out, const char *case_id);
/* A 409 duplicate_payment carrying payment_id. */
enum handler_result reply_duplicate_payment(struct reply *out, const char *payment_id);

#endif
