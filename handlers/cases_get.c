/* SPDX-License-Identifier: MIT */
/* GET /v1/collection-cases/{id}: the case with its events, payments, actions,
 * settlements and delivery (what waits for the agency), from one snapshot. Another tenant's id answers 404
 * exactly as an unknown one does. */
#include "handlers/after_json.h"
#include "handlers/case_json.h"
#include "handlers/handlers.h"
#include "handlers/store_problem.h"
#include "lib/ids.h"
#include "lib/jsonw.h"
#include "server/app.h"
#include "server/auth.h"

/* The lists of the detail, in the order the store delivers them. */
enum section { SEC_CASE, SEC_EVENTS, SEC_PAYMENTS, SEC_ACTIONS, SEC_SETTLEMENTS, SEC_DONE };

static const char *const section_keys[SEC_DONE] = {
	[SEC_EVENTS] = "events",
	[SEC_PAYMENTS] = "payments",
	[SEC_ACTIONS] = "actions",
	[SEC_SETTLEMENTS] = "settlements",
};

struct detail {
	struct buf *b;
	enum section at; /* the list being written */
	int items;       /* items written in it */
	bool delivery;   /* the delivery member was written */
};

/* Closes the lists up to to and opens the next ones: a list without items is
 * still written, as []. Then a comma unless the item is its list's first. */
static void enter(struct detail *d, enum section to)
{
	while (d->at < to) {
		if (d->at > SEC_CASE)
			buf_putc(d->b, ']');
		d->at++;
		d->items = 0;
		if (d->at < SEC_DONE) {
			jw_key(d->b, false, section_keys[d->at]);
			buf_putc(d->b, '[');
		}
	}
	if (to < SEC_DONE && d->items++)
		buf_putc(d->b, ',');
}

static int write_case(void *ctx, const struct case_row *c)
{
	struct detail *d = ctx;
	case_json_open(d->b, c);
	return 0;
}

static int write_event(void *ctx, const struct case_event_row *e)
{
	struct detail *d = ctx;
	enter(d, SEC_EVENTS);
	case_json_event(d->b, e);
	return 0;
}

static int write_payment(void *ctx, const struct payment_row *p)
{
	struct detail *d = ctx;
	enter(d, SEC_PAYMENTS);
	after_json_payment(d->b, p);
	return 0;
}

static int write_action(void *ctx, const struct action_row *a)
{
	struct detail *d = ctx;
	enter(d, SEC_ACTIONS);
	after_json_action(d->b, a);
	return 0;
}

static int write_settlement(void *ctx, const struct settlement_ref_row *r)
{
	struct detail *d = ctx;
	enter(d, SEC_SETTLEMENTS);
	after_json_settlement_ref(d->b, r);
	return 0;
}

static int write_delivery(void *ctx, const struct case_delivery_row *w)
{
	struct detail *d = ctx;
	enter(d, SEC_DONE);
	jw_key(d->b, false, "delivery");
	after_json_delivery(d->b, w);
	d->delivery = true;
	return 0;
}

enum handler_result handle_cases_get(const struct request *req, struct reply *out)
{
	if (!ids_valid("cc_", req->path_id))
		return reply_problem(out, PROBLEM_NOT_FOUND, "no such case");
	static const struct case_detail_fns fns = {
		.on_case = write_case,
		.on_event = write_event,
		.on_payment = write_payment,
		.on_action = write_action,
		.on_settlement = write_settlement,
		.on_delivery = write_delivery,
	};
	struct detail d = {.b = &out->body, .at = SEC_CASE};
	enum store_result r = store_case_detail(req->app->store, req->claims->tenant, req->path_id, &fns, &d);
	if (r != STORE_OK)
		return reply_case_problem(out, r, NULL); /* the problem replaces what was written */
	enter(&d, SEC_DONE);
	if (!d.delivery) /* nothing waits for the agency */
		jw_kraw(d.b, false, "delivery", NULL);
	buf_putc(d.b, '}');
	reply_json(out, 200);
	return HANDLER_ANSWERED;
}
