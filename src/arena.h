#ifndef SRC_ARENA_H
#define SRC_ARENA_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A bump allocator for data that lives until the whole arena is freed:
 * socket records, copied UNIX paths, formatted table cells. Allocation is a
 * pointer increment; nothing is freed one object at a time, so a dump of
 * hundreds of thousands of sockets costs a handful of malloc calls.
 */
struct arena {
	struct arena_block *head; /* newest block; owned */
	size_t block_size;        /* size of the next block to allocate */
	size_t total;             /* bytes handed out, for statistics */
	bool mapped;              /* blocks come from mmap (arena_init_mapped) */
};

/* Prepares an empty arena. Allocates nothing. */
void arena_init(struct arena *a);

/*
 * The same, but the blocks come from mmap instead of malloc: a thread
 * that allocates only from such arenas never makes the C library reserve
 * a malloc arena for it (64 MiB of address space per thread with glibc).
 */
void arena_init_mapped(struct arena *a);

/* Frees every block; the arena may be reused after arena_init. NULL-safe. */
void arena_finish(struct arena *a);

/*
 * Returns size bytes aligned for any object, owned by the arena, or NULL
 * when memory is exhausted. size 0 returns a valid unique pointer.
 */
void *arena_alloc(struct arena *a, size_t size);

/* Copies len bytes and appends a NUL; returns NULL on exhaustion. */
char *arena_strndup(struct arena *a, const char *s, size_t len);

#endif
