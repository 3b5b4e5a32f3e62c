#include "field.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "escape.h"
#include "names.h"
#include "owners.h"

void field_ctx_init(struct field_ctx *c, const struct render_opts *o, struct names *names)
{
	memset(c, 0, sizeof(*c));
	c->o = o;
	c->names = names;
	buf_init(&c->tmp);
}

void field_ctx_finish(struct field_ctx *c)
{
	buf_finish(&c->tmp);
}

unsigned field_have(const struct render_opts *o)
{
	return (o->extended ? NEED_EXTENDED : 0) | (o->info ? NEED_INFO : 0) |
	       (o->memory ? NEED_MEMORY : 0) | (o->timers ? NEED_TIMERS : 0) |
	       (o->processes ? NEED_OWNERS : 0) | (o->all_netns ? NEED_NETNS : 0) |
	       (o->cgroup ? NEED_CGROUP : 0);
}

/* The interface name for index, NULL when the system has none. */
static const char *ifname(struct field_ctx *c, uint32_t index, char *scratch)
{
	if (index < FIELD_IFCACHE) {
		if (c->ifstate[index] == 0)
			c->ifstate[index] = if_indextoname(index, c->ifname[index]) ? 1 : 2;
		return c->ifstate[index] == 1 ? c->ifname[index] : NULL;
	}
	return if_indextoname(index, scratch);
}

static void add_ifname_or_num(struct field_ctx *c, struct buf *b, uint32_t index)
{
	char scratch[IF_NAMESIZE];
	const char *n = ifname(c, index, scratch);
	if (n)
		escape_text(b, n, strlen(n));
	else
		buf_addu(b, index);
}

static bool is_inet(const struct sock *s)
{
	return s->family == AF_INET || s->family == AF_INET6;
}

static bool all_zero(const uint8_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i])
			return false;
	return true;
}

/*
 * Whether an inet6 socket takes IPv6 alone. The kernel reports its flag
 * only for LISTEN and CLOSE sockets, and /proc/net not at all; but a
 * socket whose address is a specific IPv6 one, not v4-mapped, can only
 * take IPv6 (bind sets the flag for it), so that address says so too:
 * the peer of a listener on [::1] is [::], not *.
 */
static bool v6only(const struct sock *s)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const uint8_t *a = s->local.addr;
	return s->v6only || !(all_zero(a, 16) || memcmp(a, mapped, sizeof(mapped)) == 0);
}

/* The literal address: dotted quad, or inet_ntop's IPv6 form. */
static void add_addr(struct buf *b, int family, const uint8_t *a)
{
	if (family == AF_INET) {
		char t[16];
		size_t n = 0;
		for (int i = 0; i < 4; i++) {
			unsigned v = a[i];
			if (i)
				t[n++] = '.';
			if (v >= 100)
				t[n++] = (char)('0' + v / 100);
			if (v >= 10)
				t[n++] = (char)('0' + v / 10 % 10);
			t[n++] = (char)('0' + v % 10);
		}
		buf_add(b, t, n);
		return;
	}
	char t[INET6_ADDRSTRLEN];
	if (inet_ntop(AF_INET6, a, t, sizeof(t)))
		buf_adds(b, t);
	else
		buf_addc(b, '?');
}

/* The host name for -r, or NULL for a wildcard or an unnamed address. */
static const char *host_name(struct field_ctx *c, const struct sock *s,
			     const struct sock_endpoint *e)
{
	if (!c->o->resolve || !c->names)
		return NULL;
	size_t n = s->family == AF_INET ? 4 : 16;
	if (all_zero(e->addr, n))
		return NULL;
	return names_host(c->names, s->family, e->addr);
}

/* Whether the protocol has tcp_info to show (-i), as the table says. */
static bool has_tcp_info(const struct sock *s)
{
	const struct proto_desc *d = proto_get((enum proto)s->proto);
	return d && d->tcp_info;
}

/* The protocol table says which services table a protocol has, if any. */
static const char *service(struct field_ctx *c, const struct sock *s, uint16_t port)
{
	if (c->o->numeric || !c->names || port == 0)
		return NULL;
	return names_service(c->names, port, (enum proto)s->proto);
}

/*
 * An inet endpoint; ifindex, when not 0, is the device the socket is
 * bound to, shown as ss shows it: "0.0.0.0%lo:7002", "[fe80::1]%eth0:22"
 * (the device then stands for the scope too).
 */
static void cell_inet(struct field_ctx *c, struct buf *b, const struct sock *s,
		      const struct sock_endpoint *e, uint32_t ifindex)
{
	const char *host = host_name(c, s, e);
	if (host) {
		escape_text(b, host, strlen(host));
	} else if (s->family == AF_INET) {
		add_addr(b, AF_INET, e->addr);
	} else if (all_zero(e->addr, 16) && !v6only(s)) {
		/* A dual-stack wildcard: any address of either family, as ss says. */
		buf_addc(b, '*');
	} else {
		buf_addc(b, '[');
		add_addr(b, AF_INET6, e->addr);
		if (e->scope && !ifindex) {
			buf_addc(b, '%');
			add_ifname_or_num(c, b, e->scope);
		}
		buf_addc(b, ']');
	}
	if (ifindex) {
		buf_addc(b, '%');
		add_ifname_or_num(c, b, ifindex);
	}
	buf_addc(b, ':');
	const char *svc = service(c, s, e->port);
	if (e->port == 0)
		buf_addc(b, '*');
	else if (svc)
		escape_text(b, svc, strlen(svc));
	else
		buf_addu(b, e->port);
}

/*
 * A UNIX name as the table and JSON show it: "@" and the rest for an
 * abstract name, the path up to its first NUL otherwise (the kernel may
 * report the terminating NUL of a filesystem path).
 */
static void unix_name(const struct sock *s, const char **p, size_t *len, bool *abstract)
{
	*p = s->path;
	*len = s->path ? s->path_len : 0;
	*abstract = *len > 0 && (*p)[0] == '\0';
	if (*abstract) {
		(*p)++;
		(*len)--;
	} else if (*len) {
		const char *nul = memchr(*p, '\0', *len);
		if (nul)
			*len = (size_t)(nul - *p);
	}
}

static const char *packet_proto_name(uint16_t p)
{
	switch (p) {
	case 0x0003: return "ALL";
	case 0x0800: return "IP";
	case 0x86dd: return "IPv6";
	case 0x0806: return "ARP";
	default: return NULL;
	}
}

/*
 * Netlink protocol names as ss spells them; a protocol without one
 * prints as its number.
 */
static const char *netlink_proto_name(unsigned p)
{
	static const char *const names[] = {
		[0] = "rtnl", [1] = "unused", [2] = "usersock", [3] = "fw",
		[4] = "tcpdiag", [5] = "nflog", [6] = "xfrm", [7] = "selinux",
		[8] = "iscsi", [9] = "audit", [10] = "fiblookup", [11] = "connector",
		[12] = "nft", [13] = "ip6fw", [14] = "dec-rt", [15] = "uevent",
		[16] = "genl", [18] = "scsi-trans", [19] = "ecryptfs", [20] = "rdma",
		[21] = "crypto",
	};
	return p < sizeof(names) / sizeof(names[0]) ? names[p] : NULL;
}

/*
 * "rtnl:1234": the protocol, by name unless -n (as ss), and the portid as
 * ss prints it, a signed number ("kernel" for the kernel's own, unless -n).
 */
static void cell_netlink_local(struct field_ctx *c, struct buf *b, const struct sock *s)
{
	const char *pn = c->o->numeric ? NULL : netlink_proto_name(s->nl.protocol);
	if (pn)
		buf_adds(b, pn);
	else
		buf_addu(b, s->nl.protocol);
	buf_addc(b, ':');
	if (s->nl.portid == 0 && !c->o->numeric)
		buf_adds(b, "kernel");
	else
		buf_printf(b, "%d", (int)s->nl.portid);
}

static void cell_unix_local(struct buf *b, const struct sock *s)
{
	const char *p;
	size_t len;
	bool abstract;
	unix_name(s, &p, &len, &abstract);
	if (abstract) {
		buf_addc(b, '@');
		escape_text(b, p, len);
	} else if (len) {
		escape_text(b, p, len);
	} else {
		buf_addc(b, '*');
	}
	/* The socket's own inode, so that a peer's row can name it. */
	buf_addc(b, ' ');
	buf_addu(b, s->inode);
}

static void cell_local(struct field_ctx *c, struct buf *b, const struct sock *s)
{
	if (is_inet(s)) {
		cell_inet(c, b, s, &s->local, s->ifindex);
	} else if (s->family == AF_UNIX) {
		cell_unix_local(b, s);
	} else if (s->family == AF_PACKET) {
		const char *pn = packet_proto_name(s->local.port);
		if (pn)
			buf_adds(b, pn);
		else
			buf_printf(b, "0x%04x", s->local.port);
		buf_addc(b, ':');
		if (s->ifindex)
			add_ifname_or_num(c, b, s->ifindex);
		else
			buf_addc(b, '*');
	} else if (s->family == AF_NETLINK) {
		cell_netlink_local(c, b, s);
	} else {
		buf_addc(b, '-');
	}
}

static void cell_peer(struct field_ctx *c, struct buf *b, const struct sock *s)
{
	if (is_inet(s)) {
		cell_inet(c, b, s, &s->peer, 0);
	} else if (s->family == AF_UNIX && s->peer_inode) {
		buf_add(b, "* ", 2);
		buf_addu(b, s->peer_inode);
	} else if (s->family == AF_NETLINK && s->nl.connected) {
		/* ss: the destination group, then the destination portid. */
		buf_printf(b, "%u:%d", s->nl.dst_group, (int)s->nl.dst_portid);
	} else {
		buf_addc(b, '*');
	}
}

static const char *user_name(struct field_ctx *c, uint32_t uid, char *scratch, size_t size)
{
	if (c->names)
		return names_user(c->names, uid);
	snprintf(scratch, size, "%u", uid);
	return scratch;
}

static void add_owner(struct field_ctx *c, struct buf *b, const struct owner *o, bool first)
{
	char scratch[16];
	if (!first)
		buf_add(b, ", ", 2);
	const char *u = user_name(c, o->uid, scratch, sizeof(scratch));
	escape_text(b, u, strlen(u));
	buf_addc(b, ' ');
	buf_addu(b, (unsigned long long)(uint32_t)o->pid);
	buf_addc(b, ' ');
	if (o->comm && o->comm[0])
		escape_text(b, o->comm, strlen(o->comm));
	else
		buf_addc(b, '?');
}

static bool pid_ordered(const struct owner *o)
{
	for (; o->next; o = o->next)
		if (o->next->pid < o->pid)
			return false;
	return true;
}

/*
 * Each process once, in pid order, however many fds it holds the socket
 * on. Chains normally come in pid order, which takes one pass; any other
 * order is sorted by repeated selection, since chains are short and a
 * row must not allocate.
 */
static void add_owners(struct field_ctx *c, struct buf *b, const struct owner *chain)
{
	if (pid_ordered(chain)) {
		for (const struct owner *o = chain, *prev = NULL; o; prev = o, o = o->next)
			if (!prev || o->pid != prev->pid)
				add_owner(c, b, o, !prev);
		return;
	}
	int64_t last = INT64_MIN;
	for (bool first = true;; first = false) {
		const struct owner *best = NULL;
		for (const struct owner *o = chain; o; o = o->next)
			if (o->pid > last && (!best || o->pid < best->pid))
				best = o;
		if (!best)
			return;
		add_owner(c, b, best, first);
		last = best->pid;
	}
}

/*
 * The Process cell: the holders, or without any visible, the user of the
 * kernel's uid, or "-" when that uid is a placeholder.
 */
static void cell_process(struct field_ctx *c, struct buf *b, const struct sock *s)
{
	if (c->o->processes && s->owners) {
		add_owners(c, b, s->owners);
		return;
	}
	if (!field_uid_known(s)) {
		buf_addc(b, '-');
		return;
	}
	char scratch[16];
	const char *u = user_name(c, s->uid, scratch, sizeof(scratch));
	escape_text(b, u, strlen(u));
}

static const char *timer_name(unsigned kind)
{
	static const char *const names[] = {"off", "on", "keepalive", "timewait", "probe"};
	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

/* netstat -o: "keepalive (7.12/0/0)", seconds left, retransmits, probes. */
static void cell_timer(struct field_ctx *c, struct buf *b, const struct sock *s)
{
	(void)c;
	if (!is_inet(s)) {
		buf_addc(b, '-');
		return;
	}
	unsigned kind = s->has_timer ? s->timer : TIMER_OFF;
	uint32_t ms = s->has_timer ? s->expires_ms : 0;
	unsigned retrans = s->has_timer ? s->retrans : 0;
	buf_printf(b, "%s (%u.%02u/%u/0)", timer_name(kind), ms / 1000, ms % 1000 / 10, retrans);
}

static const char *const mem_tag[SOCK_MEMINFO_VARS] = {
	"r", "rb", "t", "tb", "f", "w", "o", "bl", "d"
};
static const char *const mem_key[SOCK_MEMINFO_VARS] = {
	"rmem_alloc", "rcvbuf", "wmem_alloc", "sndbuf", "fwd_alloc",
	"wmem_queued", "optmem", "backlog", "drops"
};

static unsigned mem_count(const struct sock_meminfo *m)
{
	return m->count < SOCK_MEMINFO_VARS ? m->count : SOCK_MEMINFO_VARS;
}

static void cell_memory(struct field_ctx *c, struct buf *b, const struct sock *s)
{
	(void)c;
	if (!s->mem || s->mem->count == 0) {
		buf_addc(b, '-');
		return;
	}
	buf_adds(b, "skmem:(");
	for (unsigned i = 0; i < mem_count(s->mem); i++) {
		if (i)
			buf_addc(b, ',');
		buf_adds(b, mem_tag[i]);
		buf_addu(b, s->mem->v[i]);
	}
	buf_addc(b, ')');
}

/* TCP_INFINITE_SSTHRESH: the kernel's "no threshold yet". */
static bool ssthresh_infinite(uint32_t v)
{
	return v >= 0x7fffffff;
}

/* A rate in bits per second, scaled as ss prints it. */
static void add_bps(struct buf *b, uint64_t bytes_per_sec)
{
	double bps = (double)bytes_per_sec * 8.0;
	if (bps >= 1e9)
		buf_printf(b, "%.1fG", bps / 1e9);
	else if (bps >= 1e6)
		buf_printf(b, "%.1fM", bps / 1e6);
	else if (bps >= 1e3)
		buf_printf(b, "%.1fK", bps / 1e3);
	else
		buf_printf(b, "%.0f", bps);
	buf_adds(b, "bps");
}

static void cell_info(struct field_ctx *c, struct buf *b, const struct sock *s)
{
	(void)c;
	const struct sock_tcpinfo *i = s->info;
	if (!has_tcp_info(s) || !i) {
		buf_addc(b, '-');
		return;
	}
	size_t cl = strnlen(i->cong, sizeof(i->cong));
	if (cl) {
		escape_text(b, i->cong, cl);
		buf_addc(b, ' ');
	}
	buf_printf(b, "rtt:%g/%g mss:%u cwnd:%u", i->rtt_us / 1000.0, i->rttvar_us / 1000.0,
		   i->snd_mss, i->snd_cwnd);
	if (!ssthresh_infinite(i->snd_ssthresh))
		buf_printf(b, " ssthresh:%u", i->snd_ssthresh);
	buf_printf(b, " retrans:%u/%u", i->retransmits, i->total_retrans);
	buf_adds(b, " bytes_sent:");
	buf_addu(b, i->bytes_sent);
	buf_adds(b, " bytes_acked:");
	buf_addu(b, i->bytes_acked);
	buf_adds(b, " bytes_received:");
	buf_addu(b, i->bytes_received);
	buf_adds(b, " delivery_rate:");
	add_bps(b, i->delivery_rate);
}

static void cell_proto(struct field_ctx *c, struct buf *b, const struct sock *s)
{
	(void)c;
	buf_adds(b, sock_proto_name(s));
}

static void cell_state(struct field_ctx *c, struct buf *b, const struct sock *s)
{
	(void)c;
	buf_adds(b, sock_state_name(s));
}

static void cell_recvq(struct field_ctx *c, struct buf *b, const struct sock *s)
{
	(void)c;
	buf_addu(b, s->recv_q);
}

static void cell_sendq(struct field_ctx *c, struct buf *b, const struct sock *s)
{
	(void)c;
	buf_addu(b, s->send_q);
}

static void cell_uid(struct field_ctx *c, struct buf *b, const struct sock *s)
{
	(void)c;
	if (field_uid_known(s))
		buf_addu(b, s->uid);
	else
		buf_addc(b, '-');
}

static void cell_inode(struct field_ctx *c, struct buf *b, const struct sock *s)
{
	(void)c;
	buf_addu(b, s->inode);
}

static void cell_cookie(struct field_ctx *c, struct buf *b, const struct sock *s)
{
	(void)c;
	if (s->cookie)
		buf_addu(b, s->cookie);
	else
		buf_addc(b, '-');
}

static void cell_iface(struct field_ctx *c, struct buf *b, const struct sock *s)
{
	if (s->ifindex)
		add_ifname_or_num(c, b, s->ifindex);
	else
		buf_addc(b, '*');
}

/* JSON values. */

static const char *sock_type_name(uint8_t type)
{
	switch (type) {
	case SOCK_STREAM: return "stream";
	case SOCK_DGRAM: return "dgram";
	case SOCK_SEQPACKET: return "seqpacket";
	case SOCK_RAW: return "raw";
	default: return NULL;
	}
}

static void json_endpoint(struct field_ctx *c, struct json *j, const struct sock *s,
			  const struct sock_endpoint *e, bool local)
{
	json_object_begin(j);
	json_key(j, "address");
	buf_reset(&c->tmp);
	add_addr(&c->tmp, s->family, e->addr);
	json_string(j, c->tmp.p, c->tmp.len);
	json_key(j, "port");
	json_uint(j, e->port);
	const char *svc = local ? service(c, s, e->port) : NULL;
	if (svc) {
		json_key(j, "service");
		json_cstring(j, svc);
	}
	if (e->scope) {
		json_key(j, "scope_id");
		json_uint(j, e->scope);
	}
	const char *host = host_name(c, s, e);
	if (host) {
		json_key(j, "host");
		json_cstring(j, host);
	}
	json_object_end(j);
}

static void json_ifname(struct field_ctx *c, struct json *j, uint32_t index)
{
	char scratch[IF_NAMESIZE];
	json_cstring(j, index ? ifname(c, index, scratch) : NULL);
}

static void json_proto(struct field_ctx *c, struct json *j, const struct sock *s)
{
	(void)c;
	/* The protocol itself: UNIX stays "unix" whatever its table spelling. */
	json_cstring(j, proto_name((enum proto)s->proto));
}

static void json_family(struct field_ctx *c, struct json *j, const struct sock *s)
{
	(void)c;
	json_cstring(j, sock_family_name(s));
}

static bool has_type(const struct sock *s)
{
	return s->family == AF_UNIX || s->family == AF_PACKET;
}

static void json_type(struct field_ctx *c, struct json *j, const struct sock *s)
{
	(void)c;
	json_cstring(j, sock_type_name(s->type));
}

static void json_state(struct field_ctx *c, struct json *j, const struct sock *s)
{
	(void)c;
	json_cstring(j, sock_state_name(s));
}

static void json_recvq(struct field_ctx *c, struct json *j, const struct sock *s)
{
	(void)c;
	json_uint(j, s->recv_q);
}

static void json_sendq(struct field_ctx *c, struct json *j, const struct sock *s)
{
	(void)c;
	json_uint(j, s->send_q);
}

static void json_local(struct field_ctx *c, struct json *j, const struct sock *s)
{
	if (is_inet(s)) {
		json_endpoint(c, j, s, &s->local, true);
		return;
	}
	json_object_begin(j);
	if (s->family == AF_UNIX) {
		const char *p;
		size_t len;
		bool abstract;
		unix_name(s, &p, &len, &abstract);
		buf_reset(&c->tmp);
		if (abstract)
			buf_addc(&c->tmp, '@');
		buf_add(&c->tmp, p ? p : "", len);
		json_key(j, "path");
		json_string(j, c->tmp.p, c->tmp.len);
	} else if (s->family == AF_PACKET) {
		json_key(j, "protocol");
		json_uint(j, s->local.port);
		json_key(j, "interface");
		json_ifname(c, j, s->ifindex);
	} else if (s->family == AF_NETLINK) {
		json_key(j, "protocol");
		json_uint(j, s->nl.protocol);
		json_key(j, "protocol_name");
		json_cstring(j, netlink_proto_name(s->nl.protocol));
		json_key(j, "portid");
		json_int(j, (int32_t)s->nl.portid);
		json_key(j, "groups");
		json_uint(j, s->nl.groups);
	}
	json_object_end(j);
}

static bool has_peer(const struct sock *s)
{
	return is_inet(s) || s->family == AF_UNIX || s->family == AF_NETLINK;
}

static void json_peer(struct field_ctx *c, struct json *j, const struct sock *s)
{
	if (is_inet(s)) {
		json_endpoint(c, j, s, &s->peer, false);
		return;
	}
	json_object_begin(j);
	if (s->family == AF_NETLINK) {
		json_key(j, "portid");
		json_int(j, (int32_t)s->nl.dst_portid);
		json_key(j, "group");
		json_uint(j, s->nl.dst_group);
	} else {
		json_key(j, "inode");
		json_uint(j, s->peer_inode);
	}
	json_object_end(j);
}

static bool has_v6only(const struct sock *s)
{
	return s->family == AF_INET6;
}

static void json_v6only(struct field_ctx *c, struct json *j, const struct sock *s)
{
	(void)c;
	json_bool(j, v6only(s));
}

static void json_uid(struct field_ctx *c, struct json *j, const struct sock *s)
{
	(void)c;
	if (field_uid_known(s))
		json_uint(j, s->uid);
	else
		json_null(j);
}

static void json_user(struct field_ctx *c, struct json *j, const struct sock *s)
{
	char scratch[16];
	json_cstring(j, field_uid_known(s) ? user_name(c, s->uid, scratch, sizeof(scratch)) : NULL);
}

static void json_inode(struct field_ctx *c, struct json *j, const struct sock *s)
{
	(void)c;
	json_uint(j, s->inode);
}

static void json_cookie(struct field_ctx *c, struct json *j, const struct sock *s)
{
	(void)c;
	if (s->cookie)
		json_uint(j, s->cookie);
	else
		json_null(j);
}

static void json_iface(struct field_ctx *c, struct json *j, const struct sock *s)
{
	json_ifname(c, j, s->ifindex);
}

static void json_timer(struct field_ctx *c, struct json *j, const struct sock *s)
{
	(void)c;
	json_object_begin(j);
	json_key(j, "kind");
	json_cstring(j, timer_name(s->has_timer ? s->timer : TIMER_OFF));
	json_key(j, "expires_ms");
	json_uint(j, s->has_timer ? s->expires_ms : 0);
	json_key(j, "retrans");
	json_uint(j, s->has_timer ? s->retrans : 0);
	json_object_end(j);
}

static void json_memory(struct field_ctx *c, struct json *j, const struct sock *s)
{
	(void)c;
	if (!s->mem) {
		json_null(j);
		return;
	}
	json_object_begin(j);
	for (unsigned i = 0; i < mem_count(s->mem); i++) {
		json_key(j, mem_key[i]);
		json_uint(j, s->mem->v[i]);
	}
	json_object_end(j);
}

static bool has_info(const struct sock *s)
{
	return has_tcp_info(s);
}

static void json_tcpinfo(struct field_ctx *c, struct json *j, const struct sock *s)
{
	(void)c;
	const struct sock_tcpinfo *i = s->info;
	if (!i) {
		json_null(j);
		return;
	}
	json_object_begin(j);
	size_t cl = strnlen(i->cong, sizeof(i->cong));
	json_key(j, "congestion");
	if (cl)
		json_string(j, i->cong, cl);
	else
		json_null(j);
	json_key(j, "rtt");
	json_double(j, i->rtt_us / 1000.0);
	json_key(j, "rttvar");
	json_double(j, i->rttvar_us / 1000.0);
	json_key(j, "cwnd");
	json_uint(j, i->snd_cwnd);
	json_key(j, "ssthresh");
	if (ssthresh_infinite(i->snd_ssthresh))
		json_null(j);
	else
		json_uint(j, i->snd_ssthresh);
	const struct { const char *key; uint64_t v; } counts[] = {
		{"retransmits", i->retransmits}, {"total_retrans", i->total_retrans},
		{"bytes_sent", i->bytes_sent}, {"bytes_acked", i->bytes_acked},
		{"bytes_received", i->bytes_received}, {"delivery_rate", i->delivery_rate},
		{"mss", i->snd_mss},
	};
	for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		json_key(j, counts[k].key);
		json_uint(j, counts[k].v);
	}
	json_object_end(j);
}

/* One entry per holder and fd, as the owners stage gives them. */
static void json_processes(struct field_ctx *c, struct json *j, const struct sock *s)
{
	char scratch[16];
	json_array_begin(j);
	for (const struct owner *o = s->owners; o; o = o->next) {
		json_object_begin(j);
		json_key(j, "pid");
		json_int(j, o->pid);
		json_key(j, "command");
		json_cstring(j, o->comm ? o->comm : "");
		json_key(j, "fd");
		json_int(j, o->fd);
		json_key(j, "user");
		json_cstring(j, user_name(c, o->uid, scratch, sizeof(scratch)));
		json_object_end(j);
	}
	json_array_end(j);
}

static void cell_netns(struct field_ctx *c, struct buf *b, const struct sock *s)
{
	(void)c;
	const char *n = s->netns_name && *s->netns_name ? s->netns_name : "-";
	escape_text(b, n, strlen(n));
}

static void json_netns(struct field_ctx *c, struct json *j, const struct sock *s)
{
	(void)c;
	json_object_begin(j);
	json_key(j, "inode");
	json_uint(j, s->netns_ino);
	json_key(j, "name");
	json_cstring(j, s->netns_name ? s->netns_name : "");
	json_object_end(j);
}

/*
 * The cgroup path as ss --cgroup prints it; an id no walk of the tree
 * found (a cgroup removed since) as ss spells it too.
 */
static void cell_cgroup(struct field_ctx *c, struct buf *b, const struct sock *s)
{
	(void)c;
	if (s->cgroup_path) {
		escape_text(b, s->cgroup_path, strlen(s->cgroup_path));
	} else if (s->cgroup_id) {
		char hex[32];
		snprintf(hex, sizeof(hex), "unreachable:%llx", (unsigned long long)s->cgroup_id);
		buf_adds(b, hex);
	} else {
		buf_addc(b, '-');
	}
}

static void json_cgroup(struct field_ctx *c, struct json *j, const struct sock *s)
{
	(void)c;
	if (s->cgroup_path)
		json_cstring(j, s->cgroup_path);
	else
		json_null(j);
}

enum { N = NEED_NEVER, E = NEED_EXTENDED };

const struct field field_table[FIELD_COUNT] = {
	[F_NETNS] = {"Netns", "netns", NEED_NETNS, NEED_NETNS, false, cell_netns, json_netns,
		     NULL},
	[F_PROTO] = {"Proto", "proto", 0, 0, true, cell_proto, json_proto, NULL},
	[F_FAMILY] = {NULL, "family", N, 0, false, NULL, json_family, NULL},
	[F_TYPE] = {NULL, "type", N, 0, false, NULL, json_type, has_type},
	[F_STATE] = {"State", "state", 0, 0, true, cell_state, json_state, NULL},
	[F_RECVQ] = {"Recv-Q", "recv_q", 0, 0, false, cell_recvq, json_recvq, NULL},
	[F_SENDQ] = {"Send-Q", "send_q", 0, 0, false, cell_sendq, json_sendq, NULL},
	[F_LOCAL] = {"Local Address", "local", 0, 0, false, cell_local, json_local, NULL},
	[F_PEER] = {"Peer Address", "peer", 0, 0, false, cell_peer, json_peer, has_peer},
	[F_V6ONLY] = {NULL, "v6only", N, 0, false, NULL, json_v6only, has_v6only},
	[F_UID] = {"UID", "uid", E, 0, false, cell_uid, json_uid, NULL},
	[F_USER] = {NULL, "user", N, 0, false, NULL, json_user, NULL},
	[F_INODE] = {"Inode", "inode", E, 0, false, cell_inode, json_inode, NULL},
	[F_COOKIE] = {"Cookie", "cookie", E, E, false, cell_cookie, json_cookie, NULL},
	[F_IFACE] = {"Iface", "interface", E, E, false, cell_iface, json_iface, NULL},
	[F_TIMER] = {"Timer", "timer", NEED_TIMERS, NEED_TIMERS, false, cell_timer, json_timer,
		     is_inet},
	[F_MEMORY] = {"Memory", "memory", NEED_MEMORY, NEED_MEMORY, false, cell_memory,
		      json_memory, NULL},
	[F_INFO] = {"Info", "tcp_info", NEED_INFO, NEED_INFO, false, cell_info, json_tcpinfo,
		    has_info},
	[F_CGROUP] = {"Cgroup", "cgroup", NEED_CGROUP, NEED_CGROUP, false, cell_cgroup,
		      json_cgroup, is_inet},
	[F_PROCESS] = {"Process", "processes", 0, NEED_OWNERS, false, cell_process,
		       json_processes, NULL},
};
