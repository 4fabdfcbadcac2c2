/* SPDX-License-Identifier: MIT */
/* GET and POST /sim/faults: what share of /api/ calls fails, and how. A
 * POST replaces the whole configuration; an empty body clears it. */
#include <json-c/json.h>

#include "sim/sim_app.h"
#include "sim/sim_faults.h"
#include "sim/sim_handlers.h"

int sim_ctl_faults_get(const struct sim_request *r, struct buf *out)
{
	struct sim_fault_config c;
	sim_faults_get(r->app->faults, &c);
	sim_faults_to_json(&c, out);
	return 200;
}

int sim_ctl_faults_post(const struct sim_request *r, struct buf *out)
{
	struct sim_fault_config c;
	const char *why = NULL;
	if (!sim_faults_from_json(r->body, &c, &why))
		return sim_reply_message(out, 400, why);
	sim_faults_set(r->app->faults, &c);
	sim_faults_to_json(&c, out);
	return 200;
}
