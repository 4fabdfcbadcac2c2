/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the agency's answers. The first byte picks the parser
 * (byte % 10) and, for the case answer and amounts, the currency or minor
 * digits (byte / 10); the rest is the answer body (not NUL-terminated, as
 * libcurl hands it over) or, for amounts and Retry-After, a C string.
 * Callbacks read every delivered string, so ASan sees any missing NUL. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agency/parse.h"
#include "lib/money.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

static int on_event(void *ctx, const struct agency_event *e)
{
	(void)ctx;
	sink += strlen(e->event_id) + strlen(e->date) + strlen(e->type) + strlen(e->description);
	return 0;
}

static int on_payment(void *ctx, const struct agency_payment_report *p)
{
	(void)ctx;
	if (p->amount <= 0)
		abort(); /* promised: > 0 */
	sink += strlen(p->payment_id) + strlen(p->case_id) + strlen(p->invoice_number) +
		strlen(p->payment_date) + strlen(p->currency);
	return 0;
}

static int on_settlement(void *ctx, const struct agency_settlement_report *s)
{
	(void)ctx;
	sink += strlen(s->settlement_id) + strlen(s->settlement_date) + strlen(s->agency) +
		strlen(s->remittance_reference) + strlen(s->currency);
	for (size_t i = 0; i < s->n_allocations; i++) {
		const struct agency_allocation_report *a = &s->allocations[i];
		if (a->amount < 0)
			abort(); /* promised: >= 0 */
		sink += strlen(a->allocation_id) + strlen(a->case_id) + strlen(a->invoice_number) +
			strlen(a->allocation_date);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const currencies[] = {"NOK", "JPY", "KWD", "EUR", "XXX"};
	if (size < 1)
		return 0;
	unsigned sel = data[0] % 10, arg = data[0] / 10;
	const char *body = (const char *)data + 1;
	size_t n = size - 1;
	char err[128], msg[AGENCY_TEXT_MAX + 1];
	size_t count;
	switch (sel) {
	case 0: {
		struct agency_validation v;
		agency_parse_validate(body, n, &v, err, sizeof err);
		sink += strlen(v.message);
		break;
	}
	case 1: {
		struct agency_created c;
		agency_parse_create(body, n, &c, err, sizeof err);
		sink += strlen(c.invoice_number) + strlen(c.status);
		break;
	}
	case 2: {
		struct agency_distribution d;
		agency_parse_distribution(body, n, &d, err, sizeof err);
		sink += strlen(d.invoice_number) + strlen(d.status) + strlen(d.case_id);
		break;
	}
	case 3: {
		struct agency_case c;
		if (agency_parse_case(body, n, currencies[arg % 5], &c, on_event, NULL, err, sizeof err) &&
		    (c.capital < 0 || c.interest < 0 || c.costs < 0 || c.paid < 0 || c.remaining < 0))
			abort(); /* promised: amounts >= 0 */
		sink += strlen(c.case_id) + strlen(c.status) + strlen(c.stage) + strlen(c.created_at) +
			strlen(c.closed_at);
		break;
	}
	case 4: {
		struct agency_action_answer a;
		agency_parse_action(body, n, &a, err, sizeof err);
		sink += strlen(a.status);
		break;
	}
	case 5:
		agency_parse_payments(body, n, on_payment, NULL, &count, err, sizeof err);
		break;
	case 6:
		agency_parse_settlements(body, n, on_settlement, NULL, &count, err, sizeof err);
		break;
	case 7:
		agency_parse_message(body, n, msg, sizeof msg);
		sink += strlen(msg);
		break;
	default: {
		char *s = malloc(n + 1);
		if (!s)
			return 0;
		memcpy(s, body, n);
		s[n] = '\0';
		if (sel == 8) {
			int64_t v;
			if (agency_amount_parse(s, (int)(arg % 4), arg & 4, &v) &&
			    (v > MONEY_MAX || v < -MONEY_MAX || (v < 0 && !(arg & 4))))
				abort(); /* promised: |value| <= MONEY_MAX, '-' only when allowed */
		} else {
			int w = agency_retry_after(s, (time_t)1780272000);
			if (w < -1 || w > AGENCY_RETRY_AFTER_MAX)
				abort();
		}
		free(s);
		break;
	}
	}
	return 0;
}
