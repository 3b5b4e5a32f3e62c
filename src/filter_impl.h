#ifndef SRC_FILTER_IMPL_H
#define SRC_FILTER_IMPL_H

#include <stdbool.h>
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
	/* FN_UNIX: fnmatch pattern, abstract names spelled with a leading '@' */
	const char *pattern;
	/* FN_AND, FN_OR: a and b; FN_NOT: a */
	struct fnode *a;
	struct fnode *b;
};

struct filter {
	struct arena arena;   /* owns every node and string */
	struct fnode *root;   /* NULL: no predicate (only state clauses) */
	bool has_states;
	uint32_t states;
};

/* Evaluates one node over s (filter_match is this applied to the root). */
bool filter_node_match(const struct fnode *n, const struct sock *s);

#endif
