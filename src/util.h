#ifndef SRC_UTIL_H
#define SRC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

/*
 * Small utilities every stage shares: one hash map, one number parser,
 * one number formatter, one whole-file reader. Nothing here prints or
 * exits.
 */

/*
 * A map from a 64-bit key to a pointer: open addressing with linear
 * probing, at most half full, so a lookup touches one or two slots even
 * with hundreds of thousands of keys. Every key but UINT64_MAX may be
 * stored. The struct is owned by its holder (zero-initialised, or
 * U64MAP_INIT; released by u64map_finish); the values are not owned.
 */
struct u64map {
	uint64_t *keys; /* key + 1; 0 marks an empty slot */
	void **vals;    /* NULL for a set */
	size_t cap;     /* a power of two, or 0 */
	size_t len;
	bool set;       /* keys only: no values, half the memory */
};

#define U64MAP_INIT {NULL, NULL, 0, 0, false}
/* A set of keys: the same map without values; every value slot is NULL. */
#define U64SET_INIT {NULL, NULL, 0, 0, true}

void u64map_finish(struct u64map *m); /* frees the slots; NULL-safe */

/* Forgets every key, keeping the memory for reuse. */
void u64map_clear(struct u64map *m);

/*
 * The value slot of key, or NULL when key is absent. The pointer is valid
 * until the next insertion. Not for sets: use u64map_has.
 */
void **u64map_get(const struct u64map *m, uint64_t key);

/*
 * Finds key or adds it with a NULL value; *slot is its value slot (valid
 * until the next insertion; NULL for a set) and *fresh says whether it
 * was added. Returns
 * 0, -ENOMEM, or -EINVAL for the key UINT64_MAX.
 */
int u64map_insert(struct u64map *m, uint64_t key, void ***slot, bool *fresh);

/* Whether key is in the map (or set). */
bool u64map_has(const struct u64map *m, uint64_t key);

/* A well-mixed 64-bit hash of x (a bijection, so distinct in, distinct out). */
uint64_t util_mix64(uint64_t x);

/*
 * Parses the len bytes at s as a whole unsigned decimal number no larger
 * than max: digits only, no sign, no spaces, no empty string. Returns
 * true and *out, or false and leaves *out alone.
 */
bool util_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out);

/* util_parse_u64 over a NUL-terminated string. */
bool util_parse_u64z(const char *s, uint64_t max, uint64_t *out);

/*
 * As util_parse_u64z, but "0x" or "0X" followed by hex digits is read as
 * hexadecimal too (marks are usually written that way).
 */
bool util_parse_x64z(const char *s, uint64_t max, uint64_t *out);

/* The most bytes util_fmt_u64 writes, the terminating NUL included. */
enum { UTIL_U64_DIGITS = 21 };

/*
 * Writes v in decimal into buf (UTIL_U64_DIGITS bytes at least), NUL
 * terminated. Returns the number of digits.
 */
size_t util_fmt_u64(char *buf, uint64_t v);

/*
 * Appends the whole file at path (relative to dirfd, or AT_FDCWD) to b,
 * however large /proc says it is not; at most max bytes (-EFBIG past
 * that). The file is opened non-blocking, so a FIFO cannot hang the
 * caller, and must be a regular file (-EINVAL otherwise; /proc files
 * are). Returns 0 or a negative errno; on error b holds what was read.
 */
int util_read_file(int dirfd, const char *path, size_t max, struct buf *b);

#endif
