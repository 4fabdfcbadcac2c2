/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the small text parsers behind query parameters and case
 * fields. Byte 0 picks the function (% 8), byte 1 a country (or a day count
 * for dates), the rest is the C string. What a parser accepts must satisfy
 * what its header promises: a cursor or date re-encodes to itself, a phone
 * number is E.164, normalised numbers and postal codes fit their bounds and
 * are accepted again as they are. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/cursor.h"
#include "lib/dates.h"
#include "handlers/idnum.h"
#include "handlers/phone.h"
#include "handlers/postal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const countries[] = {"NO", "SE", "DK", "FI", "DE", "GB", "NL", "US",
					"FR", "no", "XX", "", "N", "NOR", NULL};
#define NCOUNTRIES (sizeof countries / sizeof countries[0])

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	unsigned sel = data[0] % 8, arg = data[1];
	const char *country = countries[arg % NCOUNTRIES];
	char *s = malloc(size - 1); /* exactly the string and its NUL */
	if (!s)
		return 0;
	memcpy(s, data + 2, size - 2);
	s[size - 2] = '\0';
	/* Buffers of exactly the documented sizes, so ASan sees an overflow. */
	char cur[CURSOR_MAX], day[DATES_LEN], ph[PHONE_LEN], ph2[PHONE_LEN];
	char id[IDNUM_LEN], id2[IDNUM_LEN], pc[POSTAL_LEN], pc2[POSTAL_LEN];
	int64_t v, days;
	switch (sel) {
	case 0:
		if (cursor_decode(s, &v)) {
			CHECK(v > 0);
			cursor_encode(v, cur);
			CHECK(!strcmp(cur, s));
		}
		break;
	case 1: {
		static const int64_t steps[] = {0, 1, -1, 14, -14, 2932896, -719162, 3652058, -3652058,
						INT64_MAX, INT64_MIN, 1000000};
		if (dates_valid(s)) {
			CHECK(dates_to_days(s, &days) && dates_from_days(days, day) && !strcmp(day, s));
			if (dates_add_days(s, steps[arg % 12], day))
				CHECK(dates_valid(day));
		} else {
			CHECK(!dates_to_days(s, &days) && !dates_add_days(s, 1, day) && !day[0]);
		}
		break;
	}
	case 2:
		CHECK(!phone_is_e164(s) || (strlen(s) < PHONE_LEN && phone_compact_e164(s, ph) && !strcmp(ph, s)));
		if (phone_compact_e164(s, ph))
			CHECK(phone_is_e164(ph));
		break;
	case 3:
		if (phone_normalise(s, country, ph)) {
			CHECK(phone_is_e164(ph));
			CHECK(phone_normalise(ph, country, ph2) && !strcmp(ph, ph2));
		}
		break;
	case 4:
		if (idnum_national_id(country, s, id)) {
			CHECK(strlen(id) <= IDNUM_MAX);
			CHECK(idnum_national_id(country, id, id2) && !strcmp(id, id2));
		} else {
			CHECK(!id[0]);
		}
		break;
	case 5:
		if (idnum_org_number(country, s, id)) {
			CHECK(strlen(id) <= IDNUM_MAX);
			CHECK(idnum_org_number(country, id, id2) && !strcmp(id, id2));
		} else {
			CHECK(!id[0]);
		}
		break;
	case 6:
		if (postal_normalise(country, s, pc)) {
			CHECK(strlen(pc) <= POSTAL_MAX);
			CHECK(postal_normalise(country, pc, pc2) && !strcmp(pc, pc2));
		} else {
			CHECK(!pc[0]);
		}
		break;
	default:
		idnum_national_id_has_checksum(country);
		idnum_org_number_has_checksum(country);
		break;
	}
	free(s);
	return 0;
}
