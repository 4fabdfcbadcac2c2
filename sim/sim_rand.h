/* SPDX-License-Identifier: MIT */
/* Random identifiers: the agency's case ids and the UUIDs of events,
 * payments, settlements and allocations. Random rather than counted so that
 * a /sim/reset never hands a client an id it has already seen. */
#ifndef SIM_RAND_H
#define SIM_RAND_H
#include <stddef.h>
#include <stdint.h>

#define SIM_UUID_LEN 37    /* 36 characters plus NUL */
#define SIM_CASE_ID_LEN 10 /* up to 9 digits plus NUL */

/* Fills p with n random bytes from the kernel. */
void sim_rand_bytes(void *p, size_t n);
/* A random 64-bit value from the kernel. */
uint64_t sim_rand_u64(void);
/* Writes a version 4 UUID in lower-case hex. */
void sim_uuid(char out[SIM_UUID_LEN]);
/* Writes a random numeric case id of 6 to 9 digits, without a leading 0.
 * Uniqueness is the store's business. */
void sim_case_id(char out[SIM_CASE_ID_LEN]);

#endif
