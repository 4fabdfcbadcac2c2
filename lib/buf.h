/* SPDX-License-Identifier: MIT */
/* A growable byte buffer. Allocation failure is sticky: once `oom` is set,
 * further appends are ignored and the caller checks `oom` once at the end. */
#ifndef INKASSO_BUF_H
#define INKASSO_BUF_H
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct buf {
	char *data; /* NUL-terminated when len > 0 or after buf_cstr() */
	size_t len;
	size_t cap;
	bool oom;
};

/* Makes room for extra more bytes (and the NUL) in one allocation, for a
 * writer that knows about how much it will append; false after an OOM. */
bool buf_reserve(struct buf *b, size_t extra);
/* Appends n bytes; the room already there is filled inline (JSON writing
 * appends many short pieces), a growth goes through buf_append_grow. */
void buf_append_grow(struct buf *b, const void *p, size_t n);
static inline void buf_append(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 <= b->cap && !b->oom) {
		memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
	} else {
		buf_append_grow(b, p, n);
	}
}
/* Appends a NUL-terminated string. */
void buf_puts(struct buf *b, const char *s);
/* Appends one byte. Inline: JSON writing puts one between most values. */
static inline void buf_putc(struct buf *b, char c)
{
	if (b->len + 2 <= b->cap && !b->oom) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
	} else {
		buf_append(b, &c, 1);
	}
}
/* Appends printf-formatted text. */
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the contents as a C string ("" when empty); owned by the buffer. */
const char *buf_cstr(struct buf *b);
/* Hands the storage to the caller (free() it) and resets the buffer. */
char *buf_steal(struct buf *b, size_t *len);
/* Empties the buffer, keeping its storage. */
void buf_reset(struct buf *b);
/* Releases the storage. NULL-safe. */
void buf_free(struct buf *b);

#endif
