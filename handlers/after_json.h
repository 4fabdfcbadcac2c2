/* SPDX-License-Identifier: MIT */
/* The objects of "after the handoff" (openapi.yaml Payment, Action,
 * SettlementRef, Settlement, SettlementAllocation), written straight from
 * store rows. */
#ifndef INKASSO_AFTER_JSON_H
#define INKASSO_AFTER_JSON_H

#include "lib/buf.h"
#include "store/store.h"

/* Writes one Payment object. */
void after_json_payment(struct buf *b, const struct payment_row *p);
/* Writes one Action object. */
void after_json_action(struct buf *b, const struct action_row *a);
/* Writes one SettlementRef object (a case's share of a settlement). */
void after_json_settlement_ref(struct buf *b, const struct settlement_ref_row *r);
/* Writes a Settlement up to and including the opening '[' of its allocations;
 * after_json_allocation writes each, after_json_settlement_close ends it. */
void after_json_settlement_open(struct buf *b, const struct settlement_row *s);
/* Writes one SettlementAllocation object, with its leading comma unless first. */
void after_json_allocation(struct buf *b, bool first, const struct allocation_row *a);
/* Closes what after_json_settlement_open opened. */
void after_json_settlement_close(struct buf *b);

#endif
