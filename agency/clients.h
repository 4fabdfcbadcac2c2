/* SPDX-License-Identifier: MIT */
/* The agency's two environments (DESIGN.md "Agency settings"): one client
 * for production (INKASSO_AGENCY_URL) and one for staging
 * (INKASSO_AGENCY_STAGING_URL), chosen per tenant by its settings'
 * agency_environment for every call made for that tenant. Two clients
 * rather than a base URL per call: each keeps its own connections to its
 * own host, the calls of agency/client.h stay as they are, and the choice
 * is made once, where the tenant's settings are at hand. */
#ifndef INKASSO_AGENCY_CLIENTS_H
#define INKASSO_AGENCY_CLIENTS_H
#include <stdbool.h>
#include <stddef.h>

#include "agency/client.h"
#include "store/store.h"

/* One client per environment, for one thread. env[AGENCY_ENV_STAGING] is
 * NULL when no staging URL is set. */
struct agency_clients {
	struct agency_client *env[AGENCY_ENV__COUNT];
};

/* Creates the clients of o: the production one always, the staging one when
 * o->staging_url is set, each URL checked as agency_client_new checks it.
 * False with a reason naming the variable in err, and nothing held. Free
 * with agency_clients_free. */
bool agency_clients_init(struct agency_clients *c, const struct agency_options *o, char *err, size_t errlen);

/* The client for environment e; NULL when that environment has no URL. */
struct agency_client *agency_clients_pick(const struct agency_clients *c, enum agency_environment e);

/* Frees the clients and clears c. NULL-safe. */
void agency_clients_free(struct agency_clients *c);

#endif
