/* SPDX-License-Identifier: MIT */
/* The schema as a list of migrations, applied in order by PRAGMA user_version.
 * A new migration is one string appended to `migrations`; never edit one
 * that has shipped. */
#include <stdio.h>
#include <string.h>

#include "store/store_internal.h"

/* STRICT tables (SQLite >= 3.37) reject a value of the wrong type instead of
 * storing it as whatever it is. WITHOUT ROWID keeps rows in their primary-key
 * b-tree: cases of one tenant lie together in creation order, so a listing
 * page is one contiguous range read. */
static const char *const migrations[] = {
	/* 1: cases, their events, the outbox, idempotency records, settings. */
	"CREATE TABLE cases ("
	"  tenant TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  id TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('pending', 'submitted', 'open', 'paused',"
	"    'disputed', 'failed', 'paid', 'withdrawn', 'closed', 'rejected')),"
	"  stage TEXT,"
	"  agency_status TEXT,"
	"  service TEXT NOT NULL,"
	"  debtor_type TEXT NOT NULL,"
	"  your_reference TEXT,"
	"  agency_case_id TEXT,"
	"  invoice_number TEXT NOT NULL,"
	"  invoice_json TEXT NOT NULL,"
	"  debtor_json TEXT NOT NULL,"
	"  debtor_name TEXT,"
	"  business_name TEXT,"
	"  org_number TEXT,"
	"  date_of_birth TEXT,"
	"  national_id TEXT,"
	"  national_id_hash TEXT,"
	"  currency TEXT NOT NULL,"
	"  original INTEGER NOT NULL DEFAULT 0,"
	"  paid INTEGER NOT NULL DEFAULT 0,"
	"  credited INTEGER NOT NULL DEFAULT 0,"
	"  remaining INTEGER NOT NULL DEFAULT 0,"
	"  interest INTEGER NOT NULL DEFAULT 0,"
	"  costs INTEGER NOT NULL DEFAULT 0,"
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL,"
	"  submitted_at TEXT,"
	"  closed_at TEXT,"
	"  PRIMARY KEY (tenant, seq)"
	") STRICT, WITHOUT ROWID;"
	"CREATE UNIQUE INDEX cases_id ON cases (id);"
	/* One live case per invoice. The duplicate check in store_case_create
	 * repeats this WHERE word for word: SQLite uses a partial index only
	 * when the query's WHERE contains the index's terms. */
	"CREATE UNIQUE INDEX cases_live_invoice ON cases (tenant, invoice_number)"
	"  WHERE status NOT IN ('withdrawn', 'rejected');"
	/* Exact searches of the listing. An index of a WITHOUT ROWID table ends
	 * with the primary key, (tenant, seq), so equal (tenant, x) entries are
	 * already in seq order: no sort step for ORDER BY seq. */
	"CREATE INDEX cases_invoice ON cases (tenant, invoice_number);"
	"CREATE INDEX cases_national_id ON cases (tenant, national_id_hash)"
	"  WHERE national_id_hash IS NOT NULL;"
	"CREATE INDEX cases_birth ON cases (tenant, date_of_birth) WHERE date_of_birth IS NOT NULL;"
	"CREATE TABLE case_events ("
	"  case_id TEXT NOT NULL REFERENCES cases (id),"
	"  seq INTEGER NOT NULL,"
	"  at TEXT NOT NULL,"
	"  from_status TEXT,"
	"  to_status TEXT NOT NULL,"
	"  source TEXT NOT NULL CHECK (source IN ('api', 'forwarder', 'sync')),"
	"  detail TEXT,"
	"  PRIMARY KEY (case_id, seq)"
	") STRICT, WITHOUT ROWID;"
	/* AUTOINCREMENT: ids never reused, so they order the outbox forever. */
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  tenant TEXT NOT NULL,"
	"  case_id TEXT NOT NULL REFERENCES cases (id),"
	"  kind TEXT NOT NULL CHECK (kind IN ('create', 'action', 'payment')),"
	"  ref_id TEXT,"
	"  state TEXT NOT NULL DEFAULT 'pending'"
	"    CHECK (state IN ('pending', 'sending', 'done', 'failed', 'cancelled')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt_at INTEGER NOT NULL DEFAULT 0," /* ms since the epoch */
	"  last_error TEXT,"
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL"
	") STRICT;"
	"CREATE INDEX outbox_due ON outbox (state, next_attempt_at);"
	/* A case's rows in order (actions wait behind the create); also the
	 * child index the foreign key needs. */
	"CREATE INDEX outbox_case ON outbox (case_id, id);"
	"CREATE TABLE idempotency ("
	"  tenant TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  fingerprint TEXT NOT NULL,"
	"  status INTEGER NOT NULL,"
	"  body BLOB NOT NULL,"
	"  created_at TEXT NOT NULL,"
	"  PRIMARY KEY (tenant, key)"
	") STRICT, WITHOUT ROWID;"
	"CREATE TABLE agency_settings ("
	"  tenant TEXT PRIMARY KEY NOT NULL,"
	"  creditor_reference TEXT NOT NULL,"
	"  api_key TEXT,"
	"  service TEXT NOT NULL,"
	"  customer_type TEXT NOT NULL,"
	"  min_days_overdue INTEGER NOT NULL DEFAULT 14,"
	"  reminder_wait_days INTEGER NOT NULL DEFAULT 14,"
	"  min_amount INTEGER NOT NULL DEFAULT 1,"
	"  enabled INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),"
	"  api_key_valid INTEGER CHECK (api_key_valid IN (0, 1))," /* NULL: unknown */
	"  updated_at TEXT NOT NULL"
	") STRICT, WITHOUT ROWID;",
	/* 2: per-database secrets (the national-id search key). */
	"CREATE TABLE secrets ("
	"  name TEXT PRIMARY KEY,"
	"  value BLOB NOT NULL"
	") STRICT, WITHOUT ROWID;",
	/* 3: after the handoff: payments, actions, settlements, agency events
	 * applied, and the outbox's "outcome unknown" mark. */
	"CREATE TABLE payments ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  tenant TEXT NOT NULL,"
	"  case_id TEXT NOT NULL REFERENCES cases (id),"
	"  kind TEXT NOT NULL CHECK (kind IN ('payment', 'credit_note')),"
	"  amount INTEGER NOT NULL CHECK (amount > 0),"
	/* What counted in the balance: all of an api payment (checked against
	 * remaining), an agency payment only up to what was still owed. */
	"  applied INTEGER NOT NULL CHECK (applied >= 0 AND applied <= amount),"
	"  paid_on TEXT NOT NULL,"
	"  reference TEXT,"
	"  source TEXT NOT NULL CHECK (source IN ('api', 'agency')),"
	"  agency_payment_id TEXT,"
	"  created_at TEXT NOT NULL,"
	"  CHECK ((source = 'agency') = (agency_payment_id IS NOT NULL))"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX payments_case ON payments (case_id, created_at);"
	/* The idempotent consumer's key: each agency payment is applied once. */
	"CREATE UNIQUE INDEX payments_agency ON payments (tenant, agency_payment_id)"
	"  WHERE agency_payment_id IS NOT NULL;"
	"CREATE TABLE actions ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  tenant TEXT NOT NULL,"
	"  case_id TEXT NOT NULL REFERENCES cases (id),"
	"  type TEXT NOT NULL CHECK (type IN ('comment', 'withdraw', 'pause', 'resume', 'dispute')),"
	"  comment TEXT,"
	"  state TEXT NOT NULL"
	"    CHECK (state IN ('pending', 'sent', 'failed', 'cancelled', 'done')),"
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX actions_case ON actions (case_id, created_at);"
	/* seq orders a tenant's settlements within a settlement date and is the
	 * listing's cursor key. */
	"CREATE TABLE settlements ("
	"  tenant TEXT NOT NULL,"
	"  id TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  agency_settlement_id TEXT NOT NULL,"
	"  settlement_date TEXT NOT NULL,"
	"  agency TEXT NOT NULL,"
	"  remittance_reference TEXT,"
	"  amount INTEGER NOT NULL,"
	"  currency TEXT NOT NULL,"
	"  created_at TEXT NOT NULL,"
	"  PRIMARY KEY (tenant, id),"
	"  UNIQUE (tenant, agency_settlement_id),"
	"  UNIQUE (tenant, seq)"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX settlements_date ON settlements (tenant, settlement_date, seq);"
	/* pos keeps the agency's order of the allocations. */
	"CREATE TABLE settlement_allocations ("
	"  settlement_id TEXT NOT NULL,"
	"  allocation_id TEXT NOT NULL,"
	"  pos INTEGER NOT NULL,"
	"  case_id TEXT REFERENCES cases (id),"
	"  invoice_number TEXT NOT NULL,"
	"  amount INTEGER NOT NULL,"
	"  allocation_date TEXT NOT NULL,"
	"  PRIMARY KEY (settlement_id, allocation_id)"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX settlement_allocations_case ON settlement_allocations (case_id);"
	"CREATE TABLE agency_events ("
	"  case_id TEXT NOT NULL REFERENCES cases (id),"
	"  event_id TEXT NOT NULL,"
	"  PRIMARY KEY (case_id, event_id)"
	") STRICT, WITHOUT ROWID;"
	/* The sync finds a case by the agency's id. */
	"CREATE INDEX cases_agency_case ON cases (tenant, agency_case_id)"
	"  WHERE agency_case_id IS NOT NULL;"
	/* 1: an earlier send of this row has an unknown outcome (timeout, reset,
	 * a crash while sending): look the invoice up before sending again. */
	"ALTER TABLE outbox ADD COLUMN lookup_first INTEGER NOT NULL DEFAULT 0"
	"  CHECK (lookup_first IN (0, 1));",
	/* 4: failed cases counted for /metrics without a scan. */
	"CREATE INDEX cases_failed ON cases(status) WHERE status = 'failed';",
	/* 5: events and webhooks (DESIGN.md "Events and webhooks"), who caused
	 * each change, and the Location of a recorded answer. */
	/* pos orders the feed: AUTOINCREMENT never reuses one, and one writer
	 * commits at a time, so pos order is commit order. body is the event
	 * as listed and delivered, written once. endpoint_id is set only for a
	 * webhook.test, which goes to that endpoint and is not in the feed. */
	"CREATE TABLE events ("
	"  pos INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  id TEXT NOT NULL UNIQUE,"
	"  tenant TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  case_id TEXT,"
	"  subject TEXT NOT NULL," /* what sequence counts: the case, settlement or endpoint */
	"  sequence INTEGER NOT NULL CHECK (sequence > 0),"
	"  created_at TEXT NOT NULL,"
	"  endpoint_id TEXT,"
	"  body TEXT NOT NULL"
	") STRICT;"
	"CREATE UNIQUE INDEX events_subject ON events (subject, sequence);"
	/* The last sequence of each subject, kept when its events are pruned:
	 * a receiver never sees a sequence again. */
	"CREATE TABLE event_sequences ("
	"  subject TEXT PRIMARY KEY NOT NULL,"
	"  last INTEGER NOT NULL"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX events_tenant ON events (tenant, pos) WHERE endpoint_id IS NULL;"
	"CREATE INDEX events_case ON events (case_id, pos) WHERE case_id IS NOT NULL;"
	"CREATE INDEX events_created ON events (created_at);"
	/* event_types: ",a,b," or ",*,", so that one instr() finds a type. */
	"CREATE TABLE webhook_endpoints ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  tenant TEXT NOT NULL,"
	"  seq INTEGER NOT NULL," /* the tenant's creation order: the listing's cursor key */
	"  url TEXT NOT NULL,"
	"  event_types TEXT NOT NULL,"
	"  description TEXT NOT NULL DEFAULT '',"
	"  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),"
	"  disabled_reason TEXT CHECK (disabled_reason IN ('gone', 'failing')),"
	"  secret TEXT NOT NULL,"
	"  previous_secret TEXT,"
	"  previous_until INTEGER," /* ms: the previous secret signs beside the new one until then */
	"  failing_since INTEGER,"  /* ms: the first failure since the last success */
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL,"
	"  UNIQUE (tenant, seq)"
	") STRICT, WITHOUT ROWID;"
	/* One row per endpoint and event: its state and the next attempt. */
	"CREATE TABLE webhook_deliveries ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,"
	"  event_pos INTEGER NOT NULL REFERENCES events (pos),"
	"  subject TEXT NOT NULL,"
	"  sequence INTEGER NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'succeeded', 'failed', 'cancelled')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt_at INTEGER NOT NULL," /* ms since the epoch */
	"  created_at INTEGER NOT NULL"       /* ms: the oldest undelivered age */
	") STRICT;"
	"CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id)"
	"  WHERE state = 'pending';"
	"CREATE INDEX webhook_deliveries_order ON webhook_deliveries (endpoint_id, subject, sequence)"
	"  WHERE state IN ('pending', 'sending');"
	"CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_pos);"
	"CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id);"
	/* The attempt log of GET .../deliveries: one row per attempt. */
	"CREATE TABLE webhook_attempts ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,"
	"  delivery_id INTEGER NOT NULL,"
	"  event_id TEXT NOT NULL,"
	"  attempt INTEGER NOT NULL,"
	"  at TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),"
	"  status_code INTEGER,"
	"  duration_ms INTEGER,"
	"  error TEXT,"
	"  next_attempt_at TEXT"
	") STRICT;"
	"CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);"
	"CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);"
	"CREATE INDEX webhook_attempts_at ON webhook_attempts (at);"
	/* actor: {sub, request_id} of the request that caused a change (JSON),
	 * NULL for the forwarder and the sync. */
	"ALTER TABLE case_events ADD COLUMN actor TEXT;"
	"ALTER TABLE payments ADD COLUMN actor TEXT;"
	"ALTER TABLE actions ADD COLUMN actor TEXT;"
	"ALTER TABLE agency_settings ADD COLUMN actor TEXT;"
	"ALTER TABLE idempotency ADD COLUMN location TEXT;"
	"CREATE INDEX idempotency_created ON idempotency (created_at);"
	/* A direct payment's reference is booked once per case and kind. */
	"CREATE INDEX payments_reference ON payments (case_id, kind, reference)"
	"  WHERE source = 'api' AND reference IS NOT NULL;",
	/* 6: a claimed outbox row's lease (ms since the epoch). A claim lasts
	 * until then; a row still sending after it is taken over by the next
	 * claim, which looks the invoice up first. attempts, raised by every
	 * claim, is the lease's token: an end must name it, so the late end of
	 * a claimer whose lease was taken over changes nothing. */
	"ALTER TABLE outbox ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;",
	/* 7: the same lease for a webhook delivery under way (its token: the
	 * delivery's attempts). */
	"ALTER TABLE webhook_deliveries ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;",
	/* 8: whose turn a tenant's sync round is (replicas on one database
	 * take turns): held until lease_until, last ended at ended_at (ms). */
	"CREATE TABLE sync_rounds ("
	"  tenant TEXT PRIMARY KEY,"
	"  lease_until INTEGER NOT NULL DEFAULT 0,"
	"  ended_at INTEGER NOT NULL DEFAULT 0"
	") STRICT, WITHOUT ROWID;",
	/* 9: the agency environment a tenant's calls go to (INKASSO_AGENCY_URL
	 * or INKASSO_AGENCY_STAGING_URL); existing tenants stay on production.
	 * The settings' actor column (5) is written from now on. */
	("ALTER TABLE agency_settings ADD COLUMN agency_environment TEXT NOT NULL DEFAULT 'production'"
	 "  CHECK (agency_environment IN ('production', 'staging'));"), /* one element (clang) */
	/* 10: a case's allocations in the detail's order, so that reading them
	 * needs no sort (a temporary b-tree per case read, even for none). */
	"DROP INDEX settlement_allocations_case;"
	"CREATE INDEX settlement_allocations_case ON settlement_allocations"
	"  (case_id, allocation_date, settlement_id, pos);",
};

#define MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int store_schema_version(void) { return MIGRATIONS; }

static bool exec(sqlite3 *db, const char *sql, const char *what, char *err, size_t errlen)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		store_set_err(err, errlen, "%s: %s", what, msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return rc == SQLITE_OK;
}

static bool user_version(sqlite3 *db, int *v, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int(st, 0);
	else
		store_set_err(err, errlen, "read user_version: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW;
}

/* Applies the next migration if one is due; *done when none is. */
static bool migrate_step(sqlite3 *db, bool *done, char *err, size_t errlen)
{
	bool ok = false;
	int v = 0;
	/* user_version is read inside the write transaction: two processes
	 * opening a new file at once then run migration 1 one after the
	 * other, and the second one sees it done. */
	if (!exec(db, "BEGIN IMMEDIATE", "migrate: begin", err, errlen))
		return false;
	if (!user_version(db, &v, err, errlen))
		goto out;
	if (v > MIGRATIONS) {
		store_set_err(err, errlen, "database schema version %d is newer than this build (%d)", v,
			MIGRATIONS);
		goto out;
	}
	*done = v == MIGRATIONS;
	if (!*done) {
		char what[32], bump[48];
		snprintf(what, sizeof what, "migration %d", v + 1);
		/* user_version lives in the database header, written inside the
		 * transaction: the migration and its number commit together. */
		snprintf(bump, sizeof bump, "PRAGMA user_version = %d", v + 1);
		if (!exec(db, migrations[v], what, err, errlen) || !exec(db, bump, what, err, errlen))
			goto out;
	}
	ok = exec(db, "COMMIT", "migrate: commit", err, errlen);
out:
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ok;
}

bool store_schema_migrate(sqlite3 *db, char *err, size_t errlen)
{
	bool done = false;
	while (!done) {
		if (!migrate_step(db, &done, err, errlen))
			return false;
	}
	return true;
}
