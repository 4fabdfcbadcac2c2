/* SPDX-License-Identifier: MIT */
/* The store as the agency side uses it: the outbox the forwarder drains,
 * what one delivery sends, the case's moves with their events, and the
 * sync's idempotent consumers of the agency's data. The requests' side is
 * store/store.h. */
#ifndef INKASSO_STORE_AGENCY_H
#define INKASSO_STORE_AGENCY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* ---- the outbox and the forwarder (store_outbox.c) ---- */

/* A claimed outbox row. Copied out: valid after the call. */
struct outbox_item {
	int64_t id;
	char tenant[65];
	char case_id[STORE_ID_MAX];
	enum outbox_kind kind;
	char ref_id[STORE_ID_MAX];      /* the action or payment id; "" for create */
	int attempts;                   /* including the one just claimed */
	bool lookup_first;              /* an earlier send has an unknown outcome: look the invoice up first */
};

/* Claims a row for lease_ms from now_ms: first a row still sending whose
 * lease ran out (its claimer died or hung: taken over, lookup_first set, as
 * its outcome is unknown), else the row due first (state pending,
 * next_attempt_at <= now_ms; order next_attempt_at, then id) whose case has
 * no earlier row (smaller id) still pending or sending, nor a failed create:
 * a case's rows go out in order, actions and payments behind its create (a
 * failed action or payment is reported on itself and does not stop the rows
 * behind it). Sets it sending, attempts + 1, leased until now_ms +
 * lease_ms, and copies it into out. STORE_NOT_FOUND when nothing is due.
 * Call store_outbox_done, _retry or _fail with the claimed row, before its
 * lease ends: attempts is the lease's token, and an end whose row was taken
 * over since (attempts moved on) is refused with STORE_STATE. */
enum store_result store_outbox_claim(struct store *s, int64_t now_ms, int64_t lease_ms, struct outbox_item *out);

/* At startup, on SQLite: every row left sending by a previous process goes
 * back to pending, due at once, with lookup_first set (its outcome is
 * unknown): a SQLite file is one process's, so what is sending at its start
 * is its dead predecessor's. On PostgreSQL replicas share the database and
 * only an expired lease tells that a claimer is gone: nothing is requeued
 * here, the claim takes such rows over. *requeued (may be NULL) receives
 * the number of rows. */
enum store_result store_outbox_requeue_sending(struct store *s, int64_t *requeued);

/* Marks the claimed row delivered (an action row's action becomes "sent").
 * STORE_STATE when the row is not sending under this claim (unknown id
 * included). */
enum store_result store_outbox_done(struct store *s, const struct outbox_item *it);

/* Puts the claimed row back to pending, due at next_at_ms, with lookup_first
 * as given (true after an unknown outcome, false after a lookup showed it
 * absent or after a send that provably did not arrive), last_error kept for
 * support. STORE_STATE when the row is not sending under this claim. */
enum store_result store_outbox_retry(struct store *s, const struct outbox_item *it, int64_t next_at_ms,
				     bool lookup_first, const char *last_error);

/* Gives the claimed row up (state failed; an action row's action becomes
 * "failed"). lookup_first: whether the last attempt's outcome is unknown,
 * kept for a retry and so that a withdraw never cancels locally a case the
 * agency may have. The case's status is the caller's (store_case_transition).
 * STORE_STATE when the row is not sending under this claim. */
enum store_result store_outbox_fail(struct store *s, const struct outbox_item *it, bool lookup_first,
				    const char *last_error);

/* What the agency told about a case, for store_case_transition. NULL members
 * leave the stored value unchanged. paid, credited and remaining are never
 * taken from the agency's case balance: they follow the payment ledger (api
 * payments at once, the agency's through store_sync_payment), which is what
 * keeps them from being counted twice. */
struct case_agency_fields {
	const char *agency_case_id;
	const char *stage;              /* lower case */
	const char *agency_status;      /* as reported */
	bool has_charges;               /* interest and costs replace the stored ones */
	int64_t interest;
	int64_t costs;
};

/* Moves the tenant's case to status to (a case_status_name, or NULL for an
 * update of f only) if its current status is in from_mask (bits 1u << enum
 * case_status), in one write transaction. A status change writes
 * an event {from, to, source (api | forwarder | sync), detail (may be NULL)}
 * at now, sets submitted_at on -> submitted, closed_at on -> a closed status
 * (cleared on -> an open one); -> rejected also cancels the case's pending and
 * failed outbox rows (and their actions): the agency has no case for them.
 * Same status: no event. Nothing to change: nothing written, not even
 * updated_at, so applying the same agency data twice changes nothing.
 * STORE_STATE if the status is not in from_mask, STORE_NOT_FOUND for an
 * unknown case or another tenant's. */
enum store_result store_case_transition(struct store *s, const char *tenant, const char *case_id,
					unsigned from_mask, const char *to, const char *source,
					const char *detail, const char *now,
					const struct case_agency_fields *f);

/* How a sending create row ends together with its case's move. */
struct outbox_end {
	const struct outbox_item *row; /* the claimed row */
	bool failed;            /* false: done (delivered); true: failed, as store_outbox_fail */
	bool lookup_first;      /* failed only: as store_outbox_fail */
	const char *last_error; /* failed only */
};

/* store_case_transition and the end of the case's create row (done or
 * failed) in ONE transaction, so that neither a crash nor a concurrent
 * POST .../retry ever sees one without the other (a case left pending with
 * its row done would never be sent again; a retry between "case failed" and
 * "row failed" would requeue nothing). The row ends even when the case is not
 * in from_mask (STORE_STATE is returned then, after the row's end committed):
 * the sync may have moved the case on meanwhile. */
enum store_result store_case_transition_ending(struct store *s, const char *tenant, const char *case_id,
					       unsigned from_mask, const char *to, const char *source,
					       const char *detail, const char *now,
					       const struct outbox_end *row);

/* Everything one delivery of an outbox row needs, read from one snapshot
 * and copied: it stays valid after the call, and no read is held while the
 * agency is called. Free with store_delivery_free. */
struct delivery {
	bool has_settings;              /* false: the tenant has none (no api key to send with) */
	struct agency_settings settings;
	struct case_row c;              /* the case; its strings are the delivery's */
	char *national_id;              /* OUTBOX_CREATE only: the clear number or NULL; never log it */
	struct {
		enum payment_kind kind;
		int64_t amount;
		char paid_on[11];
		char *reference;        /* NULL when none */
	} payment;                      /* OUTBOX_PAYMENT */
	struct {
		enum action_type type;
		char *comment;          /* NULL when none */
	} action;                       /* OUTBOX_ACTION */
	char *mem;                      /* what c's strings point into */
};

/* Loads what the delivery of claimed row it needs: the tenant's settings,
 * the case, and its payment or action. STORE_NOT_FOUND (d->missing names
 * what: "case", "payment", "action") when the case or the row's payment or
 * action does not exist; missing settings are not an error (has_settings).
 * On every result, store_delivery_free(d) releases what was copied. */
enum store_result store_delivery_load(struct store *s, const struct outbox_item *it, struct delivery *d,
				      const char **missing);
/* Releases a delivery's copies (NULL-safe; a zeroed delivery is fine). */
void store_delivery_free(struct delivery *d);

/* ---- the sync loop (store_sync.c) ---- */

typedef int (*store_tenant_fn)(void *ctx, const char *tenant, const struct agency_settings *settings);

/* Calls fn for every tenant with stored settings (enabled or not: a tenant
 * that disabled its integration may still have cases to follow), in tenant
 * order. The rows are copied first and no database read is held during fn,
 * so fn may call the store and take its time. Non-zero from fn stops. */
enum store_result store_tenants_with_settings(struct store *s, store_tenant_fn fn, void *ctx);

/* Calls fn for each of the tenant's cases the agency has and that may still
 * change (submitted, open, paused, disputed), oldest first. Rows are copied in
 * pages and no database read is held during fn, so fn may call the store and
 * take its time; the pointers in the row are valid during the call only.
 * Non-zero from fn stops. */
enum store_result store_cases_to_sync(struct store *s, const char *tenant, store_case_fn fn,
				      void *ctx);

/* A payment the agency collected, as its payments list reports it. */
struct agency_payment {
	const char *agency_payment_id;  /* the agency's unique id: applied once */
	const char *agency_case_id;     /* NULL or the agency's case id */
	const char *invoice_number;     /* NULL or the invoice number */
	int64_t amount;                 /* minor units, > 0 */
	const char *paid_on;            /* YYYY-MM-DD */
};

/* Applies an agency payment once, in one write transaction: the
 * tenant's case is found by agency case id, else by invoice number (the live
 * case first, else the newest); none: STORE_NOT_FOUND. A payment id seen
 * before: STORE_OK with *applied false and nothing changed. Otherwise it is
 * recorded (source agency) and counted in paid up to what is still owed:
 * paid + credited never exceeds the claim (original). amount <= 0:
 * STORE_LIMIT. applied may be NULL. */
enum store_result store_sync_payment(struct store *s, const char *tenant,
				     const struct agency_payment *p, const char *now,
				     bool *applied);

/* One allocation of an agency settlement, as the agency reports it. */
struct agency_allocation {
	const char *allocation_id;
	const char *agency_case_id;     /* NULL or the agency's case id */
	const char *invoice_number;
	int64_t amount;                 /* minor units */
	const char *allocation_date;    /* YYYY-MM-DD */
};

/* A settlement (payout) as the agency reports it. */
struct agency_settlement {
	const char *agency_settlement_id;
	const char *settlement_date;    /* YYYY-MM-DD */
	const char *agency;
	const char *remittance_reference; /* NULL when none */
	int64_t amount;                 /* minor units */
	const char *currency;
	const struct agency_allocation *allocations;
	size_t nallocations;
};

/* Imports a settlement (every member set but remittance_reference and the
 * allocations' agency_case_id) once per (tenant, agency_settlement_id), with its
 * allocations linked to the tenant's cases by agency case id, else invoice
 * number (left unlinked when neither matches), in one transaction. Seen
 * before: STORE_OK, *created false, nothing changed. An allocation id
 * repeated within the settlement: STORE_DUPLICATE, nothing stored.
 * created may be NULL. */
enum store_result store_sync_settlement(struct store *s, const char *tenant,
					const struct agency_settlement *in, const char *now,
					bool *created);

/* Records that the agency event event_id of case case_id was applied: *is_new
 * is true the first time, false on every later call (nothing written).
 * STORE_NOT_FOUND when there is no such case. */
enum store_result store_agency_event_seen(struct store *s, const char *case_id,
					  const char *event_id, bool *is_new);

/* ---- the sync's turns (store_sync.c) ---- */

/* A turn at the tenant's sync round, for replicas sharing a database:
 * STORE_OK when the caller runs it now (nobody holds it, and the last one
 * ended at least every_ms before now_ms), held until now_ms + lease_ms;
 * STORE_STATE when another holds it or it ran within every_ms. The turn's
 * token goes into *turn: end it with store_sync_round_end. */
enum store_result store_sync_round_claim(struct store *s, const char *tenant, int64_t now_ms, int64_t every_ms,
					 int64_t lease_ms, int64_t *turn);
/* The turn of that token is over: free for the next claim, ended at now_ms.
 * STORE_STATE when the turn is no longer the caller's (its lease ran out and
 * another claimed it): nothing is changed, the other's turn stands. */
enum store_result store_sync_round_end(struct store *s, const char *tenant, int64_t turn, int64_t now_ms);
/* At the sync's start, on SQLite: the turns a previous process held are
 * free at once (one process a file, as store_outbox_requeue_sending). On
 * PostgreSQL nothing: another replica may hold them; their leases end. */
enum store_result store_sync_rounds_release(struct store *s);

#endif
