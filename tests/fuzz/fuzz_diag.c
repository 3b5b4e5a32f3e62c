/*
 * sock_diag replies through the real dump loop. Input: one byte that picks
 * the protocol (low bits) and the inet family (bit 7), then datagrams, each
 * a 16-bit little-endian length followed by that many bytes (fewer if the
 * input ends first). A fake transport hands nl_dump the datagrams in order;
 * the length 0xffff stands for an interrupted receive (-EINTR) and 0 for an
 * empty read. Every message nl_dump accepts goes to diag_parse from an
 * exactly sized copy, so a parser that reads past nlmsg_len is caught by
 * the sanitizer instead of reading the rest of the receive buffer.
 *
 * The conversation uses the portid 0 and the first sequence number, 1:
 * seeds recorded from the kernel are rewritten to match (see README.md).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>

#include "diag.h"
#include "fuzz.h"
#include "nl.h"
#include "sock.h"
#include "socklist.h"

struct feed {
	const uint8_t *p;
	size_t left;
};

static ssize_t fake_send(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	return (ssize_t)len;
}

static ssize_t fake_recv(void *ctx, void *buf, size_t size)
{
	struct feed *f = ctx;
	if (f->left < 2)
		return -ENOBUFS; /* the input is used up: end the dump */
	size_t n = (size_t)f->p[0] | (size_t)f->p[1] << 8;
	f->p += 2;
	f->left -= 2;
	if (n == 0xffff)
		return -EINTR;
	if (n > f->left)
		n = f->left;
	size_t copy = n > size ? size : n; /* as a truncating recvmsg */
	memcpy(buf, f->p, copy);
	f->p += n;
	f->left -= n;
	return (ssize_t)copy;
}

struct ctx {
	enum proto proto;
	unsigned rows;
};

static void check(const struct sock *s, const struct nlmsghdr *nlh)
{
	const char *lo = (const char *)nlh, *hi = lo + nlh->nlmsg_len;
	if (s->proto >= PROTO_COUNT)
		fuzz_fail("record with an impossible protocol");
	if (sock_state_name(s) == NULL || sock_proto_name(s) == NULL ||
	    sock_family_name(s) == NULL)
		fuzz_fail("a name lookup returned NULL");
	if (s->path_len && !s->path)
		fuzz_fail("path_len without a path");
	/* An unnamed socket's empty path may point anywhere (diag uses ""). */
	if (s->path_len && (s->path < lo || s->path > hi || s->path_len > (size_t)(hi - s->path)))
		fuzz_fail("path points outside the message");
	if (s->info && s->info->cong[sizeof(s->info->cong) - 1] != '\0')
		fuzz_fail("congestion name not NUL-terminated");
	if (s->mem && s->mem->count > SOCK_MEMINFO_VARS)
		fuzz_fail("meminfo count larger than its array");
}

static int on_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct ctx *c = arg;
	struct nlmsghdr *copy = malloc(nlh->nlmsg_len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, nlh, nlh->nlmsg_len);

	struct sock s;
	struct diag_scratch scratch;
	memset(&scratch, 0xa5, sizeof(scratch));
	int r = diag_parse(copy, c->proto, &s, &scratch);
	if (r != 0 && r != -EINVAL)
		fuzz_fail("diag_parse returned neither 0 nor -EINVAL");
	if (r == 0) {
		check(&s, copy);
		struct socklist l;
		socklist_init(&l);
		socklist_add(&l, &s);
		socklist_finish(&l);
		c->rows++;
	} else if (s.path || s.info || s.mem || s.path_len) {
		fuzz_fail("a rejected message left pointers in the record");
	}
	free(copy);
	return 0;
}

int fuzz_init(void)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct ctx c = {(enum proto)((data[0] & 0x7f) % PROTO_COUNT), 0};
	/* A row no diag module reports has no request to build. */
	if (proto_table[c.proto].diag == PROTO_DIAG_NONE)
		return 0;
	struct feed f = {data + 1, size - 1};
	struct nl_transport t = {fake_send, fake_recv, &f};
	struct nl *nl;
	if (nl_create(&nl, &t) != 0)
		return 0;

	struct diag_request req = {
		.proto = c.proto,
		.family = data[0] & 0x80 ? AF_INET6 : AF_INET,
		.states = STATES_ALL,
		.want_info = true,
		.want_mem = true,
	};
	unsigned char buf[512];
	size_t len = diag_build_request(buf, sizeof(buf), &req, nl_next_seq(nl));
	if (len == 0)
		fuzz_fail("diag_build_request failed on a fixed request");
	int r = nl_dump(nl, buf, len, on_msg, &c);
	if (r > 0)
		fuzz_fail("nl_dump returned a positive value");
	nl_destroy(nl);
	return 0;
}
