#ifndef SRC_PROCNET_H
#define SRC_PROCNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sock.h"

/*
 * /proc/net parsers, the fallback source. Line parsers are pure: they take
 * one line (without the trailing newline, not NUL-terminated) and fill a
 * record the same way diag_parse does, so both sources give identical
 * rows where the file carries the data (/proc/net/unix has no uid, queues
 * or peer; those stay zero with has_uid false).
 */

/*
 * Parses a data line of a PROTO_PROC_INET file (the tcp, udp, udplite and
 * raw ones of the protocol table) for proto, a protocol of that layout.
 * family is AF_INET or AF_INET6 (which file it came from). v6only is left
 * false: the file does not say. Returns 0, or -EINVAL for a header,
 * malformed, truncated or oversized line (the caller skips it), or for a
 * proto that is not read this way.
 */
int procnet_parse_inet(const char *line, size_t len, enum proto proto, int family,
		       struct sock *s);

/*
 * Parses a data line of /proc/net/unix into a record of protocol proto
 * (the row that names this parser); s->path points into line. The
 * kernel prints an abstract name's leading NUL as '@', and line is const,
 * so here the path keeps that '@'; procnet_read, which owns its buffer,
 * turns it back into a NUL so its records match netlink's. Sockets with
 * inode 0 (embryos, orphans) parse, but procnet_read drops them, as
 * unix_diag does. A path containing a newline is cut there by the kernel's
 * format; the fragment that follows is not a valid line and is skipped.
 */
int procnet_parse_unix(const char *line, size_t len, enum proto proto, struct sock *s);

/*
 * Parses a data line of /proc/net/packet into a record of protocol
 * proto: local.port is the protocol
 * (host order), ifindex the bound interface, recv_q the Rmem column (what
 * ss shows from packet_diag's SK_MEMINFO_RMEM_ALLOC), state TCP_CLOSE.
 */
int procnet_parse_packet(const char *line, size_t len, enum proto proto, struct sock *s);

/*
 * Parses a data line of /proc/net/netlink into a record of protocol
 * proto: nl.protocol the netlink protocol (the Eth column), nl.portid,
 * nl.groups the first 32 groups, recv_q and send_q the Rmem and Wmem
 * columns (what ss shows from netlink_diag's memory counters), state
 * TCP_CLOSE. The file has no uid and no destination.
 */
int procnet_parse_netlink(const char *line, size_t len, enum proto proto, struct sock *s);

/*
 * A seam for record and replay. read, when set, stands in for reading a
 * file: it fills b with the text of name (relative to the proc root, as
 * "net/tcp") and returns 0, or a negative errno (-ENOENT: no such file).
 * saw, when set, is told the text of every file read, as read.
 */
struct buf;
struct procnet_tap {
	int (*read)(void *ctx, const char *name, struct buf *b);
	void (*saw)(void *ctx, const char *name, const char *text, size_t len);
	void *ctx;
};

/* What procnet_read reads. */
struct procnet_request {
	const char *proc_root;  /* "/proc" normally; tests use a fixture tree */
	enum proto proto;
	int family;             /* AF_UNSPEC: every file of proto */
	uint32_t states;        /* STATE_BIT mask */
	bool v6only;            /* what inet6 sockets get: see procnet_bindv6only */
	const struct procnet_tap *tap; /* NULL: the files themselves */
};

/*
 * Reads the /proc/net file(s) the protocol table names for r->proto and
 * r->family (AF_UNSPEC: all of them, where a missing one is not an error
 * while another exists) under r->proc_root, and calls sink for every
 * socket whose state is in r->states. Unparsable lines are skipped.
 * Returns 0, a negative errno if the file cannot be read, or the sink's
 * error.
 */
int procnet_read(const struct procnet_request *r, sock_sink_fn sink, void *arg);

/*
 * Reads net.ipv6.bindv6only (sys/net/ipv6/bindv6only under proc_root):
 * whether an inet6 socket takes IPv6 alone unless it says otherwise.
 * Returns 0 with *on set, a negative errno when the file cannot be read
 * (no IPv6), or -EINVAL when it holds anything but "0" or "1".
 */
int procnet_bindv6only(const char *proc_root, bool *on);

/*
 * Reads net.ipv4.ip_local_port_range (sys/net/ipv4/ip_local_port_range
 * under proc_root), the ports the kernel picks from for a socket that
 * names none (for both inet families). Returns 0 with *lo and *hi set, a
 * negative errno when the file cannot be read, or -EINVAL when it does
 * not hold two ports, the first no larger than the second.
 */
int procnet_local_ports(const char *proc_root, uint16_t *lo, uint16_t *hi);
/* procnet_bindv6only through tap (NULL: the file itself). */
int procnet_bindv6only_tap(const char *proc_root, const struct procnet_tap *tap, bool *on);

#endif
