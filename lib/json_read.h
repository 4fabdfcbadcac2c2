/* SPDX-License-Identifier: MIT */
/* Reading a JSON body from a table of its members, in the spirit of GNU
 * Taler's GNUNET_JSON_spec: one entry per member (name, kind, bounds,
 * whether it is required, where it goes), one reader that walks the table
 * and reports every error at once into a struct field_errors, each with the
 * member's JSON pointer (RFC 6901). The rules between members (a due date
 * after the issue date, a checksum) stay with their callers, which run them
 * on what the reader filled.
 *
 *	const struct jr_field fields[] = {
 *		JR_ENUM("kind", payment_kind_names, 0, &kind),
 *		JR_INT("amount", 1, MONEY_MAX, JR_REQUIRED, &amount),
 *		JR_DATE("paid_on", JR_REQUIRED | JR_NOT_FUTURE, &paid_on),
 *		JR_TEXT("reference", 100, JR_CHARS, &reference),
 *		JR_END,
 *	};
 *	json_read(body, "", fields, &(struct jr_context){.errs = &errs, .today = today});
 *
 * Strings are borrowed from the document: they live as long as it does.
 * JSON null reads as absent. Members the table does not name are ignored. */
#ifndef INKASSO_JSON_READ_H
#define INKASSO_JSON_READ_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "lib/field_errors.h"

enum jr_kind {
	JR_K_END,
	JR_K_TEXT,   /* a string: const char ** */
	JR_K_ENUM,   /* a string that is one of names: int * (its index) */
	JR_K_DATE,   /* a YYYY-MM-DD string naming a real day: const char ** */
	JR_K_MONEY,  /* an integer amount in minor units, [min, max]: int64_t * (a fraction is invalid_amount) */
	JR_K_INT,    /* an integer in [min, max]: int64_t * (out of range: range_code) */
	JR_K_BOOL,   /* true or false: bool * */
	JR_K_OBJECT, /* an object: json_object ** (may be NULL); its members read by sub */
	JR_K_ARRAY,  /* an array of at most max objects, each read by sub at dst + i * stride */
};

/* What a member was found to be. */
enum jr_got {
	JR_ABSENT, /* missing, null, or (JR_BLANK_ABSENT) a blank string */
	JR_OK,
	JR_BAD,    /* present but wrong: its error is reported */
};

#define JR_REQUIRED 0x01u     /* absent is an error (code `missing`, default "required") */
#define JR_BLANK_ABSENT 0x02u /* text: a string of spaces, tabs and newlines counts as absent */
#define JR_CHARS 0x04u        /* text: max counts characters, not bytes */
#define JR_NOT_EMPTY 0x08u    /* text: "" is refused ("required") */
#define JR_TOKEN 0x10u        /* text: printable ASCII without spaces */
#define JR_NO_CONTROL 0x20u   /* text: no control characters */
#define JR_NOT_FUTURE 0x40u   /* date: not after the context's today */

struct jr_field {
	const char *name;
	enum jr_kind kind;
	unsigned flags;
	int64_t min, max;         /* text: max length (0: none); numbers: bounds; array: max entries */
	const char *missing;      /* the code of an absent required member; NULL: "required" */
	const char *range_code;   /* JR_K_INT: the code of a value out of range; NULL: "invalid_value" */
	const char *const *names; /* JR_K_ENUM: NULL-terminated */
	void *dst;                /* where the value goes; NULL: checked, not kept */
	enum jr_got *got;         /* NULL, or where to say what was found */
	const struct jr_field *sub; /* JR_K_OBJECT, JR_K_ARRAY: the members of the object(s) */
	size_t stride;            /* JR_K_ARRAY: bytes between two elements' destinations */
	size_t *count;            /* JR_K_ARRAY: the number of elements */
	const char *elem_detail;  /* JR_K_ARRAY: the detail when an element is not an object */
};

#define JR_TEXT(n, maxlen, fl, d) {.name = (n), .kind = JR_K_TEXT, .flags = (fl), .max = (maxlen), .dst = (d)}
#define JR_ENUM(n, list, fl, d) {.name = (n), .kind = JR_K_ENUM, .flags = (fl), .names = (list), .dst = (d)}
#define JR_DATE(n, fl, d) {.name = (n), .kind = JR_K_DATE, .flags = (fl), .dst = (d)}
#define JR_MONEY(n, lo, fl, d) {.name = (n), .kind = JR_K_MONEY, .flags = (fl), .min = (lo), .dst = (d)}
#define JR_INT(n, lo, hi, fl, d) {.name = (n), .kind = JR_K_INT, .flags = (fl), .min = (lo), .max = (hi), .dst = (d)}
#define JR_BOOL(n, d) {.name = (n), .kind = JR_K_BOOL, .dst = (d)}
#define JR_OBJECT(n, fl, fields, d) {.name = (n), .kind = JR_K_OBJECT, .flags = (fl), .sub = (fields), .dst = (d)}
#define JR_END {.kind = JR_K_END}

/* What the reader needs besides the table. */
struct jr_context {
	struct field_errors *errs;
	const char *today; /* YYYY-MM-DD, for JR_NOT_FUTURE; NULL when no field uses it */
};

/* Reads the members of object o (its JSON pointer: pointer, "" for the
 * root) by fields. Adds every error to ctx->errs; returns true when it added
 * none. Defaults stay as the caller set them for absent members. */
bool json_read(json_object *o, const char *pointer, const struct jr_field *fields, const struct jr_context *ctx);

/* The member key of o; NULL when o is not an object, or the member is
 * absent or JSON null (json-c represents null as a NULL object). */
json_object *json_member(json_object *o, const char *key);
/* The member key of o as a string; NULL when absent, null or not a string. */
const char *json_member_text(json_object *o, const char *key);

/* Number of characters (code points) of s, which is valid UTF-8. */
size_t json_chars(const char *s);

#endif
