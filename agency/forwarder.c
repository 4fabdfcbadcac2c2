/* SPDX-License-Identifier: MIT */
#include "agency/forwarder.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agency/backoff.h"
#include "agency/client.h"
#include "agency/clients.h"
#include "agency/mapping.h"
#include "lib/dates.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "lib/metrics.h"

#define FORWARDER_MAX_WORKERS 8
#define IDLE_POLL_MS 100 /* how long a worker naps when nothing is due */

struct forwarder {
	struct store *st;
	struct forwarder_options opt;
	atomic_bool stop;
	int nworkers;
	pthread_t threads[FORWARDER_MAX_WORKERS];
	struct agency_clients clients[FORWARDER_MAX_WORKERS]; /* a worker's, one per environment */
	struct worker_arg {
		struct forwarder *f;
		int index;
	} args[FORWARDER_MAX_WORKERS];
};

static void nap_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* The outcome of one attempt, for the bookkeeping in finish(). */
enum attempt {
	ATTEMPT_DELIVERED,
	ATTEMPT_REJECTED,  /* the agency refused: no point retrying */
	ATTEMPT_RETRY,     /* not delivered: send again after backoff */
	ATTEMPT_UNKNOWN,   /* maybe delivered: look up before sending again */
};

/* Sends a case's invoice, looking it up first when an earlier send's outcome
 * is unknown. */
static enum attempt deliver_create(struct agency_client *ac, const struct outbox_item *it, const struct delivery *d,
				   struct agency_result *res, bool *lookup_next)
{
	const struct agency_settings *s = &d->settings;
	char err[160];
	*lookup_next = it->lookup_first;
	char *body = agency_invoice_body(&d->c, d->national_id, s, err, sizeof err);
	if (!body) {
		snprintf(res->message, sizeof res->message, "cannot build the invoice: %s", err);
		return ATTEMPT_REJECTED;
	}
	enum attempt a = ATTEMPT_RETRY;
	if (it->lookup_first) {
		struct agency_distribution dist;
		enum agency_outcome o = agency_distribution(ac, s->api_key, d->c.invoice_number, &dist, res);
		if (o == AGENCY_OK) {
			a = ATTEMPT_DELIVERED; /* the earlier send arrived: never send twice */
			goto out;
		}
		if (o != AGENCY_NOT_FOUND)
			goto out; /* cannot tell yet: keep looking before any send */
		*lookup_next = false;
	}
	struct agency_created created;
	switch (agency_invoice_create(ac, s->api_key, body, &created, res)) {
	case AGENCY_OK:
	case AGENCY_CONFLICT: /* received before: delivered */
		a = ATTEMPT_DELIVERED;
		break;
	case AGENCY_REJECTED:
	case AGENCY_NOT_FOUND:
		a = ATTEMPT_REJECTED;
		break;
	case AGENCY_RETRY:
		a = ATTEMPT_RETRY;
		break;
	case AGENCY_UNKNOWN:
	case AGENCY_BAD_ANSWER: /* a 2xx we cannot read: it arrived, confirm by lookup */
		a = ATTEMPT_UNKNOWN;
		*lookup_next = true;
		break;
	}
out:
	free(body);
	return a;
}

struct marker_search {
	const char *marker;
	bool found;
};

static int find_marker(void *ctx, const struct agency_event *e)
{
	struct marker_search *m = ctx;
	if (strstr(e->description, m->marker))
		m->found = true;
	return m->found;
}

enum lookup { LOOKUP_FOUND, LOOKUP_ABSENT, LOOKUP_CANNOT_TELL };

/* After a DIRECTPAYMENT of unknown outcome: did the agency book it? Looks
 * for our marker on the agency case's events. Cannot tell before the agency
 * assigned a case id, or without an answer. */
static enum lookup payment_seen(struct agency_client *ac, const struct delivery *d, const char *marker,
				struct agency_result *res)
{
	if (!d->c.agency_case_id || !d->c.agency_case_id[0]) {
		snprintf(res->message, sizeof res->message, "waiting for the agency case id to look the payment up");
		return LOOKUP_CANNOT_TELL;
	}
	struct agency_case c;
	struct marker_search m = {marker, false};
	if (agency_case(ac, d->settings.api_key, d->c.agency_case_id, d->c.currency, &c, find_marker, &m, res) !=
	    AGENCY_OK)
		return LOOKUP_CANNOT_TELL;
	return m.found ? LOOKUP_FOUND : LOOKUP_ABSENT;
}

/* The body of a direct payment's DIRECTPAYMENT; NULL (res filled) when it
 * must wait: the lookup after an unknown outcome found it (*found) or could
 * not tell yet. */
static char *payment_body(struct agency_client *ac, const struct outbox_item *it, const struct delivery *d,
			  struct agency_result *res, bool *lookup_next, bool *found)
{
	struct agency_payment_data pd = {
		.amount = d->payment.amount,
		.currency = d->c.currency,
		.payment_date = d->payment.paid_on,
		.reference = d->payment.reference,
		.method = agency_payment_method(d->payment.kind),
	};
	/* Our payment id rides in the comment, which the agency keeps on the
	 * case's event: after a lost answer it is how the payment is found
	 * again instead of being booked twice. */
	char marker[STORE_ID_MAX + 16];
	snprintf(marker, sizeof marker, "inkasso %s", it->ref_id);
	if (it->lookup_first) {
		enum lookup l = payment_seen(ac, d, marker, res);
		*found = l == LOOKUP_FOUND;
		if (l != LOOKUP_ABSENT)
			return NULL; /* found, or cannot tell: *lookup_next stays true */
	}
	*lookup_next = false;
	return agency_action_body("DIRECTPAYMENT", marker, d->c.invoice_number, d->c.agency_case_id, &pd);
}

/* Sends an action or a direct payment as an agency action. A direct payment
 * of unknown outcome is looked up on the agency case before it is sent again
 * (money must not be booked twice). Other actions are sent again: comments
 * may repeat, and pause, resume, withdraw and objection are idempotent. */
static enum attempt deliver_action(struct agency_client *ac, const struct outbox_item *it, const struct delivery *d,
				   struct agency_result *res, bool *lookup_next)
{
	bool is_payment = it->kind == OUTBOX_PAYMENT;
	char *body;
	if (is_payment) {
		bool found = false;
		body = payment_body(ac, it, d, res, lookup_next, &found);
		if (!body && (found || *lookup_next))
			return found ? ATTEMPT_DELIVERED : ATTEMPT_RETRY;
	} else {
		body = agency_action_body(agency_action_code(d->action.type), d->action.comment, d->c.invoice_number,
					  d->c.agency_case_id, NULL);
	}
	if (!body) {
		snprintf(res->message, sizeof res->message, "cannot build the action body");
		return ATTEMPT_REJECTED;
	}
	struct agency_action_answer ans;
	enum agency_outcome o = agency_action(ac, d->settings.api_key, body, &ans, res);
	free(body);
	switch (o) {
	case AGENCY_OK:
	case AGENCY_CONFLICT:
		return ATTEMPT_DELIVERED;
	case AGENCY_REJECTED:
	case AGENCY_NOT_FOUND:
		return ATTEMPT_REJECTED;
	case AGENCY_BAD_ANSWER: /* a 2xx: it arrived */
		return ATTEMPT_DELIVERED;
	case AGENCY_RETRY:
		break;
	case AGENCY_UNKNOWN:
		*lookup_next = is_payment;
		return ATTEMPT_UNKNOWN;
	}
	return ATTEMPT_RETRY;
}

void forwarder_row_error(const struct agency_result *res, char *out, size_t outlen)
{
	if (res->agency_message)
		snprintf(out, outlen, "the agency answered HTTP %d", res->http_status);
	else
		snprintf(out, outlen, "%s", res->message[0] ? res->message : "no answer");
}

/* Records the attempt: done, rejected, rescheduled with backoff, or failed
 * after the last attempt. */
static void finish(struct forwarder *f, const struct outbox_item *it, enum attempt a, bool lookup_next,
		   const struct agency_result *res)
{
	const bool is_create = it->kind == OUTBOX_CREATE;
	const char *msg = res->message[0] ? res->message : "no answer"; /* for the case's event */
	char row_error[sizeof res->message]; /* for the outbox row, shown in the case detail */
	forwarder_row_error(res, row_error, sizeof row_error);
	const bool gave_up = a != ATTEMPT_DELIVERED && (a == ATTEMPT_REJECTED || it->attempts >= f->opt.max_attempts);
	if (a == ATTEMPT_DELIVERED || gave_up) {
		struct outbox_end end = {.row = it,
					 .failed = gave_up,
					 .lookup_first = a == ATTEMPT_REJECTED ? false : lookup_next,
					 .last_error = row_error};
		enum store_result r;
		if (is_create) {
			/* The case's move and its row's end in one transaction: a
			 * crash between two would leave a delivered case pending
			 * with its row done (never sent, never followed), and a
			 * retry between "case failed" and "row failed" would find
			 * no row to requeue. */
			const char *to = a == ATTEMPT_DELIVERED  ? "submitted"
					 : a == ATTEMPT_REJECTED ? "rejected"
								 : "failed";
			unsigned from = a == ATTEMPT_DELIVERED || a == ATTEMPT_REJECTED
						? (1u << CASE_PENDING) | (1u << CASE_FAILED)
						: 1u << CASE_PENDING;
			char now[DATES_TS_LEN];
			dates_now_rfc3339(now);
			const char *why = a == ATTEMPT_DELIVERED ? "the agency received the invoice" : msg;
			r = store_case_transition_ending(f->st, it->tenant, it->case_id, from, to, "forwarder", why,
							 now, &end);
		} else {
			r = gave_up ? store_outbox_fail(f->st, it, end.lookup_first, row_error)
				    : store_outbox_done(f->st, it);
		}
		if (r < 0) {
			/* Nothing was written: the row is still sending. Look again
			 * later rather than leave it for the next start. */
			log_write(LOG_ERROR, "forwarder: could not record the outcome", "case_id", it->case_id, "kind",
				  outbox_kind_name(it->kind), NULL);
			store_outbox_retry(f->st, it, dates_now_ms() + f->opt.retry_base_ms, true,
					   "the outcome could not be recorded");
			return;
		}
		if (gave_up) {
			metrics_forwarder_gave_up();
			log_write(LOG_WARN, a == ATTEMPT_REJECTED ? "forwarder: agency refused" : "forwarder: gave up",
				  "case_id", it->case_id, "kind", outbox_kind_name(it->kind), NULL);
		}
		return;
	}
	uint64_t r = 0;
	ids_random(&r, sizeof r);
	int64_t delay = backoff_delay_ms(it->attempts, f->opt.retry_base_ms, f->opt.retry_cap_ms,
					 res->retry_after_s, r);
	store_outbox_retry(f->st, it, dates_now_ms() + delay, lookup_next, row_error);
	metrics_forwarder_retry();
}

static void deliver(struct forwarder *f, const struct agency_clients *clients, const struct outbox_item *it)
{
	struct agency_client *ac = NULL;
	struct agency_result res = {.retry_after_s = -1};
	struct delivery d;
	const char *missing = NULL;
	enum attempt a = ATTEMPT_RETRY;
	bool lookup_next = it->lookup_first;
	/* Everything the send needs, read at once; no read is held while the
	 * agency answers. */
	enum store_result r = store_delivery_load(f->st, it, &d, &missing);
	if (r != STORE_OK)
		snprintf(res.message, sizeof res.message, "%s not readable", missing ? missing : "the delivery");
	else if (!d.has_settings || !d.settings.api_key_set)
		snprintf(res.message, sizeof res.message, "the tenant has no agency api key");
	/* The tenant's environment as its settings say now: a tenant moved
	 * to production sends what still waits there. */
	else if (!(ac = agency_clients_pick(clients, d.settings.environment)))
		snprintf(res.message, sizeof res.message, "the tenant's agency environment %s has no URL configured",
			 agency_environment_name(d.settings.environment));
	else if (it->kind == OUTBOX_CREATE)
		a = deliver_create(ac, it, &d, &res, &lookup_next);
	else
		a = deliver_action(ac, it, &d, &res, &lookup_next);
	store_delivery_free(&d);
	finish(f, it, a, lookup_next, &res);
}

/* How long a claim holds its row: one delivery makes at most two agency
 * calls (the lookup of an unknown outcome, then the send), each bounded by
 * the timeout, plus the store's writes around them. A replica that dies
 * mid-send leaves its row to the others after this. */
static int64_t lease_ms(const struct forwarder *f) { return 2 * (int64_t)f->opt.agency.timeout_ms + 10000; }

static void *worker(void *p)
{
	struct worker_arg *arg = p;
	struct forwarder *f = arg->f;
	const struct agency_clients *clients = &f->clients[arg->index];
	while (!atomic_load(&f->stop)) {
		struct outbox_item it;
		enum store_result r = store_outbox_claim(f->st, dates_now_ms(), lease_ms(f), &it);
		if (r == STORE_OK)
			deliver(f, clients, &it);
		else
			nap_ms(IDLE_POLL_MS);
	}
	return NULL;
}

struct forwarder *forwarder_start(struct store *st, const struct forwarder_options *opt, char *err,
				  size_t errlen)
{
	int workers = opt->workers;
	if (workers < 1)
		workers = 1;
	if (workers > FORWARDER_MAX_WORKERS)
		workers = FORWARDER_MAX_WORKERS;
	struct forwarder *f = calloc(1, sizeof *f);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->st = st;
	f->opt = *opt;
	for (int i = 0; i < workers; i++)
		if (!agency_clients_init(&f->clients[i], &opt->agency, err, errlen))
			goto fail;
	int64_t requeued = 0;
	if (store_outbox_requeue_sending(st, &requeued) < 0) {
		snprintf(err, errlen, "cannot requeue the outbox");
		goto fail;
	}
	if (requeued) {
		char n[24];
		snprintf(n, sizeof n, "%lld", (long long)requeued);
		log_write(LOG_WARN, "forwarder: sends of unknown outcome will be looked up first", "rows", n, NULL);
	}
	for (int i = 0; i < workers; i++) {
		f->args[i] = (struct worker_arg){f, i};
		if (pthread_create(&f->threads[i], NULL, worker, &f->args[i]) != 0) {
			snprintf(err, errlen, "cannot start a forwarder thread");
			atomic_store(&f->stop, true);
			for (int k = 0; k < i; k++)
				pthread_join(f->threads[k], NULL);
			goto fail;
		}
		f->nworkers = i + 1;
	}
	return f;
fail:
	for (int i = 0; i < FORWARDER_MAX_WORKERS; i++)
		agency_clients_free(&f->clients[i]);
	free(f);
	return NULL;
}

void forwarder_stop(struct forwarder *f)
{
	if (!f)
		return;
	atomic_store(&f->stop, true);
	for (int i = 0; i < f->nworkers; i++)
		pthread_join(f->threads[i], NULL);
	for (int i = 0; i < FORWARDER_MAX_WORKERS; i++)
		agency_clients_free(&f->clients[i]);
	free(f);
}
