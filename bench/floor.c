/* SPDX-License-Identifier: MIT */
/* bench/floor: in-process SQLite floors for durable creates, no HTTP.
 *
 *   floor DIR SECONDS
 *
 * On a new database DIR/floor.db with the service's schema (store_open), WAL
 * and synchronous=FULL (the service's settings), for SECONDS each:
 *   raw-1    the four rows a create writes (case, first event, outbox row,
 *            idempotency record) with prepared statements, one
 *            BEGIN IMMEDIATE ... COMMIT per case: commits/s = cases/s
 *   raw-32   the same rows, 32 cases per transaction: cases/s
 *   store-1  store_case_create() of the service (its re-checks included),
 *            one commit per case: cases/s
 *   store-64 the same through the group commit, 64 creates in flight:
 *            cases/s
 * Prints one line per mode: "floor MODE cases_per_s commits_per_s".
 * The database is removed at the end. */
#include <inttypes.h>
#include <json-c/json.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "handlers/case_validate.h"
#include "lib/ids.h"
#include "store/store.h"

#define TENANTS 10

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "floor: %s: %s\n", what, detail ? detail : "");
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void now_ts(char out[25])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, 25, "%Y-%m-%dT%H:%M:%S", &tm);
	int ms = (int)(ts.tv_nsec / 1000000);
	out[n] = '.';
	out[n + 1] = (char)('0' + ms / 100);
	out[n + 2] = (char)('0' + ms / 10 % 10);
	out[n + 3] = (char)('0' + ms % 10);
	out[n + 4] = 'Z';
	out[n + 5] = '\0';
}

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		die(sql, msg ? msg : sqlite3_errmsg(db));
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		die(sqlite3_errmsg(db), sql);
	return st;
}

static void t(sqlite3_stmt *st, int i, const char *s)
{
	if ((s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i)) != SQLITE_OK)
		die("bind", NULL);
}

static void run(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		die(what, sqlite3_errmsg(db));
	sqlite3_reset(st);
}

/* One case built like cases_post.c builds it, from the validator's output. */
struct proto {
	struct case_input in;
	char body[4096]; /* the 201 body stands in for the idempotency record: same size */
	size_t body_len;
};

static long long counter;
static int64_t seqs[TENANTS];
static const char *tenant_names[TENANTS] = {"floor-t01", "floor-t02", "floor-t03", "floor-t04",
					    "floor-t05", "floor-t06", "floor-t07", "floor-t08",
					    "floor-t09", "floor-t10"};

struct stmts {
	sqlite3_stmt *c, *e, *o, *k;
};

static void raw_insert(sqlite3 *db, const struct stmts *s, const struct proto *p)
{
	int tn = (int)(counter % TENANTS);
	const char *tenant = tenant_names[tn];
	char id[40], number[40], key[40], ts[25];
	if (!ids_new("cc_", id, sizeof id))
		die("ids_new", NULL);
	snprintf(number, sizeof number, "FLOOR-%lld", counter);
	snprintf(key, sizeof key, "floor-key-%lld", counter);
	counter++;
	now_ts(ts);
	const struct case_input *in = &p->in;
	sqlite3_stmt *c = s->c;
	t(c, 1, tenant);
	sqlite3_bind_int64(c, 2, ++seqs[tn]);
	t(c, 3, id);
	t(c, 4, in->service);
	t(c, 5, in->debtor_type);
	t(c, 6, in->your_reference);
	t(c, 7, number);
	t(c, 8, in->invoice_json);
	t(c, 9, in->debtor_json);
	t(c, 10, in->debtor_name);
	t(c, 11, in->date_of_birth);
	t(c, 12, in->currency);
	sqlite3_bind_int64(c, 13, in->outstanding_amount);
	sqlite3_bind_int64(c, 14, in->fees);
	t(c, 15, ts);
	run(db, c, "insert case");
	t(s->e, 1, id);
	t(s->e, 2, ts);
	run(db, s->e, "insert event");
	t(s->o, 1, tenant);
	t(s->o, 2, id);
	t(s->o, 3, ts);
	run(db, s->o, "insert outbox");
	t(s->k, 1, tenant);
	t(s->k, 2, key);
	t(s->k, 3, "0000000000000000000000000000000000000000000000000000000000000000");
	sqlite3_bind_blob(s->k, 4, p->body, (int)p->body_len, SQLITE_STATIC);
	t(s->k, 5, ts);
	run(db, s->k, "insert idempotency");
}

static double raw_mode(sqlite3 *db, const struct stmts *s, const struct proto *p, int per_tx, double secs,
		       long long *commits)
{
	long long cases = 0;
	*commits = 0;
	double t0 = now_s(), t1;
	do {
		exec(db, "BEGIN IMMEDIATE");
		for (int k = 0; k < per_tx; k++)
			raw_insert(db, s, p);
		exec(db, "COMMIT");
		cases += per_tx;
		++*commits;
	} while ((t1 = now_s()) - t0 < secs);
	return (double)cases / (t1 - t0);
}

/* One create of the service's shape, numbered k. */
struct floor_case {
	char id[40], number[40], key[40], ts[25];
	struct case_new cn;
};

static void floor_case_init(struct floor_case *f, const struct proto *p, long long k)
{
	if (!ids_new("cc_", f->id, sizeof f->id))
		die("ids_new", NULL);
	snprintf(f->number, sizeof f->number, "STORE-%lld", k);
	snprintf(f->key, sizeof f->key, "store-key-%lld", k);
	now_ts(f->ts);
	struct case_new *cn = &f->cn;
	memset(cn, 0, sizeof *cn);
	cn->c.id = f->id;
	cn->c.tenant = tenant_names[k % TENANTS];
	cn->c.status = "pending";
	cn->c.service = p->in.service;
	cn->c.debtor_type = p->in.debtor_type;
	cn->c.your_reference = p->in.your_reference;
	cn->c.invoice_number = f->number;
	cn->c.invoice_json = p->in.invoice_json;
	cn->c.debtor_json = p->in.debtor_json;
	cn->c.currency = p->in.currency;
	cn->c.original = cn->c.remaining = p->in.outstanding_amount;
	cn->c.costs = p->in.fees;
	cn->c.created_at = cn->c.updated_at = f->ts;
	cn->debtor_name = p->in.debtor_name;
	cn->date_of_birth = p->in.date_of_birth;
	cn->actor.request_id = f->key; /* what a request's actor would hold */
	cn->idem.key = f->key;
	cn->idem.fingerprint = "v2:0000000000000000000000000000000000000000000000000000000000000000";
	cn->idem.status = 201;
	cn->idem.body = p->body;
	cn->idem.body_len = p->body_len;
}

static atomic_int jobs_left;
static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_cond = PTHREAD_COND_INITIALIZER;

static void job_done(void *ctx, enum store_result result)
{
	*(enum store_result *)ctx = result;
	pthread_mutex_lock(&jobs_lock);
	atomic_fetch_sub(&jobs_left, 1);
	pthread_cond_signal(&jobs_cond);
	pthread_mutex_unlock(&jobs_lock);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: floor DIR SECONDS\n");
		return 2;
	}
	double secs = atof(argv[2]);
	/* The malloc thresholds of inkasso serve (server/main.c says why). */
	mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
	char path[4096], err[512];
	snprintf(path, sizeof path, "%s/floor.db", argv[1]);
	static const char *const sfx[] = {"", "-wal", "-shm"};
	char p2[4200];
	for (int i = 0; i < 3; i++) {
		snprintf(p2, sizeof p2, "%s%s", path, sfx[i]);
		unlink(p2);
	}
	struct store *st = store_open(path, &(struct store_options){.readers = 1}, err, sizeof err);
	if (!st)
		die("store_open", err);
	struct agency_settings set = {.api_key_set = true, .min_days_overdue = 14, .reminder_wait_days = 14,
				      .min_amount = 1, .enabled = true, .api_key_valid = 1};
	snprintf(set.creditor_reference, sizeof set.creditor_reference, "CR-FLOOR");
	snprintf(set.api_key, sizeof set.api_key, "key");
	snprintf(set.service, sizeof set.service, "collection");
	snprintf(set.customer_type, sizeof set.customer_type, "auto");
	now_ts(set.updated_at);

	/* The conftest.py valid_case body, validated by the service's own rules. */
	char today[11], issued[11], due[11], rem[11];
	time_t now = time(NULL);
	struct tm tm;
	time_t d;
	strftime(today, sizeof today, "%Y-%m-%d", gmtime_r(&now, &tm));
	d = now - 90 * 86400;
	strftime(issued, sizeof issued, "%Y-%m-%d", gmtime_r(&d, &tm));
	d = now - 60 * 86400;
	strftime(due, sizeof due, "%Y-%m-%d", gmtime_r(&d, &tm));
	d = now - 30 * 86400;
	strftime(rem, sizeof rem, "%Y-%m-%d", gmtime_r(&d, &tm));
	char body[2048];
	snprintf(body, sizeof body,
		 "{\"your_reference\":\"cus_551\",\"service\":\"collection\",\"invoice\":{\"number\":\"X\","
		 "\"issued_on\":\"%s\",\"due_on\":\"%s\",\"currency\":\"NOK\",\"original_amount\":124900,"
		 "\"outstanding_amount\":124900,\"fees\":3500,\"description\":\"Subscription January 2026\","
		 "\"payment_reference\":\"RF71234567890123456789\",\"reminders\":[{\"sent_on\":\"%s\",\"fee\":3500}],"
		 "\"disputed\":false},\"debtor\":{\"customer_number\":\"551\",\"customer_type\":\"consumer\","
		 "\"name\":\"Kari Nordmann\",\"business_name\":null,\"org_number\":null,\"national_id\":null,"
		 "\"date_of_birth\":\"1985-04-12\",\"email\":\"kari@example.no\",\"phone\":\"+4791234567\","
		 "\"extra_fields\":[{\"purpose\":\"phone_number\",\"value\":\"912 34 567\"}],\"language\":\"nb\","
		 "\"address\":{\"line1\":\"Storgata 1\",\"line2\":null,\"postal_code\":\"0155\",\"city\":\"Oslo\","
		 "\"country\":\"NO\"}}}",
		 issued, due, rem);
	static struct proto p;
	json_object *jb = json_tokener_parse(body);
	struct field_errors errs = {0};
	if (!jb || !case_validate(jb, &set, today, &p.in, &errs))
		die("case_validate", errs.n ? errs.v[0].detail : "body");
	json_object_put(jb);
	field_errors_free(&errs);
	p.body_len = (size_t)snprintf(p.body, sizeof p.body, "{\"id\":\"cc_01\",\"invoice\":%s,\"debtor\":%s}",
				      p.in.invoice_json, p.in.debtor_json) + 500; /* ~ the 201 body */
	memset(p.body + strlen(p.body), ' ', p.body_len - strlen(p.body));
	for (int i = 0; i < TENANTS; i++)
		if (store_settings_put(st, tenant_names[i], &set, NULL) != STORE_OK)
			die("store_settings_put", tenant_names[i]);

	/* store-1: the service's own create, one transaction (and fsync) per case. */
	long long n = 0;
	double t0 = now_s(), t1;
	do {
		struct floor_case fc;
		floor_case_init(&fc, &p, n);
		struct case_create_result res;
		if (store_case_create(st, &fc.cn, &res) != STORE_OK)
			die("store_case_create", fc.number);
		free(res.replay.body);
		n++;
	} while ((t1 = now_s()) - t0 < secs);
	double store1 = (double)n / (t1 - t0);

	/* store-64: the group commit, 64 creates in flight as from 64 clients;
	 * a new round starts when all 64 of the last one were answered. */
	static struct floor_case fcs[64];
	static struct case_create_result results[64];
	static enum store_result jobs[64];
	long long n64 = 0;
	t0 = now_s();
	do {
		atomic_store(&jobs_left, 64);
		for (int i = 0; i < 64; i++) {
			floor_case_init(&fcs[i], &p, n + n64 + i);
			store_case_create_async(st, &fcs[i].cn, &results[i], job_done, &jobs[i]);
		}
		pthread_mutex_lock(&jobs_lock);
		while (atomic_load(&jobs_left) > 0)
			pthread_cond_wait(&jobs_cond, &jobs_lock);
		pthread_mutex_unlock(&jobs_lock);
		for (int i = 0; i < 64; i++) {
			if (jobs[i] != STORE_OK)
				die("store_case_create_async", fcs[i].number);
			free(results[i].replay.body);
		}
		n64 += 64;
	} while ((t1 = now_s()) - t0 < secs);
	double store64 = (double)n64 / (t1 - t0);
	n += n64;
	store_close(st);

	/* raw: a connection of our own with the service's settings. */
	sqlite3 *db;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		die("open", path);
	exec(db, "PRAGMA journal_mode = WAL");
	exec(db, "PRAGMA synchronous = FULL");
	exec(db, "PRAGMA foreign_keys = ON");
	sqlite3_busy_timeout(db, 5000);
	struct stmts s = {
		.c = prep(db, "INSERT INTO cases (tenant, seq, id, status, service, debtor_type, your_reference,"
			      " invoice_number, invoice_json, debtor_json, debtor_name, date_of_birth, currency,"
			      " original, remaining, costs, created_at, updated_at) VALUES (?1, ?2, ?3, 'pending',"
			      " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?14, ?15, ?15)"),
		.e = prep(db, "INSERT INTO case_events (case_id, seq, at, from_status, to_status, source, detail)"
			      " VALUES (?1, 1, ?2, NULL, 'pending', 'api', NULL)"),
		.o = prep(db, "INSERT INTO outbox (tenant, case_id, kind, ref_id, state, attempts, next_attempt_at,"
			      " created_at, updated_at) VALUES (?1, ?2, 'create', NULL, 'pending', 0, 0, ?3, ?3)"),
		.k = prep(db, "INSERT INTO idempotency (tenant, key, fingerprint, status, body, created_at)"
			      " VALUES (?1, ?2, ?3, 201, ?4, ?5)"),
	};
	/* The store's cases continue the per-tenant seq. */
	for (int i = 0; i < TENANTS; i++)
		seqs[i] = n / TENANTS + 2; /* a tenant may have one case more than n / TENANTS */
	long long commits1, commits32;
	double raw1 = raw_mode(db, &s, &p, 1, secs, &commits1);
	double raw32 = raw_mode(db, &s, &p, 32, secs, &commits32);
	sqlite3_finalize(s.c);
	sqlite3_finalize(s.e);
	sqlite3_finalize(s.o);
	sqlite3_finalize(s.k);
	sqlite3_close(db);
	case_input_free(&p.in);
	for (int i = 0; i < 3; i++) {
		snprintf(p2, sizeof p2, "%s%s", path, sfx[i]);
		unlink(p2);
	}
	printf("floor store-1 %.0f %.0f\n", store1, store1);
	printf("floor store-64 %.0f -\n", store64);
	printf("floor raw-1 %.0f %.0f\n", raw1, raw1);
	printf("floor raw-32 %.0f %.0f\n", raw32, raw32 / 32);
	printf("sqlite %s\n", sqlite3_libversion());
	return 0;
}
