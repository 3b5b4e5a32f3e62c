#include "diag.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/netlink_diag.h>
#include <linux/packet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <linux/unix_diag.h>

#define EXT_BIT(attr) (1u << ((attr) - 1))

/* Bytes a request takes before its attributes, per request structure. */
static size_t req_size(enum proto_diag kind)
{
	switch (kind) {
	case PROTO_DIAG_UNIX:
		return sizeof(struct unix_diag_req);
	case PROTO_DIAG_PACKET:
		return sizeof(struct packet_diag_req);
	case PROTO_DIAG_NETLINK:
		return sizeof(struct netlink_diag_req);
	case PROTO_DIAG_INET:
	case PROTO_DIAG_NONE:
		break;
	}
	return sizeof(struct inet_diag_req_v2);
}

size_t diag_build_request(void *buf, size_t size, const struct diag_request *r, uint32_t seq)
{
	const struct proto_desc *d = proto_get(r->proto);
	if (!d || d->diag == PROTO_DIAG_NONE)
		return 0;
	bool inet = d->diag == PROTO_DIAG_INET;
	size_t need = MNL_ALIGN(sizeof(struct nlmsghdr)) + MNL_ALIGN(req_size(d->diag));
	if (inet && (d->diag_raw || d->diag_protocol > UINT8_MAX))
		need += MNL_ATTR_HDRLEN + MNL_ALIGN(sizeof(uint32_t));
	if (inet && r->bytecode) {
		/* nla_len is 16 bits wide. */
		if (r->bytecode_len > UINT16_MAX - MNL_ATTR_HDRLEN)
			return 0;
		need += MNL_ATTR_HDRLEN + MNL_ALIGN(r->bytecode_len);
	}
	if (need > size || need > UINT32_MAX)
		return 0;

	memset(buf, 0, need);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;

	if (d->diag == PROTO_DIAG_UNIX) {
		struct unix_diag_req *u = mnl_nlmsg_put_extra_header(nlh, sizeof(*u));
		u->sdiag_family = AF_UNIX;
		u->udiag_states = r->states;
		u->udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN | UDIAG_SHOW_UID;
		if (r->want_mem)
			u->udiag_show |= UDIAG_SHOW_MEMINFO;
		return nlh->nlmsg_len;
	}
	if (d->diag == PROTO_DIAG_PACKET) {
		struct packet_diag_req *p = mnl_nlmsg_put_extra_header(nlh, sizeof(*p));
		p->sdiag_family = AF_PACKET;
		/*
		 * packet_diag rejects any protocol but 0. PACKET_SHOW_INFO
		 * also brings PACKET_DIAG_UID. A packet socket's Recv-Q is its
		 * receive memory (as /proc/net/packet's Rmem and ss show), so
		 * the memory counters are always asked for.
		 */
		p->pdiag_show = PACKET_SHOW_INFO | PACKET_SHOW_MEMINFO;
		return nlh->nlmsg_len;
	}
	if (d->diag == PROTO_DIAG_NETLINK) {
		struct netlink_diag_req *n = mnl_nlmsg_put_extra_header(nlh, sizeof(*n));
		n->sdiag_family = AF_NETLINK;
		n->sdiag_protocol = NDIAG_PROTO_ALL;
		/* Recv-Q and Send-Q are the memory counters, as ss shows them. */
		n->ndiag_show = NDIAG_SHOW_MEMINFO | NDIAG_SHOW_GROUPS;
		return nlh->nlmsg_len;
	}

	struct inet_diag_req_v2 *q = mnl_nlmsg_put_extra_header(nlh, sizeof(*q));
	q->sdiag_family = (uint8_t)r->family;
	/* A protocol beyond a byte travels in INET_DIAG_REQ_PROTOCOL below. */
	q->sdiag_protocol = (uint8_t)d->diag_protocol;
	q->idiag_states = r->states;
	/*
	 * Request sockets (SYN_RECV) live in their own state number in
	 * newer kernels; asking for one means asking for both.
	 */
	if (r->states & STATE_BIT(SS_SYN_RECV))
		q->idiag_states |= STATE_BIT(SS_NEW_SYN_RECV);
	/* INET_DIAG_INFO costs about a quarter of the dump time: only on demand. */
	if (r->want_info && d->tcp_info)
		q->idiag_ext |= EXT_BIT(INET_DIAG_INFO) | EXT_BIT(INET_DIAG_CONG);
	if (r->want_mem)
		q->idiag_ext |= EXT_BIT(INET_DIAG_SKMEMINFO);
	if (d->diag_raw) {
		/*
		 * raw_diag dumps raw sockets of every protocol; the attribute
		 * names its handler explicitly for kernels that look it up
		 * there, and the raw protocol byte (the old pad) names it too
		 * for single lookups.
		 */
		struct inet_diag_req_raw *raw = (struct inet_diag_req_raw *)q;
		raw->sdiag_raw_protocol = (uint8_t)d->diag_protocol;
	}
	if (d->diag_raw || d->diag_protocol > UINT8_MAX)
		mnl_attr_put_u32(nlh, INET_DIAG_REQ_PROTOCOL, d->diag_protocol);
	if (r->bytecode)
		mnl_attr_put(nlh, INET_DIAG_REQ_BYTECODE, r->bytecode_len, r->bytecode);
	return nlh->nlmsg_len;
}

/* One attribute, bounds already checked against the message. */
struct attr {
	unsigned type;
	const unsigned char *data;
	size_t len;
};

/*
 * Iterates the attributes in [p, p + rem). Returns 1 with *a filled, 0 at
 * the end, -EINVAL when an attribute claims more bytes than remain.
 */
static int next_attr(const unsigned char **p, size_t *rem, struct attr *a)
{
	if (*rem < MNL_ATTR_HDRLEN)
		return 0;
	struct nlattr hdr;
	memcpy(&hdr, *p, sizeof(hdr));
	if (hdr.nla_len < MNL_ATTR_HDRLEN || hdr.nla_len > *rem)
		return -EINVAL;
	a->type = hdr.nla_type & NLA_TYPE_MASK;
	a->data = *p + MNL_ATTR_HDRLEN;
	a->len = hdr.nla_len - MNL_ATTR_HDRLEN;
	size_t step = MNL_ALIGN(hdr.nla_len);
	if (step >= *rem) {
		*rem = 0;
	} else {
		*p += step;
		*rem -= step;
	}
	return 1;
}

static bool get_u32(const struct attr *a, uint32_t *v)
{
	if (a->len < sizeof(*v))
		return false;
	memcpy(v, a->data, sizeof(*v));
	return true;
}

/* UNIX_DIAG_UID and PACKET_DIAG_UID: a u32; a short one is ignored. */
static void get_uid(const struct attr *a, struct sock *s)
{
	if (get_u32(a, &s->uid))
		s->has_uid = true;
}

static const struct sock_meminfo *get_mem(const struct attr *a, struct diag_scratch *sc)
{
	size_t n = a->len / sizeof(uint32_t);
	if (n == 0)
		return NULL;
	if (n > SOCK_MEMINFO_VARS)
		n = SOCK_MEMINFO_VARS;
	memset(&sc->mem, 0, sizeof(sc->mem));
	memcpy(sc->mem.v, a->data, n * sizeof(uint32_t));
	sc->mem.count = (uint8_t)n;
	return &sc->mem;
}

static void get_tcpinfo(const struct attr *a, struct sock_tcpinfo *out)
{
	/*
	 * The kernel's struct grows over time: an older kernel sends less
	 * than we know, a newer one more. Copy what overlaps, zero the rest.
	 */
	struct tcp_info ti;
	memset(&ti, 0, sizeof(ti));
	memcpy(&ti, a->data, a->len < sizeof(ti) ? a->len : sizeof(ti));
	out->rtt_us = ti.tcpi_rtt;
	out->rttvar_us = ti.tcpi_rttvar;
	out->snd_cwnd = ti.tcpi_snd_cwnd;
	out->snd_ssthresh = ti.tcpi_snd_ssthresh;
	out->retransmits = ti.tcpi_retransmits;
	out->total_retrans = ti.tcpi_total_retrans;
	out->bytes_sent = ti.tcpi_bytes_sent;
	out->bytes_acked = ti.tcpi_bytes_acked;
	out->bytes_received = ti.tcpi_bytes_received;
	out->delivery_rate = ti.tcpi_delivery_rate;
	out->snd_mss = ti.tcpi_snd_mss;
	out->rcv_space = ti.tcpi_rcv_space;
}

static bool link_local6(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

static uint64_t cookie64(const uint32_t c[2])
{
	return (uint64_t)c[0] | (uint64_t)c[1] << 32;
}

static int parse_inet(const unsigned char *p, size_t len, const struct proto_desc *d,
		      struct sock *s, struct diag_scratch *sc)
{
	struct inet_diag_msg m;
	if (len < sizeof(m))
		return -EINVAL;
	memcpy(&m, p, sizeof(m));
	if (m.idiag_family != AF_INET && m.idiag_family != AF_INET6)
		return -EINVAL;

	s->family = m.idiag_family;
	s->state = m.idiag_state;
	s->type = d->type;
	s->local.port = ntohs(m.id.idiag_sport);
	s->peer.port = ntohs(m.id.idiag_dport);
	size_t alen = m.idiag_family == AF_INET ? 4 : 16;
	memcpy(s->local.addr, m.id.idiag_src, alen);
	memcpy(s->peer.addr, m.id.idiag_dst, alen);
	s->ifindex = m.id.idiag_if;
	if (m.idiag_family == AF_INET6) {
		if (link_local6(s->local.addr))
			s->local.scope = m.id.idiag_if;
		if (link_local6(s->peer.addr))
			s->peer.scope = m.id.idiag_if;
	}
	s->cookie = cookie64(m.id.idiag_cookie);
	s->recv_q = m.idiag_rqueue;
	s->send_q = m.idiag_wqueue;
	s->uid = m.idiag_uid;
	s->has_uid = true;
	s->inode = m.idiag_inode;
	if (d->timers) {
		s->has_timer = true;
		s->timer = m.idiag_timer <= TIMER_PROBE ? m.idiag_timer : TIMER_OFF;
		s->retrans = m.idiag_retrans;
		s->expires_ms = m.idiag_expires;
	}

	const unsigned char *ap = p + NLMSG_ALIGN(sizeof(m));
	size_t rem = len > NLMSG_ALIGN(sizeof(m)) ? len - NLMSG_ALIGN(sizeof(m)) : 0;
	bool have_info = false;
	struct attr a;
	int r;
	while ((r = next_attr(&ap, &rem, &a)) > 0) {
		switch (a.type) {
		case INET_DIAG_INFO:
			if (!d->tcp_info || a.len == 0)
				break;
			if (!have_info)
				memset(&sc->info, 0, sizeof(sc->info));
			have_info = true;
			get_tcpinfo(&a, &sc->info);
			break;
		case INET_DIAG_CONG: {
			if (a.len == 0)
				break;
			if (!have_info) {
				memset(&sc->info, 0, sizeof(sc->info));
				have_info = true;
			}
			/* The name is NUL-terminated by the kernel; do not rely on it. */
			size_t n = strnlen((const char *)a.data, a.len);
			if (n >= sizeof(sc->info.cong))
				n = sizeof(sc->info.cong) - 1;
			memcpy(sc->info.cong, a.data, n);
			sc->info.cong[n] = '\0';
			break;
		}
		case INET_DIAG_SKMEMINFO:
			s->mem = get_mem(&a, sc);
			break;
		case INET_DIAG_CGROUP_ID:
			/* Sent unasked for every full inet socket (--cgroup). */
			if (a.len >= sizeof(uint64_t))
				memcpy(&s->cgroup_id, a.data, sizeof(uint64_t));
			break;
		case INET_DIAG_MARK:
			/* Sent unasked, to a requester with CAP_NET_ADMIN only. */
			(void)get_u32(&a, &s->mark);
			break;
		case INET_DIAG_SKV6ONLY:
			/* Sent unasked for every full inet6 socket. */
			if (a.len >= 1 && m.idiag_family == AF_INET6) {
				s->v6only = a.data[0] != 0;
				sc->v6only_given = true;
			}
			break;
		default:
			break;
		}
	}
	if (r < 0)
		return r;
	if (have_info)
		s->info = &sc->info;
	return 0;
}

static int parse_unix(const unsigned char *p, size_t len, struct sock *s, struct diag_scratch *sc)
{
	struct unix_diag_msg m;
	if (len < sizeof(m))
		return -EINVAL;
	memcpy(&m, p, sizeof(m));
	if (m.udiag_family != AF_UNIX)
		return -EINVAL;

	s->family = AF_UNIX;
	s->type = m.udiag_type;
	s->state = m.udiag_state;
	s->inode = m.udiag_ino;
	s->cookie = cookie64(m.udiag_cookie);
	/* Unnamed: a valid empty name, so renderers can tell UNIX by path. */
	s->path = "";
	s->path_len = 0;

	const unsigned char *ap = p + NLMSG_ALIGN(sizeof(m));
	size_t rem = len - NLMSG_ALIGN(sizeof(m));
	struct attr a;
	int r;
	uint32_t v;
	while ((r = next_attr(&ap, &rem, &a)) > 0) {
		switch (a.type) {
		case UNIX_DIAG_NAME: {
			size_t n = a.len;
			/*
			 * A filesystem path arrives with its terminating NUL, an
			 * abstract name (leading NUL) with exactly its bytes;
			 * keep the path a path, as /proc/net/unix shows it.
			 */
			if (n > 0 && a.data[0] != '\0')
				n = strnlen((const char *)a.data, n);
			s->path = (const char *)a.data;
			s->path_len = (uint32_t)n;
			break;
		}
		case UNIX_DIAG_PEER:
			if (get_u32(&a, &v))
				s->peer_inode = v;
			break;
		case UNIX_DIAG_RQLEN: {
			struct unix_diag_rqlen q;
			if (a.len < sizeof(q))
				break;
			memcpy(&q, a.data, sizeof(q));
			s->recv_q = q.udiag_rqueue;
			s->send_q = q.udiag_wqueue;
			break;
		}
		case UNIX_DIAG_UID:
			get_uid(&a, s);
			break;
		case UNIX_DIAG_MEMINFO:
			s->mem = get_mem(&a, sc);
			break;
		default:
			break;
		}
	}
	return r;
}

static int parse_packet(const unsigned char *p, size_t len, struct sock *s,
			struct diag_scratch *sc)
{
	struct packet_diag_msg m;
	if (len < sizeof(m))
		return -EINVAL;
	memcpy(&m, p, sizeof(m));
	if (m.pdiag_family != AF_PACKET)
		return -EINVAL;

	s->family = AF_PACKET;
	s->type = m.pdiag_type;
	s->state = SS_CLOSE;
	/* packet_diag already converts the protocol to host order. */
	s->local.port = m.pdiag_num;
	s->inode = m.pdiag_ino;
	s->cookie = cookie64(m.pdiag_cookie);

	const unsigned char *ap = p + NLMSG_ALIGN(sizeof(m));
	size_t rem = len - NLMSG_ALIGN(sizeof(m));
	struct attr a;
	int r;
	uint32_t v;
	while ((r = next_attr(&ap, &rem, &a)) > 0) {
		switch (a.type) {
		case PACKET_DIAG_INFO:
			if (get_u32(&a, &v)) /* pdi_index comes first */
				s->ifindex = v;
			break;
		case PACKET_DIAG_UID:
			get_uid(&a, s);
			break;
		case PACKET_DIAG_MEMINFO:
			s->mem = get_mem(&a, sc);
			if (s->mem && s->mem->count > SK_MEMINFO_RMEM_ALLOC)
				s->recv_q = s->mem->v[SK_MEMINFO_RMEM_ALLOC];
			break;
		default:
			break;
		}
	}
	return r;
}

static int parse_netlink(const unsigned char *p, size_t len, struct sock *s,
			 struct diag_scratch *sc)
{
	struct netlink_diag_msg m;
	if (len < sizeof(m))
		return -EINVAL;
	memcpy(&m, p, sizeof(m));
	if (m.ndiag_family != AF_NETLINK)
		return -EINVAL;

	s->family = AF_NETLINK;
	s->type = m.ndiag_type;
	s->state = SS_CLOSE;
	s->inode = m.ndiag_ino;
	s->cookie = cookie64(m.ndiag_cookie);
	s->nl.protocol = m.ndiag_protocol;
	s->nl.portid = m.ndiag_portid;
	/* NETLINK_CONNECTED, the only state netlink_diag reports besides 0. */
	s->nl.connected = m.ndiag_state == 1;
	s->nl.dst_portid = m.ndiag_dst_portid;
	s->nl.dst_group = m.ndiag_dst_group;

	const unsigned char *ap = p + NLMSG_ALIGN(sizeof(m));
	size_t rem = len - NLMSG_ALIGN(sizeof(m));
	struct attr a;
	int r;
	while ((r = next_attr(&ap, &rem, &a)) > 0) {
		switch (a.type) {
		case NETLINK_DIAG_MEMINFO:
			s->mem = get_mem(&a, sc);
			/* ss shows the allocated memory as the queues. */
			if (s->mem && s->mem->count > SK_MEMINFO_WMEM_ALLOC) {
				s->recv_q = s->mem->v[SK_MEMINFO_RMEM_ALLOC];
				s->send_q = s->mem->v[SK_MEMINFO_WMEM_ALLOC];
			}
			break;
		case NETLINK_DIAG_GROUPS:
			/* A bitmap of longs; the first 32 groups, as /proc shows. */
			(void)get_u32(&a, &s->nl.groups);
			break;
		default:
			break;
		}
	}
	return r;
}

int diag_parse(const struct nlmsghdr *nlh, enum proto proto, struct sock *s,
	       struct diag_scratch *scratch)
{
	memset(s, 0, sizeof(*s));
	scratch->v6only_given = false;
	const struct proto_desc *d = proto_get(proto);
	if (!d)
		return -EINVAL;
	s->proto = (uint8_t)proto;
	if (nlh->nlmsg_len < NLMSG_HDRLEN)
		return -EINVAL;
	const unsigned char *p = (const unsigned char *)nlh + NLMSG_HDRLEN;
	size_t len = nlh->nlmsg_len - NLMSG_HDRLEN;

	int r;
	switch (d->diag) {
	case PROTO_DIAG_UNIX:
		r = parse_unix(p, len, s, scratch);
		break;
	case PROTO_DIAG_PACKET:
		r = parse_packet(p, len, s, scratch);
		break;
	case PROTO_DIAG_NETLINK:
		r = parse_netlink(p, len, s, scratch);
		break;
	case PROTO_DIAG_NONE:
		r = -EINVAL;
		break;
	case PROTO_DIAG_INET:
	default:
		r = parse_inet(p, len, d, s, scratch);
		break;
	}
	if (r < 0) {
		/* Never leave a half-filled record pointing anywhere. */
		memset(s, 0, sizeof(*s));
		scratch->v6only_given = false;
		s->proto = (uint8_t)proto;
	}
	return r < 0 ? r : 0;
}
