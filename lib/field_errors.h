/* SPDX-License-Identifier: MIT */
/* The field errors of a request body: a JSON pointer into the body, a rule
 * code (openapi.yaml FieldErrorCode) and a human detail each. All errors of
 * a request are collected and reported at once (a 422 lists them). */
#ifndef INKASSO_FIELD_ERRORS_H
#define INKASSO_FIELD_ERRORS_H
#include <stdbool.h>
#include <stddef.h>

/* At most this many errors are kept: a hostile body must not grow the
 * answer without bound (openapi.yaml Problem.errors maxItems). */
#define FIELD_ERRORS_MAX 64
#define FIELD_POINTER_MAX 128 /* bytes of a pointer, NUL included */

struct field_error {
	char pointer[FIELD_POINTER_MAX];
	char code[40];
	char detail[240];
};

struct field_errors {
	struct field_error *v;
	size_t n;
	size_t cap;
};

/* Adds an error (printf-style detail). Silently drops past FIELD_ERRORS_MAX,
 * or when memory runs out (the answer is still a 422). */
void field_errors_add(struct field_errors *e, const char *pointer, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* True if an error with this pointer is already present. */
bool field_errors_has(const struct field_errors *e, const char *pointer);
/* Releases the list. NULL-safe. */
void field_errors_free(struct field_errors *e);

#endif
