/* SPDX-License-Identifier: MIT */
#include "webhooks/guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static atomic_uint_fast64_t refused_total;

/* A network: the address's first bits, in network order for IPv6. */
struct net4 {
	uint32_t prefix;
	unsigned bits;
};
struct net6 {
	uint8_t prefix[16];
	unsigned bits;
};

/* IPv4 networks never reached (IANA special-purpose registry, and what it
 * marks as not forwardable or not global). */
static const struct net4 closed4[] = {
	{0x00000000, 8},  /* 0.0.0.0/8 "this network"; 0.0.0.0 reaches the local host */
	{0x0a000000, 8},  /* 10/8 private */
	{0x64400000, 10}, /* 100.64/10 carrier-grade NAT */
	{0x7f000000, 8},  /* 127/8 loopback */
	{0xa9fe0000, 16}, /* 169.254/16 link-local, cloud metadata at .169.254 */
	{0xac100000, 12}, /* 172.16/12 private */
	{0xc0000000, 24}, /* 192.0.0/24 protocol assignments */
	{0xc0000200, 24}, /* 192.0.2/24 documentation */
	{0xc0a80000, 16}, /* 192.168/16 private */
	{0xc6120000, 15}, /* 198.18/15 benchmarking */
	{0xc6336400, 24}, /* 198.51.100/24 documentation */
	{0xcb007100, 24}, /* 203.0.113/24 documentation */
	{0xe0000000, 4},  /* 224/4 multicast */
	{0xf0000000, 4},  /* 240/4 reserved, and 255.255.255.255 broadcast */
};

/* IPv6 networks never reached, besides the forms that embed IPv4. */
static const struct net6 closed6[] = {
	{{0x01, 0x00}, 64},                   /* 100::/64 discard-only */
	{{0x20, 0x01, 0x0d, 0xb8}, 32},       /* 2001:db8::/32 documentation */
	{{0xfc}, 7},                          /* fc00::/7 unique local */
	{{0xfe, 0x80}, 10},                   /* fe80::/10 link-local */
	{{0xfe, 0xc0}, 10},                   /* fec0::/10 site-local (deprecated, still routable inside sites) */
	{{0xff}, 8},                          /* ff00::/8 multicast */
	{{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48}, /* 64:ff9b:1::/48 local-use NAT64 */
};

/* IPv6 prefixes whose last 32 bits are an IPv4 address. */
static const struct net6 embeds4[] = {
	{{0}, 96},                                                    /* ::a.b.c.d compatible */
	{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96},             /* ::ffff:a.b.c.d mapped */
	{{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0}, 96},             /* ::ffff:0:a.b.c.d translated */
	{{0x00, 0x64, 0xff, 0x9b}, 96},                               /* 64:ff9b::/96 NAT64 */
};

static bool ipv4_public(uint32_t a) /* host order */
{
	for (size_t i = 0; i < sizeof closed4 / sizeof closed4[0]; i++) {
		uint32_t mask = 0xffffffffu << (32 - closed4[i].bits);
		if ((a & mask) == closed4[i].prefix)
			return false;
	}
	return true;
}

static bool in_net6(const uint8_t a[16], const struct net6 *n)
{
	unsigned full = n->bits / 8, rest = n->bits % 8;
	if (memcmp(a, n->prefix, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (n->prefix[full] & mask);
}

static uint32_t ipv4_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool ipv6_public(const uint8_t a[16])
{
	static const uint8_t loopback[16] = {[15] = 1};
	static const uint8_t unspecified[16] = {0};
	if (!memcmp(a, loopback, 16) || !memcmp(a, unspecified, 16))
		return false;
	for (size_t i = 0; i < sizeof embeds4 / sizeof embeds4[0]; i++)
		if (in_net6(a, &embeds4[i]))
			return ipv4_public(ipv4_at(a + 12));
	/* 6to4 carries the IPv4 address of its relay in bits 16..47. */
	if (a[0] == 0x20 && a[1] == 0x02)
		return ipv4_public(ipv4_at(a + 2));
	for (size_t i = 0; i < sizeof closed6 / sizeof closed6[0]; i++)
		if (in_net6(a, &closed6[i]))
			return false;
	return true;
}

bool guard_address_public(const struct sockaddr *sa)
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return ipv4_public(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		return ipv6_public(in6->sin6_addr.s6_addr);
	}
	return false;
}

/* True if host (as libcurl's URL API returns it: IPv6 in brackets) is an IP
 * literal; *public then says whether it may be reached. */
static bool host_is_literal(const char *host, bool *public)
{
	char h[256];
	size_t n = strlen(host);
	if (n >= sizeof h)
		return false;
	memcpy(h, host, n + 1);
	if (h[0] == '[' && n > 2 && h[n - 1] == ']') {
		struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
		h[n - 1] = '\0';
		if (inet_pton(AF_INET6, h + 1, &in6.sin6_addr) != 1)
			return false;
		*public = guard_address_public((struct sockaddr *)&in6);
		return true;
	}
	if (n > 1 && h[n - 1] == '.') /* "127.0.0.1." resolves like "127.0.0.1" */
		h[n - 1] = '\0';
	/* inet_aton, not inet_pton: it takes what resolvers take too, the
	 * shorthands "127.1", hex "0x7f.1", octal "0177.0.0.1" and one
	 * decimal number "2130706433". */
	struct sockaddr_in in = {.sin_family = AF_INET};
	if (inet_aton(h, &in.sin_addr) == 0)
		return false;
	*public = guard_address_public((struct sockaddr *)&in);
	return true;
}

/* "localhost" and names under it (RFC 6761), with or without the final dot. */
static bool host_is_localhost(const char *host)
{
	size_t n = strlen(host);
	if (n > 0 && host[n - 1] == '.')
		n--;
	static const char name[] = "localhost", under[] = ".localhost";
	if (n == sizeof name - 1 && !strncasecmp(host, name, n))
		return true;
	return n > sizeof under - 1 && !strncasecmp(host + n - (sizeof under - 1), under, sizeof under - 1);
}

/* The part of the URL, or NULL when absent (curl_free it). */
static char *part_of(CURLU *u, CURLUPart what)
{
	char *part = NULL;
	if (curl_url_get(u, what, &part, 0) != CURLUE_OK) {
		curl_free(part);
		return NULL;
	}
	return part;
}

static bool has_part(CURLU *u, CURLUPart what)
{
	char *p = part_of(u, what);
	curl_free(p);
	return p != NULL;
}

static bool printable_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* The verdict on a URL that libcurl parsed; why set unless URL_OK. */
static enum url_verdict parsed_verdict(CURLU *u, bool allow_private, char *why, size_t whylen)
{
	enum url_verdict v = URL_INVALID;
	char *scheme = part_of(u, CURLUPART_SCHEME), *host = part_of(u, CURLUPART_HOST);
	char *port = part_of(u, CURLUPART_PORT);
	bool public = true;
	if (!scheme || !(!strcmp(scheme, "https") || (allow_private && !strcmp(scheme, "http")))) {
		snprintf(why, whylen, "%s",
			 allow_private ? "the URL must be https:// or http://" : "the URL must be https://");
	} else if (!host || !*host) {
		snprintf(why, whylen, "the URL has no host");
	} else if (has_part(u, CURLUPART_USER) || has_part(u, CURLUPART_PASSWORD) || has_part(u, CURLUPART_OPTIONS)) {
		snprintf(why, whylen, "the URL must not carry a user name or password");
	} else if (has_part(u, CURLUPART_FRAGMENT)) {
		snprintf(why, whylen, "the URL must not have a fragment");
	} else if (port && (strlen(port) > 5 || strspn(port, "0123456789") != strlen(port) || atoi(port) < 1 ||
			    atoi(port) > 65535)) {
		snprintf(why, whylen, "the URL's port must be 1 to 65535");
	} else if (!allow_private && has_part(u, CURLUPART_ZONEID)) {
		/* A zone id only scopes link-local addresses. */
		v = URL_PRIVATE;
		snprintf(why, whylen, "the URL's host is a link-local address");
	} else if (!allow_private && host_is_localhost(host)) {
		v = URL_PRIVATE;
		snprintf(why, whylen, "the URL's host is localhost");
	} else if (!allow_private && host_is_literal(host, &public) && !public) {
		v = URL_PRIVATE;
		snprintf(why, whylen, "the URL's host is a loopback, private, link-local or reserved address");
	} else {
		v = URL_OK;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	return v;
}

enum url_verdict webhook_url_check(const char *url, bool allow_private, char *why, size_t whylen)
{
	char scratch[1];
	if (!why || !whylen) {
		why = scratch;
		whylen = sizeof scratch;
	}
	why[0] = '\0';
	size_t n = url ? strlen(url) : 0;
	if (n == 0 || n > WEBHOOK_URL_MAX) {
		snprintf(why, whylen, "the URL must have 1 to %d characters", WEBHOOK_URL_MAX);
		return URL_INVALID;
	}
	if (!printable_ascii(url)) {
		snprintf(why, whylen, "the URL must not contain spaces, control or non-ASCII characters");
		return URL_INVALID;
	}
	CURLU *u = curl_url();
	if (!u) {
		snprintf(why, whylen, "out of memory checking the URL");
		return URL_INVALID;
	}
	enum url_verdict v = URL_INVALID;
	CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (rc == CURLUE_BAD_PORT_NUMBER)
		snprintf(why, whylen, "the URL's port must be 1 to 65535");
	else if (rc == CURLUE_UNSUPPORTED_SCHEME)
		snprintf(why, whylen, "the URL must be https://");
	else if (rc != CURLUE_OK)
		snprintf(why, whylen, "the URL is not an absolute URL with a scheme and a host");
	else
		v = parsed_verdict(u, allow_private, why, whylen);
	curl_url_cleanup(u);
	return v;
}

curl_socket_t guard_opensocket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
	(void)purpose; /* every socket counts, whatever libcurl wants it for */
	struct guard *g = clientp;
	/* libcurl's struct ends in a struct sockaddr, but the memory behind it
	 * holds the whole address of addrlen bytes. */
	size_t need = address->family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	bool whole = address->addrlen >= need && address->addr.sa_family == address->family;
	if (!g->allow_private && (!whole || !guard_address_public(&address->addr))) {
		g->refused++;
		atomic_fetch_add(&refused_total, 1);
		return CURL_SOCKET_BAD;
	}
	return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

uint64_t guard_refused_total(void)
{
	return atomic_load(&refused_total);
}
