/* SPDX-License-Identifier: MIT */
/* The store: business operations on collection cases, with domain structs in
 * and out. Nothing above it sees SQL or the database engine: the .c files of
 * store/ implement it once, for SQLite and PostgreSQL alike (store/db.h).
 *
 * Threading: every function may be called from any thread. Writes are
 * serialised (one write transaction at a time); reads run beside them, each
 * from one consistent snapshot.
 *
 * Reads deliver rows through callbacks with borrowed views: the pointers in a
 * struct case_row are valid only during the callback. This keeps the listing
 * free of copies; the JSON writer reads straight from the database's memory.
 *
 * A write whose transaction failed on a serialization failure or a deadlock
 * (PostgreSQL) runs again from its beginning, up to three times, before it
 * answers STORE_BUSY. A callback that a write operation calls inside its
 * transaction (store_case_retry's on_case, the endpoints' fn, an idempotency
 * record's render) may therefore be called again: each call starts its
 * answer over. */
#ifndef INKASSO_STORE_H
#define INKASSO_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

struct store;

/* Outcome of a store call. Negative: an error the caller maps to 5xx. */
enum store_result {
	STORE_HARD_ERROR = -2, /* I/O error, disk full, corruption: logged once by the store */
	STORE_BUSY = -1,       /* the database stayed locked past the store's wait: retry later */
	STORE_NOT_FOUND = 0,
	STORE_OK = 1,
	STORE_DUPLICATE = 2,   /* a live case exists for (tenant, invoice number); a direct payment's
				* reference was booked before */
	STORE_REPLAY = 3,      /* idempotency key seen before with the same fingerprint */
	STORE_KEY_REUSED = 4,  /* idempotency key seen before with another fingerprint */
	STORE_STATE = 5,       /* the case is not in a state that allows the change */
	STORE_LIMIT = 6,       /* an amount above the remaining balance (or not > 0) */
};

/* Room for an id of ours: a prefix ("cc_", "pay_", "act_", "st_"), a
 * 26-character ULID and the NUL. */
#define STORE_ID_MAX 40
/* Room for a status or state name and its NUL. */
#define STORE_NAME_MAX 16

/* Case statuses of DESIGN.md. The order is part of the API of this header
 * (bit masks in struct case_filter), not of the database. */
enum case_status {
	CASE_PENDING,
	CASE_SUBMITTED,
	CASE_OPEN,
	CASE_PAUSED,
	CASE_DISPUTED,
	CASE_FAILED,
	CASE_PAID,
	CASE_WITHDRAWN,
	CASE_CLOSED,
	CASE_REJECTED,
	CASE__COUNT
};
#define CASE_MASK_OPEN                                                                       \
	((1u << CASE_PENDING) | (1u << CASE_SUBMITTED) | (1u << CASE_OPEN) | (1u << CASE_PAUSED) | \
	 (1u << CASE_DISPUTED) | (1u << CASE_FAILED))
#define CASE_MASK_CLOSED \
	((1u << CASE_PAID) | (1u << CASE_WITHDRAWN) | (1u << CASE_CLOSED) | (1u << CASE_REJECTED))

/* "pending", "submitted", ... ; NULL for an out-of-range value. */
const char *case_status_name(enum case_status s);
/* Parses a status name; returns -1 if unknown. */
int case_status_parse(const char *name);

/* What an outbox row delivers to the agency. */
enum outbox_kind {
	OUTBOX_CREATE,  /* the case's invoice */
	OUTBOX_ACTION,  /* an action (struct action_row) */
	OUTBOX_PAYMENT, /* a direct payment, as a DIRECTPAYMENT action */
};
/* "create", "action", "payment" (for logs); NULL for an out-of-range value. */
const char *outbox_kind_name(enum outbox_kind k);

/* Actions for the agency (DESIGN.md "After the handoff"). */
enum action_type {
	ACTION_COMMENT,
	ACTION_WITHDRAW,
	ACTION_PAUSE,
	ACTION_RESUME,
	ACTION_DISPUTE,
	ACTION__COUNT
};
/* "comment", "withdraw", ...; NULL for an out-of-range value. */
const char *action_type_name(enum action_type t);
/* Parses an action type name; -1 if unknown. */
int action_type_parse(const char *name);
/* The API's names in enum order, NULL-terminated (for readers of bodies). */
extern const char *const action_type_names[ACTION__COUNT + 1];

/* Money the creditor reports: received, or credited to the debtor. */
enum payment_kind { PAYMENT_PAYMENT, PAYMENT_CREDIT_NOTE, PAYMENT__COUNT };
/* "payment" or "credit_note"; NULL for an out-of-range value. */
const char *payment_kind_name(enum payment_kind k);
extern const char *const payment_kind_names[PAYMENT__COUNT + 1];

/* Which of the agency's environments a tenant's calls go to (DESIGN.md
 * "Agency settings": INKASSO_AGENCY_URL or INKASSO_AGENCY_STAGING_URL). */
enum agency_environment { AGENCY_ENV_PRODUCTION, AGENCY_ENV_STAGING, AGENCY_ENV__COUNT };
/* "production" or "staging"; NULL for an out-of-range value. */
const char *agency_environment_name(enum agency_environment e);
/* The API's (and the column's) names in enum order, NULL-terminated. */
extern const char *const agency_environment_names[AGENCY_ENV__COUNT + 1];

/* Room for an actor's JSON text {"sub", "request_id"}: a sub of at most 255
 * bytes escaped (at most 6 bytes each), a request id of at most 64. */
#define STORE_ACTOR_JSON_MAX 2048

/* Per-tenant agency settings (DESIGN.md "Agency settings"). */
struct agency_settings {
	char creditor_reference[65];
	char api_key[257];       /* write-only through the API; stored for the agency client */
	bool api_key_set;
	char service[16];        /* pre_collection | collection | international | surveillance */
	char customer_type[16];  /* consumer | business | auto */
	int min_days_overdue;    /* default 14 */
	int reminder_wait_days;  /* default 14 */
	int64_t min_amount;      /* minor units, default 1 */
	bool enabled;
	int api_key_valid;       /* last validate call: 1 true, 0 false, -1 unknown */
	enum agency_environment environment; /* default production */
	char updated_at[25];
	char actor[STORE_ACTOR_JSON_MAX]; /* read only: the last change's actor (JSON text), "" when
					   * unknown (written before actors were kept, or without one) */
};

/* A case as stored. In callbacks: borrowed pointers, valid during the call.
 * NULL means JSON null. */
struct case_row {
	const char *id;            /* "cc_" + 26-char ULID */
	const char *tenant;
	int64_t seq;               /* per-tenant creation order; the cursor key */
	const char *status;
	const char *stage;
	const char *agency_status;
	const char *service;
	const char *debtor_type;
	const char *your_reference;
	const char *agency_case_id;
	const char *invoice_number;
	const char *invoice_json;  /* the invoice object as accepted (valid JSON) */
	const char *debtor_json;   /* the debtor object, phone normalised, national_id masked */
	const char *currency;
	int64_t original, paid, credited, remaining, interest, costs; /* minor units */
	const char *created_at;    /* RFC 3339 UTC with milliseconds */
	const char *updated_at;
	const char *submitted_at;
	const char *closed_at;
};

/* One status change of a case. */
struct case_event_row {
	int64_t seq;
	const char *at;
	const char *from;          /* NULL for the first event */
	const char *to;
	const char *source;        /* api | forwarder | sync */
	const char *detail;        /* may be NULL */
	const char *actor;         /* {"sub", "request_id"} as JSON text; NULL: the forwarder or the sync */
};

/* ---- who asks for a change, and the answer to give again ---- */

/* Who caused a change made through the API: the token's subject (NULL when
 * it has none) and the request's id. Recorded with the change as the actor
 * {sub, request_id}; a change without one (NULL) is the forwarder's or the
 * sync's. */
struct store_actor {
	const char *sub;
	const char *request_id;
};

/* The actor's JSON text {"sub", "request_id"} as every record of it reads,
 * written into b; NULL when a is NULL or has no request id (the forwarder,
 * the sync). */
const char *store_actor_json(const struct store_actor *a, struct buf *b);

/* The Idempotency-Key of a POST (DESIGN.md "Idempotency") as the operation
 * that carries it out sees it. Inside the operation's write transaction,
 * before anything else, the record (tenant, key) is looked up: a record with
 * this fingerprint answers STORE_REPLAY (its answer in struct store_replay),
 * one with another STORE_KEY_REUSED, and nothing is written. When the
 * operation succeeds, the answer is recorded in the same transaction, so a
 * request retried after a crash finds the record exactly when the change
 * committed. */
struct store_idem {
	const char *key;                /* NULL: no key, nothing checked or recorded */
	const char *fingerprint;        /* of method, path and canonical body */
	const char *legacy_fingerprint; /* NULL, or what a record of an older build holds for this request */
	int status;                     /* the answer's status */
	/* The answer: given (body, body_len, location), or made by render from
	 * the operation's result inside its transaction (body and location
	 * then ignored). render returns false when out of memory. */
	const char *body;
	size_t body_len;
	const char *location;           /* NULL: none */
	bool (*render)(void *ctx, struct buf *body, char *location, size_t loclen);
	void *render_ctx;
};

/* A recorded answer (STORE_REPLAY): body malloc'd, the caller frees it. */
struct store_replay {
	int status;
	char *body;
	size_t body_len;
	char location[160];
};

/* How a change made through the API is asked for. */
struct store_request {
	const char *tenant;
	const char *now;                /* the change's time: RFC 3339 UTC with milliseconds */
	struct store_actor actor;
	const struct store_idem *idem;  /* NULL: no Idempotency-Key */
	struct store_replay *replay;    /* filled on STORE_REPLAY; may be NULL when idem is */
};

/* Everything a new case writes, in one transaction: the case, its first event
 * {from: null, to: pending, source: api}, its case.created event, its outbox
 * row and, when idem.key is set, the idempotency record holding the exact
 * answer. */
struct case_new {
	struct case_row c;             /* seq is assigned by the store; others set by the caller */
	const char *debtor_name;       /* search columns, NULL when absent */
	const char *business_name;
	const char *org_number;
	const char *date_of_birth;
	const char *national_id;       /* clear number, only for the agency; never listed */
	const char *national_id_hash;  /* hex keyed hash for exact search */
	struct store_actor actor;
	struct store_idem idem;        /* idem.key NULL: no idempotency record; a given body (render NULL) */
};

/* What store_case_create reports beside its result. */
struct case_create_result {
	int64_t seq;          /* STORE_OK: the assigned seq */
	char case_id[40];     /* STORE_DUPLICATE: the live case */
	struct store_replay replay; /* STORE_REPLAY: the recorded answer; replay.body malloc'd, caller frees */
};

/* Filters of GET /v1/collection-cases. NULL / 0 means "no filter". */
struct case_filter {
	const char *tenant;           /* required */
	unsigned status_mask;         /* bits (1u << enum case_status); 0 = all */
	const char *q;                /* substring, case-insensitive: debtor name, business name,
				       * invoice number, your_reference, agency case id, org number */
	const char *invoice_number;   /* exact */
	const char *debtor_type;      /* exact */
	const char *date_of_birth;    /* exact, YYYY-MM-DD */
	const char *national_id_hash; /* exact */
	const char *created_from;     /* YYYY-MM-DD, inclusive (UTC day) */
	const char *created_to;       /* YYYY-MM-DD, inclusive (UTC day) */
	int64_t before_seq;           /* keyset cursor: only seq < before_seq; 0 = newest */
	int limit;                    /* 1..STORE_PAGE_MAX */
};

/* The largest page a listing reads at once: the API's pages are at most 200,
 * the CSV exports read pages of 500. */
#define STORE_PAGE_MAX 1000

typedef int (*store_case_fn)(void *ctx, const struct case_row *c);
typedef int (*store_event_fn)(void *ctx, const struct case_event_row *e);

/* How a store is opened. */
struct store_options {
	int readers;      /* read connections, >= 1: the reads that can run at once */
	int commit_batch; /* creates per transaction (group commit), 1..STORE_COMMIT_BATCH_MAX;
			   * 0: STORE_COMMIT_BATCH_DEFAULT. 1 is one commit per create: the
			   * comparison point of bench/ and a safe fallback. */
};
#define STORE_COMMIT_BATCH_DEFAULT 64
#define STORE_COMMIT_BATCH_MAX 1024

/* Opens (creating and migrating) the database at path, durable on every
 * commit (a commit that returned survives power loss), and checks its
 * structure. path is a SQLite file, or a PostgreSQL URI (see
 * store_path_is_pg) whose database is migrated under an advisory lock, so
 * that replicas starting together do not race. Returns NULL with a message
 * in err on failure. */
struct store *store_open(const char *path, const struct store_options *opt, char *err, size_t errlen);
/* True if path is a PostgreSQL URI (postgres:// or postgresql://). */
bool store_path_is_pg(const char *path);
/* Closes all connections. NULL-safe. No call may be in flight. */
void store_close(struct store *s);
/* True if the database accepts a write transaction now (readyz); after a
 * commit failed on an I/O error or a full disk, only if a probe write
 * commits again. */
bool store_writable(struct store *s);

/* Reads the tenant's settings. STORE_NOT_FOUND when never written. */
enum store_result store_settings_get(struct store *s, const char *tenant, struct agency_settings *out);
/* Inserts or replaces the tenant's settings (updated_at from in; in->actor
 * is ignored) and records actor (NULL: none, e.g. a tool) as the change's. */
enum store_result store_settings_put(struct store *s, const char *tenant, const struct agency_settings *in,
				     const struct store_actor *actor);

/* Looks up the idempotency record (tenant, idem->key) before a request's
 * rules run: STORE_NOT_FOUND, STORE_REPLAY (the fingerprint matches: out
 * filled, out->body malloc'd) or STORE_KEY_REUSED. The operation checks
 * again in its transaction; this look-up lets a replay skip every rule. */
enum store_result store_idempotency_get(struct store *s, const char *tenant, const struct store_idem *idem,
					struct store_replay *out);

/* Creates a case (see struct case_new) and waits for it: the idempotency
 * re-check (REPLAY / KEY_REUSED), the live-duplicate check (DUPLICATE with
 * case_id), then the inserts, in one transaction. STORE_OK only after the
 * commit that contains it returned. */
enum store_result store_case_create(struct store *s, const struct case_new *in,
				    struct case_create_result *out);

/* Group commit. A create handed to store_case_create_async is queued for
 * the store's one committer thread, which takes up to the commit batch of
 * queued creates, runs them in one transaction and commits once (one sync of
 * the log for all). Only then, on the committer thread, it fills out and
 * calls done(ctx, result) for each, in queue order. Each create gets the
 * answer it would get alone after those queued before it: one refused on
 * its own (DUPLICATE, REPLAY, or a fault in its rows) leaves the others
 * alone; a failed commit fails them all. done is called exactly once, at
 * once with STORE_HARD_ERROR when the create cannot be queued (out of
 * memory). in and out must stay valid until then; done must not call back
 * into the store's write path. */
void store_case_create_async(struct store *s, const struct case_new *in, struct case_create_result *out,
			     void (*done)(void *ctx, enum store_result result), void *ctx);

/* Reads one case of the tenant (another tenant's id is NOT_FOUND): case_fn
 * once, then event_fn for each event in order (event_fn may be NULL). A
 * callback returning non-zero stops the read (result stays STORE_OK). */
enum store_result store_case_get(struct store *s, const char *tenant, const char *id,
				  store_case_fn case_fn, store_event_fn event_fn, void *ctx);

/* Lists cases newest first (seq descending) matching f: fn for up to
 * f->limit rows; *has_more tells whether another row follows. */
enum store_result store_case_list(struct store *s, const struct case_filter *f, store_case_fn fn,
				  void *ctx, bool *has_more);

/* Reads the named per-database secret into out (len bytes), creating it from
 * getrandom(2) on first use. Used for the national-id search key, so that
 * hashes stay stable for the life of the database and need no setting. */
enum store_result store_secret_get(struct store *s, const char *name, unsigned char *out, size_t len);

/* Number of outbox rows not yet delivered (metrics). -1 on error. */
int64_t store_outbox_depth(struct store *s);
/* Number of cases in status failed, all tenants (metrics). -1 on error. */
int64_t store_cases_failed(struct store *s);

/* ---- after the handoff: payments, actions, retry (store_after.c) ---- */

/* A payment or credit note. In callbacks: borrowed pointers, valid during
 * the call. */
struct payment_row {
	const char *id;            /* "pay_" + ULID */
	const char *tenant;
	const char *case_id;
	enum payment_kind kind;
	int64_t amount;            /* minor units, > 0, as registered or reported */
	int64_t applied;           /* the part counted in the balance (agency payments are capped) */
	const char *paid_on;       /* YYYY-MM-DD */
	const char *reference;     /* NULL when none */
	const char *source;        /* api | agency */
	const char *agency_payment_id; /* NULL for api payments */
	const char *created_at;
	bool forwarded;            /* api payments: the agency took its DIRECTPAYMENT */
	const char *actor;         /* JSON text; NULL for agency payments */
};

/* An action for the agency. States: pending (in the outbox), sent (the
 * agency took it), failed (the forwarder gave up), cancelled (dropped because
 * the case was withdrawn before the agency had it), done (carried out here
 * without the agency: withdrawing a case the agency never received). */
struct action_row {
	const char *id;            /* "act_" + ULID */
	const char *tenant;
	const char *case_id;
	enum action_type type;
	const char *comment;       /* NULL when none */
	const char *state;
	const char *created_at;
	const char *updated_at;
	const char *actor;         /* JSON text */
};

/* The part of a settlement allocated to one case. */
struct settlement_ref_row {
	const char *settlement_id; /* ours, "st_" + ULID */
	int64_t amount;
	const char *allocation_date;
};

/* What holds a case up at the agency (the case detail's delivery): the
 * first of its outbox rows, in the outbox's per-case order, that still
 * waits. A row waits while it is pending (due at next_attempt_at_ms, or
 * queued behind an earlier row) or sending (an attempt in flight), and a
 * failed create while the case is failed (it blocks everything behind it
 * until POST .../retry). Done and cancelled rows never wait, nor a failed
 * action or payment (the forwarder gave up on it; case.action_failed
 * told so, and it holds nothing back), nor the failed create of a rejected
 * case. The first such row is the one the others queue behind, so its
 * attempts and error are why the case is stuck. */
struct case_delivery_row {
	enum outbox_kind kind;
	const char *state;          /* pending | sending | failed */
	int attempts;               /* attempts made (a sending row's current one included) */
	const char *last_error;     /* the last attempt's error (never personal data); NULL: none yet */
	int64_t next_attempt_at_ms; /* pending: due then (0: at once); else meaningless */
	const char *updated_at;     /* when the row last changed: for one due at once, when it was queued */
};

typedef int (*store_payment_fn)(void *ctx, const struct payment_row *p);
typedef int (*store_action_fn)(void *ctx, const struct action_row *a);
typedef int (*store_settlement_ref_fn)(void *ctx, const struct settlement_ref_row *r);
typedef int (*store_delivery_fn)(void *ctx, const struct case_delivery_row *d);

/* The callbacks of store_case_detail, called in this order: on_case once,
 * then each list oldest first. A NULL callback skips its list. */
struct case_detail_fns {
	store_case_fn on_case;
	store_event_fn on_event;
	store_payment_fn on_payment;          /* direct (source api) and agency-collected ones */
	store_action_fn on_action;
	store_settlement_ref_fn on_settlement;
	store_delivery_fn on_delivery;        /* last, once when a row waits (struct case_delivery_row),
					       * not at all when none does */
};

/* Reads one case of the tenant with its events, payments, actions,
 * settlement allocations and what waits for the agency, all from one
 * snapshot (GET /v1/collection-cases/{id}).
 * STORE_NOT_FOUND for an unknown id or another tenant's. A callback returning
 * non-zero stops the read (result stays STORE_OK). */
enum store_result store_case_detail(struct store *s, const char *tenant, const char *id,
				    const struct case_detail_fns *fns, void *ctx);

/* What store_payment_add reports beside its result. */
struct payment_add_result {
	char id[STORE_ID_MAX];          /* STORE_OK: the new payment's id; STORE_DUPLICATE: the earlier one */
	int64_t remaining;              /* STORE_OK: the balance after; STORE_LIMIT: the balance before */
	char status[STORE_NAME_MAX];    /* STORE_OK, STORE_STATE: the case's status */
};

/* Registers money the creditor received directly (PAYMENT_PAYMENT) or
 * credited (PAYMENT_CREDIT_NOTE), amount > 0 minor units, paid_on YYYY-MM-DD,
 * reference NULL or text. In one write transaction: the case must be the tenant's
 * (else STORE_NOT_FOUND) and not closed (paid, withdrawn, closed, rejected:
 * STORE_STATE); amount at most its remaining balance (else STORE_LIMIT). Then
 * a reference already booked on the case for the same kind by a direct
 * payment: STORE_DUPLICATE with that payment's id. Then the payment (source
 * api), the balance at once (paid or credited up, remaining down), a
 * case.payment_received event and an outbox row (kind payment) that forwards
 * it as a DIRECTPAYMENT after the case's earlier rows. rq->idem (see struct
 * store_idem) is checked first and recorded on success; its render runs with
 * out filled. */
enum store_result store_payment_add(struct store *s, const struct store_request *rq, const char *case_id,
				    enum payment_kind kind, int64_t amount, const char *paid_on,
				    const char *reference, struct payment_add_result *out);

/* What store_action_add reports beside its result. */
struct action_add_result {
	char id[STORE_ID_MAX];          /* STORE_OK: the new action's id */
	char state[STORE_NAME_MAX];     /* STORE_OK: "pending" (queued) or "done" (withdrawn here) */
	char status[STORE_NAME_MAX];    /* STORE_OK: the case's status after; STORE_STATE: its status */
};

/* Registers an action (comment NULL or text) in one write transaction.
 * Allowed statuses:
 * comment: any open status (pending, submitted, open, paused, disputed,
 * failed); withdraw: the same; pause: open; resume: paused; dispute: open,
 * paused. Otherwise STORE_STATE; STORE_NOT_FOUND for an unknown case or
 * another tenant's.
 * A withdraw of a case the agency provably never received (pending or failed,
 * its create row not sent and not of unknown outcome) happens here: the case
 * becomes withdrawn at once (event source api), its queued outbox rows and
 * actions are cancelled, and the action is recorded in state "done". Every
 * other action is recorded "pending" with an outbox row (kind action) behind
 * the case's earlier rows; the status changes when the agency reports it.
 * The withdrawal here writes a case.status_changed event. rq->idem as for
 * store_payment_add. */
enum store_result store_action_add(struct store *s, const struct store_request *rq, const char *case_id,
				   enum action_type type, const char *comment, struct action_add_result *out);

/* Puts a failed case back to pending (event source api) with its failed
 * outbox rows pending again (attempts 0, due at once; lookup_first kept, so
 * an unknown outcome is still looked up) and its failed actions pending.
 * STORE_STATE (status copied into status, STORE_NAME_MAX bytes; may be NULL)
 * unless the case is failed; STORE_NOT_FOUND for an unknown case or another
 * tenant's. Writes a case.status_changed event. on_case (may be NULL) is
 * called inside the transaction with the case as the retry left it, before
 * rq->idem's render (as for store_payment_add). */
enum store_result store_case_retry(struct store *s, const struct store_request *rq, const char *case_id,
				   char *status, store_case_fn on_case, void *ctx);

/* ---- settlements (store_settlements.c) ---- */

/* A settlement as stored. In callbacks: borrowed pointers, valid during the call. */
struct settlement_row {
	const char *id;                 /* "st_" + ULID */
	int64_t seq;                    /* per-tenant import order: the cursor key */
	const char *agency_settlement_id;
	const char *settlement_date;    /* YYYY-MM-DD */
	const char *agency;
	const char *remittance_reference; /* NULL when none */
	int64_t amount;
	const char *currency;
	const char *created_at;
};

/* One allocation of a settlement. */
struct allocation_row {
	const char *allocation_id;
	const char *case_id;            /* ours; NULL when the agency's case is not one of ours */
	const char *invoice_number;
	int64_t amount;
	const char *allocation_date;
};

/* Callbacks for settlements: on_settlement, then on_allocation for each of its
 * allocations in the agency's order, then on_end. Non-zero stops the read. */
struct settlement_fns {
	int (*on_settlement)(void *ctx, const struct settlement_row *st);
	int (*on_allocation)(void *ctx, const struct allocation_row *a);
	int (*on_end)(void *ctx, const struct settlement_row *st);
};

/* Filters and page of GET /v1/settlements. NULL / 0 means "no filter". */
struct settlement_filter {
	const char *tenant;       /* required */
	const char *settled_from; /* YYYY-MM-DD, inclusive: settlement_date >= it */
	const char *settled_to;   /* YYYY-MM-DD, inclusive */
	int64_t before_seq;       /* the seq of the last settlement of the previous page; 0: the first */
	int limit;                /* 1..STORE_PAGE_MAX */
};

/* Lists the tenant's settlements matching f newest settlement date first
 * (import order within a day), from one snapshot: up to f->limit after the
 * cursor f->before_seq. *has_more tells whether another settlement follows.
 * A tenant with none: STORE_OK and no call. */
enum store_result store_settlement_list(struct store *s, const struct settlement_filter *f,
					const struct settlement_fns *fns, void *ctx, bool *has_more);

/* Reads one settlement of the tenant with its allocations. STORE_NOT_FOUND
 * for an unknown id or another tenant's. */
enum store_result store_settlement_get(struct store *s, const char *tenant, const char *id,
				       const struct settlement_fns *fns, void *ctx);

#endif
