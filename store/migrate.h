/* SPDX-License-Identifier: MIT */
/* `inkasso migrate-db`: a SQLite database copied into an empty PostgreSQL
 * one, then verified. */
#ifndef INKASSO_STORE_MIGRATE_H
#define INKASSO_STORE_MIGRATE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Brings the SQLite file from to the newest schema, creates the newest
 * schema in the PostgreSQL database of the URI to and refuses it unless
 * every table is empty, then copies every table (keys, secrets and
 * idempotency records included; the identity sequences moved past the
 * copied ids) in one PostgreSQL transaction, and verifies each table: the
 * row counts, and the SHA-256 of its rows in primary-key order as each side
 * reads them back. One line per table on out. False with err set (nothing
 * committed on the target unless every table was copied; the verification
 * runs after the commit and reports, it does not undo). */
bool store_migrate_db(const char *from, const char *to, FILE *out, char *err, size_t errlen);

#endif
