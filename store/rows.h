/* SPDX-License-Identifier: MIT */
/* The rows that several operations of the SQLite store share: the columns
 * of a case and of the settings, the names of the stored enums, and the
 * writes more than one operation makes inside its transaction (an event, a
 * status, the balance, an outbox row). Each file of store/ that runs an
 * operation stands on this and on store/db.h, never on another such file. */
#ifndef INKASSO_STORE_ROWS_H
#define INKASSO_STORE_ROWS_H
#include <stdbool.h>
#include <stdint.h>

#include "store/db.h"
#include "store/store.h"

/* The columns of a struct case_row, in the order rows_case_read reads them.
 * national_id (the clear number) is deliberately not among them. */
#define CASE_COLUMNS                                                                          \
	"id, tenant, seq, status, stage, agency_status, service, debtor_type, your_reference,"  \
	" agency_case_id, invoice_number, invoice_json, debtor_json, currency, original, paid," \
	" credited, remaining, interest, costs, created_at, updated_at, submitted_at, closed_at"
#define CASE_NCOLUMNS 24

/* Reads CASE_COLUMNS from column i on into the struct case_row at dst, as
 * views: the column of a query that selects them is ROWS_CASE(&row). */
void rows_case_read(sqlite3_stmt *st, int i, void *dst);
#define ROWS_CASE(r) DB_COL_READ(rows_case_read, (r), CASE_NCOLUMNS)

/* The columns of struct agency_settings, in the order rows_settings_cols
 * reads them; rows_settings_done completes what the row implies. */
#define SETTINGS_COLUMNS                                                                    \
	"creditor_reference, api_key, service, customer_type, min_days_overdue,"               \
	" reminder_wait_days, min_amount, enabled, api_key_valid, updated_at"
#define SETTINGS_NCOLUMNS 10
void rows_settings_cols(struct agency_settings *s, struct db_col *cols);
void rows_settings_done(struct agency_settings *s);

/* The stored names of enum outbox_kind, NULL-terminated. */
extern const char *const outbox_kind_names[];

/* True if status names a case status whose bit is in mask. */
bool rows_status_in(const char *status, unsigned mask);

/* A case row with its own copy of every string, in one allocation (mem). */
struct case_copy {
	struct case_row row;
	char *mem;
};
/* Copies src into dst; false when out of memory. Free dst->mem. */
bool rows_case_copy(const struct case_row *src, struct case_copy *dst);

/* ---- writes inside the writer's transaction ---- */

/* Appends an event {from, to, source, detail} at `at` to case_id, numbered
 * after its last one. */
enum store_result rows_event_add(struct db_conn *w, const char *case_id, const char *at, const char *from,
				 const char *to, const char *source, const char *detail);
/* Sets the case's status: updated_at = at, submitted_at = at on ->
 * submitted (kept when already set), closed_at = at on -> a closed status
 * and NULL on -> an open one. */
enum store_result rows_set_status(struct db_conn *w, const char *case_id, const char *status, const char *at);
/* Cancels the case's pending and failed outbox rows and actions (the agency
 * will never have a case for them). */
enum store_result rows_cancel_queue(struct db_conn *w, const char *case_id, const char *at);
/* Counts an amount in the case's balance: paid and credited up by these
 * amounts, remaining down by both, updated_at = at. */
enum store_result rows_balance_add(struct db_conn *w, const char *case_id, int64_t paid, int64_t credited,
				   const char *at);
/* Inserts a payment row (all of p but forwarded). */
enum store_result rows_payment_insert(struct db_conn *w, const struct payment_row *p);
/* Queues a delivery for the forwarder, behind the case's earlier rows;
 * ref_id is the action's or payment's id, NULL for OUTBOX_CREATE. */
enum store_result rows_outbox_add(struct db_conn *w, const char *tenant, const char *case_id, enum outbox_kind kind,
				  const char *ref_id, const char *at);

/* Looks up (tenant, key) on c: STORE_NOT_FOUND, STORE_REPLAY (status and a
 * malloc'd copy of the body in out) or STORE_KEY_REUSED. */
enum store_result rows_idem_lookup(struct db_conn *c, const char *tenant, const char *key, const char *fingerprint,
				   struct case_create_result *out);

#endif
