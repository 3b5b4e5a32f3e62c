#ifndef SRC_PROTO_H
#define SRC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The protocol table: every static fact about a protocol (its names, its
 * families, how sock_diag and /proc/net list it, how its states read, its
 * /etc/services name) lives in one row of proto.c. Every other module asks
 * here instead of keeping its own list, so adding a protocol is adding an
 * enum value and a row, plus a parser when its replies or /proc file have
 * a layout no existing parser reads.
 */

/* Protocols, in the order they are gathered and printed: one row each. */
enum proto {
	PROTO_TCP,
	PROTO_UDP,
	PROTO_UDPLITE,
	PROTO_RAW,
	PROTO_UNIX,
	PROTO_PACKET,
	PROTO_MPTCP,
	PROTO_ICMP,
	PROTO_NETLINK,
	PROTO_COUNT
};

#define PROTO_BIT(p) (1u << (p))
#define PROTO_ALL ((1u << PROTO_COUNT) - 1)

/* Address families as a selection mask (options -4 -6 -f). */
enum fam {
	FAM_INET = 1u << 0,
	FAM_INET6 = 1u << 1,
	FAM_UNIX = 1u << 2,
	FAM_PACKET = 1u << 3,
	FAM_NETLINK = 1u << 4,
	FAM_ALL = 0x1f
};

/*
 * Which sock_diag handler answers for the protocol, and so which request
 * and reply layout diag.c builds and parses. The request's sdiag_family is
 * always the family being asked for (struct proto_family's af).
 */
enum proto_diag {
	PROTO_DIAG_INET,   /* inet_diag: inet_diag_req_v2, inet_diag_msg */
	PROTO_DIAG_UNIX,   /* unix_diag */
	PROTO_DIAG_PACKET, /* packet_diag */
	PROTO_DIAG_NETLINK, /* netlink_diag: netlink_diag_req, netlink_diag_msg */
	PROTO_DIAG_NONE,   /* no diag module reports it: /proc/net only */
};

/* Which /proc/net line parser of procnet.c reads the protocol's files. */
enum proto_proc {
	PROTO_PROC_INET,   /* the tcp/udp/raw layout: sl local rem st ... */
	PROTO_PROC_UNIX,   /* /proc/net/unix */
	PROTO_PROC_PACKET, /* /proc/net/packet */
	PROTO_PROC_NETLINK, /* /proc/net/netlink */
};

enum { PROTO_FAMILIES_MAX = 2, PROTO_TYPES_MAX = 3 };

/* What the protocol is in one address family. */
struct proto_family {
	uint8_t af;           /* AF_INET, AF_INET6, ...; 0 ends the list */
	uint8_t fam;          /* the enum fam bit that selects it */
	const char *column;   /* Proto column ("tcp6"), unless a type overrides it */
	const char *fname;    /* JSON "family": "inet", "inet6", "unix", "packet" */
	/*
	 * The /proc/net file, as users know it ("/proc/net/tcp6"); it is read
	 * under the run's proc root, PROTO_PROC_PREFIX replaced by that root.
	 * NULL for a protocol that only sock_diag lists.
	 */
	const char *procfile;
	/*
	 * The sock_diag multicast group (SKNLGRP_*) that announces every
	 * destroyed socket of the protocol in this family, with its last
	 * state and counters; 0 when the kernel has none.
	 */
	uint8_t destroy_group;
};

#define PROTO_PROC_PREFIX "/proc/"

/* A Proto column spelling that depends on the socket type (UNIX: u_str). */
struct proto_type_name {
	uint8_t type;         /* SOCK_STREAM, ...; 0 ends the list */
	const char *column;
};

struct proto_desc {
	/* "tcp": the JSON "proto", the summary's rows and keys, messages. */
	const char *name;
	/*
	 * The short option that selects it ('t'), 0 for none. Rows may share
	 * one: -w selects raw and ping (icmp) sockets alike.
	 */
	char opt;
	/*
	 * The long option that selects it ("tcp"), NULL for none. A row that
	 * shares its short option with an earlier row has none of its own.
	 */
	const char *option;
	/* State kind: a datagram protocol's TCP_CLOSE prints as UNCONN. */
	bool datagram;
	/* The socket type every socket has (SOCK_STREAM...); 0: the kernel says. */
	uint8_t type;
	/* Timers and retransmits are the kernel's TCP ones (-o, idiag_timer). */
	bool timers;
	/* inet_diag gives tcp_info and the congestion control name (-i). */
	bool tcp_info;
	enum proto_diag diag;
	/*
	 * The inet_diag protocol (an IPPROTO_* value), 0 otherwise. One that
	 * does not fit sdiag_protocol's byte (MPTCP's 262) is named in
	 * INET_DIAG_REQ_PROTOCOL, where the kernel looks first.
	 */
	uint16_t diag_protocol;
	/*
	 * raw_diag dumps raw sockets of every protocol under IPPROTO_RAW and
	 * is named again in INET_DIAG_REQ_PROTOCOL and the request's raw
	 * protocol byte, for kernels that look it up there.
	 */
	bool diag_raw;
	/* inet_diag accepts filter bytecode (INET_DIAG_REQ_BYTECODE). */
	bool bytecode;
	enum proto_proc proc;
	/* The /etc/services protocol ("tcp", "udp"), NULL when it has none. */
	const char *services;
	/* Families in gather order; af 0 ends the list. */
	struct proto_family families[PROTO_FAMILIES_MAX];
	/* Type-specific Proto spellings, tried before the family's column. */
	struct proto_type_name types[PROTO_TYPES_MAX];
};

/* The table, indexed by enum proto. */
extern const struct proto_desc proto_table[PROTO_COUNT];

/* The row for p, or NULL when p is out of range. */
const struct proto_desc *proto_get(enum proto p);

/* p's name ("tcp", "unix"), "unknown" when p is out of range. Never NULL. */
const char *proto_name(enum proto p);

/* The enum fam mask of the families p's sockets can have; 0 if out of range. */
unsigned proto_families(enum proto p);

/* p's entry for address family af, or NULL when p has no such family. */
const struct proto_family *proto_family(enum proto p, int af);

/*
 * The Proto column for a socket of protocol p, family af and socket type
 * type ("tcp6", "u_str"); "?" when p or af is unknown. Never NULL.
 */
const char *proto_column(enum proto p, int af, int type);

/*
 * The protocols a short option (c, a character) or a long-only option
 * (PROTO_OPTION_BASE + p) selects, as a PROTO_BIT mask; 0 for none.
 */
#define PROTO_OPTION_BASE 0x200
uint32_t proto_by_option(int c);

/* The protocol named name (len bytes, "tcp"), or -ENOENT. */
int proto_by_name(const char *name, size_t len);

/*
 * The /etc/services table that serves p: a small number below PROTO_COUNT
 * shared by every protocol with the same services name (UDP-Lite uses
 * udp's), or -ENOENT when p has none (raw, unix, packet).
 */
int proto_services_id(enum proto p);

/* The services table for a services protocol name (len bytes, "udp"), or -ENOENT. */
int proto_services_by_name(const char *name, size_t len);

#endif
