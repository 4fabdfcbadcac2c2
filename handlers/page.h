/* SPDX-License-Identifier: MIT */
/* The query of a keyset-paginated listing: which parameters it takes, its
 * limit (1..200, default 50) and its cursor, each given at most once. */
#ifndef INKASSO_PAGE_H
#define INKASSO_PAGE_H
#include <stdbool.h>
#include <stdint.h>

#include "server/http.h"

#define PAGE_LIMIT_DEFAULT 50
#define PAGE_LIMIT_MAX 200

/* Reads limit and the cursor parameter cursor_name (its key into *key, 0
 * when absent) after checking that every parameter is in allowed
 * (NULL-terminated; limit and cursor_name among them). false with a 400
 * invalid_parameter naming the parameter in out. */
bool page_or_problem(const struct request *req, const char *const *allowed, const char *cursor_name, int *limit,
		     int64_t *key, struct reply *out);
/* The value of a parameter given at most once (NULL when absent); false
 * with a 400 in out when it is given twice. */
bool page_param_once(const struct request *req, const char *name, const char **value, struct reply *out);

#endif
