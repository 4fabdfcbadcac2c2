/* SPDX-License-Identifier: MIT */
#include "handlers/fields.h"

#include <stdio.h>

size_t fields_chars(const char *s)
{
	size_t n = 0;
	/* Every character has exactly one byte that is not a continuation
	 * byte (10xxxxxx). */
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

enum fields_got fields_text(json_object *o, const char *key, size_t max_chars, bool required,
			    const char **out, struct field_errors *errs)
{
	char ptr[72];
	json_object *v = NULL;
	snprintf(ptr, sizeof ptr, "/%s", key);
	*out = NULL;
	/* json-c answers a JSON null as present with a NULL object. */
	if (!json_object_object_get_ex(o, key, &v) || !v) {
		if (required)
			field_errors_add(errs, ptr, "required", "%s is required", key);
		return FIELDS_ABSENT;
	}
	if (!json_object_is_type(v, json_type_string)) {
		field_errors_add(errs, ptr, "invalid_type", "%s must be a string", key);
		return FIELDS_BAD;
	}
	const char *s = json_object_get_string(v);
	if (fields_chars(s) > max_chars) {
		field_errors_add(errs, ptr, "too_long", "%s is longer than %zu characters", key, max_chars);
		return FIELDS_BAD;
	}
	*out = s;
	return FIELDS_OK;
}
