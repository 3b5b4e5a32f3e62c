#ifndef SRC_OWNERS_BPF_H
#define SRC_OWNERS_BPF_H

#include <stddef.h>
#include <stdint.h>

/*
 * Owners through BPF: a task_file iterator that lists every socket file
 * descriptor of every process in one read(), instead of a readlink per
 * descriptor in /proc. It needs root and a kernel with BTF
 * (/sys/kernel/btf/vmlinux, 5.10 or newer); where it cannot load, the
 * caller falls back to the /proc walk (owners_scan). The program only
 * reads kernel memory; its one map is its own 24-byte global (a cache of
 * the reader's PID namespace, private to this load); it pins nothing, and
 * all of it is gone after owners_bpf_close. Built only with HAVE_BPF (meson -Dbpf); without it
 * owners_bpf_open always fails with a reason and the rest are no-ops.
 */

/* One socket file descriptor of one process. */
struct owners_bpf_rec {
	uint64_t inode;  /* the socket's inode, as /proc/PID/fd shows socket:[N] */
	int32_t pid;     /* the process (thread group), numbered by the reader's PID namespace */
	int32_t tid;     /* the thread whose file table holds it; == pid but for a thread
			  * with a table of its own (unshare(CLONE_FILES)) or whose
			  * leader has exited */
	int32_t fd;
	uint32_t uid;    /* the process's effective uid (its leader's) */
	char comm[16];   /* the process's comm (its leader's), raw bytes, NUL-terminated */
};

struct owners_bpf;

/*
 * Loads the iterator into the kernel and attaches it. May run on a thread
 * of its own while the caller does other work (the load takes ~15 ms);
 * it touches no state shared with the rest of sockstat. Returns 0 and
 * *out (destroy with owners_bpf_close), or a negative errno with *out NULL
 * and a one-line reason in why (NUL-terminated, truncated to whylen, no
 * "sockstat:" prefix, no newline), such as "loading BPF programs needs
 * root" or "the kernel has no BTF (/sys/kernel/btf/vmlinux)". -EPERM: not
 * privileged; -ENOENT: no BTF; -ENOTSUP: built without BPF; -ENOMEM; any
 * other: the kernel refused the program (verifier, lockdown, a kernel
 * before 5.8 without task_file iterators). libbpf prints nothing unless
 * SOCKSTAT_BPF_DEBUG is set in the environment.
 */
int owners_bpf_open(struct owners_bpf **out, char *why, size_t whylen);

/*
 * Runs the iterator once and calls cb for every socket descriptor of every
 * process visible in the caller's PID namespace, in thread id order, fds
 * ascending within a file table; r is valid only during the call. A thread
 * with its own file table adds the descriptors its leader does not hold
 * at the same fd; two threads sharing a table of their own (rare) may
 * repeat a (pid, fd, inode), which the caller counts once. A cb result
 * other than 0 stops the walk and is returned. Returns 0, or a negative
 * errno (from creating or reading the iterator). May be called again for
 * a fresh listing (--watch).
 */
int owners_bpf_read(struct owners_bpf *b, int (*cb)(void *arg, const struct owners_bpf_rec *r),
		    void *arg);

/* Detaches and unloads everything; NULL-safe. */
void owners_bpf_close(struct owners_bpf *b);

#endif
