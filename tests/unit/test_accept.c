/* SPDX-License-Identifier: MIT */
/* accept_quality (lib/accept.h): what an Accept header gives a media type. */
#include <criterion/criterion.h>

#include "lib/accept.h"

static const struct {
	const char *accept;
	int html, json;
} cases[] = {
	{NULL, 1000, 1000},
	{"", 1000, 1000},
	{"  ", 1000, 1000},
	{"*/*", 1000, 1000},
	{"text/html", 1000, 0},
	{"application/json", 0, 1000},
	{"APPLICATION/JSON", 0, 1000},
	{"application/json; charset=utf-8", 0, 1000},
	{"text/*", 1000, 0},
	{"application/*;q=0.5", 0, 500},
	{"application/json, text/html;q=0.9", 900, 1000},
	{"text/html;q=0.9, application/json", 900, 1000},
	{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", 1000, 800}, /* a browser */
	{"application/json;q=0, */*", 1000, 0},  /* the most specific range wins, q=0 too */
	{"*/*;q=0.1, application/json", 100, 1000},
	{"text/html ; q=0.25 , application/json ; q=0.5", 250, 500},
	{"application/json;Q=0.3", 0, 300},
	{"application/json;q=1.000", 0, 1000},
	{"application/json;q=2", 0, 0},           /* a q that does not parse: the element is absent */
	{"application/json;q=0.1234", 0, 0},
	{"application/json;q=abc, */*;q=0.2", 200, 200},
	{"application/jsonx, text/htm", 0, 0},
	{"application, json, text", 0, 0},
	{",,,", 0, 0},
	{"application/json;level=1;q=0.7", 0, 700},
};

Test(accept, quality_table)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *a = cases[i].accept;
		cr_expect_eq(accept_quality(a, "text/html"), cases[i].html, "Accept: %s -> text/html %d, not %d",
			     a ? a : "(none)", accept_quality(a, "text/html"), cases[i].html);
		cr_expect_eq(accept_quality(a, "application/json"), cases[i].json,
			     "Accept: %s -> application/json %d, not %d", a ? a : "(none)",
			     accept_quality(a, "application/json"), cases[i].json);
	}
}
