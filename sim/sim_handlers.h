/* SPDX-License-Identifier: MIT */
/* The request as a handler sees it, and every handler. A handler never
 * touches libmicrohttpd: it reads a complete request, writes a JSON body
 * into out and returns the HTTP status; sim_dispatch.c sends it once. */
#ifndef SIM_HANDLERS_H
#define SIM_HANDLERS_H
#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

struct json_object;
struct sim_app;

#define SIM_QUERY_MAX 16 /* query parameters kept; the rest are ignored */

struct sim_request {
	struct sim_app *app;
	const char *method;
	const char *path;
	const char *api_key;      /* X-Api-Key, NULL when absent */
	struct json_object *body; /* the parsed JSON object, NULL without a body */
	const char *raw_body;     /* the body as received, NUL-terminated */
	size_t raw_len;
	struct {
		const char *name, *value;
	} query[SIM_QUERY_MAX];
	size_t nquery;
};

/* The first value of query parameter name, or NULL if absent or empty. */
const char *sim_request_query(const struct sim_request *r, const char *name);
/* Reads an optional YYYY-MM-DD query parameter into *val (NULL if absent).
 * False, with a 400 written into out, if present but not a date. */
bool sim_request_date_or_reply(const struct sim_request *r, const char *name, const char **val,
			       struct buf *out);
/* Writes {"message": message} into out and returns status. */
int sim_reply_message(struct buf *out, int status, const char *message);

/* The agency API (DESIGN.md, "The agency API"). */
int sim_api_validate(const struct sim_request *r, struct buf *out);
int sim_api_invoice_post(const struct sim_request *r, struct buf *out);
int sim_api_distribution(const struct sim_request *r, struct buf *out);
int sim_api_case(const struct sim_request *r, struct buf *out);
int sim_api_action(const struct sim_request *r, struct buf *out);
int sim_api_payments(const struct sim_request *r, struct buf *out);
int sim_api_settlements(const struct sim_request *r, struct buf *out);

/* The control API under /sim/ (loopback only) and the health check. */
int sim_ctl_faults_get(const struct sim_request *r, struct buf *out);
int sim_ctl_faults_post(const struct sim_request *r, struct buf *out);
int sim_ctl_config_get(const struct sim_request *r, struct buf *out);
int sim_ctl_config_post(const struct sim_request *r, struct buf *out);
int sim_ctl_advance(const struct sim_request *r, struct buf *out);
int sim_ctl_settle(const struct sim_request *r, struct buf *out);
int sim_ctl_reset(const struct sim_request *r, struct buf *out);
int sim_ctl_stats(const struct sim_request *r, struct buf *out);
int sim_ctl_invoices(const struct sim_request *r, struct buf *out);
int sim_ctl_attempts(const struct sim_request *r, struct buf *out);
int sim_health(const struct sim_request *r, struct buf *out);

#endif
