/* SPDX-License-Identifier: MIT */
/* The one line `inkasso webhook-listen` prints for an event it received:
 * what support staff and developers read while they watch deliveries, so
 * short, one event a line, greppable key=value pairs. Values are the
 * event's own (DESIGN.md: no personal data in events) but come from the
 * network: anything but printable ASCII is replaced, so that no event can
 * write control sequences to a terminal or split a line. */
#ifndef INKASSO_WEBHOOK_EVENT_LINE_H
#define INKASSO_WEBHOOK_EVENT_LINE_H
#include <stddef.h>

/* Longest value printed; longer ones end in "...". */
#define EVENT_LINE_VALUE_MAX 64

/* The line (without newline) for the len bytes of body, an event
 * {"id", "type", "created_at", "case_id", "sequence", "data": {...}}:
 *   <created_at> <id> <type> [case=<case_id>] [settlement=<data.id>] [seq=<sequence>]
 *   [previous_status= status= previous_stage= stage= source= kind= amount= currency=]
 * each part only when present (created_at: the current time instead; id,
 * type: "-"). Returns a malloc'd string (free it), or NULL when body is not
 * one JSON object or memory ran out. */
char *webhook_event_line(const char *body, size_t len);

#endif
