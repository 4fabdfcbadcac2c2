/* SPDX-License-Identifier: MIT */
/* Unit tests of the wire-level pieces: body parsing, UTF-8, JSON writing,
 * cursors, routing, problems. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdint.h>
#include <string.h>

#include "handlers/cursor.h"
#include "lib/digest.h"
#include "handlers/json_body.h"
#include "lib/buf.h"
#include "lib/jsonw.h"
#include "server/problem.h"
#include "handlers/handlers.h"
#include "server/router.h"
#include "server/routes.h"
#include "lib/utf8.h"

/* Raw bodies that must be refused with malformed_json, and why. */
static const struct {
	const char *body;
	size_t len; /* 0: strlen */
	const char *why_contains;
} bad_bodies[] = {
	{"", 0, "empty"},
	{"[]", 0, "object"},
	{"\"x\"", 0, "object"},
	{"12", 0, "JSON object"},
	{"null", 0, "JSON object"},
	{"{", 0, "JSON"},
	{"{\"a\":1}x", 0, "byte 7"},
	{"{\"a\":1}{}", 0, "byte 7"},
	{"{\"a\":1,}", 0, "JSON"},
	{"{'a':1}", 0, "JSON"},
	{"{\"a\":\"\xc0\xaf\"}", 0, "UTF-8"},         /* overlong '/' */
	{"{\"a\":\"\xed\xa0\x80\"}", 0, "UTF-8"},     /* surrogate U+D800 */
	{"{\"a\":\"\xf4\x90\x80\x80\"}", 0, "UTF-8"}, /* > U+10FFFF */
	{"{\"a\":\"\xff\"}", 0, "UTF-8"},
	{"{\"a\":\"x\\u0000y\"}", 0, "NUL"},
	{"{\"a\":\"\\ud800\"}", 0, "lone high surrogate"},
	{"{\"a\":\"x\\uD83Dy\"}", 0, "lone high surrogate"},
	{"{\"a\":\"\\ud800\\u0041\"}", 0, "lone high surrogate"},
	{"{\"a\":\"\\udc00\"}", 0, "lone low surrogate"},
	{"{\"\\ud800\":1}", 0, "lone high surrogate"},
	{"{\"a\":{\"b\":[\"\\u0000\"]}}", 0, "/a/b/0"},
	{"{\"a\":1}\0", 8, "UTF-8"},
	{"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	 0, "JSON"},
	{"{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":1}}}}}}}}}}}}}}}}}",
	 0, "JSON"},
};

Test(json_body, refuses_hostile_bodies)
{
	for (size_t i = 0; i < sizeof bad_bodies / sizeof bad_bodies[0]; i++) {
		char why[300] = "";
		size_t len = bad_bodies[i].len ? bad_bodies[i].len : strlen(bad_bodies[i].body);
		json_object *o = json_body_parse(bad_bodies[i].body, len, why, sizeof why);
		cr_expect_null(o, "body %zu accepted", i);
		json_object_put(o);
		cr_expect(strstr(why, bad_bodies[i].why_contains) != NULL, "body %zu: \"%s\" lacks \"%s\"", i, why,
			  bad_bodies[i].why_contains);
	}
}

Test(json_body, accepts_objects_with_trailing_whitespace)
{
	char why[300];
	const char *body = "{\"name\":\"Kåre Ærø\",\"n\":[1,2,{\"x\":null}]} \r\n\t";
	json_object *o = json_body_parse(body, strlen(body), why, sizeof why);
	cr_assert_not_null(o, "%s", why);
	json_object *name;
	cr_assert(json_object_object_get_ex(o, "name", &name));
	cr_expect_str_eq(json_object_get_string(name), "Kåre Ærø");
	json_object_put(o);
}

Test(json_body, accepts_a_surrogate_pair_escape)
{
	char why[300];
	const char *body = "{\"a\":\"x\\ud83d\\ude00y\\\\ud800\"}"; /* an escaped backslash, then "ud800" */
	json_object *o = json_body_parse(body, strlen(body), why, sizeof why);
	cr_assert_not_null(o, "%s", why);
	json_object *a;
	cr_assert(json_object_object_get_ex(o, "a", &a));
	cr_expect_str_eq(json_object_get_string(a), "x\xf0\x9f\x98\x80y\\ud800");
	json_object_put(o);
}

Test(utf8, classifies_sequences)
{
	cr_expect(utf8_valid("abc", 3, NULL));
	cr_expect(utf8_valid("\xe2\x82\xac", 3, NULL));            /* € */
	cr_expect(utf8_valid("\xf0\x9f\x98\x80", 4, NULL));        /* emoji */
	size_t bad = 99;
	cr_expect_not(utf8_valid("ab\xe2\x82", 4, &bad));          /* truncated */
	cr_expect_eq(bad, 2);
	cr_expect_not(utf8_valid("a\0b", 3, &bad));                /* NUL */
	cr_expect_eq(bad, 1);
	cr_expect_not(utf8_valid("\xe0\x80\xaf", 3, NULL));        /* overlong */
}

Test(jsonw, escapes_controls_quotes_and_bad_utf8)
{
	struct buf b = {0};
	jw_str(&b, "a\"b\\c\n\r\t\x01\x7f\xff\xe2\x80\xa8z");
	cr_expect_str_eq(buf_cstr(&b), "\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u007f\\ufffd\\u2028z\"");
	buf_reset(&b);
	jw_str(&b, NULL);
	cr_expect_str_eq(buf_cstr(&b), "null");
	buf_reset(&b);
	buf_putc(&b, '{');
	jw_kint(&b, true, "n", -9223372036854775807LL - 1);
	jw_kbool(&b, false, "t", true);
	jw_kstr_or_null(&b, false, "e", "");
	buf_putc(&b, '}');
	cr_expect_str_eq(buf_cstr(&b), "{\"n\":-9223372036854775808,\"t\":true,\"e\":null}");
	json_object *o = json_tokener_parse(buf_cstr(&b));
	cr_expect_not_null(o, "writer output must parse");
	json_object_put(o);
	buf_free(&b);
}

Test(jsonw, integers_at_the_edges)
{
	struct buf b = {0};
	buf_putc(&b, '{');
	jw_kint(&b, true, "a", 0);
	jw_kint(&b, false, "b", -7);
	jw_kint(&b, false, "c", INT64_MAX);
	jw_kint(&b, false, "d", INT64_MIN);
	buf_putc(&b, '}');
	cr_assert_str_eq(buf_cstr(&b), "{\"a\":0,\"b\":-7,\"c\":9223372036854775807,\"d\":-9223372036854775808}");
	buf_free(&b);
}

Test(cursor, round_trips_and_refuses_forgeries)
{
	int64_t seqs[] = {1, 49, 50, 1000000, INT64_MAX};
	for (size_t i = 0; i < 5; i++) {
		char c[CURSOR_MAX];
		int64_t back = 0;
		cursor_encode(seqs[i], c);
		cr_expect(cursor_decode(c, &back), "cursor %s", c);
		cr_expect_eq(back, seqs[i]);
	}
	const char *bad[] = {"", "x", "djEuMA", /* v1.0 */ "djIuNQ" /* v2.5 */, "djEuLTE" /* v1.-1 */,
			     "djEuNQ==", "djEuNQ!", "djEuOTk5OTk5OTk5OTk5OTk5OTk5OTk5"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t v = 7;
		cr_expect_not(cursor_decode(bad[i], &v), "accepted %s", bad[i]);
		cr_expect_eq(v, 7);
	}
}

/* The slot of path in r, or -1. */
static int slot_of(const struct router *r, const char *path)
{
	for (size_t i = 0; i < r->npaths; i++)
		if (!strcmp(r->paths[i], path))
			return (int)i;
	return -1;
}

Test(routes, match_paths_methods_and_ids)
{
	struct router rt;
	char err[128], pid[64], allow[64];
	int slot;
	cr_assert(router_init(&rt, routes, routes_count, err, sizeof err), "%s", err);
	const struct route *r = router_match(&rt, "GET", "/v1/collection-cases/cc_X", &slot, pid, sizeof pid, allow,
					     sizeof allow);
	cr_assert_not_null(r);
	cr_expect_eq(slot, slot_of(&rt, "/v1/collection-cases/{id}"));
	cr_expect_str_eq(pid, "cc_X");
	r = router_match(&rt, "POST", "/v1/collection-cases/preview", &slot, pid, sizeof pid, allow, sizeof allow);
	cr_assert_not_null(r);
	cr_expect_eq(slot, slot_of(&rt, "/v1/collection-cases/preview"), "a literal path wins over {id}");
	r = router_match(&rt, "GET", "/v1/collection-cases/preview", &slot, pid, sizeof pid, allow, sizeof allow);
	cr_expect_null(r);
	cr_expect_str_eq(allow, "POST");
	r = router_match(&rt, "DELETE", "/v1/collection-cases", &slot, pid, sizeof pid, allow, sizeof allow);
	cr_expect_null(r);
	cr_expect_eq(slot, slot_of(&rt, "/v1/collection-cases"));
	cr_expect_str_eq(allow, "POST, GET");
	r = router_match(&rt, "GET", "/v1/collection-cases//", &slot, pid, sizeof pid, allow, sizeof allow);
	cr_expect_null(r);
	cr_expect_eq(slot, router_unmatched(&rt));
	cr_expect_str_eq(rt.paths[slot], "unmatched");
	r = router_match(&rt, "GET", "/v1/collection-cases/a/b", &slot, pid, sizeof pid, allow, sizeof allow);
	cr_expect_null(r);
	cr_expect_eq(slot, router_unmatched(&rt));
}

Test(routes, refuses_tables_it_cannot_serve)
{
	struct router rt;
	char err[128];
	const struct route twice[] = {
		{.method = "GET", .path = "/a", .handler = handle_healthz},
		{.method = "GET", .path = "/a", .handler = handle_readyz},
	};
	cr_expect_not(router_init(&rt, twice, 2, err, sizeof err));
	cr_expect(strstr(err, "twice"), "%s", err);
	const struct route relative[] = {{.method = "GET", .path = "a", .handler = handle_healthz}};
	cr_expect_not(router_init(&rt, relative, 1, err, sizeof err));
	const struct route no_handler[] = {{.method = "GET", .path = "/a"}};
	cr_expect_not(router_init(&rt, no_handler, 1, err, sizeof err));
}

Test(problem, writes_rfc9457_with_field_errors)
{
	struct reply out = {0};
	struct field_errors e = {0};
	field_errors_add(&e, "/invoice/due_on", "not_overdue_enough", "due %s", "2026-11-20");
	cr_expect_eq(reply_field_problem(&out, PROBLEM_VALIDATION_FAILED, &e), HANDLER_ANSWERED);
	cr_expect_eq(out.status, 422);
	cr_expect_str_eq(out.content_type, "application/problem+json");
	cr_expect_str_eq(buf_cstr(&out.body),
			 "{\"type\":\"/problems/validation_failed\",\"title\":\"The body is not valid\",\"status\":422,"
			 "\"code\":\"validation_failed\",\"errors\":[{\"pointer\":\"/invoice/due_on\","
			 "\"code\":\"not_overdue_enough\",\"detail\":\"due 2026-11-20\"}]}");
	for (int i = 0; i < 100; i++)
		field_errors_add(&e, "/x", "required", "x");
	cr_expect_eq(e.n, 64, "errors are capped");
	field_errors_free(&e);
	buf_free(&out.body);
}

Test(digest, national_id_forms_hash_alike_and_keys_differ)
{
	unsigned char k1[32] = {1}, k2[32] = {2};
	char a[DIGEST_HEX_LEN], b[DIGEST_HEX_LEN], c[DIGEST_HEX_LEN];
	digest_national_id(k1, "19811218-9876", a);
	digest_national_id(k1, "811218 9876", b);
	cr_expect_str_eq(a, b, "12- and 10-digit Swedish forms must find the same case");
	digest_national_id(k2, "811218-9876", c);
	cr_expect_str_neq(b, c, "the hash is keyed");
	digest_national_id(k1, "131052-308t", a);
	digest_national_id(k1, "131052-308T", b);
	cr_expect_str_eq(a, b);
	cr_expect_eq(strlen(a), 64);
	cr_expect(strstr(a, "131052") == NULL);
}
