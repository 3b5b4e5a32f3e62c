#ifndef SRC_SOCK_H
#define SRC_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/*
 * The one record type for a socket. Every source (netlink sock_diag,
 * /proc/net) fills it the same way, so filters and renderers never know
 * where a row came from.
 */

/*
 * Socket states use the kernel's TCP_* numbering (linux/tcp_states.h) for
 * every protocol, as sock_diag does: a UDP, RAW or UNIX socket that is not
 * connected is TCP_CLOSE and prints as UNCONN; a connected one is
 * TCP_ESTABLISHED. A state mask has bit (1 << state) set, like idiag_states.
 */
enum {
	SS_ESTABLISHED = 1,
	SS_SYN_SENT,
	SS_SYN_RECV,
	SS_FIN_WAIT1,
	SS_FIN_WAIT2,
	SS_TIME_WAIT,
	SS_CLOSE,
	SS_CLOSE_WAIT,
	SS_LAST_ACK,
	SS_LISTEN,
	SS_CLOSING,
	SS_NEW_SYN_RECV,
	SS_MAX
};

#define STATE_BIT(s) (1u << (s))
#define STATES_ALL (((1u << SS_MAX) - 1) & ~1u)
/* -l: listening sockets, plus unconnected datagram ones (as ss -l). */
#define STATES_LISTENING (STATE_BIT(SS_LISTEN) | STATE_BIT(SS_CLOSE))
/* Neither -a nor -l: everything else, TIME_WAIT and SYN_RECV included. */
#define STATES_DEFAULT (STATES_ALL & ~STATES_LISTENING)

/* An inet endpoint. Addresses are in network byte order. */
struct sock_endpoint {
	uint8_t addr[16];  /* IPv4 in the first 4 bytes, rest zero */
	uint16_t port;     /* host byte order; RAW: protocol number */
	uint32_t scope;    /* IPv6 scope id (interface), 0 if none */
};

/* TCP internals (-i), from INET_DIAG_INFO and INET_DIAG_CONG. */
struct sock_tcpinfo {
	uint32_t rtt_us;
	uint32_t rttvar_us;
	uint32_t snd_cwnd;
	uint32_t snd_ssthresh;   /* 0x7fffffff or more: infinite */
	uint32_t retransmits;    /* tcpi_retransmits (current) */
	uint32_t total_retrans;
	uint64_t bytes_sent;
	uint64_t bytes_acked;
	uint64_t bytes_received;
	uint64_t delivery_rate;  /* bytes per second */
	uint32_t snd_mss;
	uint32_t rcv_space;
	char cong[16];           /* congestion control name, "" if unknown */
};

/* Socket memory (-m), SK_MEMINFO_* order of linux/sock_diag.h. */
enum { SOCK_MEMINFO_VARS = 9 };
struct sock_meminfo {
	uint32_t v[SOCK_MEMINFO_VARS];
	uint8_t count; /* how many of v[] the kernel gave */
};

/* Timer kind (-o), as inet_diag's idiag_timer. */
enum sock_timer_kind {
	TIMER_OFF = 0,
	TIMER_ON = 1,        /* retransmit */
	TIMER_KEEPALIVE = 2,
	TIMER_TIMEWAIT = 3,
	TIMER_PROBE = 4,     /* zero window probe */
};

/*
 * A netlink socket's address (netlink_diag, /proc/net/netlink). The
 * portid is the kernel's u32; an autobound one prints negative, as ss
 * prints it. The destination is known from netlink_diag only.
 */
struct sock_netlink {
	uint32_t portid;
	uint32_t dst_portid;
	uint32_t dst_group;
	uint32_t groups;     /* the first 32 multicast groups, a bitmap */
	uint8_t protocol;    /* NETLINK_ROUTE, NETLINK_SOCK_DIAG, ... */
	bool connected;      /* NETLINK_CONNECTED: it has a destination */
};

struct owner;

struct sock {
	uint8_t proto;      /* enum proto */
	uint8_t family;     /* AF_INET, AF_INET6, AF_UNIX, AF_PACKET, AF_NETLINK */
	uint8_t state;      /* SS_* (kernel TCP_* numbering) */
	uint8_t type;       /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW */
	uint8_t timer;      /* enum sock_timer_kind; valid with has_timer */
	uint8_t retrans;    /* idiag_retrans */
	bool has_uid;
	bool has_timer;
	/*
	 * inet6 only: 1 when the socket takes IPv6 alone (IPV6_V6ONLY), 0 when
	 * a socket bound to :: takes IPv4 too (dual-stack). Filled from
	 * INET_DIAG_SKV6ONLY; where that is missing (the /proc/net source,
	 * and the TIME_WAIT and SYN_RECV sockets netlink describes without
	 * it) the system default, net.ipv6.bindv6only, stands in.
	 */
	bool v6only;
	uint32_t recv_q;
	uint32_t send_q;
	uint32_t uid;
	uint32_t ifindex;   /* bound interface (SO_BINDTODEVICE), packet iface */
	uint32_t mark;      /* SO_MARK (INET_DIAG_MARK, given to CAP_NET_ADMIN); else 0 */
	uint32_t expires_ms;
	uint64_t inode;
	uint64_t cookie;    /* 0 if unknown (the /proc/net source) */
	struct sock_endpoint local;
	struct sock_endpoint peer;

	/*
	 * UNIX: the name as the kernel holds it, path_len bytes, not
	 * NUL-terminated and possibly containing NUL. An abstract name starts
	 * with a NUL byte; path_len 0 means unnamed. NULL for other families.
	 */
	const char *path;
	uint32_t path_len;
	uint64_t peer_inode; /* UNIX peer; 0 if none */

	/* AF_NETLINK only; zero for other families. */
	struct sock_netlink nl;

	/* Optional details, NULL unless asked for and given by the kernel. */
	const struct sock_tcpinfo *info;
	const struct sock_meminfo *mem;

	/*
	 * The cgroup v2 id of an inet socket (INET_DIAG_CGROUP_ID: the inode
	 * of its cgroup's directory), 0 when the source does not say.
	 */
	uint64_t cgroup_id;
	/*
	 * And its path under the cgroup2 mount ("/system.slice/x.service"),
	 * set by the query engine when asked (--cgroup, the cgroup
	 * predicate); NULL when not asked, not known, or no id.
	 */
	const char *cgroup_path;

	/*
	 * The network namespace the socket was listed in, set by the query
	 * engine with --all-netns (netns_ino 0 and netns_name NULL otherwise);
	 * the name is the Netns column's, valid for the snapshot.
	 */
	uint64_t netns_ino;
	const char *netns_name;

	/* Filled by the owners stage; NULL when unknown or not scanned. */
	const struct owner *owners;
};

/*
 * The State column name for s: netstat's spelling, UNCONN for a
 * non-TCP socket in TCP_CLOSE. Never NULL ("UNKNOWN" for nonsense).
 */
const char *sock_state_name(const struct sock *s);

/*
 * The Proto column name for s: "tcp6", "u_str" (UNIX sockets by type, as
 * ss spells them), "?" for nonsense. Never NULL. JSON's "proto" is the
 * protocol's own name, proto_name(s->proto).
 */
const char *sock_proto_name(const struct sock *s);

/* "inet", "inet6", "unix", "packet" for the JSON "family" key. */
const char *sock_family_name(const struct sock *s);

/* The matching enum fam bit for s->family, 0 for anything else. */
unsigned sock_fam_bit(const struct sock *s);

/* Kernel TCP state name by number (netstat spelling), NULL if out of range. */
const char *state_name(unsigned state);

/*
 * A consumer of records. Sources call it once per socket with a record
 * that is valid only during the call; return 0 to go on or a negative
 * errno to stop the dump (the source returns that value).
 */
typedef int (*sock_sink_fn)(void *arg, const struct sock *s);

#endif
