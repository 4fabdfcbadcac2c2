/* SPDX-License-Identifier: MIT */
/* GET /healthz: the process answers (docker compose waits on it). Open to
 * any client and without an api key, and it reveals nothing. */
#include "sim/sim_handlers.h"

int sim_health(const struct sim_request *r, struct buf *out)
{
	(void)r;
	buf_puts(out, "{\"status\":\"ok\"}");
	return 200;
}
