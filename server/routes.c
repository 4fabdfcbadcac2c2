/* SPDX-License-Identifier: MIT */
#include "server/routes.h"

#include <stdio.h>
#include <string.h>

#include "handlers/handlers.h"
#include "server/auth.h"

#define READ SCOPE_CASES_READ
#define WRITE SCOPE_CASES_WRITE
#define SETTINGS SCOPE_SETTINGS_WRITE

/* Path patterns by route; "{id}" matches one non-empty segment. */
static const char *const patterns[ROUTE__COUNT] = {
	[ROUTE_HEALTHZ] = "/healthz",
	[ROUTE_READYZ] = "/readyz",
	[ROUTE_METRICS] = "/metrics",
	[ROUTE_OPENAPI] = "/openapi.yaml",
	[ROUTE_SETTINGS] = "/v1/agency-settings",
	[ROUTE_CASES] = "/v1/collection-cases",
	[ROUTE_CASES_PREVIEW] = "/v1/collection-cases/preview",
	[ROUTE_CASE] = "/v1/collection-cases/{id}",
	[ROUTE_CASE_PAYMENTS] = "/v1/collection-cases/{id}/payments",
	[ROUTE_CASE_ACTIONS] = "/v1/collection-cases/{id}/actions",
	[ROUTE_CASE_RETRY] = "/v1/collection-cases/{id}/retry",
	[ROUTE_SETTLEMENTS] = "/v1/settlements",
	[ROUTE_SETTLEMENT] = "/v1/settlements/{id}",
	[ROUTE_UNMATCHED] = "unmatched",
};

static const struct route routes[] = {
	{"GET", ROUTE_HEALTHZ, handle_healthz, 0},
	{"GET", ROUTE_READYZ, handle_readyz, 0},
	{"GET", ROUTE_METRICS, handle_metrics, 0},
	{"GET", ROUTE_OPENAPI, handle_openapi, 0},
	{"GET", ROUTE_SETTINGS, handle_settings_get, READ | SETTINGS},
	{"PUT", ROUTE_SETTINGS, handle_settings_put, SETTINGS},
	{"POST", ROUTE_CASES, handle_cases_post, WRITE},
	{"GET", ROUTE_CASES, handle_cases_list, READ},
	{"POST", ROUTE_CASES_PREVIEW, handle_cases_preview, WRITE},
	{"GET", ROUTE_CASE, handle_cases_get, READ},
	{"POST", ROUTE_CASE_PAYMENTS, handle_payments_post, WRITE},
	{"POST", ROUTE_CASE_ACTIONS, handle_actions_post, WRITE},
	{"POST", ROUTE_CASE_RETRY, handle_retry_post, WRITE},
	{"GET", ROUTE_SETTLEMENTS, handle_settlements_list, READ},
	{"GET", ROUTE_SETTLEMENT, handle_settlements_get, READ},
};
#define NROUTES (sizeof routes / sizeof routes[0])

/* Matches path against pattern; copies the {id} segment. */
static bool path_matches(const char *pattern, const char *path, char *path_id, size_t path_id_len)
{
	const char *hole = strstr(pattern, "{id}");
	if (!hole)
		return strcmp(pattern, path) == 0;
	size_t pre = (size_t)(hole - pattern);
	if (strncmp(pattern, path, pre) != 0)
		return false;
	const char *seg = path + pre;
	const char *slash = strchr(seg, '/');
	size_t seglen = slash ? (size_t)(slash - seg) : strlen(seg);
	const char *rest = pattern + pre + 4;
	if (seglen == 0 || strcmp(seg + seglen, rest) != 0)
		return false;
	/* "preview" is its own route, not an id. */
	if (seglen == 7 && !strncmp(seg, "preview", 7) && !*rest)
		return false;
	if (seglen >= path_id_len)
		seglen = path_id_len - 1; /* an over-long id cannot exist; it will answer 404 */
	memcpy(path_id, seg, seglen);
	path_id[seglen] = '\0';
	return true;
}

const struct route *routes_match(const char *method, const char *path, enum route_id *id,
				 char *path_id, size_t path_id_len, char *allow, size_t allow_len)
{
	*id = ROUTE_UNMATCHED;
	path_id[0] = '\0';
	allow[0] = '\0';
	for (int r = 0; r < ROUTE_UNMATCHED; r++) {
		if (!path_matches(patterns[r], path, path_id, path_id_len))
			continue;
		*id = (enum route_id)r;
		size_t used = 0;
		for (size_t i = 0; i < NROUTES; i++) {
			if (routes[i].id != *id)
				continue;
			if (!strcmp(routes[i].method, method))
				return &routes[i];
			int n = snprintf(allow + used, allow_len - used, "%s%s", used ? ", " : "", routes[i].method);
			if (n > 0 && (size_t)n < allow_len - used)
				used += (size_t)n;
		}
		return NULL;
	}
	return NULL;
}

const char *route_name(enum route_id id) { return patterns[id]; }
