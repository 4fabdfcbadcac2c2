/* SPDX-License-Identifier: MIT */
/* `inkasso webhook-listen`: a receiver for webhook deliveries that support
 * staff and developers run to watch events. It checks every delivery as a
 * careful receiver must (signature and timestamp, Standard Webhooks 1.0,
 * 5 minutes of tolerance), so it also shows what a receiver sees when a
 * secret or a clock is wrong. A libmicrohttpd server on one internal
 * thread: deliveries are small and printing them in order matters more
 * than parallelism. */
#ifndef INKASSO_WEBHOOK_LISTEN_H
#define INKASSO_WEBHOOK_LISTEN_H

/* Longest delivery body accepted; larger ones are answered 413. */
#define WEBHOOK_LISTEN_BODY_MAX (1024 * 1024)

/* Runs the command; argv[0] is "webhook-listen", then its flags:
 *   --listen HOST:PORT  IPv4 or [IPv6] address and port (default 127.0.0.1:8099; port 0 picks one)
 *   --secret whsec_...  the endpoint's signing secret
 *   --secret-file PATH  the secret from the first line of PATH
 *   (else the secret comes from INKASSO_WEBHOOK_LISTEN_SECRET)
 *   --help
 * Answers POST on any path: 204 for a verified event (one line on stdout,
 * flushed), 401 for a bad signature or timestamp (a "rejected: ..." line on
 * stdout), 400 for a verified body that is not a JSON object, 413 beyond
 * WEBHOOK_LISTEN_BODY_MAX, 405 for other methods. Prints
 * "webhook-listen: listening on ADDR:PORT" to stderr once it listens.
 * Returns the exit code: 0 after SIGINT or SIGTERM (or --help), 2 for bad
 * flags, a bad address or secret, 1 when it cannot listen. */
int webhook_listen_main(int argc, char **argv);

#endif
