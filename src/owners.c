#include "owners.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "owners_backend.h"

/*
 * The map from inode to its chain of holders: open addressing with linear
 * probing, at most half full, so a lookup touches one or two slots even
 * with hundreds of thousands of sockets. Inode 0 marks an empty slot; no
 * socket has inode 0.
 */
struct slot {
	uint64_t inode;
	struct owner *head;
	struct owner *tail; /* so appending in pid order is O(1) */
};

struct owner_map {
	struct slot *slots;
	size_t cap; /* a power of two, or 0 before the first insert */
	size_t count;
};

/*
 * The backends in the order "auto" tries them: the first whose start
 * does not answer -EOPNOTSUPP scans, and one whose finish answers it
 * (it found out late that it cannot run) hands over to the next.
 */
static const struct owners_backend *const backends[] = {
	&owners_bpf_backend,
	&owners_proc_backend,
};
enum { NBACKENDS = sizeof(backends) / sizeof(backends[0]) };

struct owners {
	struct owner_map map;
	struct arena arenas[OWNERS_ARENAS];
	struct owners_scan_opts opts;
	const struct owners_backend *want;  /* NULL: auto */
	const struct owners_backend *used;  /* the last scan's, or NULL */
	void *state;                        /* a started scan's, or NULL */
	bool denied;
	char why[OWNERS_WHY];               /* see owners_why; "" when none */
};

enum { FIRST_CAP = 1024 };

int owners_create(struct owners **out)
{
	struct owners *o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	for (int i = 0; i < OWNERS_ARENAS; i++)
		arena_init_mapped(&o->arenas[i]);
	*out = o;
	return 0;
}

void owners_destroy(struct owners *o)
{
	if (!o)
		return;
	/* A scan still running writes into the arenas: wait for it first. */
	if (o->state)
		owners_scan_finish(o);
	free(o->map.slots);
	for (int i = 0; i < OWNERS_ARENAS; i++)
		arena_finish(&o->arenas[i]);
	free(o);
}

static size_t hash(uint64_t inode, size_t cap)
{
	/* Fibonacci hashing spreads the dense inode numbers over the table. */
	return (size_t)((inode * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
}

static struct slot *probe(struct slot *slots, size_t cap, uint64_t inode)
{
	size_t i = hash(inode, cap);
	while (slots[i].inode != 0 && slots[i].inode != inode)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int grow(struct owner_map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : FIRST_CAP;
	if (ncap > SIZE_MAX / sizeof(struct slot))
		return -ENOMEM;
	struct slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].inode)
			*probe(ns, ncap, m->slots[i].inode) = m->slots[i];
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	return 0;
}

static bool before(const struct owner *a, const struct owner *b)
{
	return a->pid < b->pid || (a->pid == b->pid && a->fd < b->fd);
}

/*
 * Links w into the chain of s in (pid, fd) order. Backends add in that
 * order, so the common case appends at the tail; the walk from the head
 * only serves one that cannot (a BPF iterator visits tasks in its own
 * order).
 */
static bool same(const struct owner *a, const struct owner *b)
{
	return a->pid == b->pid && a->fd == b->fd;
}

static void link_sorted(struct slot *s, struct owner *w)
{
	w->next = NULL;
	if (same(w, s->tail))
		return;
	if (!before(w, s->tail)) {
		s->tail->next = w;
		s->tail = w;
		return;
	}
	if (before(w, s->head)) {
		w->next = s->head;
		s->head = w;
		return;
	}
	struct owner *p = s->head;
	while (p->next && !before(w, p->next))
		p = (struct owner *)p->next;
	if (same(w, p))
		return;
	w->next = p->next;
	p->next = w;
}

int owners_add(struct owners *o, uint64_t inode, struct owner *w)
{
	struct owner_map *m = &o->map;
	if (inode == 0)
		return -EINVAL;
	if ((m->count + 1) * 2 > m->cap) {
		int ret = grow(m);
		if (ret < 0)
			return ret;
	}
	struct slot *s = probe(m->slots, m->cap, inode);
	if (s->inode == 0) {
		w->next = NULL;
		s->inode = inode;
		s->head = s->tail = w;
		m->count++;
	} else {
		link_sorted(s, w);
	}
	return 0;
}

const struct owner *owners_lookup(const struct owners *o, uint64_t inode)
{
	if (!o || o->map.cap == 0 || inode == 0)
		return NULL;
	return probe(o->map.slots, o->map.cap, inode)->head;
}

struct arena *owners_arena(struct owners *o, int i)
{
	return i >= 0 && i < OWNERS_ARENAS ? &o->arenas[i] : NULL;
}

void owners_note_denied(struct owners *o)
{
	o->denied = true;
}

void owners_note_why(struct owners *o, const char *why)
{
	snprintf(o->why, sizeof(o->why), "%s", why);
}

const char *owners_why(const struct owners *o)
{
	return o && o->why[0] ? o->why : NULL;
}

bool owners_denied(const struct owners *o)
{
	return o && o->denied;
}

void owners_set_threads(struct owners *o, int n)
{
	o->opts.threads = n < 0 ? 0 : n > OWNERS_ARENAS ? OWNERS_ARENAS : n;
}

void owners_set_argv0(struct owners *o, bool on)
{
	o->opts.argv0 = on;
}

int owners_set_backend(struct owners *o, const char *name)
{
	if (strcmp(name, "auto") == 0) {
		o->want = NULL;
		return 0;
	}
	for (size_t i = 0; i < NBACKENDS; i++) {
		if (strcmp(backends[i]->name, name) == 0) {
			o->want = backends[i];
			return 0;
		}
	}
	return -ENOENT;
}

const char *owners_backend_name(const struct owners *o)
{
	return o->used ? o->used->name : NULL;
}

/* Starts the chosen backend, or under "auto" the first that can run. */
static int start(struct owners *o, const char *proc_root, bool inline_first)
{
	o->opts.proc_root = proc_root;
	o->opts.inline_first = inline_first;
	o->denied = false;
	o->used = NULL;
	o->why[0] = '\0';
	if (o->want) {
		int ret = o->want->start(o, &o->opts, &o->state);
		if (ret == 0)
			o->used = o->want;
		return ret;
	}
	int ret = -EOPNOTSUPP;
	for (size_t i = 0; i < NBACKENDS && ret == -EOPNOTSUPP; i++) {
		ret = backends[i]->start(o, &o->opts, &o->state);
		if (ret == 0)
			o->used = backends[i];
	}
	return ret;
}

int owners_scan_start(struct owners *o, const char *proc_root)
{
	if (o->state)
		return -EBUSY;
	return start(o, proc_root, false);
}

/*
 * Under "auto", the backends after the one whose finish found it cannot
 * run, each scanning at once (the dump it would have overlapped is over).
 */
static int fall_back(struct owners *o)
{
	size_t i = 0;
	while (i < NBACKENDS && backends[i] != o->used)
		i++;
	int ret = -EOPNOTSUPP;
	for (i++; i < NBACKENDS && ret == -EOPNOTSUPP; i++) {
		o->used = backends[i];
		o->opts.inline_first = true;
		ret = backends[i]->start(o, &o->opts, &o->state);
		if (ret == 0) {
			void *state = o->state;
			o->state = NULL;
			ret = backends[i]->finish(o, state);
		}
	}
	return ret;
}

int owners_scan_finish(struct owners *o)
{
	if (!o->used || !o->state)
		return -EINVAL;
	void *state = o->state;
	o->state = NULL;
	int ret = o->used->finish(o, state);
	if (ret == -EOPNOTSUPP && !o->want)
		ret = fall_back(o);
	return ret;
}

int owners_scan(struct owners *o, const char *proc_root)
{
	if (o->state)
		return -EBUSY;
	int ret = start(o, proc_root, true);
	return ret < 0 ? ret : owners_scan_finish(o);
}
