/* SPDX-License-Identifier: MIT */
/* Debtor payments and the settlement runs that pay them out. */
#include "sim/sim_store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Settles one client's unsettled payments in one currency. */
static bool sim_settle_group(struct sim_store *s, const char *key, const char *currency,
			     int digits, int64_t now_ms)
{
	char id[SIM_UUID_LEN], date[SIM_DATE_LEN], at[SIM_TIMESTAMP_LEN], ref[24];
	sim_uuid(id);
	sim_date(now_ms, date);
	sim_timestamp(now_ms, at);
	snprintf(ref, sizeof ref, "RF%016llu",
		 (unsigned long long)(sim_rand_u64() % 10000000000000000ULL));
	sqlite3_stmt *st = sim_stmt(
		s, "INSERT INTO settlements (settlement_id, api_key, currency, digits, "
		   "settlement_date, created_at, amount, reference) SELECT ?1, ?2, ?3, ?4, ?5, ?6, "
		   "COALESCE(SUM(amount), 0), ?7 FROM payments "
		   "WHERE api_key = ?2 AND currency = ?3 AND settlement IS NULL");
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, currency, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, digits);
	sqlite3_bind_text(st, 5, date, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, ref, -1, SQLITE_STATIC);
	if (!sim_step_done(s, st))
		return false;
	int64_t settlement = sqlite3_last_insert_rowid(s->db);
	/* One allocation per payment; its id is random, as every agency id. */
	sqlite3_stmt *pick = sim_stmt(s, "SELECT id FROM payments WHERE api_key = ? AND "
					 "currency = ? AND settlement IS NULL ORDER BY id LIMIT 1");
	sqlite3_stmt *mark = sim_stmt(s, "UPDATE payments SET settlement = ?, allocation_id = ? "
					 "WHERE id = ?");
	if (!pick || !mark)
		return false;
	for (;;) {
		sqlite3_reset(pick);
		sqlite3_bind_text(pick, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(pick, 2, currency, -1, SQLITE_STATIC);
		int step = sqlite3_step(pick);
		int64_t payment = step == SQLITE_ROW ? sqlite3_column_int64(pick, 0) : 0;
		sqlite3_reset(pick);
		if (step == SQLITE_DONE)
			return true;
		if (step != SQLITE_ROW) {
			sim_db_error(s, "settle");
			return false;
		}
		char alloc[SIM_UUID_LEN];
		sim_uuid(alloc);
		sqlite3_reset(mark);
		sqlite3_bind_int64(mark, 1, settlement);
		sqlite3_bind_text(mark, 2, alloc, -1, SQLITE_STATIC);
		sqlite3_bind_int64(mark, 3, payment);
		if (!sim_step_done(s, mark))
			return false;
	}
}

bool sim_settle_locked(struct sim_store *s, const char *key, int64_t now_ms, int64_t *created)
{
	/* The groups are read first: settling changes the rows being read. */
	struct group {
		char key[SIM_KEY_MAX + 1];
		char currency[4];
		int digits;
	} *groups = NULL;
	size_t n = 0, cap = 0;
	bool ok = false;
	sqlite3_stmt *st = sim_stmt(s, "SELECT DISTINCT api_key, currency, digits FROM payments "
				       "WHERE settlement IS NULL AND (?1 IS NULL OR api_key = ?1) "
				       "ORDER BY api_key, currency");
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct group *g = realloc(groups, ncap * sizeof *g);
			if (!g) {
				sqlite3_reset(st);
				goto out;
			}
			groups = g;
			cap = ncap;
		}
		sim_copy(groups[n].key, sizeof groups[n].key, st, 0);
		sim_copy(groups[n].currency, sizeof groups[n].currency, st, 1);
		groups[n].digits = sqlite3_column_int(st, 2);
		n++;
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		sim_db_error(s, "settlement groups");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (!sim_settle_group(s, groups[i].key, groups[i].currency, groups[i].digits, now_ms))
			goto out;
	*created = (int64_t)n;
	ok = true;
out:
	free(groups);
	return ok;
}

enum sim_store_rc sim_store_settle(struct sim_store *s, const char *key, int64_t now_ms,
				   int64_t *created)
{
	enum sim_store_rc rc = SIM_STORE_ERROR;
	pthread_mutex_lock(&s->lock);
	if (sim_tx_begin(s) && sim_settle_locked(s, key, now_ms, created) && sim_tx_commit(s))
		rc = SIM_STORE_OK;
	if (rc == SIM_STORE_ERROR)
		sim_tx_rollback(s);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

enum sim_store_rc sim_store_payments(struct sim_store *s, const char *key, const char *from,
				     const char *to, void (*each)(const struct sim_payment *, void *),
				     void *ctx)
{
	enum sim_store_rc rc = SIM_STORE_ERROR;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = sim_stmt(
		s, "SELECT payment_id, case_id, invoice_number, payment_date, currency, digits, "
		   "amount FROM payments WHERE api_key = ?1 AND (?2 IS NULL OR payment_date >= ?2) "
		   "AND (?3 IS NULL OR payment_date <= ?3) ORDER BY id");
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct sim_payment p = {
			.payment_id = (const char *)sqlite3_column_text(st, 0),
			.case_id = (const char *)sqlite3_column_text(st, 1),
			.invoice_number = (const char *)sqlite3_column_text(st, 2),
			.payment_date = (const char *)sqlite3_column_text(st, 3),
			.currency = (const char *)sqlite3_column_text(st, 4),
			.digits = sqlite3_column_int(st, 5),
			.amount = sqlite3_column_int64(st, 6),
		};
		each(&p, ctx);
	}
	if (step == SQLITE_DONE)
		rc = SIM_STORE_OK;
	else
		sim_db_error(s, "payments");
	sqlite3_reset(st);
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static bool sim_allocations_of(struct sim_store *s, int64_t settlement,
			       void (*on_allocation)(const struct sim_allocation *, void *),
			       void *ctx)
{
	sqlite3_stmt *st = sim_stmt(s, "SELECT allocation_id, case_id, invoice_number, amount, "
				       "payment_date FROM payments WHERE settlement = ? ORDER BY id");
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, settlement);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct sim_allocation a = {
			.allocation_id = (const char *)sqlite3_column_text(st, 0),
			.case_id = (const char *)sqlite3_column_text(st, 1),
			.invoice_number = (const char *)sqlite3_column_text(st, 2),
			.amount = sqlite3_column_int64(st, 3),
			.allocation_date = (const char *)sqlite3_column_text(st, 4),
		};
		on_allocation(&a, ctx);
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE)
		sim_db_error(s, "allocations");
	return step == SQLITE_DONE;
}

enum sim_store_rc sim_store_settlements(struct sim_store *s, const char *key, const char *from,
					const char *to,
					void (*on_settlement)(const struct sim_settlement *, void *),
					void (*on_allocation)(const struct sim_allocation *, void *),
					void *ctx)
{
	enum sim_store_rc rc = SIM_STORE_ERROR;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = sim_stmt(
		s, "SELECT id, settlement_id, settlement_date, reference, currency, digits, amount "
		   "FROM settlements WHERE api_key = ?1 AND (?2 IS NULL OR settlement_date >= ?2) "
		   "AND (?3 IS NULL OR settlement_date <= ?3) ORDER BY id");
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct sim_settlement set = {
			.settlement_id = (const char *)sqlite3_column_text(st, 1),
			.settlement_date = (const char *)sqlite3_column_text(st, 2),
			.reference = (const char *)sqlite3_column_text(st, 3),
			.currency = (const char *)sqlite3_column_text(st, 4),
			.digits = sqlite3_column_int(st, 5),
			.amount = sqlite3_column_int64(st, 6),
		};
		on_settlement(&set, ctx);
		if (!sim_allocations_of(s, sqlite3_column_int64(st, 0), on_allocation, ctx))
			break;
	}
	if (step == SQLITE_DONE)
		rc = SIM_STORE_OK;
	else if (step != SQLITE_ROW)
		sim_db_error(s, "settlements");
	sqlite3_reset(st);
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}
