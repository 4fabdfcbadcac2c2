/* SPDX-License-Identifier: MIT */
/* GET /api/v1/partner/settlements?fromDate&toDate: payouts to the creditor,
 * one per settlement run, client and currency, with an allocation per
 * debtor payment. */
#include "lib/jsonw.h"
#include "sim/sim_app.h"
#include "sim/sim_handlers.h"
#include "sim/sim_money.h"
#include "sim/sim_store.h"

struct sim_settlements_out {
	struct buf *out;
	int digits;       /* of the settlement being written */
	bool first;       /* no settlement written yet */
	bool first_alloc; /* no allocation written yet in this settlement */
};

/* Closes the previous settlement's allocations and object, if any. */
static void sim_settlement_close(struct sim_settlements_out *so)
{
	if (!so->first)
		buf_puts(so->out, "]}");
}

static void sim_settlement_json(const struct sim_settlement *s, void *arg)
{
	struct sim_settlements_out *so = arg;
	sim_settlement_close(so);
	buf_puts(so->out, so->first ? "{" : ",{");
	so->first = false;
	so->first_alloc = true;
	so->digits = s->digits;
	jw_kstr(so->out, true, "settlementId", s->settlement_id);
	jw_kstr(so->out, false, "settlementDate", s->settlement_date);
	jw_kstr(so->out, false, "agency", "Confirma Finance (simulator)");
	jw_kstr(so->out, false, "remittanceReference", s->reference);
	sim_money_kput(so->out, false, "settlementAmount", s->amount, s->digits);
	jw_kstr(so->out, false, "currency", s->currency);
	buf_puts(so->out, ",\"allocations\":[");
}

static void sim_allocation_json(const struct sim_allocation *a, void *arg)
{
	struct sim_settlements_out *so = arg;
	buf_puts(so->out, so->first_alloc ? "{" : ",{");
	so->first_alloc = false;
	jw_kstr(so->out, true, "allocationId", a->allocation_id);
	jw_kstr(so->out, false, "caseId", a->case_id);
	jw_kstr(so->out, false, "invoiceNumber", a->invoice_number);
	sim_money_kput(so->out, false, "allocatedTotalAmount", a->amount, so->digits);
	jw_kstr(so->out, false, "allocationDate", a->allocation_date);
	buf_putc(so->out, '}');
}

int sim_api_settlements(const struct sim_request *r, struct buf *out)
{
	const char *from, *to;
	if (!sim_request_date_or_reply(r, "fromDate", &from, out) ||
	    !sim_request_date_or_reply(r, "toDate", &to, out))
		return 400;
	char now[SIM_TIMESTAMP_LEN];
	sim_timestamp(sim_now_ms(), now);
	buf_putc(out, '{');
	jw_kstr(out, true, "createdAt", now);
	buf_puts(out, ",\"settlements\":[");
	struct sim_settlements_out so = {.out = out, .first = true};
	if (sim_store_settlements(r->app->store, r->api_key, from, to, sim_settlement_json,
				  sim_allocation_json, &so) != SIM_STORE_OK)
		return sim_reply_message(out, 500, "the simulator could not read the settlements");
	sim_settlement_close(&so);
	buf_puts(out, "]}");
	return 200;
}
