/*
 * The announcements of sock_diag's destroy groups through the event
 * stream's reader. Input: records of one byte naming the group (any
 * value: the reader must drop groups it does not know), a 16-bit
 * little-endian length and that many bytes (fewer if the input ends
 * first); the length 0xffff stands for a drop by the kernel (ENOBUFS).
 * Each record is one datagram, read by nl_read_events and turned into
 * close or lost events, written as NDJSON and as a table.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "events.h"
#include "fuzz.h"
#include "nl.h"

struct feed {
	const uint8_t *p;
	size_t left;
};

static ssize_t no_send(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	return (ssize_t)len;
}

static ssize_t no_recv(void *ctx, void *buf, size_t size)
{
	(void)ctx;
	(void)buf;
	(void)size;
	return -EIO;
}

static ssize_t feed_event(void *ctx, void *buf, size_t size, unsigned *group)
{
	struct feed *f = ctx;
	if (f->left < 3)
		return -EAGAIN;
	*group = f->p[0];
	size_t n = (size_t)f->p[1] | (size_t)f->p[2] << 8;
	f->p += 3;
	f->left -= 3;
	if (n == 0xffff)
		return -ENOBUFS;
	if (n > f->left)
		n = f->left;
	size_t copy = n > size ? size : n;
	memcpy(buf, f->p, copy);
	f->p += n;
	f->left -= n;
	return (ssize_t)copy;
}

int fuzz_init(void)
{
	return 0;
}

static void run(const uint8_t *data, size_t size, bool table)
{
	struct feed f = {data, size};
	struct nl_transport t = {no_send, no_recv, &f, feed_event, NULL};
	FILE *out = fopen("/dev/null", "w");
	if (!out)
		fuzz_fail("cannot open /dev/null");
	struct events_config cfg = {
		.protos = events_protocols(UINT32_MAX),
		.families = UINT32_MAX,
		.render = {.numeric = true, .processes = true, .extended = true},
		.table = table,
		.interval_ms = 1000,
		.out = out,
		.transport = &t,
	};
	struct events *ev;
	if (events_create(&ev, &cfg) < 0 || events_subscribe(ev) < 0)
		fuzz_fail("cannot set up the stream");
	struct events_error err;
	int rc;
	while ((rc = events_pump(ev, &err)) == 1)
		;
	if (rc < 0)
		fuzz_fail("the reader failed on datagrams it should skip");
	events_destroy(ev);
	fclose(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(data, size, false);
	run(data, size, true);
	return 0;
}
