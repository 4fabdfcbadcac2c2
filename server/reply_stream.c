/* SPDX-License-Identifier: MIT */
#include "server/reply_stream.h"

#include <stdlib.h>
#include <string.h>

/* libmicrohttpd's block size for a callback response. It may ask on_read
 * for less (max): with chunked encoding the chunk is built in the
 * connection's buffer, within MHD_OPTION_CONNECTION_MEMORY_LIMIT (32 KiB). */
#define STREAM_BLOCK 16384

struct stream_state {
	struct reply_stream s;
	struct buf part;  /* the part being sent */
	size_t off;       /* bytes of part already handed to libmicrohttpd */
	int more;         /* the last produce's answer: 1 more, 0 the end, -1 an error */
};

/* libmicrohttpd 0.9.75: returning 0 means "nothing now, ask again", which
 * its epoll thread does at once, in a busy loop: so never 0 while a part
 * can still be produced. */
static ssize_t on_read(void *cls, uint64_t pos, char *out, size_t max)
{
	(void)pos;
	struct stream_state *st = cls;
	while (st->off == st->part.len) {
		if (st->more <= 0)
			return st->more < 0 ? MHD_CONTENT_READER_END_WITH_ERROR : MHD_CONTENT_READER_END_OF_STREAM;
		buf_reset(&st->part);
		st->off = 0;
		st->more = st->s.produce(st->s.ctx, &st->part);
		if (st->part.oom)
			st->more = -1;
		if (st->more < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	size_t n = st->part.len - st->off;
	if (n > max)
		n = max;
	memcpy(out, st->part.data + st->off, n);
	st->off += n;
	return (ssize_t)n;
}

static void on_free(void *cls)
{
	struct stream_state *st = cls;
	st->s.done(st->s.ctx);
	buf_free(&st->part);
	free(st);
}

struct MHD_Response *reply_stream_response(char *first, size_t len, const struct reply_stream *stream)
{
	struct stream_state *st = calloc(1, sizeof *st);
	if (!st) {
		free(first);
		stream->done(stream->ctx);
		return NULL;
	}
	st->s = *stream;
	st->part = (struct buf){.data = first, .len = len, .cap = len};
	st->more = 1;
	struct MHD_Response *r =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, on_read, st, on_free);
	if (!r)
		on_free(st);
	return r;
}
