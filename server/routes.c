/* SPDX-License-Identifier: MIT */
#include "server/routes.h"

#include "handlers/handlers.h"
#include "server/auth.h"

#define READ SCOPE_CASES_READ
#define WRITE SCOPE_CASES_WRITE
#define SETTINGS SCOPE_SETTINGS_WRITE
#define HOOKS SCOPE_WEBHOOKS_WRITE
#define CASES "/v1/collection-cases"
#define ENDPOINTS "/v1/webhook-endpoints"

/* Every route of openapi.yaml. "{id}" matches one path segment; a literal
 * path (".../preview") wins over a pattern. scopes 0: public. */
const struct route routes[] = {
	{.method = "GET", .path = "/healthz", .handler = handle_healthz},
	{.method = "GET", .path = "/readyz", .handler = handle_readyz},
	{.method = "GET", .path = "/metrics", .handler = handle_metrics},
	{.method = "GET", .path = "/openapi.yaml", .handler = handle_openapi},
	{.method = "GET", .path = "/problems", .handler = handle_problems_list},
	{.method = "GET", .path = "/problems/{id}", .handler = handle_problem_get},
	{.method = "GET", .path = "/v1/agency-settings", .scopes = READ | SETTINGS, .handler = handle_settings_get},
	{.method = "PUT", .path = "/v1/agency-settings", .scopes = SETTINGS, .handler = handle_settings_put},
	{.method = "POST", .path = "/v1/collection-cases", .scopes = WRITE, .handler = handle_cases_post},
	{.method = "GET", .path = "/v1/collection-cases", .scopes = READ, .handler = handle_cases_list},
	{.method = "POST", .path = CASES "/preview", .scopes = WRITE, .handler = handle_cases_preview},
	{.method = "GET", .path = CASES "/{id}", .scopes = READ, .handler = handle_cases_get},
	{.method = "POST", .path = CASES "/{id}/payments", .scopes = WRITE, .handler = handle_payments_post},
	{.method = "POST", .path = CASES "/{id}/actions", .scopes = WRITE, .handler = handle_actions_post},
	{.method = "POST", .path = CASES "/{id}/retry", .scopes = WRITE, .handler = handle_retry_post},
	{.method = "GET", .path = "/v1/settlements", .scopes = READ, .handler = handle_settlements_list},
	{.method = "GET", .path = "/v1/settlements/{id}", .scopes = READ, .handler = handle_settlements_get},
	{.method = "GET", .path = "/v1/events", .scopes = READ, .handler = handle_events_list},
	{.method = "GET", .path = "/v1/events/{id}", .scopes = READ, .handler = handle_events_get},
	{.method = "POST", .path = ENDPOINTS, .scopes = HOOKS, .handler = handle_endpoints_post},
	{.method = "GET", .path = ENDPOINTS, .scopes = HOOKS, .handler = handle_endpoints_list},
	{.method = "GET", .path = ENDPOINTS "/{id}", .scopes = HOOKS, .handler = handle_endpoint_get},
	{.method = "PATCH", .path = ENDPOINTS "/{id}", .scopes = HOOKS, .handler = handle_endpoint_patch},
	{.method = "DELETE", .path = ENDPOINTS "/{id}", .scopes = HOOKS, .handler = handle_endpoint_delete},
	{.method = "POST", .path = ENDPOINTS "/{id}/rotate-secret", .scopes = HOOKS, .handler = handle_endpoint_rotate},
	{.method = "POST", .path = ENDPOINTS "/{id}/test", .scopes = HOOKS, .handler = handle_endpoint_test},
	{.method = "GET", .path = ENDPOINTS "/{id}/deliveries", .scopes = HOOKS, .handler = handle_endpoint_deliveries},
	{.method = "POST", .path = ENDPOINTS "/{id}/recover", .scopes = HOOKS, .handler = handle_endpoint_recover},
};

const size_t routes_count = sizeof routes / sizeof routes[0];
