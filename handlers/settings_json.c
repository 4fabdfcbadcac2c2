/* SPDX-License-Identifier: MIT */
#include "handlers/settings_json.h"

#include <stdio.h>
#include <string.h>

#include "lib/jsonw.h"

static const char *const services[] = {"pre_collection", "collection", "international", "surveillance", NULL};
static const char *const customer_types[] = {"consumer", "business", "auto", NULL};

void settings_defaults(struct agency_settings *s)
{
	memset(s, 0, sizeof *s);
	snprintf(s->service, sizeof s->service, "collection");
	snprintf(s->customer_type, sizeof s->customer_type, "auto");
	s->min_days_overdue = 14;
	s->reminder_wait_days = 14;
	s->min_amount = 1;
	s->enabled = true;
	s->api_key_valid = -1;
}

static bool one_of(const char *v, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (!strcmp(v, *allowed))
			return true;
	return false;
}

/* A string member of 1..max bytes of printable ASCII or UTF-8 text;
 * copies it into dst. Absent: returns false without error. */
static bool take_string(json_object *body, const char *key, size_t max, bool printable_ascii, char *dst,
			size_t dstlen, struct field_errors *errs)
{
	json_object *v;
	char ptr[64];
	snprintf(ptr, sizeof ptr, "/%s", key);
	if (!json_object_object_get_ex(body, key, &v) || json_object_is_type(v, json_type_null))
		return false;
	if (!json_object_is_type(v, json_type_string)) {
		field_errors_add(errs, ptr, "invalid_type", "%s must be a string", key);
		return false;
	}
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	if (n == 0) {
		field_errors_add(errs, ptr, "required", "%s must not be empty", key);
		return false;
	}
	if (n > max || n >= dstlen) {
		field_errors_add(errs, ptr, "too_long", "%s is longer than %zu bytes", key, max);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || (printable_ascii && (c > 0x7e || c == ' '))) {
			field_errors_add(errs, ptr, "invalid_value", "%s contains characters that are not allowed",
					 key);
			return false;
		}
	}
	memcpy(dst, s, n + 1);
	return true;
}

static void take_int(json_object *body, const char *key, int64_t lo, int64_t hi, int64_t *dst,
		     struct field_errors *errs)
{
	json_object *v;
	char ptr[64];
	snprintf(ptr, sizeof ptr, "/%s", key);
	if (!json_object_object_get_ex(body, key, &v) || json_object_is_type(v, json_type_null))
		return;
	/* json-c converts "12" and 1.5 silently: demand a real JSON integer. */
	if (!json_object_is_type(v, json_type_int)) {
		field_errors_add(errs, ptr, "invalid_type", "%s must be an integer", key);
		return;
	}
	int64_t n = json_object_get_int64(v);
	if (n < lo || n > hi) {
		field_errors_add(errs, ptr, "invalid_value", "%s must be between %lld and %lld", key, (long long)lo,
				 (long long)hi);
		return;
	}
	*dst = n;
}

bool settings_from_json(json_object *body, bool had_key, struct agency_settings *s, struct field_errors *errs)
{
	char tmp[257];
	if (!take_string(body, "creditor_reference", 64, false, s->creditor_reference,
			 sizeof s->creditor_reference, errs) &&
	    !field_errors_has(errs, "/creditor_reference"))
		field_errors_add(errs, "/creditor_reference", "required", "creditor_reference is required");
	if (take_string(body, "api_key", 256, true, s->api_key, sizeof s->api_key, errs)) {
		s->api_key_set = true;
		s->api_key_valid = -1; /* a new key has not been checked yet */
	} else if (!had_key && !field_errors_has(errs, "/api_key")) {
		field_errors_add(errs, "/api_key", "required", "api_key is required until one is stored");
	}
	if (take_string(body, "service", 15, true, tmp, sizeof tmp, errs)) {
		if (one_of(tmp, services))
			memcpy(s->service, tmp, strlen(tmp) + 1); /* <= 15 bytes: take_string bound */
		else
			field_errors_add(errs, "/service", "invalid_value",
					 "service must be pre_collection, collection, international or surveillance");
	}
	if (take_string(body, "customer_type", 15, true, tmp, sizeof tmp, errs)) {
		if (one_of(tmp, customer_types))
			memcpy(s->customer_type, tmp, strlen(tmp) + 1);
		else
			field_errors_add(errs, "/customer_type", "invalid_value",
					 "customer_type must be consumer, business or auto");
	}
	int64_t v = s->min_days_overdue;
	take_int(body, "min_days_overdue", 0, 365, &v, errs);
	s->min_days_overdue = (int)v;
	v = s->reminder_wait_days;
	take_int(body, "reminder_wait_days", 0, 365, &v, errs);
	s->reminder_wait_days = (int)v;
	take_int(body, "min_amount", 1, 10000000000000LL, &s->min_amount, errs);
	json_object *en;
	if (json_object_object_get_ex(body, "enabled", &en) && !json_object_is_type(en, json_type_null)) {
		if (json_object_is_type(en, json_type_boolean))
			s->enabled = json_object_get_boolean(en);
		else
			field_errors_add(errs, "/enabled", "invalid_type", "enabled must be true or false");
	}
	return errs->n == 0;
}

void settings_json_write(struct buf *b, const struct agency_settings *s)
{
	buf_putc(b, '{');
	jw_kstr(b, true, "creditor_reference", s->creditor_reference);
	jw_kbool(b, false, "api_key_set", s->api_key_set);
	jw_kstr(b, false, "service", s->service);
	jw_kstr(b, false, "customer_type", s->customer_type);
	jw_kint(b, false, "min_days_overdue", s->min_days_overdue);
	jw_kint(b, false, "reminder_wait_days", s->reminder_wait_days);
	jw_kint(b, false, "min_amount", s->min_amount);
	jw_kbool(b, false, "enabled", s->enabled);
	jw_key(b, false, "api_key_valid");
	buf_puts(b, s->api_key_valid < 0 ? "null" : s->api_key_valid ? "true" : "false");
	jw_kstr(b, false, "updated_at", s->updated_at);
	buf_putc(b, '}');
}
