/* SPDX-License-Identifier: MIT */
#include "handlers/case_json.h"

#include "lib/jsonw.h"

void case_json_open(struct buf *b, const struct case_row *c)
{
	buf_putc(b, '{');
	jw_kstr(b, true, "id", c->id);
	jw_kstr(b, false, "status", c->status);
	jw_kstr(b, false, "stage", c->stage);
	jw_kstr(b, false, "agency_status", c->agency_status);
	jw_kstr(b, false, "service", c->service);
	jw_kstr(b, false, "debtor_type", c->debtor_type);
	jw_kstr(b, false, "your_reference", c->your_reference);
	jw_kstr(b, false, "agency_case_id", c->agency_case_id);
	/* Stored as JSON written by the validator: copied, not re-parsed. */
	jw_kraw(b, false, "invoice", c->invoice_json);
	jw_kraw(b, false, "debtor", c->debtor_json);
	jw_key(b, false, "balance");
	buf_putc(b, '{');
	jw_kstr(b, true, "currency", c->currency);
	jw_kint(b, false, "original", c->original);
	jw_kint(b, false, "paid", c->paid);
	jw_kint(b, false, "credited", c->credited);
	jw_kint(b, false, "remaining", c->remaining);
	jw_kint(b, false, "interest", c->interest);
	jw_kint(b, false, "costs", c->costs);
	buf_putc(b, '}');
	jw_kstr(b, false, "created_at", c->created_at);
	jw_kstr(b, false, "updated_at", c->updated_at);
	jw_kstr(b, false, "submitted_at", c->submitted_at);
	jw_kstr(b, false, "closed_at", c->closed_at);
}

void case_json_event(struct buf *b, const struct case_event_row *e)
{
	buf_putc(b, '{');
	jw_kstr(b, true, "at", e->at);
	jw_kstr(b, false, "from", e->from);
	jw_kstr(b, false, "to", e->to);
	jw_kstr(b, false, "source", e->source);
	jw_kstr(b, false, "detail", e->detail);
	jw_kraw(b, false, "actor", e->actor);
	buf_putc(b, '}');
}
