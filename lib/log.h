/* SPDX-License-Identifier: MIT */
/* JSON log lines on stderr, one object per line, control characters escaped
 * (CWE-117). Callers pass key/value string pairs; never pass personal data,
 * tokens, api keys or idempotency keys. */
#ifndef INKASSO_LOG_H
#define INKASSO_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the minimum level written ("debug", "info", "warn", "error");
 * returns -1 for an unknown name. */
int log_set_level(const char *name);
/* True if level would be written. */
int log_enabled(enum log_level level);
/* Writes {"ts":..,"level":..,"msg":msg,k1:v1,...}; the variadic list is
 * const char * pairs ending with NULL. A NULL value writes null. */
void log_write(enum log_level level, const char *msg, ...);

#endif
