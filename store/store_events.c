/* SPDX-License-Identifier: MIT */
/* The change feed: the tenant's events in commit order, one event, and the
 * pruning of what is past its retention. The events themselves are written
 * by rows_events.c inside each change's transaction. */
#include <assert.h>
#include <string.h>

#include "store/rows.h"
#include "store/store_internal.h"

/* One read of events: the row and where it goes. */
struct event_read {
	struct event_row row;
	store_event_row_fn fn;
	void *ctx;
	int n, limit;
	bool more;
};

static int on_event(void *arg)
{
	struct event_read *e = arg;
	if (e->n == e->limit) {
		e->more = true; /* the one row read past the page */
		return 1;
	}
	e->n++;
	return e->fn(e->ctx, &e->row);
}

#define EVENT_COLS(r)                                                                                  \
	DB_COL_INT64(&(r)->pos), DB_COL_TEXT(&(r)->id), DB_COL_TEXT(&(r)->type), DB_COL_TEXT(&(r)->case_id), \
		DB_COL_TEXT(&(r)->created_at), DB_COL_TEXT(&(r)->body)

/* ",a,b," of the types in mask, for instr(); NULL for every type. */
static const char *types_of(unsigned mask, char *out, size_t cap)
{
	if (!mask)
		return NULL;
	size_t used = 0;
	out[used++] = ',';
	for (int t = 0; t < EVENT__COUNT; t++) {
		if (!(mask & (1u << t)))
			continue;
		const char *name = event_type_name((enum event_type)t);
		size_t n = strlen(name);
		if (used + n + 2 > cap)
			break; /* cannot happen: cap holds every name */
		memcpy(out + used, name, n);
		used += n;
		out[used++] = ',';
	}
	out[used] = '\0';
	return out;
}

enum store_result store_event_list(struct store *s, const struct event_filter *f, store_event_row_fn fn, void *ctx,
				   bool *has_more)
{
	/* Two statements so that each walks its own index in pos order: the
	 * tenant's feed (events_tenant), or one case's events (events_case). */
	static const char by_tenant[] =
		"SELECT pos, id, type, case_id, created_at, body FROM events"
		" WHERE tenant = ?1 AND endpoint_id IS NULL AND pos > ?2"
		" AND (CAST(?3 AS TEXT) IS NULL OR instr(?3, ',' || type || ',') > 0) ORDER BY pos LIMIT ?4";
	static const char by_case[] =
		"SELECT pos, id, type, case_id, created_at, body FROM events"
		" WHERE case_id = ?5 AND pos > ?2 AND tenant = ?1 AND endpoint_id IS NULL"
		" AND (CAST(?3 AS TEXT) IS NULL OR instr(?3, ',' || type || ',') > 0) ORDER BY pos LIMIT ?4";
	assert(f && f->tenant && f->limit >= 1 && fn);
	char types[256];
	struct event_read e = {.fn = fn, .ctx = ctx, .limit = f->limit};
	/* by_tenant takes the first four; by_case all five. */
	const struct db_param params[] = {
		DB_TEXT(f->tenant), DB_INT(f->after_pos), DB_TEXT(types_of(f->type_mask, types, sizeof types)),
		DB_INT(f->limit + 1), f->case_id ? DB_TEXT(f->case_id) : DB_END, DB_END,
	};
	const struct db_col cols[] = {EVENT_COLS(&e.row), DB_END_COL};
	struct db_conn *c = store_reader_get(s);
	enum store_result r =
		db_each(c, f->case_id ? by_case : by_tenant, params, cols, on_event, &e, NULL, "store: list events");
	store_reader_put(s, c);
	if (has_more)
		*has_more = r == STORE_OK && e.more;
	return r;
}

enum store_result store_event_get(struct store *s, const char *tenant, const char *id, store_event_row_fn fn,
				  void *ctx)
{
	static const char sql[] = "SELECT pos, id, type, case_id, created_at, body FROM events"
				  " WHERE id = ?1 AND tenant = ?2 AND endpoint_id IS NULL";
	struct event_read e = {.fn = fn, .ctx = ctx, .limit = 1};
	const struct db_param params[] = {DB_TEXT(id), DB_TEXT(tenant), DB_END};
	const struct db_col cols[] = {EVENT_COLS(&e.row), DB_END_COL};
	struct db_conn *c = store_reader_get(s);
	enum store_result r = db_each(c, sql, params, cols, on_event, &e, NULL, "store: get event");
	store_reader_put(s, c);
	return r == STORE_OK && e.n == 0 ? STORE_NOT_FOUND : r;
}

enum store_result store_events_prune(struct store *s, const char *cutoff, const char *idem_cutoff, int limit,
				     int64_t *deleted)
{
	/* Each in batches of limit rows, so that the write lock is held
	 * briefly; the caller comes back while *deleted == limit. */
	static const char attempts[] = "DELETE FROM webhook_attempts WHERE id IN (SELECT id FROM webhook_attempts"
				       " WHERE at < ?1 AND status <> 'pending' LIMIT ?2)";
	static const char deliveries[] =
		"DELETE FROM webhook_deliveries WHERE id IN (SELECT d.id FROM events e"
		" JOIN webhook_deliveries d ON d.event_pos = e.pos WHERE e.created_at < ?1"
		" AND d.state NOT IN ('pending', 'sending') LIMIT ?2)";
	static const char events[] =
		"DELETE FROM events WHERE pos IN (SELECT pos FROM events e WHERE e.created_at < ?1"
		" AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_pos = e.pos) LIMIT ?2)";
	static const char idem[] = "DELETE FROM idempotency WHERE (tenant, key) IN (SELECT tenant, key"
				   " FROM idempotency WHERE created_at < ?1 LIMIT ?2)";
	assert(cutoff && idem_cutoff && limit > 0);
	const struct db_param old[] = {DB_TEXT(cutoff), DB_INT(limit), DB_END};
	const struct db_param old_idem[] = {DB_TEXT(idem_cutoff), DB_INT(limit), DB_END};
	struct db_conn *w;
	int64_t n = 0;
	enum store_result r = store_write_begin(s, &w);
	if (r == STORE_OK)
		r = db_exec(w, attempts, old, "store: prune attempts");
	if (r == STORE_OK)
		r = db_exec(w, deliveries, old, "store: prune deliveries");
	if (r == STORE_OK)
		r = db_exec(w, events, old, "store: prune events");
	if (r == STORE_OK) {
		n = db_changes(w);
		r = db_exec(w, idem, old_idem, "store: prune idempotency");
	}
	if (r == STORE_OK && db_changes(w) > n)
		n = db_changes(w); /* the caller comes back while either filled its batch */
	r = store_write_finish(s, r);
	if (deleted)
		*deleted = r == STORE_OK ? n : 0;
	return r;
}
