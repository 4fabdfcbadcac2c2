/* SPDX-License-Identifier: MIT */
/* The route table: the API at a glance (routes.c). Only the wiring (this
 * table and server/main.c) knows the handlers. */
#ifndef INKASSO_ROUTES_H
#define INKASSO_ROUTES_H
#include <stddef.h>

#include "server/http.h"

extern const struct route routes[];
extern const size_t routes_count;

#endif
