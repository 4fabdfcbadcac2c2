/* SPDX-License-Identifier: MIT */
#include "handlers/csv_rows.h"

#include <json-c/json.h>
#include <string.h>

#include "handlers/case_validate.h"
#include "lib/csv.h"
#include "lib/json_read.h"

static const char *const case_columns[] = {
	"id", "status", "state", "stage", "agency_status", "service", "invoice_number", "your_reference",
	"agency_case_id", "issued_on", "due_on", "debtor_type", "customer_number", "debtor_name", "business_name",
	"org_number", "national_id", "date_of_birth", "email", "phone", "currency", "original", "paid", "credited",
	"remaining", "interest", "costs", "created_at", "updated_at", "submitted_at", "closed_at", NULL,
};

void csv_case_header(struct buf *b)
{
	csv_header(b, case_columns);
}

static const char *state_of(const char *status)
{
	int s = status ? case_status_parse(status) : -1;
	if (s < 0)
		return NULL;
	return (CASE_MASK_OPEN & (1u << s)) ? "open" : "closed";
}

void csv_case_row(struct buf *b, const struct case_row *c)
{
	/* The stored objects are JSON the validator wrote: parsed, not trusted
	 * to be of any shape (a member missing is an empty cell). */
	json_object *inv = c->invoice_json ? json_tokener_parse(c->invoice_json) : NULL;
	json_object *deb = c->debtor_json ? json_tokener_parse(c->debtor_json) : NULL;
	const char *nid = json_member_text(deb, "national_id");
	char masked[64];
	mask_national_id(nid, masked, sizeof masked);
	const char *text[] = {
		c->id, c->status, state_of(c->status), c->stage, c->agency_status, c->service, c->invoice_number,
		c->your_reference, c->agency_case_id, json_member_text(inv, "issued_on"),
		json_member_text(inv, "due_on"), c->debtor_type, json_member_text(deb, "customer_number"),
		json_member_text(deb, "name"), json_member_text(deb, "business_name"),
		json_member_text(deb, "org_number"), nid ? masked : NULL, json_member_text(deb, "date_of_birth"),
		json_member_text(deb, "email"), json_member_text(deb, "phone"), c->currency,
	};
	for (size_t i = 0; i < sizeof text / sizeof *text; i++)
		csv_cell(b, i == 0, text[i]);
	const int64_t money[] = {c->original, c->paid, c->credited, c->remaining, c->interest, c->costs};
	for (size_t i = 0; i < sizeof money / sizeof *money; i++)
		csv_cell_int(b, false, money[i]);
	csv_cell(b, false, c->created_at);
	csv_cell(b, false, c->updated_at);
	csv_cell(b, false, c->submitted_at);
	csv_cell(b, false, c->closed_at);
	csv_row_end(b);
	json_object_put(inv);
	json_object_put(deb);
}

static const char *const settlement_columns[] = {
	"settlement_id", "agency_settlement_id", "settlement_date", "agency", "remittance_reference", "amount",
	"currency", "created_at", "allocation_id", "case_id", "invoice_number", "allocation_amount",
	"allocation_date", NULL,
};

void csv_settlement_header(struct buf *b)
{
	csv_header(b, settlement_columns);
}

/* The settlement's columns, which begin each of its rows. */
static void settlement_cells(struct buf *b, const struct settlement_row *st)
{
	csv_cell(b, true, st->id);
	csv_cell(b, false, st->agency_settlement_id);
	csv_cell(b, false, st->settlement_date);
	csv_cell(b, false, st->agency);
	csv_cell(b, false, st->remittance_reference);
	csv_cell_int(b, false, st->amount);
	csv_cell(b, false, st->currency);
	csv_cell(b, false, st->created_at);
}

static int on_settlement(void *ctx, const struct settlement_row *st)
{
	struct csv_settlements *w = ctx;
	w->n++;
	w->allocs = 0;
	w->st = st; /* valid until on_end (the store keeps its row) */
	w->last_seq = st->seq;
	return 0;
}

static int on_allocation(void *ctx, const struct allocation_row *a)
{
	struct csv_settlements *w = ctx;
	w->allocs++;
	settlement_cells(w->b, w->st);
	csv_cell(w->b, false, a->allocation_id);
	csv_cell(w->b, false, a->case_id);
	csv_cell(w->b, false, a->invoice_number);
	csv_cell_int(w->b, false, a->amount);
	csv_cell(w->b, false, a->allocation_date);
	csv_row_end(w->b);
	return 0;
}

static int on_end(void *ctx, const struct settlement_row *st)
{
	struct csv_settlements *w = ctx;
	if (!w->allocs) {
		settlement_cells(w->b, st);
		buf_puts(w->b, ",,,,,"); /* the five allocation columns, empty */
		csv_row_end(w->b);
	}
	w->st = NULL;
	return 0;
}

const struct settlement_fns csv_settlement_fns = {on_settlement, on_allocation, on_end};
