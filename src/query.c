#include "query.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "filter.h"
#include "owners.h"

/*
 * The scan threads need little stack (no recursion, buffers on the heap);
 * the default 8 MiB would be most of an empty run's address space.
 */
enum { SCAN_STACK = 256 * 1024 };

/* The /proc scan, run on a thread of its own while the kernel is asked. */
struct scan_job {
	struct owners *owners;
	const char *proc_root;
	int rc;
};

static void *scan_main(void *arg)
{
	struct scan_job *job = arg;
	job->rc = owners_scan(job->owners, job->proc_root);
	return NULL;
}

static bool start_scan(pthread_t *t, struct scan_job *job)
{
	pthread_attr_t attr;
	if (pthread_attr_init(&attr) != 0)
		return false;
	pthread_attr_setstacksize(&attr, SCAN_STACK);
	bool ok = pthread_create(t, &attr, scan_main, job) == 0;
	pthread_attr_destroy(&attr);
	return ok;
}

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

/* A fresh owners map, scanned now or (*scanning) on thread t. */
static int prepare_owners(struct query *q, const struct query_config *cfg, bool late,
			  pthread_t *t, struct scan_job *job, bool *scanning,
			  struct query_error *err)
{
	owners_destroy(q->owners);
	q->owners = NULL;
	int rc = owners_create(&q->owners);
	if (rc < 0)
		return fail(err, QUERY_NOMEM, rc);
	*job = (struct scan_job){.owners = q->owners,
				 .proc_root = cfg->proc_root ? cfg->proc_root : "/proc"};
	if (late)
		*scanning = start_scan(t, job);
	if (!*scanning) {
		scan_main(job);
		if (job->rc < 0)
			return fail(err, QUERY_SCAN, job->rc);
	}
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
	pthread_t scanner;
	struct scan_job job = {0};
	bool scanning = false;
	int rc;
	if (cfg->owners || sn.filter_owners) {
		rc = prepare_owners(q, cfg, late, &scanner, &job, &scanning, err);
		if (rc < 0)
			return rc;
		if (!scanning)
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
	};
	struct gather_error gerr = {0};
	int grc = gather_run(&req, on_sock, &sn, &gerr);
	if (scanning) {
		pthread_join(scanner, NULL);
		if (job.rc < 0)
			return fail(err, QUERY_SCAN, job.rc);
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
