/* SPDX-License-Identifier: MIT */
/* inkasso: send unpaid invoices to debt collection, exactly once, and follow
 * them. Commands: serve, token, healthcheck. */
#include <curl/curl.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agency/forwarder.h"
#include "agency/key_check.h"
#include "agency/sync.h"
#include "lib/log.h"
#include "server/app.h"
#include "server/auth.h"
#include "server/config.h"
#include "server/openapi_embed.h"
#include "server/rate_limit.h"
#include "server/request.h"
#include "server/router.h"
#include "server/routes.h"
#include "store/migrate.h"
#include "store/store.h"
#include "webhooks/dispatch.h"
#include "webhooks/listen.h"

#define VERSION "0.1.0"
#define IDEMPOTENCY_DAYS 7   /* idempotency records kept (DESIGN.md: at least 24 hours) */
#define FORWARDER_WORKERS 2 /* per-case order holds with any number (the outbox claim) */

static void usage(FILE *f)
{
	fprintf(f, "inkasso %s: hands unpaid invoices to a debt-collection agency and follows them.\n\n"
		   "Usage:\n"
		   "  inkasso serve [flags]           run the HTTP service\n"
		   "  inkasso token --tenant T --scope \"cases:read cases:write\" [--sub WHO] [--ttl 3600]\n"
		   "                [--key PEM [--kid KID]]\n"
		   "                                  print a bearer token signed with the configured\n"
		   "                                  secret (HS256) or the private key PEM (RS256/ES256),\n"
		   "                                  naming its key in a JWKS by --kid\n"
		   "  inkasso healthcheck [--url URL] exit 0 if GET URL (default: /healthz on\n"
		   "                                  INKASSO_LISTEN) answers 200; for container health\n"
		   "  inkasso webhook-listen --listen 127.0.0.1:8099 --secret whsec_...\n"
		   "                                  receive webhook deliveries, verify each, print one\n"
		   "                                  line per event (--help for its flags)\n"
		   "  inkasso migrate-db --from inkasso.db --to postgresql://...\n"
		   "                                  copy a SQLite database into an empty PostgreSQL one,\n"
		   "                                  then verify every table (README: PostgreSQL)\n"
		   "  inkasso --help | --version\n\n"
		   "Scopes: cases:read, cases:write, settings:write, webhooks:write.\n\n",
		VERSION);
	config_print_help(f);
}

static struct auth_config auth_config_of(const struct config *cfg)
{
	struct auth_config ac = {
		.alg = cfg->jwt_alg,
		.secret = *cfg->jwt_public_key_file ? NULL : cfg->jwt_secret,
		.secret_previous = *cfg->jwt_secret_previous ? cfg->jwt_secret_previous : NULL,
		.public_key_file = *cfg->jwt_public_key_file ? cfg->jwt_public_key_file : NULL,
		.issuer = *cfg->jwt_issuer ? cfg->jwt_issuer : NULL,
		.audience = *cfg->jwt_audience ? cfg->jwt_audience : NULL,
	};
	return ac;
}

static struct agency_options agency_options_of(const struct config *cfg)
{
	return (struct agency_options){
		.base_url = cfg->agency_url,
		.staging_url = cfg->agency_staging_url,
		.timeout_ms = cfg->agency_timeout_ms,
		.allow_http = cfg->agency_allow_http,
	};
}

static int cmd_serve(struct config *cfg)
{
	char err[512];
	int rc = 1;
	struct app app = {.cfg = cfg};
	struct router router;
	struct server *srv = NULL;
	struct forwarder *fwd = NULL;
	struct sync *syn = NULL;
	struct webhooks *hooks = NULL;
	char host[64];
	int port;

	if (log_set_level(cfg->log_level) != 0) {
		fprintf(stderr, "inkasso: INKASSO_LOG_LEVEL must be debug, info, warn or error\n");
		return 2;
	}
	if (config_listen_addr(cfg->listen, host, sizeof host, &port) != 0) {
		fprintf(stderr, "inkasso: INKASSO_LISTEN must be host:port, got \"%s\"\n", cfg->listen);
		return 2;
	}
	struct auth_config ac = auth_config_of(cfg);
	if (*cfg->jwt_secret && *cfg->jwt_public_key_file) {
		fprintf(stderr, "inkasso: set INKASSO_JWT_SECRET or INKASSO_JWT_PUBLIC_KEY_FILE, not both\n");
		return 2;
	}
	if (!router_init(&router, routes, routes_count, err, sizeof err)) {
		fprintf(stderr, "inkasso: the route table: %s\n", err);
		return 2;
	}
	app.router = &router;
	app.auth = auth_new(&ac, err, sizeof err);
	if (!app.auth) {
		fprintf(stderr, "inkasso: %s\n", err);
		return 2;
	}
	if (cfg->tenant_rate > 0 && !(app.rate_limit = rate_limit_new(cfg->tenant_rate, cfg->tenant_burst))) {
		fprintf(stderr, "inkasso: out of memory for the tenant rate limit\n");
		auth_free(app.auth);
		return 2;
	}
	if (app.rate_limit) {
		char rate[32], burst[32];
		snprintf(rate, sizeof rate, "%g", cfg->tenant_rate);
		snprintf(burst, sizeof burst, "%lld", (long long)rate_burst_of(cfg->tenant_rate, cfg->tenant_burst));
		log_write(LOG_INFO, "tenant rate limit", "per_second", rate, "burst", burst, NULL);
	}
	/* Signals are taken by sigwait below; block them before any thread
	 * starts so that every thread inherits the mask. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* glibc returns freed memory to the kernel (madvise) as soon as 128 KiB
	 * sit free at the top of a thread's heap, and maps bigger blocks anew
	 * each time. SQLite's writer frees and takes such memory at every
	 * commit, so with the defaults a third of the committer's time went to
	 * madvise and page faults (perf, bench/README.md). Fixed thresholds keep
	 * that memory for reuse; it stays bounded by the page caches. */
	mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);

	int threads = cfg->threads > 0 ? cfg->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
	const struct store_options so = {.readers = threads + 2, .commit_batch = cfg->commit_batch};
	app.store = store_open(cfg->db, &so, err, sizeof err);
	if (!app.store) {
		fprintf(stderr, "inkasso: database %s: %s\n", cfg->db, err);
		goto out;
	}
	if (store_secret_get(app.store, "national_id_hash_key", app.id_hash_key, sizeof app.id_hash_key) !=
	    STORE_OK) {
		fprintf(stderr, "inkasso: database %s: cannot read or create the search key\n", cfg->db);
		goto out;
	}
	app.openapi = inkasso_openapi_start;
	app.openapi_len = (size_t)(inkasso_openapi_end - inkasso_openapi_start);

	if (*cfg->agency_staging_url && !*cfg->agency_url) {
		/* Production tenants would queue for ever beside staging ones. */
		fprintf(stderr, "inkasso: INKASSO_AGENCY_STAGING_URL needs INKASSO_AGENCY_URL (production) too\n");
		goto out;
	}
	if (*cfg->agency_url) {
		struct forwarder_options fo = {
			.agency = agency_options_of(cfg),
			.workers = FORWARDER_WORKERS,
			.max_attempts = cfg->max_attempts,
			.retry_base_ms = cfg->retry_base_ms,
			.retry_cap_ms = cfg->retry_cap_ms,
		};
		struct agency_options ao = agency_options_of(cfg);
		fwd = forwarder_start(app.store, &fo, err, sizeof err);
		syn = fwd ? sync_start(app.store, &ao, cfg->sync_interval, err, sizeof err) : NULL;
		app.key_check = syn ? key_check_start(&ao, err, sizeof err) : NULL;
		if (!app.key_check) {
			fprintf(stderr, "inkasso: %s\n", err); /* err names the variable */
			goto out;
		}
	} else {
		log_write(LOG_WARN, "no INKASSO_AGENCY_URL: cases are stored and queued, not forwarded", NULL);
	}
	struct webhook_options wo = {
		.workers = cfg->webhook_workers,
		.timeout_ms = cfg->webhook_timeout_ms,
		.allow_private = cfg->webhook_allow_private,
		.disable_after_ms = (int64_t)cfg->webhook_disable_after_s * 1000,
		.retention_days = cfg->event_retention_days,
		.idempotency_days = IDEMPOTENCY_DAYS,
	};
	if (!webhook_schedule_parse(cfg->webhook_retry_schedule, &wo)) {
		fprintf(stderr,
			"inkasso: INKASSO_WEBHOOK_RETRY_SCHEDULE must be waits such as 5s,5m,30m,2h (at most %d)\n",
			WEBHOOK_SCHEDULE_MAX);
		goto out;
	}
	if (cfg->webhook_allow_private)
		log_write(LOG_WARN, "INKASSO_WEBHOOK_ALLOW_PRIVATE: webhooks may reach private and loopback addresses"
				    " over plain http (development and tests only)", NULL);
	hooks = webhooks_start(app.store, &wo, err, sizeof err);
	if (!hooks) {
		fprintf(stderr, "inkasso: %s\n", err);
		goto out;
	}
	srv = server_start(&app, host, port, cfg->threads, err, sizeof err);
	if (!srv) {
		fprintf(stderr, "inkasso: %s\n", err);
		goto out;
	}
	char portbuf[8];
	snprintf(portbuf, sizeof portbuf, "%d", server_port(srv));
	log_write(LOG_INFO, "listening", "host", host, "port", portbuf, "db", cfg->db, "version", VERSION, NULL);

	int sig = 0;
	while (sigwait(&stop, &sig) != 0)
		;
	log_write(LOG_INFO, "stopping", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT", NULL);
	server_stop(srv, 10000);
	srv = NULL;
	rc = 0;
out:
	/* Requests first (they write), then the workers, then the database. */
	server_stop(srv, 0);
	key_check_stop(app.key_check);
	sync_stop(syn);
	forwarder_stop(fwd);
	webhooks_stop(hooks);
	store_close(app.store);
	auth_free(app.auth);
	rate_limit_free(app.rate_limit);
	if (rc == 0)
		log_write(LOG_INFO, "stopped", NULL);
	return rc;
}

static int cmd_token(struct config *cfg, int argc, char **argv, int i)
{
	const char *tenant = NULL, *scope = "cases:read cases:write", *key = NULL, *sub = NULL, *kid = NULL;
	long ttl = 3600;
	char err[512];
	while (i < argc) {
		int at = i;
		int r = config_from_args(cfg, argc, argv, &i, err, sizeof err);
		if (r < 0) {
			fprintf(stderr, "inkasso token: %s\n", err);
			return 2;
		}
		if (r > 0)
			return 0;
		if (i != at)
			continue;
		if (i + 1 >= argc) {
			fprintf(stderr, "inkasso token: unknown or incomplete argument %s\n", argv[i]);
			return 2;
		}
		if (!strcmp(argv[i], "--tenant"))
			tenant = argv[i + 1];
		else if (!strcmp(argv[i], "--scope"))
			scope = argv[i + 1];
		else if (!strcmp(argv[i], "--sub"))
			sub = argv[i + 1];
		else if (!strcmp(argv[i], "--key"))
			key = argv[i + 1];
		else if (!strcmp(argv[i], "--kid"))
			kid = argv[i + 1];
		else if (!strcmp(argv[i], "--ttl")) {
			char *end;
			errno = 0;
			ttl = strtol(argv[i + 1], &end, 10);
			if (errno || *end || ttl < 1 || ttl > 31536000) {
				fprintf(stderr, "inkasso token: --ttl must be 1..31536000 seconds\n");
				return 2;
			}
		} else {
			fprintf(stderr, "inkasso token: unknown argument %s\n", argv[i]);
			return 2;
		}
		i += 2;
	}
	if (!tenant) {
		fprintf(stderr, "inkasso token: --tenant is required\n");
		return 2;
	}
	struct auth_config ac = auth_config_of(cfg);
	ac.kid = kid;
	char *tok = auth_mint(&ac, key, tenant, scope, sub, ttl, (int64_t)time(NULL), err, sizeof err);
	if (!tok) {
		fprintf(stderr, "inkasso token: %s\n", err);
		return 2;
	}
	printf("%s\n", tok);
	free(tok);
	return 0;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

/* migrate-db --from FILE --to URI: nothing else is needed (no secret, no
 * agency). Exit 0 when copied and verified, 1 when refused or failed, 2 for
 * a usage error. */
static int cmd_migrate_db(int argc, char **argv, int i)
{
	const char *from = NULL, *to = NULL;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--from") && i + 1 < argc)
			from = argv[++i];
		else if (!strcmp(argv[i], "--to") && i + 1 < argc)
			to = argv[++i];
		else
			break;
	}
	if (i < argc || !from || !to) {
		fprintf(stderr, "usage: inkasso migrate-db --from inkasso.db --to postgresql://...\n");
		return 2;
	}
	char err[512] = "";
	if (!store_migrate_db(from, to, stdout, err, sizeof err)) {
		fprintf(stderr, "inkasso migrate-db: %s\n", err);
		return 1;
	}
	printf("migrated and verified: %s -> the PostgreSQL database (point INKASSO_DB at it)\n", from);
	return 0;
}

static int cmd_healthcheck(struct config *cfg, int argc, char **argv, int i)
{
	char url[600];
	char host[64];
	int port;
	if (i + 1 < argc && !strcmp(argv[i], "--url")) {
		snprintf(url, sizeof url, "%s", argv[i + 1]);
	} else {
		if (config_listen_addr(cfg->listen, host, sizeof host, &port) != 0)
			return 1;
		/* A wildcard listen address is reached on loopback. */
		snprintf(url, sizeof url, "http://%s:%d/healthz", strcmp(host, "0.0.0.0") ? host : "127.0.0.1", port);
	}
	CURL *c = curl_easy_init();
	if (!c)
		return 1;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	long code = 0;
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (code != 200) {
		fprintf(stderr, "inkasso healthcheck: %s: %s\n", url,
			rc == CURLE_OK ? "not 200" : curl_easy_strerror(rc));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char err[512];
	struct config cfg;
	if (config_from_env(&cfg, err, sizeof err) != 0) {
		fprintf(stderr, "inkasso: %s\n", err);
		return 2;
	}
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("inkasso %s\n", VERSION);
		return 0;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT); /* once, before any thread (libcurl's rule) */
	int rc;
	if (!strcmp(argv[1], "serve")) {
		int i = 2;
		int r = config_from_args(&cfg, argc, argv, &i, err, sizeof err);
		if (r < 0 || (r == 0 && i < argc)) {
			fprintf(stderr, "inkasso serve: %s\n", r < 0 ? err : "unknown argument (see --help)");
			rc = 2;
		} else {
			rc = r > 0 ? 0 : cmd_serve(&cfg);
		}
	} else if (!strcmp(argv[1], "token")) {
		rc = cmd_token(&cfg, argc, argv, 2);
	} else if (!strcmp(argv[1], "healthcheck")) {
		rc = cmd_healthcheck(&cfg, argc, argv, 2);
	} else if (!strcmp(argv[1], "migrate-db")) {
		rc = cmd_migrate_db(argc, argv, 2);
	} else if (!strcmp(argv[1], "webhook-listen")) {
		rc = webhook_listen_main(argc - 1, argv + 1);
	} else {
		fprintf(stderr, "inkasso: unknown command \"%s\" (see inkasso --help)\n", argv[1]);
		rc = 2;
	}
	curl_global_cleanup();
	return rc;
}
