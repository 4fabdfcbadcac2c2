/* SPDX-License-Identifier: MIT */
/* HTTP content negotiation: how much an Accept header (RFC 9110, 12.5.1)
 * wants a media type. */
#ifndef INKASSO_ACCEPT_H
#define INKASSO_ACCEPT_H

/* The quality, 0 to 1000 (q=0.5 is 500), that accept gives type ("text/html"):
 * the q of the most specific range that matches it (the type itself over
 * "text/" and an asterisk over any type; parameters other than q are
 * ignored), 0 when none does.
 * A NULL or blank accept accepts everything: 1000. An element whose q does
 * not parse counts as absent. Case-insensitive. */
int accept_quality(const char *accept, const char *type);

#endif
