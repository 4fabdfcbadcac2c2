/* SPDX-License-Identifier: MIT */
/* The libmicrohttpd side of struct reply_stream (server/http.h): a response
 * whose body libmicrohttpd pulls through MHD_create_response_from_callback,
 * sent with chunked transfer encoding. */
#ifndef INKASSO_REPLY_STREAM_H
#define INKASSO_REPLY_STREAM_H
#include <microhttpd.h>
#include <stddef.h>

#include "server/http.h"

/* A response that sends first (len bytes, malloc'd; NULL when len is 0) and
 * then what stream->produce appends. Takes ownership of first and of
 * stream->ctx, also when it returns NULL (out of memory: stream->done has
 * then been called). */
struct MHD_Response *reply_stream_response(char *first, size_t len, const struct reply_stream *stream);

#endif
