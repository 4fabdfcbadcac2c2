/* SPDX-License-Identifier: MIT */
/* The route table: the API at a glance (routes.c). */
#ifndef INKASSO_ROUTES_H
#define INKASSO_ROUTES_H
#include <stdbool.h>
#include <stddef.h>

#include "server/http.h"

enum route_id {
	ROUTE_HEALTHZ,
	ROUTE_READYZ,
	ROUTE_METRICS,
	ROUTE_OPENAPI,
	ROUTE_SETTINGS,
	ROUTE_CASES,
	ROUTE_CASES_PREVIEW,
	ROUTE_CASE,
	ROUTE_CASE_PAYMENTS,
	ROUTE_CASE_ACTIONS,
	ROUTE_CASE_RETRY,
	ROUTE_SETTLEMENTS,
	ROUTE_SETTLEMENT,
	ROUTE_UNMATCHED,
	ROUTE__COUNT
};

typedef int (*handler_fn)(const struct request *req, struct reply *out);

struct route {
	const char *method;
	enum route_id id;
	handler_fn handler;
	unsigned scopes;   /* any of these auth_scope bits is enough; 0 = public */
};

/* Finds the route for method and path. Returns NULL when nothing matches;
 * then *id tells whether the path exists (another method: 405, with the
 * allowed methods in allow) or not (ROUTE_UNMATCHED: 404). The {id} path
 * segment, if any, is copied into path_id. */
const struct route *routes_match(const char *method, const char *path, enum route_id *id,
				 char *path_id, size_t path_id_len, char *allow, size_t allow_len);
/* The route's name for logs and metrics ("/v1/collection-cases/{id}"). */
const char *route_name(enum route_id id);

#endif
