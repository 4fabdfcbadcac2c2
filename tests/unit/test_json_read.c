/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/json_read: a field table read from a body, every error
 * at once with its pointer and code, values where the table says. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <string.h>

#include "lib/json_read.h"

static const char *const colours[] = {"red", "green", NULL};

struct item {
	const char *label;
	int64_t qty;
	enum jr_got label_got;
};

struct doc {
	const char *name, *note, *token, *day;
	int colour;
	int64_t amount, count;
	bool flag;
	json_object *inner;
	const char *inner_text;
	struct item items[3];
	size_t nitems;
	enum jr_got name_got, note_got;
};

static json_object *last_doc;

/* Reads text by the test table into d; the errors into errs. */
static bool read_doc(const char *text, struct doc *d, struct field_errors *errs)
{
	memset(d, 0, sizeof *d);
	d->colour = -1;
	d->count = 7; /* a default the reader keeps when the member is absent */
	const struct jr_field item[] = {
		{.name = "label", .kind = JR_K_TEXT, .flags = JR_REQUIRED, .max = 5, .dst = &d->items[0].label,
		 .got = &d->items[0].label_got},
		JR_INT("qty", 1, 9, 0, &d->items[0].qty),
		JR_END,
	};
	const struct jr_field inner[] = {JR_TEXT("text", 3, JR_REQUIRED, &d->inner_text), JR_END};
	const struct jr_field fields[] = {
		{.name = "name", .kind = JR_K_TEXT, .flags = JR_REQUIRED | JR_BLANK_ABSENT, .max = 4, .dst = &d->name,
		 .got = &d->name_got},
		{.name = "note", .kind = JR_K_TEXT, .flags = JR_CHARS, .max = 3, .dst = &d->note, .got = &d->note_got},
		JR_TEXT("token", 0, JR_TOKEN | JR_NOT_EMPTY, &d->token),
		JR_ENUM("colour", colours, 0, &d->colour),
		JR_DATE("day", JR_NOT_FUTURE, &d->day),
		JR_MONEY("amount", 1, JR_REQUIRED, &d->amount),
		{.name = "count", .kind = JR_K_INT, .min = 0, .max = 10, .range_code = "out_of_range", .dst = &d->count},
		JR_BOOL("flag", &d->flag),
		JR_OBJECT("inner", 0, inner, &d->inner),
		{.name = "items", .kind = JR_K_ARRAY, .max = 3, .sub = item, .stride = sizeof d->items[0],
		 .count = &d->nitems, .elem_detail = "an item must be an object"},
		JR_END,
	};
	json_object *o = json_tokener_parse(text);
	cr_assert_not_null(o, "test body: %s", text);
	bool ok = json_read(o, "", fields, &(const struct jr_context){.errs = errs, .today = "2026-02-20"});
	/* The views live as long as the document: it stays until the next read. */
	json_object_put(last_doc);
	last_doc = o;
	return ok;
}

static bool has(const struct field_errors *e, const char *ptr, const char *code)
{
	for (size_t i = 0; i < e->n; i++)
		if (!strcmp(e->v[i].pointer, ptr) && !strcmp(e->v[i].code, code))
			return true;
	return false;
}

Test(json_read, a_valid_body_fills_every_destination)
{
	struct doc d;
	struct field_errors e = {0};
	cr_assert(read_doc("{\"name\":\"ab\",\"note\":\"ø¥€\",\"token\":\"k-1\",\"colour\":\"green\",\"day\":\"2026-02-20\","
			   "\"amount\":5,\"count\":10,\"flag\":true,\"inner\":{\"text\":\"abc\"},"
			   "\"items\":[{\"label\":\"a\",\"qty\":2},{\"label\":\"b\"}],\"unknown\":[1,2]}",
			   &d, &e));
	cr_expect_eq(e.n, 0);
	cr_expect_str_eq(d.name, "ab");
	cr_expect_str_eq(d.note, "ø¥€", "three characters fit JR_CHARS 3, six bytes or not");
	cr_expect_eq(d.colour, 1);
	cr_expect_str_eq(d.day, "2026-02-20");
	cr_expect_eq(d.amount, 5);
	cr_expect_eq(d.count, 10);
	cr_expect(d.flag);
	cr_expect_str_eq(d.inner_text, "abc");
	cr_expect_eq(d.nitems, 2);
	cr_expect_str_eq(d.items[1].label, "b", "the second element went to the second destination");
	cr_expect_eq(d.items[0].qty, 2);
	cr_expect_eq(d.items[1].label_got, JR_OK);
	field_errors_free(&e);
}

Test(json_read, absent_members_keep_their_defaults)
{
	struct doc d;
	struct field_errors e = {0};
	cr_assert(read_doc("{\"name\":\"ab\",\"amount\":1,\"note\":null}", &d, &e));
	cr_expect_eq(d.count, 7);
	cr_expect_eq(d.colour, -1);
	cr_expect_null(d.note);
	cr_expect_eq(d.note_got, JR_ABSENT, "null reads as absent");
	field_errors_free(&e);
}

Test(json_read, every_error_at_once_with_its_pointer)
{
	struct doc d;
	struct field_errors e = {0};
	cr_assert_not(read_doc("{\"name\":\"   \",\"note\":\"abcd\",\"token\":\"a b\",\"colour\":\"blue\","
			       "\"day\":\"2026-02-21\",\"amount\":1.5,\"count\":11,\"flag\":\"yes\","
			       "\"inner\":{\"text\":7},\"items\":[{\"label\":\"toolong\",\"qty\":0},3]}",
			       &d, &e));
	cr_expect(has(&e, "/name", "required"), "blank counts as absent, and it is required");
	cr_expect(has(&e, "/note", "too_long"));
	cr_expect(has(&e, "/token", "invalid_value"));
	cr_expect(has(&e, "/colour", "invalid_value"));
	cr_expect(has(&e, "/day", "invalid_date"), "after today");
	cr_expect(has(&e, "/amount", "invalid_amount"), "a fraction of a minor unit");
	cr_expect(has(&e, "/count", "out_of_range"), "the field's own range code");
	cr_expect(has(&e, "/flag", "invalid_type"));
	cr_expect(has(&e, "/inner/text", "invalid_type"));
	cr_expect(has(&e, "/items/0/label", "too_long"));
	cr_expect(has(&e, "/items/0/qty", "invalid_value"));
	cr_expect(has(&e, "/items/1", "invalid_type"));
	cr_expect_eq(e.n, 12);
	cr_expect_eq(d.name_got, JR_BAD);
	cr_expect_eq(d.items[0].label_got, JR_BAD);
	for (size_t i = 0; i < e.n; i++)
		cr_expect(e.v[i].detail[0], "%s has a detail", e.v[i].pointer);
	field_errors_free(&e);
}

Test(json_read, types_and_bounds)
{
	struct doc d;
	struct field_errors e = {0};
	cr_assert_not(read_doc("{\"amount\":\"5\",\"token\":\"\",\"count\":\"1\",\"items\":[{},{},{},{}],"
			       "\"inner\":[],\"day\":\"2026-02-30\"}",
			       &d, &e));
	cr_expect(has(&e, "/name", "required"));
	cr_expect(has(&e, "/amount", "invalid_type"), "a string is not an amount");
	cr_expect(has(&e, "/token", "required"), "JR_NOT_EMPTY");
	cr_expect(has(&e, "/count", "invalid_type"));
	cr_expect(has(&e, "/items", "too_long"), "more entries than max");
	cr_expect(has(&e, "/inner", "invalid_type"));
	cr_expect(has(&e, "/day", "invalid_date"), "not a calendar day");
	cr_expect_eq(e.n, 7);
	field_errors_free(&e);
	cr_assert_not(read_doc("{\"name\":\"ab\",\"amount\":10000000000001}", &d, &e));
	cr_expect(has(&e, "/amount", "invalid_amount"), "above MONEY_MAX");
	field_errors_free(&e);
}

Test(json_read, members_and_characters)
{
	json_object *o = json_tokener_parse("{\"a\":\"x\",\"b\":1,\"c\":null}");
	cr_expect_str_eq(json_member_text(o, "a"), "x");
	cr_expect_null(json_member_text(o, "b"));
	cr_expect_null(json_member(o, "c"));
	cr_expect_null(json_member(json_object_object_get(o, "a"), "x"), "not an object");
	cr_expect_eq(json_chars("aø€😀"), 4);
	json_object_put(o);
}
