/* SPDX-License-Identifier: MIT */
/* libFuzzer target: a raw POST /v1/collection-cases body, through
 * json_body_parse and then case_validate, with the default settings and with
 * a business/pre_collection tenant, on a fixed today. An accepted case must
 * carry valid JSON (and valid UTF-8) for the invoice and the debtor, and the
 * debtor JSON must never hold the clear national id (it is stored and shown
 * masked). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/case_validate.h"
#include "handlers/json_body.h"
#include "handlers/settings_json.h"
#include "lib/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[300];
	json_object *body = json_body_parse((const char *)data, size, why, sizeof why);
	if (!body)
		return 0;
	for (int variant = 0; variant < 2; variant++) {
		struct agency_settings s;
		struct case_input in = {0};
		struct field_errors errs = {0};
		settings_defaults(&s);
		if (variant) {
			snprintf(s.service, sizeof s.service, "pre_collection");
			snprintf(s.customer_type, sizeof s.customer_type, "business");
			s.min_days_overdue = 0;
			s.min_amount = 10000;
		}
		if (case_validate(body, &s, "2026-06-01", &in, &errs)) {
			json_object *inv = in.invoice_json ? json_tokener_parse(in.invoice_json) : NULL;
			json_object *deb = in.debtor_json ? json_tokener_parse(in.debtor_json) : NULL;
			json_object *nid = NULL;
			size_t bad;
			if (!inv || !deb || !utf8_valid(in.invoice_json, strlen(in.invoice_json), &bad) ||
			    !utf8_valid(in.debtor_json, strlen(in.debtor_json), &bad))
				abort();
			if (in.national_id[0] && json_object_object_get_ex(deb, "national_id", &nid) && nid &&
			    !strcmp(json_object_get_string(nid), in.national_id))
				abort();
			json_object_put(inv);
			json_object_put(deb);
		}
		case_input_free(&in);
		field_errors_free(&errs);
	}
	json_object_put(body);
	return 0;
}
