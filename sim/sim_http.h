/* SPDX-License-Identifier: MIT */
/* The libmicrohttpd side of the simulator: the daemon, the access-handler
 * protocol (called 3+ times per request), the 1 MiB body cap, and the one
 * place an answer is queued, delayed or dropped. */
#ifndef SIM_HTTP_H
#define SIM_HTTP_H
#include <stddef.h>

struct sim_app;
struct sim_http;

#define SIM_BODY_MAX (1024 * 1024) /* larger bodies: 413 */

/* Listens on host (a name or an IPv4/IPv6 literal; the first address it
 * resolves to) and port (0: any free port).
 * app is borrowed and must outlive the server. NULL with a message in err. */
struct sim_http *sim_http_start(struct sim_app *app, const char *host, int port, char *err,
				size_t errlen);
/* The port actually bound. */
int sim_http_port(const struct sim_http *h);
/* Stops accepting, lets requests in flight finish (app->stopping cuts
 * injected delays short) and frees the server. NULL-safe. */
void sim_http_stop(struct sim_http *h);

#endif
