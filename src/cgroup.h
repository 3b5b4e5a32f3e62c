#ifndef SRC_CGROUP_H
#define SRC_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "util.h"

/*
 * Control groups, for two jobs: naming a network namespace after the
 * container or service its first process runs in (from /proc/PID/cgroup),
 * and turning a socket's cgroup id (INET_DIAG_CGROUP_ID) into its path
 * under the cgroup2 mount, which is found from /proc/self/mountinfo and
 * never assumed to be /sys/fs/cgroup. The parsers are pure; the readers
 * take the /proc root or the mount as a parameter, so tests use fixtures.
 */

/* The longest name cgroup_name writes, its terminating NUL included. */
enum { CGROUP_NAME_MAX = 256 };

/* What a cgroup path named. */
enum cgroup_kind {
	CGROUP_NONE = 0,  /* nothing recognised; the caller uses netns:[INODE] */
	CGROUP_UNIT,      /* a systemd unit: "nginx.service", "session-2.scope" */
	CGROUP_CONTAINER, /* docker:, podman:, containerd:, crio:, pod:, lxc:, nspawn: */
};

/*
 * Names the container or unit the cgroup path (len bytes, not NUL
 * terminated, e.g. "/system.slice/docker-<64 hex>.scope") belongs to, into
 * out: "docker:ID12", "podman:ID12", "containerd:ID12", "crio:ID12" (the
 * first 12 hex digits of the id), "pod:UID" (a Kubernetes pod, whatever
 * container of it and whichever cgroup driver; the UID with dashes),
 * "lxc:NAME", "nspawn:NAME", or the innermost systemd unit
 * ("nginx.service"). A pod anywhere in the path wins; then the outermost
 * container (so Docker-in-Docker names the host's container); then the
 * innermost unit. Pure. The name is the prefix and bytes copied from path
 * (a pod UID's underscores become dashes); it never holds a control byte
 * (such a name is refused), but may hold bytes that are not UTF-8, which
 * the caller escapes like any cell. Returns the kind, and out is "" for
 * CGROUP_NONE.
 */
enum cgroup_kind cgroup_name(const char *path, size_t len, char out[CGROUP_NAME_MAX]);

/*
 * Finds, in the text of a /proc/PID/cgroup file, the cgroup v2 line
 * ("0::PATH") and the v1 line of the name=systemd hierarchy. Either
 * pointer is set to NULL (length 0) when its line is absent. The paths
 * point into text and lose a trailing " (deleted)". Pure.
 */
void cgroup_pick(const char *text, size_t len, const char **v2, size_t *v2_len,
		 const char **systemd, size_t *systemd_len);

/*
 * Names a process from the text of its /proc/PID/cgroup: a container
 * from the v2 line, else a container from the name=systemd line (on a
 * hybrid host a container engine's cgroupfs driver may leave the v2 line
 * at its engine's service), else a unit from the v2 line, else one from
 * the name=systemd line. Pure; returns as cgroup_name.
 */
enum cgroup_kind cgroup_name_file(const char *text, size_t len, char out[CGROUP_NAME_MAX]);

/*
 * Reads PROC_ROOT/PID/cgroup and names it as cgroup_name_file. Returns
 * the kind (CGROUP_NONE with out "" when nothing is recognised) or a
 * negative errno from reading (-ENOENT: the process is gone).
 */
int cgroup_name_pid(const char *proc_root, int pid, char out[CGROUP_NAME_MAX]);

/*
 * Finds the cgroup2 mount in the text of a mountinfo file: the first
 * cgroup2 line whose root is "/" (a mount of the whole tree), else the
 * first cgroup2 line at all. The mount point is unescaped (\040 is a
 * space, \011, \012, \134 likewise) and written NUL terminated to out
 * (cap bytes). Pure. Returns 0, -ENOENT when no cgroup2 is mounted, or
 * -ENAMETOOLONG when cap is too small.
 */
int cgroup_mount_parse(const char *text, size_t len, char *out, size_t cap);

/*
 * Reads the mountinfo file at path (normally /proc/self/mountinfo) and
 * finds the cgroup2 mount as cgroup_mount_parse. Returns 0 or a negative
 * errno.
 */
int cgroup_mount_find(const char *path, char *out, size_t cap);

/*
 * The map from cgroup id to path. A cgroup's id, as INET_DIAG_CGROUP_ID
 * reports it, is the inode number of its directory in the cgroup2 tree.
 * The tree is walked once, lazily at the first lookup, and once more at
 * the first id it does not know (a cgroup made since); ids still unknown
 * after that are misses. Owned by its holder; the paths are owned by the
 * map and live until cgroup_map_finish or cgroup_map_reset.
 */
struct cgroup_map {
	char *mount;          /* the cgroup2 mount point; owned */
	struct u64map ids;    /* id -> const char * path relative to the mount */
	struct arena paths;   /* the paths' bytes */
	bool walked;          /* the tree was walked since the last reset */
	bool rewalked;        /* and walked again for an unknown id */
	size_t limit;         /* the most directories one walk records */
};

/*
 * Prepares an empty map for the cgroup2 tree mounted at mount (copied).
 * Walks nothing yet. Returns 0 or -ENOMEM.
 */
int cgroup_map_init(struct cgroup_map *m, const char *mount);

/* Frees the map and its paths; NULL-safe. */
void cgroup_map_finish(struct cgroup_map *m);

/* Forgets what the walks found, so the next lookup walks again (--watch). */
void cgroup_map_reset(struct cgroup_map *m);

/*
 * Sets *path to the path of the cgroup with this id, relative to the
 * mount and starting with "/" ("/" is the root, "/system.slice/ssh.service"
 * a unit), as `ss --cgroup` prints it. The path's bytes are the
 * directory names as the kernel has them; the caller escapes them.
 * Returns 0, -ENOENT for an id no walk found (ss then prints
 * "unreachable:HEX"), or a negative errno from the first walk (-ENOENT
 * too when the mount is gone, -ENOMEM).
 */
int cgroup_map_lookup(struct cgroup_map *m, uint64_t id, const char **path);

/*
 * The id of the cgroup at path (relative to mount, as cgroup_map_lookup
 * gives it, "/" the root), for the `cgroup PATH` predicate's bytecode
 * (INET_DIAG_BC_CGROUP_COND takes an id). Returns 0, -ENOENT (no such
 * cgroup), -ENOTDIR (not a directory, or below another mount), or
 * another negative errno from stat.
 */
int cgroup_path_id(const char *mount, const char *path, uint64_t *id);

#endif
