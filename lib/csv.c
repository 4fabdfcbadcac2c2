/* SPDX-License-Identifier: MIT */
#include "lib/csv.h"

#include <inttypes.h>
#include <string.h>

void csv_cell(struct buf *b, bool first, const char *s)
{
	if (!first)
		buf_putc(b, ',');
	if (!s || !*s)
		return;
	/* Tab and CR too: some spreadsheets skip them and then read the
	 * formula behind them. */
	bool formula = strchr("=+-@\t\r", s[0]) != NULL;
	bool quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		buf_putc(b, '"');
	if (formula)
		buf_putc(b, '\'');
	for (const char *p = s; *p;) {
		const char *q = strchr(p, '"');
		size_t n = q ? (size_t)(q - p) + 1 : strlen(p); /* through the quote, which is then doubled */
		buf_append(b, p, n);
		if (q)
			buf_putc(b, '"');
		p += n;
	}
	if (quote)
		buf_putc(b, '"');
}

void csv_cell_int(struct buf *b, bool first, int64_t v)
{
	if (!first)
		buf_putc(b, ',');
	buf_printf(b, "%" PRId64, v);
}

void csv_row_end(struct buf *b)
{
	buf_append(b, "\r\n", 2);
}

void csv_header(struct buf *b, const char *const *names)
{
	for (const char *const *n = names; *n; n++)
		csv_cell(b, n == names, *n);
	csv_row_end(b);
}
