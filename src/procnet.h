#ifndef SRC_PROCNET_H
#define SRC_PROCNET_H

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
 * Parses a data line of /proc/net/{tcp,tcp6,udp,udp6,udplite,udplite6,
 * raw,raw6}. family is AF_INET or AF_INET6 (which file it came from).
 * Returns 0, or -EINVAL for a header, malformed, truncated or oversized
 * line (the caller skips it).
 */
int procnet_parse_inet(const char *line, size_t len, enum proto proto, int family,
		       struct sock *s);

/*
 * Parses a data line of /proc/net/unix; s->path points into line. The
 * kernel prints an abstract name's leading NUL as '@', and line is const,
 * so here the path keeps that '@'; procnet_read, which owns its buffer,
 * turns it back into a NUL so its records match netlink's. Sockets with
 * inode 0 (embryos, orphans) parse, but procnet_read drops them, as
 * unix_diag does. A path containing a newline is cut there by the kernel's
 * format; the fragment that follows is not a valid line and is skipped.
 */
int procnet_parse_unix(const char *line, size_t len, struct sock *s);

/*
 * Parses a data line of /proc/net/packet: local.port is the protocol
 * (host order), ifindex the bound interface, recv_q the Rmem column (what
 * ss shows from packet_diag's SK_MEMINFO_RMEM_ALLOC), state TCP_CLOSE.
 */
int procnet_parse_packet(const char *line, size_t len, struct sock *s);

/*
 * Reads the /proc/net file(s) for proto and family (AF_UNSPEC: both inet
 * files, where a missing one is not an error while the other exists)
 * under proc_root
 * ("/proc" normally; tests use a fixture tree) and calls sink for every
 * socket whose state is in states. Unparsable lines are skipped. Returns
 * 0, a negative errno if the file cannot be read, or the sink's error.
 */
int procnet_read(const char *proc_root, enum proto proto, int family, uint32_t states,
		 sock_sink_fn sink, void *arg);

#endif
