/* For syscall (capget), beyond POSIX. */
#define _GNU_SOURCE
#include "kill.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/capability.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

struct killer {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
};

int kill_create(struct killer **out)
{
	*out = NULL;
	struct killer *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->sock = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (!k->sock || mnl_socket_bind(k->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int rc = errno ? -errno : -EIO;
		kill_destroy(k);
		return rc;
	}
	/* The kernel answers at once; a bound wait keeps a stuck one from hanging us. */
	struct timeval tv = {.tv_sec = 5};
	(void)setsockopt(mnl_socket_get_fd(k->sock), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	k->portid = mnl_socket_get_portid(k->sock);
	/* Sequence numbers only need to tell our answers apart. */
	k->seq = (uint32_t)time(NULL);
	*out = k;
	return 0;
}

void kill_destroy(struct killer *k)
{
	if (!k)
		return;
	if (k->sock)
		mnl_socket_close(k->sock);
	free(k);
}

bool kill_applies(const struct sock *s)
{
	const struct proto_desc *d = proto_get((enum proto)s->proto);
	return d && d->diag == PROTO_DIAG_INET && (s->family == AF_INET || s->family == AF_INET6);
}

size_t kill_build_request(void *buf, size_t size, const struct sock *s, uint32_t seq)
{
	const struct proto_desc *d = proto_get((enum proto)s->proto);
	size_t need = MNL_ALIGN(sizeof(struct nlmsghdr)) + MNL_ALIGN(sizeof(struct inet_diag_req_v2));
	if (d && d->diag_raw)
		need += MNL_ATTR_HDRLEN + MNL_ALIGN(sizeof(uint32_t));
	if (!d || !kill_applies(s) || need > size)
		return 0;
	memset(buf, 0, need);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DESTROY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	struct inet_diag_req_v2 *q = mnl_nlmsg_put_extra_header(nlh, sizeof(*q));
	q->sdiag_family = s->family;
	q->sdiag_protocol = d->diag_protocol;
	size_t alen = s->family == AF_INET ? 4 : 16;
	q->id.idiag_sport = htons(s->local.port);
	q->id.idiag_dport = htons(s->peer.port);
	memcpy(q->id.idiag_src, s->local.addr, alen);
	memcpy(q->id.idiag_dst, s->peer.addr, alen);
	q->id.idiag_if = s->ifindex;
	/* Without a cookie the kernel must not compare one (0 is not "none"). */
	uint64_t c = s->cookie;
	q->id.idiag_cookie[0] = c ? (uint32_t)c : INET_DIAG_NOCOOKIE;
	q->id.idiag_cookie[1] = c ? (uint32_t)(c >> 32) : INET_DIAG_NOCOOKIE;
	if (d->diag_raw) {
		/* raw_diag finds the socket by its protocol, the raw "port". */
		struct inet_diag_req_raw *raw = (struct inet_diag_req_raw *)q;
		raw->sdiag_raw_protocol = (uint8_t)s->local.port;
		mnl_attr_put_u32(nlh, INET_DIAG_REQ_PROTOCOL, d->diag_protocol);
	}
	return nlh->nlmsg_len;
}

int kill_close(struct killer *k, const struct sock *s)
{
	/* A fixed size: libmnl's buffer size macro calls sysconf, a VLA here. */
	union {
		uint64_t align;
		unsigned char b[8192];
	} u;
	uint32_t seq = ++k->seq;
	size_t len = kill_build_request(u.b, sizeof(u.b), s, seq);
	if (len == 0)
		return -EOPNOTSUPP;
	if (mnl_socket_sendto(k->sock, u.b, len) < 0)
		return -errno;
	/* Bounded: the kernel answers an ack request with one message. */
	for (int tries = 0; tries < 16; tries++) {
		ssize_t n = mnl_socket_recvfrom(k->sock, u.b, sizeof(u.b));
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		errno = 0;
		int rc = mnl_cb_run(u.b, (size_t)n, seq, k->portid, NULL, NULL);
		if (rc == MNL_CB_ERROR)
			return errno ? -errno : -EIO;
		if (rc == MNL_CB_STOP)
			return 0;
	}
	return -EIO;
}

bool kill_allowed(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) != 0)
		return true; /* the kernel will say */
	return d[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32));
}

static size_t endpoint(char *buf, size_t size, const struct sock *s, const struct sock_endpoint *e)
{
	char a[INET6_ADDRSTRLEN];
	if (!inet_ntop(s->family, e->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	int n = snprintf(buf, size, s->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, e->port);
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

void kill_describe(const struct sock *s, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s ", sock_proto_name(s));
	size_t at = n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
	if (!kill_applies(s))
		return;
	at += endpoint(buf + at, size - at, s, &s->local);
	if (at + 1 < size) {
		buf[at++] = ' ';
		buf[at] = '\0';
		endpoint(buf + at, size - at, s, &s->peer);
	}
}
