#ifndef SRC_FILTER_IMPL_H
#define SRC_FILTER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "filter.h"

/*
 * The parsed filter tree, shared by filter.c (parser, evaluator) and
 * bytecode.c (kernel push-down). Private to those two files and their test.
 */
enum fnode_kind {
	FN_AND,
	FN_OR,
	FN_NOT,
	/*
	 * An endpoint condition, as ss's hostcond: an optional address
	 * prefix and an optional exact port on one side. `src`, `dst`,
	 * `sport =` and `dport =` all become this.
	 */
	FN_HOST,
	/* An ordering comparison of one side's port (sport/dport < <= > >=). */
	FN_PORT,
	/* A glob over a UNIX socket name (`src unix:/run/x*`, `src @name*`). */
	FN_UNIX,
	/*
	 * Some holder of the socket (s->owners) satisfies a, an expression
	 * of the holder leaves below; a socket with no visible holder is
	 * judged once, with no holder. The kernel cannot decide it.
	 */
	FN_HOLDER,
	/* Holder leaves, only under FN_HOLDER: false with no holder. */
	FN_PID,   /* the holder's pid is value */
	FN_COMM,  /* the holder's command is pattern (see filter.c's comm_match) */
	/*
	 * The holder's uid is value; with no visible holder, the kernel's
	 * uid for the socket is, unless its inode is 0 (no file: the uid is
	 * a placeholder then).
	 */
	FN_UID,
	/*
	 * The socket's cgroup v2 path matches pattern (a glob); cgroup_id,
	 * when not 0, is the id of the one cgroup a literal pattern names,
	 * which the kernel can compare (INET_DIAG_BC_CGROUP_COND).
	 */
	FN_CGROUP,
	/*
	 * The device the socket is bound to (s->ifindex, the kernel's
	 * idiag_if) is value; 0 is no device.
	 */
	FN_DEV,
	/* The socket's mark (s->mark) and mask equal value. */
	FN_MARK,
	/*
	 * The local port is one the kernel chose (see filter.c's auto_match;
	 * the kernel's own test reads its bind lock instead).
	 */
	FN_AUTO,
};

enum fport_op { FOP_LT, FOP_LE, FOP_GT, FOP_GE };

/* Which endpoint a condition looks at. */
enum fside { FSIDE_LOCAL, FSIDE_PEER };

struct fnode {
	uint8_t kind;        /* enum fnode_kind */
	uint8_t side;        /* enum fside, for leaves */
	/* FN_HOST */
	uint8_t family;      /* AF_UNSPEC: any family; AF_INET; AF_INET6 */
	bool qualified;      /* written with inet:/inet6: (no v4-mapped match) */
	uint8_t prefix_len;  /* bits of addr that must match; 0: any address */
	uint8_t addr[16];    /* network order; IPv4 in the first 4 bytes */
	int32_t port;        /* FN_HOST: -1 for any; FN_PORT: the bound */
	/* FN_PORT */
	uint8_t op;          /* enum fport_op */
	/* FN_PID, FN_UID, FN_DEV, FN_MARK */
	uint32_t value;
	/* FN_MARK */
	uint32_t mask;
	/*
	 * FN_AUTO: port and value hold the lowest and highest port the
	 * kernel picks (0 to 65535 until filter_set_local_ports); the next
	 * FN_AUTO node of the filter.
	 */
	struct fnode *next_auto;
	/* FN_UNIX: fnmatch pattern, abstract names spelled with a leading '@'; FN_COMM: the name */
	const char *pattern;
	/* FN_CGROUP: the literal pattern's cgroup id, 0 when unknown or a glob */
	uint64_t cgroup_id;
	/* The order of creation, 0 to nnodes - 1: bytecode.c's per-node tables. */
	uint32_t id;
	/* FN_AND, FN_OR: a and b; FN_NOT: a */
	struct fnode *a;
	struct fnode *b;
};

struct filter {
	struct arena arena;   /* owns every node and string */
	struct fnode *root;   /* NULL: no predicate (only state clauses) */
	bool has_states;
	uint32_t states;
	uint32_t nnodes;      /* nodes created, the bound of fnode.id */
	bool needs_owners;    /* some node looks at the holders */
	bool needs_argv0;     /* some FN_COMM name is longer than the kernel's comm */
	bool needs_cgroup;    /* some node looks at the cgroup path */
	/*
	 * Every FN_AUTO node, chained through next_auto, for
	 * filter_set_local_ports.
	 */
	struct fnode *autos;
};

/* The longest command name the kernel keeps (TASK_COMM_LEN less the NUL). */
enum { FILTER_COMM_MAX = 15 };

/*
 * Evaluates one node over s (filter_match is this applied to the root).
 * Chains of and/or are walked iteratively along their left operand, the
 * side the parser grows, so the recursion depth is bounded by the
 * nesting of parentheses and `not`, not by the length of the filter.
 */
bool filter_node_match(const struct fnode *n, const struct sock *s);

/*
 * filter_bytecode, also adding to *visits (when not NULL) the number of
 * nodes the compiler examined: the tests hold it to linear work.
 */
int filter_bytecode_counted(const struct filter *f, int family, void *buf, size_t size,
			    size_t *visits);

#endif
