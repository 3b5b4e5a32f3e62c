#include "query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "owners.h"

/* What the per-socket step needs during one snapshot. */
struct snap {
	const struct filter *filter;
	const struct owners *owners;  /* NULL while the scan runs beside */
	bool filter_owners;           /* the filter looks at owners */
	const struct query_sink *sink;
};

static int on_sock(void *arg, const struct sock *s)
{
	struct snap *sn = arg;
	/* Most rows fail a filter on their addresses: judge those first. */
	if (!sn->filter_owners && !filter_match(sn->filter, s))
		return 0;
	struct sock row = *s;
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
	int grc = gather_run(&req, on_sock, &sn, &gerr);
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
}
