#ifndef SRC_OWNERS_H
#define SRC_OWNERS_H

#include <stdint.h>
#include <sys/types.h>

/*
 * The owners stage: one pass over /proc/<pid>/fd mapping socket inodes to
 * the processes that hold them. Only this module walks /proc/<pid>.
 */

/* One holder of a socket; a socket held by several has a chain. */
struct owner {
	const struct owner *next; /* next holder of the same socket, or NULL */
	int32_t pid;
	int32_t fd;
	uint32_t uid;             /* the process's (effective) uid */
	const char *comm;         /* /proc/<pid>/comm, raw bytes, NUL-terminated */
	/*
	 * The basename of argv[0] (raw bytes, NUL-terminated), read only when
	 * asked for (a --command NAME longer than the kernel's 15-byte comm);
	 * NULL otherwise or when unreadable.
	 */
	const char *argv0;
};

struct owners;

/* Creates an empty map; returns 0 or -ENOMEM. Destroy with owners_destroy. */
int owners_create(struct owners **out);
void owners_destroy(struct owners *o); /* NULL-safe */

/*
 * Sets how many threads owners_scan reads /proc with: 0 (the default)
 * picks from the number of processes and CPUs, up to 4; 1 scans on the
 * calling thread only. The result is the same either way.
 */
void owners_set_threads(struct owners *o, int n);

/*
 * Scans proc_root ("/proc", or a fixture tree) and records every socket
 * fd of every process it may read. Processes that vanish and permission
 * denials are skipped silently. Returns 0, or a negative errno only when
 * proc_root itself cannot be read or memory runs out.
 */
int owners_scan(struct owners *o, const char *proc_root);

/* The holders of inode (owned by o, valid until owners_destroy), or NULL. */
const struct owner *owners_lookup(const struct owners *o, uint64_t inode);

#endif
