/* SPDX-License-Identifier: MIT */
/* The store on a temporary database of the run's backend (SQLite, or
 * PostgreSQL with INKASSO_TEST_STORE=pg: tests/unit/store_backend.h):
 * schema, cases, the listing and its query plans, idempotency, tenants,
 * concurrency, settings, failures. White-box: rows are set and read with
 * raw SQL (tests/unit/store_raw.h), and where a test is about one engine's
 * machinery (the SQLite file, its VFS, its commit hook) the other engine
 * checks its own counterpart. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/schema_pg.h"
#include "store/store_agency.h"
#include "store/store_internal.h"
#include "tests/unit/store_backend.h"
#include "tests/unit/store_raw.h"
#include "tests/unit/store_testkit.h"

static struct test_db db;
static struct store *s;

static void setup(void)
{
	test_db_create(&db, "inkasso-store");
	char err[256] = "";
	s = store_open(db.path, &(struct store_options){.readers = 4}, err, sizeof err);
	cr_assert_not_null(s, "store_open: %s", err);
}

static void teardown(void)
{
	store_close(s);
	s = NULL;
	test_db_remove(&db);
}

/* ---- helpers ---- */

/* The record of (tenant, key) looked up with fingerprint fp. */
static enum store_result idem_get(struct store *st, const char *tenant, const char *key, const char *fp,
				  struct case_create_result *res)
{
	const struct store_idem idem = {.key = key, .fingerprint = fp};
	return store_idempotency_get(st, tenant, &idem, &res->replay);
}

static atomic_int next_id;

/* A case with its own strings; n points into them, so never copy one. */
struct tcase {
	char id[40], invoice[40], created[32], name[64], business[64], org[16], ref[32], dob[11];
	char nid_hash[16], invoice_json[128], debtor_json[128];
	struct case_new n;
	enum store_result result; /* of create_into */
	struct case_create_result res;
};

static void tcase_init(struct tcase *t, const char *tenant, const char *invoice)
{
	memset(t, 0, sizeof *t);
	int k = atomic_fetch_add(&next_id, 1);
	snprintf(t->id, sizeof t->id, "cc_01JD8ZK5V3Q4N7M2X9R6%06d", k);
	snprintf(t->invoice, sizeof t->invoice, "%s", invoice);
	snprintf(t->created, sizeof t->created, "2026-02-%02dT10:00:00.%03dZ", 1 + k % 28, k % 1000);
	snprintf(t->name, sizeof t->name, "Kari Nordmann");
	snprintf(t->ref, sizeof t->ref, "cus_%d", k);
	snprintf(t->invoice_json, sizeof t->invoice_json, "{\"number\":\"%s\"}", invoice);
	snprintf(t->debtor_json, sizeof t->debtor_json, "{\"name\":\"%s\"}", t->name);
	struct case_new *n = &t->n;
	n->c.tenant = tenant;
	n->c.id = t->id;
	n->c.status = "pending";
	n->c.service = "collection";
	n->c.debtor_type = "consumer";
	n->c.your_reference = t->ref;
	n->c.invoice_number = t->invoice;
	n->c.invoice_json = t->invoice_json;
	n->c.debtor_json = t->debtor_json;
	n->c.currency = "NOK";
	n->c.original = 124900;
	n->c.remaining = 124900;
	n->c.costs = 3500;
	n->c.created_at = t->created;
	n->c.updated_at = t->created;
	n->debtor_name = t->name;
}

static int64_t create_ok(const char *tenant, const char *invoice)
{
	struct tcase t;
	tcase_init(&t, tenant, invoice);
	struct case_create_result res;
	cr_assert_eq(store_case_create(s, &t.n, &res), STORE_OK, "create %s", invoice);
	cr_assert_gt(res.seq, 0);
	return res.seq;
}

static void create_into(void *arg)
{
	struct tcase *t = arg;
	t->result = store_case_create(s, &t->n, &t->res);
}

/* Reads what fd 2 received into buf while fn ran. */
static void capture_stderr(void (*fn)(void *), void *arg, char *buf, size_t cap)
{
	FILE *tmp = tmpfile(); /* a PostgreSQL test has no directory of its own */
	cr_assert_not_null(tmp);
	int fd = fileno(tmp);
	int saved = dup(2);
	dup2(fd, 2);
	fn(arg);
	dup2(saved, 2);
	close(saved);
	ssize_t n = pread(fd, buf, cap - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	fclose(tmp);
}

/* What a listing delivered. */
struct page {
	int n;
	int64_t seq[256];
	char id[256][40];
	char tenant[256][16];
};

static int collect(void *ctx, const struct case_row *c)
{
	struct page *p = ctx;
	cr_assert_lt(p->n, 256);
	p->seq[p->n] = c->seq;
	snprintf(p->id[p->n], sizeof p->id[0], "%s", c->id);
	snprintf(p->tenant[p->n], sizeof p->tenant[0], "%s", c->tenant);
	p->n++;
	return 0;
}

static struct page list(const struct case_filter *f, bool *has_more)
{
	struct page p = {0};
	bool more = false;
	cr_assert_eq(store_case_list(s, f, collect, &p, &more), STORE_OK);
	if (has_more)
		*has_more = more;
	return p;
}

/* Rows matching f (limit 200). */
static int count(struct case_filter f)
{
	f.limit = 200;
	return list(&f, NULL).n;
}

/* ---- schema ---- */

TestSuite(schema, .init = setup, .fini = teardown);

/* The version the newest migration leaves, and the one the database
 * records: SQLite's PRAGMA user_version, PostgreSQL's table schema_version
 * (store/schema_pg.c), each with its own numbering. */
static int code_schema_version(void)
{
	return test_store_is_pg() ? store_schema_pg_version() : store_schema_version();
}

static int64_t recorded_schema_version(void)
{
	return test_store_is_pg() ? raw_int(&db, "SELECT max(version) FROM schema_version")
				  : raw_int(&db, "PRAGMA user_version");
}

/* How many of the named tables or indexes the database has. */
static int64_t count_tables(const char *names)
{
	if (test_store_is_pg())
		return raw_int(&db, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
				    " AND tablename IN (%s)", names);
	return raw_int(&db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (%s)", names);
}

static int64_t count_indexes(const char *names)
{
	if (test_store_is_pg())
		return raw_int(&db, "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()"
				    " AND indexname IN (%s)", names);
	return raw_int(&db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN (%s)", names);
}

Test(schema, migrates_and_reopens_stable)
{
	int v = code_schema_version();
	cr_assert_geq(v, 1);
	cr_assert_eq(recorded_schema_version(), v);
	if (test_store_is_pg())
		cr_assert_eq(raw_int(&db, "SELECT count(*) FROM schema_version"), v, "each version recorded once");
	cr_assert_eq(count_tables("'cases', 'case_events', 'outbox', 'idempotency', 'agency_settings'"), 5);
	cr_assert_eq(count_indexes("'cases_id', 'cases_live_invoice', 'cases_national_id', 'outbox_due'"), 4);
	if (!test_store_is_pg()) {
		/* WAL is a property of the file, so a fresh connection sees it
		 * too. (PostgreSQL has no journal mode of a database.) */
		char mode[16];
		cr_assert_str_eq(raw_text(&db, mode, sizeof mode, "PRAGMA journal_mode"), "wal");
	}

	int64_t seq = create_ok("t1", "INV-1");
	store_close(s);
	char err[256] = "";
	s = store_open(db.path, &(struct store_options){.readers = 2}, err, sizeof err);
	cr_assert_not_null(s, "reopen: %s", err);
	cr_assert_eq(recorded_schema_version(), v, "reopening must not migrate again");
	if (test_store_is_pg())
		cr_assert_eq(raw_int(&db, "SELECT count(*) FROM schema_version"), v, "nor record a version again");
	struct case_filter f = {.tenant = "t1", .limit = 10};
	struct page p = list(&f, NULL);
	cr_assert_eq(p.n, 1, "the case survives a reopen");
	cr_assert_eq(p.seq[0], seq);
	cr_assert_eq(create_ok("t1", "INV-2"), seq + 1);
}

Test(schema, refuses_newer_schema)
{
	store_close(s);
	s = NULL;
	int64_t recorded = 0;
	if (test_store_is_pg()) {
		raw_exec(&db, "INSERT INTO schema_version (version, applied_at)"
			      " VALUES (999, '2099-01-01T00:00:00.000Z')");
		recorded = raw_int(&db, "SELECT count(*) FROM schema_version");
	} else {
		raw_exec(&db, "PRAGMA user_version = 999");
	}
	char err[256] = "";
	struct store *t = store_open(db.path, &(struct store_options){.readers = 1}, err, sizeof err);
	cr_assert_null(t);
	cr_assert_not_null(strstr(err, "newer"), "err: %s", err);
	cr_assert_eq(recorded_schema_version(), 999, "nothing was rolled back or rewritten");
	if (test_store_is_pg())
		cr_assert_eq(raw_int(&db, "SELECT count(*) FROM schema_version"), recorded);
}

Test(schema, refuses_bad_arguments_and_non_database)
{
	char err[256] = "";
	cr_assert_null(store_open(db.path, &(struct store_options){.readers = 0}, err, sizeof err));
	cr_assert_neq(err[0], '\0');

	err[0] = '\0';
	if (test_store_is_pg()) {
		/* The server's counterpart of a file that is no database: a
		 * URI naming none. */
		char uri[600];
		snprintf(uri, sizeof uri, "%s_none", db.path);
		cr_assert_null(store_open(uri, &(struct store_options){.readers = 1}, err, sizeof err));
		cr_assert_not_null(strstr(err, "connect to PostgreSQL"), "err: %s", err);
		cr_assert_not_null(strstr(err, "does not exist"), "err: %s", err);
		return;
	}
	char junk[300];
	snprintf(junk, sizeof junk, "%s/junk.db", db.dir);
	FILE *fp = fopen(junk, "w");
	cr_assert_not_null(fp);
	for (int i = 0; i < 8192; i++)
		fputc('x', fp);
	fclose(fp);
	cr_assert_null(store_open(junk, &(struct store_options){.readers = 1}, err, sizeof err));
	cr_assert_not_null(strstr(err, "not a database"), "err: %s", err);
	unlink(junk);
}

Test(schema, refuses_database_failing_quick_check)
{
	if (test_store_is_pg())
		cr_skip_test("about the SQLite file: a page zeroed in it, found by PRAGMA quick_check at open;"
			     " a PostgreSQL database's pages are the server's, out of the store's reach");
	for (int i = 0; i < 300; i++) {
		char inv[32];
		snprintf(inv, sizeof inv, "INV-%d", i);
		create_ok("t1", inv);
	}
	store_close(s); /* the last close checkpoints the WAL into the file */
	s = NULL;
	int64_t pages = raw_int(&db, "PRAGMA page_count");
	int64_t size = raw_int(&db, "PRAGMA page_size");
	cr_assert_gt(pages, 10);
	/* Zero a page in the middle: some b-tree page, never page 1 (the schema),
	 * so opening and migrating still work and only quick_check can tell. */
	int fd = open(db.path, O_WRONLY);
	cr_assert_geq(fd, 0);
	char *zero = calloc(1, (size_t)size);
	cr_assert_eq(pwrite(fd, zero, (size_t)size, (off_t)(pages / 2) * size), size);
	free(zero);
	close(fd);
	char err[256] = "";
	cr_assert_null(store_open(db.path, &(struct store_options){.readers = 1}, err, sizeof err));
	cr_assert_not_null(strstr(err, "quick_check"), "err: %s", err);
}

Test(schema, status_names_roundtrip)
{
	for (int i = 0; i < CASE__COUNT; i++) {
		const char *name = case_status_name((enum case_status)i);
		cr_assert_not_null(name);
		cr_assert_eq(case_status_parse(name), i);
	}
	cr_assert_str_eq(case_status_name(CASE_WITHDRAWN), "withdrawn");
	cr_assert_null(case_status_name(CASE__COUNT));
	cr_assert_eq(case_status_parse("Pending"), -1);
	cr_assert_eq(case_status_parse(""), -1);
	cr_assert_eq(case_status_parse(NULL), -1);
}

/* ---- create and get ---- */

struct got_event {
	int64_t seq;
	char at[32], from[16], to[16], source[16];
	bool from_null, detail_null;
};

struct got {
	int cases, events;
	struct case_row c;  /* pointers into the buffers below */
	char buf[24][128];
	bool null[24];
	struct got_event ev[8];
	int stop_after_case;
};

static const char *keep(struct got *g, int i, const char *v)
{
	g->null[i] = v == NULL;
	snprintf(g->buf[i], sizeof g->buf[i], "%s", v ? v : "");
	return v ? g->buf[i] : NULL;
}

static int got_case(void *ctx, const struct case_row *c)
{
	struct got *g = ctx;
	g->cases++;
	g->c = *c;
	g->c.id = keep(g, 0, c->id);
	g->c.tenant = keep(g, 1, c->tenant);
	g->c.status = keep(g, 2, c->status);
	g->c.stage = keep(g, 3, c->stage);
	g->c.service = keep(g, 4, c->service);
	g->c.debtor_type = keep(g, 5, c->debtor_type);
	g->c.your_reference = keep(g, 6, c->your_reference);
	g->c.agency_case_id = keep(g, 7, c->agency_case_id);
	g->c.invoice_number = keep(g, 8, c->invoice_number);
	g->c.invoice_json = keep(g, 9, c->invoice_json);
	g->c.debtor_json = keep(g, 10, c->debtor_json);
	g->c.currency = keep(g, 11, c->currency);
	g->c.created_at = keep(g, 12, c->created_at);
	g->c.updated_at = keep(g, 13, c->updated_at);
	g->c.submitted_at = keep(g, 14, c->submitted_at);
	g->c.closed_at = keep(g, 15, c->closed_at);
	g->c.agency_status = keep(g, 16, c->agency_status);
	return g->stop_after_case;
}

static int got_event(void *ctx, const struct case_event_row *e)
{
	struct got *g = ctx;
	cr_assert_lt(g->events, 8);
	struct got_event *d = &g->ev[g->events++];
	d->seq = e->seq;
	snprintf(d->at, sizeof d->at, "%s", e->at);
	d->from_null = e->from == NULL;
	snprintf(d->from, sizeof d->from, "%s", e->from ? e->from : "");
	snprintf(d->to, sizeof d->to, "%s", e->to);
	snprintf(d->source, sizeof d->source, "%s", e->source);
	d->detail_null = e->detail == NULL;
	return 0;
}

TestSuite(cases, .init = setup, .fini = teardown);

Test(cases, create_then_get_with_first_event_and_outbox)
{
	struct tcase t;
	tcase_init(&t, "t1", "202600145");
	t.n.national_id = "01018512345";
	t.n.national_id_hash = "abc123";
	struct case_create_result res;
	cr_assert_eq(store_case_create(s, &t.n, &res), STORE_OK);
	cr_assert_eq(res.seq, 1);
	cr_assert_null(res.replay.body);

	struct got g = {0};
	cr_assert_eq(store_case_get(s, "t1", t.id, got_case, got_event, &g), STORE_OK);
	cr_assert_eq(g.cases, 1);
	cr_assert_str_eq(g.c.id, t.id);
	cr_assert_str_eq(g.c.tenant, "t1");
	cr_assert_eq(g.c.seq, 1);
	cr_assert_str_eq(g.c.status, "pending");
	cr_assert_null(g.c.stage);
	cr_assert_null(g.c.agency_status);
	cr_assert_null(g.c.agency_case_id);
	cr_assert_str_eq(g.c.service, "collection");
	cr_assert_str_eq(g.c.debtor_type, "consumer");
	cr_assert_str_eq(g.c.your_reference, t.ref);
	cr_assert_str_eq(g.c.invoice_number, "202600145");
	cr_assert_str_eq(g.c.invoice_json, "{\"number\":\"202600145\"}");
	cr_assert_str_eq(g.c.debtor_json, t.debtor_json);
	cr_assert_str_eq(g.c.currency, "NOK");
	cr_assert_eq(g.c.original, 124900);
	cr_assert_eq(g.c.paid, 0);
	cr_assert_eq(g.c.remaining, 124900);
	cr_assert_eq(g.c.costs, 3500);
	cr_assert_str_eq(g.c.created_at, t.created);
	cr_assert_str_eq(g.c.updated_at, t.created);
	cr_assert_null(g.c.submitted_at);
	cr_assert_null(g.c.closed_at);

	cr_assert_eq(g.events, 1);
	cr_assert_eq(g.ev[0].seq, 1);
	cr_assert(g.ev[0].from_null, "the first event comes from null");
	cr_assert_str_eq(g.ev[0].to, "pending");
	cr_assert_str_eq(g.ev[0].source, "api");
	cr_assert_str_eq(g.ev[0].at, t.created);
	cr_assert(g.ev[0].detail_null);

	/* The transactional outbox: the row was committed with the case. */
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox WHERE kind = 'create' AND state = 'pending'"
				  " AND attempts = 0 AND next_attempt_at = 0 AND ref_id IS NULL"
				  " AND tenant = 't1' AND case_id LIKE 'cc_%%'"),
		     1);
	cr_assert_eq(store_outbox_depth(s), 1);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM idempotency"), 0, "no key, no record");
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM cases WHERE national_id = '01018512345'"
				  " AND national_id_hash = 'abc123'"),
		     1);

	/* Seqs count per tenant. */
	cr_assert_eq(create_ok("t1", "202600146"), 2);
	cr_assert_eq(create_ok("t2", "202600145"), 1, "another tenant starts at 1, same invoice is fine");
}

Test(cases, status_defaults_to_pending_and_get_unknown_is_not_found)
{
	struct tcase t;
	tcase_init(&t, "t1", "INV-1");
	t.n.c.status = NULL;
	t.n.c.updated_at = NULL;
	struct case_create_result res;
	cr_assert_eq(store_case_create(s, &t.n, &res), STORE_OK);
	struct got g = {0};
	cr_assert_eq(store_case_get(s, "t1", t.id, got_case, NULL, &g), STORE_OK);
	cr_assert_str_eq(g.c.status, "pending");
	cr_assert_str_eq(g.c.updated_at, t.created, "updated_at defaults to created_at");
	g = (struct got){0};
	cr_assert_eq(store_case_get(s, "t1", "cc_01JD8ZK5V3Q4N7M2X9R6T1W0YB", got_case, got_event, &g),
		     STORE_NOT_FOUND);
	cr_assert_eq(g.cases + g.events, 0, "no callback for a missing case");
}

Test(cases, get_stops_when_the_callback_says_so)
{
	struct tcase t;
	tcase_init(&t, "t1", "INV-1");
	struct case_create_result res;
	cr_assert_eq(store_case_create(s, &t.n, &res), STORE_OK);
	struct got g = {.stop_after_case = 1};
	cr_assert_eq(store_case_get(s, "t1", t.id, got_case, got_event, &g), STORE_OK);
	cr_assert_eq(g.cases, 1);
	cr_assert_eq(g.events, 0, "events are not read after a stop");
	/* The reader went back to the pool with no transaction left open. */
	for (int i = 0; i < 10; i++)
		cr_assert_eq(store_case_get(s, "t1", t.id, got_case, NULL, &g), STORE_OK);
}

Test(cases, duplicate_only_while_live)
{
	struct tcase a, b;
	tcase_init(&a, "t1", "INV-7");
	tcase_init(&b, "t1", "INV-7");
	struct case_create_result res;
	cr_assert_eq(store_case_create(s, &a.n, &res), STORE_OK);
	cr_assert_eq(store_case_create(s, &b.n, &res), STORE_DUPLICATE);
	cr_assert_str_eq(res.case_id, a.id, "the answer points to the live case");
	cr_assert_eq(res.seq, 0);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM cases"), 1, "nothing of the duplicate was written");
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox"), 1);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM case_events"), 1);

	/* failed is still live: it is retried, not re-sent. */
	raw_exec(&db, "UPDATE cases SET status = 'failed'");
	cr_assert_eq(store_case_create(s, &b.n, &res), STORE_DUPLICATE);

	raw_exec(&db, "UPDATE cases SET status = 'withdrawn'");
	cr_assert_eq(store_case_create(s, &b.n, &res), STORE_OK, "a withdrawn case is not live");
	cr_assert_eq(res.seq, 2);

	struct tcase c;
	tcase_init(&c, "t1", "INV-7");
	cr_assert_eq(store_case_create(s, &c.n, &res), STORE_DUPLICATE);
	cr_assert_str_eq(res.case_id, b.id);
	raw_exec(&db, "UPDATE cases SET status = 'rejected' WHERE status <> 'withdrawn'");
	cr_assert_eq(store_case_create(s, &c.n, &res), STORE_OK, "a rejected case is not live");
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM cases WHERE invoice_number = 'INV-7'"), 3);

	/* The partial unique index stands behind the check. */
	raw_exec_unique_violation(&db, "UPDATE cases SET status = 'open'");
}

Test(cases, id_clash_is_a_hard_error_not_a_duplicate)
{
	struct tcase a, b;
	tcase_init(&a, "t1", "INV-1");
	tcase_init(&b, "t2", "INV-2");
	snprintf(b.id, sizeof b.id, "%s", a.id);
	struct case_create_result res;
	cr_assert_eq(store_case_create(s, &a.n, &res), STORE_OK);
	char log[2048];
	capture_stderr(create_into, &b, log, sizeof log);
	cr_assert_eq(b.result, STORE_HARD_ERROR);
	cr_assert_str_eq(b.res.case_id, "", "no live case to point to");
	if (test_store_is_pg()) {
		/* The fault logged as such, naming the index that refused the
		 * id (PostgreSQL's message quotes it: unique constraint
		 * "cases_id"). */
		cr_assert_not_null(strstr(log, "\"level\":\"error\",\"msg\":\"store: insert case\""), "log: %s", log);
		cr_assert_not_null(strstr(log, "cases_id"), "log: %s", log);
	} else {
		cr_assert_not_null(strstr(log, "\"level\":\"error\",\"msg\":\"store: insert case\","
					      "\"detail\":\"UNIQUE constraint failed: cases.id\""),
				   "log: %s", log);
	}
	cr_assert_null(strstr(log, a.id), "the id is a bound value, never logged: %s", log);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM cases"), 1, "nothing of the second was written");
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox"), 1);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM case_events"), 1);
	cr_assert_eq(create_ok("t1", "INV-2"), 2, "the store goes on after a failed create");
}

Test(cases, idempotency_replay_and_reuse)
{
	static const char body[] = "{\"id\":\"x\"}\0tail"; /* replayed byte for byte, NUL included */
	struct tcase t;
	tcase_init(&t, "t1", "INV-1");
	t.n.idem.key = "key-1";
	t.n.idem.fingerprint = "fp-a";
	t.n.idem.status = 201;
	t.n.idem.body = body;
	t.n.idem.body_len = sizeof body - 1;
	struct case_create_result res;
	cr_assert_eq(store_case_create(s, &t.n, &res), STORE_OK);

	/* Same key, same body: the stored answer, even for another invoice. */
	struct tcase again;
	tcase_init(&again, "t1", "INV-2");
	again.n.idem.key = "key-1";
	again.n.idem.fingerprint = "fp-a";
	cr_assert_eq(store_case_create(s, &again.n, &res), STORE_REPLAY);
	cr_assert_eq(res.replay.status, 201);
	cr_assert_eq(res.replay.body_len, sizeof body - 1);
	cr_assert_eq(memcmp(res.replay.body, body, res.replay.body_len), 0);
	free(res.replay.body);

	again.n.idem.fingerprint = "fp-b";
	cr_assert_eq(store_case_create(s, &again.n, &res), STORE_KEY_REUSED);
	cr_assert_null(res.replay.body);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM cases"), 1, "neither wrote a case");

	cr_assert_eq(idem_get(s, "t1", "key-1", "fp-a", &res), STORE_REPLAY);
	cr_assert_eq(res.replay.status, 201);
	cr_assert_eq(res.replay.body_len, sizeof body - 1);
	cr_assert_eq(memcmp(res.replay.body, body, res.replay.body_len), 0);
	free(res.replay.body);
	res.replay.body = NULL;
	cr_assert_eq(idem_get(s, "t1", "key-1", "fp-b", &res), STORE_KEY_REUSED);
	cr_assert_eq(idem_get(s, "t1", "key-2", "fp-a", &res), STORE_NOT_FOUND);
	cr_assert_eq(idem_get(s, "t2", "key-1", "fp-a", &res), STORE_NOT_FOUND,
		     "keys are scoped to the tenant");

	/* A key is checked before the duplicate: a duplicate with a new key is a duplicate. */
	struct tcase dup;
	tcase_init(&dup, "t1", "INV-1");
	dup.n.idem.key = "key-3";
	dup.n.idem.fingerprint = "fp-c";
	cr_assert_eq(store_case_create(s, &dup.n, &res), STORE_DUPLICATE);
	cr_assert_eq(idem_get(s, "t1", "key-3", "fp-c", &res), STORE_NOT_FOUND,
		     "a rolled back create leaves no record");

	/* An empty body is stored as an empty blob, not NULL. */
	struct tcase empty;
	tcase_init(&empty, "t1", "INV-3");
	empty.n.idem.key = "key-4";
	empty.n.idem.fingerprint = "fp-d";
	empty.n.idem.status = 201;
	cr_assert_eq(store_case_create(s, &empty.n, &res), STORE_OK);
	cr_assert_eq(idem_get(s, "t1", "key-4", "fp-d", &res), STORE_REPLAY);
	cr_assert_eq(res.replay.body_len, 0);
	cr_assert_str_eq(res.replay.body, "");
	free(res.replay.body);
}

/* ---- list ---- */

TestSuite(list, .init = setup, .fini = teardown);

Test(list, newest_first_cursor_pages_are_stable)
{
	for (int i = 1; i <= 120; i++) {
		char inv[32];
		snprintf(inv, sizeof inv, "INV-%03d", i);
		cr_assert_eq(create_ok("t1", inv), i);
	}
	bool seen[130] = {false};
	int total = 0, pages = 0;
	int64_t cursor = 0;
	bool more = true;
	while (more) {
		struct case_filter f = {.tenant = "t1", .limit = 50, .before_seq = cursor};
		struct page p = list(&f, &more);
		pages++;
		cr_assert_gt(p.n, 0);
		for (int i = 0; i < p.n; i++) {
			cr_assert(p.seq[i] >= 1 && p.seq[i] <= 120, "seq %lld", (long long)p.seq[i]);
			cr_assert(!seen[p.seq[i]], "seq %lld twice", (long long)p.seq[i]);
			seen[p.seq[i]] = true;
			if (i > 0)
				cr_assert_lt(p.seq[i], p.seq[i - 1], "newest first");
		}
		total += p.n;
		cursor = p.seq[p.n - 1];
		if (pages == 1) {
			cr_assert_eq(p.seq[0], 120);
			cr_assert_eq(p.seq[49], 71);
			cr_assert(more);
			/* New cases arrive between pages: they must not shift the next page. */
			for (int i = 0; i < 5; i++) {
				char inv[32];
				snprintf(inv, sizeof inv, "NEW-%d", i);
				create_ok("t1", inv);
			}
		} else if (pages == 2) {
			cr_assert_eq(p.seq[0], 70, "page 2 goes on right below page 1");
			cr_assert_eq(p.seq[49], 21);
			cr_assert(more);
		}
	}
	cr_assert_eq(pages, 3);
	cr_assert_eq(total, 120, "no gaps, no duplicates");
	struct case_filter f = {.tenant = "t1", .limit = 50};
	struct page first = list(&f, &more);
	cr_assert_eq(first.seq[0], 125, "a new walk starts at the newest");

	/* Exactly limit rows left: has_more is false. */
	struct case_filter tail = {.tenant = "t1", .limit = 20, .before_seq = 21};
	struct page p = list(&tail, &more);
	cr_assert_eq(p.n, 20);
	cr_assert(!more);
}

Test(list, filters)
{
	struct tcase t[6];
	tcase_init(&t[0], "t1", "A-100");
	snprintf(t[0].created, sizeof t[0].created, "2026-02-01T00:00:00.000Z");
	tcase_init(&t[1], "t1", "A-101");
	snprintf(t[1].created, sizeof t[1].created, "2026-02-02T23:59:59.999Z");
	t[1].n.c.debtor_type = "business";
	t[1].n.business_name = "Nordmann Bygg AS";
	t[1].n.org_number = "923609016";
	t[1].n.debtor_name = NULL;
	tcase_init(&t[2], "t1", "B-200");
	snprintf(t[2].created, sizeof t[2].created, "2026-02-03T12:00:00.000Z");
	snprintf(t[2].dob, sizeof t[2].dob, "1985-04-12");
	t[2].n.date_of_birth = t[2].dob;
	t[2].n.national_id_hash = "hash-kari";
	snprintf(t[2].name, sizeof t[2].name, "Ola Hansen");
	tcase_init(&t[3], "t1", "B-201");
	snprintf(t[3].created, sizeof t[3].created, "2026-02-04T08:00:00.000Z");
	t[3].n.c.agency_case_id = "481920";
	tcase_init(&t[4], "t1", "C-300");
	snprintf(t[4].created, sizeof t[4].created, "2026-02-05T08:00:00.000Z");
	tcase_init(&t[5], "t2", "A-100"); /* another tenant: never listed for t1 */
	t[5].n.national_id_hash = "hash-kari";
	for (int i = 0; i < 6; i++) {
		struct case_create_result res;
		cr_assert_eq(store_case_create(s, &t[i].n, &res), STORE_OK);
	}
	raw_exec(&db, "UPDATE cases SET status = 'open' WHERE invoice_number = 'B-201';"
		      "UPDATE cases SET status = 'paid' WHERE invoice_number = 'C-300'");

	cr_assert_eq(count((struct case_filter){.tenant = "t1"}), 5);
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .status_mask = CASE_MASK_OPEN}), 4);
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .status_mask = CASE_MASK_CLOSED}), 1);
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .status_mask = 1u << CASE_OPEN}), 1);
	cr_assert_eq(count((struct case_filter){.tenant = "t1",
						.status_mask = (1u << CASE_OPEN) | (1u << CASE_PAID)}),
		     2);
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .status_mask = 1u << CASE_REJECTED}), 0);
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .status_mask = 1u << 20}), 0,
		     "only unknown bits match nothing");
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .status_mask = ~0u}), 5);

	cr_assert_eq(count((struct case_filter){.tenant = "t1", .invoice_number = "A-100"}), 1);
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .invoice_number = "A-10"}), 0, "exact");
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .debtor_type = "business"}), 1);
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .debtor_type = "consumer"}), 4);
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .date_of_birth = "1985-04-12"}), 1);
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .national_id_hash = "hash-kari"}), 1);
	cr_assert_eq(count((struct case_filter){.tenant = "t2", .national_id_hash = "hash-kari"}), 1);

	/* Dates are inclusive UTC days, whatever the time of day. */
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .created_from = "2026-02-02"}), 4);
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .created_to = "2026-02-02"}), 2);
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .created_from = "2026-02-02",
						.created_to = "2026-02-03"}),
		     2);
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .created_from = "2026-02-06"}), 0);

	/* q: substring, ASCII case-insensitive, over six columns. */
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .q = "nordmann"}), 4,
		     "debtor name (3) and business name (1)");
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .q = "BYGG"}), 1);
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .q = "b-2"}), 2, "invoice number");
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .q = t[4].ref}), 1, "your_reference");
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .q = "8192"}), 1, "agency case id");
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .q = "36090"}), 1, "org number");
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .q = "hash-kari"}), 0,
		     "the national id hash is not searchable by q");
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .q = ""}), 5, "empty q: no filter");

	/* Filters combine with AND, and with the cursor. */
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .q = "nordmann",
						.status_mask = CASE_MASK_OPEN, .debtor_type = "consumer"}),
		     2);
	struct case_filter f = {.tenant = "t1", .q = "nordmann", .limit = 2};
	bool more = false;
	struct page p = list(&f, &more);
	cr_assert_eq(p.n, 2);
	cr_assert(more);
	f.before_seq = p.seq[1];
	p = list(&f, &more);
	cr_assert_eq(p.n, 2);
	cr_assert(!more);
	cr_assert_eq(p.seq[1], 1);
}

Test(list, q_wildcards_are_literal)
{
	static const char *const invoices[] = {"PLAIN-1", "100%", "A_B", "AXB", "back\\slash"};
	for (size_t i = 0; i < sizeof invoices / sizeof invoices[0]; i++) {
		struct tcase t;
		tcase_init(&t, "t1", invoices[i]);
		t.n.c.your_reference = NULL; /* "cus_N" would match "_" */
		struct case_create_result res;
		cr_assert_eq(store_case_create(s, &t.n, &res), STORE_OK);
	}
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .q = "%"}), 1,
		     "%% is a character, not a wildcard");
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .q = "_"}), 1,
		     "_ matches only an underscore");
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .q = "A_B"}), 1, "not AXB");
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .q = "\\"}), 1);
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .q = "k\\s"}), 1);
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .q = "\\%"}), 0);
	cr_assert_eq(count((struct case_filter){.tenant = "t1", .q = "'); DROP TABLE cases; --"}), 0);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM cases"), 5);
}

Test(list, tenants_are_isolated)
{
	struct tcase a;
	tcase_init(&a, "acme", "INV-1");
	struct case_create_result res;
	cr_assert_eq(store_case_create(s, &a.n, &res), STORE_OK);
	create_ok("acme", "INV-2");
	create_ok("other", "INV-1");

	struct got g = {0};
	cr_assert_eq(store_case_get(s, "other", a.id, got_case, got_event, &g), STORE_NOT_FOUND);
	cr_assert_eq(g.cases, 0);
	cr_assert_eq(store_case_get(s, "acme", a.id, got_case, got_event, &g), STORE_OK);

	struct case_filter f = {.tenant = "other", .limit = 50};
	struct page p = list(&f, NULL);
	cr_assert_eq(p.n, 1);
	cr_assert_str_eq(p.tenant[0], "other");
	f.tenant = "acme";
	p = list(&f, NULL);
	cr_assert_eq(p.n, 2);
	for (int i = 0; i < p.n; i++)
		cr_assert_str_eq(p.tenant[i], "acme");
	f.tenant = "nobody";
	cr_assert_eq(list(&f, NULL).n, 0);
	f.tenant = "acm%"; /* tenant is compared with =, never as a pattern */
	cr_assert_eq(list(&f, NULL).n, 0);
}

/* Appends text to out (of cap bytes) at *o. */
static void put(char *out, size_t cap, size_t *o, const char *text)
{
	size_t n = strlen(text);
	cr_assert_lt(*o + n, cap, "the listing's SQL does not fit");
	memcpy(out + *o, text, n + 1);
	*o += n;
}

/* The statement store_case_list runs on PostgreSQL for f, with f's values
 * written in for its parameters: store_case_list_sql writes SQLite's, and
 * PostgreSQL's differs only by what store/store_list.c says of SHAPE_PG (no
 * INDEXED BY, ILIKE for LIKE). The values are those a custom plan is made
 * for; ?1..?10 are numbered as in store_list.c. */
static void pg_listing_sql(const struct case_filter *f, char *out, size_t cap)
{
	char sql[2048], before[24], limit[24], pattern[64];
	cr_assert_gt(store_case_list_sql(f, sql, sizeof sql), 0);
	snprintf(before, sizeof before, "%lld", (long long)f->before_seq);
	snprintf(limit, sizeof limit, "%d", (f->limit < 1 ? 1 : f->limit > 200 ? 200 : f->limit) + 1);
	snprintf(pattern, sizeof pattern, "%%%s%%", f->q ? f->q : ""); /* the tests' q has no % _ or \ */
	const char *const value[11] = {
		NULL, f->tenant, before, pattern, f->invoice_number, f->debtor_type, f->date_of_birth,
		f->national_id_hash, f->created_from, f->created_to, limit,
	};
	static const bool text[11] = {false, true, false, true, true, true, true, true, true, true, false};
	size_t o = 0;
	out[0] = '\0';
	for (const char *p = sql; *p;) {
		if (strncmp(p, " INDEXED BY ", 12) == 0) {
			p += 12 + strcspn(p + 12, " ");
		} else if (strncmp(p, " LIKE ", 6) == 0) {
			put(out, cap, &o, " ILIKE ");
			p += 6;
		} else if (*p == '?') {
			char *end = NULL;
			long n = strtol(p + 1, &end, 10);
			cr_assert(n >= 1 && n <= 10, "parameter ?%ld", n);
			p = end;
			if (!value[n]) {
				put(out, cap, &o, "NULL");
				continue;
			}
			put(out, cap, &o, text[n] ? "'" : "");
			put(out, cap, &o, value[n]); /* the tests' values hold no quote */
			put(out, cap, &o, text[n] ? "'" : "");
		} else {
			char c[2] = {*p++, '\0'};
			put(out, cap, &o, c);
		}
	}
}

/* The query plan of the exact SQL store_case_list runs for f. */
static void plan(const struct case_filter *f, char *out, size_t cap)
{
	char sql[2048];
	if (test_store_is_pg())
		pg_listing_sql(f, sql, sizeof sql);
	else
		cr_assert_gt(store_case_list_sql(f, sql, sizeof sql), 0);
	raw_plan(&db, sql, out, cap);
	cr_log_info("%s\n  -> %s", sql, out);
}

/* PostgreSQL: the rows come from index, newest first, with no sort. */
static void pg_walks_backward(const char *p, const char *index)
{
	char want[128];
	snprintf(want, sizeof want, "Index Scan Backward using %s on cases", index);
	cr_assert_not_null(strstr(p, want), "want %s: %s", want, p);
	cr_assert_null(strstr(p, "Sort"), "no sort: %s", p);
	cr_assert_null(strstr(p, "Seq Scan"), "no scan of the table: %s", p);
}

static void check_plans_pg(void)
{
	char p[2048];
	plan(&(struct case_filter){.tenant = "t1", .limit = 50}, p, sizeof p);
	pg_walks_backward(p, "cases_pkey");
	plan(&(struct case_filter){.tenant = "t1", .before_seq = 10, .limit = 50}, p, sizeof p);
	pg_walks_backward(p, "cases_pkey");
	plan(&(struct case_filter){.tenant = "t1", .before_seq = 10, .status_mask = CASE_MASK_OPEN,
				   .q = "x", .debtor_type = "consumer", .created_from = "2026-01-01",
				   .created_to = "2026-12-31", .limit = 50},
	     p, sizeof p);
	pg_walks_backward(p, "cases_pkey");
	/* The exact searches' indexes end in seq (store/schema_pg.c says why). */
	plan(&(struct case_filter){.tenant = "t1", .invoice_number = "INV-1", .limit = 50}, p, sizeof p);
	pg_walks_backward(p, "cases_invoice");
	plan(&(struct case_filter){.tenant = "t1", .national_id_hash = "h", .before_seq = 5, .limit = 50},
	     p, sizeof p);
	pg_walks_backward(p, "cases_national_id");
	plan(&(struct case_filter){.tenant = "t1", .date_of_birth = "1985-04-12", .limit = 50}, p,
	     sizeof p);
	pg_walks_backward(p, "cases_birth");
	/* Three exact searches at once: which index is the planner's choice by
	 * its statistics, any of the three gives the order. */
	plan(&(struct case_filter){.tenant = "t1", .invoice_number = "INV-1", .national_id_hash = "h",
				   .date_of_birth = "1985-04-12", .status_mask = CASE_MASK_OPEN, .limit = 50},
	     p, sizeof p);
	cr_assert(strstr(p, "Index Scan Backward using cases_invoice on cases") ||
			  strstr(p, "Index Scan Backward using cases_national_id on cases") ||
			  strstr(p, "Index Scan Backward using cases_birth on cases"),
		  "%s", p);
	cr_assert_null(strstr(p, "Sort"), "no sort: %s", p);
}

static void check_plans(void)
{
	if (test_store_is_pg()) {
		check_plans_pg();
		return;
	}
	char p[512];
	plan(&(struct case_filter){.tenant = "t1", .limit = 50}, p, sizeof p);
	cr_assert_str_eq(p, "SEARCH cases USING PRIMARY KEY (tenant=?)");
	plan(&(struct case_filter){.tenant = "t1", .before_seq = 10, .limit = 50}, p, sizeof p);
	cr_assert_str_eq(p, "SEARCH cases USING PRIMARY KEY (tenant=? AND seq<?)");

	/* Filters without an index of their own still walk the key in order. */
	plan(&(struct case_filter){.tenant = "t1", .before_seq = 10, .status_mask = CASE_MASK_OPEN,
				   .q = "x", .debtor_type = "consumer", .created_from = "2026-01-01",
				   .created_to = "2026-12-31", .limit = 50},
	     p, sizeof p);
	cr_assert_str_eq(p, "SEARCH cases USING PRIMARY KEY (tenant=? AND seq<?)");

	/* Exact searches take their index; its entries end in seq, so no sort either. */
	plan(&(struct case_filter){.tenant = "t1", .invoice_number = "INV-1", .limit = 50}, p, sizeof p);
	cr_assert_str_eq(p, "SEARCH cases USING INDEX cases_invoice (tenant=? AND invoice_number=?)");
	plan(&(struct case_filter){.tenant = "t1", .national_id_hash = "h", .before_seq = 5, .limit = 50},
	     p, sizeof p);
	cr_assert_str_eq(p, "SEARCH cases USING INDEX cases_national_id"
			    " (tenant=? AND national_id_hash=? AND seq<?)");
	plan(&(struct case_filter){.tenant = "t1", .date_of_birth = "1985-04-12", .limit = 50}, p,
	     sizeof p);
	cr_assert_str_eq(p, "SEARCH cases USING INDEX cases_birth (tenant=? AND date_of_birth=?)");
	plan(&(struct case_filter){.tenant = "t1", .invoice_number = "INV-1", .national_id_hash = "h",
				   .date_of_birth = "1985-04-12", .status_mask = CASE_MASK_OPEN, .limit = 50},
	     p, sizeof p);
	cr_assert_str_eq(p, "SEARCH cases USING INDEX cases_invoice (tenant=? AND invoice_number=?)");
}

Test(list, query_plans_use_the_primary_key_without_sorting)
{
	/* As the service runs: no ANALYZE statistics (on PostgreSQL: none yet). */
	check_plans();
	/* And with statistics of a realistic table: two tenants, most debtors
	 * with a birth date and a national id, each invoice number once. */
	for (int i = 0; i < 200; i++) {
		struct tcase t;
		char inv[32], hash[16];
		snprintf(inv, sizeof inv, "INV-%d", i);
		tcase_init(&t, i % 2 ? "t1" : "t2", inv);
		snprintf(t.dob, sizeof t.dob, "19%02u-01-%02u", 40u + (unsigned)i % 60u,
			 1u + (unsigned)i % 28u);
		snprintf(hash, sizeof hash, "h%d", i);
		if (i % 4) {
			t.n.date_of_birth = t.dob;
			t.n.national_id_hash = hash;
		}
		struct case_create_result res;
		cr_assert_eq(store_case_create(s, &t.n, &res), STORE_OK);
	}
	raw_exec(&db, "ANALYZE");
	check_plans();
}

Test(list, limit_is_clamped)
{
	for (int i = 0; i < 3; i++) {
		char inv[32];
		snprintf(inv, sizeof inv, "INV-%d", i);
		create_ok("t1", inv);
	}
	bool more = false;
	struct page p = list(&(struct case_filter){.tenant = "t1", .limit = 0}, &more);
	cr_assert_eq(p.n, 1);
	cr_assert(more);
	p = list(&(struct case_filter){.tenant = "t1", .limit = 100000}, &more);
	cr_assert_eq(p.n, 3);
	cr_assert(!more);
}

/* ---- concurrency ---- */

struct worker {
	struct store *store;
	const char *tenant;
	int index, n;
	int64_t seq[64];
	int failures;
};

static void *create_many(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < w->n; i++) {
		struct tcase t;
		char inv[32];
		snprintf(inv, sizeof inv, "W%d-%d", w->index, i);
		tcase_init(&t, w->tenant, inv);
		struct case_create_result res;
		if (store_case_create(w->store, &t.n, &res) == STORE_OK)
			w->seq[i] = res.seq;
		else
			w->failures++;
	}
	return NULL;
}

/* Runs nthreads create_many workers spread over the stores; checks that
 * every create succeeded and the seqs are exactly 1..total. */
static void run_creates(struct store **stores, int nstores, int nthreads, int per_thread)
{
	pthread_t th[16];
	struct worker w[16];
	for (int i = 0; i < nthreads; i++) {
		w[i] = (struct worker){.store = stores[i % nstores], .tenant = "t1", .index = i, .n = per_thread};
		cr_assert_eq(pthread_create(&th[i], NULL, create_many, &w[i]), 0);
	}
	int total = nthreads * per_thread;
	bool *seen = calloc((size_t)total + 1, 1);
	for (int i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(w[i].failures, 0, "worker %d failed %d creates", i, w[i].failures);
		for (int j = 0; j < per_thread; j++) {
			int64_t q = w[i].seq[j];
			cr_assert(q >= 1 && q <= total, "seq %lld", (long long)q);
			cr_assert(!seen[q], "seq %lld given twice", (long long)q);
			seen[q] = true;
		}
	}
	free(seen);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM cases"), total);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox"), total);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM case_events"), total);
	cr_assert_eq(store_outbox_depth(stores[0]), total);
}

TestSuite(concurrency, .init = setup, .fini = teardown, .timeout = 60);

Test(concurrency, creates_from_8_threads_get_distinct_seqs)
{
	run_creates(&s, 1, 8, 25);
}

Test(concurrency, two_stores_on_one_file_like_two_processes)
{
	char err[256] = "";
	struct store *other = store_open(db.path, &(struct store_options){.readers = 2}, err, sizeof err);
	cr_assert_not_null(other, "%s", err);
	struct store *both[2] = {s, other};
	/* Here the write lock is the engine's, not our mutex: SQLite's
	 * (BEGIN IMMEDIATE + busy_timeout), PostgreSQL's advisory lock. */
	run_creates(both, 2, 8, 20);
	store_close(other);
}

struct reader {
	const char *id;
	int ok;
};

static void *read_many(void *arg)
{
	struct reader *r = arg;
	for (int i = 0; i < 50; i++) {
		struct page p = {0};
		bool more;
		struct case_filter f = {.tenant = "t1", .limit = 50};
		if (store_case_list(s, &f, collect, &p, &more) == STORE_OK && p.n == 30 && !more)
			r->ok++;
		struct got g = {0};
		if (store_case_get(s, "t1", r->id, got_case, got_event, &g) == STORE_OK && g.events == 1)
			r->ok++;
	}
	return NULL;
}

Test(concurrency, readers_wait_for_a_free_connection)
{
	store_close(s);
	char err[256] = "";
	/* one reader for eight threads */
	s = store_open(db.path, &(struct store_options){.readers = 1}, err, sizeof err);
	cr_assert_not_null(s, "%s", err);
	struct tcase t;
	tcase_init(&t, "t1", "INV-0");
	struct case_create_result res;
	cr_assert_eq(store_case_create(s, &t.n, &res), STORE_OK);
	for (int i = 1; i < 30; i++) {
		char inv[32];
		snprintf(inv, sizeof inv, "INV-%d", i);
		create_ok("t1", inv);
	}
	pthread_t th[8];
	struct reader r[8];
	for (int i = 0; i < 8; i++) {
		r[i] = (struct reader){.id = t.id};
		cr_assert_eq(pthread_create(&th[i], NULL, read_many, &r[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(r[i].ok, 100, "reader %d", i);
	}
}

/* ---- settings and operations ---- */

TestSuite(settings, .init = setup, .fini = teardown);

Test(settings, roundtrip)
{
	struct agency_settings got;
	cr_assert_eq(store_settings_get(s, "t1", &got), STORE_NOT_FOUND);

	struct agency_settings in = {
		.api_key_set = true,
		.min_days_overdue = 14,
		.reminder_wait_days = 10,
		.min_amount = 500,
		.enabled = true,
		.api_key_valid = -1,
	};
	snprintf(in.creditor_reference, sizeof in.creditor_reference, "923609016");
	memset(in.api_key, 'k', sizeof in.api_key - 1); /* the longest key fits */
	snprintf(in.service, sizeof in.service, "collection");
	snprintf(in.customer_type, sizeof in.customer_type, "auto");
	snprintf(in.updated_at, sizeof in.updated_at, "2026-02-20T10:00:00.123Z");
	cr_assert_eq(store_settings_put(s, "t1", &in, NULL), STORE_OK);
	cr_assert_eq(store_settings_get(s, "t1", &got), STORE_OK);
	cr_assert_str_eq(got.creditor_reference, "923609016");
	cr_assert_str_eq(got.api_key, in.api_key);
	cr_assert(got.api_key_set);
	cr_assert_str_eq(got.service, "collection");
	cr_assert_str_eq(got.customer_type, "auto");
	cr_assert_eq(got.min_days_overdue, 14);
	cr_assert_eq(got.reminder_wait_days, 10);
	cr_assert_eq(got.min_amount, 500);
	cr_assert(got.enabled);
	cr_assert_eq(got.api_key_valid, -1);
	cr_assert_str_eq(got.updated_at, "2026-02-20T10:00:00.123Z");
	cr_assert_eq(raw_int(&db, "SELECT api_key_valid IS NULL FROM agency_settings"), 1);

	/* Replace: every field takes the new value. */
	in.api_key_set = false;
	in.enabled = false;
	in.api_key_valid = 0;
	in.min_amount = 1;
	snprintf(in.updated_at, sizeof in.updated_at, "2026-02-21T10:00:00.000Z");
	cr_assert_eq(store_settings_put(s, "t1", &in, NULL), STORE_OK);
	cr_assert_eq(store_settings_get(s, "t1", &got), STORE_OK);
	cr_assert(!got.api_key_set);
	cr_assert_str_eq(got.api_key, "");
	cr_assert(!got.enabled);
	cr_assert_eq(got.api_key_valid, 0);
	cr_assert_eq(got.min_amount, 1);
	cr_assert_str_eq(got.updated_at, "2026-02-21T10:00:00.000Z");
	in.api_key_valid = 1;
	cr_assert_eq(store_settings_put(s, "t1", &in, NULL), STORE_OK);
	cr_assert_eq(store_settings_get(s, "t1", &got), STORE_OK);
	cr_assert_eq(got.api_key_valid, 1);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM agency_settings"), 1);
	cr_assert_eq(store_settings_get(s, "t2", &got), STORE_NOT_FOUND, "settings are per tenant");
}

/* agency_environment and the actor of the last change, through store.h only
 * (both backends). */
Test(ops, settings_environment_and_actor_round_trip)
{
	struct agency_settings in = {.min_days_overdue = 14, .reminder_wait_days = 14, .min_amount = 1,
				     .enabled = true, .api_key_valid = -1};
	struct agency_settings got;
	snprintf(in.creditor_reference, sizeof in.creditor_reference, "CR-1");
	snprintf(in.service, sizeof in.service, "collection");
	snprintf(in.customer_type, sizeof in.customer_type, "auto");
	snprintf(in.updated_at, sizeof in.updated_at, "2026-02-20T10:00:00.123Z");

	/* The default is production; no actor: null (""). */
	cr_assert_eq(store_settings_put(s, "t1", &in, NULL), STORE_OK);
	cr_assert_eq(store_settings_get(s, "t1", &got), STORE_OK);
	cr_assert_eq(got.environment, AGENCY_ENV_PRODUCTION);
	cr_assert_str_eq(got.actor, "");

	/* Staging, with a sub that needs escaping; what is in in->actor is ignored. */
	in.environment = AGENCY_ENV_STAGING;
	snprintf(in.actor, sizeof in.actor, "not this");
	const struct store_actor a = {.sub = "ops \"anna\"", .request_id = "req-1"};
	cr_assert_eq(store_settings_put(s, "t1", &in, &a), STORE_OK);
	cr_assert_eq(store_settings_get(s, "t1", &got), STORE_OK);
	cr_assert_eq(got.environment, AGENCY_ENV_STAGING);
	cr_assert_str_eq(got.actor, "{\"sub\":\"ops \\\"anna\\\"\",\"request_id\":\"req-1\"}");
	cr_assert_str_eq(agency_environment_name(got.environment), "staging");

	/* Back to production by another actor without a sub; the list the sync reads agrees. */
	in.environment = AGENCY_ENV_PRODUCTION;
	const struct store_actor b = {.sub = NULL, .request_id = "req-2"};
	cr_assert_eq(store_settings_put(s, "t1", &in, &b), STORE_OK);
	cr_assert_eq(store_settings_get(s, "t1", &got), STORE_OK);
	cr_assert_eq(got.environment, AGENCY_ENV_PRODUCTION);
	cr_assert_str_eq(got.actor, "{\"sub\":null,\"request_id\":\"req-2\"}");

	/* The longest sub, every byte escaped, still fits. */
	char sub[256];
	memset(sub, '\x01', sizeof sub - 1);
	sub[sizeof sub - 1] = '\0';
	const struct store_actor c = {.sub = sub, .request_id = "req-3"};
	in.environment = AGENCY_ENV_STAGING;
	cr_assert_eq(store_settings_put(s, "t2", &in, &c), STORE_OK);
	cr_assert_eq(store_settings_get(s, "t2", &got), STORE_OK);
	cr_assert_eq(got.environment, AGENCY_ENV_STAGING);
	cr_assert_eq(strlen(got.actor), 8 + 255 * 6 + 16 + 5 + 2);
	cr_assert_eq(store_settings_get(s, "t1", &got), STORE_OK);
	cr_assert_eq(got.environment, AGENCY_ENV_PRODUCTION, "per tenant");
}

TestSuite(ops, .init = setup, .fini = teardown, .timeout = 60);

Test(ops, writable_and_outbox_depth)
{
	cr_assert(store_writable(s));
	cr_assert_eq(store_outbox_depth(s), 0);
	create_ok("t1", "INV-1");
	create_ok("t1", "INV-2");
	create_ok("t2", "INV-1");
	cr_assert_eq(store_outbox_depth(s), 3);
	raw_exec(&db, "UPDATE outbox SET state = 'sending' WHERE id = 1;"
		      "UPDATE outbox SET state = 'done' WHERE id = 2");
	cr_assert_eq(store_outbox_depth(s), 2, "pending and sending count, done does not");
	cr_assert(store_writable(s), "the probe leaves no transaction behind");
	cr_assert_eq(create_ok("t1", "INV-3"), 3);
}

struct busy_run {
	enum store_result create;
	bool writable;
	double seconds;
};

static void try_while_locked(void *arg)
{
	struct busy_run *b = arg;
	struct tcase t;
	tcase_init(&t, "tenant-secret", "INVOICE-SECRET-42");
	struct case_create_result res;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	b->create = store_case_create(s, &t.n, &res);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	b->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	b->writable = store_writable(s);
}

/* The advisory lock that every PostgreSQL write transaction of the store
 * takes: DB_PG_WRITE_LOCK of store/db_pg.c, which keeps it to itself. */
#define PG_WRITE_LOCK_KEY "7597126868583537007"

Test(ops, busy_when_another_process_holds_the_write_lock)
{
	/* Another process in a write transaction: on SQLite it holds the
	 * file's write lock (BEGIN IMMEDIATE), on PostgreSQL the advisory
	 * lock, as another replica's writer does. */
	sqlite3 *sq = NULL;
	PGconn *pg = NULL;
	if (test_store_is_pg()) {
		pg = raw_pg_open(&db);
		PGresult *res = PQexec(pg, "SELECT pg_advisory_lock(" PG_WRITE_LOCK_KEY ")");
		cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQerrorMessage(pg));
		PQclear(res);
	} else {
		sq = raw_sqlite_open(&db);
		cr_assert_eq(sqlite3_exec(sq, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	}
	struct busy_run b = {0};
	char log[4096];
	capture_stderr(try_while_locked, &b, log, sizeof log);
	if (pg) {
		PQfinish(pg); /* a session's advisory locks end with it */
	} else {
		cr_assert_eq(sqlite3_exec(sq, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(sq);
	}

	cr_assert_eq(b.create, STORE_BUSY);
	/* SQLite's busy_timeout and PostgreSQL's lock_timeout: 5 s each. */
	cr_assert_geq(b.seconds, 4.5, "the lock wait took %.2fs", b.seconds);
	cr_assert(!b.writable);
	cr_assert_not_null(strstr(log, "\"level\":\"warn\""), "log: %s", log);
	if (test_store_is_pg()) {
		cr_assert_not_null(strstr(log, "\"msg\":\"store: write lock\""), "log: %s", log);
		cr_assert_not_null(strstr(log, "\"postgres\":\"lock wait timed out\""), "log: %s", log);
	} else {
		cr_assert_not_null(strstr(log, "\"msg\":\"store: begin write\""), "log: %s", log);
		cr_assert_not_null(strstr(log, "\"sqlite\":\"database is locked\""), "log: %s", log);
	}
	cr_assert_null(strstr(log, "SECRET"), "bound values never reach the log: %s", log);
	cr_assert(store_writable(s), "writable again once the lock is gone");
	cr_assert_eq(create_ok("t1", "INV-1"), 1);
}

/* A VFS that passes everything to the default one, except that it can fail
 * the sync of the WAL: the commit's durability point. */
static sqlite3_vfs *real_vfs;
static sqlite3_vfs faulty_vfs;
static const sqlite3_io_methods *real_wal_methods;
static sqlite3_io_methods faulty_wal_methods;
static atomic_bool fail_wal_sync;

static int faulty_sync(sqlite3_file *f, int flags)
{
	if (atomic_load(&fail_wal_sync))
		return SQLITE_IOERR_FSYNC;
	return real_wal_methods->xSync(f, flags);
}

static int faulty_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	(void)vfs;
	int rc = real_vfs->xOpen(real_vfs, name, f, flags, out);
	if (rc == SQLITE_OK && (flags & SQLITE_OPEN_WAL) && f->pMethods) {
		/* The file is the real VFS's; only its method table is swapped. */
		if (!real_wal_methods) {
			real_wal_methods = f->pMethods;
			faulty_wal_methods = *f->pMethods;
			faulty_wal_methods.xSync = faulty_sync;
		}
		cr_assert_eq(f->pMethods, real_wal_methods);
		f->pMethods = &faulty_wal_methods;
	}
	return rc;
}

static void faulty_vfs_install(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	cr_assert_not_null(real_vfs);
	faulty_vfs = *real_vfs;
	faulty_vfs.zName = "faulty";
	faulty_vfs.xOpen = faulty_open;
	/* Default VFS from now on; each Criterion test runs in its own process. */
	cr_assert_eq(sqlite3_vfs_register(&faulty_vfs, 1), SQLITE_OK);
}

static void create_with_failing_sync(void *arg)
{
	struct tcase t;
	tcase_init(&t, "t1", "INV-LOST");
	struct case_create_result res;
	atomic_store(&fail_wal_sync, true);
	*(enum store_result *)arg = store_case_create(s, &t.n, &res);
	atomic_store(&fail_wal_sync, false);
}

/* PostgreSQL's counterpart of the failing sync: a COMMIT that the server
 * refuses. A deferred constraint trigger runs at COMMIT, and raises for the
 * case of this one invoice. */
static void pg_refuse_the_commit_of(const char *invoice)
{
	raw_exec(&db, "CREATE FUNCTION test_refuse_commit() RETURNS trigger LANGUAGE plpgsql AS"
		      " $$BEGIN RAISE EXCEPTION 'test: commit refused'; END$$;"
		      "CREATE CONSTRAINT TRIGGER test_refuse_commit AFTER INSERT ON cases"
		      " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.invoice_number = '%s')"
		      " EXECUTE FUNCTION test_refuse_commit()",
		 invoice);
}

Test(ops, a_commit_that_failed_to_sync_is_never_acknowledged)
{
	char err[256] = "";
	if (test_store_is_pg()) {
		pg_refuse_the_commit_of("INV-LOST");
	} else {
		store_close(s);
		faulty_vfs_install();
		s = store_open(db.path, &(struct store_options){.readers = 2}, err, sizeof err);
		cr_assert_not_null(s, "%s", err);
	}
	cr_assert_eq(create_ok("t1", "INV-1"), 1);

	enum store_result r = STORE_OK;
	char log[4096];
	capture_stderr(create_with_failing_sync, &r, log, sizeof log);
	cr_assert_eq(r, STORE_HARD_ERROR);
	cr_assert_not_null(strstr(log, "\"level\":\"error\""), "log: %s", log);
	cr_assert_not_null(strstr(log, "\"msg\":\"store: commit\""), "log: %s", log);

	/* Nothing of it is visible, now or after a reopen, and the store goes on. */
	struct case_filter f = {.tenant = "t1", .limit = 10};
	cr_assert_eq(list(&f, NULL).n, 1);
	store_close(s);
	s = store_open(db.path, &(struct store_options){.readers = 2}, err, sizeof err);
	cr_assert_not_null(s, "%s", err);
	cr_assert_eq(list(&f, NULL).n, 1);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox"), 1);
	if (test_store_is_pg())
		raw_exec(&db, "DROP TRIGGER test_refuse_commit ON cases; DROP FUNCTION test_refuse_commit()");
	cr_assert_eq(create_ok("t1", "INV-LOST"), 2, "not a duplicate: the failed case never existed");
	if (!test_store_is_pg()) {
		/* The file itself came through whole. */
		char check[64];
		cr_assert_str_eq(raw_text(&db, check, sizeof check, "PRAGMA integrity_check"), "ok");
	}
}

/* ---- group commit ---- */

static atomic_int jobs_done;
static void count_done(struct queued_create *q)
{
	(void)q;
	atomic_fetch_add(&jobs_done, 1);
}

/* Queues jobs[0] while the test holds the write lock (the committer takes it
 * and waits), then the others, so that they all meet in the next batch. */
static void run_as_one_batch(struct tcase *t, struct queued_create *jobs, int n)
{
	atomic_store(&jobs_done, 0);
	for (int i = 0; i < n; i++)
		jobs[i] = (struct queued_create){.in = &t[i].n, .out = &t[i].res, .then = count_done};
	queue_as_next_batch(s, jobs, n);
	for (int spins = 0; atomic_load(&jobs_done) < n && spins < 10000; spins++)
		usleep(1000);
	cr_assert_eq(atomic_load(&jobs_done), n, "every job was answered");
}

static atomic_int commits;
static int count_commit(void *ctx)
{
	(void)ctx;
	atomic_fetch_add(&commits, 1);
	return 0;
}

/* Each create's answer is what it would get alone, in queue order; batch
 * changes only how many share a COMMIT. Returns the number of COMMITs on
 * SQLite (its commit hook counts every one, an empty one too), and on
 * PostgreSQL the number of transactions that wrote the cases that
 * committed: their rows' xmin, the id of the transaction that wrote them. */
static int group_commit_checks(int batch)
{
	char err[256] = "";
	store_close(s);
	s = store_open(db.path, &(struct store_options){.readers = 4, .commit_batch = batch}, err, sizeof err);
	cr_assert_not_null(s, "store_open: %s", err);
	struct tcase t[6];
	tcase_init(&t[0], "t1", "G-0");
	tcase_init(&t[1], "t1", "G-1");
	tcase_init(&t[2], "t1", "G-1"); /* the same invoice as t[1]: a duplicate of it */
	tcase_init(&t[3], "t1", "G-3");
	tcase_init(&t[4], "t1", "G-4"); /* the same key and body as t[3]: its replay */
	tcase_init(&t[5], "t2", "G-5");
	snprintf(t[5].id, sizeof t[5].id, "%s", t[0].id); /* an id clash: fails alone */
	static const char body[] = "{\"id\":\"g3\"}";
	for (int i = 3; i <= 4; i++) {
		t[i].n.idem.key = "gk";
		t[i].n.idem.fingerprint = "fp";
		t[i].n.idem.status = 201;
		t[i].n.idem.body = body;
		t[i].n.idem.body_len = sizeof body - 1;
	}
	struct queued_create jobs[6];
	bool pg = test_store_is_pg();
	atomic_store(&commits, 0);
	if (!pg)
		sqlite3_commit_hook(s->writer.db, count_commit, NULL);
	run_as_one_batch(t, jobs, 6);
	if (!pg)
		sqlite3_commit_hook(s->writer.db, NULL, NULL);
	cr_assert_eq(jobs[0].result, STORE_OK);
	cr_assert_eq(jobs[1].result, STORE_OK);
	cr_assert_eq(jobs[2].result, STORE_DUPLICATE, "sees t[1] of the same transaction");
	cr_assert_str_eq(t[2].res.case_id, t[1].id);
	cr_assert_eq(jobs[3].result, STORE_OK);
	cr_assert_eq(jobs[4].result, STORE_REPLAY, "sees t[3]'s key of the same transaction");
	cr_assert_eq(t[4].res.replay.body_len, sizeof body - 1);
	free(t[4].res.replay.body);
	cr_assert_eq(jobs[5].result, STORE_HARD_ERROR);
	cr_assert_eq(t[5].res.seq, 0);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM cases"), 3, "t0, t1, t3 committed, nothing else");
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM outbox"), 3);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM case_events"), 3);
	cr_assert_eq(raw_int(&db, "SELECT count(*) FROM idempotency"), 1);
	cr_assert_eq(t[0].res.seq, 1);
	cr_assert_eq(t[1].res.seq, 2);
	cr_assert_eq(t[3].res.seq, 3, "seq stays dense: refused creates take none");
	if (pg)
		return (int)raw_int(&db, "SELECT count(DISTINCT xmin::text) FROM cases");
	return atomic_load(&commits);
}

TestSuite(group_commit, .init = setup, .fini = teardown);

Test(group_commit, queued_creates_share_one_commit_and_keep_their_own_answers)
{
	cr_assert_eq(group_commit_checks(64), 2, "jobs[0] alone, then the others in one COMMIT");
}

Test(group_commit, batch_1_commits_each_create_alone)
{
	int n = group_commit_checks(1);
	if (test_store_is_pg())
		cr_assert_eq(n, 3, "t0, t1 and t3 each in a transaction of its own");
	else
		cr_assert_geq(n, 4, "one transaction per create");
}
