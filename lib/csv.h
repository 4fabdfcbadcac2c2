/* SPDX-License-Identifier: MIT */
/* CSV as RFC 4180 writes it (CRLF line ends; a field with a comma, a quote,
 * CR or LF quoted, its quotes doubled), with formula neutralisation for
 * spreadsheets (OWASP "CSV injection"): a text cell that starts with '=',
 * '+', '-', '@', tab or CR gets a leading '\'' so that no spreadsheet runs
 * it. Bytes pass through as they are (the service stores valid UTF-8). */
#ifndef INKASSO_CSV_H
#define INKASSO_CSV_H
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"

/* Appends one text cell to b: a comma first unless first, then s
 * neutralised and quoted as above. NULL is the empty cell. */
void csv_cell(struct buf *b, bool first, const char *s);
/* Appends one integer cell (money in minor units, counts): written as a
 * number, never neutralised (it is ours, not a caller's text). */
void csv_cell_int(struct buf *b, bool first, int64_t v);
/* Ends the row: CRLF. */
void csv_row_end(struct buf *b);
/* Appends a header row: the NULL-terminated names, then CRLF. */
void csv_header(struct buf *b, const char *const *names);

#endif
