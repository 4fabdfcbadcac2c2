/* SPDX-License-Identifier: MIT */
/* From a complete request to the one answer: routing, api keys, body
 * parsing, injected faults, Retry-After bookkeeping and call statistics.
 * What libmicrohttpd has to do with the outcome is sim_http.c's business. */
#ifndef SIM_DISPATCH_H
#define SIM_DISPATCH_H
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "sim/sim_handlers.h"

struct sim_outcome {
	int status;
	struct buf body;   /* JSON, owned by the outcome */
	int retry_after;   /* > 0: send a Retry-After header */
	const char *allow; /* for a 405 */
	bool drop;         /* close the connection without answering */
	int64_t delay_ms;  /* wait before answering */
	const char *fault; /* the injected fault, for the log */
};

/* Handles r (borrowed; its body member is set and released here) from a
 * client that is or is not on loopback, filling *out (zeroed by the caller). */
void sim_dispatch(struct sim_request *r, bool loopback, struct sim_outcome *out);

#endif
