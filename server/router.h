/* SPDX-License-Identifier: MIT */
/* Finds the route of a request in a table of struct route (server/http.h):
 * the protocol half of routing. The table itself, the API at a glance, is
 * the wiring's (server/routes.c). */
#ifndef INKASSO_ROUTER_H
#define INKASSO_ROUTER_H
#include <stdbool.h>
#include <stddef.h>

#include "server/http.h"

#define ROUTER_ROUTES_MAX 64
#define ROUTER_PATHS_MAX 48

/* A table and its distinct paths, in table order: metrics and logs name a
 * request by its path pattern ("slot"), never by the raw path. */
struct router {
	const struct route *routes;
	size_t nroutes;
	const char *paths[ROUTER_PATHS_MAX + 1]; /* the last one used is "unmatched" */
	short hole[ROUTER_PATHS_MAX];            /* where the path's "{id}" begins; -1: a literal path */
	size_t npaths;                           /* without "unmatched" */
	unsigned char path_of[ROUTER_ROUTES_MAX];
};

/* Indexes routes (borrowed; must outlive r). False with a reason in err for
 * a table the router cannot serve: too many routes or paths, a path that
 * does not start with '/', a method and path given twice, no handler. */
bool router_init(struct router *r, const struct route *routes, size_t n, char *err, size_t errlen);

/* The slot of unmatched paths: r->npaths. */
static inline int router_unmatched(const struct router *r) { return (int)r->npaths; }

/* Finds the route for method and path. A literal path wins over a pattern
 * with {id}; of two patterns, the first in the table. *slot is the path's
 * slot, router_unmatched() when no path matches. Returns NULL when nothing
 * matches: then the path is unknown (404) or served by other methods (405,
 * which allow lists, comma-separated). The {id} segment, if any, is copied
 * into path_id (cut to path_id_len - 1 bytes: an id that long cannot exist). */
const struct route *router_match(const struct router *r, const char *method, const char *path, int *slot,
				 char *path_id, size_t path_id_len, char *allow, size_t allow_len);

#endif
