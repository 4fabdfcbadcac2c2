/* SPDX-License-Identifier: MIT */
#include "agency/sync.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agency/client.h"
#include "agency/clients.h"
#include "agency/status_map.h"
#include "lib/dates.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/wake.h"

/* Tenants the agency told to wait (a 429 or 503 with Retry-After): the sync
 * makes no call with their key before not_before_ms (CLOCK_MONOTONIC).
 * Tenants are few: a small table, scanned. */
#define SYNC_PAUSES_MAX 256

struct sync_pause {
	char tenant[65];
	int64_t not_before_ms;
	int64_t resume_after; /* seq of the last case followed before the agency said wait; 0: none */
};

struct sync_pauses {
	struct sync_pause v[SYNC_PAUSES_MAX];
	size_t n;
};

struct sync {
	struct store *st;
	int interval_s;
	struct agency_clients clients;
	struct sync_pauses pauses; /* the sync thread's only */
	pthread_t thread;
	struct wake wake; /* stops the loop */
};

/* One tenant's round: its key and where it is. */
struct tenant_round {
	struct store *st;
	struct agency_client *ac;
	const char *tenant;
	const struct agency_settings *settings;
	char now[DATES_TS_LEN];
	bool failed; /* an agency call did not answer: not a successful sync */
	int retry_after_s; /* -1, or the agency's longest Retry-After this round: stop asking */
	int64_t skip_upto; /* cases up to this seq were followed before the last interruption */
	int64_t done_upto; /* seq of the last case followed this round */
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The pause of tenant, or NULL. */
static struct sync_pause *pause_of(struct sync_pauses *p, const char *tenant)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (!strcmp(p->v[i].tenant, tenant))
			return &p->v[i];
	return NULL;
}

/* Makes room in a full table: drops the pauses that are over, or else the
 * one ending first. */
static void pauses_make_room(struct sync_pauses *p)
{
	int64_t now = mono_ms();
	size_t k = 0;
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].not_before_ms > now)
			p->v[k++] = p->v[i];
	p->n = k;
	if (p->n < SYNC_PAUSES_MAX)
		return;
	size_t first = 0;
	for (size_t i = 1; i < p->n; i++)
		if (p->v[i].not_before_ms < p->v[first].not_before_ms)
			first = i;
	p->v[first] = p->v[--p->n];
}

/* Records that tenant's key may be used again from not_before_ms on, and
 * which cases the next round may skip (resume_after). */
static void pause_set(struct sync_pauses *p, const char *tenant, int64_t not_before_ms, int64_t resume_after)
{
	struct sync_pause *e = pause_of(p, tenant);
	if (!e) {
		if (p->n == SYNC_PAUSES_MAX)
			pauses_make_room(p);
		e = &p->v[p->n++];
		snprintf(e->tenant, sizeof e->tenant, "%s", tenant);
	}
	e->not_before_ms = not_before_ms;
	e->resume_after = resume_after;
}

/* True when the call answered. A refusal that names a Retry-After (429, or
 * a 503) also ends the tenant's round: no call with its key before then. */
static bool call_ok(struct tenant_round *t, enum agency_outcome o, const struct agency_result *res)
{
	if (o == AGENCY_OK || o == AGENCY_NOT_FOUND)
		return true;
	t->failed = true;
	if (o == AGENCY_RETRY && res->retry_after_s >= 0 && res->retry_after_s > t->retry_after_s)
		t->retry_after_s = res->retry_after_s;
	return false;
}

/* Follows one case: its agency case id first, then its status. */
static int sync_case(void *ctx, const struct case_row *c)
{
	struct tenant_round *t = ctx;
	struct agency_result res;
	char case_id[80];
	bool assigned_now = false;
	snprintf(case_id, sizeof case_id, "%s", c->agency_case_id ? c->agency_case_id : "");
	if (!case_id[0]) {
		struct agency_distribution d;
		enum agency_outcome o = agency_distribution(t->ac, t->settings->api_key, c->invoice_number, &d, &res);
		if (!call_ok(t, o, &res))
			return t->retry_after_s >= 0; /* told to wait: no more calls this round */
		if (o != AGENCY_OK || !d.case_id[0])
			return 0; /* not assigned yet: next round */
		snprintf(case_id, sizeof case_id, "%s", d.case_id);
		assigned_now = true;
	}
	/* With a new case id, its status and stage are read first so that the
	 * case turns open with them in one write, never open without a stage. */
	struct agency_case ac;
	enum agency_outcome o = agency_case(t->ac, t->settings->api_key, case_id, c->currency, &ac, NULL, NULL, &res);
	bool told_to_wait = !call_ok(t, o, &res) && t->retry_after_s >= 0;
	if (o != AGENCY_OK) {
		if (assigned_now) { /* keep the id we learned; details next round */
			struct case_agency_fields f = {.agency_case_id = case_id};
			store_case_transition(t->st, t->tenant, c->id, 1u << CASE_SUBMITTED, "open", "sync",
					      "the agency assigned a case id", t->now, &f);
		}
		return told_to_wait;
	}
	char stage[40];
	status_map_stage(ac.stage, stage, sizeof stage);
	struct case_agency_fields f = {
		.agency_case_id = case_id,
		.stage = stage[0] ? stage : NULL,
		.agency_status = ac.status,
		.has_charges = true,
		.interest = ac.interest,
		.costs = ac.costs,
	};
	const char *to = status_map_agency(ac.status);
	unsigned from = (1u << CASE_SUBMITTED) | (1u << CASE_OPEN) | (1u << CASE_PAUSED) | (1u << CASE_DISPUTED);
	char detail[96];
	snprintf(detail, sizeof detail, "%sagency status %.40s", assigned_now ? "case id assigned; " : "",
		 ac.status);
	if (store_case_transition(t->st, t->tenant, c->id, from, to, "sync", detail, t->now, &f) < 0)
		t->failed = true;
	return 0;
}

/* sync_case, resuming after the case where a round was told to wait: each
 * round starts in case order, so without this a 429 every few calls would
 * let only the oldest cases be followed, round after round. */
static int sync_case_resumed(void *ctx, const struct case_row *c)
{
	struct tenant_round *t = ctx;
	if (c->seq <= t->skip_upto)
		return 0; /* followed in the interrupted round: the others first */
	int stop = sync_case(ctx, c);
	if (!stop)
		t->done_upto = c->seq;
	return stop;
}

static int import_payment(void *ctx, const struct agency_payment_report *p)
{
	struct tenant_round *t = ctx;
	struct agency_payment ap = {
		.agency_payment_id = p->payment_id,
		.agency_case_id = p->case_id[0] ? p->case_id : NULL,
		.invoice_number = p->invoice_number[0] ? p->invoice_number : NULL,
		.amount = p->amount,
		.paid_on = p->payment_date,
	};
	enum store_result r = store_sync_payment(t->st, t->tenant, &ap, t->now, NULL);
	if (r < 0)
		t->failed = true;
	return 0; /* NOT_FOUND: a payment on a case that is not ours */
}

static int import_settlement(void *ctx, const struct agency_settlement_report *s)
{
	struct tenant_round *t = ctx;
	struct agency_allocation *al = calloc(s->n_allocations ? s->n_allocations : 1, sizeof *al);
	if (!al) {
		t->failed = true;
		return 1;
	}
	for (size_t i = 0; i < s->n_allocations; i++) {
		const struct agency_allocation_report *a = &s->allocations[i];
		al[i] = (struct agency_allocation){
			.allocation_id = a->allocation_id,
			.agency_case_id = a->case_id[0] ? a->case_id : NULL,
			.invoice_number = a->invoice_number,
			.amount = a->amount,
			.allocation_date = a->allocation_date,
		};
	}
	struct agency_settlement in = {
		.agency_settlement_id = s->settlement_id,
		.settlement_date = s->settlement_date,
		.agency = s->agency[0] ? s->agency : "agency",
		.remittance_reference = s->remittance_reference[0] ? s->remittance_reference : NULL,
		.amount = s->amount,
		.currency = s->currency,
		.allocations = al,
		.nallocations = s->n_allocations,
	};
	if (store_sync_settlement(t->st, t->tenant, &in, t->now, NULL) < 0)
		t->failed = true;
	free(al);
	return 0;
}

struct round_ctx {
	struct store *st;
	const struct agency_clients *clients;
	struct sync_pauses *pauses; /* NULL: none kept across rounds */
	int64_t every_ms;           /* a tenant's rounds at most this often, whichever replica runs them */
};

/* How long a turn at a tenant's round holds it: the interval and 15 s more,
 * so that a replica killed mid-round costs the tenant about one round (a
 * round that outlasts it may run twice at once: its writes are idempotent,
 * the agency's ids are unique keys). */
#define SYNC_TURN_EXTRA_MS (15 * 1000)

static int sync_tenant(void *ctx, const char *tenant, const struct agency_settings *settings)
{
	struct round_ctx *rc = ctx;
	struct tenant_round t = {.st = rc->st,
				 .ac = agency_clients_pick(rc->clients, settings->environment),
				 .tenant = tenant,
				 .settings = settings,
				 .retry_after_s = -1};
	if (!settings->api_key_set)
		return 0;
	if (!t.ac) { /* staging chosen, then the staging URL taken away: nothing to ask */
		log_write(LOG_WARN, "sync: the tenant's agency environment has no URL", "tenant", tenant,
			  "agency_environment", agency_environment_name(settings->environment), NULL);
		return 0;
	}
	struct sync_pause *p = pause_of(rc->pauses, tenant);
	if (p && mono_ms() < p->not_before_ms)
		return 0; /* the agency's Retry-After has not passed: not this round */
	/* Replicas on one database take turns: this one runs the tenant's
	 * round only when no other has it and it is due. */
	int64_t turn;
	enum store_result claimed = store_sync_round_claim(t.st, tenant, dates_now_ms(), rc->every_ms,
							   rc->every_ms + SYNC_TURN_EXTRA_MS, &turn);
	if (claimed != STORE_OK)
		return 0; /* another replica's turn (STORE_STATE), or the store is busy: next round */
	t.skip_upto = t.done_upto = p ? p->resume_after : 0;
	int64_t resume_after = t.skip_upto; /* kept if the cases are not reached */
	dates_now_rfc3339(t.now);
	char today[DATES_LEN], from[DATES_LEN];
	struct agency_result res;
	dates_today(today);
	/* Payments before statuses: a case the agency reports paid then already
	 * shows the payment that paid it. */
	dates_add_days(today, -SYNC_PAYMENT_WINDOW_DAYS, from);
	enum agency_outcome po = agency_payments(t.ac, settings->api_key, from, today, import_payment, &t, &res);
	call_ok(&t, po, &res);
	if (t.retry_after_s < 0) {
		if (store_cases_to_sync(t.st, tenant, sync_case_resumed, &t) < 0)
			t.failed = true;
		/* Told to wait: the next round goes on from here; else from the start. */
		resume_after = t.retry_after_s >= 0 ? t.done_upto : 0;
		if (p)
			p->resume_after = resume_after;
	}
	dates_add_days(today, -SYNC_SETTLEMENT_WINDOW_DAYS, from);
	if (t.retry_after_s < 0) {
		enum agency_outcome o =
			agency_settlements(t.ac, settings->api_key, from, today, import_settlement, &t, &res);
		call_ok(&t, o, &res);
	}
	if (t.retry_after_s >= 0 && rc->pauses)
		pause_set(rc->pauses, tenant, mono_ms() + (int64_t)t.retry_after_s * 1000, resume_after);
	if (!t.failed)
		metrics_sync_ok(tenant, (int64_t)time(NULL));
	else /* /metrics shows only the oldest good sync; this line says whose is late */
		log_write(LOG_WARN, "sync: round incomplete", "tenant", tenant, NULL);
	enum store_result ended = store_sync_round_end(t.st, tenant, turn, dates_now_ms());
	if (ended == STORE_STATE)
		log_write(LOG_WARN, "sync: round outlived its turn (another replica has it)", "tenant", tenant, NULL);
	else if (ended < 0)
		log_write(LOG_WARN, "sync: turn not released (free again when its lease ends)", "tenant", tenant, NULL);
	return 0;
}

static void sync_round_paced(struct store *st, const struct agency_clients *clients, struct sync_pauses *pauses,
			     int64_t every_ms)
{
	struct round_ctx rc = {st, clients, pauses, every_ms};
	if (store_tenants_with_settings(st, sync_tenant, &rc) < 0)
		log_write(LOG_ERROR, "sync: cannot list tenants", NULL);
}

void sync_round(struct store *st, const struct agency_clients *clients)
{
	sync_round_paced(st, clients, NULL, 0);
}

static void *sync_loop(void *p)
{
	struct sync *s = p;
	for (;;) {
		/* Half a second of slack: this loop's own next round comes a full
		 * interval after its last, which a millisecond must not defer. */
		sync_round_paced(s->st, &s->clients, &s->pauses, (int64_t)s->interval_s * 1000 - 500);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += s->interval_s;
		pthread_mutex_lock(&s->wake.lock);
		while (!s->wake.stop && pthread_cond_timedwait(&s->wake.cond, &s->wake.lock, &until) == 0)
			; /* woken without stop: spurious, keep waiting until the deadline */
		bool stop = s->wake.stop;
		pthread_mutex_unlock(&s->wake.lock);
		if (stop)
			return NULL;
	}
}

struct sync *sync_start(struct store *st, const struct agency_options *agency, int interval_s, char *err,
			size_t errlen)
{
	struct sync *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->st = st;
	s->interval_s = interval_s;
	if (store_sync_rounds_release(st) < 0)
		log_write(LOG_WARN, "sync: the turns of the previous process could not be released", NULL);
	if (!agency_clients_init(&s->clients, agency, err, errlen)) {
		free(s);
		return NULL;
	}
	bool woke = wake_init(&s->wake);
	if (!woke || pthread_create(&s->thread, NULL, sync_loop, s) != 0) {
		snprintf(err, errlen, "cannot start the sync thread");
		agency_clients_free(&s->clients);
		if (woke)
			wake_destroy(&s->wake);
		free(s);
		return NULL;
	}
	return s;
}

void sync_stop(struct sync *s)
{
	if (!s)
		return;
	wake_stop(&s->wake);
	pthread_join(s->thread, NULL);
	agency_clients_free(&s->clients);
	wake_destroy(&s->wake);
	free(s);
}
