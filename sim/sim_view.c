/* SPDX-License-Identifier: MIT */
#include "sim/sim_view.h"

#include "lib/jsonw.h"
#include "sim/sim_money.h"

void sim_view_balance(struct buf *b, const struct sim_invoice *inv)
{
	int64_t remaining = inv->capital + inv->interest + inv->costs - inv->paid;
	buf_putc(b, '{');
	sim_money_kput(b, true, "capitalAmount", inv->capital, inv->digits);
	sim_money_kput(b, false, "interestAmount", inv->interest, inv->digits);
	sim_money_kput(b, false, "costsAmount", inv->costs, inv->digits);
	sim_money_kput(b, false, "paidAmount", inv->paid, inv->digits);
	sim_money_kput(b, false, "remainingAmount", remaining > 0 ? remaining : 0, inv->digits);
	buf_putc(b, '}');
}

void sim_view_invoice_open(struct buf *b, const struct sim_invoice *inv)
{
	buf_putc(b, '{');
	jw_kstr(b, true, "invoiceNumber", inv->number);
	jw_kint(b, false, "creations", inv->creations);
	jw_kint(b, false, "copy", inv->copy);
	jw_kstr(b, false, "status", inv->case_id[0] ? "REGISTERED" : "RECEIVED");
	jw_kstr_or_null(b, false, "caseId", inv->case_id);
	jw_kstr_or_null(b, false, "caseStatus", inv->case_status);
	jw_kstr_or_null(b, false, "stage", inv->stage);
	jw_kstr(b, false, "currency", inv->currency);
	jw_key(b, false, "balance");
	sim_view_balance(b, inv);
	jw_kstr(b, false, "receivedAt", inv->received_at);
	jw_kstr_or_null(b, false, "caseCreatedAt", inv->case_created_at);
	jw_kstr_or_null(b, false, "closedAt", inv->closed_at);
}
