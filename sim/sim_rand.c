/* SPDX-License-Identifier: MIT */
#include "sim/sim_rand.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

void sim_rand_bytes(void *p, size_t n)
{
	unsigned char *q = p;
	while (n > 0) {
		ssize_t got = getrandom(q, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			abort(); /* no kernel randomness: ids could repeat, better stop */
		}
		q += got;
		n -= (size_t)got;
	}
}

uint64_t sim_rand_u64(void)
{
	uint64_t v;
	sim_rand_bytes(&v, sizeof v);
	return v;
}

void sim_uuid(char out[SIM_UUID_LEN])
{
	unsigned char b[16];
	sim_rand_bytes(b, sizeof b);
	b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
	snprintf(out, SIM_UUID_LEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}

void sim_case_id(char out[SIM_CASE_ID_LEN])
{
	uint64_t r = sim_rand_u64();
	int len = 6 + (int)(r % 4);
	r /= 4;
	out[0] = (char)('1' + r % 9);
	r /= 9;
	for (int i = 1; i < len; i++) {
		out[i] = (char)('0' + r % 10);
		r /= 10;
	}
	out[len] = '\0';
}
