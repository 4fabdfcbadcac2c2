/* SPDX-License-Identifier: MIT */
/* The objects of "after the handoff" (openapi.yaml Payment, Action,
 * Delivery, SettlementRef, Settlement, SettlementAllocation), written straight from
 * store rows. */
#ifndef INKASSO_AFTER_JSON_H
#define INKASSO_AFTER_JSON_H

#include "lib/buf.h"
#include "store/store.h"

/* Writes one Payment object. */
void after_json_payment(struct buf *b, const struct payment_row *p);
/* Writes one Action object. */
void after_json_action(struct buf *b, const struct action_row *a);
/* Writes one Delivery object (a case detail's delivery) from the row that
 * holds the case up: next_attempt_at is null unless the row is pending; for
 * a row due at once, the time it was queued (its updated_at). */
void after_json_delivery(struct buf *b, const struct case_delivery_row *d);
/* Writes one SettlementRef object (a case's share of a settlement). */
void after_json_settlement_ref(struct buf *b, const struct settlement_ref_row *r);
/* Writes Settlement objects (with their allocations) as the store delivers
 * them: pass after_json_settlements as the struct settlement_fns and a
 * struct settlement_writer as its ctx. Several are comma-separated. */
struct settlement_writer {
	struct buf *b;
	int n;            /* settlements written */
	bool first_alloc;
	int64_t last_seq; /* the seq of the last one: the next page's cursor */
};
extern const struct settlement_fns after_json_settlements;

#endif
