/* SPDX-License-Identifier: MIT */
#include "server/routes.h"

#include "handlers/handlers.h"
#include "server/auth.h"

#define READ SCOPE_CASES_READ
#define WRITE SCOPE_CASES_WRITE
#define SETTINGS SCOPE_SETTINGS_WRITE
#define CASES "/v1/collection-cases"

/* Every route of openapi.yaml. "{id}" matches one path segment; a literal
 * path (".../preview") wins over a pattern. scopes 0: public. */
const struct route routes[] = {
	{.method = "GET", .path = "/healthz", .handler = handle_healthz},
	{.method = "GET", .path = "/readyz", .handler = handle_readyz},
	{.method = "GET", .path = "/metrics", .handler = handle_metrics},
	{.method = "GET", .path = "/openapi.yaml", .handler = handle_openapi},
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
};

const size_t routes_count = sizeof routes / sizeof routes[0];
