/* SPDX-License-Identifier: MIT */
/* GET /metrics: Prometheus text exposition. */
#include "handlers/handlers.h"
#include "lib/metrics.h"
#include "server/app.h"
#include "server/http_metrics.h"
#include "store/store.h"

enum handler_result handle_metrics(const struct request *req, struct reply *out)
{
	struct buf *b = &out->body;
	metrics_render_requests(b, req->app->router);
	metrics_render_agency(b);
	metrics_render_forwarder(b);
	buf_puts(b, "# HELP inkasso_outbox_depth Agency deliveries not yet done (pending or sending).\n"
		    "# TYPE inkasso_outbox_depth gauge\n");
	buf_printf(b, "inkasso_outbox_depth %lld\n", (long long)store_outbox_depth(req->app->store));
	buf_puts(b, "# HELP inkasso_cases_failed Cases that gave up after INKASSO_MAX_ATTEMPTS (POST .../retry).\n"
		    "# TYPE inkasso_cases_failed gauge\n");
	buf_printf(b, "inkasso_cases_failed %lld\n", (long long)store_cases_failed(req->app->store));
	out->status = 200;
	out->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return HANDLER_ANSWERED;
}
