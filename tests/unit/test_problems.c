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

#include "handlers/handlers.h"
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

/* Every code of the registry has the texts of its page, and a name that
 * can stand in a path and in HTML unescaped. */
Test(problems, every_code_has_its_page_texts)
{
	for (int p = 0; p < PROBLEM__COUNT; p++) {
		enum problem_code c = (enum problem_code)p;
		const char *name = problem_name(c);
		cr_assert(name && *name);
		cr_expect_eq(strspn(name, "abcdefghijklmnopqrstuvwxyz_"), strlen(name), "%s", name);
		cr_expect(problem_status(c) >= 400 && problem_status(c) <= 599, "%s", name);
		const char *texts[] = {problem_title(c), problem_when(c), problem_todo(c)};
		for (int t = 0; t < 3; t++) {
			cr_assert_not_null(texts[t], "%s: text %d", name, t);
			cr_expect_gt(strlen(texts[t]), 3, "%s: text %d is empty", name, t);
		}
		cr_expect_eq(problem_find(name), p, "%s", name);
	}
	cr_expect_eq(problem_find("nope"), -1);
	cr_expect_eq(problem_find(""), -1);
	cr_expect_eq(problem_find("NOT_FOUND"), -1);
}

static struct reply get_problem(const char *code, const char *accept)
{
	struct request req = {.method = "GET", .path = "/problems/x", .path_id = code, .accept = accept,
			      .request_id = "req_test"};
	struct reply out = {0};
	cr_assert_eq(handle_problem_get(&req, &out), HANDLER_ANSWERED);
	return out;
}

/* s as the page's HTML escapes it. */
static void html_of(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	for (; *s && n + 8 < cap; s++) {
		const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '"' ? "&quot;"
			      : *s == '\'' ? "&#39;" : NULL;
		if (e) {
			memcpy(out + n, e, strlen(e));
			n += strlen(e);
		} else {
			out[n++] = *s;
		}
	}
	out[n] = '\0';
}

Test(problems, every_code_resolves_to_its_page)
{
	for (int p = 0; p < PROBLEM__COUNT; p++) {
		enum problem_code c = (enum problem_code)p;
		struct reply out = get_problem(problem_name(c), NULL);
		cr_expect_eq(out.status, 200, "%s", problem_name(c));
		cr_expect_str_eq(out.content_type, "text/html; charset=utf-8");
		const char *html = buf_cstr(&out.body);
		cr_expect(!strncmp(html, "<!DOCTYPE html>", 15));
		char want[1024], status[48];
		const char *texts[] = {problem_title(c), problem_when(c), problem_todo(c)};
		for (int t = 0; t < 3; t++) {
			html_of(texts[t], want, sizeof want);
			cr_expect(strstr(html, want), "%s: text %d not on its page", problem_name(c), t);
		}
		snprintf(status, sizeof status, "<strong>%d</strong>", problem_status(c));
		cr_expect(strstr(html, status), "%s", problem_name(c));
		cr_expect(!strstr(html, "http://") && !strstr(html, "https://") && !strstr(html, "src="),
			  "no external assets");
		buf_free(&out.body);

		out = get_problem(problem_name(c), "application/json");
		cr_expect_eq(out.status, 200);
		cr_expect_str_eq(out.content_type, "application/json");
		char type[96];
		snprintf(type, sizeof type, "{\"type\":\"/problems/%s\",\"code\":\"%s\"", problem_name(c),
			 problem_name(c));
		cr_expect(!strncmp(buf_cstr(&out.body), type, strlen(type)), "%s", buf_cstr(&out.body));
		buf_free(&out.body);
	}
}

Test(problems, an_unknown_code_is_404)
{
	static const char *const unknown[] = {"nope", "", "NOT_FOUND", "not_found ", "not_found/x", "<script>"};
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		struct reply out = get_problem(unknown[i], "text/html");
		cr_expect_eq(out.status, 404, "%s", unknown[i]);
		cr_expect_str_eq(out.content_type, "application/problem+json");
		cr_expect(strstr(buf_cstr(&out.body), "\"code\":\"not_found\""));
		buf_free(&out.body);
	}
	struct reply out = get_problem(NULL, NULL);
	cr_expect_eq(out.status, 404);
	buf_free(&out.body);
}

/* Every "/problems/<code>" written anywhere in the contract names a code of
 * the registry: it resolves. */
Test(problems, every_type_in_openapi_resolves)
{
	char *text = read_contract(); /* strtok in parse_problem_code cut it; read again */
	int seen = 0;
	for (char *p = strstr(text, "/problems/"); p; p = strstr(p + 1, "/problems/")) {
		const char *name = p + strlen("/problems/");
		size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz_");
		if (n == 0)
			continue; /* "/problems/{code}", "/problems/<code>", "/problems/`" */
		char code[64];
		snprintf(code, sizeof code, "%.*s", (int)n, name);
		cr_expect_geq(problem_find(code), 0, "openapi.yaml names /problems/%s, which is not in the registry",
			      code);
		seen++;
	}
	cr_expect_gt(seen, 10, "openapi.yaml names only %d problem types", seen);
}
