#ifndef TESTS_LIB_SOCKLIST_H
#define TESTS_LIB_SOCKLIST_H

#include <stddef.h>

#include "arena.h"
#include "sock.h"

/*
 * A growable list of sockets, for tests and fuzz targets that keep what a
 * sink was handed. Records and everything they point to are owned by the
 * list's arena and stay valid until socklist_finish. The program itself
 * never keeps records: it streams them.
 */
struct socklist {
	struct sock *v;
	size_t len;
	size_t cap;
	struct arena arena;
};

void socklist_init(struct socklist *l);
void socklist_finish(struct socklist *l); /* NULL-safe */

/*
 * Appends a deep copy of s (path, info and mem are copied into the list's
 * arena; owners is copied as a pointer). Returns 0 or -ENOMEM.
 */
int socklist_add(struct socklist *l, const struct sock *s);

/* A sock_sink_fn that appends to the socklist arg. */
int socklist_sink(void *arg, const struct sock *s);

#endif
