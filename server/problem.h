/* SPDX-License-Identifier: MIT */
/* RFC 9457 problem+json answers, from one registry of codes: PROBLEMS below
 * makes both the enum and the table (problem.c). openapi.yaml's ProblemCode
 * mirrors it, and tests/unit/test_problems.c fails when the two differ. */
#ifndef INKASSO_PROBLEM_H
#define INKASSO_PROBLEM_H
#include <stddef.h>

#include "lib/field_errors.h"
#include "server/http.h"

/* X(enum suffix, HTTP status, code, title, when it happens, what to do): the
 * last two make the page GET /problems/<code> (handlers/problems_get.c). */
#define PROBLEMS(X)                                                                                                    \
	X(MALFORMED_JSON, 400, "malformed_json", "The body is not a JSON object",                                      \
	  "The request body is not one strict JSON object: a syntax error, invalid UTF-8, a NUL character, a lone "    \
	  "UTF-16 surrogate escape, too deep a nesting, or a JSON value that is not an object.",                       \
	  "Send one JSON object, encoded in UTF-8, with Content-Type: application/json. Nothing was changed.")         \
	X(INVALID_PARAMETER, 400, "invalid_parameter", "A query parameter is not valid",                               \
	  "A query parameter is unknown, given twice, too long or does not parse (a status that does not exist, a "    \
	  "date that is not YYYY-MM-DD, a limit out of range, a cursor this service did not write). The problem's "    \
	  "parameter member names it.",                                                                                \
	  "Fix the parameter named in parameter (the operation's parameters in openapi.yaml list the values each "     \
	  "takes) and send the request again.")                                                                        \
	X(INVALID_HEADER, 400, "invalid_header", "A request header is not valid",                                      \
	  "A request header this service reads has a value it cannot take, such as an Idempotency-Key that is "        \
	  "empty, longer than 255 characters or holds characters outside 0x20-0x7E.",                                  \
	  "Fix the header named in detail and send the request again.")                                                \
	X(UNAUTHORIZED, 401, "unauthorized", "A valid bearer token is required",                                       \
	  "The request has no Authorization: Bearer token, or the token is malformed, expired, not yet valid, badly"   \
	  " signed, or its claims (tenant, scope, exp, sub, iss, aud) are not acceptable.",                            \
	  "Send a valid token in Authorization: Bearer; mint a new one if it expired. detail says what was wrong "     \
	  "with it.")                                                                                                  \
	X(FORBIDDEN, 403, "forbidden", "The token lacks the scope for this operation",                                 \
	  "The token is valid but its scope claim has none of the scopes the operation requires (cases:read, "         \
	  "cases:write, settings:write or webhooks:write: see the operation in openapi.yaml).",                        \
	  "Use a token minted with the scope the operation lists.")                                                    \
	X(NOT_FOUND, 404, "not_found", "Not found",                                                                    \
	  "No such path, no such problem type, or no case, settlement, event or webhook endpoint of this id for the"   \
	  " token's tenant (another tenant's id answers exactly like an unknown one).",                                \
	  "Check the path and the id (ids are copied from this service's answers, such as a 201's Location).")         \
	X(METHOD_NOT_ALLOWED, 405, "method_not_allowed", "Method not allowed on this path",                            \
	  "The path exists but does not take this HTTP method.",                                                       \
	  "Use one of the methods in the Allow header of the answer.")                                                 \
	X(REQUEST_TIMEOUT, 408, "request_timeout", "The request took too long to arrive",                              \
	  "The request's headers or body did not arrive within 30 seconds, or the connection was idle for 15. The "   \
	  "service closes such a connection without an answer: a client sees it closed, not a 408.",                   \
	  "Send the whole request at once; retry on a new connection.")                                                \
	X(DUPLICATE_CASE, 409, "duplicate_case", "A live case exists for this invoice",                                \
	  "Another case of the tenant for the same invoice number is live (any status but withdrawn or rejected). "    \
	  "Its id is in case_id.",                                                                                     \
	  "Follow the existing case (case_id) instead of creating a second one; a retry of the same create uses the"   \
	  " same Idempotency-Key.")                                                                                    \
	X(INTEGRATION_NOT_CONFIGURED, 409, "integration_not_configured",                                               \
	  "The agency integration is not configured or not enabled",                                                   \
	  "The tenant has no agency settings, or they are not enabled, so a case cannot be sent to the agency.",       \
	  "PUT /v1/agency-settings with enabled: true (scope settings:write), then send the case again.")              \
	X(INVALID_STATE, 409, "invalid_state", "The case is not in a state that allows this",                          \
	  "The change does not fit the current state of what it changes: an action or payment on a closed case, a "    \
	  "pause of a case that is not open, a retry of a case that has not failed, a test event to a disabled "       \
	  "webhook endpoint.",                                                                                         \
	  "Read the case (or endpoint) again, see its status and detail, and send only what that status allows.")      \
	X(DUPLICATE_PAYMENT, 409, "duplicate_payment", "A payment with this reference is already booked on the case",  \
	  "A direct payment of the same kind with the same reference is already booked on the case; its id is in "     \
	  "payment_id. It was not booked again.",                                                                      \
	  "Nothing to do if it is the same payment; give a new payment its own reference.")                            \
	X(LIMIT_REACHED, 409, "limit_reached", "The tenant has as many of these as allowed",                           \
	  "The tenant already has as many of these as allowed, such as 16 webhook endpoints.",                         \
	  "Delete one you no longer need, then create the new one.")                                                   \
	X(PAYLOAD_TOO_LARGE, 413, "payload_too_large", "The body exceeds 64 KiB",                                      \
	  "The request body is larger than 64 KiB (65536 bytes).",                                                     \
	  "Send a smaller body; no request of this API needs more.")                                                   \
	X(UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type", "The body must be application/json",                  \
	  "A POST, PUT or PATCH came with a Content-Type that is not application/json (or another +json type).",       \
	  "Send the body as JSON with Content-Type: application/json.")                                                \
	X(VALIDATION_FAILED, 422, "validation_failed", "The body is not valid",                                        \
	  "The body is a JSON object but breaks the operation's rules: missing or wrong-typed members, values out "    \
	  "of range, rules between members. errors lists every one at once, each with a JSON pointer and a code.",     \
	  "Fix every member listed in errors (pointer, code, detail) and send the request again. Nothing was "         \
	  "changed.")                                                                                                  \
	X(IDEMPOTENCY_KEY_REUSED, 422, "idempotency_key_reused",                                                       \
	  "This Idempotency-Key was used with a different body",                                                       \
	  "The Idempotency-Key was used within the last 7 days with another method, path or body.",                    \
	  "Use a new key for a new request; a retry of the first request must send the same body.")                    \
	X(RATE_LIMITED, 429, "rate_limited", "Too many requests for this tenant; retry after Retry-After",             \
	  "The tenant sent more requests than INKASSO_TENANT_RATE per second allows beyond its burst of "              \
	  "INKASSO_TENANT_BURST (counted per replica, after the token is verified). Nothing was done.",                \
	  "Wait the Retry-After seconds, then send the request again (a POST with the same Idempotency-Key). "         \
	  "Spread requests out, or ask the operator for a higher rate.")                                               \
	X(HEADERS_TOO_LARGE, 431, "headers_too_large", "Request headers are too large",                                \
	  "The request headers exceed what the service takes (32 KiB of memory per connection).",                      \
	  "Send fewer or shorter headers.")                                                                            \
	X(INTERNAL_ERROR, 500, "internal_error", "Internal error",                                                     \
	  "Something failed inside the service (its log has the cause under the answer's X-Request-Id).",              \
	  "Retry later; a POST with the same Idempotency-Key is safe to retry. If it persists, report the "            \
	  "X-Request-Id.")                                                                                             \
	X(SERVICE_UNAVAILABLE, 503, "service_unavailable", "The service cannot answer now; retry later",               \
	  "The database is busy, unreachable or does not accept writes now, or the outcome of a commit is unknown.",   \
	  "Retry after the Retry-After seconds; a POST with the same Idempotency-Key is safe to retry.")

enum problem_code {
#define PROBLEM_ENUM(id, status, name, title, when, todo) PROBLEM_##id,
	PROBLEMS(PROBLEM_ENUM)
#undef PROBLEM_ENUM
	PROBLEM__COUNT
};

/* HTTP status of a code. */
int problem_status(enum problem_code code);
/* Machine-readable code string ("duplicate_case"). */
const char *problem_name(enum problem_code code);
/* The registry's texts of a code: its title, when it happens, what to do
 * (static strings, never NULL). */
const char *problem_title(enum problem_code code);
const char *problem_when(enum problem_code code);
const char *problem_todo(enum problem_code code);
/* The code whose name is name ("not_found"); -1 when none is. */
int problem_find(const char *name);

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
