/* SPDX-License-Identifier: MIT */
/* Checks tenants' agency api keys with the agency's validate call, on
 * threads of its own: PUT /v1/agency-settings asks and is answered when the
 * agency has, and no HTTP thread waits on the agency meanwhile. */
#ifndef INKASSO_AGENCY_KEY_CHECK_H
#define INKASSO_AGENCY_KEY_CHECK_H
#include <stddef.h>

#include "agency/client.h"
#include "agency/clients.h"

#define KEY_CHECK_THREADS 2
#define KEY_CHECK_QUEUE_MAX 64 /* checks waiting at most; more are answered "cannot tell" at once */

struct key_check;

/* Starts the checker threads, each with a client per environment of agency
 * (read at once). NULL with a reason in err when a URL is unusable. */
struct key_check *key_check_start(const struct agency_options *agency, char *err, size_t errlen);
/* Answers what is queued, stops the threads and frees. NULL-safe. */
void key_check_stop(struct key_check *kc);

/* Queues a check of api_key (copied) with the agency's environment env.
 * done(ctx, valid) is called exactly once, on a checker thread, with 1 (the
 * agency accepts the key), 0 (it refuses it: isValid false, 401 or 403) or
 * -1 (it could not tell: unreachable, an answer we cannot read, env has no
 * URL); or at once, on the caller's thread, with -1 when kc is NULL or
 * KEY_CHECK_QUEUE_MAX checks wait. */
void key_check_submit(struct key_check *kc, enum agency_environment env, const char *api_key,
		      void (*done)(void *ctx, int valid), void *ctx);

/* The answer of one validate call, as key_check_submit reports it (ac NULL:
 * -1). */
int key_check_once(struct agency_client *ac, const char *api_key);

#endif
