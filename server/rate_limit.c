/* SPDX-License-Identifier: MIT */
#include "server/rate_limit.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define NS_PER_S 1000000000LL
#define INTERVAL_MAX_NS (1000 * NS_PER_S) /* rates under 0.001/s count as 0.001/s */
#define BURST_MAX 1000000                 /* with INTERVAL_MAX_NS: burst * interval fits in int64 */

bool rate_bucket_take(int64_t *tat, int64_t interval_ns, int64_t burst, int64_t now_ns, int64_t *wait_ns)
{
	int64_t from = *tat > now_ns ? *tat : now_ns;
	int64_t next = from + interval_ns;
	int64_t ahead = next - now_ns, allowed = burst * interval_ns;
	if (ahead > allowed) {
		*wait_ns = ahead - allowed;
		return false;
	}
	*tat = next;
	*wait_ns = 0;
	return true;
}

int rate_retry_after_s(int64_t wait_ns)
{
	int64_t s = (wait_ns + NS_PER_S - 1) / NS_PER_S;
	return s < 1 ? 1 : s > 86400 * 366 ? 86400 * 366 : (int)s;
}

int64_t rate_interval_ns(double per_second)
{
	double ns = (double)NS_PER_S / per_second;
	if (!(ns < (double)INTERVAL_MAX_NS))
		return INTERVAL_MAX_NS;
	return ns < 1 ? 1 : (int64_t)llround(ns);
}

int64_t rate_burst_of(double per_second, int burst)
{
	double b = burst > 0 ? burst : ceil(per_second);
	return b < 1 ? 1 : b > BURST_MAX ? BURST_MAX : (int64_t)b;
}

/* One stripe: its tenants' hashes side by side, so that a lookup compares
 * eight of them per cache line and reads a name only on a hash match.
 * Aligned so that two stripes' mutexes never share a cache line. */
struct stripe {
	pthread_mutex_t mu;
	uint64_t hash[RATE_LIMIT_WAYS]; /* 0: empty */
	int64_t tat[RATE_LIMIT_WAYS];
	char tenant[RATE_LIMIT_WAYS][65];
} __attribute__((aligned(64)));

struct rate_limit {
	int64_t interval_ns;
	int64_t burst;
	uint64_t seed; /* random: which tenants share a stripe is not chosen by their names */
	struct stripe stripes[RATE_LIMIT_STRIPES];
};

struct rate_limit *rate_limit_new(double per_second, int burst)
{
	if (!(per_second > 0))
		return NULL;
	struct rate_limit *rl = aligned_alloc(64, sizeof *rl);
	if (!rl)
		return NULL;
	memset(rl, 0, sizeof *rl);
	rl->interval_ns = rate_interval_ns(per_second);
	rl->burst = rate_burst_of(per_second, burst);
	if (getrandom(&rl->seed, sizeof rl->seed, 0) != (ssize_t)sizeof rl->seed)
		rl->seed = (uint64_t)(uintptr_t)rl; /* no entropy: still a working limiter */
	for (int i = 0; i < RATE_LIMIT_STRIPES; i++)
		pthread_mutex_init(&rl->stripes[i].mu, NULL);
	return rl;
}

void rate_limit_free(struct rate_limit *rl)
{
	if (!rl)
		return;
	for (int i = 0; i < RATE_LIMIT_STRIPES; i++)
		pthread_mutex_destroy(&rl->stripes[i].mu);
	free(rl);
}

/* FNV-1a from a random basis; never 0 (the empty mark). */
static uint64_t tenant_hash(uint64_t seed, const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ULL ^ seed;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	h ^= h >> 29;
	return h | 1;
}

/* The tenant's slot in st (locked), made when it has none: an empty slot,
 * or one whose bucket is full again (a tenant idle long enough to have no
 * state), or else the one closest to full. */
static int slot_of(struct stripe *st, uint64_t h, const char *tenant, size_t n, int64_t now_ns)
{
	int reuse = -1, closest = 0;
	for (int i = 0; i < RATE_LIMIT_WAYS; i++) {
		if (st->hash[i] == h && !memcmp(st->tenant[i], tenant, n) && st->tenant[i][n] == '\0')
			return i;
		if (st->hash[i] == 0 || st->tat[i] <= now_ns) {
			if (reuse < 0)
				reuse = i;
		} else if (st->tat[i] < st->tat[closest]) {
			closest = i;
		}
	}
	int i = reuse >= 0 ? reuse : closest;
	st->hash[i] = h;
	st->tat[i] = 0;
	memcpy(st->tenant[i], tenant, n);
	st->tenant[i][n] = '\0';
	return i;
}

bool rate_limit_take(struct rate_limit *rl, const char *tenant, int64_t now_ns, int *retry_after_s)
{
	size_t n = strnlen(tenant, 64);
	uint64_t h = tenant_hash(rl->seed, tenant, n);
	struct stripe *st = &rl->stripes[(h >> 40) % RATE_LIMIT_STRIPES];
	int64_t wait_ns;
	pthread_mutex_lock(&st->mu);
	int i = slot_of(st, h, tenant, n, now_ns);
	bool ok = rate_bucket_take(&st->tat[i], rl->interval_ns, rl->burst, now_ns, &wait_ns);
	pthread_mutex_unlock(&st->mu);
	if (!ok)
		*retry_after_s = rate_retry_after_s(wait_ns);
	return ok;
}
