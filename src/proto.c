#include "proto.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/sock_diag.h>

/* The two families of every inet protocol, with its Proto spellings and files. */
#define INET_FAMILIES(name, g4, g6)                                                  \
	{                                                                            \
		{AF_INET, FAM_INET, name, "inet", PROTO_PROC_PREFIX "net/" name, g4},    \
		{AF_INET6, FAM_INET6, name "6", "inet6", PROTO_PROC_PREFIX "net/" name "6", g6}, \
	}

const struct proto_desc proto_table[PROTO_COUNT] = {
	[PROTO_TCP] = {
		.name = "tcp",
		.opt = 't',
		.option = "tcp",
		.datagram = false,
		.type = SOCK_STREAM,
		.timers = true,
		.tcp_info = true,
		.diag = PROTO_DIAG_INET,
		.diag_protocol = IPPROTO_TCP,
		.bytecode = true,
		.proc = PROTO_PROC_INET,
		.services = "tcp",
		.families = INET_FAMILIES("tcp", SKNLGRP_INET_TCP_DESTROY, SKNLGRP_INET6_TCP_DESTROY),
	},
	[PROTO_UDP] = {
		.name = "udp",
		.opt = 'u',
		.option = "udp",
		.datagram = true,
		.type = SOCK_DGRAM,
		.diag = PROTO_DIAG_INET,
		.diag_protocol = IPPROTO_UDP,
		.bytecode = true,
		.proc = PROTO_PROC_INET,
		.services = "udp",
		.families = INET_FAMILIES("udp", SKNLGRP_INET_UDP_DESTROY, SKNLGRP_INET6_UDP_DESTROY),
	},
	[PROTO_UDPLITE] = {
		/* No option of its own, as in ss: it comes with every protocol. */
		.name = "udplite",
		.datagram = true,
		.type = SOCK_DGRAM,
		.diag = PROTO_DIAG_INET,
		.diag_protocol = IPPROTO_UDPLITE,
		.bytecode = true,
		.proc = PROTO_PROC_INET,
		/* UDP-Lite ports are UDP's as far as /etc/services goes. */
		.services = "udp",
		.families = INET_FAMILIES("udplite", 0, 0),
	},
	[PROTO_RAW] = {
		.name = "raw",
		.opt = 'w',
		.option = "raw",
		.datagram = true,
		.type = SOCK_RAW,
		.diag = PROTO_DIAG_INET,
		.diag_protocol = IPPROTO_RAW,
		.diag_raw = true,
		.bytecode = true,
		.proc = PROTO_PROC_INET,
		/* A raw socket's "port" is its protocol number, never a service. */
		.services = NULL,
		.families = INET_FAMILIES("raw", 0, 0),
	},
	[PROTO_UNIX] = {
		.name = "unix",
		.opt = 'x',
		.option = "unix",
		.datagram = true,
		.type = 0,
		.diag = PROTO_DIAG_UNIX,
		.proc = PROTO_PROC_UNIX,
		.families = {{AF_UNIX, FAM_UNIX, "unix", "unix", PROTO_PROC_PREFIX "net/unix"}},
		/* As ss spells them, so a stream, a datagram and a seqpacket row differ. */
		.types = {
			{SOCK_STREAM, "u_str"},
			{SOCK_DGRAM, "u_dgr"},
			{SOCK_SEQPACKET, "u_seq"},
		},
	},
	[PROTO_PACKET] = {
		.name = "packet",
		.opt = '0',
		.option = "packet",
		.datagram = true,
		.type = 0,
		.diag = PROTO_DIAG_PACKET,
		.proc = PROTO_PROC_PACKET,
		.families = {{AF_PACKET, FAM_PACKET, "packet", "packet",
			      PROTO_PROC_PREFIX "net/packet"}},
	},
	[PROTO_MPTCP] = {
		/*
		 * MPTCP sockets as mptcp_diag reports them; each subflow is
		 * an ordinary TCP socket and stays a TCP row. No /proc file
		 * lists them, and the kernel's INET_DIAG_INFO for them is
		 * struct mptcp_info, not tcp_info.
		 */
		.name = "mptcp",
		.opt = 'M',
		.option = "mptcp",
		.datagram = false,
		.type = SOCK_STREAM,
		.diag = PROTO_DIAG_INET,
		.diag_protocol = IPPROTO_MPTCP,
		.bytecode = true,
		.proc = PROTO_PROC_INET,
		.services = "tcp",
		.families = {
			{AF_INET, FAM_INET, "mptcp", "inet", NULL},
			{AF_INET6, FAM_INET6, "mptcp6", "inet6", NULL},
		},
	},
	[PROTO_ICMP] = {
		/*
		 * Ping sockets (SOCK_DGRAM with IPPROTO_ICMP or ICMPV6), what
		 * ping uses without privilege. No diag module reports them;
		 * their /proc files have the udp layout, the local port being
		 * the echo identifier. They come with -w, as raw ICMP does.
		 */
		.name = "icmp",
		.opt = 'w',
		.datagram = true,
		.type = SOCK_DGRAM,
		.diag = PROTO_DIAG_NONE,
		.proc = PROTO_PROC_INET,
		.services = NULL,
		.families = {
			{AF_INET, FAM_INET, "icmp", "inet", PROTO_PROC_PREFIX "net/icmp"},
			{AF_INET6, FAM_INET6, "icmp6", "inet6", PROTO_PROC_PREFIX "net/icmp6"},
		},
	},
	[PROTO_NETLINK] = {
		/*
		 * Proto "nl", ss's Netid. A netlink socket is listed as
		 * unconnected (UNCONN) as ss lists it, connected or not.
		 */
		.name = "nl",
		.option = "netlink",
		.datagram = true,
		.type = 0,
		.diag = PROTO_DIAG_NETLINK,
		.proc = PROTO_PROC_NETLINK,
		.families = {{AF_NETLINK, FAM_NETLINK, "nl", "netlink",
			      PROTO_PROC_PREFIX "net/netlink"}},
	},
};

const struct proto_desc *proto_get(enum proto p)
{
	return (unsigned)p < PROTO_COUNT ? &proto_table[p] : NULL;
}

const char *proto_name(enum proto p)
{
	const struct proto_desc *d = proto_get(p);
	return d ? d->name : "unknown";
}

unsigned proto_families(enum proto p)
{
	const struct proto_desc *d = proto_get(p);
	unsigned m = 0;
	for (size_t i = 0; d && i < PROTO_FAMILIES_MAX && d->families[i].af; i++)
		m |= d->families[i].fam;
	return m;
}

const struct proto_family *proto_family(enum proto p, int af)
{
	const struct proto_desc *d = proto_get(p);
	for (size_t i = 0; d && af && i < PROTO_FAMILIES_MAX && d->families[i].af; i++)
		if (d->families[i].af == af)
			return &d->families[i];
	return NULL;
}

const char *proto_column(enum proto p, int af, int type)
{
	const struct proto_family *f = proto_family(p, af);
	if (!f)
		return "?";
	const struct proto_desc *d = proto_get(p);
	for (size_t i = 0; type && i < PROTO_TYPES_MAX && d->types[i].type; i++)
		if (d->types[i].type == type)
			return d->types[i].column;
	return f->column;
}

uint32_t proto_by_option(int c)
{
	if (c >= PROTO_OPTION_BASE && c < PROTO_OPTION_BASE + PROTO_COUNT)
		return PROTO_BIT(c - PROTO_OPTION_BASE);
	uint32_t m = 0;
	for (int p = 0; p < PROTO_COUNT; p++)
		if (c > 0 && proto_table[p].opt == c)
			m |= PROTO_BIT(p);
	return m;
}

static bool same(const char *a, const char *b, size_t len)
{
	return a && strlen(a) == len && memcmp(a, b, len) == 0;
}

int proto_by_name(const char *name, size_t len)
{
	for (int p = 0; p < PROTO_COUNT; p++)
		if (same(proto_table[p].name, name, len))
			return p;
	return -ENOENT;
}

int proto_services_by_name(const char *name, size_t len)
{
	/* A table is named by the first row that uses it. */
	for (int p = 0; p < PROTO_COUNT; p++)
		if (same(proto_table[p].services, name, len))
			return p;
	return -ENOENT;
}

int proto_services_id(enum proto p)
{
	const struct proto_desc *d = proto_get(p);
	if (!d || !d->services)
		return -ENOENT;
	return proto_services_by_name(d->services, strlen(d->services));
}
