/* SPDX-License-Identifier: MIT */
/* GET /api/v1/partner/payments?fromDate&toDate: what the agency collected
 * from debtors, by payment date (inclusive bounds, both optional). */
#include "lib/jsonw.h"
#include "sim/sim_app.h"
#include "sim/sim_handlers.h"
#include "sim/sim_money.h"
#include "sim/sim_store.h"

struct sim_payments_out {
	struct buf *out;
	bool first;
};

static void sim_payment_json(const struct sim_payment *p, void *arg)
{
	struct sim_payments_out *po = arg;
	buf_puts(po->out, po->first ? "{" : ",{");
	po->first = false;
	jw_kstr(po->out, true, "paymentId", p->payment_id);
	jw_kstr(po->out, false, "caseId", p->case_id);
	jw_kstr(po->out, false, "invoiceNumber", p->invoice_number);
	jw_kstr(po->out, false, "paymentDate", p->payment_date);
	sim_money_kput(po->out, false, "amount", p->amount, p->digits);
	jw_kstr(po->out, false, "currency", p->currency);
	buf_putc(po->out, '}');
}

int sim_api_payments(const struct sim_request *r, struct buf *out)
{
	const char *from, *to;
	if (!sim_request_date_or_reply(r, "fromDate", &from, out) ||
	    !sim_request_date_or_reply(r, "toDate", &to, out))
		return 400;
	struct sim_payments_out po = {out, true};
	buf_putc(out, '[');
	if (sim_store_payments(r->app->store, r->api_key, from, to, sim_payment_json, &po) !=
	    SIM_STORE_OK)
		return sim_reply_message(out, 500, "the simulator could not read the payments");
	buf_putc(out, ']');
	return 200;
}
