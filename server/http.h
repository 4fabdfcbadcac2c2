/* SPDX-License-Identifier: MIT */
/* What a handler sees and fills. Handlers never touch libmicrohttpd:
 * server/request.c collects the whole request, calls the handler once and
 * sends exactly one response built from struct reply. */
#ifndef INKASSO_HTTP_H
#define INKASSO_HTTP_H
#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

struct app;
struct auth_claims;

#define MAX_QUERY_PARAMS 32

/* What a handler did. The status of the answer lives only in the reply. */
enum handler_result {
	HANDLER_ANSWERED, /* out holds the answer: status, body, headers */
	HANDLER_DEFERRED, /* *req->defer is set: the answer comes from another thread */
};

/* A body too large to build at once (the CSV exports): after the bytes
 * already in reply.body are sent, produce(ctx, b) is called, on the HTTP
 * thread, whenever the client can take more, to append the next part to b
 * (empty on each call). It returns 1 when it appended some and more may
 * follow, 0 at the end (b may hold the last part), -1 on an error: the status
 * and headers went out long before, so the connection is then cut and the
 * client sees a body that ends without its last chunk (chunked transfer).
 * done(ctx) is called exactly once, when the response is gone (sent, cut,
 * or never sent). The handler hands ctx over with the reply. */
struct reply_stream {
	void *ctx;
	int (*produce)(void *ctx, struct buf *b);
	void (*done)(void *ctx);
};

struct reply {
	int status;
	struct buf body;
	const char *content_type;    /* static string; default application/json */
	char location[160];          /* Location header when non-empty */
	int retry_after;             /* Retry-After seconds when > 0 */
	bool replayed;               /* the recorded first answer again: Idempotent-Replayed: true */
	const char *vary;            /* Vary header when set (static string): what chose the content */
	struct reply_stream stream;  /* produce set: the body goes on past body (see above) */
};

/* An answer that waits for another thread (the store's group commit, the
 * agency's key check) without holding an HTTP thread: the handler fills
 * *req->defer and returns HANDLER_DEFERRED. request.c then suspends the
 * connection and calls start, which hands job over; that thread calls
 * wake(wake_ctx) exactly once when it is done, and finish(job, out) then
 * writes the reply on an HTTP thread and frees job. finish is called exactly
 * once, also when the client has gone (its reply is then discarded). */
struct deferral {
	void *job;
	void (*start)(void *job, void (*wake)(void *wake_ctx), void *wake_ctx);
	void (*finish)(void *job, struct reply *out);
};

struct query_param {
	const char *key;   /* decoded, NUL-terminated */
	const char *value; /* decoded; "" when the parameter has no '=' */
};

struct request {
	const char *method;
	const char *path;
	const char *path_id;              /* the {id} segment of the route, or NULL */
	const struct query_param *query;  /* decoded query parameters */
	size_t nquery;
	const char *body;                 /* raw body bytes (not NUL-terminated in general) */
	size_t body_len;
	const char *content_type;         /* NULL if absent */
	const char *accept;               /* the Accept header; NULL if absent */
	const char *idempotency_key;      /* NULL if absent */
	const char *request_id;           /* always set */
	const struct auth_claims *claims; /* verified token; NULL on public routes */
	struct app *app;
	struct deferral *defer;           /* see HANDLER_DEFERRED */
	char today[11];                   /* YYYY-MM-DD, UTC, fixed at request start */
	char now[25];                     /* 2026-02-20T10:00:00.123Z, fixed at request start */
};

typedef enum handler_result (*handler_fn)(const struct request *req, struct reply *out);

/* One entry of the route table (server/routes.c). */
struct route {
	const char *method;
	const char *path;  /* "{id}" matches one non-empty segment; literal paths win over it */
	unsigned scopes;   /* any of these auth_scope bits is enough; 0 = public */
	handler_fn handler;
};

/* Returns the value of query parameter key, or NULL. If the parameter
 * appears more than once, *dup is set to true (when dup is not NULL). */
const char *request_query(const struct request *req, const char *key, bool *dup);

/* Sets a 200/201/... JSON answer whose body the caller writes into out->body. */
static inline enum handler_result reply_json(struct reply *out, int status)
{
	out->status = status;
	out->content_type = "application/json";
	return HANDLER_ANSWERED;
}

#endif
