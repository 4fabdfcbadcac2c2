/* SPDX-License-Identifier: MIT */
/* The store's events and webhooks (DESIGN.md "Events and webhooks"): the
 * change feed that requests read, the tenants' webhook endpoints, and the
 * delivery queue that the webhook workers drain. Every event is written by
 * the store itself, in the transaction of the change it tells of (store.h
 * and store_agency.h say which operation writes which); nothing here makes
 * one up but the endpoint's test. */
#ifndef INKASSO_STORE_EVENTS_H
#define INKASSO_STORE_EVENTS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The event types, in the order of DESIGN.md's table. */
enum event_type {
	EVENT_CASE_CREATED,
	EVENT_CASE_STATUS_CHANGED,
	EVENT_CASE_STAGE_CHANGED,
	EVENT_CASE_PAYMENT_RECEIVED,
	EVENT_CASE_ACTION_FAILED,
	EVENT_SETTLEMENT_CREATED,
	EVENT_WEBHOOK_TEST,
	EVENT__COUNT
};
/* "case.created", ...; NULL for an out-of-range value. */
const char *event_type_name(enum event_type t);
/* Parses a type name; -1 if unknown. */
int event_type_parse(const char *name);

/* ---- the feed (store_events.c) ---- */

/* An event as stored. body is the whole event as JSON text, exactly what is
 * listed and delivered. Borrowed views, valid during the callback. */
struct event_row {
	int64_t pos;               /* feed order = commit order; the cursor key */
	const char *id;            /* "evt_" + ULID */
	const char *type;
	const char *case_id;       /* NULL for settlement.created */
	const char *created_at;
	const char *body;
};
typedef int (*store_event_row_fn)(void *ctx, const struct event_row *e);

/* What GET /v1/events asks for. */
struct event_filter {
	const char *tenant;        /* required */
	int64_t after_pos;         /* only events after this one; 0: from the oldest kept */
	unsigned type_mask;        /* bits 1u << enum event_type; 0: every type */
	const char *case_id;       /* NULL: every case */
	int limit;                 /* 1..200 */
};

/* Lists the tenant's events oldest first (pos ascending), from one
 * snapshot: fn for up to f->limit; *has_more whether another follows. The
 * test events of webhook endpoints are not in the feed. Events commit in pos
 * order (one writer), so a reader that continues after the last pos it saw
 * misses none and sees none twice. */
enum store_result store_event_list(struct store *s, const struct event_filter *f, store_event_row_fn fn, void *ctx,
				   bool *has_more);
/* Reads one event of the tenant; STORE_NOT_FOUND for an unknown id, another
 * tenant's or a test event. */
enum store_result store_event_get(struct store *s, const char *tenant, const char *id, store_event_row_fn fn,
				  void *ctx);

/* Deletes, in one short transaction, up to limit of each: attempts logged
 * before cutoff (RFC 3339), finished deliveries of events created before
 * it, those events when no delivery waits for them any more, and
 * idempotency records created before idem_cutoff. *deleted: the most rows
 * one of them removed; call again while it equals limit. */
enum store_result store_events_prune(struct store *s, const char *cutoff, const char *idem_cutoff, int limit,
				     int64_t *deleted);

/* ---- webhook endpoints (store_endpoints.c) ---- */

#define WEBHOOK_URL_MAX 2048
#define WEBHOOK_DESCRIPTION_MAX 500
/* Endpoints per tenant: every event writes a delivery for each, in its
 * transaction, so their number bounds what one change costs. */
#define WEBHOOK_ENDPOINTS_MAX 16
#define WEBHOOK_SECRET_LEN 64   /* room for "whsec_" + base64 of 32 bytes and the NUL */

/* An endpoint as stored. Borrowed views in callbacks. event_types is the
 * stored list ",a,b," (or ",*,"), which store_endpoint_types_each walks. */
struct endpoint_row {
	const char *id;            /* "we_" + ULID */
	int64_t seq;               /* the tenant's creation order: the listing's cursor key */
	const char *url;
	const char *event_types;
	const char *description;
	bool enabled;
	const char *disabled_reason; /* NULL, "gone" or "failing" */
	const char *created_at;
	const char *updated_at;
	const char *secret;        /* only in the answers that show it (create, rotate-secret) */
};
typedef int (*store_endpoint_fn)(void *ctx, const struct endpoint_row *e);

/* A new endpoint. event_types: type names or "*", n of them. */
struct endpoint_new {
	const char *url;
	const char *const *event_types;
	int ntypes;
	const char *description;   /* "" when not given */
	bool enabled;
	const char *secret;        /* "whsec_..." made by the caller */
};

/* What a PATCH changes; NULL / has_enabled false: unchanged. */
struct endpoint_patch {
	const char *url;
	const char *const *event_types;
	int ntypes;                /* used when event_types is set */
	const char *description;
	bool has_enabled;
	bool enabled;
};

/* Stores a new endpoint of rq->tenant; fn gets the stored row, secret
 * included, inside the transaction (before rq->idem's render).
 * STORE_LIMIT when the tenant has WEBHOOK_ENDPOINTS_MAX already. */
enum store_result store_endpoint_create(struct store *s, const struct store_request *rq,
					const struct endpoint_new *in, store_endpoint_fn fn, void *ctx);
/* Lists the tenant's endpoints oldest first after the cursor after_seq (0:
 * from the first), up to limit. */
enum store_result store_endpoint_list(struct store *s, const char *tenant, int64_t after_seq, int limit,
				      store_endpoint_fn fn, void *ctx, bool *has_more);
/* Reads one endpoint of the tenant (secret NULL). */
enum store_result store_endpoint_get(struct store *s, const char *tenant, const char *id, store_endpoint_fn fn,
				     void *ctx);
/* Changes an endpoint; fn gets the row after. Turning it on clears
 * disabled_reason and its failure streak; turning it off cancels what waits
 * for it. */
enum store_result store_endpoint_update(struct store *s, const struct store_request *rq, const char *id,
					const struct endpoint_patch *p, store_endpoint_fn fn, void *ctx);
/* Deletes an endpoint with its queue and attempt log. */
enum store_result store_endpoint_delete(struct store *s, const char *tenant, const char *id);
/* Replaces the secret with new_secret; the one it replaces keeps signing
 * until previous_until_ms. fn gets the row with the new secret. */
enum store_result store_endpoint_rotate(struct store *s, const struct store_request *rq, const char *id,
					const char *new_secret, int64_t previous_until_ms, store_endpoint_fn fn,
					void *ctx);
/* Writes a webhook.test event queued to this endpoint only (enabled or not);
 * its id into event_id. */
enum store_result store_endpoint_test(struct store *s, const struct store_request *rq, const char *id,
				      char event_id[STORE_ID_MAX]);
/* Queues again, to this endpoint, every event of the tenant created at or
 * after since (RFC 3339) that it subscribes to and that does not wait for it
 * already; *queued: how many. The endpoint must be enabled (else
 * STORE_STATE). */
enum store_result store_endpoint_recover(struct store *s, const struct store_request *rq, const char *id,
					 const char *since, int64_t *queued);
/* Calls fn(ctx, type) for each name in a stored list ",a,b,". */
void store_endpoint_types_each(const char *stored, void (*fn)(void *ctx, const char *type, size_t len),
			       void *ctx);

/* One attempt of the log (GET .../deliveries). Borrowed views. */
struct attempt_row {
	int64_t id;                /* newest first: the cursor key */
	const char *event_id;
	int attempt;
	const char *at;
	const char *status;        /* pending | succeeded | failed */
	int status_code;           /* 0: none */
	int64_t duration_ms;       /* -1: none */
	const char *error;
	const char *next_attempt_at;
};
typedef int (*store_attempt_fn)(void *ctx, const struct attempt_row *a);

/* Lists an endpoint's attempts newest first, before the cursor before_id
 * (0: from the newest), status NULL or one of the three. STORE_NOT_FOUND for
 * an endpoint that is not the tenant's. */
enum store_result store_endpoint_attempts(struct store *s, const char *tenant, const char *id, const char *status,
					  int64_t before_id, int limit, store_attempt_fn fn, void *ctx,
					  bool *has_more);

/* ---- the delivery queue (store_deliveries.c) ---- */

/* A claimed delivery, copied out: valid after the call. Free with
 * store_webhook_job_free. */
struct webhook_job {
	int64_t delivery_id;
	int64_t attempt_id;        /* its row in the attempt log */
	char endpoint_id[STORE_ID_MAX];
	char event_id[STORE_ID_MAX];
	int attempt;               /* 1 for the first */
	char *url;
	char secret[WEBHOOK_SECRET_LEN];
	char previous_secret[WEBHOOK_SECRET_LEN]; /* "" unless it still signs */
	char *body;
	size_t body_len;
};
void store_webhook_job_free(struct webhook_job *j);

/* Claims the delivery due first (pending, next_attempt_at <= now_ms) whose
 * endpoint and subject have no earlier event (smaller sequence) still
 * pending or sending, so that a case's events reach each endpoint in order:
 * it becomes sending, leased until now_ms + lease_ms, and is copied into
 * out. Deliveries still sending past their lease (their claimer died: a
 * replica killed mid-attempt) are first made pending again, their open
 * attempt failed ("interrupted: lease expired"), as a restart does on
 * SQLite. STORE_NOT_FOUND when none is due. Every claim ends with
 * store_webhook_finish, before its lease ends: the attempt number is the
 * lease's token, and a finish whose delivery was taken over is refused. */
enum store_result store_webhook_claim(struct store *s, int64_t now_ms, int64_t lease_ms, struct webhook_job *out);

/* How an attempt ended. */
enum webhook_outcome {
	WEBHOOK_DELIVERED,   /* a 2xx */
	WEBHOOK_RETRY,       /* failed; again at next_attempt_ms */
	WEBHOOK_GIVE_UP,     /* failed; the schedule is spent: the delivery is failed */
	WEBHOOK_GONE,        /* a 410: the endpoint is disabled (gone), its queue cancelled */
};
struct webhook_attempt_end {
	enum webhook_outcome outcome;
	int64_t next_attempt_ms;   /* WEBHOOK_RETRY */
	int status_code;           /* 0: no answer */
	int64_t duration_ms;
	const char *error;         /* NULL or a short reason */
	int64_t now_ms;
	int64_t disable_after_ms;  /* an endpoint failing this long without a success is disabled (failing) */
};
/* Ends a claimed attempt: the delivery's state, its attempt's row, the
 * endpoint's failure streak. *disabled: the endpoint was disabled by it. */
enum store_result store_webhook_finish(struct store *s, const struct webhook_job *j,
				       const struct webhook_attempt_end *e, bool *disabled);
/* At startup, on SQLite: deliveries left sending by a previous process are
 * pending again, due at once, their open attempts failed ("interrupted").
 * On PostgreSQL, where replicas share the database, nothing: only an
 * expired lease (store_webhook_claim) tells a claimer is gone. *requeued
 * (may be NULL): how many. */
enum store_result store_webhook_requeue_sending(struct store *s, int64_t *requeued);

/* The queue for /metrics. */
struct webhook_stats {
	int64_t queued;             /* deliveries pending or sending */
	int64_t oldest_queued_ms;   /* created_at of the oldest of them; 0 when none */
	int64_t disabled_endpoints;
};
enum store_result store_webhook_stats(struct store *s, struct webhook_stats *out);

#endif
