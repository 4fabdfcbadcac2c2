/* SPDX-License-Identifier: MIT */
#include "server/config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum opt_type { OPT_STR, OPT_INT, OPT_BOOL, OPT_NUM };

struct opt {
	const char *flag;
	const char *env;
	enum opt_type type;
	size_t offset;
	size_t size;      /* OPT_STR: buffer size */
	int min, max;     /* OPT_INT and OPT_NUM bounds */
	const char *def;  /* default as text */
	const char *help;
};

#define FIELD_SIZE(field) sizeof(((struct config *)0)->field)
#define STR(f, e, field, d, h) {f, e, OPT_STR, offsetof(struct config, field), FIELD_SIZE(field), 0, 0, d, h}
#define INT(f, e, field, lo, hi, d, h) {f, e, OPT_INT, offsetof(struct config, field), 0, lo, hi, d, h}
#define BOOL(f, e, field, d, h) {f, e, OPT_BOOL, offsetof(struct config, field), 0, 0, 1, d, h}
#define NUM(f, e, field, lo, hi, d, h) {f, e, OPT_NUM, offsetof(struct config, field), 0, lo, hi, d, h}

static const struct opt opts[] = {
	STR("--listen", "INKASSO_LISTEN", listen, "127.0.0.1:8080", "host:port to listen on"),
	STR("--db", "INKASSO_DB", db, "inkasso.db", "SQLite file, or a PostgreSQL URI (postgres://...)"),
	STR("--jwt-secret", "INKASSO_JWT_SECRET", jwt_secret, "", "HS256 secret (>= 32 bytes)"),
	STR("--jwt-secret-previous", "INKASSO_JWT_SECRET_PREVIOUS", jwt_secret_previous, "",
	    "HS256: the previous secret, also accepted during a rotation (>= 32 bytes)"),
	STR("--jwt-public-key-file", "INKASSO_JWT_PUBLIC_KEY_FILE", jwt_public_key_file, "",
	    "RS256/ES256 (instead of a secret): a PEM public key, or a JWKS whose keys tokens name by kid"),
	STR("--jwt-alg", "INKASSO_JWT_ALG", jwt_alg, "HS256", "HS256, RS256 or ES256 (pinned)"),
	STR("--jwt-issuer", "INKASSO_JWT_ISSUER", jwt_issuer, "", "required iss claim (unset: not checked)"),
	STR("--jwt-audience", "INKASSO_JWT_AUDIENCE", jwt_audience, "", "required aud claim (unset: not checked)"),
	STR("--agency-url", "INKASSO_AGENCY_URL", agency_url, "", "base URL of the agency API (production)"),
	STR("--agency-staging-url", "INKASSO_AGENCY_STAGING_URL", agency_staging_url, "",
	    "base URL of the agency's staging environment, for tenants with agency_environment staging"),
	BOOL("--agency-allow-http", "INKASSO_AGENCY_ALLOW_HTTP", agency_allow_http, "0",
	     "allow plain http to the agency (simulator); default: https only, or http to loopback"),
	INT("--sync-interval", "INKASSO_SYNC_INTERVAL", sync_interval, 1, 86400, "300", "seconds between agency syncs"),
	INT("--retry-base-ms", "INKASSO_RETRY_BASE_MS", retry_base_ms, 1, 3600000, "500", "backoff base"),
	INT("--retry-cap-ms", "INKASSO_RETRY_CAP_MS", retry_cap_ms, 1, 86400000, "300000", "backoff cap"),
	INT("--max-attempts", "INKASSO_MAX_ATTEMPTS", max_attempts, 1, 1000, "12", "agency attempts before failed"),
	INT("--agency-timeout-ms", "INKASSO_AGENCY_TIMEOUT_MS", agency_timeout_ms, 100, 600000, "10000",
	    "total timeout of one agency call"),
	INT("--threads", "INKASSO_THREADS", threads, 0, 256, "0", "HTTP worker threads (0 = cores)"),
	INT("--commit-batch", "INKASSO_COMMIT_BATCH", commit_batch, 1, 1024, "64",
	    "most case creates per transaction (group commit); 1 = one commit per create"),
	STR("--log-level", "INKASSO_LOG_LEVEL", log_level, "info", "debug, info, warn or error"),
	INT("--webhook-timeout-ms", "INKASSO_WEBHOOK_TIMEOUT_MS", webhook_timeout_ms, 100, 600000, "10000",
	    "a webhook attempt answered 2xx within this is delivered"),
	STR("--webhook-retry-schedule", "INKASSO_WEBHOOK_RETRY_SCHEDULE", webhook_retry_schedule,
	    "5s,5m,30m,2h,5h,10h,10h", "waits before each webhook retry (±10% jitter); then failed"),
	BOOL("--webhook-allow-private", "INKASSO_WEBHOOK_ALLOW_PRIVATE", webhook_allow_private, "0",
	     "webhooks to private and loopback addresses and plain http (development and tests only)"),
	INT("--webhook-workers", "INKASSO_WEBHOOK_WORKERS", webhook_workers, 1, 32, "4",
	    "webhook delivery threads"),
	INT("--webhook-disable-after-s", "INKASSO_WEBHOOK_DISABLE_AFTER_S", webhook_disable_after_s, 1, 31536000,
	    "432000", "an endpoint failing this long (5 days) is disabled"),
	INT("--event-retention-days", "INKASSO_EVENT_RETENTION_DAYS", event_retention_days, 1, 3650, "30",
	    "events (and their delivery log) kept this long, then pruned"),
	NUM("--tenant-rate", "INKASSO_TENANT_RATE", tenant_rate, 0, 1000000, "0",
	    "requests per second per tenant, fractions allowed (0.5); over it: 429 (0 = no limit)"),
	INT("--tenant-burst", "INKASSO_TENANT_BURST", tenant_burst, 0, 1000000, "0",
	    "requests a tenant may send at once before the rate applies (0 = ceil(rate), at least 1)"),
};
#define NOPTS (sizeof opts / sizeof opts[0])

static int set_opt(struct config *cfg, const struct opt *o, const char *val, const char *src, char *err,
		   size_t errlen)
{
	char *field = (char *)cfg + o->offset;
	if (o->type == OPT_STR) {
		if (strlen(val) >= o->size) {
			snprintf(err, errlen, "%s: value too long (max %zu bytes)", src, o->size - 1);
			return -1;
		}
		memcpy(field, val, strlen(val) + 1);
		return 0;
	}
	if (o->type == OPT_BOOL) {
		bool b;
		if (!strcmp(val, "1") || !strcmp(val, "true") || !strcmp(val, "yes"))
			b = true;
		else if (!strcmp(val, "0") || !strcmp(val, "false") || !strcmp(val, "no") || !*val)
			b = false;
		else {
			snprintf(err, errlen, "%s: expected true or false", src);
			return -1;
		}
		memcpy(field, &b, sizeof b);
		return 0;
	}
	errno = 0;
	char *end;
	if (o->type == OPT_NUM) {
		/* Plain decimals only: strtod would also take "inf", "nan" and hex. */
		double d = strtod(val, &end);
		if (errno || end == val || *end || strspn(val, "0123456789.") != strlen(val) || !isfinite(d) ||
		    d < o->min || d > o->max) {
			snprintf(err, errlen, "%s: expected a number in %d..%d (such as 0.5 or 20)", src, o->min,
				 o->max);
			return -1;
		}
		memcpy(field, &d, sizeof d);
		return 0;
	}
	long v = strtol(val, &end, 10);
	if (errno || end == val || *end || v < o->min || v > o->max) {
		snprintf(err, errlen, "%s: expected an integer in %d..%d", src, o->min, o->max);
		return -1;
	}
	int iv = (int)v;
	memcpy(field, &iv, sizeof iv);
	return 0;
}

int config_from_env(struct config *cfg, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < NOPTS; i++)
		if (set_opt(cfg, &opts[i], opts[i].def, opts[i].flag, err, errlen))
			return -1; /* a bad default is a programming error */
	for (size_t i = 0; i < NOPTS; i++) {
		const char *v = getenv(opts[i].env);
		if (v && set_opt(cfg, &opts[i], v, opts[i].env, err, errlen))
			return -1;
	}
	return 0;
}

int config_from_args(struct config *cfg, int argc, char **argv, int *i, char *err, size_t errlen)
{
	while (*i < argc) {
		const char *arg = argv[*i];
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			config_print_help(stdout);
			return 1;
		}
		const char *eq = strchr(arg, '=');
		size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
		const struct opt *o = NULL;
		for (size_t k = 0; k < NOPTS; k++)
			if (strlen(opts[k].flag) == nlen && !strncmp(opts[k].flag, arg, nlen))
				o = &opts[k];
		if (!o)
			return 0;
		const char *val;
		if (eq) {
			val = eq + 1;
		} else if (o->type == OPT_BOOL) {
			val = "1";
		} else {
			if (*i + 1 >= argc) {
				snprintf(err, errlen, "%s needs a value", o->flag);
				return -1;
			}
			val = argv[++*i];
		}
		if (set_opt(cfg, o, val, o->flag, err, errlen))
			return -1;
		++*i;
	}
	return 0;
}

void config_print_help(FILE *f)
{
	fprintf(f, "Flags of `serve` (each overrides its environment variable):\n");
	for (size_t i = 0; i < NOPTS; i++)
		fprintf(f, "  %-24s %-30s %s (default: %s)\n", opts[i].flag, opts[i].env, opts[i].help,
			*opts[i].def ? opts[i].def : "unset");
}

int config_listen_addr(const char *listen, char *host, size_t hostlen, int *port)
{
	const char *colon = strrchr(listen, ':');
	if (!colon || colon == listen)
		return -1;
	size_t hl = (size_t)(colon - listen);
	if (hl >= hostlen)
		return -1;
	char *end;
	errno = 0;
	long p = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || p < 0 || p > 65535)
		return -1;
	memcpy(host, listen, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}
