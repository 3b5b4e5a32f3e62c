#include "query.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "filter.h"
#include "nl.h"
#include "owners.h"

/* What the per-socket step needs during one snapshot. */
struct snap {
	const struct filter *filter;
	const struct owners *owners;  /* NULL while the scan runs beside */
	bool filter_owners;           /* the filter looks at owners */
	const struct query_sink *sink;
	struct cgroup_map *cgroups;   /* NULL: no cgroup paths wanted or known */
	uint64_t netns_ino;           /* the namespace being listed (all_netns) */
	const char *netns_name;
};

static int on_sock(void *arg, const struct sock *s)
{
	struct snap *sn = arg;
	/*
	 * Most rows fail a filter on their addresses: judge those first,
	 * after the cgroup path when the filter may look at it.
	 */
	if (!sn->filter_owners && !sn->cgroups && !filter_match(sn->filter, s))
		return 0;
	struct sock row = *s;
	row.netns_ino = sn->netns_ino;
	row.netns_name = sn->netns_name;
	if (sn->cgroups && s->cgroup_id) {
		const char *path = NULL;
		/* An unknown id (a cgroup gone since) leaves the path unknown. */
		if (cgroup_map_lookup(sn->cgroups, s->cgroup_id, &path) == 0)
			row.cgroup_path = path;
	}
	if (!sn->filter_owners && sn->cgroups && !filter_match(sn->filter, &row))
		return 0;
	row.owners = sn->owners ? owners_lookup(sn->owners, s->inode) : NULL;
	if (sn->filter_owners && !filter_match(sn->filter, &row))
		return 0;
	return sn->sink->row(sn->sink->arg, &row);
}

static int fail(struct query_error *err, enum query_stage stage, int rc)
{
	*err = (struct query_error){.stage = stage, .err = rc};
	return rc;
}

/*
 * The error of a scan: a backend picked by name that cannot run says
 * why (that is only ever BPF; /proc is always there to be read).
 */
static int scan_failed(const struct owners *o, const struct query_config *cfg, int rc,
		       struct query_error *err)
{
	const char *why = owners_why(o);
	bool bpf = cfg->owners_via && strcmp(cfg->owners_via, "bpf") == 0;
	if (bpf && rc != -ENOMEM) {
		if (!why)
			why = strerror(-rc);
		fail(err, QUERY_OWNERS_BPF, rc);
		snprintf(err->why, sizeof(err->why), "%s", why);
		return rc;
	}
	return fail(err, rc == -ENOMEM ? QUERY_NOMEM : QUERY_SCAN, rc);
}

/*
 * A fresh owners map, scanned now, or (late) started here and finished
 * by owners_scan_finish after the dump.
 */
static int prepare_owners(struct query *q, const struct query_config *cfg, bool late,
			  struct query_error *err)
{
	owners_destroy(q->owners);
	q->owners = NULL;
	int rc = owners_create(&q->owners);
	if (rc < 0)
		return fail(err, QUERY_NOMEM, rc);
	owners_set_argv0(q->owners, filter_needs_argv0(cfg->filter));
	rc = owners_set_backend(q->owners, cfg->owners_via ? cfg->owners_via : "auto");
	if (rc < 0)
		return fail(err, QUERY_SCAN, rc);
	const char *root = cfg->proc_root ? cfg->proc_root : "/proc";
	rc = late ? owners_scan_start(q->owners, root) : owners_scan(q->owners, root);
	if (rc < 0)
		return scan_failed(q->owners, cfg, rc, err);
	return 0;
}

/* Turns gather's error into the query's. */
static int gather_failed(int rc, const struct gather_error *gerr, struct query_error *err)
{
	static const enum query_stage stage[] = {
		[GATHER_FAIL_SINK] = QUERY_SINK,
		[GATHER_FAIL_NOMEM] = QUERY_NOMEM,
		[GATHER_FAIL_NETLINK] = QUERY_NETLINK,
		[GATHER_FAIL_PROCNET] = QUERY_PROCNET,
	};
	*err = (struct query_error){.stage = stage[gerr->kind], .err = rc, .proto = gerr->proto,
				    .file = gerr->file};
	return rc;
}

/* Whether the namespace e, named name, is one the --netns patterns keep. */
static bool netns_wanted(const struct query_config *cfg, const struct netns_entry *e,
			 const char *name)
{
	if (cfg->nnetns_patterns == 0)
		return true;
	char ino[24];
	snprintf(ino, sizeof(ino), "%llu", (unsigned long long)e->ino);
	for (size_t i = 0; i < cfg->nnetns_patterns; i++) {
		const char *pat = cfg->netns_patterns[i];
		if (strcmp(pat, ino) == 0 || fnmatch(pat, name, 0) == 0)
			return true;
	}
	return false;
}

/* One namespace's gather, run inside it by netns_run_in. */
struct ns_gather {
	const struct gather_request *req;
	struct snap *sn;
	struct gather_error *gerr;
	bool ran;  /* the callback ran: its value is gather's, not netns_run_in's */
};

static int gather_in(void *arg)
{
	struct ns_gather *g = arg;
	g->ran = true;
	return gather_run(g->req, on_sock, g->sn, g->gerr);
}

/* Opening a namespace's netlink socket from outside it. */
struct ns_open {
	const struct netns_entry *e;
	struct nl **out;
	bool denied;  /* no right to enter (not root) */
	bool gone;    /* the namespace is gone */
};

static int open_in(void *arg)
{
	struct ns_open *o = arg;
	return nl_create(o->out, NULL);
}

static int open_ns(struct nl **out, void *arg)
{
	struct ns_open *o = arg;
	o->out = out;
	int rc = netns_run_in(o->e, open_in, o);
	o->denied |= rc == -EPERM;
	o->gone |= rc == -ENOENT;
	return rc;
}

/*
 * Gathers the namespace e. Only its netlink socket is made inside it, on
 * a short thread (a socket keeps the namespace it was made in): the
 * rows, and the host names -r looks up, stay on the caller's thread. The
 * /proc fallback reads /proc/PID/net of its member process, which anyone
 * may read, so without the right to enter (no root) the fallback answers
 * for every protocol. A namespace with no member process (an ip netns
 * name alone) is gathered wholly on a thread inside it, its fallback
 * from /proc/thread-self/net. (The system default for IPV6_V6ONLY,
 * which stands in where the kernel does not say, is then read from the
 * caller's /proc/sys: a namespace's own is not in /proc/PID.) A
 * namespace gone since the listing is skipped. Returns gather's value, 0 for a skipped namespace.
 */
static int gather_ns(struct query *q, const struct gather_request *base,
		     const struct netns_entry *e, struct snap *sn, struct gather_error *gerr)
{
	struct gather_request req = *base;
	if (e->self)
		return gather_run(&req, on_sock, sn, gerr);
	if (e->pid <= 0) {
		req.net_root = "/proc/thread-self";
		struct ns_gather g = {.req = &req, .sn = sn, .gerr = gerr};
		int rc = netns_run_in(e, gather_in, &g);
		q->netns_unentered |= rc == -EPERM && !g.ran;
		return g.ran ? rc : 0;
	}
	char root[PATH_MAX];
	int n = snprintf(root, sizeof(root), "%s/%d", base->proc_root, e->pid);
	if (n < 0 || (size_t)n >= sizeof(root))
		return 0;
	struct ns_open o = {.e = e};
	req.net_root = root;
	req.nl_open = open_ns;
	req.nl_open_arg = &o;
	int rc = gather_run(&req, on_sock, sn, gerr);
	q->netns_unentered |= o.denied;
	/* Gone, or its member exited meanwhile: nothing to list, no error. */
	bool exited = rc < 0 && gerr->kind == GATHER_FAIL_PROCNET && (rc == -ENOENT || rc == -ESRCH);
	if (o.gone || exited)
		return 0;
	return rc;
}

/* Lists the namespaces and names them: q->netns and q->netns_names. */
static int list_netns(struct query *q, const struct query_config *cfg)
{
	netns_list_finish(q->netns);
	free(q->netns);
	free(q->netns_names);
	q->netns_names = NULL;
	q->netns = malloc(sizeof(*q->netns));
	if (!q->netns)
		return -ENOMEM;
	netns_list_init(q->netns);
	const char *root = cfg->proc_root ? cfg->proc_root : "/proc";
	int rc = netns_list_scan(q->netns, root, cfg->run_netns ? cfg->run_netns : "/run/netns");
	if (rc < 0)
		return rc;
	q->netns_names = calloc(q->netns->len ? q->netns->len : 1, sizeof(*q->netns_names));
	if (!q->netns_names)
		return -ENOMEM;
	for (size_t i = 0; i < q->netns->len; i++)
		netns_label(&q->netns->v[i], root, q->netns_names[i]);
	return 0;
}

/* Every namespace (that the patterns keep) in turn into the snapshot. */
static int gather_all(struct query *q, const struct query_config *cfg,
		      const struct gather_request *req, struct snap *sn,
		      struct gather_error *gerr)
{
	q->netns_unentered = false;
	int rc = 0;
	for (size_t i = 0; i < q->netns->len && rc == 0; i++) {
		const struct netns_entry *e = &q->netns->v[i];
		const char *name = q->netns_names[i];
		if (!netns_wanted(cfg, e, name))
			continue;
		if (sn->sink->netns) {
			rc = sn->sink->netns(sn->sink->arg, e->ino, name);
			if (rc < 0) {
				*gerr = (struct gather_error){.kind = GATHER_FAIL_SINK};
				break;
			}
		}
		sn->netns_ino = e->ino;
		sn->netns_name = name;
		rc = gather_ns(q, req, e, sn, gerr);
	}
	return rc;
}

/* The cgroup id -> path map, made at the first snapshot that wants it. */
static int prepare_cgroups(struct query *q)
{
	if (q->cgroups)
		return 0;
	char mount[4096];
	/* No cgroup2 mounted: ids stay unnamed, which is no error. */
	if (cgroup_mount_find("/proc/self/mountinfo", mount, sizeof(mount)) < 0)
		return 0;
	q->cgroups = malloc(sizeof(*q->cgroups));
	if (!q->cgroups)
		return -ENOMEM;
	int rc = cgroup_map_init(q->cgroups, mount);
	if (rc < 0) {
		free(q->cgroups);
		q->cgroups = NULL;
	}
	return rc;
}

int query_run(struct query *q, const struct query_config *cfg, const struct query_sink *sink,
	      struct query_error *err)
{
	*err = (struct query_error){0};
	struct snap sn = {
		.filter = cfg->filter,
		.filter_owners = filter_needs_owners(cfg->filter),
		.sink = sink,
	};
	/*
	 * The /proc scan and the netlink dump are the two big costs, and
	 * they are independent. A sink that takes owners late gets its rows
	 * while the scan runs on a thread beside the dump; everything else
	 * needs owners per row, so there the scan comes first.
	 */
	bool late = sink->owners_late && !sn.filter_owners;
	bool scan = cfg->owners || sn.filter_owners;
	int rc;
	if (cfg->want_cgroup) {
		rc = prepare_cgroups(q);
		if (rc < 0)
			return fail(err, QUERY_NOMEM, rc);
		sn.cgroups = q->cgroups;
		if (q->cgroups)
			cgroup_map_reset(q->cgroups);
	}
	if (cfg->all_netns) {
		rc = list_netns(q, cfg);
		if (rc < 0)
			return fail(err, rc == -ENOMEM ? QUERY_NOMEM : QUERY_NETNS, rc);
	}
	if (scan) {
		rc = prepare_owners(q, cfg, late, err);
		if (rc < 0)
			return rc;
		if (!late)
			sn.owners = q->owners;
	}

	struct gather_request req = {
		.protos = cfg->protos,
		.families = cfg->families,
		.states = cfg->states,
		.source = cfg->source,
		.want_info = cfg->want_info,
		.want_mem = cfg->want_mem,
		.filter = cfg->filter,
		.proc_root = cfg->proc_root ? cfg->proc_root : "/proc",
		.transport = cfg->transport,
		.observer = cfg->observer,
		.tap = cfg->tap,
	};
	struct gather_error gerr = {0};
	int grc = cfg->all_netns ? gather_all(q, cfg, &req, &sn, &gerr)
				 : gather_run(&req, on_sock, &sn, &gerr);
	if (scan && late) {
		rc = owners_scan_finish(q->owners);
		if (rc < 0 && grc == 0)
			return scan_failed(q->owners, cfg, rc, err);
		if (rc == 0)
			sink->owners_late(sink->arg, q->owners);
	}
	if (q->owners)
		q->owners_denied = owners_denied(q->owners);
	if (grc < 0)
		return gather_failed(grc, &gerr, err);
	return 0;
}

void query_finish(struct query *q)
{
	if (!q)
		return;
	owners_destroy(q->owners);
	q->owners = NULL;
	netns_list_finish(q->netns);
	free(q->netns);
	q->netns = NULL;
	free(q->netns_names);
	q->netns_names = NULL;
	cgroup_map_finish(q->cgroups);
	free(q->cgroups);
	q->cgroups = NULL;
}
