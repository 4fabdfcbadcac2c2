/* SPDX-License-Identifier: MIT */
/* GET /sim/invoices?apiKey=K: every invoice a client sent, duplicates as
 * separate entries with their creation count, the request as parsed and
 * the actions in the order they arrived (exactly-once and ordering tests). */
#include "lib/jsonw.h"
#include "sim/sim_app.h"
#include "sim/sim_handlers.h"
#include "sim/sim_money.h"
#include "sim/sim_store.h"
#include "sim/sim_view.h"

struct sim_invoices_out {
	struct buf *out;
	bool first;       /* no invoice written yet */
	bool first_action; /* no action written yet for the current invoice */
};

static void sim_invoices_close(struct sim_invoices_out *io)
{
	if (!io->first)
		buf_puts(io->out, "]}");
}

static void sim_invoices_invoice(const struct sim_invoice *inv, void *arg)
{
	struct sim_invoices_out *io = arg;
	sim_invoices_close(io);
	if (!io->first)
		buf_putc(io->out, ',');
	io->first = false;
	io->first_action = true;
	sim_view_invoice_open(io->out, inv);
	/* Stored as json-c wrote it back after a strict parse: valid JSON. */
	jw_kraw(io->out, false, "request", inv->body);
	buf_puts(io->out, ",\"actions\":[");
}

static void sim_invoices_action(const struct sim_action *a, void *arg)
{
	struct sim_invoices_out *io = arg;
	struct buf *b = io->out;
	buf_puts(b, io->first_action ? "{" : ",{");
	io->first_action = false;
	jw_kstr(b, true, "code", a->code);
	jw_kstr(b, false, "comment", a->comment);
	if (a->has_amount)
		sim_money_kput(b, false, "amount", a->amount, a->digits);
	else
		jw_kraw(b, false, "amount", NULL);
	jw_kstr(b, false, "currency", a->currency);
	jw_kstr(b, false, "paymentDate", a->payment_date);
	jw_kstr(b, false, "reference", a->reference);
	jw_kstr(b, false, "paymentMethod", a->payment_method);
	jw_kstr(b, false, "receivedAt", a->received_at);
	buf_putc(b, '}');
}

int sim_ctl_invoices(const struct sim_request *r, struct buf *out)
{
	const char *key = sim_request_query(r, "apiKey");
	if (!key)
		return sim_reply_message(out, 400, "apiKey is required");
	struct sim_invoices_out io = {.out = out, .first = true};
	buf_puts(out, "{\"invoices\":[");
	if (sim_store_invoices(r->app->store, key, sim_invoices_invoice, sim_invoices_action, &io) !=
	    SIM_STORE_OK)
		return sim_reply_message(out, 500, "the simulator could not read the invoices");
	sim_invoices_close(&io);
	buf_puts(out, "]}");
	return 200;
}
