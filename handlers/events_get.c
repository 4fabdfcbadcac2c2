/* SPDX-License-Identifier: MIT */
/* GET /v1/events: the change feed, oldest first after a cursor, as a
 * platform polls it; GET /v1/events/{id}: one event. Each event is stored
 * as the JSON it is listed and delivered as, so a page is those texts
 * joined. */
#include <string.h>

#include "handlers/cursor.h"
#include "handlers/handlers.h"
#include "handlers/page.h"
#include "handlers/store_problem.h"
#include "lib/ids.h"
#include "lib/jsonw.h"
#include "server/app.h"
#include "server/auth.h"
#include "store/store_events.h"

struct feed_writer {
	struct buf *b;
	int n;
	int64_t last_pos;
};

static int write_event(void *ctx, const struct event_row *e)
{
	struct feed_writer *w = ctx;
	if (w->n++)
		buf_putc(w->b, ',');
	buf_puts(w->b, e->body);
	w->last_pos = e->pos;
	return 0;
}

/* type=a,b: the mask of known types; false with a 400 for another. */
static bool types_or_problem(const char *v, unsigned *mask, struct reply *out)
{
	*mask = 0;
	while (v) {
		const char *comma = strchr(v, ',');
		size_t n = comma ? (size_t)(comma - v) : strlen(v);
		char name[40];
		int t = -1;
		if (n > 0 && n < sizeof name) {
			memcpy(name, v, n);
			name[n] = '\0';
			t = event_type_parse(name);
		}
		if (t < 0 || t == EVENT_WEBHOOK_TEST) {
			reply_invalid_parameter(out, "type",
						"type must be a comma list of case.created, case.status_changed, "
						"case.stage_changed, case.payment_received, case.action_failed, "
						"settlement.created");
			return false;
		}
		*mask |= 1u << t;
		v = comma ? comma + 1 : NULL;
	}
	return true;
}

enum handler_result handle_events_list(const struct request *req, struct reply *out)
{
	static const char *const allowed[] = {"after", "type", "case_id", "limit", NULL};
	struct event_filter f = {.tenant = req->claims->tenant};
	const char *types, *case_id;
	if (!page_or_problem(req, allowed, "after", &f.limit, &f.after_pos, out) ||
	    !page_param_once(req, "type", &types, out) || !page_param_once(req, "case_id", &case_id, out))
		return HANDLER_ANSWERED;
	if (types && !types_or_problem(types, &f.type_mask, out))
		return HANDLER_ANSWERED;
	if (case_id && !ids_valid("cc_", case_id))
		return reply_invalid_parameter(out, "case_id", "case_id must be a case id (cc_...)");
	f.case_id = case_id;
	struct feed_writer w = {.b = &out->body, .last_pos = f.after_pos};
	bool has_more = false;
	buf_puts(w.b, "{\"data\":[");
	enum store_result r = store_event_list(req->app->store, &f, write_event, &w, &has_more);
	if (r < 0) {
		buf_reset(&out->body);
		return reply_store_problem(out, r);
	}
	/* The cursor is where to go on from: the last event of the page, or
	 * the one given when the page is empty, so a poller can always keep
	 * the last next_cursor. */
	buf_puts(w.b, "],");
	jw_kbool(w.b, true, "has_more", has_more);
	if (w.last_pos > 0) {
		char cur[CURSOR_MAX];
		cursor_encode(w.last_pos, cur);
		jw_kstr(w.b, false, "next_cursor", cur);
	} else {
		jw_kstr(w.b, false, "next_cursor", NULL);
	}
	buf_putc(w.b, '}');
	return reply_json(out, 200);
}

enum handler_result handle_events_get(const struct request *req, struct reply *out)
{
	if (!ids_valid("evt_", req->path_id))
		return reply_problem(out, PROBLEM_NOT_FOUND, "no such event");
	struct feed_writer w = {.b = &out->body};
	enum store_result r = store_event_get(req->app->store, req->claims->tenant, req->path_id, write_event, &w);
	if (r == STORE_NOT_FOUND)
		return reply_problem(out, PROBLEM_NOT_FOUND, "no such event");
	if (r != STORE_OK) {
		buf_reset(&out->body);
		return reply_store_problem(out, r);
	}
	return reply_json(out, 200);
}
