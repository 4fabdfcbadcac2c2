/* SPDX-License-Identifier: MIT */
/* The rows of the CSV exports (Accept: text/csv on GET /v1/collection-cases
 * and GET /v1/settlements), written from store rows. The columns, in order,
 * are documented in openapi.yaml; change both together. */
#ifndef INKASSO_CSV_ROWS_H
#define INKASSO_CSV_ROWS_H

#include "lib/buf.h"
#include "store/store.h"

/* The case export's header row, CRLF-terminated. */
void csv_case_header(struct buf *b);
/* One case as one CSV row: the listing's fields flattened. The national id
 * is masked as the JSON listing shows it (mask_national_id; the stored debtor
 * object holds it masked already, masking it again changes nothing). */
void csv_case_row(struct buf *b, const struct case_row *c);

/* The settlement export's header row. */
void csv_settlement_header(struct buf *b);
/* One row per allocation, the settlement's columns repeated; a settlement
 * without allocations is one row with empty allocation columns. Pass
 * csv_settlement_fns as the struct settlement_fns and a struct csv_settlements
 * as its ctx. */
struct csv_settlements {
	struct buf *b;
	int n;            /* settlements written */
	int allocs;       /* allocations of the current settlement */
	const struct settlement_row *st; /* the current settlement, between its callbacks */
	int64_t last_seq; /* the seq of the last one: the next page's cursor */
};
extern const struct settlement_fns csv_settlement_fns;

#endif
