/* SPDX-License-Identifier: MIT */
/* The status filters of GET /v1/collection-cases (DESIGN.md, "Reading
 * cases"): `state` names a group, `status` literal statuses only. */
#ifndef INKASSO_CASE_FILTER_H
#define INKASSO_CASE_FILTER_H
#include <stdbool.h>

/* state: "open" → CASE_MASK_OPEN, "closed" → CASE_MASK_CLOSED (store.h).
 * Returns false, *mask 0, for any other value (the empty one too). */
bool case_state_mask(const char *v, unsigned *mask);

/* status: one or more status names separated by commas, each the literal
 * status ("open" is the status open, not the group) → their bits. Returns
 * false, *mask 0, for an unknown name, an empty item or an empty value. */
bool case_status_mask(const char *v, unsigned *mask);

#endif
