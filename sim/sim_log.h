/* SPDX-License-Identifier: MIT */
/* The simulator's JSON log lines on stderr, one object per line. Values are
 * escaped by the JSON writer, so a hostile path cannot forge a line
 * (CWE-117). Never pass an api key or a request body. */
#ifndef SIM_LOG_H
#define SIM_LOG_H

/* Writes {"ts":..,"level":level,"msg":msg,k1:v1,...} to stderr in one
 * write. The variadic list is const char * key/value pairs ending with a
 * NULL key; a NULL value writes null. */
void sim_log(const char *level, const char *msg, ...);

#endif
