/* SPDX-License-Identifier: MIT */
#include "lib/ids.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

bool ids_random(void *buf, size_t n)
{
	unsigned char *p = buf;
	while (n) {
		ssize_t got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += got;
		n -= (size_t)got;
	}
	return true;
}

/* The random part of ids, from getrandom() in blocks: one system call per
 * 25 ids instead of one per id (a request id is made for every request).
 * Per thread, so no lock; the bytes are the kernel's all the same. */
static bool id_random(unsigned char out[10])
{
	static _Thread_local unsigned char pool[250];
	static _Thread_local size_t left;
	if (left < 10) {
		if (!ids_random(pool, sizeof pool))
			return false;
		left = sizeof pool;
	}
	left -= 10;
	memcpy(out, pool + left, 10);
	memset(pool + left, 0, 10); /* handed out once */
	return true;
}

bool ids_new(const char *prefix, char *out, size_t outlen)
{
	size_t pl = strlen(prefix);
	if (outlen < pl + 27)
		return false;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	unsigned char rnd[10];
	if (!id_random(rnd))
		return false;
	memcpy(out, prefix, pl);
	char *p = out + pl;
	/* 10 chars of time (50 bits, top 2 zero), then 16 chars of randomness. */
	for (int i = 9; i >= 0; i--) {
		p[i] = crockford[ms & 31];
		ms >>= 5;
	}
	uint64_t hi = 0, lo = 0;
	for (int i = 0; i < 5; i++)
		hi = (hi << 8) | rnd[i];
	for (int i = 5; i < 10; i++)
		lo = (lo << 8) | rnd[i];
	for (int i = 17; i >= 10; i--) {
		p[i] = crockford[hi & 31];
		hi >>= 5;
	}
	for (int i = 25; i >= 18; i--) {
		p[i] = crockford[lo & 31];
		lo >>= 5;
	}
	p[26] = '\0';
	return true;
}

bool ids_valid(const char *prefix, const char *s)
{
	size_t pl = strlen(prefix);
	if (strncmp(s, prefix, pl) != 0 || strlen(s) != pl + 26)
		return false;
	for (size_t i = pl; s[i]; i++)
		if (!strchr(crockford, s[i]))
			return false;
	return true;
}
