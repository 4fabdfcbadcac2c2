/* SPDX-License-Identifier: MIT */
/* Counters of the background work (agency calls, forwarder, sync), kept here
 * on the ground floor so that agency/ can count without knowing the HTTP
 * server; server/http_metrics.h counts the requests. */
#ifndef INKASSO_METRICS_H
#define INKASSO_METRICS_H
#include <stdint.h>

#include "lib/buf.h"

/* Counts one agency call by endpoint name and outcome name, both static
 * strings of the agency client (agency_outcome_name). */
void metrics_agency_call(const char *endpoint, const char *outcome);
/* Records a successful agency sync of tenant at epoch seconds. */
void metrics_sync_ok(const char *tenant, int64_t epoch);
/* Counts one forwarder retry (a delivery rescheduled) or give-up (failed). */
void metrics_forwarder_retry(void);
void metrics_forwarder_gave_up(void);
/* Writes the forwarder and sync metrics in Prometheus text format. */
void metrics_render_forwarder(struct buf *b);
/* Writes the agency call counters in Prometheus text format. */
void metrics_render_agency(struct buf *b);

/* How a webhook attempt ended. */
enum metrics_webhook_outcome {
	METRICS_WEBHOOK_DELIVERED, /* a 2xx */
	METRICS_WEBHOOK_RETRIED,   /* failed, another attempt is due later */
	METRICS_WEBHOOK_FAILED,    /* failed, the schedule spent: the delivery gave up */
	METRICS_WEBHOOK_GONE,      /* a 410: the endpoint was disabled */
	METRICS_WEBHOOK__COUNT
};
/* Counts one webhook attempt by its outcome. */
void metrics_webhook_attempt(enum metrics_webhook_outcome o);
/* Writes the webhook attempt counters in Prometheus text format. */
void metrics_render_webhooks(struct buf *b);

#endif
