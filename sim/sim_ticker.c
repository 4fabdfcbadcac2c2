/* SPDX-License-Identifier: MIT */
#include "sim/sim_ticker.h"

#include <pthread.h>
#include <stdlib.h>

#include "sim/sim_app.h"
#include "sim/sim_log.h"
#include "sim/sim_store.h"
#include "sim/sim_time.h"

struct sim_ticker {
	pthread_t thread;
	struct sim_app *app;
};

static void *sim_ticker_run(void *arg)
{
	struct sim_ticker *t = arg;
	struct sim_app *app = t->app;
	bool failing = false; /* log a failing database once, not every second */
	while (!atomic_load(&app->stopping)) {
		struct sim_settings set;
		sim_app_settings(app, &set);
		/* Timers compare stored timestamps with now, so a late or
		 * skipped tick only delays a transition, it never loses one. */
		enum sim_store_rc rc = sim_store_tick(app->store, sim_now_ms(), &set.timing);
		if (rc != SIM_STORE_OK && !failing)
			sim_log("error", "tick failed; retrying every tick", NULL);
		failing = rc != SIM_STORE_OK;
		sim_sleep_ms(set.tick_ms, &app->stopping);
	}
	return NULL;
}

struct sim_ticker *sim_ticker_start(struct sim_app *app)
{
	struct sim_ticker *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->app = app;
	if (pthread_create(&t->thread, NULL, sim_ticker_run, t) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

void sim_ticker_stop(struct sim_ticker *t)
{
	if (!t)
		return;
	pthread_join(t->thread, NULL);
	free(t);
}
