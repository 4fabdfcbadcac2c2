/* SPDX-License-Identifier: MIT */
/* Events and webhooks through the store's headers only (store.h,
 * store_agency.h, store_events.h): an event in the transaction of each
 * change and none for a refused one, dense sequences, the feed's order and
 * filters, endpoints, and the delivery queue (per-subject order, retries,
 * giving up, 410, the failure streak, the requeue after a crash, recover),
 * idempotency records for every operation. Run on both backends
 * (tests/unit/store_backend.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/ids.h"
#include "store/store.h"
#include "store/store_agency.h"
#include "store/store_events.h"
#include "tests/unit/store_backend.h"

#define NOW "2026-02-20T10:00:00.000Z"
#define ALL ((1u << CASE__COUNT) - 1)

static struct test_db db;
static struct store *s;

static void setup(void)
{
	test_db_create(&db, "inkasso-events");
	char err[256] = "";
	s = store_open(db.path, &(struct store_options){.readers = 2}, err, sizeof err);
	cr_assert_not_null(s, "%s", err);
}

static void teardown(void)
{
	store_close(s);
	test_db_remove(&db);
}

TestSuite(events, .init = setup, .fini = teardown);

static void new_case(const char *tenant, const char *invoice, char id[STORE_ID_MAX])
{
	cr_assert(ids_new("cc_", id, STORE_ID_MAX));
	struct case_new n = {
		.c = {
			.tenant = tenant, .id = id, .status = "pending", .service = "collection", .debtor_type = "consumer",
			.invoice_number = invoice, .invoice_json = "{}", .debtor_json = "{\"name\":\"Kari Nordmann\"}",
			.currency = "NOK", .original = 124900, .remaining = 124900, .created_at = NOW, .updated_at = NOW,
		},
		.debtor_name = "Kari Nordmann",
		.actor = {.sub = "alice", .request_id = "req-1"},
	};
	struct case_create_result res;
	cr_assert_eq(store_case_create(s, &n, &res), STORE_OK);
}

/* The tenant's feed as types and sequences, into a text like
 * "case.created/1 case.payment_received/2". */
struct feed_text {
	char text[2048];
	int n;
	int64_t last_pos;
	char first_id[STORE_ID_MAX];
};

static int add_event(void *ctx, const struct event_row *e)
{
	struct feed_text *f = ctx;
	const char *seq = strstr(e->body, "\"sequence\":");
	cr_assert_not_null(seq);
	size_t used = strlen(f->text);
	snprintf(f->text + used, sizeof f->text - used, "%s%s/%d", f->n ? " " : "", e->type,
		 atoi(seq + strlen("\"sequence\":")));
	if (!f->n)
		snprintf(f->first_id, sizeof f->first_id, "%s", e->id);
	f->n++;
	f->last_pos = e->pos;
	cr_assert(strstr(e->body, "Kari") == NULL, "no personal data in %s", e->body);
	return 0;
}

static struct feed_text feed_of(const char *tenant, unsigned mask, const char *case_id)
{
	struct feed_text f = {0};
	struct event_filter flt = {.tenant = tenant, .type_mask = mask, .case_id = case_id, .limit = 200};
	bool more = true;
	cr_assert_eq(store_event_list(s, &flt, add_event, &f, &more), STORE_OK);
	cr_assert_not(more);
	return f;
}

static struct store_request request(const char *tenant)
{
	return (struct store_request){.tenant = tenant, .now = NOW, .actor = {.sub = "bob", .request_id = "req-2"}};
}

Test(events, each_change_writes_one_event_and_a_refused_one_none)
{
	char id[STORE_ID_MAX];
	new_case("t1", "INV-1", id);
	struct store_request rq = request("t1");
	struct payment_add_result pay;
	cr_assert_eq(store_payment_add(s, &rq, id, PAYMENT_PAYMENT, 100, "2026-02-01", "B-1", &pay), STORE_OK);
	cr_assert_eq(store_payment_add(s, &rq, id, PAYMENT_PAYMENT, 999999, "2026-02-01", NULL, &pay), STORE_LIMIT);
	cr_assert_eq(store_payment_add(s, &rq, id, PAYMENT_PAYMENT, 5, "2026-02-01", "B-1", &pay), STORE_DUPLICATE);
	struct action_add_result act;
	cr_assert_eq(store_action_add(s, &rq, id, ACTION_PAUSE, NULL, &act), STORE_STATE);
	cr_assert_eq(store_action_add(s, &rq, id, ACTION_COMMENT, "hi", &act), STORE_OK); /* no event */
	cr_assert_eq(store_case_transition(s, "t1", id, ALL, "open", "sync", NULL, NOW,
					   &(struct case_agency_fields){.stage = "reminder", .agency_case_id = "9"}),
		     STORE_OK);
	cr_assert_eq(store_case_transition(s, "t1", id, ALL, "open", "sync", NULL, NOW,
					   &(struct case_agency_fields){.stage = "reminder"}),
		     STORE_OK); /* the same again: nothing */
	struct feed_text f = feed_of("t1", 0, NULL);
	cr_assert_str_eq(f.text, "case.created/1 case.payment_received/2 case.status_changed/3 case.stage_changed/4");
	/* filters */
	cr_assert_str_eq(feed_of("t1", 1u << EVENT_CASE_PAYMENT_RECEIVED, NULL).text, "case.payment_received/2");
	cr_assert_str_eq(feed_of("t1", 0, "cc_01JD8ZK5V3Q4N7M2X9R6T1W0YB").text, "");
	cr_assert_eq(feed_of("t1", 0, id).n, 4);
	cr_assert_str_eq(feed_of("t2", 0, NULL).text, "", "another tenant sees none");
}

static int count_event(void *ctx, const struct event_row *e)
{
	(void)e;
	(*(int *)ctx)++;
	return 0;
}

Test(events, the_feed_continues_after_a_cursor_in_commit_order)
{
	char a[STORE_ID_MAX], b[STORE_ID_MAX];
	new_case("t1", "INV-A", a);
	new_case("t1", "INV-B", b);
	struct store_request rq = request("t1");
	struct payment_add_result pay;
	cr_assert_eq(store_payment_add(s, &rq, a, PAYMENT_PAYMENT, 1, "2026-02-01", NULL, &pay), STORE_OK);
	struct feed_text first = {0};
	struct event_filter f = {.tenant = "t1", .limit = 2};
	bool more = false;
	cr_assert_eq(store_event_list(s, &f, add_event, &first, &more), STORE_OK);
	cr_assert(more);
	cr_assert_str_eq(first.text, "case.created/1 case.created/1");
	f.after_pos = first.last_pos;
	struct feed_text rest = {0};
	cr_assert_eq(store_event_list(s, &f, add_event, &rest, &more), STORE_OK);
	cr_assert_not(more);
	cr_assert_str_eq(rest.text, "case.payment_received/2");
	int n = 0;
	cr_assert_eq(store_event_get(s, "t1", first.first_id, count_event, &n), STORE_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(store_event_get(s, "t2", first.first_id, count_event, &n), STORE_NOT_FOUND);
}

Test(events, agency_payments_settlements_and_failed_actions_are_events)
{
	char id[STORE_ID_MAX];
	new_case("t1", "INV-1", id);
	cr_assert_eq(store_case_transition(s, "t1", id, ALL, "open", "sync", NULL, NOW,
					   &(struct case_agency_fields){.agency_case_id = "77"}),
		     STORE_OK);
	struct agency_payment p = {.agency_payment_id = "AP-1", .agency_case_id = "77", .amount = 500,
				   .paid_on = "2026-02-02"};
	bool applied = false;
	cr_assert_eq(store_sync_payment(s, "t1", &p, NOW, &applied), STORE_OK);
	cr_assert_eq(store_sync_payment(s, "t1", &p, NOW, &applied), STORE_OK); /* once */
	struct agency_allocation al = {.allocation_id = "AL-1", .agency_case_id = "77", .invoice_number = "INV-1",
				       .amount = 500, .allocation_date = "2026-02-03"};
	struct agency_settlement st = {.agency_settlement_id = "S-1", .settlement_date = "2026-02-03", .agency = "X",
				       .amount = 500, .currency = "NOK", .allocations = &al, .nallocations = 1};
	bool created = false;
	cr_assert_eq(store_sync_settlement(s, "t1", &st, NOW, &created), STORE_OK);
	cr_assert(created);
	/* An action the agency refuses: given up, a case.action_failed. */
	struct store_request rq = request("t1");
	struct action_add_result act;
	cr_assert_eq(store_action_add(s, &rq, id, ACTION_COMMENT, "x", &act), STORE_OK);
	struct outbox_item it;
	cr_assert_eq(store_outbox_claim(s, 0, TEST_LEASE_MS, &it), STORE_OK); /* the create */
	cr_assert_eq(store_outbox_done(s, &it), STORE_OK);
	cr_assert_eq(store_outbox_claim(s, 0, TEST_LEASE_MS, &it), STORE_OK); /* the comment */
	cr_assert_eq(it.kind, OUTBOX_ACTION);
	cr_assert_eq(store_outbox_fail(s, &it, false, "refused"), STORE_OK);
	struct feed_text f = feed_of("t1", 0, NULL);
	cr_assert_str_eq(f.text, "case.created/1 case.status_changed/2 case.payment_received/3 settlement.created/1"
				 " case.action_failed/4");
}

/* ---- endpoints and the delivery queue ---- */

struct endpoint_seen {
	char id[STORE_ID_MAX];
	char secret[WEBHOOK_SECRET_LEN];
	bool enabled;
	char reason[16];
};

static int keep_endpoint(void *ctx, const struct endpoint_row *e)
{
	struct endpoint_seen *x = ctx;
	snprintf(x->id, sizeof x->id, "%s", e->id);
	snprintf(x->secret, sizeof x->secret, "%s", e->secret ? e->secret : "");
	x->enabled = e->enabled;
	snprintf(x->reason, sizeof x->reason, "%s", e->disabled_reason ? e->disabled_reason : "");
	return 0;
}

static struct endpoint_seen endpoint(const char *tenant, const char *const *types, int n)
{
	struct store_request rq = request(tenant);
	struct endpoint_new in = {.url = "https://hooks.example/x", .event_types = types, .ntypes = n,
				  .description = "", .enabled = true, .secret = "whsec_c2VjcmV0"};
	struct endpoint_seen e = {0};
	cr_assert_eq(store_endpoint_create(s, &rq, &in, keep_endpoint, &e), STORE_OK);
	cr_assert_str_eq(e.secret, "whsec_c2VjcmV0");
	return e;
}

static const char *const every[] = {"*"};

/* Claims or fails; the job's event id into event (may be NULL). */
static struct webhook_job claim_job(int64_t now)
{
	struct webhook_job j;
	cr_assert_eq(store_webhook_claim(s, now, TEST_LEASE_MS, &j), STORE_OK, "a delivery is due");
	return j;
}

static void nothing_due(int64_t now)
{
	struct webhook_job j;
	cr_assert_eq(store_webhook_claim(s, now, TEST_LEASE_MS, &j), STORE_NOT_FOUND);
}

static void finish(struct webhook_job *j, enum webhook_outcome o, int64_t next, bool *disabled)
{
	struct webhook_attempt_end e = {.outcome = o, .next_attempt_ms = next, .status_code = o == WEBHOOK_DELIVERED ? 200
											     : o == WEBHOOK_GONE  ? 410
														  : 500,
					.duration_ms = 3, .now_ms = 1000, .disable_after_ms = 5000};
	cr_assert_eq(store_webhook_finish(s, j, &e, disabled), STORE_OK);
	store_webhook_job_free(j);
}

static bool body_has(const struct webhook_job *j, const char *what) { return strstr(j->body, what) != NULL; }

Test(events, deliveries_follow_each_case_in_sequence_and_others_flow)
{
	struct endpoint_seen e = endpoint("t1", every, 1);
	char a[STORE_ID_MAX], b[STORE_ID_MAX];
	new_case("t1", "INV-A", a);
	struct store_request rq = request("t1");
	struct payment_add_result pay;
	cr_assert_eq(store_payment_add(s, &rq, a, PAYMENT_PAYMENT, 1, "2026-02-01", NULL, &pay), STORE_OK);
	new_case("t1", "INV-B", b);
	int64_t now = 10LL * 1000 * 1000 * 1000 * 1000; /* far ahead: everything is due */
	struct webhook_job j1 = claim_job(now);
	cr_assert(body_has(&j1, a) && body_has(&j1, "case.created"));
	cr_assert_str_eq(j1.endpoint_id, e.id);
	cr_assert_str_eq(j1.secret, "whsec_c2VjcmV0");
	cr_assert_eq(j1.attempt, 1);
	/* a's payment waits behind its create; b's create goes. */
	struct webhook_job j2 = claim_job(now);
	cr_assert(body_has(&j2, b), "%s", j2.body);
	nothing_due(now);
	bool off = false;
	finish(&j1, WEBHOOK_RETRY, now + 5000, &off);
	nothing_due(now); /* a's create again later; its payment still waits */
	struct webhook_job again = claim_job(now + 5000);
	cr_assert(body_has(&again, a) && again.attempt == 2);
	finish(&again, WEBHOOK_DELIVERED, 0, &off);
	struct webhook_job j3 = claim_job(now + 5000);
	cr_assert(body_has(&j3, "case.payment_received"));
	finish(&j3, WEBHOOK_GIVE_UP, 0, &off);
	finish(&j2, WEBHOOK_DELIVERED, 0, &off);
	nothing_due(now + 10000);
	struct webhook_stats st;
	cr_assert_eq(store_webhook_stats(s, &st), STORE_OK);
	cr_assert_eq(st.queued, 0);
}

Test(events, only_subscribed_enabled_endpoints_get_an_event)
{
	const char *const created[] = {"case.created"};
	endpoint("t1", created, 1);
	struct endpoint_seen other = endpoint("t2", every, 1); /* another tenant */
	(void)other;
	char id[STORE_ID_MAX];
	new_case("t1", "INV-1", id);
	struct store_request rq = request("t1");
	struct payment_add_result pay;
	cr_assert_eq(store_payment_add(s, &rq, id, PAYMENT_PAYMENT, 1, "2026-02-01", NULL, &pay), STORE_OK);
	struct webhook_job j = claim_job(INT64_MAX / 2);
	cr_assert(body_has(&j, "case.created"));
	bool off;
	finish(&j, WEBHOOK_DELIVERED, 0, &off);
	nothing_due(INT64_MAX / 2);
}

Test(events, gone_disables_the_endpoint_and_cancels_its_queue)
{
	struct endpoint_seen e = endpoint("t1", every, 1);
	char a[STORE_ID_MAX], b[STORE_ID_MAX];
	new_case("t1", "INV-A", a);
	new_case("t1", "INV-B", b);
	struct webhook_job j = claim_job(INT64_MAX / 2);
	bool off = false;
	finish(&j, WEBHOOK_GONE, 0, &off);
	cr_assert(off);
	nothing_due(INT64_MAX / 2);
	struct endpoint_seen now = {0};
	cr_assert_eq(store_endpoint_get(s, "t1", e.id, keep_endpoint, &now), STORE_OK);
	cr_assert_not(now.enabled);
	cr_assert_str_eq(now.reason, "gone");
	cr_assert_str_eq(now.secret, "", "a read never shows the secret");
	struct webhook_stats st;
	cr_assert_eq(store_webhook_stats(s, &st), STORE_OK);
	cr_assert_eq(st.disabled_endpoints, 1);
	/* Back on, and recover queues the past again. */
	struct store_request rq = request("t1");
	struct endpoint_patch on = {.has_enabled = true, .enabled = true};
	cr_assert_eq(store_endpoint_update(s, &rq, e.id, &on, keep_endpoint, &now), STORE_OK);
	cr_assert(now.enabled);
	cr_assert_str_eq(now.reason, "");
	int64_t queued = 0;
	cr_assert_eq(store_endpoint_recover(s, &rq, e.id, "2000-01-01T00:00:00.000Z", &queued), STORE_OK);
	cr_assert_eq(queued, 2);
	cr_assert_eq(store_endpoint_recover(s, &rq, e.id, "2000-01-01T00:00:00.000Z", &queued), STORE_OK);
	cr_assert_eq(queued, 0, "what waits already is not queued twice");
}

Test(events, a_failure_streak_disables_the_endpoint)
{
	struct endpoint_seen e = endpoint("t1", every, 1);
	char a[STORE_ID_MAX];
	new_case("t1", "INV-A", a);
	struct webhook_job j = claim_job(INT64_MAX / 2);
	struct webhook_attempt_end end = {.outcome = WEBHOOK_RETRY, .next_attempt_ms = 2000, .status_code = 500,
					  .now_ms = 1000, .disable_after_ms = 5000};
	bool off = true;
	cr_assert_eq(store_webhook_finish(s, &j, &end, &off), STORE_OK);
	cr_assert_not(off);
	store_webhook_job_free(&j);
	j = claim_job(INT64_MAX / 2);
	end.now_ms = 7000; /* 6 s after the first failure */
	cr_assert_eq(store_webhook_finish(s, &j, &end, &off), STORE_OK);
	cr_assert(off);
	store_webhook_job_free(&j);
	struct endpoint_seen now = {0};
	cr_assert_eq(store_endpoint_get(s, "t1", e.id, keep_endpoint, &now), STORE_OK);
	cr_assert_str_eq(now.reason, "failing");
}

struct attempts {
	char text[512];
};

static int add_attempt(void *ctx, const struct attempt_row *a)
{
	struct attempts *x = ctx;
	size_t used = strlen(x->text);
	snprintf(x->text + used, sizeof x->text - used, "%s%d:%s", used ? " " : "", a->attempt, a->status);
	return 0;
}

Test(events, a_crash_requeues_what_was_sending_and_the_log_tells)
{
	struct endpoint_seen e = endpoint("t1", every, 1);
	char a[STORE_ID_MAX];
	new_case("t1", "INV-A", a);
	const int64_t t0 = INT64_MAX / 4;
	struct webhook_job j = claim_job(t0);
	struct webhook_job first = j; /* the process dies here, holding this */
	int64_t n = 0;
	cr_assert_eq(store_webhook_requeue_sending(s, &n), STORE_OK);
	/* SQLite: a file is one process's, its start requeues; PostgreSQL:
	 * replicas share it, the lease's end does (the next claim after it). */
	cr_assert_eq(n, test_store_is_pg() ? 0 : 1);
	if (test_store_is_pg())
		nothing_due(t0 + TEST_LEASE_MS - 1);
	j = claim_job(test_store_is_pg() ? t0 + TEST_LEASE_MS : t0);
	cr_assert_eq(j.attempt, 2);
	/* The first claimer's late answer changes nothing. */
	struct webhook_attempt_end late = {.outcome = WEBHOOK_DELIVERED, .status_code = 200, .now_ms = 1000,
					   .disable_after_ms = 5000};
	bool off;
	cr_assert_eq(store_webhook_finish(s, &first, &late, &off), STORE_STATE);
	store_webhook_job_free(&first);
	finish(&j, WEBHOOK_DELIVERED, 0, &off);
	struct attempts log = {0};
	bool more;
	cr_assert_eq(store_endpoint_attempts(s, "t1", e.id, NULL, 0, 50, add_attempt, &log, &more), STORE_OK);
	cr_assert_str_eq(log.text, "2:succeeded 1:failed");
	struct attempts failed = {0};
	cr_assert_eq(store_endpoint_attempts(s, "t1", e.id, "failed", 0, 50, add_attempt, &failed, &more), STORE_OK);
	cr_assert_str_eq(failed.text, "1:failed");
	cr_assert_eq(store_endpoint_attempts(s, "t2", e.id, NULL, 0, 50, add_attempt, &failed, &more),
		     STORE_NOT_FOUND);
}

Test(events, a_test_event_goes_to_its_endpoint_only_and_not_the_feed)
{
	struct endpoint_seen e = endpoint("t1", every, 1);
	endpoint("t1", every, 1);
	struct store_request rq = request("t1");
	char event_id[STORE_ID_MAX];
	cr_assert_eq(store_endpoint_test(s, &rq, e.id, event_id), STORE_OK);
	struct webhook_job j = claim_job(INT64_MAX / 2);
	cr_assert_str_eq(j.endpoint_id, e.id);
	cr_assert_str_eq(j.event_id, event_id);
	cr_assert(body_has(&j, "webhook.test"));
	bool off;
	finish(&j, WEBHOOK_DELIVERED, 0, &off);
	nothing_due(INT64_MAX / 2);
	cr_assert_eq(feed_of("t1", 0, NULL).n, 0);
	int n = 0;
	cr_assert_eq(store_event_get(s, "t1", event_id, count_event, &n), STORE_NOT_FOUND);
}

Test(events, rotation_keeps_the_previous_secret_signing_until_its_end)
{
	struct endpoint_seen e = endpoint("t1", every, 1);
	struct store_request rq = request("t1");
	struct endpoint_seen r = {0};
	int64_t base = (int64_t)time(NULL) * 1000; /* deliveries are due from the wall clock on */
	cr_assert_eq(store_endpoint_rotate(s, &rq, e.id, "whsec_bmV3", base + 20000, keep_endpoint, &r), STORE_OK);
	cr_assert_str_eq(r.secret, "whsec_bmV3");
	char a[STORE_ID_MAX];
	new_case("t1", "INV-A", a);
	struct webhook_job j = claim_job(base + 10000);
	cr_assert_str_eq(j.secret, "whsec_bmV3");
	cr_assert_str_eq(j.previous_secret, "whsec_c2VjcmV0");
	bool off;
	finish(&j, WEBHOOK_RETRY, base + 30000, &off);
	j = claim_job(base + 30000);
	cr_assert_str_eq(j.previous_secret, "", "past its end the old secret signs no more");
	finish(&j, WEBHOOK_DELIVERED, 0, &off);
}

Test(events, deleting_an_endpoint_takes_its_queue)
{
	struct endpoint_seen e = endpoint("t1", every, 1);
	char a[STORE_ID_MAX];
	new_case("t1", "INV-A", a);
	cr_assert_eq(store_endpoint_delete(s, "t2", e.id), STORE_NOT_FOUND);
	cr_assert_eq(store_endpoint_delete(s, "t1", e.id), STORE_OK);
	nothing_due(INT64_MAX / 2);
	cr_assert_eq(store_endpoint_get(s, "t1", e.id, keep_endpoint, &e), STORE_NOT_FOUND);
}

/* ---- idempotency records of the operations ---- */

static bool answer(void *ctx, struct buf *body, char *location, size_t loclen)
{
	const struct payment_add_result *res = ctx;
	buf_printf(body, "{\"id\":\"%s\",\"remaining\":%lld}", res->id, (long long)res->remaining);
	snprintf(location, loclen, "/somewhere");
	return true;
}

Test(events, a_recorded_payment_replays_and_books_once)
{
	char id[STORE_ID_MAX];
	new_case("t1", "INV-1", id);
	struct payment_add_result res;
	struct store_idem idem = {.key = "k1", .fingerprint = "v2:aa", .status = 201, .render = answer, .render_ctx = &res};
	struct store_replay rp = {0};
	struct store_request rq = request("t1");
	rq.idem = &idem;
	rq.replay = &rp;
	cr_assert_eq(store_payment_add(s, &rq, id, PAYMENT_PAYMENT, 100, "2026-02-01", NULL, &res), STORE_OK);
	char first[128];
	snprintf(first, sizeof first, "{\"id\":\"%s\",\"remaining\":124800}", res.id);
	cr_assert_eq(store_payment_add(s, &rq, id, PAYMENT_PAYMENT, 100, "2026-02-01", NULL, &res), STORE_REPLAY);
	cr_assert_eq(rp.status, 201);
	cr_assert_str_eq(rp.body, first);
	cr_assert_str_eq(rp.location, "/somewhere");
	free(rp.body);
	/* The record answers on every operation: a key is the tenant's. */
	struct action_add_result act;
	cr_assert_eq(store_action_add(s, &rq, id, ACTION_COMMENT, NULL, &act), STORE_REPLAY);
	free(rp.body);
	idem.fingerprint = "v2:bb";
	cr_assert_eq(store_payment_add(s, &rq, id, PAYMENT_PAYMENT, 100, "2026-02-01", NULL, &res), STORE_KEY_REUSED);
	/* An older build's record of the same request. */
	idem.legacy_fingerprint = "v2:aa";
	cr_assert_eq(store_idempotency_get(s, "t1", &idem, &rp), STORE_REPLAY);
	free(rp.body);
	cr_assert_eq(feed_of("t1", 1u << EVENT_CASE_PAYMENT_RECEIVED, NULL).n, 1, "booked once");
}

Test(events, pruning_keeps_what_a_delivery_waits_for)
{
	endpoint("t1", every, 1);
	char a[STORE_ID_MAX];
	new_case("t1", "INV-A", a);
	int64_t n = -1;
	cr_assert_eq(store_events_prune(s, "9999-01-01T00:00:00.000Z", "2000-01-01T00:00:00.000Z", 100, &n),
		     STORE_OK);
	cr_assert_eq(feed_of("t1", 0, NULL).n, 1, "its delivery waits: kept");
	struct webhook_job j = claim_job(INT64_MAX / 2);
	bool off;
	finish(&j, WEBHOOK_DELIVERED, 0, &off);
	cr_assert_eq(store_events_prune(s, "9999-01-01T00:00:00.000Z", "2000-01-01T00:00:00.000Z", 100, &n),
		     STORE_OK);
	cr_assert_eq(feed_of("t1", 0, NULL).n, 0);
	/* A later event of the case keeps counting: sequences never come back. */
	struct store_request rq = request("t1");
	struct payment_add_result pay;
	cr_assert_eq(store_payment_add(s, &rq, a, PAYMENT_PAYMENT, 1, "2026-02-01", NULL, &pay), STORE_OK);
	cr_assert_str_eq(feed_of("t1", 0, NULL).text, "case.payment_received/2");
}
