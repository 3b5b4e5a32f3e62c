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

/* Parses a data line of /proc/net/unix; s->path points into line. */
int procnet_parse_unix(const char *line, size_t len, struct sock *s);

/* Parses a data line of /proc/net/packet. */
int procnet_parse_packet(const char *line, size_t len, struct sock *s);

/*
 * Reads the /proc/net file(s) for proto and family under proc_root
 * ("/proc" normally; tests use a fixture tree) and calls sink for every
 * socket whose state is in states. Unparsable lines are skipped. Returns
 * 0, a negative errno if the file cannot be read, or the sink's error.
 */
int procnet_read(const char *proc_root, enum proto proto, int family, uint32_t states,
		 sock_sink_fn sink, void *arg);

#endif
