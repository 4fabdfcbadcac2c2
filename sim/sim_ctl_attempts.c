/* SPDX-License-Identifier: MIT */
/* GET /sim/attempts[?apiKey=K][&invoiceNumber=N]: every agency call about
 * an invoice number, with its arrival time and fate, grouped by client and
 * number in arrival order: the gaps between a service's attempts on one
 * invoice (backoff and jitter) can be measured from it. */
#include "lib/jsonw.h"
#include "sim/sim_app.h"
#include "sim/sim_handlers.h"
#include "sim/sim_store.h"
#include "sim/sim_time.h"

struct sim_attempts_out {
	struct buf *out;
	bool first;
};

static void sim_attempts_one(const struct sim_attempt *a, void *arg)
{
	struct sim_attempts_out *ao = arg;
	struct buf *b = ao->out;
	char at[SIM_TIMESTAMP_LEN];
	sim_timestamp(a->at_ms, at);
	buf_puts(b, ao->first ? "{" : ",{");
	ao->first = false;
	jw_kstr(b, true, "apiKey", a->api_key);
	jw_kstr(b, false, "invoiceNumber", a->number);
	jw_kstr(b, false, "method", a->method);
	jw_kstr(b, false, "path", a->path);
	jw_kint(b, false, "status", a->status);
	jw_kstr(b, false, "outcome", a->outcome);
	jw_kint(b, false, "atMs", a->at_ms);
	jw_kstr(b, false, "at", at);
	buf_putc(b, '}');
}

int sim_ctl_attempts(const struct sim_request *r, struct buf *out)
{
	struct sim_attempts_out ao = {.out = out, .first = true};
	bool truncated = false;
	buf_puts(out, "{\"attempts\":[");
	if (sim_store_attempts(r->app->store, sim_request_query(r, "apiKey"),
			       sim_request_query(r, "invoiceNumber"), sim_attempts_one, &ao,
			       &truncated) != SIM_STORE_OK)
		return sim_reply_message(out, 500, "the simulator could not read its call log");
	buf_putc(out, ']');
	jw_kbool(out, false, "truncated", truncated);
	buf_putc(out, '}');
	return out->oom ? sim_reply_message(out, 500, "out of memory") : 200;
}
