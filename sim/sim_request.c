/* SPDX-License-Identifier: MIT */
/* Small helpers every handler uses to read a request and answer an error. */
#include "sim/sim_handlers.h"

#include <stdio.h>
#include <string.h>

#include "lib/jsonw.h"
#include "sim/sim_time.h"

const char *sim_request_query(const struct sim_request *r, const char *name)
{
	for (size_t i = 0; i < r->nquery; i++)
		if (strcmp(r->query[i].name, name) == 0)
			return r->query[i].value && r->query[i].value[0] ? r->query[i].value : NULL;
	return NULL;
}

bool sim_request_date_or_reply(const struct sim_request *r, const char *name, const char **val,
			       struct buf *out)
{
	*val = sim_request_query(r, name);
	if (!*val || sim_date_valid(*val))
		return true;
	char msg[96];
	snprintf(msg, sizeof msg, "%s must be a date (YYYY-MM-DD)", name);
	sim_reply_message(out, 400, msg);
	return false;
}

int sim_reply_message(struct buf *out, int status, const char *message)
{
	buf_reset(out);
	buf_putc(out, '{');
	jw_kstr(out, true, "message", message);
	buf_putc(out, '}');
	return status;
}
