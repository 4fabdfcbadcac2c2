/* SPDX-License-Identifier: MIT */
/* openapi.yaml, embedded at build time so the binary serves the very
 * contract it was built with (GET /openapi.yaml), with no file to find. */
#include "server/openapi_embed.h"

__asm__(".section .rodata\n"
	".global inkasso_openapi_start\n"
	".global inkasso_openapi_end\n"
	"inkasso_openapi_start:\n"
	".incbin \"openapi.yaml\"\n"
	"inkasso_openapi_end:\n"
	".byte 0\n"
	".previous\n");
