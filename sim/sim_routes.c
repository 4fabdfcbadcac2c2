/* SPDX-License-Identifier: MIT */
#include "sim/sim_routes.h"

#include <string.h>

#define API "/api/v1/partner"

static const struct sim_route sim_routes[] = {
	{"GET", API "/validate", sim_api_validate, SIM_ROUTE_API | SIM_ROUTE_ANY_KEY},
	{"POST", API "/invoice", sim_api_invoice_post, SIM_ROUTE_API | SIM_ROUTE_BODY},
	{"GET", API "/invoice/distribution", sim_api_distribution, SIM_ROUTE_API},
	{"GET", API "/invoice/case", sim_api_case, SIM_ROUTE_API},
	{"POST", API "/invoice/action", sim_api_action, SIM_ROUTE_API | SIM_ROUTE_BODY},
	{"GET", API "/payments", sim_api_payments, SIM_ROUTE_API},
	{"GET", API "/settlements", sim_api_settlements, SIM_ROUTE_API},
	{"GET", "/sim/faults", sim_ctl_faults_get, SIM_ROUTE_CONTROL},
	{"POST", "/sim/faults", sim_ctl_faults_post, SIM_ROUTE_CONTROL | SIM_ROUTE_BODY_OPT},
	{"GET", "/sim/config", sim_ctl_config_get, SIM_ROUTE_CONTROL},
	{"POST", "/sim/config", sim_ctl_config_post, SIM_ROUTE_CONTROL | SIM_ROUTE_BODY},
	{"POST", "/sim/advance", sim_ctl_advance, SIM_ROUTE_CONTROL | SIM_ROUTE_BODY},
	{"POST", "/sim/settle", sim_ctl_settle, SIM_ROUTE_CONTROL | SIM_ROUTE_BODY_OPT},
	{"POST", "/sim/reset", sim_ctl_reset, SIM_ROUTE_CONTROL | SIM_ROUTE_BODY_OPT},
	{"GET", "/sim/stats", sim_ctl_stats, SIM_ROUTE_CONTROL},
	{"GET", "/sim/invoices", sim_ctl_invoices, SIM_ROUTE_CONTROL},
	{"GET", "/sim/attempts", sim_ctl_attempts, SIM_ROUTE_CONTROL},
	{"GET", "/healthz", sim_health, 0},
};

const struct sim_route *sim_route_find(const char *method, const char *path, bool *path_known,
				       const char **allow)
{
	*path_known = false;
	*allow = NULL;
	for (size_t i = 0; i < sizeof sim_routes / sizeof sim_routes[0]; i++) {
		if (strcmp(sim_routes[i].path, path) != 0)
			continue;
		if (strcmp(sim_routes[i].method, method) == 0)
			return &sim_routes[i];
		/* Each path has one method, except /sim/faults and /sim/config
		 * which have both: this answer is close enough for a 405. */
		*path_known = true;
		*allow = *allow ? "GET, POST" : sim_routes[i].method;
	}
	return NULL;
}
