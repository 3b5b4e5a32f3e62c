#ifndef SRC_NETNS_H
#define SRC_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/*
 * Network namespaces: naming one (-N), listing every one on the machine
 * (--all-netns), and running code inside one. The only module that opens
 * namespace files or calls setns.
 */

/*
 * Opens the network namespace spec names: a name under /run/netns (no
 * slash) or a path (/proc/PID/ns/net, a bind mount). The file is opened
 * without blocking, so a FIFO cannot hang the caller, and checked to be a
 * network namespace. Returns an O_CLOEXEC descriptor the caller closes,
 * or -ENOENT (no such name or path), -ENAMETOOLONG (the path would be
 * cut), -EINVAL (a name holding "..", or a file that is no network
 * namespace), or another negative errno from open.
 */
int netns_open(const char *spec);

/*
 * Moves the calling thread into the network namespace open on fd. Sockets
 * it creates from then on, and /proc/thread-self/net as it reads it,
 * belong to that namespace. Returns 0 or a negative errno (-EPERM without
 * CAP_SYS_ADMIN).
 */
int netns_enter(int fd);

/* One network namespace of the machine. */
struct netns_entry {
	uint64_t ino;  /* the namespace's inode number, as stat shows it */
	uint64_t dev;  /* and its device (nsfs); the two tell namespaces apart */
	char *name;    /* its `ip netns` name (the first, sorted, if several), or NULL; owned */
	int pid;       /* the lowest pid of a visible process in it, or 0 */
	bool self;     /* the caller's own namespace */
	char *path;    /* where to open it; owned: RUN_NETNS/NAME when named, else
	                  PROC_ROOT/PID/ns/net of the member pid (PROC_ROOT/self/ns/net
	                  for the caller's own); no descriptor is kept, so thousands
	                  of namespaces (a network node's routers) cost no file limit */
};

/*
 * Every network namespace found: the caller's own first, then those with
 * a member process by their lowest pid, then the rest by name. Owned by
 * its holder; entries and warnings are owned by the list.
 */
struct netns_list {
	struct netns_entry *v;
	size_t len;
	size_t cap;
	char **warnings;      /* one sentence per file skipped, for the caller to print */
	size_t nwarnings;
	struct u64map index;  /* (dev, ino) hash -> entry index + 1 */
};

void netns_list_init(struct netns_list *l);

/* Frees the entries and warnings; NULL-safe. */
void netns_list_finish(struct netns_list *l);

/*
 * Fills the empty list l with every distinct network namespace that a
 * process under proc_root ("/proc") is in (PROC_ROOT/PID/ns/net, by stat,
 * without opening it), and every file under run_netns ("/run/netns";
 * NULL for none), each once. proc_root/self/ns/net is the caller's own.
 * A process or file that vanishes meanwhile, and a process whose
 * namespace may not be read (no root), is skipped silently; a run_netns
 * file that is no network namespace, and a run_netns that cannot be read
 * (other than missing), is skipped with a warning in l->warnings. Returns
 * 0, or -ENOMEM, or a negative errno when proc_root or its self cannot be
 * read.
 */
int netns_list_scan(struct netns_list *l, const char *proc_root, const char *run_netns);

/* The entry of the namespace (dev, ino), or NULL. */
const struct netns_entry *netns_list_find(const struct netns_list *l, uint64_t dev, uint64_t ino);

/*
 * Opens the namespace of e at its path, without blocking, and checks it
 * still is that namespace (a member pid may have exited and its number
 * been reused; a name may have been deleted and made again). Returns an
 * O_CLOEXEC descriptor the caller closes, or -ENOENT when it is gone.
 */
int netns_entry_open(const struct netns_entry *e);

/*
 * Runs fn(arg) inside the namespace of e and returns what fn returned;
 * the caller's own threads never leave their namespace. For the caller's
 * own namespace fn runs on the calling thread; for any other, on a new
 * thread that enters it (setns) and ends with fn. A socket fn creates
 * there (a netlink socket for sock_diag) keeps that namespace for its
 * life, so fn may hand it back through arg. Inside fn, /proc/self/net is
 * still the process's namespace: read /proc/thread-self/net instead.
 * Returns fn's value, or -ENOENT (the namespace is gone), -EPERM (no
 * right to enter it), or another negative errno before fn ran.
 */
int netns_run_in(const struct netns_entry *e, int (*fn)(void *), void *arg);

/* The longest label netns_label writes, its NUL included. */
enum { NETNS_LABEL_MAX = 256 };

/*
 * The name the Netns column shows for e: its `ip netns` name; else, for
 * the caller's own, "host"; else the container or unit of its member
 * process (cgroup_name_pid under proc_root: "docker:ID12", "pod:UID",
 * "nginx.service"); else "netns:[INODE]". Written NUL terminated to out;
 * the bytes of a name are as found, and the caller escapes them.
 */
void netns_label(const struct netns_entry *e, const char *proc_root, char out[NETNS_LABEL_MAX]);

#endif
