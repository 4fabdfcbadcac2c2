/* SPDX-License-Identifier: MIT */
/* The CSV exports (DESIGN.md, "Reading cases"): Accept: text/csv on
 * GET /v1/collection-cases and GET /v1/settlements answers every matching
 * row, streamed. Each page (CSV_EXPORT_PAGE rows) is its own short read, so
 * an export never holds the database for its whole length and its memory is
 * one page, whatever the number of rows. The keyset walks newest first: rows
 * added after the export began sort before its first page and are not in it;
 * rows already there when it began are all in it (none is ever deleted). */
#ifndef INKASSO_CSV_EXPORT_H
#define INKASSO_CSV_EXPORT_H
#include <stdbool.h>

#include "server/http.h"
#include "store/store.h"

#define CSV_EXPORT_PAGE 500
#define CSV_CONTENT_TYPE "text/csv; charset=utf-8"

/* True when the Accept header (NULL: absent) ranks text/csv strictly above
 * application/json. JSON is the answer otherwise: for no Accept, * / *, a
 * tie, and for an Accept that allows neither (RFC 9110 lets a server send
 * its default rather than 406). */
bool csv_wanted(const char *accept);

/* With CSV, limit and cursor do not apply (the export has every row): true
 * when neither is given, false with a 400 invalid_parameter naming the one
 * given in out. */
bool csv_no_page_or_problem(const struct request *req, struct reply *out);

/* Answers the export of every case matching f (borrowed; copied): the
 * header and the first page now, so that a store error is a problem answer;
 * the rest streamed as the client reads. none: no status can match (only
 * the header row). */
enum handler_result csv_export_cases(const struct request *req, const struct case_filter *f, bool none,
				     struct reply *out);
/* The same for settlements matching f, one row per allocation. */
enum handler_result csv_export_settlements(const struct request *req, const struct settlement_filter *f,
					   struct reply *out);

#endif
