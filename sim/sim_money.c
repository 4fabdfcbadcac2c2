/* SPDX-License-Identifier: MIT */
#include "sim/sim_money.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>

#include "lib/jsonw.h"

bool sim_currency_valid(const char *code)
{
	if (!code || strlen(code) != 3)
		return false;
	for (int i = 0; i < 3; i++)
		if (code[i] < 'A' || code[i] > 'Z')
			return false;
	return true;
}

int sim_currency_digits(const char *code)
{
	static const char *const zero[] = {"JPY", "ISK", "KRW"};
	static const char *const three[] = {"KWD", "BHD", "OMR", "JOD", "TND", "LYD", "IQD"};
	for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
		if (strcmp(code, zero[i]) == 0)
			return 0;
	for (size_t i = 0; i < sizeof three / sizeof three[0]; i++)
		if (strcmp(code, three[i]) == 0)
			return 3;
	return 2;
}

/* Parses "123", "123.4", "123.45" exactly; json-c keeps the original text
 * of a parsed double, so no binary rounding ever touches the amount. */
static bool sim_money_parse(const char *s, int digits, int64_t *out)
{
	int64_t v = 0;
	const char *p = s;
	if (*p < '0' || *p > '9')
		return false; /* also rejects a sign: amounts are never negative */
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v >= SIM_MONEY_MAX)
			return false;
	}
	int frac = 0;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		for (; *p >= '0' && *p <= '9'; p++, frac++) {
			if (frac >= digits) {
				if (*p != '0')
					return false; /* 12.345 NOK: not a representable amount */
				continue;
			}
			v = v * 10 + (*p - '0');
		}
	}
	if (*p != '\0')
		return false; /* exponent forms (1e3) and anything else */
	for (int i = frac < digits ? frac : digits; i < digits; i++)
		v *= 10;
	if (v >= SIM_MONEY_MAX)
		return false;
	*out = v;
	return true;
}

bool sim_money_from_json(struct json_object *o, int digits, int64_t *out)
{
	if (!o)
		return false;
	if (json_object_is_type(o, json_type_int)) {
		/* Huge integers come back clamped; the range check catches them. */
		int64_t v = json_object_get_int64(o);
		if (v < 0 || v >= SIM_MONEY_MAX)
			return false;
		for (int i = 0; i < digits; i++)
			v *= 10;
		if (v >= SIM_MONEY_MAX)
			return false;
		*out = v;
		return true;
	}
	if (!json_object_is_type(o, json_type_double))
		return false;
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	return text && sim_money_parse(text, digits, out);
}

void sim_money_put(struct buf *b, int64_t minor, int digits)
{
	if (minor < 0) {
		buf_putc(b, '-');
		minor = -minor;
	}
	int64_t scale = 1;
	for (int i = 0; i < digits; i++)
		scale *= 10;
	if (digits == 0)
		buf_printf(b, "%" PRId64, minor);
	else
		buf_printf(b, "%" PRId64 ".%0*" PRId64, minor / scale, digits, minor % scale);
}

void sim_money_kput(struct buf *b, bool first, const char *key, int64_t minor, int digits)
{
	jw_key(b, first, key);
	sim_money_put(b, minor, digits);
}
