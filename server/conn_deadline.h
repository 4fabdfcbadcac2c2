/* SPDX-License-Identifier: MIT */
/* A deadline for the request head (issue 5, slowloris).
 *
 * libmicrohttpd 0.9.75 only knows an idle timeout, which every byte restarts:
 * a client sending one header byte every few seconds would hold its
 * connection for ever, and a few hundred such clients exhaust the connection
 * limit. This module remembers when each connection began waiting for a
 * request (when it was accepted, then when its last request completed) and a
 * watchdog thread shuts down the socket of any connection whose request has
 * not reached the access handler within the deadline. The body has its own
 * deadline in request.c; a request being handled is never cut here. */
#ifndef INKASSO_CONN_DEADLINE_H
#define INKASSO_CONN_DEADLINE_H
#include <microhttpd.h>

struct conn_deadline;

/* Starts the watchdog; NULL if its thread cannot start. */
struct conn_deadline *conn_deadline_start(int deadline_s);
/* Stops the watchdog (after the daemon stopped). NULL-safe. */
void conn_deadline_stop(struct conn_deadline *d);

/* MHD_OPTION_NOTIFY_CONNECTION callback; cls is the struct conn_deadline. */
void conn_deadline_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code);
/* The connection's request reached the access handler: no deadline now. */
void conn_deadline_in_handler(struct MHD_Connection *conn);
/* The request completed: the next one must arrive within the deadline. */
void conn_deadline_request_done(struct MHD_Connection *conn);

#endif
