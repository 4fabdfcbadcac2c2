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

#include "lib/buf.h"
#include "store/db.h"
#include "store/store.h"
#include "store/store_events.h"

/* The columns of a struct case_row, in the order rows_case_read reads them.
 * national_id (the clear number) is deliberately not among them. */
#define CASE_COLUMNS                                                                          \
	"id, tenant, seq, status, stage, agency_status, service, debtor_type, your_reference,"  \
	" agency_case_id, invoice_number, invoice_json, debtor_json, currency, original, paid," \
	" credited, remaining, interest, costs, created_at, updated_at, submitted_at, closed_at"
#define CASE_NCOLUMNS 24

/* Reads CASE_COLUMNS from column i on into the struct case_row at dst, as
 * views: the column of a query that selects them is ROWS_CASE(&row). */
void rows_case_read(const struct db_row *row, int i, void *dst);
#define ROWS_CASE(r) DB_COL_READ(rows_case_read, (r), CASE_NCOLUMNS)

/* The columns of struct agency_settings, in the order rows_settings_cols
 * reads them; rows_settings_done completes what the row implies. */
#define SETTINGS_COLUMNS                                                                    \
	"creditor_reference, api_key, service, customer_type, min_days_overdue,"               \
	" reminder_wait_days, min_amount, enabled, api_key_valid, updated_at, agency_environment, actor"
#define SETTINGS_NCOLUMNS 12
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

/* Appends an event {from, to, source, detail, actor} at `at` to case_id,
 * numbered after its last one; actor is JSON text or NULL. */
enum store_result rows_event_add(struct db_conn *w, const char *case_id, const char *at, const char *from,
				 const char *to, const char *source, const char *detail, const char *actor);
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
/* Inserts a payment row (all of p but forwarded, actor included). */
enum store_result rows_payment_insert(struct db_conn *w, const struct payment_row *p);
/* Queues a delivery for the forwarder, behind the case's earlier rows;
 * ref_id is the action's or payment's id, NULL for OUTBOX_CREATE. */
enum store_result rows_outbox_add(struct db_conn *w, const char *tenant, const char *case_id, enum outbox_kind kind,
				  const char *ref_id, const char *at);

/* ---- who, and the answer again (rows_request.c) ---- */

/* Looks up (tenant, idem->key) on c: STORE_NOT_FOUND (also when idem or its
 * key is NULL), STORE_REPLAY (out filled, its body malloc'd; out may be NULL)
 * or STORE_KEY_REUSED. */
enum store_result rows_idem_check(struct db_conn *c, const char *tenant, const struct store_idem *idem,
				  struct store_replay *out);
/* Records idem's answer for (tenant, idem->key) at now, rendering it first
 * when idem->render is set. Nothing when idem or its key is NULL. */
enum store_result rows_idem_record(struct db_conn *w, const char *tenant, const struct store_idem *idem,
				   const char *now);

/* ---- events (rows_events.c) ---- */

/* An event to write in the writer's transaction. */
struct event_new {
	enum event_type type;
	const char *tenant;
	const char *at;            /* created_at */
	const char *case_id;       /* the case whose state data carries; NULL for other subjects */
	const char *subject;       /* what sequence counts; NULL: case_id */
	const char *endpoint_id;   /* webhook.test: queued to this endpoint only, not in the feed */
	const char *actor;         /* JSON text or NULL */
	const char *data;          /* JSON members without braces, added to data after the case's; NULL: none */
};

/* Writes the event with the next sequence of its subject, and queues it for
 * each of the tenant's enabled endpoints subscribed to its type (a test: for
 * its endpoint only). The event's id into id (may be NULL). */
enum store_result rows_event_emit(struct db_conn *w, const struct event_new *e, char id[STORE_ID_MAX]);
/* rows_event_emit with the actor of a and the data members given. */
enum store_result rows_case_event(struct db_conn *w, enum event_type type, const char *tenant, const char *case_id,
				  const char *at, const char *actor, const char *data);
/* The case.payment_received event of payment row p (direct or the agency's),
 * with actor (NULL for the sync). */
enum store_result rows_payment_event(struct db_conn *w, const struct payment_row *p, const char *actor);
/* Moves the case from status `from` to `to` at `at`: the status
 * (rows_set_status), the case's event {from, to, source, detail, actor} and
 * its case.status_changed event. */
enum store_result rows_move(struct db_conn *w, const char *tenant, const char *case_id, const char *from,
			    const char *to, const char *source, const char *detail, const char *actor, const char *at);

#endif
