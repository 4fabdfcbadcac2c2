/* SPDX-License-Identifier: MIT */
/* Request counters and latency histograms by route, in lock-free atomics. */
#ifndef INKASSO_HTTP_METRICS_H
#define INKASSO_HTTP_METRICS_H

#include "lib/buf.h"
#include "server/router.h"

/* Counts one finished request of the router's path slot (0..ROUTER_PATHS_MAX,
 * unmatched included) with status, taking seconds. */
void metrics_observe_request(int slot, int status, double seconds);
/* Writes the request metrics in Prometheus text format, each path slot
 * named by r. */
void metrics_render_requests(struct buf *b, const struct router *r);

#endif
