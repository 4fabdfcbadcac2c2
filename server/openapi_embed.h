/* SPDX-License-Identifier: MIT */
#ifndef INKASSO_OPENAPI_EMBED_H
#define INKASSO_OPENAPI_EMBED_H

/* Bounds of the embedded openapi.yaml (end is followed by a NUL byte). */
extern const char inkasso_openapi_start[];
extern const char inkasso_openapi_end[];

#endif
