/* SPDX-License-Identifier: MIT */
/* GET /api/v1/partner/validate: is this X-Api-Key a client of the agency?
 * Every key is, except the literal "invalid", kept so that the service's
 * "api_key_valid": false path can be exercised. */
#include <stdbool.h>
#include <string.h>

#include "lib/jsonw.h"
#include "sim/sim_handlers.h"

int sim_api_validate(const struct sim_request *r, struct buf *out)
{
	bool valid = strcmp(r->api_key, "invalid") != 0;
	buf_putc(out, '{');
	jw_kbool(out, true, "isValid", valid);
	jw_kstr(out, false, "message", valid ? "" : "invalid api key");
	buf_putc(out, '}');
	return 200;
}
