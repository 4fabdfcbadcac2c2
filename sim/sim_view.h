/* SPDX-License-Identifier: MIT */
/* JSON views of an invoice and its case shared by several handlers. */
#ifndef SIM_VIEW_H
#define SIM_VIEW_H

#include "lib/buf.h"
#include "sim/sim_store.h"

/* Appends the case balance object: capitalAmount, interestAmount,
 * costsAmount, paidAmount, remainingAmount in the currency's digits. */
void sim_view_balance(struct buf *b, const struct sim_invoice *inv);
/* Appends the control API's view of an invoice WITHOUT its closing brace,
 * so that callers can add members (actions) before closing it. */
void sim_view_invoice_open(struct buf *b, const struct sim_invoice *inv);

#endif
