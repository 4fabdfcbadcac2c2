/* SPDX-License-Identifier: MIT */
/* The libmicrohttpd side of the service: the daemon, the access-handler
 * protocol (called 3+ times per request), body accumulation with limits,
 * authentication, and the one place responses are queued. */
#ifndef INKASSO_REQUEST_H
#define INKASSO_REQUEST_H
#include <stdbool.h>

#include "server/app.h"

#define REQUEST_BODY_MAX (64 * 1024)  /* DESIGN.md: bodies capped at 64 KiB */
#define REQUEST_DEADLINE_S 30         /* a request (headers + body) must arrive within this */

struct server;

/* Starts the HTTP daemon on host:port with threads workers, serving the
 * routes of app->router. NULL with a message in err on failure. app is
 * borrowed and must outlive the server. */
struct server *server_start(struct app *app, const char *host, int port, int threads, char *err,
			    size_t errlen);
/* Stops accepting, waits up to grace_ms for requests in flight to finish,
 * then stops the daemon and frees it. NULL-safe. */
void server_stop(struct server *s, int grace_ms);
/* The port actually bound (useful with port 0). */
int server_port(const struct server *s);

#endif
