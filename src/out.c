#include "out.h"

#include <errno.h>

void out_init(struct out *o, FILE *f)
{
	o->f = f;
	buf_init(&o->b);
	o->err = 0;
}

void out_release(struct out *o)
{
	if (o)
		buf_finish(&o->b);
}

static void write_now(struct out *o)
{
	if (o->err) {
		/* Nothing more reaches f after a failed write. */
		buf_reset(&o->b);
		return;
	}
	errno = 0;
	o->err = buf_flush(&o->b, o->f);
}

int out_maybe_flush(struct out *o)
{
	if (!buf_ok(&o->b))
		return -ENOMEM;
	if (o->b.len >= OUT_CHUNK)
		write_now(o);
	return o->err == -EPIPE || o->err == -ENOMEM ? o->err : 0;
}

int out_close(struct out *o)
{
	write_now(o);
	if (o->err)
		return o->err;
	errno = 0;
	if (fflush(o->f) != 0 || ferror(o->f))
		o->err = errno ? -errno : -EIO;
	return o->err;
}

void out_pad(struct buf *b, size_t n)
{
	static const char spaces[] = "                                ";
	while (n > 0) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
		buf_add(b, spaces, k);
		n -= k;
	}
}
