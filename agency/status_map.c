/* SPDX-License-Identifier: MIT */
#include "agency/status_map.h"

#include <ctype.h>
#include <strings.h>

const char *status_map_agency(const char *s)
{
	static const struct {
		const char *agency, *ours;
	} map[] = {
		{"ACTIVE", "open"},	  {"PAUSED", "paused"},	  {"DISPUTED", "disputed"}, {"PAID", "paid"},
		{"WITHDRAWN", "withdrawn"}, {"CLOSED", "closed"}, {"REJECTED", "rejected"},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcasecmp(s, map[i].agency))
			return map[i].ours;
	return "open";
}

void status_map_stage(const char *stage, char *out, size_t outlen)
{
	size_t i = 0;
	for (; stage[i] && i + 1 < outlen; i++) {
		unsigned char c = (unsigned char)stage[i];
		out[i] = (isalnum(c) || c == '_' || c == '-') ? (char)tolower(c) : '_';
	}
	out[i] = '\0';
}
