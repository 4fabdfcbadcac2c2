/* SPDX-License-Identifier: MIT */
#include "handlers/page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/cursor.h"
#include "server/problem.h"

bool page_param_once(const struct request *req, const char *name, const char **value, struct reply *out)
{
	bool dup = false;
	*value = request_query(req, name, &dup);
	if (dup) {
		reply_invalid_parameter(out, name, "give this parameter once");
		return false;
	}
	return true;
}

bool page_or_problem(const struct request *req, const char *const *allowed, const char *cursor_name, int *limit,
		     int64_t *key, struct reply *out)
{
	for (size_t i = 0; i < req->nquery; i++) {
		const char *k = req->query[i].key;
		size_t j = 0;
		while (allowed[j] && strcmp(allowed[j], k) != 0)
			j++;
		if (!allowed[j]) {
			reply_invalid_parameter(out, k, "unknown query parameter");
			return false;
		}
	}
	const char *v;
	*limit = PAGE_LIMIT_DEFAULT;
	if (!page_param_once(req, "limit", &v, out))
		return false;
	if (v) {
		char *end;
		long n = strtol(v, &end, 10);
		if (!*v || *end || n < 1 || n > PAGE_LIMIT_MAX) {
			reply_invalid_parameter(out, "limit", "limit must be an integer from 1 to 200");
			return false;
		}
		*limit = (int)n;
	}
	*key = 0;
	if (!page_param_once(req, cursor_name, &v, out))
		return false;
	if (v && !cursor_decode(v, key)) {
		char detail[96];
		snprintf(detail, sizeof detail, "%s is not a cursor from a previous page's next_cursor", cursor_name);
		reply_invalid_parameter(out, cursor_name, detail);
		return false;
	}
	return true;
}
