/* SPDX-License-Identifier: MIT */
/* The accepted case as it is stored and shown: the invoice and the debtor
 * objects, written from what the field table read and the rules
 * normalised. Blank strings were read as absent and are written as null. */
#include <stdlib.h>
#include <string.h>

#include "handlers/case_validate.h"
#include "lib/jsonw.h"

static void render_invoice(const struct case_body *b, const struct case_input *in, struct buf *o)
{
	buf_putc(o, '{');
	jw_kstr(o, true, "number", in->invoice_number);
	jw_kstr(o, false, "issued_on", in->issued_on);
	jw_kstr(o, false, "due_on", in->due_on);
	jw_kstr(o, false, "currency", in->currency);
	jw_kint(o, false, "original_amount", in->original_amount);
	jw_kint(o, false, "outstanding_amount", in->outstanding_amount);
	jw_kint(o, false, "fees", b->fees); /* 0 when absent: the contract's default */
	jw_kstr(o, false, "description", b->description);
	jw_kstr(o, false, "payment_reference", b->payment_reference);
	jw_key(o, false, "reminders");
	buf_putc(o, '[');
	for (size_t i = 0; i < b->nreminders; i++) {
		buf_puts(o, i ? ",{" : "{");
		jw_kstr(o, true, "sent_on", b->reminders[i].sent_on);
		jw_kint(o, false, "fee", b->reminders[i].fee);
		buf_putc(o, '}');
	}
	buf_putc(o, ']');
	jw_kbool(o, false, "disputed", b->disputed);
	buf_putc(o, '}');
}

static void render_debtor(const struct case_body *b, const struct case_input *in, struct buf *o)
{
	char masked[sizeof in->national_id];
	mask_national_id(in->national_id, masked, sizeof masked);
	buf_putc(o, '{');
	jw_kstr(o, true, "customer_number", b->customer_number);
	jw_kstr(o, false, "customer_type", b->customer_type >= 0 ? case_customer_types[b->customer_type] : NULL);
	jw_kstr_or_null(o, false, "name", in->debtor_name);
	jw_kstr_or_null(o, false, "business_name", in->business_name);
	jw_kstr_or_null(o, false, "org_number", in->org_number);
	jw_kstr_or_null(o, false, "national_id", masked);
	jw_kstr_or_null(o, false, "date_of_birth", in->date_of_birth);
	jw_kstr(o, false, "email", b->email);
	jw_kstr_or_null(o, false, "phone", in->phone);
	jw_key(o, false, "extra_fields");
	buf_putc(o, '[');
	for (size_t i = 0; i < b->nextra_fields; i++) {
		buf_puts(o, i ? ",{" : "{");
		jw_kstr(o, true, "purpose", b->extra_fields[i].purpose);
		jw_kstr(o, false, "value", b->extra_fields[i].value);
		buf_putc(o, '}');
	}
	buf_putc(o, ']');
	jw_kstr_or_null(o, false, "language", in->language);
	jw_key(o, false, "address");
	buf_putc(o, '{');
	jw_kstr(o, true, "line1", b->line1);
	jw_kstr(o, false, "line2", b->line2);
	jw_kstr(o, false, "postal_code", in->postal_code);
	jw_kstr(o, false, "city", b->city);
	jw_kstr(o, false, "country", in->country);
	buf_puts(o, "}}");
}

bool case_render(const struct case_body *b, struct case_input *in)
{
	struct buf inv = {0}, deb = {0};
	render_invoice(b, in, &inv);
	render_debtor(b, in, &deb);
	if (inv.oom || deb.oom) {
		buf_free(&inv);
		buf_free(&deb);
		return false;
	}
	in->invoice_json = buf_steal(&inv, NULL);
	in->debtor_json = buf_steal(&deb, NULL);
	return true;
}

void mask_national_id(const char *id, char *out, size_t outlen)
{
	if (outlen == 0)
		return;
	size_t n = id ? strlen(id) : 0;
	if (n > outlen - 1)
		n = outlen - 1;
	/* Four clear characters identify a person only together with the rest;
	 * an id of four or fewer would be shown whole, so it is masked whole. */
	size_t clear = n > 4 ? 4 : 0;
	size_t len = id ? strlen(id) : 0;
	memset(out, '*', n - clear);
	if (clear)
		memcpy(out + n - clear, id + len - clear, clear);
	out[n] = '\0';
}
