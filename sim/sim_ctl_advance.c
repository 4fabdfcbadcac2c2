/* SPDX-License-Identifier: MIT */
/* POST /sim/advance and POST /sim/settle: move a case or the money on at
 * once, so that tests need not wait for the clock. */
#include <json-c/json.h>
#include <string.h>

#include "lib/jsonw.h"
#include "sim/sim_app.h"
#include "sim/sim_handlers.h"
#include "sim/sim_json.h"
#include "sim/sim_money.h"
#include "sim/sim_store.h"
#include "sim/sim_view.h"

static bool sim_target_known(const char *to)
{
	static const char *const targets[] = {"assigned", "collection", "legal", "payment",
					      "paid",	  "closed",	"rejected"};
	for (size_t i = 0; to && i < sizeof targets / sizeof targets[0]; i++)
		if (strcmp(to, targets[i]) == 0)
			return true;
	return false;
}

int sim_ctl_advance(const struct sim_request *r, struct buf *out)
{
	const char *key = sim_json_string(r->body, "apiKey");
	const char *number = sim_json_string(r->body, "invoiceNumber");
	const char *to = sim_json_string(r->body, "to");
	if (!key || !key[0] || !number || !number[0])
		return sim_reply_message(out, 400, "apiKey and invoiceNumber are required");
	if (!sim_target_known(to))
		return sim_reply_message(out, 400, "to must be one of assigned collection legal "
						   "payment paid closed rejected");
	struct sim_invoice inv;
	enum sim_store_rc rc = sim_store_invoice_by_number(r->app->store, key, number, &inv);
	int64_t amount = 0;
	if (rc == SIM_STORE_OK && strcmp(to, "payment") == 0 &&
	    (!sim_money_from_json(sim_json_member(r->body, "amount"), inv.digits, &amount) ||
	     amount == 0))
		return sim_reply_message(out, 400, "payment needs a positive amount in the "
						   "invoice currency's minor digits");
	if (rc == SIM_STORE_OK)
		rc = sim_store_advance(r->app->store, key, number, to, amount, sim_now_ms(), &inv);
	switch (rc) {
	case SIM_STORE_OK:
		sim_view_invoice_open(out, &inv);
		buf_putc(out, '}');
		return 200;
	case SIM_STORE_NONE:
		return sim_reply_message(out, 404, "invoice not found");
	default:
		return sim_reply_message(out, 500, "the simulator could not advance the case");
	}
}

int sim_ctl_settle(const struct sim_request *r, struct buf *out)
{
	const char *key = sim_json_string(r->body, "apiKey");
	if (!sim_json_string_or_absent(r->body, "apiKey"))
		return sim_reply_message(out, 400, "apiKey must be a string");
	int64_t created = 0;
	if (sim_store_settle(r->app->store, key, sim_now_ms(), &created) != SIM_STORE_OK)
		return sim_reply_message(out, 500, "the simulator could not settle");
	buf_putc(out, '{');
	jw_kint(out, true, "settlements_created", created);
	buf_putc(out, '}');
	return 200;
}
