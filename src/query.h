#ifndef SRC_QUERY_H
#define SRC_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "gather.h"
#include "netns.h"
#include "sock.h"

struct filter;
struct owners;
struct cgroup_map;

/*
 * The query engine: one snapshot is the owners scan, the gather stage,
 * the filter and a sink, in that order of dependence, with the scan run
 * beside the dump where the sink allows it. main runs one snapshot; a
 * loop (watch) or another sink (count, kill) reuses the same engine.
 */

/* What to list; everything but the filter is copied by query_run. */
struct query_config {
	uint32_t protos;              /* PROTO_BIT mask */
	uint32_t families;            /* enum fam mask */
	uint32_t states;              /* STATE_BIT mask, after the filter's own */
	enum gather_source source;
	bool want_info;               /* ask the kernel for tcp_info */
	bool want_mem;                /* ask the kernel for skmeminfo */
	bool owners;                  /* scan /proc for the owning processes */
	const char *owners_via;       /* the owners backend by name; NULL: "auto" */
	const struct filter *filter;  /* not owned; NULL: no filter */
	const char *proc_root;        /* "/proc" unless testing */
	/*
	 * --all-netns: every network namespace in turn, each row carrying
	 * its namespace; patterns (--netns, or-ed) keep those whose name
	 * matches a glob or whose inode is the pattern (none: every one).
	 */
	bool all_netns;
	const char *const *netns_patterns;
	size_t nnetns_patterns;
	const char *run_netns;        /* "/run/netns" unless testing */
	bool want_cgroup;             /* map each socket's cgroup id to its path */
	/* --record and --replay: see gather_request; all NULL normally. */
	const struct nl_transport *transport;
	const struct nl_observer *observer;
	const struct procnet_tap *tap;
};

/*
 * Where the rows go. row is called for every socket that passes the
 * filter, with s->owners set when owners are scanned and the sink does
 * not take them late (see owners_late); the record is valid only during
 * the call. Returning a negative errno stops the snapshot.
 */
struct query_sink {
	int (*row)(void *arg, const struct sock *s);
	/*
	 * Set when the sink can take rows before their owners are known and
	 * receives the map at the end instead (the table's Process column):
	 * the scan then runs on a thread beside the dump. Ignored when the
	 * filter itself needs the owners.
	 */
	void (*owners_late)(void *arg, const struct owners *o);
	/*
	 * With all_netns, called (when set) before the rows of each
	 * namespace listed, also one with no rows; name is valid for the
	 * snapshot. A negative errno stops the snapshot.
	 */
	int (*netns)(void *arg, uint64_t ino, const char *name);
	void *arg;
};

/* Which step of a snapshot failed, for main's message and exit status. */
enum query_stage {
	QUERY_OK,
	QUERY_NOMEM,      /* our own allocation failed */
	QUERY_SCAN,       /* the /proc scan could not be done */
	QUERY_OWNERS_BPF, /* --owners=bpf, and BPF cannot run here: see why */
	QUERY_NETLINK,    /* sock_diag refused a protocol and no fallback was allowed */
	QUERY_PROCNET,    /* the /proc/net file of a protocol could not be read */
	QUERY_SINK,       /* the sink failed (an output error) */
	QUERY_NETNS,      /* the network namespaces could not be listed */
};

struct query_error {
	enum query_stage stage;
	int err;          /* the negative errno */
	enum proto proto; /* QUERY_NETLINK, QUERY_PROCNET */
	const char *file; /* QUERY_PROCNET: the file, as /proc/net/raw */
	char why[160];    /* QUERY_OWNERS_BPF: the reason, one line */
};

/*
 * The state of the engine across snapshots: the owners map of the last
 * scan. Zero-initialise it; release with query_finish.
 */
struct query {
	struct owners *owners;
	/* Set by a scan that was denied some processes' fds (no root). */
	bool owners_denied;
	/*
	 * all_netns: the namespaces of the last snapshot (their warnings for
	 * main to print) and their names; and whether some namespace could
	 * not be entered (no root), so its sockets came from /proc/PID/net.
	 */
	struct netns_list *netns;
	char (*netns_names)[NETNS_LABEL_MAX];
	bool netns_unentered;
	struct cgroup_map *cgroups;   /* want_cgroup: the id -> path map, kept */
};

/*
 * Runs one snapshot of cfg into sink. Returns 0, or a negative errno with
 * err filled (stage QUERY_SINK carries the sink's own errno, -EPIPE
 * among them).
 */
int query_run(struct query *q, const struct query_config *cfg, const struct query_sink *sink,
	      struct query_error *err);

void query_finish(struct query *q); /* NULL-safe */

#endif
