/* SPDX-License-Identifier: MIT */
/* The agency's case statuses and stages in our terms (DESIGN.md). */
#ifndef INKASSO_AGENCY_STATUS_MAP_H
#define INKASSO_AGENCY_STATUS_MAP_H
#include <stddef.h>

/* Our status for an agency status: ACTIVE open, PAUSED paused, DISPUTED
 * disputed, PAID paid, WITHDRAWN withdrawn, CLOSED closed, REJECTED
 * rejected (case-insensitive); anything else keeps the case open (the raw
 * value stays in agency_status). */
const char *status_map_agency(const char *agency_status);
/* The stage in lower case ("" stays ""), into out (size outlen); characters
 * other than [A-Za-z0-9_-] become '_' so a hostile agency cannot inject. */
void status_map_stage(const char *stage, char *out, size_t outlen);

#endif
