/* For SO_RCVBUFFORCE, beyond POSIX. */
#define _GNU_SOURCE
#include "nl.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

/*
 * The kernel sizes each dump datagram by the largest read it has seen from
 * us, capped near 32 KiB, so a bigger user buffer buys nothing per
 * datagram; 64 KiB leaves room for a kernel that raises the cap and keeps a
 * datagram from ever being cut (MSG_TRUNC) by a short read.
 */
enum { NL_BUF_SIZE = 64 * 1024 };

/* A socket receive queue that absorbs a burst of dump datagrams. */
enum { NL_RCVBUF = 4 * 1024 * 1024 };

/* recv() interrupted by a signal is retried, but not forever. */
enum { NL_RECV_RETRIES = 64 };

struct nl {
	struct nl_transport t;
	struct mnl_socket *sock; /* owned; NULL with a test transport */
	uint32_t portid;
	uint32_t seq;
	unsigned char *buf;      /* NL_BUF_SIZE bytes, owned */
	struct nl_observer obs;  /* all NULL: nobody watches */
};

static ssize_t mnl_send(void *ctx, const void *buf, size_t len)
{
	ssize_t n = mnl_socket_sendto(ctx, buf, len);
	return n < 0 ? -errno : n;
}

static ssize_t mnl_recv(void *ctx, void *buf, size_t size)
{
	ssize_t n = mnl_socket_recvfrom(ctx, buf, size);
	return n < 0 ? -errno : n;
}

/* recvmsg with the group the datagram came on (NETLINK_PKTINFO). */
static ssize_t mnl_recv_event(void *ctx, void *buf, size_t size, unsigned *group)
{
	struct iovec iov = {.iov_base = buf, .iov_len = size};
	union {
		char b[CMSG_SPACE(sizeof(struct nl_pktinfo))];
		struct cmsghdr align;
	} control;
	struct sockaddr_nl addr;
	struct msghdr mh = {.msg_name = &addr, .msg_namelen = sizeof(addr), .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = control.b,
			    .msg_controllen = sizeof(control.b)};
	ssize_t n = recvmsg(mnl_socket_get_fd(ctx), &mh, MSG_DONTWAIT);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	*group = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_NETLINK && c->cmsg_type == NETLINK_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct nl_pktinfo))) {
			struct nl_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			*group = pi.group;
		}
	}
	/* Only the kernel announces; anything else is not to be believed. */
	if (addr.nl_pid != 0)
		return 0;
	return n;
}

static int mnl_drops(void *ctx, uint32_t *count)
{
	uint32_t mem[SK_MEMINFO_VARS] = {0};
	socklen_t len = sizeof(mem);
	if (getsockopt(mnl_socket_get_fd(ctx), SOL_SOCKET, SO_MEMINFO, mem, &len) < 0)
		return -errno;
	if (len <= SK_MEMINFO_DROPS * sizeof(uint32_t))
		return -ENOTSUP;
	*count = mem[SK_MEMINFO_DROPS];
	return 0;
}

static int open_real(struct nl *nl)
{
	nl->sock = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (!nl->sock)
		return -errno;
	int fd = mnl_socket_get_fd(nl->sock);
	int size = NL_RCVBUF;
	/*
	 * SO_RCVBUFFORCE ignores rmem_max but needs CAP_NET_ADMIN; without
	 * it the plain option still gets as much as the system allows. A
	 * small buffer only risks ENOBUFS, which the caller retries, so
	 * failure here is not an error.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;
		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return err;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->t.send = mnl_send;
	nl->t.recv = mnl_recv;
	nl->t.ctx = nl->sock;
	nl->t.recv_event = mnl_recv_event;
	nl->t.drops = mnl_drops;
	return 0;
}

int nl_create(struct nl **out, const struct nl_transport *t)
{
	struct nl *nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->buf = malloc(NL_BUF_SIZE);
	if (!nl->buf) {
		free(nl);
		return -ENOMEM;
	}
	if (t) {
		nl->t = *t;
	} else {
		int err = open_real(nl);
		if (err < 0) {
			free(nl->buf);
			free(nl);
			return err;
		}
	}
	*out = nl;
	return 0;
}

void nl_destroy(struct nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->buf);
	free(nl);
}

void nl_observe(struct nl *nl, const struct nl_observer *obs)
{
	nl->obs = obs ? *obs : (struct nl_observer){0};
}

uint32_t nl_next_seq(struct nl *nl)
{
	/* Zero is skipped: some senders use it to mean "no sequence". */
	if (++nl->seq == 0)
		nl->seq = 1;
	return nl->seq;
}

/* The kernel reports errors as small negative numbers; anything else is a lie. */
static int sane_error(int e)
{
	if (e > 0)
		e = -e;
	if (e < -4095)
		return -EPROTO;
	return e;
}

/*
 * What one datagram told us: keep reading (1), the dump ended (0), or a
 * negative errno that ends it early.
 */
static int walk(struct nl *nl, size_t n, uint32_t seq, bool *intr, nl_msg_fn cb, void *arg)
{
	size_t off = 0;

	while (n - off >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const void *)(nl->buf + off);
		/*
		 * A length that runs past the datagram, or that cannot even
		 * hold the header, makes every later boundary a guess: the
		 * rest of the datagram is dropped rather than trusted.
		 */
		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > n - off)
			return 1;
		size_t step = NLMSG_ALIGN(nlh->nlmsg_len);
		off = step > n - off ? n : off + step;

		if (nlh->nlmsg_pid != nl->portid || nlh->nlmsg_seq != seq)
			continue;
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			*intr = true;

		size_t plen = nlh->nlmsg_len - NLMSG_HDRLEN;
		const void *payload = (const unsigned char *)nlh + NLMSG_HDRLEN;

		switch (nlh->nlmsg_type) {
		case NLMSG_NOOP:
			continue;
		case NLMSG_ERROR: {
			int e;
			if (plen < sizeof(e))
				return -EBADMSG;
			memcpy(&e, payload, sizeof(e));
			if (e == 0)
				return 0;
			return sane_error(e);
		}
		case NLMSG_DONE: {
			int e = 0;
			/* A dump that failed part way says so in its DONE. */
			if (plen >= sizeof(e))
				memcpy(&e, payload, sizeof(e));
			if (e != 0)
				return sane_error(e);
			return 0;
		}
		default:
			/* NLMSG_OVERRUN and other control types carry no socket. */
			if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
				continue;
			int err = cb(nlh, arg);
			if (err < 0)
				return err;
		}
	}
	return 1;
}

int nl_dump(struct nl *nl, const void *req, size_t len, nl_msg_fn cb, void *arg)
{
	const struct nlmsghdr *hdr = req;
	if (len < sizeof(*hdr))
		return -EINVAL;
	uint32_t seq = hdr->nlmsg_seq;

	ssize_t n = nl->t.send(nl->t.ctx, req, len);
	if (n < 0)
		return (int)n;
	if ((size_t)n != len)
		return -EIO;
	if (nl->obs.sent)
		nl->obs.sent(nl->obs.ctx, req, len);

	bool intr = false;
	int retries = 0;
	for (;;) {
		n = nl->t.recv(nl->t.ctx, nl->buf, NL_BUF_SIZE);
		if (nl->obs.received)
			nl->obs.received(nl->obs.ctx, nl->buf, n > NL_BUF_SIZE ? NL_BUF_SIZE : n);
		if (n == -EINTR && retries++ < NL_RECV_RETRIES)
			continue;
		if (n < 0)
			return (int)n;
		/* The kernel never closes a netlink socket on us. */
		if (n == 0)
			return -EIO;
		retries = 0;
		int r = walk(nl, (size_t)n > NL_BUF_SIZE ? NL_BUF_SIZE : (size_t)n, seq, &intr, cb, arg);
		if (r < 0)
			return r;
		if (r == 0)
			return intr ? -EINTR : 0;
	}
}

int nl_subscribe(struct nl *nl, unsigned group)
{
	if (!nl->t.recv_event)
		return -ENOTSUP;
	if (!nl->sock)
		return 0;
	int fd = mnl_socket_get_fd(nl->sock);
	int on = 1;
	if (setsockopt(fd, SOL_NETLINK, NETLINK_PKTINFO, &on, sizeof(on)) < 0)
		return -errno;
	int g = (int)group;
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) < 0)
		return -errno;
	return 0;
}

int nl_fd(const struct nl *nl)
{
	return nl->sock ? mnl_socket_get_fd(nl->sock) : -1;
}

/* Runs cb over the messages of one announced datagram of n bytes. */
static int walk_events(struct nl *nl, size_t n, unsigned group, nl_event_fn cb, void *arg)
{
	size_t off = 0;
	while (n - off >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const void *)(nl->buf + off);
		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > n - off)
			return 0;
		size_t step = NLMSG_ALIGN(nlh->nlmsg_len);
		off = step > n - off ? n : off + step;
		if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
			continue;
		int err = cb(nlh, group, arg);
		if (err < 0)
			return err;
	}
	return 0;
}

int nl_read_events(struct nl *nl, unsigned max, nl_event_fn cb, void *arg)
{
	if (!nl->t.recv_event)
		return -ENOTSUP;
	for (unsigned i = 0;; i++) {
		if (i == max)
			return 1;
		unsigned group = 0;
		ssize_t n = nl->t.recv_event(nl->t.ctx, nl->buf, NL_BUF_SIZE, &group);
		if (n == -EAGAIN)
			return 0;
		if (n == -EINTR)
			continue;
		if (n < 0)
			return (int)n;
		int err = walk_events(nl, (size_t)n > NL_BUF_SIZE ? NL_BUF_SIZE : (size_t)n, group,
				      cb, arg);
		if (err < 0)
			return err;
	}
}

int nl_drops(struct nl *nl, uint32_t *count)
{
	if (!nl->t.drops)
		return -ENOTSUP;
	return nl->t.drops(nl->t.ctx, count);
}
