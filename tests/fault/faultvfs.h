/* SPDX-License-Identifier: MIT */
/* A test-only SQLite VFS that wraps the default (unix) VFS and fails the N-th
 * write or sync, or reports the disk full, for storage-fault tests. Never
 * linked into bin/inkasso: tests include faultvfs.c, and
 * bin/inkasso-faultvfs links it beside the service (tests/fault/README.md).
 *
 * Counted calls, on every file SQLite opens through it (database, -wal,
 * -journal, temp files; the -shm file is memory-mapped through xShmMap and is
 * left alone):
 *   FAULTVFS_WRITE: xWrite and xTruncate; the N-th fails with
 *                   SQLITE_IOERR_WRITE (xTruncate: SQLITE_IOERR_TRUNCATE)
 *   FAULTVFS_SYNC:  xSync; the N-th fails with SQLITE_IOERR_FSYNC
 *   FAULTVFS_FULL:  xWrite; the N-th fails with SQLITE_FULL
 * A failed call does nothing to the real file. Counters are C11 atomics:
 * any thread and connection may do I/O while the shim is armed. */
#ifndef INKASSO_FAULTVFS_H
#define INKASSO_FAULTVFS_H
#include <stdbool.h>

enum faultvfs_kind { FAULTVFS_WRITE, FAULTVFS_SYNC, FAULTVFS_FULL };

/* Registers the shim as the default VFS, wrapping the default one at the
 * time of the first call. Idempotent. Returns an SQLite result code. */
int faultvfs_register(void);

/* Arms the shim: counting starts from zero now; the n-th (n >= 1) counted
 * call of kind fails, and with persistent every counted call after it too,
 * until faultvfs_disarm or the next faultvfs_arm. */
void faultvfs_arm(enum faultvfs_kind kind, long n, bool persistent);
/* Disarms: no call fails; counters keep their values until the next arm. */
void faultvfs_disarm(void);

/* Counted calls since the last arm (of the armed kind). */
long faultvfs_calls(void);
/* Failures returned since the last arm. */
long faultvfs_fired(void);
/* "db", "wal", "journal" or "other": the file of the first failure since
 * the last arm; "" when none fired. */
const char *faultvfs_first_file(void);

/* "write", "sync", "full"; NULL for an out-of-range value. */
const char *faultvfs_kind_name(enum faultvfs_kind kind);

/* Follows a control file (the HTTP-level tests): before every counted call
 * the shim reads path and, when its content differs from what it last
 * applied, re-arms from its first line: "KIND N MODE [TAG]" (KIND
 * write|sync|full, N >= 1, MODE once|persist) or "off [TAG]"; a missing,
 * empty or unreadable file means off. Give every arming its own TAG: the
 * same content twice is not a new arming. Each failure appends a line
 * "TAG KIND CALL FILE" to path + ".fired". Returns 0, or -1 if path is too
 * long. */
int faultvfs_follow(const char *path);

#endif
