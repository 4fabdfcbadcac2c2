/* SPDX-License-Identifier: MIT */
#include "lib/json_canonical.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jsonw.h"

/* Object members by name, byte order (see the header). */
struct member {
	const char *name;
	json_object *value;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->name, ((const struct member *)b)->name);
}

static void canonical_number(json_object *v, struct buf *out)
{
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);
		if (i == INT64_MAX) /* json-c keeps larger positives as uint64 */
			buf_printf(out, "%" PRIu64, json_object_get_uint64(v));
		else
			buf_printf(out, "%" PRId64, i);
		return;
	}
	double d = json_object_get_double(v);
	if (isfinite(d) && d == trunc(d) && fabs(d) < 9.2e18)
		buf_printf(out, "%" PRId64, (int64_t)d);
	else
		buf_printf(out, "%.17g", d);
}

static void canonical_object(json_object *v, struct buf *out)
{
	size_t n = (size_t)json_object_object_length(v), i = 0;
	struct member *m = n ? malloc(n * sizeof *m) : NULL;
	if (n && !m) {
		out->oom = true;
		return;
	}
	json_object_object_foreach(v, name, value)
	{
		m[i].name = name;
		m[i].value = value;
		i++;
	}
	if (n > 1) /* qsort's base may not be NULL, even for no members */
		qsort(m, n, sizeof *m, by_name);
	buf_putc(out, '{');
	for (i = 0; i < n; i++) {
		if (i)
			buf_putc(out, ',');
		jw_str(out, m[i].name);
		buf_putc(out, ':');
		json_canonical(m[i].value, out);
	}
	buf_putc(out, '}');
	free(m);
}

void json_canonical(const json_object *cv, struct buf *out)
{
	/* json-c's getters take non-const pointers; nothing here changes v. */
	json_object *v = (json_object *)cv;
	switch (json_object_get_type(v)) {
	case json_type_null:
		buf_puts(out, "null");
		break;
	case json_type_boolean:
		buf_puts(out, json_object_get_boolean(v) ? "true" : "false");
		break;
	case json_type_int:
	case json_type_double:
		canonical_number(v, out);
		break;
	case json_type_string:
		jw_strn(out, json_object_get_string(v), (size_t)json_object_get_string_len(v));
		break;
	case json_type_array: {
		size_t n = json_object_array_length(v);
		buf_putc(out, '[');
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_putc(out, ',');
			json_canonical(json_object_array_get_idx(v, i), out);
		}
		buf_putc(out, ']');
		break;
	}
	case json_type_object:
		canonical_object(v, out);
		break;
	}
}
