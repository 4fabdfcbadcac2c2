/* SPDX-License-Identifier: MIT */
/* A JSON value in one canonical text, so that two bodies that hold the same
 * value (member order, whitespace and escapes aside) write the same bytes:
 * what the Idempotency-Key fingerprint is taken over. The shape of RFC 8785
 * (JCS): no whitespace, object members sorted by name, strings with the
 * shortest escapes, numbers in one form. Two departures, both invisible to
 * bodies this service accepts: names sort by their UTF-8 bytes (JCS sorts by
 * UTF-16 code units; they differ only between U+E000..U+FFFF and characters
 * beyond U+FFFF), and a number that is an integer within int64 is written as
 * one (25000.0 and 2.5e4 are 25000), any other with 17 significant digits. */
#ifndef INKASSO_JSON_CANONICAL_H
#define INKASSO_JSON_CANONICAL_H
#include <json-c/json.h>

#include "lib/buf.h"

/* Appends the canonical text of v to out (v NULL: null). out->oom tells of
 * a failed allocation. */
void json_canonical(const json_object *v, struct buf *out);

#endif
