#include <errno.h>
#include <linux/inet_diag.h>
#include <string.h>
#include <sys/socket.h>

#include "filter.h"
#include "filter_impl.h"

/*
 * Compiling the filter tree to inet_diag bytecode.
 *
 * The kernel runs the program op by op (inet_diag_bc_run): a condition
 * that holds falls through to the next op (`yes` is always the op's own
 * length), one that fails jumps `no` bytes forward; JMP always jumps. The
 * socket is accepted when execution ends exactly at the end of the
 * program, rejected when it jumps past it. The kernel's audit demands
 * that every jump lands on an op boundary, the end, or 4 bytes past it.
 *
 * So every node is compiled as "fall through when true, jump to `fail`
 * when false". Sizes are computed first, so every target is known when an
 * op is written and no patching is needed. A node the kernel cannot
 * decide becomes a constant that keeps the kernel's answer a superset of
 * filter_match: true where it counts positively, false under an odd
 * number of `not`s. Constants are folded away, never emitted.
 */

enum klass { K_TRUE, K_FALSE, K_CODE };

/* Room the no field leaves for a jump. */
enum { MAX_JUMP = 0xffff };

struct cond_op {
	struct inet_diag_bc_op op;
	struct inet_diag_hostcond cond;
};

/* Family a host condition is sent with, and its address length. */
static int cond_family(const struct fnode *n, int family, int *alen)
{
	if (n->family == AF_UNSPEC || n->prefix_len == 0) {
		/*
		 * No address to compare: with the family the request already
		 * has (or an unqualified IPv4 wildcard, which still needs the
		 * mapped check), no family is needed.
		 */
		if (n->family == AF_INET && family == AF_INET6) {
			*alen = 4;
			return AF_INET;
		}
		*alen = 0;
		return AF_UNSPEC;
	}
	*alen = n->family == AF_INET ? 4 : 16;
	return n->family;
}

static enum klass leaf_class(const struct fnode *n, int family)
{
	switch (n->kind) {
	case FN_HOST:
		if (n->family != AF_UNSPEC && n->family != family) {
			/* Only an unqualified IPv4 condition can match v4-mapped. */
			if (!(n->family == AF_INET && family == AF_INET6 && !n->qualified))
				return K_FALSE;
			return K_CODE;
		}
		if (n->port == -1 && (n->family == AF_UNSPEC || n->prefix_len == 0))
			return K_TRUE;
		return K_CODE;
	case FN_PORT:
		if ((n->op == FOP_LT && n->port <= 0) || (n->op == FOP_GT && n->port >= 65535))
			return K_FALSE;
		if ((n->op == FOP_LE && n->port >= 65535) || (n->op == FOP_GE && n->port <= 0))
			return K_TRUE;
		return K_CODE;
	case FN_UNIX:
		/* Never true for an inet socket: exact, not an approximation. */
		return K_FALSE;
	}
	return K_TRUE;
}

/* Classifies n; super asks for an over-approximation (else an under one). */
static enum klass classify(const struct fnode *n, int family, bool super)
{
	enum klass a, b;
	switch (n->kind) {
	case FN_AND:
		a = classify(n->a, family, super);
		b = classify(n->b, family, super);
		if (a == K_FALSE || b == K_FALSE)
			return K_FALSE;
		return a == K_TRUE && b == K_TRUE ? K_TRUE : K_CODE;
	case FN_OR:
		a = classify(n->a, family, super);
		b = classify(n->b, family, super);
		if (a == K_TRUE || b == K_TRUE)
			return K_TRUE;
		return a == K_FALSE && b == K_FALSE ? K_FALSE : K_CODE;
	case FN_NOT:
		a = classify(n->a, family, !super);
		return a == K_TRUE ? K_FALSE : a == K_FALSE ? K_TRUE : K_CODE;
	default:
		return leaf_class(n, family);
	}
}

/* Bytes of code for n, which classify() found to be K_CODE. */
static size_t code_size(const struct fnode *n, int family, bool super)
{
	int alen;
	switch (n->kind) {
	case FN_AND: {
		size_t s = 0;
		if (classify(n->a, family, super) == K_CODE)
			s += code_size(n->a, family, super);
		if (classify(n->b, family, super) == K_CODE)
			s += code_size(n->b, family, super);
		return s;
	}
	case FN_OR: {
		enum klass a = classify(n->a, family, super);
		enum klass b = classify(n->b, family, super);
		if (a == K_FALSE)
			return code_size(n->b, family, super);
		if (b == K_FALSE)
			return code_size(n->a, family, super);
		return code_size(n->a, family, super) + sizeof(struct inet_diag_bc_op) +
		       code_size(n->b, family, super);
	}
	case FN_NOT:
		return code_size(n->a, family, !super) + sizeof(struct inet_diag_bc_op);
	case FN_HOST:
		cond_family(n, family, &alen);
		return sizeof(struct cond_op) + (size_t)alen;
	case FN_PORT:
		return 2 * sizeof(struct inet_diag_bc_op);
	}
	return 0;
}

struct emit {
	unsigned char *buf;
	int family;
};

static void put_op(struct emit *e, size_t pos, unsigned code, size_t len, size_t fail)
{
	struct inet_diag_bc_op op = {
		.code = (unsigned char)code,
		.yes = (unsigned char)len,
		.no = (unsigned short)(fail - pos),
	};
	memcpy(e->buf + pos, &op, sizeof(op));
}

/* Writes n's code at pos; a false result jumps to fail. Returns the end. */
static size_t gen(struct emit *e, const struct fnode *n, bool super, size_t pos, size_t fail)
{
	const int fam = e->family;
	switch (n->kind) {
	case FN_AND:
		if (classify(n->a, fam, super) == K_CODE)
			pos = gen(e, n->a, super, pos, fail);
		if (classify(n->b, fam, super) == K_CODE)
			pos = gen(e, n->b, super, pos, fail);
		return pos;
	case FN_OR: {
		enum klass a = classify(n->a, fam, super);
		enum klass b = classify(n->b, fam, super);
		if (a == K_FALSE)
			return gen(e, n->b, super, pos, fail);
		if (b == K_FALSE)
			return gen(e, n->a, super, pos, fail);
		/* a true: jump over b; a false: try b. */
		size_t jmp = pos + code_size(n->a, fam, super);
		size_t bstart = jmp + sizeof(struct inet_diag_bc_op);
		size_t end = bstart + code_size(n->b, fam, super);
		gen(e, n->a, super, pos, bstart);
		put_op(e, jmp, INET_DIAG_BC_JMP, sizeof(struct inet_diag_bc_op), end);
		return gen(e, n->b, super, bstart, fail);
	}
	case FN_NOT: {
		/* a true: reach the JMP and fail; a false: skip past it. */
		size_t jmp = pos + code_size(n->a, fam, !super);
		size_t end = jmp + sizeof(struct inet_diag_bc_op);
		gen(e, n->a, !super, pos, end);
		put_op(e, jmp, INET_DIAG_BC_JMP, sizeof(struct inet_diag_bc_op), fail);
		return end;
	}
	case FN_HOST: {
		int alen;
		int cfam = cond_family(n, fam, &alen);
		size_t len = sizeof(struct cond_op) + (size_t)alen;
		unsigned code = n->side == FSIDE_LOCAL ? INET_DIAG_BC_S_COND : INET_DIAG_BC_D_COND;
		put_op(e, pos, code, len, fail);
		struct inet_diag_hostcond c = {
			.family = (unsigned char)cfam,
			.prefix_len = alen ? n->prefix_len : 0,
			.port = n->port,
		};
		memcpy(e->buf + pos + sizeof(struct inet_diag_bc_op), &c, sizeof(c));
		memcpy(e->buf + pos + sizeof(struct cond_op), n->addr, (size_t)alen);
		return pos + len;
	}
	case FN_PORT: {
		/* The kernel has only >= and <=: x < p is x <= p-1, x > p is x >= p+1. */
		bool local = n->side == FSIDE_LOCAL;
		unsigned code;
		int bound = n->port;
		switch (n->op) {
		case FOP_LT: bound--; /* fall through */
		case FOP_LE: code = local ? INET_DIAG_BC_S_LE : INET_DIAG_BC_D_LE; break;
		case FOP_GT: bound++; /* fall through */
		default: code = local ? INET_DIAG_BC_S_GE : INET_DIAG_BC_D_GE; break;
		}
		size_t len = 2 * sizeof(struct inet_diag_bc_op);
		put_op(e, pos, code, len, fail);
		struct inet_diag_bc_op arg = {.no = (unsigned short)bound};
		memcpy(e->buf + pos + sizeof(struct inet_diag_bc_op), &arg, sizeof(arg));
		return pos + len;
	}
	}
	return pos;
}

int filter_bytecode(const struct filter *f, int family, void *buf, size_t size)
{
	if (!f || !f->root || (family != AF_INET && family != AF_INET6))
		return 0;
	enum klass k = classify(f->root, family, true);
	if (k == K_TRUE)
		return 0;
	if (k == K_FALSE) {
		/* One JMP past the end: the kernel rejects every socket. */
		if (size < sizeof(struct inet_diag_bc_op))
			return -ENOSPC;
		struct emit e = {buf, family};
		put_op(&e, 0, INET_DIAG_BC_JMP, sizeof(struct inet_diag_bc_op),
		       2 * sizeof(struct inet_diag_bc_op));
		return (int)sizeof(struct inet_diag_bc_op);
	}
	size_t total = code_size(f->root, family, true);
	/*
	 * A program whose jumps do not fit in 16 bits cannot be sent; asking
	 * the kernel for everything is still a correct superset.
	 */
	if (total + sizeof(struct inet_diag_bc_op) > MAX_JUMP)
		return 0;
	if (total > size)
		return -ENOSPC;
	struct emit e = {buf, family};
	gen(&e, f->root, true, 0, total + sizeof(struct inet_diag_bc_op));
	return (int)total;
}
