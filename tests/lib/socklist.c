#include "socklist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void socklist_init(struct socklist *l)
{
	l->v = NULL;
	l->len = 0;
	l->cap = 0;
	arena_init(&l->arena);
}

void socklist_finish(struct socklist *l)
{
	if (!l)
		return;
	free(l->v);
	l->v = NULL;
	l->len = l->cap = 0;
	arena_finish(&l->arena);
}

int socklist_add(struct socklist *l, const struct sock *s)
{
	if (l->len == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 1024;
		struct sock *nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = ncap;
	}
	struct sock *d = &l->v[l->len];
	*d = *s;
	if (s->path) {
		char *p = arena_alloc(&l->arena, s->path_len ? s->path_len : 1);
		if (!p)
			return -ENOMEM;
		memcpy(p, s->path, s->path_len);
		d->path = p;
	}
	if (s->info) {
		struct sock_tcpinfo *i = arena_alloc(&l->arena, sizeof(*i));
		if (!i)
			return -ENOMEM;
		*i = *s->info;
		d->info = i;
	}
	if (s->mem) {
		struct sock_meminfo *m = arena_alloc(&l->arena, sizeof(*m));
		if (!m)
			return -ENOMEM;
		*m = *s->mem;
		d->mem = m;
	}
	l->len++;
	return 0;
}

int socklist_sink(void *arg, const struct sock *s)
{
	return socklist_add(arg, s);
}
