/* SPDX-License-Identifier: MIT */
/* The Case object of the API, written straight from a store row. */
#ifndef INKASSO_CASE_JSON_H
#define INKASSO_CASE_JSON_H

#include "lib/buf.h"
#include "store/store.h"

/* Writes "{...}" for the case without the closing brace, so that the detail
 * view can append events and the rest; close it with buf_putc(b, '}'). */
void case_json_open(struct buf *b, const struct case_row *c);
/* Writes one event object. */
void case_json_event(struct buf *b, const struct case_event_row *e);

#endif
