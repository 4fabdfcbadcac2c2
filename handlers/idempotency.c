/* SPDX-License-Identifier: MIT */
#include "handlers/idempotency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/json_body.h"
#include "handlers/store_problem.h"
#include "lib/buf.h"
#include "lib/json_canonical.h"
#include "lib/json_read.h"
#include "lib/json_strict.h"
#include "server/app.h"
#include "server/auth.h"
#include "server/problem.h"

/* 1..255 visible ASCII characters or spaces (draft-ietf-httpapi-idempotency-key-header). */
static bool key_ok(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n > IDEMPOTENCY_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)k[i] < 0x20 || (unsigned char)k[i] > 0x7e)
			return false;
	return true;
}

/* "v2:" and the SHA-256 of the method, the path and the body's canonical
 * JSON (a body that is not JSON: its bytes, marked so that no JSON text can
 * stand for them). false when out of memory. */
static bool fingerprint_of(const struct request *req, char out[DIGEST_HEX_LEN + 3])
{
	struct buf b = {0};
	buf_printf(&b, "%s\n%s\n", req->method, req->path);
	enum json_strict_error err;
	json_object *v = req->body_len ? json_strict_parse(req->body, req->body_len, JSON_BODY_DEPTH, false, &err,
							   NULL, 0)
				       : NULL;
	if (v) {
		json_canonical(v, &b);
	} else if (req->body_len) {
		buf_puts(&b, "raw\n");
		buf_append(&b, req->body, req->body_len);
	}
	json_object_put(v);
	bool ok = !b.oom;
	if (ok) {
		memcpy(out, "v2:", 3);
		digest_body(b.data ? b.data : "", b.len, out + 3);
	}
	buf_free(&b);
	return ok;
}

bool idem_begin(const struct request *req, int status, struct idem *idem, struct reply *out)
{
	memset(idem, 0, sizeof *idem);
	const char *key = req->idempotency_key;
	if (!key)
		return true;
	if (!key_ok(key)) {
		reply_problem(out, PROBLEM_INVALID_HEADER, "Idempotency-Key must be 1 to 255 visible ASCII characters");
		return false;
	}
	if (!fingerprint_of(req, idem->fingerprint)) {
		reply_problem(out, PROBLEM_INTERNAL_ERROR, NULL);
		return false;
	}
	snprintf(idem->key, sizeof idem->key, "%s", key);
	idem->store.key = idem->key;
	idem->store.fingerprint = idem->fingerprint;
	idem->store.status = status;
	/* Builds before this one recorded creates under the SHA-256 of the
	 * raw body alone; such a record still answers the same bytes. */
	if (strcmp(req->path, "/v1/collection-cases") == 0) {
		digest_body(req->body ? req->body : "", req->body_len, idem->legacy);
		idem->store.legacy_fingerprint = idem->legacy;
	}
	enum store_result r = store_idempotency_get(req->app->store, req->claims->tenant, &idem->store, &idem->replay);
	if (r == STORE_NOT_FOUND)
		return true;
	if (!idem_answered(r, idem, out))
		reply_store_problem(out, r);
	idem_free(idem); /* answered here: the caller returns at once */
	return false;
}

struct store_request idem_store_request(const struct request *req, struct idem *idem)
{
	return (struct store_request){
		.tenant = req->claims->tenant,
		.now = req->now,
		.actor = {.sub = req->claims->sub[0] ? req->claims->sub : NULL, .request_id = req->request_id},
		.idem = idem && idem->store.key ? &idem->store : NULL,
		.replay = idem ? &idem->replay : NULL,
	};
}

/* Records of creates made before Location was recorded: the stored body
 * is the case, so its id is where the header points. */
static void legacy_location(const struct store_replay *rp, struct reply *out)
{
	enum json_strict_error err;
	json_object *c = rp->body_len ? json_strict_parse(rp->body, rp->body_len, JSON_BODY_DEPTH, true, &err, NULL, 0)
				      : NULL;
	const char *id = json_member_text(c, "id");
	if (id && strncmp(id, "cc_", 3) == 0)
		snprintf(out->location, sizeof out->location, "/v1/collection-cases/%s", id);
	json_object_put(c);
}

bool idem_answered(enum store_result r, struct idem *idem, struct reply *out)
{
	if (r == STORE_KEY_REUSED) {
		reply_problem(out, PROBLEM_IDEMPOTENCY_KEY_REUSED,
			      "this Idempotency-Key was used for another request (method, path or body)");
		return true;
	}
	if (r != STORE_REPLAY)
		return false;
	/* What the first request got, byte for byte, even if rules or the
	 * case changed since. */
	const struct store_replay *rp = &idem->replay;
	buf_reset(&out->body);
	buf_append(&out->body, rp->body ? rp->body : "", rp->body_len);
	out->status = rp->status;
	out->content_type = "application/json";
	snprintf(out->location, sizeof out->location, "%s", rp->location);
	if (!out->location[0] && rp->status == 201)
		legacy_location(rp, out);
	out->replayed = true;
	return true;
}

void idem_free(struct idem *idem)
{
	if (!idem)
		return;
	free(idem->replay.body);
	idem->replay.body = NULL;
}
