/* SPDX-License-Identifier: MIT */
/* GET /api/v1/partner/invoice/distribution?invoiceNumber=N: was the invoice
 * received, and has it a case id yet (assigned asynchronously). This is the
 * lookup a careful client makes after a send with an unknown outcome. */
#include "lib/jsonw.h"
#include "sim/sim_app.h"
#include "sim/sim_handlers.h"
#include "sim/sim_store.h"

int sim_api_distribution(const struct sim_request *r, struct buf *out)
{
	const char *number = sim_request_query(r, "invoiceNumber");
	if (!number)
		return sim_reply_message(out, 400, "invoiceNumber is required");
	struct sim_invoice inv;
	switch (sim_store_invoice_by_number(r->app->store, r->api_key, number, &inv)) {
	case SIM_STORE_OK:
		break;
	case SIM_STORE_NONE:
		return sim_reply_message(out, 404, "invoice not found");
	default:
		return sim_reply_message(out, 500, "the simulator could not read the invoice");
	}
	buf_putc(out, '{');
	jw_kstr(out, true, "invoiceNumber", inv.number);
	jw_kstr(out, false, "status", inv.case_id[0] ? "REGISTERED" : "RECEIVED");
	jw_kstr_or_null(out, false, "caseId", inv.case_id);
	buf_putc(out, '}');
	return 200;
}
