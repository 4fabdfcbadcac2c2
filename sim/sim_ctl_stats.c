/* SPDX-License-Identifier: MIT */
/* GET /sim/stats[?apiKey=K]: the figures the fault tests assert on:
 * creations versus distinct invoices (exactly once), Retry-After
 * violations, and calls per path by outcome. */
#include "lib/jsonw.h"
#include "sim/sim_app.h"
#include "sim/sim_handlers.h"
#include "sim/sim_store.h"

struct sim_stats_out {
	struct buf *out;
	bool first;
};

static void sim_stats_path(const char *path, const int64_t c[5], void *arg)
{
	struct sim_stats_out *so = arg;
	jw_key(so->out, so->first, path);
	so->first = false;
	buf_putc(so->out, '{');
	jw_kint(so->out, true, "ok", c[0]);
	jw_kint(so->out, false, "rejected", c[1]);
	jw_kint(so->out, false, "faulted", c[2]);
	jw_kint(so->out, false, "dropped", c[3]);
	jw_kint(so->out, false, "delayed", c[4]);
	buf_putc(so->out, '}');
}

int sim_ctl_stats(const struct sim_request *r, struct buf *out)
{
	struct sim_stats st;
	struct buf calls = {0};
	struct sim_stats_out so = {&calls, true};
	int status;
	if (sim_store_stats(r->app->store, sim_request_query(r, "apiKey"), &st, sim_stats_path,
			    &so) != SIM_STORE_OK) {
		status = sim_reply_message(out, 500, "the simulator could not read its statistics");
		goto out;
	}
	buf_putc(out, '{');
	jw_kint(out, true, "invoices_received", st.invoices_received);
	jw_kint(out, false, "invoice_creations", st.invoice_creations);
	jw_kint(out, false, "duplicates_created", st.duplicates_created);
	jw_kint(out, false, "duplicate_numbers", st.duplicate_numbers);
	jw_kint(out, false, "duplicates_rejected", st.duplicates_rejected);
	jw_kint(out, false, "retry_after_answers", st.retry_after_answers);
	jw_kint(out, false, "first_attempt_after_retry_after_violations",
		st.retry_after_violations);
	jw_kint(out, false, "actions", st.actions);
	jw_kint(out, false, "payments", st.payments);
	jw_kint(out, false, "settlements", st.settlements);
	jw_key(out, false, "calls");
	buf_putc(out, '{');
	buf_append(out, calls.data ? calls.data : "", calls.len);
	buf_puts(out, "}}");
	status = calls.oom ? sim_reply_message(out, 500, "out of memory") : 200;
out:
	buf_free(&calls);
	return status;
}
