/* SPDX-License-Identifier: MIT */
/* The AgencySettings object: reading a PUT body and writing the answer. */
#ifndef INKASSO_SETTINGS_JSON_H
#define INKASSO_SETTINGS_JSON_H
#include <stdbool.h>

#include <json-c/json.h>

#include "lib/buf.h"
#include "lib/field_errors.h"
#include "store/store.h"

/* Applies a PUT body onto s (which holds the stored settings, or defaults
 * when had_key is false). Every error is added to errs; returns true when
 * there is none. The api_key may be omitted when one is stored. */
bool settings_from_json(json_object *body, bool had_key, struct agency_settings *s, struct field_errors *errs);
/* Fills s with the defaults of DESIGN.md. */
void settings_defaults(struct agency_settings *s);
/* Writes the AgencySettings answer (never the api key). */
void settings_json_write(struct buf *b, const struct agency_settings *s);

#endif
