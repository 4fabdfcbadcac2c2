/* SPDX-License-Identifier: MIT */
#include "server/problem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/jsonw.h"

#define FIELD_ERRORS_MAX 64

/* The one registry of problem codes; openapi.yaml's ProblemCode mirrors it. */
static const struct {
	int status;
	const char *name;
	const char *title;
} problems[PROBLEM__COUNT] = {
	[PROBLEM_MALFORMED_JSON] = {400, "malformed_json", "The body is not a JSON object"},
	[PROBLEM_INVALID_PARAMETER] = {400, "invalid_parameter", "A query parameter is not valid"},
	[PROBLEM_INVALID_HEADER] = {400, "invalid_header", "A request header is not valid"},
	[PROBLEM_UNAUTHORIZED] = {401, "unauthorized", "A valid bearer token is required"},
	[PROBLEM_FORBIDDEN] = {403, "forbidden", "The token lacks the scope for this operation"},
	[PROBLEM_NOT_FOUND] = {404, "not_found", "Not found"},
	[PROBLEM_METHOD_NOT_ALLOWED] = {405, "method_not_allowed", "Method not allowed on this path"},
	[PROBLEM_REQUEST_TIMEOUT] = {408, "request_timeout", "The request took too long to arrive"},
	[PROBLEM_DUPLICATE_CASE] = {409, "duplicate_case", "A live case exists for this invoice"},
	[PROBLEM_INTEGRATION_NOT_CONFIGURED] = {409, "integration_not_configured",
						"The agency integration is not configured or not enabled"},
	[PROBLEM_INVALID_STATE] = {409, "invalid_state", "The case is not in a state that allows this"},
	[PROBLEM_PAYLOAD_TOO_LARGE] = {413, "payload_too_large", "The body exceeds 64 KiB"},
	[PROBLEM_UNSUPPORTED_MEDIA_TYPE] = {415, "unsupported_media_type", "The body must be application/json"},
	[PROBLEM_VALIDATION_FAILED] = {422, "validation_failed", "The case is not valid"},
	[PROBLEM_IDEMPOTENCY_KEY_REUSED] = {422, "idempotency_key_reused",
					    "This Idempotency-Key was used with a different body"},
	[PROBLEM_HEADERS_TOO_LARGE] = {431, "headers_too_large", "Request headers are too large"},
	[PROBLEM_INTERNAL_ERROR] = {500, "internal_error", "Internal error"},
	[PROBLEM_SERVICE_UNAVAILABLE] = {503, "service_unavailable", "The service cannot answer now; retry later"},
};

int problem_status(enum problem_code code) { return problems[code].status; }

const char *problem_name(enum problem_code code) { return problems[code].name; }

void field_errors_add(struct field_errors *e, const char *pointer, const char *code, const char *fmt, ...)
{
	if (e->n >= FIELD_ERRORS_MAX)
		return;
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		struct field_error *v = realloc(e->v, cap * sizeof *v);
		if (!v)
			return; /* dropping an error beats crashing; the answer is still a 422 */
		e->v = v;
		e->cap = cap;
	}
	struct field_error *fe = &e->v[e->n++];
	snprintf(fe->pointer, sizeof fe->pointer, "%s", pointer);
	snprintf(fe->code, sizeof fe->code, "%s", code);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fe->detail, sizeof fe->detail, fmt, ap);
	va_end(ap);
}

int field_errors_has(const struct field_errors *e, const char *pointer)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->v[i].pointer, pointer) == 0)
			return 1;
	return 0;
}

void field_errors_free(struct field_errors *e)
{
	if (!e)
		return;
	free(e->v);
	e->v = NULL;
	e->n = e->cap = 0;
}

/* Writes the common members and leaves the object open for extras. */
static void problem_open(struct reply *out, enum problem_code code, const char *detail)
{
	buf_reset(&out->body);
	out->status = problems[code].status;
	out->content_type = "application/problem+json";
	struct buf *b = &out->body;
	buf_puts(b, "{\"type\":\"/problems/");
	buf_puts(b, problems[code].name);
	buf_putc(b, '"');
	jw_kstr(b, false, "title", problems[code].title);
	jw_kint(b, false, "status", problems[code].status);
	jw_kstr(b, false, "code", problems[code].name);
	if (detail)
		jw_kstr(b, false, "detail", detail);
}

int reply_problem(struct reply *out, enum problem_code code, const char *detail)
{
	problem_open(out, code, detail);
	buf_putc(&out->body, '}');
	return out->status;
}

int reply_invalid_parameter(struct reply *out, const char *param, const char *detail)
{
	problem_open(out, PROBLEM_INVALID_PARAMETER, detail);
	jw_kstr(&out->body, false, "parameter", param);
	buf_putc(&out->body, '}');
	return out->status;
}

int reply_field_problem(struct reply *out, enum problem_code code, const struct field_errors *e)
{
	problem_open(out, code, NULL);
	struct buf *b = &out->body;
	jw_key(b, false, "errors");
	buf_putc(b, '[');
	for (size_t i = 0; i < e->n; i++) {
		if (i)
			buf_putc(b, ',');
		buf_putc(b, '{');
		jw_kstr(b, true, "pointer", e->v[i].pointer);
		jw_kstr(b, false, "code", e->v[i].code);
		jw_kstr(b, false, "detail", e->v[i].detail);
		buf_putc(b, '}');
	}
	buf_puts(b, "]}");
	return out->status;
}

int reply_duplicate(struct reply *out, const char *case_id)
{
	char detail[96];
	snprintf(detail, sizeof detail, "case %s is live for this invoice number", case_id);
	problem_open(out, PROBLEM_DUPLICATE_CASE, detail);
	jw_kstr(&out->body, false, "case_id", case_id);
	buf_putc(&out->body, '}');
	return out->status;
}
