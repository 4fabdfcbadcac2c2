/* SPDX-License-Identifier: MIT */
/* bin/agency-sim: a Confirma-shaped debt-collection agency for local runs,
 * demos and tests. Configuration, start, signals, stop. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_app.h"
#include "sim/sim_faults.h"
#include "sim/sim_http.h"
#include "sim/sim_log.h"
#include "sim/sim_store.h"
#include "sim/sim_ticker.h"

#define SIM_DEFAULT_LISTEN "127.0.0.1:8090"
#define SIM_DEFAULT_DB "sim.db"

static const char sim_usage[] =
	"Usage: agency-sim [options]\n"
	"A simulated debt-collection agency serving the Confirma Finance partner API\n"
	"(/api/v1/partner/...) and a control API for tests (/sim/..., loopback only).\n"
	"\n"
	"Options (environment variable in brackets):\n"
	"  --listen HOST:PORT        address to listen on; [::1]:PORT for IPv6;\n"
	"                            port 0 picks a free one [AGENCY_SIM_LISTEN] (" SIM_DEFAULT_LISTEN ")\n"
	"  --db FILE                 SQLite state file, :memory: for none [AGENCY_SIM_DB]\n"
	"                            (" SIM_DEFAULT_DB " in the current directory)\n"
	"  --accept-duplicates       store a repeated invoice number as a new invoice instead\n"
	"                            of answering 409 (a careless agency, for exactly-once tests)\n"
	"  --advance-seconds S       how often time moves cases forward (1)\n"
	"  --assign-delay S          received -> case id assigned (1)\n"
	"  --reminder-seconds S      stage REMINDER -> COLLECTION (30)\n"
	"  --collection-seconds S    stage COLLECTION -> debtor pays, PAID (120)\n"
	"  --settle-seconds S        between settlement runs (60)\n"
	"  --fast                    test timings: reminder 1, collection 3, settle 2\n"
	"  --seed N                  seed of the fault injector (random by default)\n"
	"  --help                    this text\n"
	"Seconds may have decimals. SIGTERM or SIGINT stops the simulator (exit 0).\n"
	"Logs are JSON lines on stderr. See sim/README.md for the endpoints.\n";

struct sim_options {
	const char *listen;
	const char *db;
	struct sim_settings settings;
	uint64_t seed;
};

/* Parses non-negative decimal seconds into milliseconds. */
static bool sim_seconds(const char *s, int64_t min_ms, int64_t *ms)
{
	char *end = NULL;
	double v = strtod(s, &end);
	if (!end || end == s || *end || !(v >= 0.0) || v > 30.0 * 24 * 3600)
		return false;
	int64_t out = (int64_t)llround(v * 1000.0);
	if (out < min_ms)
		return false;
	*ms = out;
	return true;
}

/* Splits HOST:PORT (or [V6]:PORT) into host and port; false if malformed. */
static bool sim_listen_parse(const char *listen, char *host, size_t hostlen, int *port)
{
	const char *colon = strrchr(listen, ':');
	if (!colon || colon == listen)
		return false;
	const char *h = listen;
	size_t hl = (size_t)(colon - listen);
	if (h[0] == '[') {
		if (hl < 2 || h[hl - 1] != ']')
			return false;
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= hostlen)
		return false;
	memcpy(host, h, hl);
	host[hl] = '\0';
	char *end = NULL;
	long p = strtol(colon + 1, &end, 10);
	if (!end || end == colon + 1 || *end || p < 0 || p > 65535)
		return false;
	*port = (int)p;
	return true;
}

/* Fills *o from the environment and argv; exits on --help and on errors. */
static void sim_options_parse(int argc, char **argv, struct sim_options *o)
{
	enum { O_LISTEN = 1, O_DB, O_DUP, O_ADVANCE, O_ASSIGN, O_REMIND, O_COLLECT, O_SETTLE,
	       O_FAST, O_SEED, O_HELP };
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, O_LISTEN},
		{"db", required_argument, NULL, O_DB},
		{"accept-duplicates", no_argument, NULL, O_DUP},
		{"advance-seconds", required_argument, NULL, O_ADVANCE},
		{"assign-delay", required_argument, NULL, O_ASSIGN},
		{"reminder-seconds", required_argument, NULL, O_REMIND},
		{"collection-seconds", required_argument, NULL, O_COLLECT},
		{"settle-seconds", required_argument, NULL, O_SETTLE},
		{"fast", no_argument, NULL, O_FAST},
		{"seed", required_argument, NULL, O_SEED},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	const char *env_listen = getenv("AGENCY_SIM_LISTEN");
	const char *env_db = getenv("AGENCY_SIM_DB");
	o->listen = env_listen && *env_listen ? env_listen : SIM_DEFAULT_LISTEN;
	o->db = env_db && *env_db ? env_db : SIM_DEFAULT_DB;
	struct sim_timing *t = &o->settings.timing;
	*t = (struct sim_timing){1000, 30000, 120000, 60000};
	o->settings.tick_ms = 1000;
	/* Explicit timings win over --fast whatever their order: kept aside
	 * (-1: not given) and applied after the loop. */
	int64_t given[4] = {-1, -1, -1, -1};
	bool fast = false;
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		bool ok = true;
		switch (c) {
		case O_LISTEN: o->listen = optarg; break;
		case O_DB: o->db = optarg; break;
		case O_DUP: o->settings.accept_duplicates = true; break;
		case O_ADVANCE: ok = sim_seconds(optarg, 50, &o->settings.tick_ms); break;
		case O_ASSIGN: ok = sim_seconds(optarg, 0, &given[0]); break;
		case O_REMIND: ok = sim_seconds(optarg, 0, &given[1]); break;
		case O_COLLECT: ok = sim_seconds(optarg, 0, &given[2]); break;
		case O_SETTLE: ok = sim_seconds(optarg, 0, &given[3]); break;
		case O_FAST: fast = true; break;
		case O_SEED: {
			char *end = NULL;
			o->seed = strtoull(optarg, &end, 10);
			ok = end && end != optarg && !*end;
			break;
		}
		case O_HELP: fputs(sim_usage, stdout); exit(0);
		default: fputs(sim_usage, stderr); exit(2);
		}
		if (!ok) {
			fprintf(stderr, "agency-sim: bad value for an option: %s\n", optarg);
			exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "agency-sim: unexpected argument: %s\n%s", argv[optind], sim_usage);
		exit(2);
	}
	if (fast)
		*t = (struct sim_timing){1000, 1000, 3000, 2000};
	int64_t *slot[4] = {&t->assign_delay_ms, &t->reminder_ms, &t->collection_ms, &t->settle_ms};
	for (int i = 0; i < 4; i++)
		if (given[i] >= 0)
			*slot[i] = given[i];
}

int main(int argc, char **argv)
{
	struct sim_options o = {0};
	sim_options_parse(argc, argv, &o);
	char host[256];
	int port = 0;
	if (!sim_listen_parse(o.listen, host, sizeof host, &port)) {
		fprintf(stderr, "agency-sim: --listen wants HOST:PORT, got %s\n", o.listen);
		return 2;
	}
	/* Signals are blocked before any thread starts, so that every thread
	 * inherits the mask and only sigwait() below ever sees them. */
	sigset_t stop_set;
	/* A shell starts background jobs with SIGINT ignored, and an ignored
	 * signal is discarded rather than left pending for sigwait(). */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
	signal(SIGPIPE, SIG_IGN);

	int rc = 1;
	char err[256];
	struct sim_app app;
	bool app_ready = false;
	struct sim_ticker *ticker = NULL;
	struct sim_http *http = NULL;
	struct sim_faults *faults = sim_faults_new();
	struct sim_store *store = sim_store_open(o.db, err, sizeof err);
	if (!store || !faults) {
		sim_log("error", "cannot start", "error", store ? "out of memory" : err, NULL);
		goto out;
	}
	if (o.seed) {
		struct sim_fault_config seeded = {.seed = o.seed};
		sim_faults_set(faults, &seeded);
	}
	sim_app_init(&app, store, faults, &o.settings);
	app_ready = true;
	ticker = sim_ticker_start(&app);
	http = ticker ? sim_http_start(&app, host, port, err, sizeof err) : NULL;
	if (!http) {
		sim_log("error", "cannot start", "error", ticker ? err : "cannot start the ticker",
			NULL);
		goto out;
	}
	char port_s[8], tick_s[24];
	snprintf(port_s, sizeof port_s, "%d", sim_http_port(http));
	snprintf(tick_s, sizeof tick_s, "%lld", (long long)o.settings.tick_ms);
	sim_log("info", "listening", "host", host, "port", port_s, "db", o.db, "accept_duplicates",
		o.settings.accept_duplicates ? "true" : "false", "tick_ms", tick_s, NULL);

	int sig = 0;
	sigwait(&stop_set, &sig);
	sim_log("info", "stopping", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT", NULL);
	rc = 0;
out:
	if (app_ready)
		atomic_store(&app.stopping, true);
	sim_http_stop(http);
	sim_ticker_stop(ticker);
	if (app_ready)
		sim_app_destroy(&app);
	sim_store_close(store);
	sim_faults_free(faults);
	if (rc == 0)
		sim_log("info", "stopped", NULL);
	return rc;
}
