/* SPDX-License-Identifier: MIT */
/* The process-wide state a handler may use, built once in main. */
#ifndef INKASSO_APP_H
#define INKASSO_APP_H

#include "server/config.h"

struct store;
struct auth;
struct router;
struct key_check;
struct rate_limit;

struct app {
	const struct config *cfg;
	struct store *store;
	struct auth *auth;
	struct key_check *key_check;   /* checks api keys with the agency; NULL without one */
	const struct router *router;   /* the route table, indexed (server/router.h) */
	struct rate_limit *rate_limit; /* requests per tenant (INKASSO_TENANT_RATE); NULL: no limit */
	unsigned char id_hash_key[32]; /* keys the national-id search hash; per database */
	const char *openapi;           /* the contract served at /openapi.yaml (NULL: not found) */
	size_t openapi_len;
};

#endif
