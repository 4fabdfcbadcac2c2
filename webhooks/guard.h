/* SPDX-License-Identifier: MIT */
/* The SSRF guard of webhook delivery: a tenant names the URL, so without it
 * inkasso would POST to its own loopback, the cloud's metadata address or
 * the private network on a tenant's behalf. Two checks:
 *   - webhook_url_check at registration: the URL's shape, and a host that
 *     is an IP literal (in any spelling inet_aton accepts) or "localhost";
 *     names that need DNS are not resolved there.
 *   - guard_opensocket at every connect: libcurl hands it the address it
 *     resolved and is about to connect to. Checking there, not the name or
 *     an earlier lookup, leaves no gap for DNS rebinding (a name that
 *     answers a public address to the check and 127.0.0.1 to the connect)
 *     and covers every address libcurl tries (happy eyeballs, fallbacks).
 * "Public" is an allow-list of what is left after the special-purpose
 * ranges of IANA's registries that a webhook has no business reaching. */
#ifndef INKASSO_WEBHOOK_GUARD_H
#define INKASSO_WEBHOOK_GUARD_H
#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest webhook URL accepted. */
#define WEBHOOK_URL_MAX 2048

/* True if sa is an IPv4 or IPv6 address that may be the target of a webhook.
 * False for anything else (AF_UNIX, unknown families, NULL) and for
 *   IPv4: 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.0.0/24,
 *         the documentation nets 192.0.2/24, 198.51.100/24, 203.0.113/24,
 *         192.168/16, 198.18/15, 224/4 (multicast), 240/4 (with
 *         255.255.255.255);
 *   IPv6: ::, ::1, 100::/64 (discard), 2001:db8::/32 (documentation),
 *         fc00::/7, fe80::/10, fec0::/10 (old site-local), ff00::/8,
 *         64:ff9b:1::/48 (local NAT64); and the forms that carry an IPv4
 *         address, judged by that address: ::ffff:a.b.c.d (mapped),
 *         ::a.b.c.d (compatible), ::ffff:0:a.b.c.d (translated),
 *         64:ff9b::a.b.c.d (NAT64) and 2002:aabb:ccdd::/48 (6to4). */
bool guard_address_public(const struct sockaddr *sa);

enum url_verdict {
	URL_OK,
	URL_INVALID, /* not a URL we send to: syntax, scheme, credentials, port, fragment, length */
	URL_PRIVATE, /* the host is an IP literal that is not public, or localhost */
};

/* Checks a webhook URL before it is stored: at most WEBHOOK_URL_MAX
 * printable ASCII characters, parsed by libcurl's URL API; https (http
 * too when allow_private); a host; no user or password; a port, if any,
 * 1 to 65535; no fragment. A host that is an IP literal and not public, or
 * "localhost" or a name under ".localhost", is URL_PRIVATE unless
 * allow_private. On anything but URL_OK, why gets a short English sentence
 * (never the URL itself: it may carry a token in its query). */
enum url_verdict webhook_url_check(const char *url, bool allow_private, char *why, size_t whylen);

/* The opensocket callback's state (CURLOPT_OPENSOCKETDATA). One per easy
 * handle: the callback runs on the thread that performs the transfer. */
struct guard {
	bool allow_private;     /* let every address through (development and tests) */
	unsigned long refused;  /* connects refused through this guard */
};

/* CURLOPT_OPENSOCKETFUNCTION: refuses (CURL_SOCKET_BAD, which libcurl
 * reports as CURLE_COULDNT_CONNECT after trying the other addresses) an
 * address that is not public unless the guard's allow_private; otherwise
 * opens the socket libcurl asked for (close-on-exec). clientp is a
 * struct guard. */
curl_socket_t guard_opensocket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address);

/* Connects refused by every guard of the process since it started (metrics). */
uint64_t guard_refused_total(void);

#endif
