/* For MAP_ANONYMOUS, beyond POSIX. */
#define _GNU_SOURCE
#include "arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct arena_block {
	struct arena_block *next;
	size_t size;
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

enum { ARENA_FIRST_BLOCK = 64 * 1024, ARENA_MAX_BLOCK = 8 * 1024 * 1024 };

void arena_init(struct arena *a)
{
	a->head = NULL;
	a->block_size = ARENA_FIRST_BLOCK;
	a->total = 0;
	a->mapped = false;
}

void arena_init_mapped(struct arena *a)
{
	arena_init(a);
	a->mapped = true;
}

static struct arena_block *block_new(const struct arena *a, size_t size)
{
	if (size > SIZE_MAX - sizeof(struct arena_block))
		return NULL;
	size_t len = sizeof(struct arena_block) + size;
	if (!a->mapped)
		return malloc(len);
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void block_free(const struct arena *a, struct arena_block *b)
{
	if (a->mapped)
		munmap(b, sizeof(*b) + b->size);
	else
		free(b);
}

void arena_finish(struct arena *a)
{
	if (!a)
		return;
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *next = b->next;
		block_free(a, b);
		b = next;
	}
	a->head = NULL;
}

void *arena_alloc(struct arena *a, size_t size)
{
	const size_t align = alignof(max_align_t);
	size_t need = (size + align - 1) & ~(align - 1);
	if (need == 0)
		need = align;
	if (need < size)
		return NULL;
	struct arena_block *b = a->head;
	if (!b || b->size - b->used < need) {
		size_t bsize = a->block_size;
		while (bsize < need) {
			if (bsize > SIZE_MAX / 2)
				return NULL;
			bsize *= 2;
		}
		if (a->block_size < ARENA_MAX_BLOCK)
			a->block_size *= 2;
		b = block_new(a, bsize);
		if (!b)
			return NULL;
		b->size = bsize;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += need;
	a->total += need;
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);
	if (!p)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}
