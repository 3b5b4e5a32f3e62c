#include "owners.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "owners_backend.h"
#include "util.h"

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
	struct u64map map;                  /* inode -> head of its chain */
	struct arena arenas[OWNERS_ARENAS];
	struct owners_scan_opts opts;
	const struct owners_backend *want;  /* NULL: auto */
	const struct owners_backend *used;  /* the last scan's, or NULL */
	void *state;                        /* a started scan's, or NULL */
	bool denied;
	char why[OWNERS_WHY];               /* see owners_why; "" when none */
};

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
	u64map_finish(&o->map);
	for (int i = 0; i < OWNERS_ARENAS; i++)
		arena_finish(&o->arenas[i]);
	free(o);
}

static bool before(const struct owner *a, const struct owner *b)
{
	return a->pid < b->pid || (a->pid == b->pid && a->fd < b->fd);
}

/*
 * Links w into the chain at *head in (pid, fd) order. Backends add in
 * that order, so the walk ends at the tail; a socket has a few holders
 * (a prefork server's listener a few hundred), so the walk is short.
 * An exact repeat of a holder already there is left out.
 */
static void link_sorted(struct owner **head, struct owner *w)
{
	if (before(w, *head)) {
		w->next = *head;
		*head = w;
		return;
	}
	struct owner *p = *head;
	while (p->next && !before(w, p->next))
		p = (struct owner *)p->next;
	if (p->pid == w->pid && p->fd == w->fd)
		return;
	w->next = p->next;
	p->next = w;
}

int owners_add(struct owners *o, uint64_t inode, struct owner *w)
{
	if (inode == 0)
		return -EINVAL;
	void **slot;
	bool fresh;
	int ret = u64map_insert(&o->map, inode, &slot, &fresh);
	if (ret < 0)
		return ret;
	w->next = NULL;
	struct owner *head = w;
	if (!fresh) {
		head = *slot;
		link_sorted(&head, w);
	}
	*slot = head;
	return 0;
}

const struct owner *owners_lookup(const struct owners *o, uint64_t inode)
{
	if (!o || inode == 0)
		return NULL;
	void **slot = u64map_get(&o->map, inode);
	return slot ? *slot : NULL;
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
