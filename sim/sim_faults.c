/* SPDX-License-Identifier: MIT */
#include "sim/sim_faults.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jsonw.h"
#include "sim/sim_json.h"
#include "sim/sim_rand.h"

struct sim_faults {
	pthread_mutex_t lock;
	struct sim_fault_config cfg;
	uint64_t state; /* xorshift64* state: reproducible runs with a seed */
};

struct sim_faults *sim_faults_new(void)
{
	struct sim_faults *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	pthread_mutex_init(&f->lock, NULL);
	f->state = sim_rand_u64() | 1;
	return f;
}

void sim_faults_free(struct sim_faults *f)
{
	if (!f)
		return;
	pthread_mutex_destroy(&f->lock);
	free(f);
}

void sim_faults_set(struct sim_faults *f, const struct sim_fault_config *c)
{
	pthread_mutex_lock(&f->lock);
	f->cfg = *c;
	f->state = c->seed ? c->seed : (sim_rand_u64() | 1);
	pthread_mutex_unlock(&f->lock);
}

void sim_faults_get(struct sim_faults *f, struct sim_fault_config *c)
{
	pthread_mutex_lock(&f->lock);
	*c = f->cfg;
	pthread_mutex_unlock(&f->lock);
}

/* A uniform draw in [0, 1); the lock is held by the caller. */
static double sim_faults_draw(struct sim_faults *f)
{
	uint64_t x = f->state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	f->state = x;
	return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

void sim_faults_decide(struct sim_faults *f, const char *path, struct sim_fault_decision *d)
{
	memset(d, 0, sizeof *d);
	pthread_mutex_lock(&f->lock);
	const struct sim_fault_config *c = &f->cfg;
	if (c->path[0] && strcmp(c->path, path) != 0)
		goto out;
	/* Every rate is drawn on every call, so that the sequence of fates for
	 * a given seed does not depend on which faults happened to fire. */
	double e = sim_faults_draw(f), mix = sim_faults_draw(f), dr = sim_faults_draw(f),
	       to = sim_faults_draw(f), sl = sim_faults_draw(f);
	if (e < c->error_rate) {
		d->status = c->status ? c->status : (mix < 0.5 ? 500 : 429);
		d->retry_after = c->retry_after > 0 ? c->retry_after : 1;
		d->kind = "error";
	} else if (dr < c->drop_rate) {
		d->drop = true;
		d->kind = "drop";
	} else if (to < c->timeout_rate) {
		d->delay_ms = c->timeout_ms > 0 ? c->timeout_ms : SIM_FAULT_TIMEOUT_DEFAULT_MS;
		d->kind = "timeout";
	} else if (sl < c->slow_rate) {
		d->delay_ms = c->slow_ms;
		d->kind = "slow";
	}
out:
	pthread_mutex_unlock(&f->lock);
}

static bool sim_faults_rate(struct json_object *obj, const char *key, double *out)
{
	struct json_object *v = sim_json_member(obj, key);
	if (!v)
		return true;
	if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
		return false;
	double d = json_object_get_double(v);
	if (!(d >= 0.0 && d <= 1.0)) /* also false for NaN */
		return false;
	*out = d;
	return true;
}

static bool sim_faults_int(struct json_object *obj, const char *key, int64_t max, int64_t *out)
{
	struct json_object *v = sim_json_member(obj, key);
	if (!v)
		return true;
	if (!json_object_is_type(v, json_type_int))
		return false;
	int64_t i = json_object_get_int64(v);
	if (i < 0 || i > max)
		return false;
	*out = i;
	return true;
}

bool sim_faults_from_json(struct json_object *obj, struct sim_fault_config *c, const char **why)
{
	memset(c, 0, sizeof *c);
	int64_t status = 0, retry_after = 0, slow_ms = 0, timeout_ms = 0, seed = 0;
	if (!sim_faults_rate(obj, "error_rate", &c->error_rate) ||
	    !sim_faults_rate(obj, "slow_rate", &c->slow_rate) ||
	    !sim_faults_rate(obj, "drop_rate", &c->drop_rate) ||
	    !sim_faults_rate(obj, "timeout_rate", &c->timeout_rate)) {
		*why = "rates must be numbers between 0 and 1";
		return false;
	}
	if (!sim_faults_int(obj, "status", 599, &status) ||
	    (status != 0 && status < 400)) {
		*why = "status must be 0 (a mix of 500 and 429) or between 400 and 599";
		return false;
	}
	if (!sim_faults_int(obj, "retry_after", 3600, &retry_after) ||
	    !sim_faults_int(obj, "slow_ms", 600000, &slow_ms) ||
	    !sim_faults_int(obj, "timeout_ms", 600000, &timeout_ms) ||
	    !sim_faults_int(obj, "seed", INT64_MAX, &seed)) {
		*why = "retry_after (0..3600), slow_ms and timeout_ms (0..600000), seed must be integers";
		return false;
	}
	const char *path = sim_json_string(obj, "path");
	if (!sim_json_string_or_absent(obj, "path") || (path && strlen(path) >= sizeof c->path)) {
		*why = "path must be a string of at most 127 characters";
		return false;
	}
	c->status = (int)status;
	c->retry_after = (int)retry_after;
	c->slow_ms = (int)slow_ms;
	c->timeout_ms = (int)timeout_ms;
	c->seed = (uint64_t)seed;
	if (path)
		strcpy(c->path, path);
	return true;
}

void sim_faults_to_json(const struct sim_fault_config *c, struct buf *b)
{
	buf_printf(b,
		   "{\"error_rate\":%.6g,\"status\":%d,\"retry_after\":%d,\"slow_rate\":%.6g,"
		   "\"slow_ms\":%d,\"drop_rate\":%.6g,\"timeout_rate\":%.6g,\"timeout_ms\":%d,"
		   "\"seed\":%" PRIu64,
		   c->error_rate, c->status, c->retry_after, c->slow_rate, c->slow_ms, c->drop_rate,
		   c->timeout_rate, c->timeout_ms, c->seed);
	jw_kstr_or_null(b, false, "path", c->path);
	buf_putc(b, '}');
}
