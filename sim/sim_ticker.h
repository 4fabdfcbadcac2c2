/* SPDX-License-Identifier: MIT */
/* The clock of the simulated agency: a thread that, every tick, lets the
 * store move cases forward (case ids, stages, debtor payments, settlements). */
#ifndef SIM_TICKER_H
#define SIM_TICKER_H
#include <stdbool.h>

struct sim_app;
struct sim_ticker;

/* Starts the thread; app is borrowed. NULL on failure. */
struct sim_ticker *sim_ticker_start(struct sim_app *app);
/* Waits for the thread to leave (after app->stopping was set) and frees
 * it. NULL-safe. */
void sim_ticker_stop(struct sim_ticker *t);

#endif
