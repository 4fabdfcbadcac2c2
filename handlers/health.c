/* SPDX-License-Identifier: MIT */
/* GET /healthz (the process answers) and GET /readyz (the database takes
 * a write transaction now). */
#include "handlers/handlers.h"
#include "server/app.h"
#include "server/problem.h"
#include "store/store.h"

enum handler_result handle_healthz(const struct request *req, struct reply *out)
{
	(void)req;
	reply_json(out, 200);
	buf_puts(&out->body, "{\"status\":\"ok\"}");
	return HANDLER_ANSWERED;
}

enum handler_result handle_readyz(const struct request *req, struct reply *out)
{
	if (!store_writable(req->app->store)) {
		out->retry_after = 1;
		return reply_problem(out, PROBLEM_SERVICE_UNAVAILABLE, "the database does not accept writes");
	}
	reply_json(out, 200);
	buf_puts(&out->body, "{\"status\":\"ready\"}");
	return HANDLER_ANSWERED;
}
