/* SPDX-License-Identifier: MIT */
/* The simulated agency's state in SQLite: invoices and their cases, events,
 * actions, debtor payments, settlements, and the bookkeeping behind
 * /sim/stats. One connection behind one mutex: every function below takes
 * the lock itself and is safe to call from any thread. Store functions
 * return enum sim_store_rc; negative means the database failed (already
 * logged). Strings handed to callbacks are valid during the callback only. */
#ifndef SIM_STORE_H
#define SIM_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/sim_rand.h"
#include "sim/sim_time.h"

#define SIM_KEY_MAX 256    /* longest X-Api-Key accepted */
#define SIM_NUMBER_MAX 64  /* longest invoice number accepted */
#define SIM_STATUS_LEN 16

enum sim_store_rc {
	SIM_STORE_ERROR = -1,  /* SQLite failed */
	SIM_STORE_NONE = 0,    /* no such invoice or case */
	SIM_STORE_OK = 1,
	SIM_STORE_CONFLICT = 2, /* the invoice number was already received */
	SIM_STORE_INVALID = 3,  /* the request contradicts the stored state */
};

/* Agency case timings in milliseconds. */
struct sim_timing {
	int64_t assign_delay_ms; /* received → case id */
	int64_t reminder_ms;     /* stage REMINDER → COLLECTION */
	int64_t collection_ms;   /* stage COLLECTION (or LEGAL) → debtor pays, PAID */
	int64_t settle_ms;       /* between settlement runs */
};

struct sim_invoice_new {
	const char *api_key;
	const char *number;
	const char *currency;
	int digits;
	int64_t capital; /* outstandingAmount, minor units */
	int64_t costs;   /* creditorCostsAmount + collectionFeesAmount */
	const char *body; /* the parsed request, compact JSON, kept for /sim/invoices */
	int64_t assign_at_ms;
	bool accept_duplicates;
};

/* One received invoice and its case. Empty strings stand for null. */
struct sim_invoice {
	int64_t id;
	char number[SIM_NUMBER_MAX + 1];
	char currency[4];
	int digits;
	int64_t capital, costs, interest, paid;
	char case_id[SIM_CASE_ID_LEN];
	char case_status[SIM_STATUS_LEN]; /* ACTIVE PAUSED DISPUTED PAID WITHDRAWN CLOSED REJECTED */
	char stage[SIM_STATUS_LEN];       /* REMINDER COLLECTION LEGAL */
	char received_at[SIM_TIMESTAMP_LEN];
	char case_created_at[SIM_TIMESTAMP_LEN];
	char closed_at[SIM_TIMESTAMP_LEN];
	int64_t creations; /* rows stored under this client and number */
	int64_t copy;      /* 1 for the first row of the number, 2 for its duplicate... */
	const char *body;  /* the request as parsed; set by sim_store_invoices only */
};

struct sim_event {
	const char *event_id, *date, *type, *description;
};

/* An invoice action, as received (in) or as recorded (out). */
struct sim_action {
	const char *code;           /* DIRECTPAYMENT COMMENT WITHDRAW PAUSE RESUME OBJECTION */
	const char *comment;        /* may be NULL */
	const char *invoice_number; /* NULL or "" when only case_id is given */
	const char *case_id;        /* NULL or "" when only invoice_number is given */
	bool has_amount;
	int64_t amount; /* minor units of currency, DIRECTPAYMENT only */
	const char *currency, *payment_date, *reference, *payment_method;
	const char *received_at; /* out only */
	int digits;              /* out only */
};

struct sim_payment {
	const char *payment_id, *case_id, *invoice_number, *payment_date, *currency;
	int digits;
	int64_t amount;
};

struct sim_settlement {
	const char *settlement_id, *settlement_date, *reference, *currency;
	int digits;
	int64_t amount;
};

struct sim_allocation {
	const char *allocation_id, *case_id, *invoice_number, *allocation_date;
	int64_t amount;
};

enum sim_call_outcome { SIM_CALL_OK, SIM_CALL_REJECTED, SIM_CALL_FAULTED, SIM_CALL_DROPPED };

struct sim_stats {
	int64_t invoices_received;   /* distinct (client, number) */
	int64_t invoice_creations;   /* invoice rows, duplicates included */
	int64_t duplicates_created;  /* creations beyond the first per number */
	int64_t duplicate_numbers;   /* numbers created more than once */
	int64_t duplicates_rejected; /* 409 answers */
	int64_t retry_after_answers; /* 429 answers recorded */
	int64_t retry_after_violations; /* first attempts earlier than Retry-After */
	int64_t payments, settlements, actions;
};

/* Opens (creating if needed) the state at path, ":memory:" for none on
 * disk. NULL with a message in err on failure. */
struct sim_store *sim_store_open(const char *path, char *err, size_t errlen);
/* NULL-safe. */
void sim_store_close(struct sim_store *s);
/* Deletes all state and statistics. */
enum sim_store_rc sim_store_reset(struct sim_store *s);

/* Stores a received invoice. CONFLICT (and counts a rejected duplicate) if
 * the client already sent that number and duplicates are not accepted. */
enum sim_store_rc sim_store_invoice_create(struct sim_store *s, const struct sim_invoice_new *in);
/* The first invoice the client sent under number. NONE if there is none. */
enum sim_store_rc sim_store_invoice_by_number(struct sim_store *s, const char *key,
					      const char *number, struct sim_invoice *out);
/* The client's invoice whose case is case_id. NONE if there is none. */
enum sim_store_rc sim_store_invoice_by_case(struct sim_store *s, const char *key,
					    const char *case_id, struct sim_invoice *out);
/* Calls each for the events of an invoice, oldest first. */
enum sim_store_rc sim_store_events(struct sim_store *s, int64_t invoice_id,
				   void (*each)(const struct sim_event *, void *), void *ctx);

/* Records and applies n actions in order, all or none. NONE when action
 * *bad names an unknown invoice or case, INVALID when its case id and
 * number disagree or its currency is not the invoice's (*why says which). */
enum sim_store_rc sim_store_actions_apply(struct sim_store *s, const char *key,
					  const struct sim_action *a, size_t n, int64_t now_ms,
					  size_t *bad, const char **why);

/* Moves time forward to now_ms: assigns due case ids, advances stages,
 * collects from debtors, and runs settlements when due. */
enum sim_store_rc sim_store_tick(struct sim_store *s, int64_t now_ms, const struct sim_timing *t);
/* Forces the client's invoice number to a state at once: "assigned",
 * "collection", "legal", "payment" (a debtor payment of amount), "paid",
 * "closed", "rejected". The case id is assigned first if needed. NONE for
 * an unknown invoice; the invoice as it is now in *out on OK. */
enum sim_store_rc sim_store_advance(struct sim_store *s, const char *key, const char *number,
				    const char *to, int64_t amount, int64_t now_ms,
				    struct sim_invoice *out);
/* Groups unsettled payments into one settlement per client and currency
 * (key NULL: all clients). *created counts the settlements made. */
enum sim_store_rc sim_store_settle(struct sim_store *s, const char *key, int64_t now_ms,
				   int64_t *created);

/* The client's debtor payments with from <= paymentDate <= to (NULL: open). */
enum sim_store_rc sim_store_payments(struct sim_store *s, const char *key, const char *from,
				     const char *to, void (*each)(const struct sim_payment *, void *),
				     void *ctx);
/* The client's settlements in a date range, each followed by its allocations. */
enum sim_store_rc sim_store_settlements(struct sim_store *s, const char *key, const char *from,
					const char *to,
					void (*on_settlement)(const struct sim_settlement *, void *),
					void (*on_allocation)(const struct sim_allocation *, void *),
					void *ctx);
/* The client's invoices in order of arrival, each followed by its actions. */
enum sim_store_rc sim_store_invoices(struct sim_store *s, const char *key,
				     void (*on_invoice)(const struct sim_invoice *, void *),
				     void (*on_action)(const struct sim_action *, void *), void *ctx);

/* Counts one /api/ call by client and path; delayed says it was answered late. */
void sim_store_count_call(struct sim_store *s, const char *key, const char *path,
			  enum sim_call_outcome outcome, bool delayed);
/* Remembers that a 429 with retry_after seconds was answered at now_ms for
 * each of the subjects (invoice numbers, "case:<id>" or the path). */
void sim_store_retry_after_record(struct sim_store *s, const char *key, const char *const *subjects,
				  size_t n, int64_t now_ms, int retry_after);
/* The first call after a 429 on a subject: counts a violation if it came
 * before the Retry-After had passed, and forgets the 429. True on a violation. */
bool sim_store_retry_after_check(struct sim_store *s, const char *key, const char *const *subjects,
				 size_t n, int64_t now_ms);
#define SIM_ATTEMPTS_MAX 1000000 /* calls kept for /sim/attempts; later ones are not logged */

/* One agency call about an invoice number, as logged for /sim/attempts. */
struct sim_attempt {
	const char *api_key, *number, *method, *path;
	const char *outcome; /* ok, rejected, error, drop, timeout, slow */
	int status;          /* the status sent (or, for a drop, that was not sent) */
	int64_t at_ms;       /* arrival, ms since the epoch */
};

/* Logs a call once under each of the subjects that is an invoice number
 * (not "case:<id>", not a path), until SIM_ATTEMPTS_MAX rows are kept. */
void sim_store_attempt_record(struct sim_store *s, const char *key, const char *const *subjects,
			      size_t n, const char *method, const char *path, int status,
			      const char *outcome, int64_t at_ms);
/* Calls each for the logged calls of one client (key) or all (NULL), of one
 * invoice number or all (NULL), by client, number, then arrival. *truncated
 * says the log reached SIM_ATTEMPTS_MAX. */
enum sim_store_rc sim_store_attempts(struct sim_store *s, const char *key, const char *number,
				     void (*each)(const struct sim_attempt *, void *), void *ctx,
				     bool *truncated);
/* Totals for one client (key) or all (NULL); each_path gets the per-path
 * call counts ok, rejected, faulted, dropped, delayed. */
enum sim_store_rc sim_store_stats(struct sim_store *s, const char *key, struct sim_stats *out,
				  void (*each_path)(const char *path, const int64_t counts[5], void *),
				  void *ctx);

#endif
