#ifndef SRC_OWNERS_H
#define SRC_OWNERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The owners stage: a map from socket inode to the processes that hold
 * it, filled by one scan through a backend (today /proc/<pid>/fd; see
 * owners_backend.h). Only this stage walks /proc/<pid>.
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
	 * asked for (owners_set_argv0, for a --command NAME longer than the
	 * kernel's 15-byte comm); NULL otherwise or when unreadable.
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
 * Makes the scan also read each holder's argv[0] (struct owner.argv0).
 * It costs one more read per process that holds a socket, so it is off
 * unless asked for.
 */
void owners_set_argv0(struct owners *o, bool on);

/*
 * Picks the backend by name: "auto" (the default: the first one that can
 * run here, BPF where it loads, else /proc) or one of the backends' own
 * names ("bpf", "proc"). A backend asked for by name that cannot run
 * fails the scan (owners_why says why) instead of falling back. Returns
 * 0, or -ENOENT for a name no backend has.
 */
int owners_set_backend(struct owners *o, const char *name);

/* The name of the backend the last scan used, or NULL before any scan. */
const char *owners_backend_name(const struct owners *o);

/*
 * Why the last scan's backend could not run (one line, no "sockstat:"
 * prefix, no newline, such as "loading BPF programs needs root ..."), or
 * NULL. Under "auto" it tells why BPF was passed over; after a failed
 * scan of a backend picked by name, why the scan failed.
 */
enum { OWNERS_WHY = 160 };
const char *owners_why(const struct owners *o);

/*
 * Scans proc_root ("/proc", or a fixture tree) and records every socket
 * fd of every process it may read. Processes that vanish and permission
 * denials are skipped silently (see owners_denied). Returns 0, or a
 * negative errno when proc_root itself cannot be read, memory runs out,
 * or this process runs out of file descriptors (-EMFILE, -ENFILE: every
 * owner from then on would be missing, so that is never taken for a
 * process that is gone).
 */
int owners_scan(struct owners *o, const char *proc_root);

/*
 * The same scan in two halves, so the caller can do other work (ask the
 * kernel for its sockets) while the backend's threads read /proc:
 * owners_scan_start lists the processes and starts the threads;
 * owners_scan_finish waits for them and fills the map. A successful
 * start is followed by one finish (owners_destroy waits for a scan that
 * was not finished). Both return 0 or a negative errno as owners_scan
 * does; start returns -EBUSY while a scan runs, and when start fails
 * there is no scan to finish (finish then returns -EINVAL). Nothing may
 * be looked up between the two.
 */
int owners_scan_start(struct owners *o, const char *proc_root);
int owners_scan_finish(struct owners *o);

/* The holders of inode (owned by o, valid until owners_destroy), or NULL. */
const struct owner *owners_lookup(const struct owners *o, uint64_t inode);

/*
 * True when the last scan was refused some process's fds (EACCES or
 * EPERM: another user's process, without root), so that some sockets'
 * holders are unknown rather than absent.
 */
bool owners_denied(const struct owners *o);

/*
 * Raises this process's soft RLIMIT_NOFILE to OWNERS_FD_WANT where the
 * hard limit allows (or to the hard limit, when that is lower), so a scan
 * started under a small soft limit does not run out of descriptors; a
 * program calls it once at start. Never lowers the limit. Returns 0 (also
 * when the hard limit leaves nothing to raise) or a negative errno from
 * getrlimit/setrlimit.
 */
enum { OWNERS_FD_WANT = 1024 };
int owners_raise_fd_limit(void);

#endif
