/* SPDX-License-Identifier: MIT */
#include "webhooks/event_line.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"

#define EVENT_DEPTH_MAX 32

/* Members of data printed, in this order, when they hold a scalar. */
static const char *const data_members[] = {
	"previous_status", "status", "previous_stage", "stage", "source", "kind", "amount", "currency",
};

/* Appends s, at most EVENT_LINE_VALUE_MAX bytes, with anything outside
 * printable ASCII (spaces too: they separate the pairs) as '?'. */
static void put_clean(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n && i < EVENT_LINE_VALUE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];
		buf_putc(b, c > 0x20 && c < 0x7f ? (char)c : '?');
	}
	if (n > EVENT_LINE_VALUE_MAX)
		buf_puts(b, "...");
	if (n == 0)
		buf_puts(b, "\"\"");
}

/* The text of a scalar member of o, or NULL when absent, null or not a
 * scalar (owned by o). */
static const char *scalar(json_object *o, const char *name)
{
	json_object *v;
	if (!json_object_object_get_ex(o, name, &v) || !v)
		return NULL;
	switch (json_object_get_type(v)) {
	case json_type_string:
	case json_type_int:
	case json_type_boolean:
	case json_type_double:
		return json_object_get_string(v);
	default:
		return NULL;
	}
}

static void put_pair(struct buf *b, const char *key, const char *value)
{
	if (!value)
		return;
	buf_printf(b, " %s=", key);
	put_clean(b, value);
}

static void put_now(struct buf *b)
{
	char ts[32];
	struct tm tm;
	time_t now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_puts(b, ts);
}

/* Parses body as exactly one JSON object (whitespace may follow). */
static json_object *parse_object(const char *body, size_t len)
{
	json_tokener *tok = json_tokener_new_ex(EVENT_DEPTH_MAX);
	if (!tok)
		return NULL;
	json_object *o = len > 0 && len < (size_t)INT32_MAX ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
	bool whole = json_tokener_get_error(tok) == json_tokener_success;
	for (size_t i = json_tokener_get_parse_end(tok); whole && i < len; i++)
		whole = body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n';
	json_tokener_free(tok);
	if (!o || !whole || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

char *webhook_event_line(const char *body, size_t len)
{
	if (!body || memchr(body, '\0', len)) /* json-c would stop reading at a NUL */
		return NULL;
	json_object *ev = parse_object(body, len), *data = NULL;
	if (!ev)
		return NULL;
	struct buf b = {0};
	const char *created = scalar(ev, "created_at"), *id = scalar(ev, "id"), *type = scalar(ev, "type");
	if (created)
		put_clean(&b, created);
	else
		put_now(&b);
	buf_putc(&b, ' ');
	put_clean(&b, id ? id : "-");
	buf_putc(&b, ' ');
	put_clean(&b, type ? type : "-");
	put_pair(&b, "case", scalar(ev, "case_id"));
	if (!json_object_object_get_ex(ev, "data", &data) || !json_object_is_type(data, json_type_object))
		data = NULL;
	if (data && type && !strncmp(type, "settlement.", strlen("settlement.")))
		put_pair(&b, "settlement", scalar(data, "id"));
	put_pair(&b, "seq", scalar(ev, "sequence"));
	for (size_t i = 0; data && i < sizeof data_members / sizeof data_members[0]; i++)
		put_pair(&b, data_members[i], scalar(data, data_members[i]));
	/* What a payment or a failed action adds, and the balance left. */
	json_object *part;
	if (data && json_object_object_get_ex(data, "payment", &part) && json_object_is_type(part, json_type_object)) {
		put_pair(&b, "payment", scalar(part, "kind"));
		put_pair(&b, "amount", scalar(part, "amount"));
		put_pair(&b, "from", scalar(part, "source"));
	}
	if (data && json_object_object_get_ex(data, "action", &part) && json_object_is_type(part, json_type_object))
		put_pair(&b, "action", scalar(part, "type"));
	if (data && json_object_object_get_ex(data, "balance", &part) && json_object_is_type(part, json_type_object))
		put_pair(&b, "remaining", scalar(part, "remaining"));
	json_object_put(ev);
	buf_cstr(&b);
	if (b.oom) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}
