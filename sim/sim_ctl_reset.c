/* SPDX-License-Identifier: MIT */
/* POST /sim/reset: back to how the process started: no invoices, cases,
 * payments or statistics, no faults, the command line's settings. */
#include "lib/jsonw.h"
#include "sim/sim_app.h"
#include "sim/sim_faults.h"
#include "sim/sim_handlers.h"
#include "sim/sim_log.h"

int sim_ctl_reset(const struct sim_request *r, struct buf *out)
{
	struct sim_fault_config none = {0};
	sim_faults_set(r->app->faults, &none);
	sim_app_set_settings(r->app, &r->app->initial);
	if (sim_store_reset(r->app->store) != SIM_STORE_OK)
		return sim_reply_message(out, 500, "the simulator could not reset its state");
	sim_log("info", "state reset", NULL);
	buf_putc(out, '{');
	jw_kbool(out, true, "reset", true);
	buf_putc(out, '}');
	return 200;
}
