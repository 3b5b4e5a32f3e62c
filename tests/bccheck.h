#ifndef TESTS_BCCHECK_H
#define TESTS_BCCHECK_H

/*
 * An independent reading of how the kernel treats inet_diag bytecode
 * (net/ipv4/inet_diag.c: inet_diag_bc_audit, valid_cc, inet_diag_bc_run),
 * for tests and fuzz targets that check what filter_bytecode emits: the
 * kernel must accept it, and must pass every socket filter_match accepts.
 * Header-only, static functions: each user gets its own copy of nothing
 * but this one text.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/inet_diag.h>

#include "sock.h"

/* The kernel's default net.ipv4.ip_local_port_range. */
enum { BCCHECK_AUTO_LO = 32768, BCCHECK_AUTO_HI = 60999 };

/*
 * The bytes op (with left bytes from it to the end) needs for itself and
 * its operands, as the audit computes it; 0 for an opcode the kernel
 * refuses or operands that do not fit.
 */
static inline size_t bccheck_op_len(const uint8_t *op, size_t left)
{
	struct inet_diag_bc_op o;
	struct inet_diag_hostcond c;
	if (left < sizeof(o))
		return 0;
	memcpy(&o, op, sizeof(o));
	size_t need = sizeof(o);
	switch (o.code) {
	case INET_DIAG_BC_S_COND:
	case INET_DIAG_BC_D_COND: {
		if (left < sizeof(o) + sizeof(c))
			return 0;
		memcpy(&c, op + sizeof(o), sizeof(c));
		size_t alen = c.family == AF_UNSPEC ? 0 : c.family == AF_INET ? 4
			    : c.family == AF_INET6 ? 16 : SIZE_MAX;
		if (alen == SIZE_MAX || c.prefix_len > 8 * alen)
			return 0;
		need += sizeof(c) + alen;
		break;
	}
	case INET_DIAG_BC_S_GE:
	case INET_DIAG_BC_S_LE:
	case INET_DIAG_BC_D_GE:
	case INET_DIAG_BC_D_LE:
	case INET_DIAG_BC_S_EQ:
	case INET_DIAG_BC_D_EQ:
		need += sizeof(o);
		break;
	case INET_DIAG_BC_CGROUP_COND:
		need += sizeof(uint64_t);
		break;
	case INET_DIAG_BC_DEV_COND:
		need += sizeof(uint32_t);
		break;
	case INET_DIAG_BC_MARK_COND:
		need += sizeof(struct inet_diag_markcond);
		break;
	case INET_DIAG_BC_AUTO:
	case INET_DIAG_BC_JMP:
	case INET_DIAG_BC_NOP:
		break;
	default:
		return 0;
	}
	return need <= left ? need : 0;
}

/*
 * valid_cc: a jump target is given as the length that remains from it to
 * the end, and must be where an instruction starts (following yes steps
 * from the start).
 */
static inline bool bccheck_valid_target(const uint8_t *bc, size_t len, size_t cc)
{
	for (;;) {
		struct inet_diag_bc_op o;
		if (cc > len)
			return false;
		if (cc == len)
			return true;
		memcpy(&o, bc, sizeof(o));
		if (o.yes < 4 || o.yes & 3 || o.yes > len)
			return false;
		len -= o.yes;
		bc += o.yes;
	}
}

/* NULL when the kernel's audit accepts bc, else why it would refuse it. */
static inline const char *bccheck_audit(const uint8_t *prog, size_t total)
{
	if (total < 4 || total % 4)
		return "bytecode length is not a positive multiple of 4";
	const uint8_t *bc = prog;
	size_t len = total;
	while (len > 0) {
		struct inet_diag_bc_op o;
		size_t min = bccheck_op_len(bc, len);
		if (!min)
			return "an instruction with a bad opcode or truncated operands";
		memcpy(&o, bc, sizeof(o));
		if (o.code != INET_DIAG_BC_NOP) {
			if (o.no < min || o.no > len + 4 || o.no & 3)
				return "a no jump out of range";
			if (o.no < len && !bccheck_valid_target(prog, total, len - o.no))
				return "a no jump into the middle of an instruction";
		}
		if (o.yes < min || o.yes > len + 4 || o.yes & 3)
			return "a yes step out of range";
		if (o.yes > len)
			return "a yes step past the end";
		bc += o.yes;
		len -= o.yes;
	}
	return NULL;
}

/* bitstring_match: do the first bits of a and b agree? */
static inline bool bccheck_prefix(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;
	if (memcmp(a, b, bytes) != 0)
		return false;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return rest == 0 || (a[bytes] & mask) == (b[bytes] & mask);
}

/* inet_diag_bc_run over s: does the kernel pass it? bc must pass the audit. */
static inline bool bccheck_run(const uint8_t *bc, size_t total, const struct sock *s)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	long len = (long)total;
	while (len > 0) {
		struct inet_diag_bc_op o, arg = {0, 0, 0};
		memcpy(&o, bc, sizeof(o));
		/* The port ops carry their port in a second op's no field. */
		if (bccheck_op_len(bc, (size_t)len) == 2 * sizeof(o))
			memcpy(&arg, bc + sizeof(o), sizeof(arg));
		bool yes = true;
		switch (o.code) {
		case INET_DIAG_BC_JMP: yes = false; break;
		case INET_DIAG_BC_S_GE: yes = s->local.port >= arg.no; break;
		case INET_DIAG_BC_S_LE: yes = s->local.port <= arg.no; break;
		case INET_DIAG_BC_D_GE: yes = s->peer.port >= arg.no; break;
		case INET_DIAG_BC_D_LE: yes = s->peer.port <= arg.no; break;
		case INET_DIAG_BC_S_EQ: yes = s->local.port == arg.no; break;
		case INET_DIAG_BC_D_EQ: yes = s->peer.port == arg.no; break;
		case INET_DIAG_BC_AUTO:
			/*
			 * The kernel reads the bind lock, which a record does not
			 * hold: the fixed sockets chose their ports as a kernel
			 * with the default range would, so a port in it is one
			 * the kernel picked (callers set that range on the filter).
			 */
			yes = s->local.port >= BCCHECK_AUTO_LO && s->local.port <= BCCHECK_AUTO_HI;
			break;
		case INET_DIAG_BC_DEV_COND: {
			uint32_t ifindex;
			memcpy(&ifindex, bc + sizeof(o), sizeof(ifindex));
			yes = s->ifindex == ifindex;
			break;
		}
		case INET_DIAG_BC_MARK_COND: {
			struct inet_diag_markcond m;
			memcpy(&m, bc + sizeof(o), sizeof(m));
			yes = (s->mark & m.mask) == m.mark;
			break;
		}
		case INET_DIAG_BC_CGROUP_COND: {
			uint64_t id;
			memcpy(&id, bc + sizeof(o), sizeof(id));
			yes = s->cgroup_id == id;
			break;
		}
		case INET_DIAG_BC_S_COND:
		case INET_DIAG_BC_D_COND: {
			struct inet_diag_hostcond c;
			uint8_t caddr[16] = {0};
			memcpy(&c, bc + sizeof(o), sizeof(c));
			memcpy(caddr, bc + sizeof(o) + sizeof(c),
			       c.family == AF_INET6 ? 16 : c.family == AF_INET ? 4 : 0);
			const struct sock_endpoint *e =
				o.code == INET_DIAG_BC_S_COND ? &s->local : &s->peer;
			if (c.port != -1 && c.port != e->port)
				yes = false;
			else if (c.family != AF_UNSPEC && c.family != s->family)
				/* An IPv4 condition sees through a v4-mapped address. */
				yes = s->family == AF_INET6 && c.family == AF_INET &&
				      memcmp(e->addr, mapped, 12) == 0 &&
				      bccheck_prefix(e->addr + 12, caddr, c.prefix_len);
			else
				yes = c.prefix_len == 0 || bccheck_prefix(e->addr, caddr, c.prefix_len);
			break;
		}
		default: break; /* NOP */
		}
		int step = yes ? o.yes : o.no;
		len -= step;
		bc += step;
	}
	return len == 0;
}

#endif
