#ifndef SRC_FILTER_H
#define SRC_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sock.h"

struct names;

/*
 * The ss filter language (see sockstat(8), FILTERS):
 * parsed once into a tree, evaluated in user space over struct sock, and
 * partly pushed down to the kernel (states; port and address predicates as
 * inet_diag bytecode). Parsing is pure but for the name look-ups
 * filter_parse describes: words in, tree or error out.
 */
struct filter;

/* Where and why parsing failed. */
struct filter_error {
	int word;          /* index of the offending word in words[] */
	int offset;        /* byte offset inside that word */
	char text[64];     /* the offending token, NUL-terminated, may be cut */
	char msg[160];     /* a sentence for the user, without "sockstat: " */
};

/*
 * Parses nwords words (a filter may come as one quoted word or as many).
 * names resolves service names in ports (":ssh") and host names in
 * src/dst ("localhost", through getaddrinfo); NULL allows numbers only.
 * A `dev NAME` is looked up in the caller's network namespace, so the
 * caller enters the namespace to be listed first.
 * Returns 0 and *out (NULL when the words hold no filter at all; destroy
 * with filter_destroy), or -EINVAL with err filled.
 */
int filter_parse(int nwords, const char *const *words, struct names *names,
		 struct filter **out, struct filter_error *err);
void filter_destroy(struct filter *f); /* NULL-safe */

/*
 * How deeply parentheses and `not` may nest. Past it, filter_parse fails
 * with a message naming the limit, rather than recursing without bound.
 */
enum { FILTER_MAX_DEPTH = 256 };

/*
 * The convenience and process filters of the command line, as typed
 * values. The values of one list are or-ed; the lists, the states and the
 * FILTER are and-ed. Nothing here is owned by the filter: it copies what
 * it keeps.
 */
struct filter_options {
	const char *const *ports;     /* --port: a number or a service name */
	size_t nports;
	bool has_states;              /* --state given */
	uint32_t states;              /* the union of the --state masks */
	const int32_t *pids;          /* --pid */
	size_t npids;
	const char *const *commands;  /* --command */
	size_t ncommands;
	const uint32_t *uids;         /* --user, resolved */
	size_t nuids;
};

/*
 * Ands the clauses of o onto *f: a socket must then pass the old filter
 * and every clause. *f may be NULL (no FILTER): a filter is created when o
 * holds any clause. The states of o and those of the FILTER's own state
 * clauses are intersected; either alone replaces the base of
 * filter_states. The process clauses match as sockstat(8) "Process and
 * convenience filters" says: --pid, --command and --user hold for one
 * and the same holder. names resolves --port service names (NULL: numbers only).
 * Returns 0; -EINVAL with err->msg naming the option ("bad --port value
 * 'nosuch'"; err->word is -1); or -ENOMEM. On error *f selects what it did.
 */
int filter_add_options(struct filter **f, const struct filter_options *o, struct names *names,
		       struct filter_error *err);

/*
 * The state mask of a state name or group as `state` takes it
 * ("established", "TIME_WAIT", "connected"). Returns 0 and *mask, or
 * -EINVAL for a name that is none.
 */
int filter_state_mask(const char *name, uint32_t *mask);

/*
 * Does the filter look at a socket's holders? The caller must then scan
 * the owners and set s->owners before filter_match.
 */
bool filter_needs_owners(const struct filter *f);

/*
 * Must the owners scan read each process's argv[0] (struct owner.argv0)?
 * True when a --command name is longer than the kernel's 15-byte comm.
 */
bool filter_needs_argv0(const struct filter *f);

/*
 * Must each record carry its cgroup path (struct sock.cgroup_path)? True
 * when the filter has a `cgroup PATH` predicate.
 */
bool filter_needs_cgroup(const struct filter *f);

/*
 * Tells the filter the range the kernel picks local ports from
 * (net.ipv4.ip_local_port_range of the namespace being listed), which
 * `autobound` judges inet sockets by in user space, as ss does. Until it
 * is called every port counts. NULL-safe.
 */
void filter_set_local_ports(struct filter *f, uint16_t lo, uint16_t hi);

/* Does the filter use `autobound` (and so want filter_set_local_ports)? */
bool filter_needs_local_ports(const struct filter *f);

/*
 * The state mask to ask for: the filter's own when it has state/exclude
 * clauses (they replace the option-derived default, as in ss), otherwise
 * base.
 */
uint32_t filter_states(const struct filter *f, uint32_t base);

/*
 * Does s pass the expression (states excluded: those are pushed down)?
 * With filter_needs_owners, s->owners must be set (NULL: no visible
 * holder).
 */
bool filter_match(const struct filter *f, const struct sock *s);

/*
 * Compiles the part of the expression the kernel can evaluate for inet
 * sockets of family (AF_INET, AF_INET6) into inet_diag bytecode in buf.
 * The kernel result must be a superset of what filter_match accepts, so
 * user space still applies filter_match. Returns the bytecode length, 0
 * when nothing can usefully be pushed down, or -ENOSPC.
 */
int filter_bytecode(const struct filter *f, int family, void *buf, size_t size);

#endif
