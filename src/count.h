#ifndef SRC_COUNT_H
#define SRC_COUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sock.h"

struct names;

/*
 * The counting engine behind --count-by, --top and the metrics formats:
 * sockets go in one at a time and only their group survives, so memory
 * grows with the number of distinct key combinations, never with the
 * number of sockets. Each group keeps a compact binary key (names are
 * interned once), the number of sockets and the sums of their Recv-Q and
 * Send-Q (the metrics' listen queues).
 *
 * Life cycle: count_create, then count_add per socket (and, for the
 * direction and port keys, count_add_listener and count_listeners_done
 * first: see there), then count_finish, then the rows are read with
 * count_cell or printed with count_render. count_destroy frees all.
 */

/* The keys, in the order the contract lists them. */
enum count_key {
	COUNT_PROTO,
	COUNT_FAMILY,
	COUNT_STATE,
	COUNT_LOCAL_ADDR,
	COUNT_LOCAL_PORT,
	COUNT_PEER_ADDR,
	COUNT_PEER_PORT,
	COUNT_PEER_NET,
	COUNT_DIRECTION,
	COUNT_PORT,
	COUNT_PROCESS,
	COUNT_USER,
	COUNT_NETNS,
	COUNT_CGROUP,
	COUNT_KEY_COUNT
};

/* The most keys one engine groups by (each key may be given once). */
enum { COUNT_MAX_KEYS = COUNT_KEY_COUNT };

/* The key's name as the user types it ("local-port"); NULL if out of range. */
const char *count_key_name(enum count_key k);

/*
 * Parses a --count-by list ("proto,state"): names as count_key_name gives,
 * separated by commas, each at most once. On success stores the keys in
 * keys[] (room for COUNT_MAX_KEYS), their number in *nkeys and returns 0.
 * On failure returns -EINVAL and points *bad and *badlen at the offending word
 * inside list (an unknown or repeated name, or an empty word) so that the
 * caller can print "bad --count-by key 'foo'".
 */
int count_parse_keys(const char *list, enum count_key *keys, size_t *nkeys,
		     const char **bad, size_t *badlen);

/*
 * Interned names (process, user, netns) normally keep their raw bytes.
 * COUNT_UTF8_NAMES replaces, before interning, every byte that is not
 * valid UTF-8, every C0 control, DEL and every C1 control by U+FFFD: the
 * metrics formats need that, and interning after the replacement merges
 * names that would print alike, so no two series share a label set.
 */
enum { COUNT_UTF8_NAMES = 1u << 0 };

struct buf;

/*
 * Appends s (len bytes) to out with what COUNT_UTF8_NAMES replaces
 * replaced by U+FFFD (newline is kept: the metrics formats escape it).
 */
void count_utf8_clean(struct buf *out, const char *s, size_t len);

struct count;

/*
 * Creates an engine grouping by keys[0..nkeys) (1 to COUNT_MAX_KEYS keys,
 * no repeats). names (not owned, may be NULL: users then print as
 * numbers) answers user names. flags is 0 or COUNT_UTF8_NAMES. Returns 0,
 * -EINVAL for a bad key list, or -ENOMEM.
 */
int count_create(struct count **out, const enum count_key *keys, size_t nkeys,
		 struct names *names, unsigned flags);
void count_destroy(struct count *c); /* NULL-safe */

/*
 * Sets the network namespace name the netns key takes for the sockets
 * added from now on (NULL or "": "-"), and the namespace the listener set
 * of the direction key is kept per. The string is copied. A record's
 * own netns_name (--all-netns) wins over it; the cgroup key is the
 * record's cgroup_id. Returns 0 or -ENOMEM.
 */
int count_set_netns(struct count *c, const char *name);

/*
 * True when the keys need to know which local ports are listened on
 * (direction, port). The caller should then feed every listening socket
 * (TCP LISTEN and unconnected UDP/UDP-Lite, whatever the filter says)
 * through count_add_listener and call count_listeners_done before the
 * first count_add: that is the cheap first pass (a dump of listeners
 * only) that keeps memory bounded by the groups. Without it the engine is
 * still exact but must keep each connection's local and peer port until
 * count_finish, so its groups grow with the distinct port pairs.
 */
bool count_needs_listeners(const struct count *c);

/* Notes s's port as listened on if s is a listener; does not count s. */
int count_add_listener(struct count *c, const struct sock *s);

/* Declares the listener set complete (see count_needs_listeners). */
void count_listeners_done(struct count *c);

/*
 * Counts s (valid only during the call; nothing of it is kept but its
 * key). Listeners counted here join the listener set too. Returns 0 or
 * -ENOMEM; the engine is unusable after an error except for destroy.
 */
int count_add(struct count *c, const struct sock *s);

/*
 * Groups pending connections, sorts the groups (most sockets first, ties
 * in key order: ports, addresses and cgroup ids numerically, names as
 * text, "-" first) and, when top is not 0 and there are more groups, keeps
 * the top largest and sums the rest into one last row whose keys are all
 * "(other)". Call once, after the last count_add. Returns 0 or -ENOMEM.
 */
int count_finish(struct count *c, size_t top);

/*
 * After count_finish (with top 0): keeps the top values of key k (by the
 * number of sockets having them, ties by value order) and replaces every
 * other value of k by "(other)", merging the groups that become equal;
 * the rows are then sorted again. The metrics use it to bound the port
 * label. Returns 0, -EINVAL if k is not one of the keys, or -ENOMEM.
 */
int count_fold(struct count *c, enum count_key k, size_t top);

/* The number of rows after count_finish (the "(other)" row included). */
size_t count_rows(const struct count *c);

/* The keys the engine groups by, in order; *nkeys gets their number. */
const enum count_key *count_keys(const struct count *c, size_t *nkeys);

/* Row i's number of sockets, and the sums of their Recv-Q and Send-Q. */
uint64_t count_row_n(const struct count *c, size_t i);
void count_row_queues(const struct count *c, size_t i, uint64_t *recv_q, uint64_t *send_q);

/* What a cell holds. */
enum count_cell_kind {
	COUNT_CELL_NONE,   /* the socket has no such key: prints "-" */
	COUNT_CELL_VALUE,
	COUNT_CELL_OTHER,  /* the --top or count_fold remainder: "(other)" */
};

/*
 * One cell: text (len bytes, raw: a process name may hold any byte, so
 * escape it for the output) and, for ports and cgroup ids, the number.
 * text points into the engine or into scratch; valid until the next call
 * with the same cell or count_destroy.
 */
struct count_cell {
	enum count_cell_kind kind;
	bool numeric;     /* num holds the value (ports, cgroup) */
	uint64_t num;
	const char *text;
	size_t len;
	char scratch[64];
};

/* Fills cell with row i's value of its k-th key (0 <= k < nkeys). */
void count_cell(const struct count *c, size_t i, size_t k, struct count_cell *cell);

struct count_render_opts {
	bool json;   /* JSON array instead of a table */
	bool header; /* table: print the header line (-H clears it) */
};

/*
 * Prints the rows after count_finish to f: an aligned table (one column
 * per key, then Count; names escaped as in the socket table; no trailing
 * spaces) or a JSON array of objects (key names with "-" as "_", ports
 * and cgroup ids as numbers, "-" and "(other)" as strings, then
 * "count"). Returns 0 or a negative errno (-EPIPE when the reader went
 * away, -ENOMEM).
 */
int count_render(const struct count *c, FILE *f, const struct count_render_opts *o);

#endif
