/* SPDX-License-Identifier: MIT */
/* The route table: the simulator's whole HTTP surface in one place. */
#ifndef SIM_ROUTES_H
#define SIM_ROUTES_H
#include <stdbool.h>

#include "sim/sim_handlers.h"

enum sim_route_flags {
	SIM_ROUTE_API = 1,       /* agency API: X-Api-Key required, faults apply */
	SIM_ROUTE_CONTROL = 2,   /* /sim/: loopback clients only */
	SIM_ROUTE_BODY = 4,      /* a JSON object body is required */
	SIM_ROUTE_BODY_OPT = 8,  /* a JSON object body may be sent */
	SIM_ROUTE_ANY_KEY = 16,  /* the key "invalid" reaches the handler (validate) */
};

struct sim_route {
	const char *method;
	const char *path;
	int (*handle)(const struct sim_request *r, struct buf *out);
	unsigned flags;
};

/* The route for method and path, or NULL; *path_known tells a wrong method
 * (405) from an unknown path (404), and *allow lists the path's methods. */
const struct sim_route *sim_route_find(const char *method, const char *path, bool *path_known,
				       const char **allow);

#endif
