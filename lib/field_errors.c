/* SPDX-License-Identifier: MIT */
#include "lib/field_errors.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void field_errors_add(struct field_errors *e, const char *pointer, const char *code, const char *fmt, ...)
{
	assert(e && pointer && code && fmt);
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

bool field_errors_has(const struct field_errors *e, const char *pointer)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->v[i].pointer, pointer) == 0)
			return true;
	return false;
}

void field_errors_free(struct field_errors *e)
{
	if (!e)
		return;
	free(e->v);
	e->v = NULL;
	e->n = e->cap = 0;
}
