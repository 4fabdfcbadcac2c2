/* SPDX-License-Identifier: MIT */
/* One handler per endpoint, one file each (handlers/<name>.c). A handler
 * fills out and returns HANDLER_ANSWERED, or sets *req->defer and returns
 * HANDLER_DEFERRED; it never touches libmicrohttpd. */
#ifndef INKASSO_HANDLERS_H
#define INKASSO_HANDLERS_H

#include "server/http.h"

enum handler_result handle_healthz(const struct request *req, struct reply *out);
enum handler_result handle_readyz(const struct request *req, struct reply *out);
enum handler_result handle_metrics(const struct request *req, struct reply *out);
enum handler_result handle_openapi(const struct request *req, struct reply *out);
enum handler_result handle_problems_list(const struct request *req, struct reply *out);
enum handler_result handle_problem_get(const struct request *req, struct reply *out);
enum handler_result handle_settings_get(const struct request *req, struct reply *out);
enum handler_result handle_settings_put(const struct request *req, struct reply *out);
enum handler_result handle_cases_post(const struct request *req, struct reply *out);
enum handler_result handle_cases_preview(const struct request *req, struct reply *out);
enum handler_result handle_cases_list(const struct request *req, struct reply *out);
enum handler_result handle_cases_get(const struct request *req, struct reply *out);
enum handler_result handle_payments_post(const struct request *req, struct reply *out);
enum handler_result handle_actions_post(const struct request *req, struct reply *out);
enum handler_result handle_retry_post(const struct request *req, struct reply *out);
enum handler_result handle_settlements_list(const struct request *req, struct reply *out);
enum handler_result handle_settlements_get(const struct request *req, struct reply *out);
enum handler_result handle_events_list(const struct request *req, struct reply *out);
enum handler_result handle_events_get(const struct request *req, struct reply *out);
enum handler_result handle_endpoints_post(const struct request *req, struct reply *out);
enum handler_result handle_endpoints_list(const struct request *req, struct reply *out);
enum handler_result handle_endpoint_get(const struct request *req, struct reply *out);
enum handler_result handle_endpoint_patch(const struct request *req, struct reply *out);
enum handler_result handle_endpoint_delete(const struct request *req, struct reply *out);
enum handler_result handle_endpoint_rotate(const struct request *req, struct reply *out);
enum handler_result handle_endpoint_test(const struct request *req, struct reply *out);
enum handler_result handle_endpoint_deliveries(const struct request *req, struct reply *out);
enum handler_result handle_endpoint_recover(const struct request *req, struct reply *out);

#endif
