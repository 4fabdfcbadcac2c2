/* SPDX-License-Identifier: MIT */
/* The case detail's delivery object (handlers/after_json.c) and the
 * last_error the forwarder keeps for it (agency/forwarder.c): pure. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "agency/forwarder.h"
#include "handlers/after_json.h"

#define T_10H INT64_C(1771581600000) /* 2026-02-20T10:00:00.000Z */

static void expect_json(const struct case_delivery_row *d, const char *want)
{
	struct buf b = {0};
	after_json_delivery(&b, d);
	cr_assert_not(b.oom);
	cr_expect_str_eq(buf_cstr(&b), want);
	buf_free(&b);
}

Test(delivery_json, pending_shows_when_it_is_due)
{
	struct case_delivery_row d = {.kind = OUTBOX_CREATE, .state = "pending", .attempts = 3,
				      .last_error = "the agency answered HTTP 503", .next_attempt_at_ms = T_10H + 1500};
	expect_json(&d,
		    "{\"attempts\":3,\"last_error\":\"the agency answered HTTP 503\","
		    "\"next_attempt_at\":\"2026-02-20T10:00:01.500Z\"}");
}

Test(delivery_json, a_row_due_at_once_has_been_due_since_it_was_queued)
{
	struct case_delivery_row d = {.kind = OUTBOX_ACTION, .state = "pending", .next_attempt_at_ms = 0,
				      .updated_at = "2026-02-20T09:59:00.250Z"};
	expect_json(&d, "{\"attempts\":0,\"last_error\":null,\"next_attempt_at\":\"2026-02-20T09:59:00.250Z\"}");
	d.next_attempt_at_ms = T_10H - 60000; /* due since then: the stored time, not the read's */
	expect_json(&d, "{\"attempts\":0,\"last_error\":null,\"next_attempt_at\":\"2026-02-20T09:59:00.000Z\"}");
}

Test(delivery_json, sending_and_failed_have_no_next_attempt)
{
	struct case_delivery_row d = {.kind = OUTBOX_PAYMENT, .state = "sending", .attempts = 2, .last_error = "",
				      .next_attempt_at_ms = T_10H + 99};
	expect_json(&d, "{\"attempts\":2,\"last_error\":null,\"next_attempt_at\":null}");
	d.state = "failed";
	d.last_error = "Failed to connect to 127.0.0.1 port 9 after 0 ms: Couldn't connect to server";
	expect_json(&d,
		    "{\"attempts\":2,\"last_error\":\"Failed to connect to 127.0.0.1 port 9 after 0 ms: "
		    "Couldn't connect to server\",\"next_attempt_at\":null}");
}

Test(delivery_json, last_error_is_escaped)
{
	struct case_delivery_row d = {.state = "sending", .attempts = 1, .last_error = "a \"b\"\n"};
	expect_json(&d, "{\"attempts\":1,\"last_error\":\"a \\\"b\\\"\\n\",\"next_attempt_at\":null}");
}

Test(row_error, the_agency_own_text_never_reaches_the_row)
{
	char out[256];
	struct agency_result res = {.http_status = 422, .agency_message = true};
	snprintf(res.message, sizeof res.message, "buyerParty: Kari Nordmann 01018512345 unknown");
	forwarder_row_error(&res, out, sizeof out);
	cr_expect_str_eq(out, "the agency answered HTTP 422");
	cr_expect_null(strstr(out, "Kari"));
}

Test(row_error, our_own_words_are_kept)
{
	char out[256];
	struct agency_result res = {.http_status = 503};
	snprintf(res.message, sizeof res.message, "HTTP 503");
	forwarder_row_error(&res, out, sizeof out);
	cr_expect_str_eq(out, "HTTP 503", "no usable message: the status, ours");
	res = (struct agency_result){.http_status = 0};
	snprintf(res.message, sizeof res.message, "Operation timed out after 1000 milliseconds");
	forwarder_row_error(&res, out, sizeof out);
	cr_expect_str_eq(out, "Operation timed out after 1000 milliseconds");
	res = (struct agency_result){.http_status = 0};
	forwarder_row_error(&res, out, sizeof out);
	cr_expect_str_eq(out, "no answer");
}

Test(row_error, fits_a_small_buffer)
{
	char out[8];
	struct agency_result res = {.http_status = 500, .agency_message = true};
	forwarder_row_error(&res, out, sizeof out);
	cr_expect_str_eq(out, "the age");
}
