/* SPDX-License-Identifier: MIT */
#include "sim/sim_json.h"

#include <json-c/json.h>
#include <string.h>

bool sim_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned c = p[i];
		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t len;
		unsigned min;
		unsigned cp;
		if (c >= 0xC2 && c <= 0xDF) {
			len = 2, min = 0x80, cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3, min = 0x800, cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4, min = 0x10000, cp = c & 0x07;
		} else {
			return false; /* continuation byte, C0/C1 overlong lead, F5..FF */
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		/* json-c lets these through, so they are caught here. */
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

struct json_object *sim_json_parse(const char *s, size_t n, const char **why)
{
	struct json_object *obj = NULL;
	struct json_tokener *tok = NULL;
	if (n == 0) {
		*why = "empty body";
		goto out;
	}
	if (!sim_utf8_valid(s, n)) {
		*why = "body is not valid UTF-8";
		goto out;
	}
	tok = json_tokener_new_ex(SIM_JSON_DEPTH);
	if (!tok) {
		*why = "out of memory";
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, s, (int)n);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	if (!obj || jerr != json_tokener_success) {
		*why = jerr == json_tokener_error_depth ? "JSON nested too deeply" : "invalid JSON";
		json_object_put(obj);
		obj = NULL;
		goto out;
	}
	/* json-c stops after the first value; anything after it is an error. */
	if (json_tokener_get_parse_end(tok) != n) {
		*why = "trailing data after the JSON value";
		json_object_put(obj);
		obj = NULL;
		goto out;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		*why = "body must be a JSON object";
		json_object_put(obj);
		obj = NULL;
	}
out:
	if (tok)
		json_tokener_free(tok);
	return obj;
}

struct json_object *sim_json_member(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;
	if (!obj || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v; /* NULL for a JSON null, as json-c represents it */
}

struct json_object *sim_json_object(struct json_object *obj, const char *key)
{
	struct json_object *v = sim_json_member(obj, key);
	return v && json_object_is_type(v, json_type_object) ? v : NULL;
}

struct json_object *sim_json_array(struct json_object *obj, const char *key)
{
	struct json_object *v = sim_json_member(obj, key);
	return v && json_object_is_type(v, json_type_array) ? v : NULL;
}

const char *sim_json_string(struct json_object *obj, const char *key)
{
	struct json_object *v = sim_json_member(obj, key);
	if (!v || !json_object_is_type(v, json_type_string))
		return NULL;
	const char *s = json_object_get_string(v);
	/* "x\u0000y" has length 3 but strlen 1: refuse rather than truncate. */
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return NULL;
	return s;
}

bool sim_json_string_or_absent(struct json_object *obj, const char *key)
{
	struct json_object *v = sim_json_member(obj, key);
	return !v || sim_json_string(obj, key) != NULL;
}
