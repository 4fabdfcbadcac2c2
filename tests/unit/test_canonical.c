/* SPDX-License-Identifier: MIT */
/* The canonical JSON text the Idempotency-Key fingerprint is taken over:
 * bodies holding the same value write the same bytes, others differ. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/json_canonical.h"
#include "lib/json_strict.h"

static char *canonical(const char *text)
{
	enum json_strict_error err;
	json_object *v = json_strict_parse(text, strlen(text), 16, false, &err, NULL, 0);
	cr_assert_not_null(v, "parses: %s", text);
	struct buf b = {0};
	json_canonical(v, &b);
	json_object_put(v);
	cr_assert_not(b.oom);
	return buf_steal(&b, NULL);
}

static void same(const char *a, const char *b)
{
	char *x = canonical(a), *y = canonical(b);
	cr_expect_str_eq(x, y, "%s and %s", a, b);
	free(x);
	free(y);
}

static void differ(const char *a, const char *b)
{
	char *x = canonical(a), *y = canonical(b);
	cr_expect_str_neq(x, y, "%s and %s", a, b);
	free(x);
	free(y);
}

Test(canonical, writes_one_form)
{
	char *c = canonical(" { \"b\" : [ 1 , 2.5 , true , null ] , \"a\" : { \"y\" : \"\\u00e9\" , \"x\" : -0 } } ");
	cr_expect_str_eq(c, "{\"a\":{\"x\":0,\"y\":\"é\"},\"b\":[1,2.5,true,null]}");
	free(c);
}

Test(canonical, member_order_whitespace_escapes_and_number_spelling_do_not_matter)
{
	same("{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}");
	same("{\"a\":[1,{\"c\":3,\"d\":4}]}", "{ \"a\" : [ 1 , { \"d\" : 4 , \"c\" : 3 } ] }");
	same("{\"s\":\"caf\\u00e9 \\/ \\u0041\"}", "{\"s\":\"café / A\"}");
	same("{\"n\":25000}", "{\"n\":25000.0}");
	same("{\"n\":25000}", "{\"n\":2.5e4}");
	same("{\"n\":0.1}", "{\"n\":1e-1}");
	same("{\"n\":9007199254740993}", "{\"n\":9007199254740993}");
}

Test(canonical, other_values_differ)
{
	differ("{\"a\":1}", "{\"a\":2}");
	differ("{\"a\":1}", "{\"a\":\"1\"}");
	differ("{\"a\":[1,2]}", "{\"a\":[2,1]}");     /* arrays keep their order */
	differ("{\"a\":null}", "{}");
	differ("{\"a\":true}", "{\"a\":1}");
	differ("{\"a\":\"x\"}", "{\"a\":\"x \"}");
	differ("{\"n\":25000}", "{\"n\":25000.5}");
}
