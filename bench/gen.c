/* SPDX-License-Identifier: MIT */
/* bench/gen: builds a benchmark database of N collection cases over T tenants.
 *
 *   gen DB N [--tenants 10] [--seed 1] [--sample FILE] [--sample-per-tenant K]
 *
 * How (the honest short version, also in bench/README.md):
 *  1. store_open() creates the file with the service's own schema and
 *     migrations; store_settings_put() configures every tenant;
 *     store_secret_get() creates the national-id search key; store_close().
 *  2. The cases are then written with sqlite3 directly into that schema, in
 *     transactions of 50,000 cases, with journal_mode=OFF and
 *     synchronous=OFF on this one connection: the store API has no batch
 *     insert (one BEGIN IMMEDIATE ... COMMIT with fsync per case, ~4k/s),
 *     which would take minutes for 1M. Every row is what store_case_create
 *     and the later status changes would have written: the case, its
 *     events, its outbox row. The invoice and debtor JSON come from the
 *     service's own validator, case_validate(), run on a request body per
 *     case, so they have exactly the shape and size the service stores.
 *     Not written: idempotency records, payments, actions, settlements.
 *  3. journal_mode is set back to WAL and the file is reopened with
 *     store_open() (quick_check) to prove the service will accept it.
 *
 * Tenants get cases round-robin (case i belongs to tenant i % T), in the
 * order of creation time, the way a live service receives them: the b-tree
 * is filled by interleaved inserts, not tenant by tenant.
 * Deterministic for a given seed (except the search key and the random
 * parts of nothing else). */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "handlers/case_validate.h"
#include "lib/digest.h"
#include "handlers/settings_json.h"
#include "server/problem.h"
#include "store/store.h"

#define TX_CASES 50000
#define DAY_MS (86400LL * 1000)

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static unsigned rn(unsigned n) { return (unsigned)(rnd() % n); }

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("gen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static double thread_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_THREAD, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- dates ---- */

static void fmt_day(int64_t ms, char out[11])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static void fmt_ts(int64_t ms, char out[25])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(out, 25, "%Y-%m-%dT%H:%M:%S", &tm); /* 19 characters */
	int frac = (int)(ms % 1000);
	out[n] = '.';
	out[n + 1] = (char)('0' + frac / 100);
	out[n + 2] = (char)('0' + frac / 10 % 10);
	out[n + 3] = (char)('0' + frac % 10);
	out[n + 4] = 'Z';
	out[n + 5] = '\0';
}

/* ---- ids ---- */

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* "cc_" + ULID with the given time and random bits from the generator. */
static void ulid(const char *prefix, int64_t ms, char *out)
{
	size_t pl = strlen(prefix);
	memcpy(out, prefix, pl);
	char *p = out + pl;
	uint64_t t = (uint64_t)ms;
	for (int i = 9; i >= 0; i--) {
		p[i] = crockford[t & 31];
		t >>= 5;
	}
	uint64_t a = rnd(), b = rnd();
	for (int i = 10; i < 26; i++) {
		uint64_t *src = i < 22 ? &a : &b;
		p[i] = crockford[*src & 31];
		*src >>= 5;
	}
	p[26] = '\0';
}

/* A valid Norwegian organisation number (mod 11, weights 3 2 7 6 5 4 3 2). */
static void no_org_number(char out[10])
{
	static const int w[8] = {3, 2, 7, 6, 5, 4, 3, 2};
	for (;;) {
		int d[9], sum = 0;
		d[0] = 8 + (int)rn(2);
		for (int i = 1; i < 8; i++)
			d[i] = (int)rn(10);
		for (int i = 0; i < 8; i++)
			sum += d[i] * w[i];
		int k = 11 - sum % 11;
		if (k == 10)
			continue;
		d[8] = k == 11 ? 0 : k;
		for (int i = 0; i < 9; i++)
			out[i] = (char)('0' + d[i]);
		out[9] = '\0';
		return;
	}
}

/* A valid Norwegian fødselsnummer for a birth date YYYY-MM-DD (1900..1999). */
static void no_national_id(const char *birth, char out[12])
{
	static const int w1[9] = {3, 7, 6, 1, 8, 9, 4, 5, 2};
	static const int w2[10] = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
	for (;;) {
		int d[11];
		d[0] = birth[8] - '0';
		d[1] = birth[9] - '0';
		d[2] = birth[5] - '0';
		d[3] = birth[6] - '0';
		d[4] = birth[2] - '0';
		d[5] = birth[3] - '0';
		unsigned ind = rn(500); /* 000-499: born 1900-1999 */
		d[6] = (int)(ind / 100);
		d[7] = (int)(ind / 10 % 10);
		d[8] = (int)(ind % 10);
		int s = 0;
		for (int i = 0; i < 9; i++)
			s += d[i] * w1[i];
		int k1 = 11 - s % 11;
		if (k1 == 11)
			k1 = 0;
		if (k1 == 10)
			continue;
		d[9] = k1;
		s = 0;
		for (int i = 0; i < 10; i++)
			s += d[i] * w2[i];
		int k2 = 11 - s % 11;
		if (k2 == 11)
			k2 = 0;
		if (k2 == 10)
			continue;
		d[10] = k2;
		for (int i = 0; i < 11; i++)
			out[i] = (char)('0' + d[i]);
		out[11] = '\0';
		return;
	}
}

/* ---- the request bodies ---- */

static const char *const first_names[] = {"Kari", "Ola", "Ingrid", "Lars", "Nora", "Emil", "Sofie", "Jonas",
					  "Maja", "Henrik", "Sara", "Magnus", "Ida", "Mathias", "Emma",
					  "Kristian", "Thea", "Sander", "Hanna", "Eirik"};
static const char *const first_lower[] = {"kari", "ola", "ingrid", "lars", "nora", "emil", "sofie", "jonas",
					  "maja", "henrik", "sara", "magnus", "ida", "mathias", "emma",
					  "kristian", "thea", "sander", "hanna", "eirik"};
static const char *const last_names[] = {"Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Andersen",
					 "Pedersen", "Nilsen", "Kristiansen", "Jensen", "Karlsen", "Johnsen",
					 "Pettersen", "Eriksen", "Berg", "Haugen"};
static const char *const last_lower[] = {"nordmann", "hansen", "johansen", "olsen", "larsen", "andersen",
					 "pedersen", "nilsen", "kristiansen", "jensen", "karlsen", "johnsen",
					 "pettersen", "eriksen", "berg", "haugen"};
static const char *const streets[] = {"Storgata", "Kirkegata", "Parkveien", "Skolegata", "Fjordveien",
				      "Bakkeveien", "Strandgata", "Industriveien", "Sjøgata", "Løkkeveien"};
static const struct {
	const char *postal, *city;
} places[] = {{"0155", "Oslo"},     {"5003", "Bergen"},   {"7011", "Trondheim"}, {"4006", "Stavanger"},
	      {"9008", "Tromsø"},   {"3015", "Drammen"},  {"1606", "Fredrikstad"}, {"4610", "Kristiansand"},
	      {"2317", "Hamar"},    {"8006", "Bodø"}};
static const char *const plans[] = {"Subscription", "Broadband subscription", "Mobile plan", "Streaming plan",
				    "Software licence", "Membership fee"};
static const char *const months[] = {"January", "February", "March",     "April",   "May",      "June",
				     "July",    "August",   "September", "October", "November", "December"};
static const char *const company_words[] = {"Fjell", "Nord", "Vest", "Bygg", "Data", "Handel", "Service",
					    "Transport", "Consult", "Elektro"};

#define N_OF(a) (sizeof a / sizeof a[0])

struct gen_case {
	char body[2048];
	bool business;
	char invoice_number[32];
};

/* Writes a request body like the platform sends (tests/http/conftest.py
 * valid_case, varied): dates relative to the creation day. */
static void make_body(struct gen_case *g, int64_t created_ms, long long seq, int tenant)
{
	char issued[11], due[11], rem1[11], rem2[11], birth[11];
	int64_t due_ms = created_ms - (44 + rn(121)) * DAY_MS;
	int terms = rn(2) ? 14 : 30;
	fmt_day(due_ms - terms * DAY_MS, issued);
	fmt_day(due_ms, due);
	fmt_day(due_ms + 14 * DAY_MS, rem1);
	fmt_day(due_ms + 28 * DAY_MS, rem2);
	int nrem = 1 + (int)rn(2); /* collection needs at least one reminder */
	long long original = 9900 + (long long)rn(400000) * 5;
	long long outstanding = rn(5) ? original : original / 2;
	long long fees = 3500LL * nrem;
	unsigned fi = rn(N_OF(first_names)), li = rn(N_OF(last_names));
	unsigned cust = 1000 + rn(900000);
	snprintf(g->invoice_number, sizeof g->invoice_number, "INV-%02d-%08lld", tenant + 1, seq);
	char reminders[160];
	if (nrem == 0)
		snprintf(reminders, sizeof reminders, "[]");
	else if (nrem == 1)
		snprintf(reminders, sizeof reminders, "[{\"sent_on\":\"%s\",\"fee\":3500}]", rem1);
	else
		snprintf(reminders, sizeof reminders,
			 "[{\"sent_on\":\"%s\",\"fee\":3500},{\"sent_on\":\"%s\",\"fee\":3500}]", rem1, rem2);
	char debtor[1024];
	unsigned street = rn(N_OF(streets)), house = 1 + rn(120), place = rn(N_OF(places));
	unsigned phone = rn(10000000);
	g->business = rn(5) == 0;
	if (g->business) {
		char org[10];
		no_org_number(org);
		const char *w1 = company_words[rn(N_OF(company_words))], *w2 = company_words[rn(N_OF(company_words))];
		snprintf(debtor, sizeof debtor,
			 "{\"customer_number\":\"%u\",\"customer_type\":\"business\",\"name\":\"%s %s\","
			 "\"business_name\":\"%s%s AS\",\"org_number\":\"%s\",\"national_id\":null,"
			 "\"date_of_birth\":null,\"email\":\"faktura@%s%s.no\",\"phone\":\"+479%07u\","
			 "\"extra_fields\":[{\"purpose\":\"reference\",\"value\":\"PO-%u\"}],\"language\":\"nb\","
			 "\"address\":{\"line1\":\"%s %u\",\"line2\":null,\"postal_code\":\"%s\",\"city\":\"%s\","
			 "\"country\":\"NO\"}}",
			 cust, first_names[fi], last_names[li], w1, w2, org, first_lower[fi], last_lower[li], phone,
			 10000 + rn(90000), streets[street], house, places[place].postal, places[place].city);
	} else {
		int year = 1940 + (int)rn(60), month = 1 + (int)rn(12), day = 1 + (int)rn(28);
		snprintf(birth, sizeof birth, "%04d-%02d-%02d", year, month, day);
		char nid[16] = "null";
		if (rn(10) < 3) { /* 30% send a national id */
			char id[12];
			no_national_id(birth, id);
			snprintf(nid, sizeof nid, "\"%s\"", id);
		}
		snprintf(debtor, sizeof debtor,
			 "{\"customer_number\":\"%u\",\"customer_type\":\"consumer\",\"name\":\"%s %s\","
			 "\"business_name\":null,\"org_number\":null,\"national_id\":%s,"
			 "\"date_of_birth\":\"%s\",\"email\":\"%s.%s@example.no\",\"phone\":\"+479%07u\","
			 "\"extra_fields\":[{\"purpose\":\"phone_number\",\"value\":\"9%02u %02u %03u\"}],"
			 "\"language\":\"nb\",\"address\":{\"line1\":\"%s %u\",\"line2\":null,"
			 "\"postal_code\":\"%s\",\"city\":\"%s\",\"country\":\"NO\"}}",
			 cust, first_names[fi], last_names[li], nid, birth, first_lower[fi], last_lower[li], phone,
			 phone / 100000, phone / 1000 % 100, phone % 1000, streets[street], house,
			 places[place].postal, places[place].city);
	}
	snprintf(g->body, sizeof g->body,
		 "{\"your_reference\":\"cus_%u\",\"service\":\"collection\",\"invoice\":{\"number\":\"%s\","
		 "\"issued_on\":\"%s\",\"due_on\":\"%s\",\"currency\":\"NOK\",\"original_amount\":%lld,"
		 "\"outstanding_amount\":%lld,\"fees\":%lld,\"description\":\"%s %s %d\","
		 "\"payment_reference\":\"%011llu\",\"reminders\":%s,\"disputed\":false},\"debtor\":%s}",
		 cust, g->invoice_number, issued, due, original, outstanding, fees, plans[rn(N_OF(plans))],
		 months[rn(12)], 2024 + (int)rn(3), (unsigned long long)(rnd() % 100000000000ULL), reminders,
		 debtor);
}

/* ---- lifecycle: the status a case has reached and what got it there ---- */

struct life {
	const char *status;
	const char *stage, *agency_status;
	bool agency_case;     /* the agency has it: agency_case_id set */
	const char *outbox;   /* state of the create row */
	const char *chain[4]; /* statuses after pending, in order */
	const char *source[4];
	int nchain;
};

static void pick_life(struct life *l)
{
	memset(l, 0, sizeof *l);
	unsigned p = rn(100);
	l->outbox = "done";
	l->agency_case = true;
#define STEP(st, src) (l->chain[l->nchain] = (st), l->source[l->nchain++] = (src))
	if (p < 5) { /* pending: not yet forwarded */
		l->status = "pending";
		l->outbox = "pending";
		l->agency_case = false;
	} else if (p < 12) {
		l->status = "submitted";
		STEP("submitted", "forwarder");
		l->agency_case = false;
	} else if (p < 62) {
		l->status = "open";
		l->stage = "collection";
		l->agency_status = "ACTIVE";
		STEP("submitted", "forwarder");
		STEP("open", "sync");
	} else if (p < 65) {
		l->status = "paused";
		l->stage = "collection";
		l->agency_status = "PAUSED";
		STEP("submitted", "forwarder");
		STEP("open", "sync");
		STEP("paused", "sync");
	} else if (p < 67) {
		l->status = "disputed";
		l->stage = "collection";
		l->agency_status = "DISPUTED";
		STEP("submitted", "forwarder");
		STEP("open", "sync");
		STEP("disputed", "sync");
	} else if (p < 68) {
		l->status = "failed";
		l->outbox = "failed";
		l->agency_case = false;
		STEP("failed", "forwarder");
	} else if (p < 86) {
		l->status = "paid";
		l->stage = "collection";
		l->agency_status = "CLOSED_PAID";
		STEP("submitted", "forwarder");
		STEP("open", "sync");
		STEP("paid", "sync");
	} else if (p < 90) {
		l->status = "withdrawn";
		l->outbox = "cancelled";
		l->agency_case = false;
		STEP("withdrawn", "api");
	} else if (p < 99) {
		l->status = "closed";
		l->stage = "surveillance";
		l->agency_status = "CLOSED";
		STEP("submitted", "forwarder");
		STEP("open", "sync");
		STEP("closed", "sync");
	} else {
		l->status = "rejected";
		l->outbox = "failed";
		l->agency_case = false;
		STEP("rejected", "forwarder");
	}
#undef STEP
}

/* ---- sqlite ---- */

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		die("%s: %s", sql, msg ? msg : sqlite3_errmsg(db));
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		die("prepare: %s: %s", sqlite3_errmsg(db), sql);
	return st;
}

static void bt(sqlite3_stmt *st, int i, const char *s)
{
	if ((s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i)) != SQLITE_OK)
		die("bind %d", i);
}

static void bi(sqlite3_stmt *st, int i, int64_t v)
{
	if (sqlite3_bind_int64(st, i, v) != SQLITE_OK)
		die("bind %d", i);
}

static void step(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		die("%s: %s", what, sqlite3_errmsg(db));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static void remove_db(const char *path)
{
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	char p[4096];
	for (size_t i = 0; i < N_OF(sfx); i++) {
		snprintf(p, sizeof p, "%s%s", path, sfx[i]);
		if (unlink(p) != 0 && errno != ENOENT)
			die("remove %s: %s", p, strerror(errno));
	}
}

/* ---- one generated case, built by the producer, written by main ---- */

#define BATCH 1000
#define NSLOTS 4

struct row {
	int t;
	long long seq;
	long long i;
	char id[40];
	struct case_input in;
	struct life l;
	int64_t at[5];
	char ts[5][25];
	int submitted_k, closed_k; /* index into ts, -1 for NULL */
	int64_t original, paid, credited, interest;
	char agency_id[24];
	char nid_hash[DIGEST_HEX_LEN];
};

struct slot {
	bool full;
	int nrows;
	struct row rows[BATCH];
};

struct producer {
	long long n;
	int tenants;
	const struct agency_settings *set;
	const unsigned char *key;
	int64_t start_ms;
	double step_ms;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	double cpu_s; /* the producer's CPU time */
	struct slot slots[NSLOTS];
};

static void build_row(struct producer *pr, long long i, struct row *r, struct gen_case *g)
{
	r->i = i;
	r->t = (int)(i % pr->tenants);
	r->seq = i / pr->tenants + 1;
	int64_t created = pr->start_ms + (int64_t)((double)i * pr->step_ms);
	char today[11];
	ulid("cc_", created, r->id);
	fmt_day(created, today);
	make_body(g, created, r->seq, r->t);
	json_object *body = json_tokener_parse(g->body);
	if (!body)
		die("case %lld: body does not parse: %s", i, g->body);
	struct field_errors errs = {0};
	memset(&r->in, 0, sizeof r->in);
	if (!case_validate(body, &pr->set[r->t], today, &r->in, &errs)) {
		fprintf(stderr, "gen: case %lld refused by case_validate:\n%s\n", i, g->body);
		for (size_t e = 0; e < errs.n; e++)
			fprintf(stderr, "  %s %s: %s\n", errs.v[e].pointer, errs.v[e].code, errs.v[e].detail);
		die("the generated body must be valid");
	}
	json_object_put(body);
	field_errors_free(&errs);

	struct life *l = &r->l;
	pick_life(l);
	/* Each later step a little after the one before. */
	r->at[0] = created;
	for (int k = 1; k <= l->nchain; k++)
		r->at[k] = r->at[k - 1] + (k == 1 ? 2000 + rn(60000) : (int64_t)(1 + rn(40)) * DAY_MS);
	for (int k = 0; k <= l->nchain; k++)
		fmt_ts(r->at[k], r->ts[k]);
	r->submitted_k = r->closed_k = -1;
	for (int k = 0; k < l->nchain; k++) {
		if (!strcmp(l->chain[k], "submitted"))
			r->submitted_k = k + 1;
		if (!strcmp(l->chain[k], "paid") || !strcmp(l->chain[k], "withdrawn") ||
		    !strcmp(l->chain[k], "closed") || !strcmp(l->chain[k], "rejected"))
			r->closed_k = k + 1;
	}
	/* The claim handed over is what is still outstanding (cases_post.c). */
	r->original = r->in.outstanding_amount;
	r->paid = r->credited = r->interest = 0;
	if (l->agency_case)
		r->interest = rn(4000);
	if (!strcmp(l->status, "paid"))
		r->paid = r->original;
	else if (!strcmp(l->status, "closed"))
		r->credited = r->original;
	else if (!strcmp(l->status, "open") && rn(4) == 0)
		r->paid = r->original / 4;
	snprintf(r->agency_id, sizeof r->agency_id, "AG%09lld", i + 1);
	if (r->in.national_id[0])
		digest_national_id(pr->key, r->in.national_id, r->nid_hash);
}

static void *produce(void *arg)
{
	struct producer *pr = arg;
	static struct gen_case g;
	for (long long i = 0; i < pr->n; i += BATCH) {
		struct slot *sl = &pr->slots[(i / BATCH) % NSLOTS];
		pthread_mutex_lock(&pr->mu);
		while (sl->full)
			pthread_cond_wait(&pr->cv, &pr->mu);
		pthread_mutex_unlock(&pr->mu);
		sl->nrows = (int)(pr->n - i < BATCH ? pr->n - i : BATCH);
		for (int k = 0; k < sl->nrows; k++)
			build_row(pr, i + k, &sl->rows[k], &g);
		pthread_mutex_lock(&pr->mu);
		sl->full = true;
		pthread_cond_broadcast(&pr->cv);
		pthread_mutex_unlock(&pr->mu);
	}
	pr->cpu_s = thread_cpu_s();
	return NULL;
}

static void insert_row(sqlite3 *db, const char *tenant, const struct row *r, sqlite3_stmt *ins_case,
		       sqlite3_stmt *ins_event, sqlite3_stmt *ins_outbox)
{
	const struct life *l = &r->l;
	const struct case_input *in = &r->in;
	char created_at[25];
	memcpy(created_at, r->ts[0], sizeof created_at);
	sqlite3_stmt *st = ins_case;
	bt(st, 1, tenant);
	bi(st, 2, r->seq);
	bt(st, 3, r->id);
	bt(st, 4, l->status);
	bt(st, 5, l->stage);
	bt(st, 6, l->agency_status);
	bt(st, 7, in->service);
	bt(st, 8, in->debtor_type);
	bt(st, 9, in->your_reference[0] ? in->your_reference : NULL);
	bt(st, 10, l->agency_case ? r->agency_id : NULL);
	bt(st, 11, in->invoice_number);
	bt(st, 12, in->invoice_json);
	bt(st, 13, in->debtor_json);
	bt(st, 14, in->debtor_name[0] ? in->debtor_name : NULL);
	bt(st, 15, in->business_name[0] ? in->business_name : NULL);
	bt(st, 16, in->org_number[0] ? in->org_number : NULL);
	bt(st, 17, in->date_of_birth[0] ? in->date_of_birth : NULL);
	bt(st, 18, in->national_id[0] ? in->national_id : NULL);
	bt(st, 19, in->national_id[0] ? r->nid_hash : NULL);
	bt(st, 20, in->currency);
	bi(st, 21, r->original);
	bi(st, 22, r->paid);
	bi(st, 23, r->credited);
	bi(st, 24, r->original - r->paid - r->credited);
	bi(st, 25, r->interest);
	bi(st, 26, in->fees);
	bt(st, 27, created_at);
	bt(st, 28, r->ts[l->nchain]);
	bt(st, 29, r->submitted_k < 0 ? NULL : r->ts[r->submitted_k]);
	bt(st, 30, r->closed_k < 0 ? NULL : r->ts[r->closed_k]);
	step(db, st, "insert case");

	const char *from = NULL, *to = "pending";
	for (int k = 0; k <= l->nchain; k++) {
		st = ins_event;
		bt(st, 1, r->id);
		bi(st, 2, k + 1);
		bt(st, 3, r->ts[k]);
		bt(st, 4, from);
		bt(st, 5, to);
		bt(st, 6, k == 0 ? "api" : l->source[k - 1]);
		bt(st, 7, !strcmp(to, "rejected") ? "agency: creditor reference unknown" : NULL);
		step(db, st, "insert event");
		from = to;
		if (k < l->nchain)
			to = l->chain[k];
	}

	st = ins_outbox;
	bool failed = !strcmp(l->outbox, "failed");
	bt(st, 1, tenant);
	bt(st, 2, r->id);
	bt(st, 3, l->outbox);
	bi(st, 4, !strcmp(l->outbox, "pending") || !strcmp(l->outbox, "cancelled") ? 0 : failed ? 12 : 1);
	bi(st, 5, failed || !strcmp(l->outbox, "done") ? r->at[1] : 0);
	bt(st, 6, failed ? "agency answered 422" : NULL);
	bt(st, 7, created_at);
	bt(st, 8, l->nchain ? r->ts[1] : created_at);
	step(db, st, "insert outbox");
}

static void usage(void)
{
	fprintf(stderr, "usage: gen DB N [--tenants T] [--seed S] [--sample FILE] [--sample-per-tenant K]\n"
			"  writes a new database DB (replacing one there) with N cases over T tenants\n"
			"  (bench-t01..), and FILE: a Lua table of K random case ids per tenant.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		usage();
	const char *path = argv[1];
	long long n = atoll(argv[2]);
	int tenants = 10, per_tenant = 2000;
	unsigned long long seed = 1;
	const char *sample = NULL;
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--tenants") && i + 1 < argc)
			tenants = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--sample") && i + 1 < argc)
			sample = argv[++i];
		else if (!strcmp(argv[i], "--sample-per-tenant") && i + 1 < argc)
			per_tenant = atoi(argv[++i]);
		else
			usage();
	}
	if (n < tenants || tenants < 1 || tenants > 99 || per_tenant < 1)
		usage();
	rng_state = seed;
	/* No memory statistics (a global mutex per allocation); before any use. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	double t0 = now_s();
	char err[512];
	char tenant_name[100][24]; /* "bench-tNN"; room for any int, as the compiler counts */
	for (int t = 0; t < tenants; t++)
		snprintf(tenant_name[t], sizeof tenant_name[t], "bench-t%02d", t + 1);

	/* 1. the service's schema, settings and search key, through the store. */
	remove_db(path);
	struct store *s = store_open(path, &(struct store_options){.readers = 1}, err, sizeof err);
	if (!s)
		die("store_open %s: %s", path, err);
	/* Cases span the two years before yesterday; creates during the run are newer. */
	int64_t now_ms = (int64_t)time(NULL) * 1000;
	int64_t end_ms = now_ms - DAY_MS, start_ms = end_ms - 730 * DAY_MS;
	struct agency_settings set[100];
	for (int t = 0; t < tenants; t++) {
		struct agency_settings *a = &set[t];
		settings_defaults(a);
		snprintf(a->creditor_reference, sizeof a->creditor_reference, "CR-%.15s", tenant_name[t]);
		snprintf(a->api_key, sizeof a->api_key, "key-%.15s", tenant_name[t]);
		a->api_key_set = true;
		a->api_key_valid = 1;
		fmt_ts(start_ms - DAY_MS, a->updated_at);
		if (store_settings_put(s, tenant_name[t], a, NULL) != STORE_OK)
			die("store_settings_put %s", tenant_name[t]);
	}
	unsigned char key[32];
	if (store_secret_get(s, "national_id_hash_key", key, sizeof key) != STORE_OK)
		die("store_secret_get");
	store_close(s);

	/* 2. the cases, in big transactions on one connection. */
	sqlite3 *db;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		die("open %s: %s", path, sqlite3_errmsg(db));
	exec(db, "PRAGMA journal_mode = DELETE");
	exec(db, "PRAGMA journal_mode = OFF");
	exec(db, "PRAGMA synchronous = OFF");
	exec(db, "PRAGMA locking_mode = EXCLUSIVE");
	exec(db, "PRAGMA cache_size = -1048576"); /* 1 GiB */
	exec(db, "PRAGMA foreign_keys = OFF");
	/* The secondary indexes of the three tables written here are dropped for
	 * the load and re-created afterwards from their own CREATE INDEX text in
	 * sqlite_schema (a sort instead of a b-tree insert per row: 40% of the
	 * writer's time). The tables themselves, where the rows live, are
	 * filled in creation order like a live service fills them. */
	char *idx_sql[32];
	int nidx = 0;
	{
		sqlite3_stmt *q = prep(db, "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL"
					   " AND tbl_name IN ('cases', 'case_events', 'outbox') ORDER BY rowid");
		char drop[32][128];
		while (sqlite3_step(q) == SQLITE_ROW) {
			if (nidx == 32)
				die("more than 32 indexes");
			snprintf(drop[nidx], sizeof drop[nidx], "DROP INDEX \"%s\"", (const char *)sqlite3_column_text(q, 0));
			if (!(idx_sql[nidx] = strdup((const char *)sqlite3_column_text(q, 1))))
				die("out of memory");
			nidx++;
		}
		sqlite3_finalize(q);
		for (int k = 0; k < nidx; k++)
			exec(db, drop[k]);
	}
	sqlite3_stmt *ins_case = prep(db,
		"INSERT INTO cases (tenant, seq, id, status, stage, agency_status, service, debtor_type,"
		" your_reference, agency_case_id, invoice_number, invoice_json, debtor_json,"
		" debtor_name, business_name, org_number, date_of_birth, national_id,"
		" national_id_hash, currency, original, paid, credited, remaining, interest, costs,"
		" created_at, updated_at, submitted_at, closed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
		" ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23,"
		" ?24, ?25, ?26, ?27, ?28, ?29, ?30)");
	sqlite3_stmt *ins_event = prep(db,
		"INSERT INTO case_events (case_id, seq, at, from_status, to_status, source, detail)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	sqlite3_stmt *ins_outbox = prep(db,
		"INSERT INTO outbox (tenant, case_id, kind, ref_id, state, attempts, next_attempt_at,"
		" last_error, created_at, updated_at) VALUES (?1, ?2, 'create', NULL, ?3, ?4, ?5, ?6, ?7, ?8)");

	/* Two threads: this one writes rows, the producer builds and validates
	 * the next ones (json-c and the validator are half of the work). */
	static struct producer pr; /* megabytes: not on the stack */
	pr.n = n;
	pr.tenants = tenants;
	pr.set = set;
	pr.key = key;
	pr.start_ms = start_ms;
	pr.step_ms = (double)(end_ms - start_ms) / (double)n;
	pthread_mutex_init(&pr.mu, NULL);
	pthread_cond_init(&pr.cv, NULL);
	pthread_t th;
	if (pthread_create(&th, NULL, produce, &pr) != 0)
		die("pthread_create");
	size_t json_bytes = 0;
	exec(db, "BEGIN");
	for (long long i = 0; i < n; i += BATCH) {
		struct slot *sl = &pr.slots[(i / BATCH) % NSLOTS];
		pthread_mutex_lock(&pr.mu);
		while (!sl->full)
			pthread_cond_wait(&pr.cv, &pr.mu);
		pthread_mutex_unlock(&pr.mu);
		for (int k = 0; k < sl->nrows; k++) {
			struct row *r = &sl->rows[k];
			json_bytes += strlen(r->in.invoice_json) + strlen(r->in.debtor_json);
			insert_row(db, tenant_name[r->t], r, ins_case, ins_event, ins_outbox);
			case_input_free(&r->in);
		}
		pthread_mutex_lock(&pr.mu);
		sl->full = false;
		pthread_cond_broadcast(&pr.cv);
		pthread_mutex_unlock(&pr.mu);
		long long done = i + sl->nrows;
		if (done % TX_CASES == 0 && done < n) {
			exec(db, "COMMIT");
			exec(db, "BEGIN");
			if (done % (TX_CASES * 4) == 0)
				fprintf(stderr, "gen: %lld cases, %.1f s\n", done, now_s() - t0);
		}
	}
	pthread_join(th, NULL);
	double writer_cpu = thread_cpu_s();
	exec(db, "COMMIT");
	sqlite3_finalize(ins_case);
	sqlite3_finalize(ins_event);
	sqlite3_finalize(ins_outbox);
	double t_idx = now_s();
	exec(db, "BEGIN");
	for (int k = 0; k < nidx; k++) {
		exec(db, idx_sql[k]);
		free(idx_sql[k]);
	}
	exec(db, "COMMIT");
	t_idx = now_s() - t_idx;
	exec(db, "PRAGMA locking_mode = NORMAL");
	exec(db, "PRAGMA journal_mode = WAL");
	double t_ins = now_s() - t0;

	/* The sample: random case ids of each tenant, for GET /v1/collection-cases/{id}. */
	if (sample) {
		FILE *f = fopen(sample, "w");
		if (!f)
			die("%s: %s", sample, strerror(errno));
		sqlite3_stmt *q = prep(db, "SELECT id FROM cases WHERE tenant = ?1 AND seq = ?2");
		fprintf(f, "-- written by bench/gen: %lld cases, %d tenants, seed %llu\nreturn {\n  cases = %lld,\n"
			   "  tenants = {\n", n, tenants, seed, n);
		for (int t = 0; t < tenants; t++) {
			long long cnt = n / tenants + (t < n % tenants ? 1 : 0);
			fprintf(f, "    { name = \"%s\", maxseq = %lld, ids = {\n", tenant_name[t], cnt);
			for (int k = 0; k < per_tenant; k++) {
				bt(q, 1, tenant_name[t]);
				bi(q, 2, 1 + (long long)(rnd() % (unsigned long long)cnt));
				if (sqlite3_step(q) != SQLITE_ROW)
					die("sample: %s", sqlite3_errmsg(db));
				fprintf(f, "      \"%s\",\n", (const char *)sqlite3_column_text(q, 0));
				sqlite3_reset(q);
			}
			fprintf(f, "    } },\n");
		}
		fprintf(f, "  },\n}\n");
		sqlite3_finalize(q);
		if (fclose(f) != 0)
			die("%s: %s", sample, strerror(errno));
	}
	if (sqlite3_close(db) != SQLITE_OK)
		die("close: %s", sqlite3_errmsg(db));

	/* 3. the service must accept it: store_open runs its checks (quick_check). */
	double t1 = now_s();
	s = store_open(path, &(struct store_options){.readers = 1}, err, sizeof err);
	if (!s)
		die("store_open after generation: %s", err);
	store_close(s);
	double t_check = now_s() - t1;
	fprintf(stderr,
		"gen: %lld cases over %d tenants in %.1f s (insert %.1f s of which indexes %.1f s,"
		" store_open/quick_check %.1f s);"
		" CPU: bodies+validation %.1f s, SQLite writer %.1f s;"
		" invoice+debtor JSON %.0f bytes per case on average\n",
		n, tenants, now_s() - t0, t_ins, t_idx, t_check, pr.cpu_s, writer_cpu, (double)json_bytes / (double)n);
	return 0;
}
