#include "fakekernel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/netlink_diag.h>
#include <linux/packet_diag.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

static void need(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fake kernel: %s\n", what);
		abort();
	}
}

void fake_reset(struct fake_kernel *k)
{
	memset(k, 0, sizeof(*k));
}

struct nl_transport fake_transport(struct fake_kernel *k)
{
	return (struct nl_transport){fake_send, fake_recv, k};
}

static int attempts_of(const struct fake_kernel *k, const struct fake_request *r)
{
	int n = 0;
	for (int i = 0; i < k->nlog; i++)
		n += k->log[i].family == r->family && k->log[i].protocol == r->protocol;
	return n;
}

/* Reads what a request asks; a bare header (the nl tests) asks nothing. */
static void decode(const struct nlmsghdr *nlh, size_t len, struct fake_request *r)
{
	r->seq = nlh->nlmsg_seq;
	if (len < NLMSG_HDRLEN + 1)
		return;
	const uint8_t *p = mnl_nlmsg_get_payload(nlh);
	r->family = p[0];
	if ((r->family == AF_INET || r->family == AF_INET6) &&
	    len >= NLMSG_HDRLEN + sizeof(struct inet_diag_req_v2)) {
		struct inet_diag_req_v2 q;
		memcpy(&q, p, sizeof(q));
		r->protocol = q.sdiag_protocol;
		r->states = q.idiag_states;
		r->ext = q.idiag_ext;
		const struct nlattr *a;
		mnl_attr_for_each(a, nlh, sizeof(q)) {
			if (mnl_attr_get_type(a) == INET_DIAG_REQ_BYTECODE)
				r->bytecode = true;
		}
	} else if (r->family == AF_UNIX && len >= NLMSG_HDRLEN + sizeof(struct unix_diag_req)) {
		struct unix_diag_req u;
		memcpy(&u, p, sizeof(u));
		r->states = u.udiag_states;
	}
}

ssize_t fake_send(void *ctx, const void *buf, size_t len)
{
	struct fake_kernel *k = ctx;
	const struct nlmsghdr *nlh = buf;
	need(len >= NLMSG_HDRLEN && nlh->nlmsg_len == len, "malformed request");
	struct fake_request r = {0};
	decode(nlh, len, &r);
	need(k->nlog < FAKE_LOGMAX, "request log full");
	int attempt = attempts_of(k, &r);
	k->log[k->nlog++] = r;
	if (k->send_ret)
		return k->send_ret;
	if (k->script) {
		k->qlen = k->qnext = 0;
		k->script(k, &r, attempt);
	}
	return (ssize_t)len;
}

ssize_t fake_recv(void *ctx, void *buf, size_t size)
{
	struct fake_kernel *k = ctx;
	/* Running past the replies would hang a real dump: fail instead. */
	if (k->qnext >= k->qlen)
		return -ETIMEDOUT;
	struct fake_dgram *d = &k->q[k->qnext++];
	if (d->err)
		return d->err;
	need(d->len <= size, "datagram larger than the receive buffer");
	memcpy(buf, d->d.b, d->len);
	return (ssize_t)d->len;
}

struct fake_dgram *fake_dgram(struct fake_kernel *k)
{
	need(k->qlen < FAKE_QMAX, "reply queue full");
	struct fake_dgram *d = &k->q[k->qlen++];
	d->err = 0;
	d->len = 0;
	return d;
}

void fake_recv_error(struct fake_kernel *k, int err)
{
	fake_dgram(k)->err = err;
}

struct nlmsghdr *fake_put(struct fake_dgram *d, uint16_t type, uint16_t flags, uint32_t seq,
			  uint32_t pid, size_t plen)
{
	need(d->len + NLMSG_SPACE(plen) <= FAKE_DGRAM, "datagram full");
	struct nlmsghdr *nlh = (void *)(d->d.b + d->len);
	memset(nlh, 0, NLMSG_SPACE(plen));
	nlh->nlmsg_len = (uint32_t)NLMSG_LENGTH(plen);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = pid;
	d->len += NLMSG_SPACE(plen);
	return nlh;
}

void fake_put_attr(struct fake_dgram *d, struct nlmsghdr *nlh, uint16_t type, const void *data,
		   size_t len)
{
	need((unsigned char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len) == d->d.b + d->len,
	     "attribute for a message that is not the last");
	need(d->len + MNL_ATTR_HDRLEN + MNL_ALIGN(len) <= FAKE_DGRAM, "datagram full");
	mnl_attr_put(nlh, type, len, data);
	d->len = (size_t)((unsigned char *)nlh - d->d.b) + NLMSG_ALIGN(nlh->nlmsg_len);
}

void fake_put_done(struct fake_dgram *d, uint32_t seq, int err)
{
	struct nlmsghdr *nlh = fake_put(d, NLMSG_DONE, NLM_F_MULTI, seq, 0, sizeof(int));
	memcpy(NLMSG_DATA(nlh), &err, sizeof(err));
}

void fake_put_error(struct fake_dgram *d, uint32_t seq, int err)
{
	struct nlmsghdr *nlh = fake_put(d, NLMSG_ERROR, 0, seq, 0, sizeof(struct nlmsgerr));
	struct nlmsgerr e;
	memset(&e, 0, sizeof(e));
	e.error = err;
	memcpy(NLMSG_DATA(nlh), &e, sizeof(e));
}

struct nlmsghdr *fake_put_inet(struct fake_dgram *d, uint32_t seq, int family, uint8_t state,
			       uint16_t sport, uint32_t cookie, uint16_t flags)
{
	struct nlmsghdr *nlh = fake_put(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI | flags, seq, 0,
					sizeof(struct inet_diag_msg));
	struct inet_diag_msg *m = NLMSG_DATA(nlh);
	m->idiag_family = (uint8_t)family;
	m->idiag_state = state;
	m->id.idiag_sport = htons(sport);
	m->id.idiag_cookie[0] = cookie;
	m->idiag_inode = 1000 + cookie;
	m->idiag_uid = 42;
	return nlh;
}

struct nlmsghdr *fake_put_unix(struct fake_dgram *d, uint32_t seq, uint8_t type, uint8_t state,
			       uint32_t inode, uint32_t cookie)
{
	struct nlmsghdr *nlh = fake_put(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, seq, 0,
					sizeof(struct unix_diag_msg));
	struct unix_diag_msg *m = NLMSG_DATA(nlh);
	m->udiag_family = AF_UNIX;
	m->udiag_type = type;
	m->udiag_state = state;
	m->udiag_ino = inode;
	m->udiag_cookie[0] = cookie;
	return nlh;
}

struct nlmsghdr *fake_put_packet(struct fake_dgram *d, uint32_t seq, uint8_t type,
				 uint16_t ethertype, uint32_t inode, uint32_t cookie)
{
	struct nlmsghdr *nlh = fake_put(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, seq, 0,
					sizeof(struct packet_diag_msg));
	struct packet_diag_msg *m = NLMSG_DATA(nlh);
	m->pdiag_family = AF_PACKET;
	m->pdiag_type = type;
	m->pdiag_num = ethertype;
	m->pdiag_ino = inode;
	m->pdiag_cookie[0] = cookie;
	return nlh;
}

struct nlmsghdr *fake_put_netlink(struct fake_dgram *d, uint32_t seq, uint8_t protocol,
				  uint32_t portid, uint32_t inode, uint32_t cookie)
{
	struct nlmsghdr *nlh = fake_put(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, seq, 0,
					sizeof(struct netlink_diag_msg));
	struct netlink_diag_msg *m = NLMSG_DATA(nlh);
	m->ndiag_family = AF_NETLINK;
	m->ndiag_type = SOCK_RAW;
	m->ndiag_protocol = protocol;
	m->ndiag_portid = portid;
	m->ndiag_ino = inode;
	m->ndiag_cookie[0] = cookie;
	return nlh;
}
