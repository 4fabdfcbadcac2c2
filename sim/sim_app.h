/* SPDX-License-Identifier: MIT */
/* What every part of the simulator shares: the store, the fault injector,
 * the run-time settings (changeable through /sim/config) and the stop flag. */
#ifndef SIM_APP_H
#define SIM_APP_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim/sim_store.h"

struct sim_faults;

struct sim_settings {
	bool accept_duplicates; /* store a repeated invoice number as a new invoice */
	struct sim_timing timing;
	int64_t tick_ms; /* how often time moves cases forward */
};

struct sim_app {
	struct sim_store *store;   /* borrowed */
	struct sim_faults *faults; /* borrowed */
	atomic_bool stopping;      /* set on SIGTERM: sleeps end, threads leave */
	pthread_mutex_t lock;      /* guards settings */
	struct sim_settings settings;
	struct sim_settings initial; /* what /sim/reset goes back to */
};

/* Sets up app around store and faults with the given start settings. */
void sim_app_init(struct sim_app *app, struct sim_store *store, struct sim_faults *faults,
		  const struct sim_settings *settings);
/* Releases what sim_app_init made (not the store or faults). */
void sim_app_destroy(struct sim_app *app);
/* Copies the current settings. */
void sim_app_settings(struct sim_app *app, struct sim_settings *out);
/* Replaces the current settings. */
void sim_app_set_settings(struct sim_app *app, const struct sim_settings *in);

#endif
