#ifndef SRC_OUT_H
#define SRC_OUT_H

#include <stdio.h>

#include "buf.h"

/*
 * Output on its way to a FILE *: built in one buffer and handed to stdio
 * in chunks of about OUT_CHUNK bytes, so 100k rows cost a few dozen writes
 * and memory stays flat. The first error sticks: later writes are
 * dropped, and out_close reports it, so every format reports a failed
 * write the same way, once, at the end.
 */
enum { OUT_CHUNK = 64 * 1024 };

struct out {
	FILE *f;      /* not owned */
	struct buf b; /* bytes not yet handed to f */
	int err;      /* 0 or the first negative errno */
};

void out_init(struct out *o, FILE *f);
void out_release(struct out *o); /* frees the buffer; NULL-safe */

/*
 * Writes the buffer once it holds a chunk. Returns 0, or the sticky error
 * when it is -EPIPE or -ENOMEM, which end the run early (a reader that
 * went away, no memory); other write errors wait for out_close.
 */
int out_maybe_flush(struct out *o);

/* Writes what is left and flushes f. Returns 0 or the first -errno. */
int out_close(struct out *o);

/* Appends n spaces. */
void out_pad(struct buf *b, size_t n);

#endif
