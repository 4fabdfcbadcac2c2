/* SPDX-License-Identifier: MIT */
#include "handlers/after_json.h"

#include <string.h>

#include "lib/dates.h"
#include "lib/jsonw.h"

void after_json_payment(struct buf *b, const struct payment_row *p)
{
	buf_putc(b, '{');
	jw_lstr(b, true, JW_K("id"), p->id);
	jw_lstr(b, false, JW_K("kind"), payment_kind_name(p->kind));
	jw_lint(b, false, JW_K("amount"), p->amount);
	jw_lstr(b, false, JW_K("paid_on"), p->paid_on);
	jw_lstr(b, false, JW_K("reference"), p->reference);
	jw_lstr(b, false, JW_K("created_at"), p->created_at);
	bool agency = p->source && strcmp(p->source, "agency") == 0;
	jw_lstr(b, false, JW_K("source"), agency ? "agency" : "api");
	/* An agency payment counts only up to what was still owed. */
	jw_lint(b, false, JW_K("applied"), agency ? p->applied : p->amount);
	jw_lstr(b, false, JW_K("agency_payment_id"), p->agency_payment_id);
	jw_lbool(b, false, JW_K("forwarded"), !agency && p->forwarded);
	jw_lraw(b, false, JW_K("actor"), p->actor);
	buf_putc(b, '}');
}

void after_json_action(struct buf *b, const struct action_row *a)
{
	buf_putc(b, '{');
	jw_lstr(b, true, JW_K("id"), a->id);
	jw_lstr(b, false, JW_K("type"), action_type_name(a->type));
	jw_lstr(b, false, JW_K("comment"), a->comment);
	jw_lstr(b, false, JW_K("created_at"), a->created_at);
	jw_lstr(b, false, JW_K("state"), a->state);
	jw_lraw(b, false, JW_K("actor"), a->actor);
	buf_putc(b, '}');
}

void after_json_delivery(struct buf *b, const struct case_delivery_row *d)
{
	/* Only a pending row has a next attempt: a sending one is being tried
	 * now, a failed create waits for a retry that only a person asks for.
	 * A row due at once (0) has been due since it was queued: that time,
	 * stored, so that two reads of an unchanged case answer the same. */
	bool pending = d->state && strcmp(d->state, "pending") == 0;
	char next[DATES_TS_LEN];
	const char *next_at = NULL;
	if (pending && d->next_attempt_at_ms > 0)
		next_at = dates_ms_rfc3339(d->next_attempt_at_ms, next) ? next : NULL;
	else if (pending)
		next_at = d->updated_at;
	buf_putc(b, '{');
	jw_lint(b, true, JW_K("attempts"), d->attempts);
	jw_lstr_or_null(b, false, JW_K("last_error"), d->last_error);
	jw_lstr_or_null(b, false, JW_K("next_attempt_at"), next_at);
	buf_putc(b, '}');
}

void after_json_settlement_ref(struct buf *b, const struct settlement_ref_row *r)
{
	buf_putc(b, '{');
	jw_lstr(b, true, JW_K("settlement_id"), r->settlement_id);
	jw_lint(b, false, JW_K("allocated_amount"), r->amount);
	jw_lstr(b, false, JW_K("allocation_date"), r->allocation_date);
	buf_putc(b, '}');
}

static int settlement_open(void *ctx, const struct settlement_row *s)
{
	struct settlement_writer *w = ctx;
	struct buf *b = w->b;
	if (w->n++)
		buf_putc(b, ',');
	w->first_alloc = true;
	w->last_seq = s->seq;
	buf_putc(b, '{');
	jw_lstr(b, true, JW_K("id"), s->id);
	jw_lstr(b, false, JW_K("agency_settlement_id"), s->agency_settlement_id);
	jw_lstr(b, false, JW_K("settlement_date"), s->settlement_date);
	jw_lstr(b, false, JW_K("agency"), s->agency);
	jw_lstr(b, false, JW_K("remittance_reference"), s->remittance_reference);
	jw_lint(b, false, JW_K("amount"), s->amount);
	jw_lstr(b, false, JW_K("currency"), s->currency);
	jw_lkey(b, false, JW_K("allocations"));
	buf_putc(b, '[');
	return 0;
}

static int allocation(void *ctx, const struct allocation_row *a)
{
	struct settlement_writer *w = ctx;
	struct buf *b = w->b;
	if (!w->first_alloc)
		buf_putc(b, ',');
	w->first_alloc = false;
	buf_putc(b, '{');
	jw_lstr(b, true, JW_K("allocation_id"), a->allocation_id);
	jw_lstr(b, false, JW_K("case_id"), a->case_id);
	jw_lstr(b, false, JW_K("invoice_number"), a->invoice_number);
	jw_lint(b, false, JW_K("amount"), a->amount);
	jw_lstr(b, false, JW_K("allocation_date"), a->allocation_date);
	buf_putc(b, '}');
	return 0;
}

static int settlement_close(void *ctx, const struct settlement_row *s)
{
	(void)s;
	buf_puts(((struct settlement_writer *)ctx)->b, "]}");
	return 0;
}

const struct settlement_fns after_json_settlements = {settlement_open, allocation, settlement_close};
