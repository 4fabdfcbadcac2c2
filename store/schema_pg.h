/* SPDX-License-Identifier: MIT */
/* The PostgreSQL schema: the same tables, columns and constraints as the
 * SQLite schema of store/schema.c, as PostgreSQL migrations of their own. */
#ifndef INKASSO_STORE_SCHEMA_PG_H
#define INKASSO_STORE_SCHEMA_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/* The key of the session advisory lock that serializes migrations: "inkasso1"
 * in ASCII. Public so that an operator or a test can see (or hold) it. */
#define STORE_SCHEMA_PG_LOCK_KEY 0x696e6b6173736f31LL

/* Brings the database of pg to the newest PostgreSQL schema: under
 * pg_advisory_lock(STORE_SCHEMA_PG_LOCK_KEY), in one transaction per
 * migration, recording each applied version in table schema_version
 * (version integer primary key, applied_at text). Two processes starting at
 * once: one migrates, the other waits and then finds nothing to do. pg must
 * be connected and outside a transaction; it is left so. The tables go to
 * the first schema of the search path. False with a message in err (never a
 * value from a row). */
bool store_schema_pg_migrate(PGconn *pg, char *err, size_t errlen);
/* The version the newest PostgreSQL migration leaves. */
int store_schema_pg_version(void);

#endif
