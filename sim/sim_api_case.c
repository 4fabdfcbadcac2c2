/* SPDX-License-Identifier: MIT */
/* GET /api/v1/partner/invoice/case?caseId=C: the case's summary, balance
 * and events, as the service's sync reads them. */
#include "lib/jsonw.h"
#include "sim/sim_app.h"
#include "sim/sim_handlers.h"
#include "sim/sim_store.h"
#include "sim/sim_view.h"

struct sim_case_events {
	struct buf *out;
	bool first;
};

static void sim_case_event(const struct sim_event *e, void *arg)
{
	struct sim_case_events *ev = arg;
	if (!ev->first)
		buf_putc(ev->out, ',');
	ev->first = false;
	buf_putc(ev->out, '{');
	jw_kstr(ev->out, true, "eventId", e->event_id);
	jw_kstr(ev->out, false, "date", e->date);
	jw_kstr(ev->out, false, "type", e->type);
	jw_kstr(ev->out, false, "description", e->description);
	buf_putc(ev->out, '}');
}

int sim_api_case(const struct sim_request *r, struct buf *out)
{
	const char *case_id = sim_request_query(r, "caseId");
	if (!case_id)
		return sim_reply_message(out, 400, "caseId is required");
	struct sim_invoice inv;
	switch (sim_store_invoice_by_case(r->app->store, r->api_key, case_id, &inv)) {
	case SIM_STORE_OK:
		break;
	case SIM_STORE_NONE:
		return sim_reply_message(out, 404, "case not found");
	default:
		return sim_reply_message(out, 500, "the simulator could not read the case");
	}
	buf_puts(out, "{\"case\":{\"summary\":{");
	jw_kstr(out, true, "caseId", inv.case_id);
	jw_kstr(out, false, "status", inv.case_status);
	jw_kstr(out, false, "stage", inv.stage);
	jw_kstr(out, false, "createdAt", inv.case_created_at);
	jw_kstr_or_null(out, false, "closedAt", inv.closed_at);
	jw_kstr(out, false, "invoiceNumber", inv.number);
	jw_kstr(out, false, "currency", inv.currency);
	buf_puts(out, "},\"balance\":");
	sim_view_balance(out, &inv);
	buf_puts(out, ",\"events\":[");
	struct sim_case_events ev = {out, true};
	if (sim_store_events(r->app->store, inv.id, sim_case_event, &ev) != SIM_STORE_OK)
		return sim_reply_message(out, 500, "the simulator could not read the events");
	buf_puts(out, "]}}");
	return 200;
}
