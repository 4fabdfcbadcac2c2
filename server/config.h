/* SPDX-License-Identifier: MIT */
/* Service configuration: embedded defaults, then INKASSO_* environment
 * variables, then command-line flags. One table (config.c) drives parsing
 * and --help, so the two cannot drift apart. */
#ifndef INKASSO_CONFIG_H
#define INKASSO_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct config {
	char listen[128];          /* host:port */
	char db[512];              /* SQLite file */
	char jwt_secret[512];
	char jwt_secret_previous[512]; /* HS256: also accepted during a rotation; "" = none */
	char jwt_public_key_file[512];
	char jwt_alg[8];
	char jwt_issuer[256];
	char jwt_audience[256];
	char agency_url[512];      /* "" = no agency configured */
	char agency_staging_url[512]; /* the agency's staging environment; "" = none */
	char log_level[8];
	int sync_interval;         /* seconds */
	int retry_base_ms;
	int retry_cap_ms;
	int max_attempts;
	int agency_timeout_ms;
	int threads;               /* 0 = number of cores */
	int commit_batch;          /* case creates per transaction, 1..1024 */
	bool agency_allow_http;    /* plain http to the agency (simulator only) */
	int webhook_timeout_ms;    /* one webhook attempt */
	char webhook_retry_schedule[256]; /* "5s,5m,30m,2h,5h,10h,10h" */
	bool webhook_allow_private; /* any address and plain http for webhooks (development, tests) */
	int webhook_workers;
	int webhook_disable_after_s; /* an endpoint failing this long is disabled */
	int event_retention_days;
	double tenant_rate;        /* requests per second per tenant; 0 = no limit */
	int tenant_burst;          /* bucket size; 0 = one second's worth (ceil(rate), at least 1) */
};

/* Fills cfg with the defaults, then the environment. Returns 0, or -1 with a
 * message in err for a value that does not parse. */
int config_from_env(struct config *cfg, char *err, size_t errlen);
/* Applies --flag value / --flag=value arguments from argv[*i] on; stops at
 * the first argument that is not a known flag and leaves *i there.
 * Returns 0, 1 for --help (printed), or -1 with a message in err. */
int config_from_args(struct config *cfg, int argc, char **argv, int *i, char *err, size_t errlen);
/* Prints the flags and environment variables with defaults. */
void config_print_help(FILE *f);
/* Splits cfg->listen into host and port. Returns 0 or -1. */
int config_listen_addr(const char *listen, char *host, size_t hostlen, int *port);

#endif
