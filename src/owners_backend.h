#ifndef SRC_OWNERS_BACKEND_H
#define SRC_OWNERS_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "owners.h"

struct arena;

/*
 * How a source of socket holders plugs into the owners map. The map
 * (owners.c) knows nothing of /proc; a backend finds (inode, holder)
 * pairs and hands them to owners_add. Today's only backend walks
 * /proc/<pid>/fd (owners_proc.c); one reading a BPF task_file iterator
 * can sit beside it with the same two entry points.
 */

/* What the caller asked of a scan, passed to the backend as is. */
struct owners_scan_opts {
	const char *proc_root; /* "/proc", or a fixture tree */
	int threads;           /* 0: the backend picks; else at most this many */
	bool argv0;            /* also fill struct owner.argv0 */
	bool inline_first;     /* the caller waits at once: use its thread too */
};

struct owners_backend {
	const char *name;
	/*
	 * Starts a scan. On success *state (the backend's own, freed by
	 * finish) is set and 0 returned. -EOPNOTSUPP means this backend
	 * cannot run here (the "auto" choice then tries the next one);
	 * any other negative errno is a failure of the scan itself.
	 */
	int (*start)(struct owners *o, const struct owners_scan_opts *opts, void **state);
	/*
	 * Waits for the scan, adds every holder with owners_add, frees the
	 * state and returns 0 or a negative errno.
	 */
	int (*finish)(struct owners *o, void *state);
};

extern const struct owners_backend owners_proc_backend;
/* The BPF task_file iterator (owners_bpf.h); declines where it cannot load. */
extern const struct owners_backend owners_bpf_backend;

/* How many arenas the map keeps for a backend's threads (one each). */
enum { OWNERS_ARENAS = 4 };

/*
 * Arena i (< OWNERS_ARENAS) of o, for holders and their strings, which
 * must live as long as the map. Its blocks come from mmap, not malloc,
 * so a backend's threads may allocate from it without making the C
 * library reserve a malloc arena (64 MiB of address space) per thread.
 * Each arena may be used by one thread at a time.
 */
struct arena *owners_arena(struct owners *o, int i);

/*
 * Adds w (owned by the caller, e.g. in an owners_arena, and alive until
 * owners_destroy) as a holder of inode. The chain stays in (pid, fd)
 * order whatever the order of the calls; adding costs a walk along the
 * chain, which is short (a socket has few holders). An exact repeat (a holder with the pid and fd of one already in
 * the chain) is dropped, so a backend that sees one file table twice
 * need not filter. Returns 0, -EINVAL for inode 0 (no socket has it) or -ENOMEM.
 * Runs on one thread at a time (the one that calls finish).
 */
int owners_add(struct owners *o, uint64_t inode, struct owner *w);

/* Records that some process's holders could not be read (owners_denied). */
void owners_note_denied(struct owners *o);

/*
 * Records why this backend cannot scan here (owners_why), before its
 * start or finish answers -EOPNOTSUPP or another error; truncated to
 * OWNERS_WHY bytes.
 */
void owners_note_why(struct owners *o, const char *why);

#endif
