/* SPDX-License-Identifier: MIT */
#include "lib/json_read.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/dates.h"
#include "lib/money.h"

json_object *json_member(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

const char *json_member_text(json_object *o, const char *key)
{
	json_object *v = json_member(o, key);
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

size_t json_chars(const char *s)
{
	size_t n = 0;
	/* Every character has exactly one byte that is not a continuation
	 * byte (10xxxxxx). */
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* One member being read: its field, its JSON pointer, the context. */
struct member {
	const struct jr_field *f;
	const char *ptr;
	const struct jr_context *ctx;
};

#define ERR(m, code, ...) field_errors_add((m)->ctx->errs, (m)->ptr, code, __VA_ARGS__)

static bool blank(const char *s)
{
	return s[strspn(s, " \t\n\r")] == '\0';
}

/* The checks every string kind shares; *s is the string when JR_OK. */
static enum jr_got read_string(const struct member *m, json_object *v, const char **s)
{
	const struct jr_field *f = m->f;
	if (!json_object_is_type(v, json_type_string)) {
		ERR(m, "invalid_type", "%s must be a string", f->name);
		return JR_BAD;
	}
	const char *t = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);
	/* "x\u0000y" has length 3 but strlen 1: every later check would see "x". */
	if (strlen(t) != len) {
		ERR(m, "invalid_value", "%s must not contain NUL characters", f->name);
		return JR_BAD;
	}
	if ((f->flags & JR_BLANK_ABSENT) && blank(t))
		return JR_ABSENT;
	if ((f->flags & JR_NOT_EMPTY) && len == 0) {
		ERR(m, "required", "%s must not be empty", f->name);
		return JR_BAD;
	}
	bool chars = f->flags & JR_CHARS;
	if (f->max > 0 && (chars ? json_chars(t) : len) > (size_t)f->max) {
		ERR(m, "too_long", "%s is longer than %" PRId64 " %s", f->name, f->max, chars ? "characters" : "bytes");
		return JR_BAD;
	}
	for (size_t i = 0; (f->flags & (JR_TOKEN | JR_NO_CONTROL)) && i < len; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c < 0x20 || c == 0x7f || ((f->flags & JR_TOKEN) && (c > 0x7e || c == ' '))) {
			ERR(m, "invalid_value", "%s contains characters that are not allowed", f->name);
			return JR_BAD;
		}
	}
	*s = t;
	return JR_OK;
}

static enum jr_got read_enum(const struct member *m, const char *s)
{
	const char *const *names = m->f->names;
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], s) == 0) {
			if (m->f->dst)
				*(int *)m->f->dst = i;
			return JR_OK;
		}
	char list[160] = "";
	for (int i = 0; names[i]; i++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", names[i]);
	ERR(m, "invalid_value", "%s must be one of %s", m->f->name, list);
	return JR_BAD;
}

static enum jr_got read_date(const struct member *m, const char *s)
{
	assert(!(m->f->flags & JR_NOT_FUTURE) || m->ctx->today); /* the table asks for a clock it was not given */
	if (!dates_valid(s)) {
		ERR(m, "invalid_date", "%s must be a calendar date YYYY-MM-DD", m->f->name);
		return JR_BAD;
	}
	if ((m->f->flags & JR_NOT_FUTURE) && dates_compare(s, m->ctx->today) > 0) {
		ERR(m, "invalid_date", "%s %s is in the future (today is %s)", m->f->name, s, m->ctx->today);
		return JR_BAD;
	}
	if (m->f->dst)
		*(const char **)m->f->dst = s;
	return JR_OK;
}

/* JR_K_MONEY and JR_K_INT. json-c would turn "12" into 12 and 10.5 into 10
 * if asked for an int64, and clamps huge numbers silently: the type is
 * checked first, then the bounds. */
static enum jr_got read_number(const struct member *m, json_object *v)
{
	const struct jr_field *f = m->f;
	bool money = f->kind == JR_K_MONEY;
	int64_t hi = money && f->max == 0 ? MONEY_MAX : f->max;
	if (!json_object_is_type(v, json_type_int)) {
		bool fraction = money && json_object_is_type(v, json_type_double);
		ERR(m, fraction ? "invalid_amount" : "invalid_type",
		    money ? "%s must be an integer amount in minor units" : "%s must be an integer", f->name);
		return JR_BAD;
	}
	int64_t x = json_object_get_int64(v);
	if (x < f->min || x > hi) {
		ERR(m, money ? "invalid_amount" : f->range_code ? f->range_code : "invalid_value",
		    "%s must be between %" PRId64 " and %" PRId64, f->name, f->min, hi);
		return JR_BAD;
	}
	if (f->dst)
		*(int64_t *)f->dst = x;
	return JR_OK;
}

static enum jr_got read_member(const struct member *m, json_object *v);

/* The members of object v by sub, their destinations moved by shift bytes
 * (an array element's). */
static void read_object(json_object *v, const char *ptr, const struct jr_field *sub, size_t shift,
			const struct jr_context *ctx)
{
	for (const struct jr_field *f = sub; f->kind != JR_K_END; f++) {
		struct jr_field moved = *f;
		if (shift) {
			moved.dst = f->dst ? (char *)f->dst + shift : NULL;
			moved.got = f->got ? (enum jr_got *)((char *)f->got + shift) : NULL;
		}
		char p[FIELD_POINTER_MAX];
		if (snprintf(p, sizeof p, "%s/%s", ptr, f->name) >= (int)sizeof p)
			p[sizeof p - 1] = '\0'; /* our own names: never this long */
		struct member m = {&moved, p, ctx};
		enum jr_got g = read_member(&m, json_member(v, f->name));
		if (moved.got)
			*moved.got = g;
	}
}

static enum jr_got read_array(const struct member *m, json_object *v)
{
	const struct jr_field *f = m->f;
	if (!json_object_is_type(v, json_type_array)) {
		ERR(m, "invalid_type", "%s must be an array", f->name);
		return JR_BAD;
	}
	size_t n = json_object_array_length(v);
	if (n > (size_t)f->max) {
		ERR(m, "too_long", "%s has more than %" PRId64 " entries", f->name, f->max);
		return JR_BAD;
	}
	if (f->count)
		*f->count = n;
	for (size_t i = 0; i < n; i++) {
		char p[FIELD_POINTER_MAX];
		if (snprintf(p, sizeof p, "%s/%zu", m->ptr, i) >= (int)sizeof p)
			p[sizeof p - 1] = '\0';
		json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_object)) {
			field_errors_add(m->ctx->errs, p, "invalid_type", "%s",
					 f->elem_detail ? f->elem_detail : "an element must be an object");
			continue;
		}
		read_object(e, p, f->sub, i * f->stride, m->ctx);
	}
	return JR_OK;
}

static enum jr_got read_member(const struct member *m, json_object *v)
{
	const struct jr_field *f = m->f;
	enum jr_got g = JR_ABSENT;
	const char *s = NULL;
	if (!v)
		goto absent;
	switch (f->kind) {
	case JR_K_TEXT:
	case JR_K_ENUM:
	case JR_K_DATE:
		g = read_string(m, v, &s);
		if (g != JR_OK)
			break;
		if (f->kind == JR_K_ENUM)
			g = read_enum(m, s);
		else if (f->kind == JR_K_DATE)
			g = read_date(m, s);
		else if (f->dst)
			*(const char **)f->dst = s;
		break;
	case JR_K_MONEY:
	case JR_K_INT:
		g = read_number(m, v);
		break;
	case JR_K_BOOL:
		if (!json_object_is_type(v, json_type_boolean)) {
			ERR(m, "invalid_type", "%s must be true or false", f->name);
			return JR_BAD;
		}
		if (f->dst)
			*(bool *)f->dst = json_object_get_boolean(v);
		return JR_OK;
	case JR_K_OBJECT:
		if (!json_object_is_type(v, json_type_object)) {
			ERR(m, "invalid_type", "%s must be an object", f->name);
			return JR_BAD;
		}
		if (f->dst)
			*(json_object **)f->dst = v;
		read_object(v, m->ptr, f->sub, 0, m->ctx);
		return JR_OK;
	case JR_K_ARRAY:
		return read_array(m, v);
	case JR_K_END:
		assert(!"JR_END read as a member");
		return JR_BAD;
	}
	if (g != JR_ABSENT)
		return g;
absent:
	if (f->flags & JR_REQUIRED) {
		ERR(m, f->missing ? f->missing : "required", "%s is required", f->name);
		return JR_BAD;
	}
	return JR_ABSENT;
}

bool json_read(json_object *o, const char *pointer, const struct jr_field *fields, const struct jr_context *ctx)
{
	assert(pointer && fields && ctx && ctx->errs);
	size_t before = ctx->errs->n;
	read_object(o, pointer, fields, 0, ctx);
	return ctx->errs->n == before;
}
