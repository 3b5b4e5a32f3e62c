#ifndef SRC_DIAG_H
#define SRC_DIAG_H

#include <stddef.h>
#include <stdint.h>

#include "sock.h"

struct nlmsghdr;

/*
 * sock_diag requests and replies: pure functions, bytes in and records
 * out, no I/O, so unit tests and fuzzers drive them directly.
 */

/* What to ask the kernel for. */
struct diag_request {
	enum proto proto;
	int family;            /* AF_INET, AF_INET6 (inet), ignored otherwise */
	uint32_t states;       /* idiag_states / udiag_states mask */
	bool want_info;        /* INET_DIAG_INFO + INET_DIAG_CONG (-i) */
	bool want_mem;         /* INET_DIAG_SKMEMINFO / UDIAG_SHOW_MEMINFO (-m) */
	const void *bytecode;  /* INET_DIAG_REQ_BYTECODE, NULL for none */
	size_t bytecode_len;
};

/*
 * Builds a SOCK_DIAG_BY_FAMILY dump request for r in buf. Returns its
 * length, or 0 if it does not fit in size.
 */
size_t diag_build_request(void *buf, size_t size, const struct diag_request *r, uint32_t seq);

/*
 * Storage for the parts of a record that do not point into the message,
 * and what diag_parse says about the message beyond the record.
 */
struct diag_scratch {
	struct sock_tcpinfo info;
	struct sock_meminfo mem;
	/*
	 * The message carried INET_DIAG_SKV6ONLY, so s->v6only is the
	 * socket's own; when false for an inet6 record (TIME_WAIT and
	 * SYN_RECV sockets come without it) the caller supplies the default.
	 */
	bool v6only_given;
};

/*
 * Parses one reply message for request proto into s (fully overwritten).
 * s->path points into nlh, s->info and s->mem into scratch; both must
 * outlive the use of s. Unknown attributes are ignored; attributes shorter
 * than their type needs are ignored. Returns 0, or -EINVAL when the
 * message is truncated or malformed (the caller skips it).
 */
int diag_parse(const struct nlmsghdr *nlh, enum proto proto, struct sock *s,
	       struct diag_scratch *scratch);

#endif
