/* SPDX-License-Identifier: MIT */
/* The problem registry (server/problem.h) and openapi.yaml's ProblemCode
 * say the same: every code once, with the same HTTP status. The schema's
 * enum lists the codes; its description gives each one's status
 * ("400 `malformed_json`, `invalid_parameter`; 401 `unauthorized`; ..."). */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/problem.h"

#define CODES_MAX 64

struct contract {
	char names[CODES_MAX][48]; /* from the enum */
	size_t n;
	char described[CODES_MAX][48]; /* from the description, with their status */
	int status[CODES_MAX];
	size_t ndescribed;
};

static char *read_contract(void)
{
	const char *path = getenv("INKASSO_OPENAPI") ? getenv("INKASSO_OPENAPI") : "openapi.yaml";
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "open %s (run from the repository root)", path);
	static char text[1 << 20];
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	return text;
}

/* The ProblemCode schema: from "    ProblemCode:" to the next schema at the
 * same indentation. */
static void parse_problem_code(struct contract *c)
{
	char *text = read_contract();
	char *at = strstr(text, "\n    ProblemCode:\n");
	cr_assert_not_null(at, "openapi.yaml has no components/schemas/ProblemCode");
	at += strlen("\n    ProblemCode:\n");
	char *end = at;
	while ((end = strchr(end, '\n')) && !strncmp(end + 1, "      ", 6))
		end++;
	cr_assert_not_null(end);
	*end = '\0';
	char *enums = strstr(at, "      enum:\n");
	cr_assert_not_null(enums, "ProblemCode has no enum");
	for (char *line = strtok(enums + strlen("      enum:\n"), "\n"); line; line = strtok(NULL, "\n")) {
		while (*line == ' ')
			line++;
		if (line[0] != '-')
			break;
		cr_assert_lt(c->n, CODES_MAX);
		snprintf(c->names[c->n++], sizeof c->names[0], "%s", line + 2);
	}
	/* The description, up to the enum: a status, then the codes it has. */
	int status = 0;
	for (char *p = at; p < enums; p++) {
		if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
		    !isdigit((unsigned char)p[3])) {
			status = atoi(p);
			p += 2;
		} else if (*p == '`') {
			char *close = strchr(p + 1, '`');
			cr_assert_not_null(close);
			cr_assert_lt(c->ndescribed, CODES_MAX);
			snprintf(c->described[c->ndescribed], sizeof c->described[0], "%.*s", (int)(close - p - 1), p + 1);
			c->status[c->ndescribed++] = status;
			p = close;
		}
	}
}

Test(problems, registry_and_openapi_agree)
{
	static struct contract c;
	parse_problem_code(&c);
	cr_expect_eq(c.n, PROBLEM__COUNT, "openapi.yaml lists %zu codes, the registry %d", c.n, PROBLEM__COUNT);
	cr_expect_eq(c.ndescribed, PROBLEM__COUNT, "the description gives a status for %zu codes", c.ndescribed);
	for (int p = 0; p < PROBLEM__COUNT; p++) {
		const char *name = problem_name((enum problem_code)p);
		bool listed = false, described = false;
		for (size_t i = 0; i < c.n; i++)
			listed |= !strcmp(c.names[i], name);
		for (size_t i = 0; i < c.ndescribed; i++)
			if (!strcmp(c.described[i], name)) {
				described = true;
				cr_expect_eq(c.status[i], problem_status((enum problem_code)p),
					     "%s: openapi.yaml says %d, the registry %d", name, c.status[i],
					     problem_status((enum problem_code)p));
			}
		cr_expect(listed, "%s is in the registry but not in openapi.yaml's ProblemCode enum", name);
		cr_expect(described, "%s has no status in openapi.yaml's ProblemCode description", name);
	}
	for (size_t i = 0; i < c.n; i++) {
		bool known = false;
		for (int p = 0; p < PROBLEM__COUNT; p++)
			known |= !strcmp(c.names[i], problem_name((enum problem_code)p));
		cr_expect(known, "%s is in openapi.yaml but not in the registry", c.names[i]);
	}
}

Test(problems, every_code_answers_its_own_status_and_type)
{
	for (int p = 0; p < PROBLEM__COUNT; p++) {
		struct reply out = {0};
		cr_expect_eq(reply_problem(&out, (enum problem_code)p, NULL), HANDLER_ANSWERED);
		cr_expect_eq(out.status, problem_status((enum problem_code)p));
		char type[96];
		snprintf(type, sizeof type, "\"type\":\"/problems/%s\"", problem_name((enum problem_code)p));
		cr_expect(strstr(buf_cstr(&out.body), type), "%s", buf_cstr(&out.body));
		buf_free(&out.body);
	}
}
