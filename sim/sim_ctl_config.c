/* SPDX-License-Identifier: MIT */
/* GET and POST /sim/config: the run-time settings that the command line
 * sets at start (duplicates, case timings, tick), changeable without a
 * restart. A POST changes only the members it names. */
#include <json-c/json.h>

#include "lib/jsonw.h"
#include "sim/sim_app.h"
#include "sim/sim_handlers.h"
#include "sim/sim_json.h"

#define SIM_CONFIG_MS_MAX (30LL * 24 * 3600 * 1000) /* a month: any longer is a typo */

static void sim_config_json(const struct sim_settings *s, struct buf *out)
{
	buf_putc(out, '{');
	jw_kbool(out, true, "accept_duplicates", s->accept_duplicates);
	jw_kint(out, false, "assign_delay_ms", s->timing.assign_delay_ms);
	jw_kint(out, false, "reminder_ms", s->timing.reminder_ms);
	jw_kint(out, false, "collection_ms", s->timing.collection_ms);
	jw_kint(out, false, "settle_ms", s->timing.settle_ms);
	jw_kint(out, false, "tick_ms", s->tick_ms);
	buf_putc(out, '}');
}

/* Reads an optional millisecond member into *v; false if present but bad. */
static bool sim_config_ms(struct json_object *body, const char *key, int64_t min, int64_t *v)
{
	struct json_object *o = sim_json_member(body, key);
	if (!o)
		return true;
	if (!json_object_is_type(o, json_type_int))
		return false;
	int64_t ms = json_object_get_int64(o);
	if (ms < min || ms > SIM_CONFIG_MS_MAX)
		return false;
	*v = ms;
	return true;
}

int sim_ctl_config_get(const struct sim_request *r, struct buf *out)
{
	struct sim_settings s;
	sim_app_settings(r->app, &s);
	sim_config_json(&s, out);
	return 200;
}

int sim_ctl_config_post(const struct sim_request *r, struct buf *out)
{
	struct sim_settings s;
	sim_app_settings(r->app, &s);
	struct json_object *dup = sim_json_member(r->body, "accept_duplicates");
	if (dup && !json_object_is_type(dup, json_type_boolean))
		return sim_reply_message(out, 400, "accept_duplicates must be a boolean");
	if (dup)
		s.accept_duplicates = json_object_get_boolean(dup);
	/* A tick under 50 ms would keep the store lock busy for nothing. */
	if (!sim_config_ms(r->body, "assign_delay_ms", 0, &s.timing.assign_delay_ms) ||
	    !sim_config_ms(r->body, "reminder_ms", 0, &s.timing.reminder_ms) ||
	    !sim_config_ms(r->body, "collection_ms", 0, &s.timing.collection_ms) ||
	    !sim_config_ms(r->body, "settle_ms", 0, &s.timing.settle_ms) ||
	    !sim_config_ms(r->body, "tick_ms", 50, &s.tick_ms))
		return sim_reply_message(out, 400, "timings must be integers in milliseconds "
						   "(tick_ms at least 50, at most 30 days)");
	/* Read-modify-write without a lock across it: two concurrent config
	 * posts may lose one; the control API is for one test driver. */
	sim_app_set_settings(r->app, &s);
	sim_config_json(&s, out);
	return 200;
}
