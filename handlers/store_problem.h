/* SPDX-License-Identifier: MIT */
/* The one place a store error becomes an HTTP answer. */
#ifndef INKASSO_STORE_PROBLEM_H
#define INKASSO_STORE_PROBLEM_H

#include "server/problem.h"
#include "store/store.h"

/* STORE_BUSY → 503 with Retry-After: 1; STORE_HARD_ERROR (and anything
 * unexpected) → 500. The store has already logged the cause. */
static inline enum handler_result reply_store_problem(struct reply *out, enum store_result r)
{
	if (r == STORE_BUSY) {
		out->retry_after = 1;
		return reply_problem(out, PROBLEM_SERVICE_UNAVAILABLE, "the database is busy; retry");
	}
	return reply_problem(out, PROBLEM_INTERNAL_ERROR, NULL);
}

/* The answer of a store call on one case of the tenant that did not
 * succeed: STORE_NOT_FOUND (an unknown id, or another tenant's: the same
 * 404), STORE_STATE (409 invalid_state with detail), else as
 * reply_store_problem. */
static inline enum handler_result reply_case_problem(struct reply *out, enum store_result r, const char *detail)
{
	if (r == STORE_NOT_FOUND)
		return reply_problem(out, PROBLEM_NOT_FOUND, "no such case");
	if (r == STORE_STATE)
		return reply_problem(out, PROBLEM_INVALID_STATE, detail);
	return reply_store_problem(out, r);
}

#endif
