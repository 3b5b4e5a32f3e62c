#include <errno.h>
#include <stdlib.h>
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

/* Bytes of code for a leaf the kernel can decide. */
static size_t leaf_size(const struct fnode *n, int family)
{
	int alen;
	switch (n->kind) {
	case FN_PORT:
		return 2 * sizeof(struct inet_diag_bc_op);
	case FN_DEV:
		return sizeof(struct inet_diag_bc_op) + sizeof(uint32_t);
	case FN_MARK:
		return sizeof(struct inet_diag_bc_op) + sizeof(struct inet_diag_markcond);
	case FN_AUTO:
		return sizeof(struct inet_diag_bc_op);
	case FN_CGROUP:
		return sizeof(struct inet_diag_bc_op) + sizeof(uint64_t);
	}
	cond_family(n, family, &alen);
	return sizeof(struct cond_op) + (size_t)alen;
}

/* Classifies a leaf; super asks for an over-approximation (else an under one). */
static enum klass leaf_class(const struct fnode *n, int family, bool super)
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
	case FN_CGROUP:
		/* The kernel compares one id: a literal path that names a cgroup. */
		if (n->cgroup_id)
			return K_CODE;
		break;
	case FN_DEV:
	case FN_MARK:
	case FN_AUTO:
		/*
		 * Pushed down as ss pushes them. The kernel reads the mark of
		 * TIME_WAIT and request sockets, which it does not report,
		 * and knows which ports were bound by hand, which user space
		 * only guesses: like ss, both judge, and a socket must pass
		 * both.
		 */
		return K_CODE;
	}
	/* The holders are not the kernel's to judge: approximate. */
	return super ? K_TRUE : K_FALSE;
}

/*
 * One compilation. Every node is reached once, with one sense (super or
 * not, from the number of `not`s above it), so its class and code size
 * are computed once, into tables indexed by node id, and the emitter
 * reads them: the work is linear in the size of the tree.
 */
struct compile {
	int family;
	uint8_t *klass;               /* enum klass, by node id */
	size_t *size;                 /* bytes of code of a K_CODE node, by id */
	const struct fnode **stack;   /* and/or chains being annotated */
	size_t top;
	size_t *visits;               /* counts nodes annotated, for the tests */
	unsigned char *buf;
};

static void annotate(struct compile *c, const struct fnode *n, bool super);

/* Class and size of an and/or node whose operands are annotated. */
static void combine(struct compile *c, const struct fnode *n)
{
	enum klass a = c->klass[n->a->id], b = c->klass[n->b->id];
	size_t sa = a == K_CODE ? c->size[n->a->id] : 0;
	size_t sb = b == K_CODE ? c->size[n->b->id] : 0;
	enum klass k;
	size_t size = sa + sb;
	if (n->kind == FN_AND) {
		k = a == K_FALSE || b == K_FALSE ? K_FALSE
		    : a == K_TRUE && b == K_TRUE ? K_TRUE : K_CODE;
	} else {
		k = a == K_TRUE || b == K_TRUE ? K_TRUE
		    : a == K_FALSE && b == K_FALSE ? K_FALSE : K_CODE;
		/* Both to run: a true a jumps over b. */
		if (a == K_CODE && b == K_CODE)
			size += sizeof(struct inet_diag_bc_op);
	}
	c->klass[n->id] = (uint8_t)k;
	c->size[n->id] = size;
}

/* A `not` or a leaf. */
static void annotate_unary(struct compile *c, const struct fnode *n, bool super)
{
	if (c->visits)
		++*c->visits;
	if (n->kind != FN_NOT) {
		enum klass k = leaf_class(n, c->family, super);
		c->klass[n->id] = (uint8_t)k;
		c->size[n->id] = k == K_CODE ? leaf_size(n, c->family) : 0;
		return;
	}
	annotate(c, n->a, !super);
	enum klass a = c->klass[n->a->id];
	c->klass[n->id] = (uint8_t)(a == K_TRUE ? K_FALSE : a == K_FALSE ? K_TRUE : K_CODE);
	c->size[n->id] = a == K_CODE ? c->size[n->a->id] + sizeof(struct inet_diag_bc_op) : 0;
}

/*
 * Annotates n's subtree. The parser grows and/or chains on their left
 * operand, so that spine is walked in a loop and kept on c->stack; only
 * right operands and `not` recurse, as deep as the filter nests.
 */
static void annotate(struct compile *c, const struct fnode *n, bool super)
{
	size_t base = c->top;
	while (n->kind == FN_AND || n->kind == FN_OR) {
		c->stack[c->top++] = n;
		n = n->a;
	}
	annotate_unary(c, n, super);
	while (c->top > base) {
		const struct fnode *m = c->stack[--c->top];
		if (c->visits)
			++*c->visits;
		annotate(c, m->b, super);
		combine(c, m);
	}
}

static void put_op(struct compile *c, size_t pos, unsigned code, size_t len, size_t fail)
{
	struct inet_diag_bc_op op = {
		.code = (unsigned char)code,
		.yes = (unsigned char)len,
		.no = (unsigned short)(fail - pos),
	};
	memcpy(c->buf + pos, &op, sizeof(op));
}

/* A device, mark or autobound op of len bytes at pos. */
static void gen_other(struct compile *c, const struct fnode *n, size_t pos, size_t len,
		      size_t fail)
{
	unsigned char *arg = c->buf + pos + sizeof(struct inet_diag_bc_op);
	if (n->kind == FN_DEV) {
		put_op(c, pos, INET_DIAG_BC_DEV_COND, len, fail);
		memcpy(arg, &n->value, sizeof(n->value));
	} else if (n->kind == FN_MARK) {
		put_op(c, pos, INET_DIAG_BC_MARK_COND, len, fail);
		struct inet_diag_markcond m = {.mark = n->value, .mask = n->mask};
		memcpy(arg, &m, sizeof(m));
	} else if (n->kind == FN_CGROUP) {
		put_op(c, pos, INET_DIAG_BC_CGROUP_COND, len, fail);
		memcpy(arg, &n->cgroup_id, sizeof(n->cgroup_id));
	} else {
		put_op(c, pos, INET_DIAG_BC_AUTO, len, fail);
	}
}

/* Writes a leaf's op at pos; a false result jumps to fail. */
static void gen_leaf(struct compile *c, const struct fnode *n, size_t pos, size_t fail)
{
	size_t len = leaf_size(n, c->family);
	bool local = n->side == FSIDE_LOCAL;
	if (n->kind == FN_HOST) {
		int alen;
		int cfam = cond_family(n, c->family, &alen);
		put_op(c, pos, local ? INET_DIAG_BC_S_COND : INET_DIAG_BC_D_COND, len, fail);
		/* Zeroed whole: the padding after prefix_len goes to the kernel too. */
		struct inet_diag_hostcond hc;
		memset(&hc, 0, sizeof(hc));
		hc.family = (unsigned char)cfam;
		hc.prefix_len = alen ? n->prefix_len : 0;
		hc.port = n->port;
		memcpy(c->buf + pos + sizeof(struct inet_diag_bc_op), &hc, sizeof(hc));
		memcpy(c->buf + pos + sizeof(struct cond_op), n->addr, (size_t)alen);
		return;
	}
	if (n->kind == FN_DEV || n->kind == FN_MARK || n->kind == FN_AUTO || n->kind == FN_CGROUP) {
		gen_other(c, n, pos, len, fail);
		return;
	}
	/* The kernel has only >= and <=: x < p is x <= p-1, x > p is x >= p+1. */
	unsigned code;
	int bound = n->port;
	switch (n->op) {
	case FOP_LT: bound--; /* fall through */
	case FOP_LE: code = local ? INET_DIAG_BC_S_LE : INET_DIAG_BC_D_LE; break;
	case FOP_GT: bound++; /* fall through */
	default: code = local ? INET_DIAG_BC_S_GE : INET_DIAG_BC_D_GE; break;
	}
	put_op(c, pos, code, len, fail);
	struct inet_diag_bc_op arg = {.no = (unsigned short)bound};
	memcpy(c->buf + pos + sizeof(struct inet_diag_bc_op), &arg, sizeof(arg));
}

/*
 * Writes the code of n (a K_CODE node) at pos; a false result jumps to
 * fail. Every position follows from the sizes, so the left spine is
 * walked in a loop, as in annotate.
 */
static void gen(struct compile *c, const struct fnode *n, size_t pos, size_t fail)
{
	for (;;) {
		enum klass a = K_TRUE, b = K_TRUE;
		if (n->kind == FN_AND || n->kind == FN_OR) {
			a = c->klass[n->a->id];
			b = c->klass[n->b->id];
		}
		switch (n->kind) {
		case FN_AND: {
			size_t mid = pos + (a == K_CODE ? c->size[n->a->id] : 0);
			if (b == K_CODE)
				gen(c, n->b, mid, fail);
			if (a != K_CODE)
				return;
			n = n->a;
			break;
		}
		case FN_OR: {
			if (a == K_FALSE || b == K_FALSE) {
				n = a == K_FALSE ? n->b : n->a;
				break;
			}
			/* a true: jump over b; a false: try b. */
			size_t jmp = pos + c->size[n->a->id];
			size_t bstart = jmp + sizeof(struct inet_diag_bc_op);
			size_t end = bstart + c->size[n->b->id];
			put_op(c, jmp, INET_DIAG_BC_JMP, sizeof(struct inet_diag_bc_op), end);
			gen(c, n->b, bstart, fail);
			n = n->a;
			fail = bstart;
			break;
		}
		case FN_NOT: {
			/* a true: reach the JMP and fail; a false: skip past it. */
			size_t jmp = pos + c->size[n->a->id];
			size_t end = jmp + sizeof(struct inet_diag_bc_op);
			put_op(c, jmp, INET_DIAG_BC_JMP, sizeof(struct inet_diag_bc_op), fail);
			n = n->a;
			fail = end;
			break;
		}
		default:
			gen_leaf(c, n, pos, fail);
			return;
		}
	}
}

int filter_bytecode_counted(const struct filter *f, int family, void *buf, size_t size,
			    size_t *visits)
{
	if (!f || !f->root || (family != AF_INET && family != AF_INET6))
		return 0;
	size_t n = f->nnodes;
	struct compile c = {
		.family = family,
		.klass = malloc(n),
		.size = malloc(n * sizeof(size_t)),
		.stack = malloc(n * sizeof(*c.stack)),
		.visits = visits,
		.buf = buf,
	};
	int rc = 0;
	/* Without memory nothing is pushed down: still a correct superset. */
	if (!c.klass || !c.size || !c.stack)
		goto out;
	annotate(&c, f->root, true);
	enum klass k = c.klass[f->root->id];
	size_t total = c.size[f->root->id];
	if (k == K_TRUE)
		goto out;
	if (k == K_FALSE) {
		/* One JMP past the end: the kernel rejects every socket. */
		total = sizeof(struct inet_diag_bc_op);
		rc = -ENOSPC;
		if (size >= total) {
			put_op(&c, 0, INET_DIAG_BC_JMP, total, 2 * total);
			rc = (int)total;
		}
		goto out;
	}
	/*
	 * A program whose jumps do not fit in 16 bits cannot be sent; asking
	 * the kernel for everything is still a correct superset.
	 */
	if (total + sizeof(struct inet_diag_bc_op) > MAX_JUMP)
		goto out;
	rc = -ENOSPC;
	if (total > size)
		goto out;
	gen(&c, f->root, 0, total + sizeof(struct inet_diag_bc_op));
	rc = (int)total;
out:
	free(c.klass);
	free(c.size);
	free(c.stack);
	return rc;
}

int filter_bytecode(const struct filter *f, int family, void *buf, size_t size)
{
	return filter_bytecode_counted(f, family, buf, size, NULL);
}
