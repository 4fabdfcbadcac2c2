/* SPDX-License-Identifier: MIT */
/* The forwarder: worker threads that drain the outbox (rows written in the
 * same transaction as the case, the payment or the action) to the agency.
 * Every case reaches the agency exactly once: a send whose outcome is
 * unknown is looked up (distribution) before it is sent again, and a 409
 * "already received" counts as delivered. */
#ifndef INKASSO_AGENCY_FORWARDER_H
#define INKASSO_AGENCY_FORWARDER_H
#include <stddef.h>

#include "agency/client.h"
#include "store/store_agency.h"

struct forwarder;

/* How the forwarder reaches the agency and how hard it tries. */
struct forwarder_options {
	struct agency_options agency;
	int workers;       /* threads, 1..8 (per-case order holds with any number) */
	int max_attempts;  /* attempts before a delivery is failed */
	int retry_base_ms; /* backoff with full jitter: base and cap */
	int retry_cap_ms;
};

/* Requeues rows left "sending" by a previous process (outcome unknown), then
 * starts the worker threads. opt (copied; its strings borrowed) and st must
 * outlive it. NULL with a reason in err when the agency URL is unusable. */
struct forwarder *forwarder_start(struct store *st, const struct forwarder_options *opt, char *err,
				  size_t errlen);
/* Asks the workers to stop, waits for the call in progress (bounded by the
 * agency timeout) and frees everything. NULL-safe. */
void forwarder_stop(struct forwarder *f);

/* The last_error an outbox row keeps after an attempt that ended with res
 * (shown to support staff in the case detail's delivery), written into out:
 * res's message when it is ours (curl's error, a parse reason, the
 * forwarder's own words; "no answer" when empty), but never the agency's
 * own text, which may echo names or numbers of the request: then only
 * "the agency answered HTTP <status>". (The case's rejected event keeps
 * the agency's message, as DESIGN.md asks.) Pure, for tests. */
void forwarder_row_error(const struct agency_result *res, char *out, size_t outlen);

#endif
