/* SPDX-License-Identifier: MIT */
#include "sim/sim_app.h"

void sim_app_init(struct sim_app *app, struct sim_store *store, struct sim_faults *faults,
		  const struct sim_settings *settings)
{
	app->store = store;
	app->faults = faults;
	atomic_init(&app->stopping, false);
	pthread_mutex_init(&app->lock, NULL);
	app->settings = *settings;
	app->initial = *settings;
}

void sim_app_destroy(struct sim_app *app)
{
	pthread_mutex_destroy(&app->lock);
}

void sim_app_settings(struct sim_app *app, struct sim_settings *out)
{
	pthread_mutex_lock(&app->lock);
	*out = app->settings;
	pthread_mutex_unlock(&app->lock);
}

void sim_app_set_settings(struct sim_app *app, const struct sim_settings *in)
{
	pthread_mutex_lock(&app->lock);
	app->settings = *in;
	pthread_mutex_unlock(&app->lock);
}
