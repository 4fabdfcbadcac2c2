/* SPDX-License-Identifier: MIT */
/* Opaque keyset cursors for listings: base64url of "v1.<seq>". Opaque so
 * that clients do not build them, versioned so the key can change. */
#ifndef INKASSO_CURSOR_H
#define INKASSO_CURSOR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define CURSOR_MAX 48

/* Encodes seq (> 0) into out (CURSOR_MAX bytes). */
void cursor_encode(int64_t seq, char out[CURSOR_MAX]);
/* Decodes a cursor; false for anything that is not one we wrote. */
bool cursor_decode(const char *s, int64_t *seq);
/* Ends a page opened with {"data":[ : "],"has_more":...,"next_cursor":...}",
 * the cursor made from last_seq when there is more, else null. */
void cursor_page_end(struct buf *b, bool has_more, int64_t last_seq);

#endif
