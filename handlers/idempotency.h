/* SPDX-License-Identifier: MIT */
/* The Idempotency-Key of a POST (DESIGN.md "Idempotency"), from the header
 * to the store operation that records the answer. The key is checked before
 * every other rule: a request seen before gets its first answer again (with
 * Idempotent-Replayed: true), the key with another request 422
 * idempotency_key_reused. The fingerprint is of the method, the path and the
 * body's JSON value in canonical form (lib/json_canonical.h), so member
 * order and whitespace never make two requests differ. Only a 2xx is
 * recorded (in the transaction of its change): a refused request changed
 * nothing, and its retry is judged again. */
#ifndef INKASSO_HANDLERS_IDEMPOTENCY_H
#define INKASSO_HANDLERS_IDEMPOTENCY_H
#include <stdbool.h>

#include "lib/digest.h"
#include "server/http.h"
#include "store/store.h"

#define IDEMPOTENCY_KEY_MAX 255

/* A request's key as its handler carries it to the store. */
struct idem {
	struct store_idem store;      /* store.key NULL: the request has no key */
	struct store_replay replay;   /* STORE_REPLAY: what to answer */
	char key[IDEMPOTENCY_KEY_MAX + 1];
	char fingerprint[DIGEST_HEX_LEN + 3];
	char legacy[DIGEST_HEX_LEN];
};

/* Reads req's Idempotency-Key into idem, with the answer to record as
 * status (201, 202, 200), and answers from its record when there is one.
 * Returns true when the request goes on; false when out holds the answer (a
 * 400 for a malformed key, the replay, the 422 of a reused key, a 5xx) and
 * idem holds nothing to free. */
bool idem_begin(const struct request *req, int status, struct idem *idem, struct reply *out);
/* The store request of req: tenant, now, the actor, and idem (NULL: none). */
struct store_request idem_store_request(const struct request *req, struct idem *idem);
/* Answers STORE_REPLAY (the recorded answer) or STORE_KEY_REUSED (422) and
 * returns true; false for any other result. */
bool idem_answered(enum store_result r, struct idem *idem, struct reply *out);
/* Releases what a replay holds. NULL-safe. */
void idem_free(struct idem *idem);

#endif
