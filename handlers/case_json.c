/* SPDX-License-Identifier: MIT */
#include "handlers/case_json.h"

#include "lib/jsonw.h"

void case_json_open(struct buf *b, const struct case_row *c)
{
	buf_putc(b, '{');
	jw_lstr(b, true, JW_K("id"), c->id);
	jw_lstr(b, false, JW_K("status"), c->status);
	jw_lstr(b, false, JW_K("stage"), c->stage);
	jw_lstr(b, false, JW_K("agency_status"), c->agency_status);
	jw_lstr(b, false, JW_K("service"), c->service);
	jw_lstr(b, false, JW_K("debtor_type"), c->debtor_type);
	jw_lstr(b, false, JW_K("your_reference"), c->your_reference);
	jw_lstr(b, false, JW_K("agency_case_id"), c->agency_case_id);
	/* Stored as JSON written by the validator: copied, not re-parsed. */
	jw_lraw(b, false, JW_K("invoice"), c->invoice_json);
	jw_lraw(b, false, JW_K("debtor"), c->debtor_json);
	jw_lkey(b, false, JW_K("balance"));
	buf_putc(b, '{');
	jw_lstr(b, true, JW_K("currency"), c->currency);
	jw_lint(b, false, JW_K("original"), c->original);
	jw_lint(b, false, JW_K("paid"), c->paid);
	jw_lint(b, false, JW_K("credited"), c->credited);
	jw_lint(b, false, JW_K("remaining"), c->remaining);
	jw_lint(b, false, JW_K("interest"), c->interest);
	jw_lint(b, false, JW_K("costs"), c->costs);
	buf_putc(b, '}');
	jw_lstr(b, false, JW_K("created_at"), c->created_at);
	jw_lstr(b, false, JW_K("updated_at"), c->updated_at);
	jw_lstr(b, false, JW_K("submitted_at"), c->submitted_at);
	jw_lstr(b, false, JW_K("closed_at"), c->closed_at);
}

void case_json_event(struct buf *b, const struct case_event_row *e)
{
	buf_putc(b, '{');
	jw_lstr(b, true, JW_K("at"), e->at);
	jw_lstr(b, false, JW_K("from"), e->from);
	jw_lstr(b, false, JW_K("to"), e->to);
	jw_lstr(b, false, JW_K("source"), e->source);
	jw_lstr(b, false, JW_K("detail"), e->detail);
	jw_lraw(b, false, JW_K("actor"), e->actor);
	buf_putc(b, '}');
}
