/* SPDX-License-Identifier: MIT */
#include "agency/clients.h"

#include <stdio.h>
#include <string.h>

bool agency_clients_init(struct agency_clients *c, const struct agency_options *o, char *err, size_t errlen)
{
	const char *urls[AGENCY_ENV__COUNT] = {
		[AGENCY_ENV_PRODUCTION] = o->base_url,
		[AGENCY_ENV_STAGING] = o->staging_url && o->staging_url[0] ? o->staging_url : NULL,
	};
	static const char *const vars[AGENCY_ENV__COUNT] = {
		[AGENCY_ENV_PRODUCTION] = "INKASSO_AGENCY_URL",
		[AGENCY_ENV_STAGING] = "INKASSO_AGENCY_STAGING_URL",
	};
	memset(c, 0, sizeof *c);
	for (int e = 0; e < AGENCY_ENV__COUNT; e++) {
		if (!urls[e] && e != AGENCY_ENV_PRODUCTION)
			continue;
		char why[256];
		c->env[e] = agency_client_new(urls[e], o->timeout_ms, o->allow_http, why, sizeof why);
		if (!c->env[e]) {
			snprintf(err, errlen, "%s: %s", vars[e], why);
			agency_clients_free(c);
			return false;
		}
	}
	return true;
}

struct agency_client *agency_clients_pick(const struct agency_clients *c, enum agency_environment e)
{
	return (int)e >= 0 && e < AGENCY_ENV__COUNT ? c->env[e] : NULL;
}

void agency_clients_free(struct agency_clients *c)
{
	if (!c)
		return;
	for (int e = 0; e < AGENCY_ENV__COUNT; e++)
		agency_client_free(c->env[e]);
	memset(c, 0, sizeof *c);
}
