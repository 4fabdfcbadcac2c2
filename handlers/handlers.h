/* SPDX-License-Identifier: MIT */
/* One handler per endpoint, one file each (handlers/<name>.c). A handler
 * fills out and returns its status; it never touches libmicrohttpd. */
#ifndef INKASSO_HANDLERS_H
#define INKASSO_HANDLERS_H

#include "server/http.h"

int handle_healthz(const struct request *req, struct reply *out);
int handle_readyz(const struct request *req, struct reply *out);
int handle_metrics(const struct request *req, struct reply *out);
int handle_openapi(const struct request *req, struct reply *out);
int handle_settings_get(const struct request *req, struct reply *out);
int handle_settings_put(const struct request *req, struct reply *out);
int handle_cases_post(const struct request *req, struct reply *out);
int handle_cases_preview(const struct request *req, struct reply *out);
int handle_cases_list(const struct request *req, struct reply *out);
int handle_cases_get(const struct request *req, struct reply *out);
int handle_payments_post(const struct request *req, struct reply *out);
int handle_actions_post(const struct request *req, struct reply *out);
int handle_retry_post(const struct request *req, struct reply *out);
int handle_settlements_list(const struct request *req, struct reply *out);
int handle_settlements_get(const struct request *req, struct reply *out);

#endif
