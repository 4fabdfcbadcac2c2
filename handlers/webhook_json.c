/* SPDX-License-Identifier: MIT */
#include "handlers/webhook_json.h"

#include <string.h>

#include "handlers/json_body.h"
#include "lib/json_read.h"
#include "lib/jsonw.h"
#include "server/app.h"
#include "server/config.h"
#include "store/store_events.h"
#include "webhooks/guard.h"

/* What the table cannot say: the URL's target (https, a public literal
 * host) and the list of event types. */
struct endpoint_check {
	struct endpoint_input *in;
	bool create;
	bool allow_private;
};

static void check_types(struct endpoint_check *c, json_object *body, struct field_errors *errs)
{
	json_object *v = json_member(body, "event_types");
	if (!v) {
		if (c->create)
			field_errors_add(errs, "/event_types", "required", "event_types is required");
		return;
	}
	size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
	if (n == 0 || n > EVENT__COUNT) {
		field_errors_add(errs, "/event_types", "invalid_value",
				 "event_types must be a list of 1 to %d event types, or [\"*\"]", EVENT__COUNT - 1);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(v, i);
		const char *name = json_object_is_type(t, json_type_string) ? json_object_get_string(t) : NULL;
		int type = name ? event_type_parse(name) : -1;
		char ptr[32];
		snprintf(ptr, sizeof ptr, "/event_types/%zu", i);
		bool star = name && strcmp(name, "*") == 0;
		if ((!star && (type < 0 || type == EVENT_WEBHOOK_TEST)) || (star && n > 1)) {
			field_errors_add(errs, ptr, "invalid_value",
					 star ? "\"*\" stands alone" : "not an event type (see EventType)");
			continue;
		}
		for (int k = 0; k < c->in->ntypes; k++)
			if (strcmp(c->in->types[k], name) == 0)
				name = NULL;
		if (!name)
			field_errors_add(errs, ptr, "invalid_value", "an event type given twice");
		else
			c->in->types[c->in->ntypes++] = name;
	}
}

static void check_endpoint(void *ctx, json_object *body, struct field_errors *errs)
{
	struct endpoint_check *c = ctx;
	char why[160];
	if (c->in->url && webhook_url_check(c->in->url, c->allow_private, why, sizeof why) != URL_OK)
		field_errors_add(errs, "/url", "invalid_url", "%s", why);
	check_types(c, body, errs);
}

json_object *endpoint_body_or_problem(const struct request *req, bool create, struct endpoint_input *in,
				      struct reply *out)
{
	memset(in, 0, sizeof *in);
	in->enabled = true;
	enum jr_got enabled = JR_ABSENT;
	const struct jr_field fields[] = {
		{.name = "url", .kind = JR_K_TEXT, .flags = (create ? JR_REQUIRED : 0) | JR_NOT_EMPTY,
		 .max = WEBHOOK_URL_MAX, .dst = &in->url},
		JR_TEXT("description", WEBHOOK_DESCRIPTION_MAX, JR_CHARS | JR_NO_CONTROL, &in->description),
		{.name = "enabled", .kind = JR_K_BOOL, .dst = &in->enabled, .got = &enabled},
		JR_END,
	};
	struct endpoint_check c = {in, create, req->app->cfg->webhook_allow_private};
	json_object *body = json_body_read_checked(req, fields, check_endpoint, &c, out);
	in->has_enabled = enabled == JR_OK;
	if (body && create && !in->description)
		in->description = "";
	return body;
}

static void write_type(void *ctx, const char *type, size_t len)
{
	struct buf *b = ctx;
	if (b->len && b->data[b->len - 1] != '[')
		buf_putc(b, ',');
	jw_strn(b, type, len);
}

void endpoint_json(struct buf *b, const struct endpoint_row *e)
{
	buf_putc(b, '{');
	jw_kstr(b, true, "id", e->id);
	jw_kstr(b, false, "url", e->url);
	jw_key(b, false, "event_types");
	buf_putc(b, '[');
	store_endpoint_types_each(e->event_types, write_type, b);
	buf_putc(b, ']');
	jw_kstr(b, false, "description", e->description);
	jw_kbool(b, false, "enabled", e->enabled);
	jw_kstr(b, false, "disabled_reason", e->disabled_reason);
	jw_kstr(b, false, "created_at", e->created_at);
	jw_kstr(b, false, "updated_at", e->updated_at);
	if (e->secret)
		jw_kstr(b, false, "secret", e->secret);
	buf_putc(b, '}');
}
