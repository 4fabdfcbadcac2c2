/* SPDX-License-Identifier: MIT */
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/jsonw.h"

static enum log_level min_level = LOG_INFO;
static const char *level_names[] = {"debug", "info", "warn", "error"};

int log_set_level(const char *name)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			min_level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

int log_enabled(enum log_level level) { return level >= min_level; }

void log_write(enum log_level level, const char *msg, ...)
{
	if (level < min_level)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[64];
	snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);

	char stack[1024];
	struct buf b = {0};
	jw_kstr(&b, true, "ts", when);
	jw_kstr(&b, false, "level", level_names[level]);
	jw_kstr(&b, false, "msg", msg);
	va_list ap;
	va_start(ap, msg);
	for (;;) {
		const char *k = va_arg(ap, const char *);
		if (!k)
			break;
		const char *v = va_arg(ap, const char *);
		jw_kstr(&b, false, k, v);
	}
	va_end(ap);
	if (b.oom) {
		buf_free(&b);
		return;
	}
	/* One write(2) per line so lines from threads never interleave. */
	size_t n = b.len + 3;
	char *line = n <= sizeof stack ? stack : b.data;
	if (line == stack) {
		line[0] = '{';
		memcpy(line + 1, b.data, b.len);
		line[b.len + 1] = '}';
		line[b.len + 2] = '\n';
		ssize_t w = write(STDERR_FILENO, line, n);
		(void)w;
	} else {
		struct buf full = {0};
		buf_putc(&full, '{');
		buf_append(&full, b.data, b.len);
		buf_puts(&full, "}\n");
		if (!full.oom) {
			ssize_t w = write(STDERR_FILENO, full.data, full.len);
			(void)w;
		}
		buf_free(&full);
	}
	buf_free(&b);
}
