/* SPDX-License-Identifier: MIT */
/* GET /metrics: Prometheus text exposition. */
#include "handlers/handlers.h"
#include "lib/dates.h"
#include "lib/metrics.h"
#include "server/app.h"
#include "server/http_metrics.h"
#include "store/store.h"
#include "store/store_events.h"
#include "webhooks/guard.h"

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
	metrics_render_webhooks(b);
	struct webhook_stats ws;
	if (store_webhook_stats(req->app->store, &ws) != STORE_OK)
		ws = (struct webhook_stats){.queued = -1, .disabled_endpoints = -1};
	int64_t oldest = ws.oldest_queued_ms > 0 ? (dates_now_ms() - ws.oldest_queued_ms) / 1000 : 0;
	buf_printf(b, "# HELP inkasso_webhook_queue_depth Webhook deliveries not yet done (pending or sending).\n"
		      "# TYPE inkasso_webhook_queue_depth gauge\n"
		      "inkasso_webhook_queue_depth %lld\n"
		      "# HELP inkasso_webhook_oldest_queued_seconds Age of the oldest undelivered webhook delivery.\n"
		      "# TYPE inkasso_webhook_oldest_queued_seconds gauge\n"
		      "inkasso_webhook_oldest_queued_seconds %lld\n"
		      "# HELP inkasso_webhook_endpoints_disabled Endpoints inkasso disabled (410 gone, or failing).\n"
		      "# TYPE inkasso_webhook_endpoints_disabled gauge\n"
		      "inkasso_webhook_endpoints_disabled %lld\n"
		      "# HELP inkasso_webhook_guard_refused_total Connections the SSRF guard refused (address not"
		      " public).\n"
		      "# TYPE inkasso_webhook_guard_refused_total counter\n"
		      "inkasso_webhook_guard_refused_total %llu\n",
		   (long long)ws.queued, (long long)(oldest < 0 ? 0 : oldest), (long long)ws.disabled_endpoints,
		   (unsigned long long)guard_refused_total());
	out->status = 200;
	out->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return HANDLER_ANSWERED;
}
