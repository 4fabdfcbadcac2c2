/* SPDX-License-Identifier: MIT */
/* The tenants' webhook endpoints: create, read, change, delete, rotate the
 * secret, send a test, queue the past again (recover), and read the attempt
 * log. A change that the API asks for with a POST carries its idempotency
 * record in the same transaction, like every other POST. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "lib/dates.h"
#include "lib/ids.h"
#include "lib/jsonw.h"
#include "store/rows.h"
#include "store/store_internal.h"

#define ENDPOINT_COLUMNS \
	"id, seq, url, event_types, description, enabled, disabled_reason, created_at, updated_at"

struct endpoint_read {
	struct endpoint_row row;
	store_endpoint_fn fn;
	void *ctx;
	int n, limit;
	bool more;
};

static int on_endpoint(void *arg)
{
	struct endpoint_read *e = arg;
	if (e->limit && e->n == e->limit) {
		e->more = true;
		return 1;
	}
	e->n++;
	return e->fn ? e->fn(e->ctx, &e->row) : 0;
}

#define ENDPOINT_COLS(r)                                                                                      \
	DB_COL_TEXT(&(r)->id), DB_COL_INT64(&(r)->seq), DB_COL_TEXT(&(r)->url), DB_COL_TEXT(&(r)->event_types), \
		DB_COL_TEXT(&(r)->description), DB_COL_BOOL(&(r)->enabled), DB_COL_TEXT(&(r)->disabled_reason),  \
		DB_COL_TEXT(&(r)->created_at), DB_COL_TEXT(&(r)->updated_at)

/* Reads the tenant's endpoint id on c into fn (with its secret when
 * with_secret); STORE_NOT_FOUND when it is not the tenant's. */
static enum store_result endpoint_read(struct db_conn *c, const char *tenant, const char *id, bool with_secret,
				       store_endpoint_fn fn, void *ctx)
{
	static const char sql[] = "SELECT " ENDPOINT_COLUMNS ", secret FROM webhook_endpoints"
				  " WHERE id = ?1 AND tenant = ?2";
	struct endpoint_read e = {.fn = fn, .ctx = ctx};
	const char *secret = NULL;
	const struct db_param params[] = {DB_TEXT(id), DB_TEXT(tenant), DB_END};
	const struct db_col cols[] = {ENDPOINT_COLS(&e.row), DB_COL_TEXT(with_secret ? &e.row.secret : &secret),
				      DB_END_COL};
	enum store_result r = db_each(c, sql, params, cols, on_endpoint, &e, NULL, "store: read endpoint");
	return r == STORE_OK && e.n == 0 ? STORE_NOT_FOUND : r;
}

/* ",a,b," of n type names, into b. */
static const char *stored_types(const char *const *types, int n, struct buf *b)
{
	buf_putc(b, ',');
	for (int i = 0; i < n; i++) {
		buf_puts(b, types[i]);
		buf_putc(b, ',');
	}
	return b->oom ? NULL : buf_cstr(b);
}

void store_endpoint_types_each(const char *stored, void (*fn)(void *ctx, const char *type, size_t len), void *ctx)
{
	for (const char *p = stored ? stored : ""; *p;) {
		p += strspn(p, ",");
		size_t n = strcspn(p, ",");
		if (n)
			fn(ctx, p, n);
		p += n;
	}
}

/* Begins a POST's write transaction on the tenant's endpoint id: its
 * idempotency record first, then the endpoint must be the tenant's (and
 * enabled, when asked). End it with store_write_finish. */
static enum store_result begin_on_endpoint(struct store *s, struct db_conn **w, const struct store_request *rq,
					   const char *id, bool must_be_enabled)
{
	static const char sql[] = "SELECT enabled FROM webhook_endpoints WHERE id = ?1 AND tenant = ?2";
	bool enabled = false;
	const struct db_param params[] = {DB_TEXT(id), DB_TEXT(rq->tenant), DB_END};
	const struct db_col cols[] = {DB_COL_BOOL(&enabled), DB_END_COL};
	enum store_result r = store_write_begin(s, w);
	if (r == STORE_OK) {
		r = rows_idem_check(*w, rq->tenant, rq->idem, rq->replay);
		r = r == STORE_NOT_FOUND ? STORE_OK : r;
	}
	if (r == STORE_OK && id)
		r = db_one(*w, sql, params, cols, "store: endpoint");
	return r == STORE_OK && must_be_enabled && !enabled ? STORE_STATE : r;
}

static enum store_result record_answer(struct db_conn *w, const struct store_request *rq, enum store_result r)
{
	return r == STORE_OK ? rows_idem_record(w, rq->tenant, rq->idem, rq->now) : r;
}

static enum store_result endpoint_create_once(struct store *s, const struct store_request *rq,
					      const struct endpoint_new *in, store_endpoint_fn fn, void *ctx)
{
	static const char sql[] =
		"INSERT INTO webhook_endpoints (id, tenant, seq, url, event_types, description, enabled, secret,"
		" created_at, updated_at) SELECT ?1, ?2, COALESCE(MAX(seq), 0) + 1, ?3, ?4, ?5, ?6, ?7, ?8, ?8"
		" FROM webhook_endpoints WHERE tenant = ?2";
	assert(rq && rq->tenant && in && in->url && in->secret && in->ntypes > 0);
	char id[STORE_ID_MAX];
	if (!ids_new("we_", id, sizeof id))
		return db_fail_msg("store: create endpoint", "no random id");
	struct buf types = {0};
	const char *stored = stored_types(in->event_types, in->ntypes, &types);
	if (!stored) {
		buf_free(&types);
		return db_fail_msg("store: create endpoint", "out of memory");
	}
	const struct db_param params[] = {
		DB_TEXT(id),          DB_TEXT(rq->tenant), DB_TEXT(in->url),    DB_TEXT(stored),
		DB_TEXT(in->description ? in->description : ""), DB_BOOL(in->enabled), DB_TEXT(in->secret),
		DB_TEXT(rq->now),     DB_END,
	};
	static const char count_sql[] = "SELECT count(*) FROM webhook_endpoints WHERE tenant = ?1";
	const struct db_param by_tenant[] = {DB_TEXT(rq->tenant), DB_END};
	int64_t n = 0;
	const struct db_col count_col[] = {DB_COL_INT64(&n), DB_END_COL};
	struct db_conn *w;
	enum store_result r = begin_on_endpoint(s, &w, rq, NULL, false);
	if (r == STORE_OK)
		r = db_one(w, count_sql, by_tenant, count_col, "store: create endpoint");
	if (r == STORE_OK && n >= WEBHOOK_ENDPOINTS_MAX)
		r = STORE_LIMIT;
	if (r == STORE_OK)
		r = db_no_duplicate(db_exec(w, sql, params, "store: create endpoint"), "store: create endpoint");
	if (r == STORE_OK)
		r = endpoint_read(w, rq->tenant, id, true, fn, ctx);
	r = store_write_finish(s, record_answer(w, rq, r));
	buf_free(&types);
	return r;
}

enum store_result store_endpoint_create(struct store *s, const struct store_request *rq, const struct endpoint_new *in,
					store_endpoint_fn fn, void *ctx)
{
	enum store_result r;
	STORE_WRITE_RETRYING(r, endpoint_create_once(s, rq, in, fn, ctx));
	return r;
}

enum store_result store_endpoint_list(struct store *s, const char *tenant, int64_t after_seq, int limit,
				      store_endpoint_fn fn, void *ctx, bool *has_more)
{
	static const char sql[] = "SELECT " ENDPOINT_COLUMNS " FROM webhook_endpoints"
				  " WHERE tenant = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3";
	assert(tenant && limit >= 1);
	struct endpoint_read e = {.fn = fn, .ctx = ctx, .limit = limit};
	const struct db_param params[] = {DB_TEXT(tenant), DB_INT(after_seq), DB_INT(limit + 1), DB_END};
	const struct db_col cols[] = {ENDPOINT_COLS(&e.row), DB_END_COL};
	struct db_conn *c = store_reader_get(s);
	enum store_result r = db_each(c, sql, params, cols, on_endpoint, &e, NULL, "store: list endpoints");
	store_reader_put(s, c);
	if (has_more)
		*has_more = r == STORE_OK && e.more;
	return r;
}

enum store_result store_endpoint_get(struct store *s, const char *tenant, const char *id, store_endpoint_fn fn,
				     void *ctx)
{
	struct db_conn *c = store_reader_get(s);
	enum store_result r = endpoint_read(c, tenant, id, false, fn, ctx);
	store_reader_put(s, c);
	return r;
}

/* What waits for an endpoint is cancelled: its deliveries, and their
 * open attempts end with why. */
static enum store_result cancel_queue(struct db_conn *w, const char *id, const char *why)
{
	static const char attempts[] =
		"UPDATE webhook_attempts SET status = 'failed', error = ?2, next_attempt_at = NULL"
		" WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = ?1"
		" AND state IN ('pending', 'sending')) AND status = 'pending'";
	static const char deliveries[] = "UPDATE webhook_deliveries SET state = 'cancelled'"
					 " WHERE endpoint_id = ?1 AND state IN ('pending', 'sending')";
	const struct db_param params[] = {DB_TEXT(id), DB_TEXT(why), DB_END};
	const struct db_param by_id[] = {DB_TEXT(id), DB_END};
	enum store_result r = db_exec(w, attempts, params, "store: cancel deliveries");
	return r == STORE_OK ? db_exec(w, deliveries, by_id, "store: cancel deliveries") : r;
}

static enum store_result endpoint_update_once(struct store *s, const struct store_request *rq, const char *id,
					      const struct endpoint_patch *p, store_endpoint_fn fn, void *ctx)
{
	/* NULL keeps a column; turning the endpoint on clears why it was off
	 * and its failure streak. */
	static const char sql[] =
		"UPDATE webhook_endpoints SET url = COALESCE(?3, url), event_types = COALESCE(?4, event_types),"
		" description = COALESCE(?5, description), enabled = COALESCE(?6, enabled),"
		" disabled_reason = CASE WHEN ?6 = 1 THEN NULL ELSE disabled_reason END,"
		" failing_since = CASE WHEN ?6 = 1 THEN NULL ELSE failing_since END, updated_at = ?7"
		" WHERE id = ?1 AND tenant = ?2";
	assert(rq && rq->tenant && id && p);
	struct buf types = {0};
	const char *stored = p->event_types ? stored_types(p->event_types, p->ntypes, &types) : NULL;
	if (p->event_types && !stored) {
		buf_free(&types);
		return db_fail_msg("store: update endpoint", "out of memory");
	}
	const struct db_param params[] = {
		DB_TEXT(id),          DB_TEXT(rq->tenant), DB_TEXT(p->url), DB_TEXT(stored), DB_TEXT(p->description),
		p->has_enabled ? DB_BOOL(p->enabled) : DB_TEXT(NULL), DB_TEXT(rq->now), DB_END,
	};
	struct db_conn *w;
	enum store_result r = begin_on_endpoint(s, &w, rq, id, false);
	if (r == STORE_OK)
		r = db_exec(w, sql, params, "store: update endpoint");
	if (r == STORE_OK && p->has_enabled && !p->enabled)
		r = cancel_queue(w, id, "endpoint disabled");
	if (r == STORE_OK)
		r = endpoint_read(w, rq->tenant, id, false, fn, ctx);
	r = store_write_finish(s, r);
	buf_free(&types);
	return r;
}

enum store_result store_endpoint_update(struct store *s, const struct store_request *rq, const char *id,
					const struct endpoint_patch *p, store_endpoint_fn fn, void *ctx)
{
	enum store_result r;
	STORE_WRITE_RETRYING(r, endpoint_update_once(s, rq, id, p, fn, ctx));
	return r;
}

static enum store_result endpoint_delete_once(struct store *s, const char *tenant, const char *id)
{
	/* Its deliveries and attempts go with it (ON DELETE CASCADE). */
	static const char sql[] = "DELETE FROM webhook_endpoints WHERE id = ?1 AND tenant = ?2";
	const struct db_param params[] = {DB_TEXT(id), DB_TEXT(tenant), DB_END};
	struct db_conn *w;
	enum store_result r = store_write_begin(s, &w);
	if (r == STORE_OK)
		r = db_exec(w, sql, params, "store: delete endpoint");
	if (r == STORE_OK && db_changes(w) == 0)
		r = STORE_NOT_FOUND;
	return store_write_finish(s, r);
}

enum store_result store_endpoint_delete(struct store *s, const char *tenant, const char *id)
{
	enum store_result r;
	STORE_WRITE_RETRYING(r, endpoint_delete_once(s, tenant, id));
	return r;
}

static enum store_result endpoint_rotate_once(struct store *s, const struct store_request *rq, const char *id,
					      const char *new_secret, int64_t previous_until_ms, store_endpoint_fn fn,
					      void *ctx)
{
	static const char sql[] = "UPDATE webhook_endpoints SET previous_secret = secret, previous_until = ?3,"
				  " secret = ?4, updated_at = ?5 WHERE id = ?1 AND tenant = ?2";
	assert(rq && rq->tenant && id && new_secret);
	const struct db_param params[] = {
		DB_TEXT(id),	    DB_TEXT(rq->tenant), DB_INT(previous_until_ms),
		DB_TEXT(new_secret), DB_TEXT(rq->now),	  DB_END,
	};
	struct db_conn *w;
	enum store_result r = begin_on_endpoint(s, &w, rq, id, false);
	if (r == STORE_OK)
		r = db_exec(w, sql, params, "store: rotate secret");
	if (r == STORE_OK)
		r = endpoint_read(w, rq->tenant, id, true, fn, ctx);
	return store_write_finish(s, record_answer(w, rq, r));
}

enum store_result store_endpoint_rotate(struct store *s, const struct store_request *rq, const char *id,
					const char *new_secret, int64_t previous_until_ms, store_endpoint_fn fn,
					void *ctx)
{
	enum store_result r;
	STORE_WRITE_RETRYING(r, endpoint_rotate_once(s, rq, id, new_secret, previous_until_ms, fn, ctx));
	return r;
}

static enum store_result endpoint_test_once(struct store *s, const struct store_request *rq, const char *id,
					    char event_id[STORE_ID_MAX])
{
	assert(rq && rq->tenant && id && event_id);
	struct buf data = {0}, actor = {0};
	jw_kstr(&data, true, "endpoint_id", id);
	jw_kstr(&data, false, "message", "a test event from inkasso");
	const struct event_new e = {
		.type = EVENT_WEBHOOK_TEST, .tenant = rq->tenant, .at = rq->now, .subject = id, .endpoint_id = id,
		.actor = store_actor_json(&rq->actor, &actor), .data = buf_cstr(&data),
	};
	struct db_conn *w;
	event_id[0] = '\0';
	enum store_result r = begin_on_endpoint(s, &w, rq, id, false);
	if (r == STORE_OK)
		r = data.oom ? db_fail_msg("store: test event", "out of memory") : rows_event_emit(w, &e, event_id);
	r = store_write_finish(s, record_answer(w, rq, r));
	if (r != STORE_OK)
		event_id[0] = '\0';
	buf_free(&data);
	buf_free(&actor);
	return r;
}

enum store_result store_endpoint_test(struct store *s, const struct store_request *rq, const char *id,
				      char event_id[STORE_ID_MAX])
{
	enum store_result r;
	STORE_WRITE_RETRYING(r, endpoint_test_once(s, rq, id, event_id));
	return r;
}

static enum store_result endpoint_recover_once(struct store *s, const struct store_request *rq, const char *id,
					       const char *since, int64_t *queued)
{
	static const char last[] = "SELECT COALESCE(MAX(id), 0) FROM webhook_deliveries";
	/* The tenant's feed since then, of the types the endpoint takes, but
	 * what already waits for it. */
	static const char queue[] =
		"INSERT INTO webhook_deliveries (endpoint_id, event_pos, subject, sequence, state, attempts,"
		" next_attempt_at, created_at) SELECT ?1, e.pos, e.subject, e.sequence, 'pending', 0, ?4, ?4"
		" FROM events e JOIN webhook_endpoints p ON p.id = ?1"
		" WHERE e.tenant = ?2 AND e.endpoint_id IS NULL AND e.created_at >= ?3"
		" AND (instr(p.event_types, ',*,') > 0 OR instr(p.event_types, ',' || e.type || ',') > 0)"
		" AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = ?1"
		"   AND d.event_pos = e.pos AND d.state IN ('pending', 'sending'))"
		" ORDER BY e.pos";
	static const char attempts[] =
		"INSERT INTO webhook_attempts (endpoint_id, delivery_id, event_id, attempt, at, status,"
		" next_attempt_at)"
		" SELECT d.endpoint_id, d.id, e.id, 1, ?3, 'pending', ?3 FROM webhook_deliveries d"
		" JOIN events e ON e.pos = d.event_pos WHERE d.endpoint_id = ?1 AND d.id > ?2";
	assert(rq && rq->tenant && id && since && queued);
	int64_t before = 0, now = dates_now_ms();
	*queued = 0;
	const struct db_col last_col[] = {DB_COL_INT64(&before), DB_END_COL};
	const struct db_param params[] = {DB_TEXT(id), DB_TEXT(rq->tenant), DB_TEXT(since), DB_INT(now), DB_END};
	struct db_conn *w;
	enum store_result r = begin_on_endpoint(s, &w, rq, id, true);
	if (r == STORE_OK)
		r = db_one(w, last, NULL, last_col, "store: recover");
	if (r == STORE_OK)
		r = db_exec(w, queue, params, "store: recover");
	if (r == STORE_OK) {
		*queued = db_changes(w);
		const struct db_param log[] = {DB_TEXT(id), DB_INT(before), DB_TEXT(rq->now), DB_END};
		r = db_exec(w, attempts, log, "store: recover");
	}
	r = store_write_finish(s, record_answer(w, rq, r));
	if (r != STORE_OK)
		*queued = 0;
	return r;
}

enum store_result store_endpoint_recover(struct store *s, const struct store_request *rq, const char *id,
					 const char *since, int64_t *queued)
{
	enum store_result r;
	STORE_WRITE_RETRYING(r, endpoint_recover_once(s, rq, id, since, queued));
	return r;
}

/* ---- the attempt log ---- */

struct attempt_read {
	struct attempt_row row;
	store_attempt_fn fn;
	void *ctx;
	int n, limit;
	bool more;
};

static int on_attempt(void *arg)
{
	struct attempt_read *a = arg;
	if (a->n == a->limit) {
		a->more = true;
		return 1;
	}
	a->n++;
	return a->fn(a->ctx, &a->row);
}

enum store_result store_endpoint_attempts(struct store *s, const char *tenant, const char *id, const char *status,
					  int64_t before_id, int limit, store_attempt_fn fn, void *ctx, bool *has_more)
{
	static const char sql[] =
		"SELECT id, event_id, attempt, at, status, status_code, COALESCE(duration_ms, -1), error,"
		" next_attempt_at"
		" FROM webhook_attempts WHERE endpoint_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR status = ?2)"
		" AND (?3 = 0 OR id < ?3) ORDER BY id DESC LIMIT ?4";
	assert(tenant && id && limit >= 1 && fn);
	struct attempt_read a = {.fn = fn, .ctx = ctx, .limit = limit};
	const struct db_param params[] = {DB_TEXT(id), DB_TEXT(status), DB_INT(before_id), DB_INT(limit + 1), DB_END};
	const struct db_col cols[] = {
		DB_COL_INT64(&a.row.id),       DB_COL_TEXT(&a.row.event_id), DB_COL_INT(&a.row.attempt, 0),
		DB_COL_TEXT(&a.row.at),        DB_COL_TEXT(&a.row.status),   DB_COL_INT(&a.row.status_code, 0),
		DB_COL_INT64(&a.row.duration_ms), DB_COL_TEXT(&a.row.error), DB_COL_TEXT(&a.row.next_attempt_at),
		DB_END_COL,
	};
	struct db_conn *c;
	enum store_result r = store_snapshot_begin(s, &c);
	if (r == STORE_OK)
		r = endpoint_read(c, tenant, id, false, NULL, NULL);
	if (r == STORE_OK)
		r = db_each(c, sql, params, cols, on_attempt, &a, NULL, "store: attempts");
	if (has_more)
		*has_more = r == STORE_OK && a.more;
	return store_snapshot_end(s, c, r);
}
