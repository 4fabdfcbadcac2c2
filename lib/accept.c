/* SPDX-License-Identifier: MIT */
#include "lib/accept.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* The length of [p, end) without trailing blanks. */
static size_t trimmed(const char *p, const char *end)
{
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return (size_t)(end - p);
}

/* q=1, q=0.5, q=0.125 (at most three decimals) → 0..1000; -1 if malformed. */
static int parse_q(const char *p, size_t n)
{
	if (n == 0 || (p[0] != '0' && p[0] != '1'))
		return -1;
	int q = (p[0] - '0') * 1000, scale = 100;
	if (n == 1)
		return q;
	if (p[1] != '.' || n > 5)
		return -1;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		q += (p[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

/* How specifically range [r, r+n) matches type: 3 the type itself, 2 its
 * major type and an asterisk, 1 any type, 0 not at all. */
static int specificity(const char *r, size_t n, const char *type)
{
	size_t tn = strlen(type);
	const char *slash = strchr(type, '/');
	if (n == 3 && !strncmp(r, "*/*", 3))
		return 1;
	size_t major = slash ? (size_t)(slash - type) + 1 : tn; /* "text/" */
	if (n == major + 1 && r[n - 1] == '*' && !strncasecmp(r, type, major))
		return 2;
	return n == tn && !strncasecmp(r, type, tn) ? 3 : 0;
}

int accept_quality(const char *accept, const char *type)
{
	if (!accept || !*skip_ws(accept))
		return 1000;
	int best = 0, best_q = 0;
	for (const char *p = accept; *p;) {
		const char *end = p + strcspn(p, ","); /* one element: range *(; param) */
		const char *r = skip_ws(p);
		const char *semi = memchr(r, ';', (size_t)(end - r));
		size_t rn = trimmed(r, semi ? semi : end);
		int q = 1000;
		for (const char *a = semi; a && a < end;) {
			a = skip_ws(a + 1);
			const char *next = memchr(a, ';', (size_t)(end - a));
			const char *stop = next ? next : end;
			if ((stop - a) >= 2 && (a[0] == 'q' || a[0] == 'Q') && a[1] == '=')
				q = parse_q(a + 2, trimmed(a + 2, stop));
			a = next;
		}
		int s = q >= 0 ? specificity(r, rn, type) : 0;
		if (s > best) {
			best = s;
			best_q = q;
		}
		p = *end ? end + 1 : end;
	}
	return best_q;
}
