#ifndef SRC_FILTER_H
#define SRC_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sock.h"

struct names;

/*
 * The ss filter language (see CONTRACT.md "Filters" and sockstat(8)):
 * parsed once into a tree, evaluated in user space over struct sock, and
 * partly pushed down to the kernel (states; port and address predicates as
 * inet_diag bytecode). Parsing is pure: words in, tree or error out.
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
 * names resolves service names in ports (":ssh"); NULL allows numbers only.
 * Returns 0 and *out (NULL when the words hold no filter at all; destroy
 * with filter_destroy), or -EINVAL with err filled.
 */
int filter_parse(int nwords, const char *const *words, struct names *names,
		 struct filter **out, struct filter_error *err);
void filter_destroy(struct filter *f); /* NULL-safe */

/*
 * The state mask to ask for: the filter's own when it has state/exclude
 * clauses (they replace the option-derived default, as in ss), otherwise
 * base.
 */
uint32_t filter_states(const struct filter *f, uint32_t base);

/* Does s pass the expression (states excluded: those are pushed down)? */
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
