/* SPDX-License-Identifier: MIT */
#include "handlers/settings_json.h"

#include <stdio.h>
#include <string.h>

#include "lib/json_read.h"
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

/* Copies a read string into a field whose size the table's bound respects. */
static void take(char *dst, size_t cap, const char *src)
{
	if (src)
		snprintf(dst, cap, "%s", src);
}

bool settings_from_json(json_object *body, bool had_key, struct agency_settings *s, struct field_errors *errs)
{
	const char *creditor = NULL, *key = NULL;
	int service = -1, customer_type = -1, environment = -1;
	int64_t overdue = s->min_days_overdue, wait = s->reminder_wait_days, min_amount = s->min_amount;
	/* The api key goes into a header line: printable ASCII without spaces. */
	const struct jr_field fields[] = {
		JR_TEXT("creditor_reference", sizeof s->creditor_reference - 1,
			JR_REQUIRED | JR_NOT_EMPTY | JR_NO_CONTROL, &creditor),
		JR_TEXT("api_key", sizeof s->api_key - 1, (had_key ? 0 : JR_REQUIRED) | JR_NOT_EMPTY | JR_TOKEN, &key),
		{.name = "service", .kind = JR_K_ENUM, .flags = JR_NOT_EMPTY | JR_TOKEN, .max = sizeof s->service - 1,
		 .names = services, .dst = &service},
		{.name = "customer_type", .kind = JR_K_ENUM, .flags = JR_NOT_EMPTY | JR_TOKEN,
		 .max = sizeof s->customer_type - 1, .names = customer_types, .dst = &customer_type},
		JR_INT("min_days_overdue", 0, 365, 0, &overdue),
		JR_INT("reminder_wait_days", 0, 365, 0, &wait),
		JR_INT("min_amount", 1, 10000000000000LL, 0, &min_amount),
		JR_BOOL("enabled", &s->enabled),
		{.name = "agency_environment", .kind = JR_K_ENUM, .flags = JR_NOT_EMPTY | JR_TOKEN,
		 .max = sizeof "production" - 1, .names = agency_environment_names, .dst = &environment},
		JR_END,
	};
	bool ok = json_read(body, "", fields, &(const struct jr_context){.errs = errs});
	take(s->creditor_reference, sizeof s->creditor_reference, creditor);
	if (key) {
		take(s->api_key, sizeof s->api_key, key);
		s->api_key_set = true;
		s->api_key_valid = -1; /* a new key has not been checked yet */
	}
	if (service >= 0)
		take(s->service, sizeof s->service, services[service]);
	if (customer_type >= 0)
		take(s->customer_type, sizeof s->customer_type, customer_types[customer_type]);
	if (environment >= 0)
		s->environment = (enum agency_environment)environment;
	s->min_days_overdue = (int)overdue;
	s->reminder_wait_days = (int)wait;
	s->min_amount = min_amount;
	return ok;
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
	jw_kstr(b, false, "agency_environment", agency_environment_name(s->environment));
	jw_kstr(b, false, "updated_at", s->updated_at);
	/* The stored actor is JSON text this service wrote (store_actor_json). */
	jw_key(b, false, "actor");
	buf_puts(b, s->actor[0] ? s->actor : "null");
	buf_putc(b, '}');
}
