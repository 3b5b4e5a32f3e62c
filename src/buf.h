#ifndef SRC_BUF_H
#define SRC_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * A growable byte buffer. Invariant: p is NULL with len == cap == 0, or
 * points to cap bytes of which the first len are used and p[len] is a NUL
 * (so p is always a C string when non-NULL). Owned by whoever holds the
 * struct. An allocation failure sets failed and drops further appends, so
 * callers check once at the end (buf_ok) instead of after every call.
 */
struct buf {
	char *p;
	size_t len;
	size_t cap;
	bool failed;
};

#define BUF_INIT {NULL, 0, 0, false}

void buf_init(struct buf *b);
void buf_finish(struct buf *b);          /* frees p; NULL-safe */
void buf_reset(struct buf *b);           /* len = 0, keeps memory */
bool buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_addu(struct buf *b, unsigned long long v);  /* decimal */
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline bool buf_ok(const struct buf *b) { return !b->failed; }

/*
 * Writes the buffer to f and resets it. Returns 0 or a negative errno
 * (-EPIPE when the reader went away, -ENOMEM if an append failed).
 */
int buf_flush(struct buf *b, FILE *f);

#endif
