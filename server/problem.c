/* SPDX-License-Identifier: MIT */
#include "server/problem.h"

#include <stdio.h>
#include <string.h>

#include "lib/jsonw.h"

/* The one registry of problem codes (problem.h). */
static const struct {
	int status;
	const char *name;
	const char *title;
	const char *when; /* when it happens, and what to do: GET /problems/<code> */
	const char *todo;
} problems[PROBLEM__COUNT] = {
#define PROBLEM_ROW(id, st, nm, ti, wh, td) [PROBLEM_##id] = {st, nm, ti, wh, td},
	PROBLEMS(PROBLEM_ROW)
#undef PROBLEM_ROW
};

int problem_status(enum problem_code code) { return problems[code].status; }

const char *problem_name(enum problem_code code) { return problems[code].name; }

const char *problem_title(enum problem_code code) { return problems[code].title; }

const char *problem_when(enum problem_code code) { return problems[code].when; }

const char *problem_todo(enum problem_code code) { return problems[code].todo; }

int problem_find(const char *name)
{
	for (int p = 0; p < PROBLEM__COUNT; p++)
		if (!strcmp(problems[p].name, name))
			return p;
	return -1;
}

/* Writes the common members and leaves the object open for extras. */
static void problem_open(struct reply *out, enum problem_code code, const char *detail)
{
	buf_reset(&out->body);
	out->status = problems[code].status;
	out->content_type = "application/problem+json";
	out->vary = NULL; /* a problem is not the content an Accept chose */
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

enum handler_result reply_problem(struct reply *out, enum problem_code code, const char *detail)
{
	problem_open(out, code, detail);
	buf_putc(&out->body, '}');
	return HANDLER_ANSWERED;
}

enum handler_result reply_invalid_parameter(struct reply *out, const char *param, const char *detail)
{
	problem_open(out, PROBLEM_INVALID_PARAMETER, detail);
	jw_kstr(&out->body, false, "parameter", param);
	buf_putc(&out->body, '}');
	return HANDLER_ANSWERED;
}

enum handler_result reply_field_problem(struct reply *out, enum problem_code code, const struct field_errors *e)
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
	return HANDLER_ANSWERED;
}

/* A 409 naming the earlier thing by its id in member (and the detail). */
static enum handler_result reply_conflict(struct reply *out, enum problem_code code, const char *member,
					  const char *id, const char *fmt)
{
	char detail[128];
	snprintf(detail, sizeof detail, fmt, id);
	problem_open(out, code, detail);
	jw_kstr(&out->body, false, member, id);
	buf_putc(&out->body, '}');
	return HANDLER_ANSWERED;
}

enum handler_result reply_duplicate(struct reply *out, const char *case_id)
{
	return reply_conflict(out, PROBLEM_DUPLICATE_CASE, "case_id", case_id,
			      "case %s is live for this invoice number");
}

enum handler_result reply_duplicate_payment(struct reply *out, const char *payment_id)
{
	return reply_conflict(out, PROBLEM_DUPLICATE_PAYMENT, "payment_id", payment_id,
			      "payment %s was booked on this case with this reference");
}
