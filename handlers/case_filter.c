/* SPDX-License-Identifier: MIT */
#include "handlers/case_filter.h"

#include <string.h>

#include "store/store.h"

bool case_state_mask(const char *v, unsigned *mask)
{
	*mask = !strcmp(v, "open") ? CASE_MASK_OPEN : !strcmp(v, "closed") ? CASE_MASK_CLOSED : 0;
	return *mask != 0;
}

bool case_status_mask(const char *v, unsigned *mask)
{
	*mask = 0;
	char name[STORE_NAME_MAX];
	do {
		size_t n = strcspn(v, ",");
		int s = -1;
		if (n > 0 && n < sizeof name) {
			memcpy(name, v, n);
			name[n] = '\0';
			s = case_status_parse(name);
		}
		if (s < 0) {
			*mask = 0;
			return false;
		}
		*mask |= 1u << s;
		v += n;
	} while (*v++ == ','); /* past a comma a name must follow: "pending," is refused */
	return true;
}
