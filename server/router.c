/* SPDX-License-Identifier: MIT */
#include "server/router.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

bool router_init(struct router *r, const struct route *routes, size_t n, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	if (n > ROUTER_ROUTES_MAX) {
		snprintf(err, errlen, "more than %d routes", ROUTER_ROUTES_MAX);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		const struct route *rt = &routes[i];
		if (!rt->method || !rt->path || rt->path[0] != '/' || !rt->handler) {
			snprintf(err, errlen, "route %zu: a method, a path from '/' and a handler are required", i);
			return false;
		}
		size_t p = 0;
		while (p < r->npaths && strcmp(r->paths[p], rt->path) != 0)
			p++;
		if (p == r->npaths) {
			if (p == ROUTER_PATHS_MAX) {
				snprintf(err, errlen, "more than %d paths", ROUTER_PATHS_MAX);
				return false;
			}
			const char *hole = strstr(rt->path, "{id}");
			r->hole[r->npaths] = hole ? (short)(hole - rt->path) : -1;
			r->paths[r->npaths++] = rt->path;
		}
		for (size_t j = 0; j < i; j++)
			if (r->path_of[j] == p && !strcmp(routes[j].method, rt->method)) {
				snprintf(err, errlen, "%s %s is in the table twice", rt->method, rt->path);
				return false;
			}
		r->path_of[i] = (unsigned char)p;
	}
	r->paths[r->npaths] = "unmatched";
	r->routes = routes;
	r->nroutes = n;
	return true;
}

/* Matches path against a pattern whose "{id}" begins at pre; copies the
 * segment it stands for. */
static bool path_matches(const char *pattern, size_t pre, const char *path, char *path_id, size_t path_id_len)
{
	const char *hole = pattern + pre;
	if (strncmp(pattern, path, pre) != 0)
		return false;
	const char *seg = path + pre;
	size_t seglen = strcspn(seg, "/");
	if (seglen == 0 || strcmp(seg + seglen, hole + 4) != 0)
		return false;
	if (seglen >= path_id_len)
		seglen = path_id_len - 1;
	memcpy(path_id, seg, seglen);
	path_id[seglen] = '\0';
	return true;
}

/* The slot of the path that path matches: literal paths first. */
static int find_slot(const struct router *r, const char *path, char *path_id, size_t path_id_len)
{
	for (size_t p = 0; p < r->npaths; p++)
		if (r->hole[p] < 0 && !strcmp(r->paths[p], path))
			return (int)p;
	for (size_t p = 0; p < r->npaths; p++)
		if (r->hole[p] >= 0 && path_matches(r->paths[p], (size_t)r->hole[p], path, path_id, path_id_len))
			return (int)p;
	return router_unmatched(r);
}

const struct route *router_match(const struct router *r, const char *method, const char *path, int *slot,
				 char *path_id, size_t path_id_len, char *allow, size_t allow_len)
{
	assert(r && method && path && slot && path_id_len > 0 && allow_len > 0);
	path_id[0] = '\0';
	allow[0] = '\0';
	*slot = find_slot(r, path, path_id, path_id_len);
	size_t used = 0;
	for (size_t i = 0; i < r->nroutes; i++) {
		if (r->path_of[i] != *slot)
			continue;
		if (!strcmp(r->routes[i].method, method))
			return &r->routes[i];
		int n = snprintf(allow + used, allow_len - used, "%s%s", used ? ", " : "", r->routes[i].method);
		if (n > 0 && (size_t)n < allow_len - used)
			used += (size_t)n;
	}
	return NULL;
}
