/* SPDX-License-Identifier: MIT */
#include "sim/sim_log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/jsonw.h"
#include "sim/sim_time.h"

void sim_log(const char *level, const char *msg, ...)
{
	struct buf b = {0};
	char ts[SIM_TIMESTAMP_LEN];
	sim_timestamp(sim_now_ms(), ts);
	buf_putc(&b, '{');
	jw_kstr(&b, true, "ts", ts);
	jw_kstr(&b, false, "level", level);
	jw_kstr(&b, false, "msg", msg);
	va_list ap;
	va_start(ap, msg);
	for (const char *k = va_arg(ap, const char *); k; k = va_arg(ap, const char *))
		jw_kstr(&b, false, k, va_arg(ap, const char *));
	va_end(ap);
	buf_puts(&b, "}\n");
	/* One write() per line so that lines from concurrent threads never
	 * interleave; a short write to stderr is not worth a retry loop. */
	if (!b.oom && write(STDERR_FILENO, b.data, b.len) < 0) {
		/* nowhere left to report it */
	}
	buf_free(&b);
}
