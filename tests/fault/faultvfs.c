/* SPDX-License-Identifier: MIT */
/* The storage fault shim of faultvfs.h. Every method is forwarded to the
 * wrapped VFS and, for files, to the wrapped file stored right behind ours;
 * only xWrite, xTruncate and xSync can be made to fail. Modelled on SQLite's
 * own test VFSes (src/test_vfstrace.c, src/test_devsym.c). */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tests/fault/faultvfs.h"

enum fv_role { ROLE_DB, ROLE_WAL, ROLE_JOURNAL, ROLE_OTHER };
static const char *const fv_role_names[] = {"db", "wal", "journal", "other"};

/* Our file, followed in the same allocation by the wrapped VFS's file. */
struct fv_file {
	sqlite3_file base;
	sqlite3_file *real;
	enum fv_role role;
};

static sqlite3_vfs *fv_real_vfs;
static sqlite3_vfs fv_vfs;
static sqlite3_io_methods fv_io[3]; /* one per io_methods iVersion 1..3 of the wrapped file */

/* The armed fault. fv_armed is written last when arming and first when
 * disarming, so a call that sees it set sees the fault's parameters. */
static atomic_bool fv_armed;
static atomic_int fv_armed_kind;
static atomic_long fv_armed_n;
static atomic_bool fv_armed_persistent;
static atomic_long fv_calls;      /* counted calls since the last arm */
static atomic_long fv_fired;      /* failures since the last arm */
static atomic_int fv_first_role = -1;

/* The control file (faultvfs_follow); fv_follow_lock guards all of it. */
static pthread_mutex_t fv_follow_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool fv_following;
static char fv_follow_path[1024];
static char fv_fired_path[1040];
static char fv_follow_tag[64];
static char fv_follow_seen[256];  /* the content last applied; "" (off) at first */

const char *faultvfs_kind_name(enum faultvfs_kind kind)
{
	switch (kind) {
	case FAULTVFS_WRITE: return "write";
	case FAULTVFS_SYNC: return "sync";
	case FAULTVFS_FULL: return "full";
	}
	return NULL;
}

void faultvfs_arm(enum faultvfs_kind kind, long n, bool persistent)
{
	atomic_store(&fv_armed, false);
	atomic_store(&fv_armed_kind, (int)kind);
	atomic_store(&fv_armed_n, n);
	atomic_store(&fv_armed_persistent, persistent);
	atomic_store(&fv_calls, 0);
	atomic_store(&fv_fired, 0);
	atomic_store(&fv_first_role, -1);
	atomic_store(&fv_armed, n >= 1);
}

void faultvfs_disarm(void)
{
	atomic_store(&fv_armed, false);
}

long faultvfs_calls(void)
{
	return atomic_load(&fv_calls);
}

long faultvfs_fired(void)
{
	return atomic_load(&fv_fired);
}

const char *faultvfs_first_file(void)
{
	int r = atomic_load(&fv_first_role);
	return r < 0 ? "" : fv_role_names[r];
}

/* ---- the control file ---- */

/* Parses "KIND N MODE [TAG]" or "off [TAG]" and re-arms. Under fv_follow_lock. */
static void follow_apply(const char *line)
{
	char kind[16] = "", mode[16] = "", tag[64] = "";
	long n = 0;
	fv_follow_tag[0] = '\0';
	if (sscanf(line, "%15s", kind) == 1 && strcmp(kind, "off") == 0) {
		if (sscanf(line, "%15s %63s", kind, tag) == 2)
			snprintf(fv_follow_tag, sizeof fv_follow_tag, "%s", tag);
		faultvfs_disarm();
		return;
	}
	int got = sscanf(line, "%15s %ld %15s %63s", kind, &n, mode, tag);
	enum faultvfs_kind k;
	if (strcmp(kind, "write") == 0)
		k = FAULTVFS_WRITE;
	else if (strcmp(kind, "sync") == 0)
		k = FAULTVFS_SYNC;
	else if (strcmp(kind, "full") == 0)
		k = FAULTVFS_FULL;
	else
		got = 0;
	bool persistent = strcmp(mode, "persist") == 0;
	if (got < 3 || n < 1 || (!persistent && strcmp(mode, "once") != 0)) {
		faultvfs_disarm(); /* a control file we cannot read arms nothing */
		return;
	}
	if (got == 4)
		snprintf(fv_follow_tag, sizeof fv_follow_tag, "%s", tag);
	faultvfs_arm(k, n, persistent);
}

/* Re-reads the control file and re-arms when its content changed since the
 * last look. Content, not mtime: two writes within one timestamp tick (and a
 * reused inode) would look the same. A read per counted call is cheap next
 * to the write or sync it precedes. */
static void follow_poll(void)
{
	if (!atomic_load(&fv_following))
		return;
	pthread_mutex_lock(&fv_follow_lock);
	char line[sizeof fv_follow_seen] = "";
	int fd = open(fv_follow_path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t len = read(fd, line, sizeof line - 1);
		line[len > 0 ? len : 0] = '\0';
		close(fd);
	}
	if (strcmp(line, fv_follow_seen) != 0) {
		memcpy(fv_follow_seen, line, sizeof line);
		follow_apply(line);
	}
	pthread_mutex_unlock(&fv_follow_lock);
}

/* Appends "TAG KIND CALL FILE" to the .fired file. */
static void follow_report(enum faultvfs_kind kind, long call, enum fv_role role)
{
	if (!atomic_load(&fv_following))
		return;
	pthread_mutex_lock(&fv_follow_lock);
	int fd = open(fv_fired_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		char line[160];
		int len = snprintf(line, sizeof line, "%s %s %ld %s\n", fv_follow_tag[0] ? fv_follow_tag : "-",
				   faultvfs_kind_name(kind), call, fv_role_names[role]);
		if (len > 0 && write(fd, line, (size_t)len) != len)
			fprintf(stderr, "faultvfs: cannot write %s\n", fv_fired_path);
		close(fd);
	}
	pthread_mutex_unlock(&fv_follow_lock);
}

int faultvfs_follow(const char *path)
{
	if (strlen(path) >= sizeof fv_follow_path)
		return -1;
	pthread_mutex_lock(&fv_follow_lock);
	snprintf(fv_follow_path, sizeof fv_follow_path, "%s", path);
	snprintf(fv_fired_path, sizeof fv_fired_path, "%s.fired", path);
	fv_follow_seen[0] = '\0';
	pthread_mutex_unlock(&fv_follow_lock);
	atomic_store(&fv_following, true);
	return 0;
}

/* ---- the fault decision ---- */

enum fv_call { CALL_WRITE, CALL_TRUNCATE, CALL_SYNC };

/* SQLITE_OK to go on to the real file, else the error to return instead. */
static int fault_check(struct fv_file *f, enum fv_call call)
{
	follow_poll();
	if (!atomic_load(&fv_armed))
		return SQLITE_OK;
	enum faultvfs_kind kind = (enum faultvfs_kind)atomic_load(&fv_armed_kind);
	bool counted = (kind == FAULTVFS_WRITE && call != CALL_SYNC) ||
		       (kind == FAULTVFS_FULL && call == CALL_WRITE) ||
		       (kind == FAULTVFS_SYNC && call == CALL_SYNC);
	if (!counted)
		return SQLITE_OK;
	long i = atomic_fetch_add(&fv_calls, 1) + 1;
	long n = atomic_load(&fv_armed_n);
	if (!(i == n || (i > n && atomic_load(&fv_armed_persistent))))
		return SQLITE_OK;
	atomic_fetch_add(&fv_fired, 1);
	int none = -1;
	atomic_compare_exchange_strong(&fv_first_role, &none, (int)f->role);
	follow_report(kind, i, f->role);
	switch (kind) {
	case FAULTVFS_FULL: return SQLITE_FULL;
	case FAULTVFS_SYNC: return SQLITE_IOERR_FSYNC;
	case FAULTVFS_WRITE: break;
	}
	return call == CALL_TRUNCATE ? SQLITE_IOERR_TRUNCATE : SQLITE_IOERR_WRITE;
}

/* ---- file methods: all forwarded ---- */

#define REAL(f) (((struct fv_file *)(f))->real)

static int fv_close(sqlite3_file *f)
{
	int rc = REAL(f)->pMethods->xClose(REAL(f));
	f->pMethods = NULL;
	return rc;
}

static int fv_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xRead(REAL(f), buf, amt, off);
}

static int fv_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
	int rc = fault_check((struct fv_file *)f, CALL_WRITE);
	return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xWrite(REAL(f), buf, amt, off);
}

static int fv_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	int rc = fault_check((struct fv_file *)f, CALL_TRUNCATE);
	return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int fv_sync(sqlite3_file *f, int flags)
{
	int rc = fault_check((struct fv_file *)f, CALL_SYNC);
	return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int fv_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int fv_lock(sqlite3_file *f, int lock)
{
	return REAL(f)->pMethods->xLock(REAL(f), lock);
}

static int fv_unlock(sqlite3_file *f, int lock)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), lock);
}

static int fv_check_reserved_lock(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int fv_file_control(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int fv_sector_size(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int fv_device_characteristics(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int fv_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, pp);
}

static int fv_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}

static void fv_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int fv_shm_unmap(sqlite3_file *f, int delete_flag)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), delete_flag);
}

static int fv_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp)
{
	return REAL(f)->pMethods->xFetch(REAL(f), off, amt, pp);
}

static int fv_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

/* ---- VFS methods: all forwarded to the wrapped VFS ---- */

static int fv_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
	(void)vfs;
	struct fv_file *f = (struct fv_file *)file;
	memset(f, 0, sizeof *f);
	f->real = (sqlite3_file *)(f + 1);
	f->role = (flags & SQLITE_OPEN_MAIN_DB)	       ? ROLE_DB
		  : (flags & SQLITE_OPEN_WAL)	       ? ROLE_WAL
		  : (flags & SQLITE_OPEN_MAIN_JOURNAL) ? ROLE_JOURNAL
						       : ROLE_OTHER;
	int rc = fv_real_vfs->xOpen(fv_real_vfs, name, f->real, flags, out_flags);
	const sqlite3_io_methods *m = f->real->pMethods;
	if (m) {
		/* Our methods of the same version: SQLite looks at iVersion before
		 * calling xShmMap (2) or xFetch (3), and so must the forwarders. */
		int v = m->iVersion < 1 ? 1 : m->iVersion > 3 ? 3 : m->iVersion;
		f->base.pMethods = &fv_io[v - 1];
	}
	/* pMethods NULL (the real open failed before it had a file): SQLite will
	 * not call xClose, and neither must we. */
	return rc;
}

static int fv_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return fv_real_vfs->xDelete(fv_real_vfs, name, sync_dir);
}

static int fv_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return fv_real_vfs->xAccess(fv_real_vfs, name, flags, out);
}

static int fv_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return fv_real_vfs->xFullPathname(fv_real_vfs, name, n, out);
}

static void *fv_dl_open(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return fv_real_vfs->xDlOpen(fv_real_vfs, name);
}

static void fv_dl_error(sqlite3_vfs *vfs, int n, char *msg)
{
	(void)vfs;
	fv_real_vfs->xDlError(fv_real_vfs, n, msg);
}

static void (*fv_dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void)vfs;
	return fv_real_vfs->xDlSym(fv_real_vfs, h, sym);
}

static void fv_dl_close(sqlite3_vfs *vfs, void *h)
{
	(void)vfs;
	fv_real_vfs->xDlClose(fv_real_vfs, h);
}

static int fv_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return fv_real_vfs->xRandomness(fv_real_vfs, n, out);
}

static int fv_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return fv_real_vfs->xSleep(fv_real_vfs, us);
}

static int fv_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return fv_real_vfs->xCurrentTime(fv_real_vfs, out);
}

static int fv_get_last_error(sqlite3_vfs *vfs, int n, char *msg)
{
	(void)vfs;
	return fv_real_vfs->xGetLastError ? fv_real_vfs->xGetLastError(fv_real_vfs, n, msg) : 0;
}

static int fv_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return fv_real_vfs->xCurrentTimeInt64(fv_real_vfs, out);
}

static int fv_set_system_call(sqlite3_vfs *vfs, const char *name, sqlite3_syscall_ptr p)
{
	(void)vfs;
	return fv_real_vfs->xSetSystemCall(fv_real_vfs, name, p);
}

static sqlite3_syscall_ptr fv_get_system_call(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return fv_real_vfs->xGetSystemCall(fv_real_vfs, name);
}

static const char *fv_next_system_call(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return fv_real_vfs->xNextSystemCall(fv_real_vfs, name);
}

static pthread_mutex_t fv_register_lock = PTHREAD_MUTEX_INITIALIZER;

int faultvfs_register(void)
{
	int rc = SQLITE_OK;
	pthread_mutex_lock(&fv_register_lock);
	if (fv_real_vfs)
		goto out;
	sqlite3_vfs *r = sqlite3_vfs_find(NULL);
	if (!r) {
		rc = SQLITE_ERROR;
		goto out;
	}
	for (int v = 1; v <= 3; v++) {
		sqlite3_io_methods *m = &fv_io[v - 1];
		*m = (sqlite3_io_methods){
			.iVersion = v,
			.xClose = fv_close,
			.xRead = fv_read,
			.xWrite = fv_write,
			.xTruncate = fv_truncate,
			.xSync = fv_sync,
			.xFileSize = fv_file_size,
			.xLock = fv_lock,
			.xUnlock = fv_unlock,
			.xCheckReservedLock = fv_check_reserved_lock,
			.xFileControl = fv_file_control,
			.xSectorSize = fv_sector_size,
			.xDeviceCharacteristics = fv_device_characteristics,
		};
		if (v >= 2) {
			m->xShmMap = fv_shm_map;
			m->xShmLock = fv_shm_lock;
			m->xShmBarrier = fv_shm_barrier;
			m->xShmUnmap = fv_shm_unmap;
		}
		if (v >= 3) {
			m->xFetch = fv_fetch;
			m->xUnfetch = fv_unfetch;
		}
	}
	fv_vfs = (sqlite3_vfs){
		.iVersion = r->iVersion,
		.szOsFile = (int)sizeof(struct fv_file) + r->szOsFile,
		.mxPathname = r->mxPathname,
		.zName = "faultvfs",
		.xOpen = fv_open,
		.xDelete = fv_delete,
		.xAccess = fv_access,
		.xFullPathname = fv_full_pathname,
		.xDlOpen = fv_dl_open,
		.xDlError = fv_dl_error,
		.xDlSym = fv_dl_sym,
		.xDlClose = fv_dl_close,
		.xRandomness = fv_randomness,
		.xSleep = fv_sleep,
		.xCurrentTime = fv_current_time,
		.xGetLastError = fv_get_last_error,
	};
	if (r->iVersion >= 2)
		fv_vfs.xCurrentTimeInt64 = fv_current_time_int64;
	if (r->iVersion >= 3) {
		fv_vfs.xSetSystemCall = fv_set_system_call;
		fv_vfs.xGetSystemCall = fv_get_system_call;
		fv_vfs.xNextSystemCall = fv_next_system_call;
	}
	fv_real_vfs = r;
	rc = sqlite3_vfs_register(&fv_vfs, 1);
	if (rc != SQLITE_OK)
		fv_real_vfs = NULL;
out:
	pthread_mutex_unlock(&fv_register_lock);
	return rc;
}

/* bin/inkasso-faultvfs: registered before main, so that every connection the
 * service opens goes through the shim; armed through INKASSO_FAULT_FILE. A
 * test that includes this file defines FAULTVFS_NO_CONSTRUCTOR and calls
 * faultvfs_register itself. */
#ifndef FAULTVFS_NO_CONSTRUCTOR
__attribute__((constructor)) static void faultvfs_start(void)
{
	if (faultvfs_register() != SQLITE_OK) {
		fprintf(stderr, "faultvfs: cannot register the fault VFS\n");
		_exit(70);
	}
	const char *path = getenv("INKASSO_FAULT_FILE");
	if (path && *path && faultvfs_follow(path) != 0) {
		fprintf(stderr, "faultvfs: INKASSO_FAULT_FILE is too long\n");
		_exit(70);
	}
	fprintf(stderr, "{\"level\":\"warn\",\"msg\":\"faultvfs: test-only binary, storage fault shim "
			"active\",\"following\":%s}\n",
		path && *path ? "true" : "false");
}
#endif
