/* SPDX-License-Identifier: MIT */
/* The forwarder: worker threads that drain the outbox (rows written in the
 * same transaction as the case, the payment or the action) to the agency.
 * Every case reaches the agency exactly once: a send whose outcome is
 * unknown is looked up (distribution) before it is sent again, and a 409
 * "already received" counts as delivered. */
#ifndef INKASSO_AGENCY_FORWARDER_H
#define INKASSO_AGENCY_FORWARDER_H
#include <stddef.h>

#include "server/config.h"
#include "store/store.h"

struct forwarder;

/* Requeues rows left "sending" by a previous process (outcome unknown), then
 * starts workers threads. cfg and st are borrowed and must outlive it.
 * NULL with a reason in err when the agency URL is unusable. */
struct forwarder *forwarder_start(struct store *st, const struct config *cfg, int workers, char *err,
				  size_t errlen);
/* Asks the workers to stop, waits for the call in progress (bounded by the
 * agency timeout) and frees everything. NULL-safe. */
void forwarder_stop(struct forwarder *f);

#endif
