/* SPDX-License-Identifier: MIT */
/* The sync loop: every INKASSO_SYNC_INTERVAL seconds, per tenant, it asks the
 * agency what became of the cases it has (case ids, status, stage, charges),
 * imports the payments it collected and its settlements. Applying the same
 * agency data twice changes nothing (the store's idempotent consumers). */
#ifndef INKASSO_AGENCY_SYNC_H
#define INKASSO_AGENCY_SYNC_H

#include "agency/client.h"
#include "agency/clients.h"
#include "store/store_agency.h"

#define SYNC_PAYMENT_WINDOW_DAYS 30     /* payments are re-read this far back */
#define SYNC_SETTLEMENT_WINDOW_DAYS 60  /* settlements likewise */

struct sync;

/* Starts the sync thread (the first round at once, then one every
 * interval_s seconds), with a client per environment of agency (read at
 * once; its strings are not kept). NULL with a reason in err when an agency
 * URL is unusable. */
struct sync *sync_start(struct store *st, const struct agency_options *agency, int interval_s, char *err,
			size_t errlen);
/* Stops after the call in progress and frees. NULL-safe. */
void sync_stop(struct sync *s);
/* One round for every tenant, on the caller's thread (tests, the loop), each
 * tenant's calls on the client of its agency environment. */
void sync_round(struct store *st, const struct agency_clients *clients);

#endif
