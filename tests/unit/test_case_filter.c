/* SPDX-License-Identifier: MIT */
/* The status filters of GET /v1/collection-cases: state= the groups,
 * status= literal statuses only (handlers/case_filter.h). */
#include <criterion/criterion.h>

#include "handlers/case_filter.h"
#include "store/store.h"

#define BIT(s) (1u << (s))

Test(case_filter, state_names_the_groups)
{
	unsigned m = 1;
	cr_expect(case_state_mask("open", &m));
	cr_expect_eq(m, CASE_MASK_OPEN);
	cr_expect(case_state_mask("closed", &m));
	cr_expect_eq(m, CASE_MASK_CLOSED);
	cr_expect_eq(CASE_MASK_OPEN & CASE_MASK_CLOSED, 0u);
	cr_expect_eq(CASE_MASK_OPEN | CASE_MASK_CLOSED, (1u << CASE__COUNT) - 1, "every status in one group");
	static const char *const bad[] = {"", "OPEN", "Open", "pending", "open,closed", "open ", "all", "paid"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		m = 1;
		cr_expect(!case_state_mask(bad[i], &m), "state=%s accepted", bad[i]);
		cr_expect_eq(m, 0u);
	}
}

static const struct {
	const char *v;
	unsigned mask;
} good[] = {
	{"open", BIT(CASE_OPEN)}, /* the status, not the group */
	{"closed", BIT(CASE_CLOSED)},
	{"pending", BIT(CASE_PENDING)},
	{"rejected", BIT(CASE_REJECTED)},
	{"pending,failed", BIT(CASE_PENDING) | BIT(CASE_FAILED)},
	{"failed,pending,failed", BIT(CASE_PENDING) | BIT(CASE_FAILED)},
	{"open,closed", BIT(CASE_OPEN) | BIT(CASE_CLOSED)},
	{"pending,submitted,open,paused,disputed,failed,paid,withdrawn,closed,rejected", (1u << CASE__COUNT) - 1},
};

Test(case_filter, status_is_literal_statuses)
{
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		unsigned m = 0;
		cr_expect(case_status_mask(good[i].v, &m), "status=%s refused", good[i].v);
		cr_expect_eq(m, good[i].mask, "status=%s: %#x, not %#x", good[i].v, m, good[i].mask);
	}
}

Test(case_filter, status_refuses_anything_else)
{
	static const char *const bad[] = {"", ",", "bogus", "pending,", ",pending", "pending,,paid", "pending,bogus",
					  "Open", "open ", " open", "pendingpendingpending", "pending;paid"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		unsigned m = 1;
		cr_expect(!case_status_mask(bad[i], &m), "status=%s accepted", bad[i]);
		cr_expect_eq(m, 0u, "status=%s", bad[i]);
	}
}
