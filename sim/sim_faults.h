/* SPDX-License-Identifier: MIT */
/* Injected faults for /api/ calls, so that the service's retries, its
 * Retry-After handling and its unknown-outcome lookups can be tested. The
 * configuration is replaced as a whole by POST /sim/faults. */
#ifndef SIM_FAULTS_H
#define SIM_FAULTS_H
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"

struct json_object;

#define SIM_FAULT_PATH_MAX 128
#define SIM_FAULT_TIMEOUT_DEFAULT_MS 30000 /* above any sane client timeout */

struct sim_fault_config {
	double error_rate;   /* share of calls answered with an injected error, unprocessed */
	int status;          /* that error's status; 0 mixes 500 and 429 half and half */
	int retry_after;     /* seconds in Retry-After on a 429 (at least 1) */
	double slow_rate;    /* share of calls answered after slow_ms */
	int slow_ms;
	double drop_rate;    /* share of calls processed, then closed without an answer */
	double timeout_rate; /* share of calls processed, then answered after timeout_ms */
	int timeout_ms;
	char path[SIM_FAULT_PATH_MAX]; /* only calls to this path, or all /api/ calls when empty */
	uint64_t seed;                 /* 0: a random seed */
};

/* What to do with one call. An error means the handler does not run. */
struct sim_fault_decision {
	int status;        /* injected error status, or 0 */
	int retry_after;   /* for a 429 */
	bool drop;         /* run the handler, then close the connection */
	int64_t delay_ms;  /* run the handler, then wait this long before answering */
	const char *kind;  /* "error", "drop", "timeout", "slow" or NULL, for stats and logs */
};

struct sim_faults;

/* A fault injector with no faults. NULL on allocation failure. */
struct sim_faults *sim_faults_new(void);
/* NULL-safe. */
void sim_faults_free(struct sim_faults *f);
/* Replaces the configuration (and reseeds). */
void sim_faults_set(struct sim_faults *f, const struct sim_fault_config *c);
/* Copies the current configuration into *c. */
void sim_faults_get(struct sim_faults *f, struct sim_fault_config *c);
/* Draws the fate of one call to path. Thread-safe. */
void sim_faults_decide(struct sim_faults *f, const char *path, struct sim_fault_decision *d);
/* Reads a configuration from a JSON object; absent members are 0. False
 * with a static reason in *why for a wrong type or an out-of-range value. */
bool sim_faults_from_json(struct json_object *obj, struct sim_fault_config *c, const char **why);
/* Appends the configuration as a JSON object. */
void sim_faults_to_json(const struct sim_fault_config *c, struct buf *b);

#endif
