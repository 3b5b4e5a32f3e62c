/*
 * sockstat: list sockets and the processes that own them.
 *
 * main parses the command line, builds the filter, picks the sink, runs the
 * query engine, and is the only place that prints fatal errors and chooses
 * the exit status: 0 success (also when nothing matched), 1 runtime error,
 * 2 usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "buf.h"
#include "count.h"
#include "escape.h"
#include "events.h"
#include "filter.h"
#include "loop.h"
#include "kill.h"
#include "metrics.h"
#include "names.h"
#include "netns.h"
#include "options.h"
#include "outfile.h"
#include "owners.h"
#include "procnet.h"
#include "query.h"
#include "record.h"
#include "render.h"
#include "sock.h"
#include "watch.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* A user's word quoted in a message is cut here, so the reason stays in view. */
enum { QUOTE_MAX = 200 };

/*
 * Where messages go: stderr, or while --watch holds the terminal, a
 * buffer shown once the screen is restored.
 */
static FILE *say_to;

/* Prints "sockstat: MESSAGE" with any user-controlled text escaped. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	char *raw = malloc((size_t)n + 1);
	if (!raw) {
		fputs("sockstat: out of memory\n", stderr);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(raw, (size_t)n + 1, fmt, ap);
	va_end(ap);
	struct buf b = BUF_INIT;
	buf_adds(&b, "sockstat: ");
	escape_text(&b, raw, (size_t)n);
	buf_addc(&b, '\n');
	if (buf_ok(&b))
		fputs(b.p, say_to ? say_to : stderr);
	buf_finish(&b);
	free(raw);
}

static int usage_error(const char *msg)
{
	say("%s", msg);
	fputs("Try 'sockstat --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

static const char *quoted(const char *s, char *tmp, size_t size);

/*
 * The --output FILE being written, so that a write error names it; NULL
 * while the output goes to stdout.
 */
static const char *output_path;

/* Exit status for an output error: a reader that went away is not one. */
static int output_status(int rc)
{
	char tmp[QUOTE_MAX + 4];
	if (rc == -EPIPE && !output_path)
		return EXIT_SUCCESS;
	if (rc == -ENOMEM)
		say("out of memory");
	else if (output_path)
		say("cannot write '%s': %s", quoted(output_path, tmp, sizeof(tmp)), strerror(-rc));
	else
		say("write error: %s", strerror(-rc));
	return EXIT_RUNTIME;
}

/* Flushes f; the status for what that shows. */
static int finish_output(FILE *f)
{
	if (fflush(f) == 0 && !ferror(f))
		return EXIT_SUCCESS;
	return output_status(errno ? -errno : -EIO);
}

static int finish_stdout(void)
{
	return finish_output(stdout);
}

/*
 * Makes sure descriptors 0, 1 and 2 are open, so that no socket or file
 * we open later takes their place (a netlink socket as fd 1 would be sent
 * our output). Returns whether stdout was closed, or -1 when /dev/null
 * itself cannot be opened.
 */
static int open_std_fds(void)
{
	bool stdout_closed = false;
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (n != fd) {
			if (n >= 0)
				close(n);
			return -1;
		}
		if (fd == 1)
			stdout_closed = true;
	}
	return stdout_closed;
}

/* "NAME" for a message, cut with "..." when it is long. */
static const char *quoted(const char *s, char *tmp, size_t size)
{
	if (strlen(s) <= QUOTE_MAX)
		return s;
	snprintf(tmp, size, "%.*s...", QUOTE_MAX, s);
	return tmp;
}

static int enter_netns(const char *spec)
{
	char tmp[QUOTE_MAX + 4];
	int fd = netns_open(spec);
	int rc = fd < 0 ? fd : netns_enter(fd);
	if (fd >= 0)
		close(fd);
	if (rc == 0)
		return EXIT_SUCCESS;
	const char *why = rc == -EINVAL ? "not a network namespace" : strerror(-rc);
	say("cannot enter network namespace '%s': %s", quoted(spec, tmp, sizeof(tmp)), why);
	/* A name or path that names no namespace is the user's mistake. */
	return rc == -ENOENT || rc == -EINVAL || rc == -ENAMETOOLONG || rc == -ENOTDIR
		       ? EXIT_USAGE : EXIT_RUNTIME;
}

/* The sink of a listing: rows to the renderer. */
struct out {
	struct render *render;
	struct watch *watch;   /* --watch: told of every row; NULL once */
};

static int out_row(void *arg, const struct sock *s)
{
	struct out *o = arg;
	if (o->watch)
		watch_note_row(o->watch, s);
	return render_row(o->render, s);
}

/* What --all-netns has to say after a snapshot, once each. */
static void netns_notes(const struct query *q)
{
	/* A /run/netns file that is no namespace, and the like. */
	for (size_t i = 0; q->netns && i < q->netns->nwarnings; i++)
		say("%s", q->netns->warnings[i]);
	if (q->netns_unentered)
		say("some network namespaces could not be entered (you would have to be root): "
		    "their sockets were read from /proc/PID/net of a process in them");
}

static void out_owners(void *arg, const struct owners *w)
{
	struct out *o = arg;
	render_set_owners(o->render, w);
}

static int query_status(const struct query_error *e)
{
	switch (e->stage) {
	case QUERY_OK:
		return EXIT_SUCCESS;
	case QUERY_NOMEM:
		say("out of memory");
		break;
	case QUERY_SCAN:
		say("cannot scan /proc for processes: %s", strerror(-e->err));
		break;
	case QUERY_OWNERS_BPF:
		say("cannot read owners through BPF: %s", e->why);
		break;
	case QUERY_NETLINK:
		say("%s: the kernel's sock_diag cannot list these sockets (%s); "
		    "--source auto falls back to /proc/net",
		    proto_table[e->proto].name, strerror(-e->err));
		break;
	case QUERY_PROCNET:
		say("%s: %s: %s", proto_table[e->proto].name, e->file, strerror(-e->err));
		break;
	case QUERY_NETNS:
		say("cannot list network namespaces: %s", strerror(-e->err));
		break;
	case QUERY_SINK:
		if (e->err == -ENOMEM) {
			say("out of memory");
			break;
		}
		return output_status(e->err);
	}
	return EXIT_RUNTIME;
}

/* --record and --replay: where the kernel's answers come from, or go too. */
struct tape {
	struct record rec;
	struct replay rp;
	struct nl_transport transport;
	struct nl_observer observer;
	struct procnet_tap tap;
};

/* Gets ready to record or replay as o says. Returns an exit status. */
static int tape_open(struct tape *t, const struct options *o)
{
	memset(t, 0, sizeof(*t));
	if (o->record) {
		record_init(&t->rec);
		t->observer = record_observer(&t->rec);
		t->tap = record_tap(&t->rec);
	} else if (o->replay) {
		struct replay_error e = {0};
		int rc = replay_load(&t->rp, o->replay, &e);
		if (rc == -EINVAL) {
			say("%s: bad recording at offset %zu: %s", o->replay, e.offset, e.why);
			return EXIT_RUNTIME;
		}
		if (rc < 0) {
			say("%s: %s", o->replay, strerror(-rc));
			return EXIT_RUNTIME;
		}
		t->transport = replay_transport(&t->rp);
		t->tap = replay_tap(&t->rp);
	}
	return EXIT_SUCCESS;
}

/*
 * The query every output runs: what to list and where it comes from (the
 * kernel, or a recording), with what that output adds left unset.
 */
static struct query_config base_config(const struct options *o, const struct filter *filter,
				       struct tape *t)
{
	return (struct query_config){
		.protos = o->protos,
		.families = o->families,
		.states = filter_states(filter, o->states),
		.source = o->source,
		.owners_via = o->owners_via,
		.filter = filter,
		.proc_root = "/proc",
		.observer = o->record ? &t->observer : NULL,
		.transport = o->replay ? &t->transport : NULL,
		.tap = o->record || o->replay ? &t->tap : NULL,
		.all_netns = o->all_netns,
		.netns_patterns = o->netns_patterns,
		.nnetns_patterns = o->nnetns_patterns,
		.run_netns = "/run/netns",
		.want_cgroup = filter_needs_cgroup(filter),
	};
}

/* Saves a recording once the listing is done; returns the final status. */
static int tape_close(struct tape *t, const struct options *o, int status)
{
	if (o->record) {
		int rc = record_save(&t->rec, o->record);
		if (rc < 0 && status == EXIT_SUCCESS) {
			say("%s: cannot save the recording: %s", o->record, strerror(-rc));
			status = EXIT_RUNTIME;
		}
		record_finish(&t->rec);
	}
	replay_finish(&t->rp);
	return status;
}

/*
 * One listing: the query engine into the renderer, to f. A frame of
 * --watch passes w, so the table's owners come from w's cache.
 */
static int list_in(const struct options *o, const struct filter *filter, struct names *names,
		   struct tape *tape, FILE *f, struct watch *w)
{
	struct out out = {.watch = w};
	bool table = o->render.format == FORMAT_TABLE;
	/* Owners of sockets a frame has seen before are not looked up again. */
	bool cacheable = w && table && o->render.processes && !filter_needs_owners(filter);
	bool cached = cacheable && watch_has_owners(w);
	if (render_create(&out.render, f, &o->render, names) < 0) {
		say("out of memory");
		return EXIT_RUNTIME;
	}
	struct query_config cfg = base_config(o, filter, tape);
	cfg.want_info = o->render.info;
	cfg.want_mem = o->render.memory;
	cfg.owners = o->render.processes && !cached;
	cfg.want_cgroup |= o->render.cgroup;
	struct query_sink sink = {.row = out_row,
				  .owners_late = table && !cached ? out_owners : NULL, .arg = &out};
	struct query q = {0};
	struct query_error err = {0};
	int status = EXIT_SUCCESS;
	if (query_run(&q, &cfg, &sink, &err) < 0)
		status = query_status(&err);
	const struct owners *known = NULL;
	if (status == EXIT_SUCCESS && cached) {
		int rc = watch_owners(w, &known);
		if (rc < 0)
			status = query_status(&(struct query_error){
				.stage = rc == -ENOMEM ? QUERY_NOMEM : QUERY_SCAN, .err = rc});
		else
			render_set_owners(out.render, known);
	}
	if (status == EXIT_SUCCESS && err.stage == QUERY_OK) {
		int rc = render_finish(out.render);
		status = rc < 0 ? output_status(rc) : finish_output(f);
	}
	/*
	 * Why most Process cells name only a user, said once, to a person,
	 * and only to one who is not root (root may be refused a process or
	 * two too, but has no better way to see them).
	 */
	if (status == EXIT_SUCCESS && q.owners_denied && geteuid() != 0 &&
	    f == stdout && isatty(STDOUT_FILENO))
		say("not all processes could be read (you would have to be root to see them "
		    "all); their sockets show only the user");
	netns_notes(&q);
	render_destroy(out.render);
	/* The first frame's scan, run beside its dump, is the cache of the next. */
	if (cacheable && !cached && status == EXIT_SUCCESS && q.owners) {
		watch_adopt_owners(w, q.owners);
		q.owners = NULL;
	}
	query_finish(&q);
	return status;
}

static int list(const struct options *o, const struct filter *filter, struct names *names,
		struct tape *tape, FILE *f)
{
	return list_in(o, filter, names, tape, f, NULL);
}

/*
 * --count-by, -s and the metrics formats: the rows feed a counting
 * engine (count.h) or the metrics writer (metrics.h) and only their
 * groups are kept, so memory follows the number of groups, not of
 * sockets. -s is the engine's proto,family,state preset in a layout of
 * its own.
 */
struct tally {
	struct count *count;     /* --count-by or -s without a metrics format */
	struct metrics *metrics; /* a metrics format */
	bool summary;            /* count is the -s preset */
	/* -s with --all-netns: the namespaces listed, in order, one summary each. */
	char **ns_names;
	size_t nns;
};

static int tally_netns(void *arg, uint64_t ino, const char *name)
{
	(void)ino;
	struct tally *t = arg;
	char **v = realloc(t->ns_names, (t->nns + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->ns_names = v;
	if (!(v[t->nns] = strdup(name)))
		return -ENOMEM;
	t->nns++;
	return 0;
}

/* -s with --all-netns: one summary per namespace, also for one with no socket. */
static int summary_netns_write(const struct options *o, struct tally *t, FILE *f)
{
	struct summary *sums = calloc(t->nns ? t->nns : 1, sizeof(*sums));
	if (!sums)
		return -ENOMEM;
	for (size_t i = 0; i < t->nns; i++)
		sums[i].protos = o->protos;
	const char *const *names = (const char *const *)t->ns_names;
	int rc = count_finish(t->count, 0);
	if (rc == 0)
		rc = summary_from_count_netns(sums, names, t->nns, t->count);
	if (rc == 0)
		rc = render_summaries(f, &o->render, sums, names, t->nns);
	free(sums);
	return rc;
}

static int tally_listener(void *arg, const struct sock *s)
{
	struct tally *t = arg;
	return t->metrics ? metrics_add_listener(t->metrics, s) : count_add_listener(t->count, s);
}

static int tally_row(void *arg, const struct sock *s)
{
	struct tally *t = arg;
	return t->metrics ? metrics_add(t->metrics, s) : count_add(t->count, s);
}

/* Whether the keys look at a socket's holders. */
static bool keys_need_owners(const struct options *o)
{
	for (size_t i = 0; i < o->ncount_keys; i++)
		if (o->count_keys[i] == COUNT_PROCESS || o->count_keys[i] == COUNT_USER)
			return true;
	return false;
}

/*
 * The direction and port keys need to know every port a local socket
 * listens on before the first connection is counted, whatever the
 * filter keeps: a cheap dump of the listeners of the protocols that
 * have ports, without owners, comes first.
 */
static int tally_listeners(struct tally *t, const struct query_config *cfg, struct query *q)
{
	bool needs = t->metrics ? metrics_needs_listeners(t->metrics)
				: count_needs_listeners(t->count);
	if (!needs)
		return EXIT_SUCCESS;
	struct query_config lc = *cfg;
	lc.protos = 0;
	for (int p = 0; p < PROTO_COUNT; p++)
		if ((cfg->protos & PROTO_BIT(p)) && proto_services_id((enum proto)p) >= 0)
			lc.protos |= PROTO_BIT(p);
	lc.families |= FAM_INET | FAM_INET6;
	lc.states = STATES_LISTENING;
	lc.want_info = lc.want_mem = lc.owners = false;
	lc.filter = NULL;
	struct query_sink sink = {.row = tally_listener, .arg = t};
	struct query_error err;
	int status = EXIT_SUCCESS;
	if (lc.protos && query_run(q, &lc, &sink, &err) < 0)
		status = query_status(&err);
	if (t->metrics)
		metrics_listeners_done(t->metrics);
	else
		count_listeners_done(t->count);
	return status;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Prints the counts or the metrics to f once every row is in. */
static int tally_write(const struct options *o, struct tally *t, FILE *f,
		       const struct timespec *t0)
{
	int rc;
	if (t->metrics) {
		rc = metrics_write(t->metrics, f, seconds_since(t0));
	} else if (t->summary && o->all_netns) {
		rc = summary_netns_write(o, t, f);
	} else if (t->summary) {
		struct summary sum = {.protos = o->protos};
		rc = count_finish(t->count, 0);
		if (rc == 0)
			rc = summary_from_count(&sum, t->count);
		if (rc == 0)
			rc = render_summary(f, &o->render, &sum);
	} else {
		struct count_render_opts ro = {.json = o->render.format != FORMAT_TABLE,
					       .header = o->render.header};
		rc = count_finish(t->count, o->top);
		if (rc == 0)
			rc = count_render(t->count, f, &ro);
	}
	return rc < 0 ? output_status(rc) : finish_output(f);
}

/* Counts (--count-by, -s) or metrics: the query engine into the engine, to f. */
static int tally(const struct options *o, const struct filter *filter, struct names *names,
		 struct tape *tape, FILE *f)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct tally t = {0};
	int rc;
	if (o->metrics) {
		struct metrics_opts mo = {
			.format = o->metrics_format,
			.top = o->top,
			.keys = o->ncount_keys ? o->count_keys : NULL,
			.nkeys = o->ncount_keys,
			.netns_label = o->all_netns,
		};
		rc = metrics_create(&t.metrics, &mo, names);
	} else if (o->ncount_keys) {
		rc = count_create(&t.count, o->count_keys, o->ncount_keys, names, 0);
	} else {
		t.summary = true;
		rc = o->all_netns ? count_create(&t.count, summary_netns_keys, SUMMARY_NKEYS + 1,
						 names, 0)
				  : count_create(&t.count, summary_keys, SUMMARY_NKEYS, names, 0);
	}
	if (rc < 0) {
		say("out of memory");
		return EXIT_RUNTIME;
	}
	struct query_config cfg = base_config(o, filter, tape);
	/* The metrics name each listener's process; counts only when a key asks. */
	cfg.owners = o->render.processes && (o->metrics || keys_need_owners(o));
	struct query q = {0};
	int status = tally_listeners(&t, &cfg, &q);
	if (status == EXIT_SUCCESS) {
		struct query_sink sink = {.row = tally_row, .arg = &t,
					  .netns = t.summary && o->all_netns ? tally_netns : NULL};
		struct query_error err;
		if (query_run(&q, &cfg, &sink, &err) < 0)
			status = query_status(&err);
	}
	if (status == EXIT_SUCCESS)
		status = tally_write(o, &t, f, &t0);
	netns_notes(&q);
	query_finish(&q);
	for (size_t i = 0; i < t.nns; i++)
		free(t.ns_names[i]);
	free(t.ns_names);
	metrics_destroy(t.metrics);
	count_destroy(t.count);
	return status;
}

/* The sink of -K: each selected socket closed (or, dry, not), then shown. */
struct kill_out {
	struct killer *killer;  /* NULL for --dry-run */
	struct render *render;
	bool failed;            /* some socket could not be closed */
	bool denied;            /* the kernel said we may not */
};

static int kill_row(void *arg, const struct sock *s)
{
	struct kill_out *ko = arg;
	int rc = ko->killer ? kill_close(ko->killer, s) : 0;
	/* Gone between the dump and the request: nothing left to close. */
	if ((rc == -ENOENT || rc == -ESTALE) && s->cookie)
		return 0;
	if (rc == -EPERM || rc == -EACCES) {
		ko->denied = true;
		return rc;
	}
	if (rc < 0) {
		char what[128];
		kill_describe(s, what, sizeof(what));
		const char *why = rc == -EOPNOTSUPP
					  ? "the kernel cannot close it (it lacks CONFIG_INET_DIAG_DESTROY, "
					    "or the protocol has no destroy)"
				  : rc == -ENOENT ? "the kernel's sock_diag cannot find it (no diag module "
						    "for the protocol, or it is gone)"
						  : strerror(-rc);
		say("cannot close %s: %s", what, why);
		ko->failed = true;
		return 0;
	}
	return render_row(ko->render, s);
}

static void say_denied(void)
{
	say("closing sockets needs CAP_NET_ADMIN (root)");
}

/* The protocols SOCK_DESTROY can name a socket of: those of inet_diag. */
static uint32_t kill_protos(void)
{
	uint32_t protos = 0;
	for (int p = 0; p < PROTO_COUNT; p++)
		if (proto_get((enum proto)p)->diag == PROTO_DIAG_INET)
			protos |= PROTO_BIT(p);
	return protos;
}

/* -K: the query engine into kill_row, on the sockets SOCK_DESTROY can name, to f. */
static int kill_list(const struct options *o, const struct filter *filter, struct names *names,
		     struct tape *tape, FILE *f)
{
	struct kill_out ko = {0};
	int rc = o->dry_run ? 0 : kill_create(&ko.killer);
	if (rc < 0) {
		say("cannot open a sock_diag socket: %s", strerror(-rc));
		return EXIT_RUNTIME;
	}
	if (render_create(&ko.render, f, &o->render, names) < 0) {
		kill_destroy(ko.killer);
		say("out of memory");
		return EXIT_RUNTIME;
	}
	struct query_config cfg = base_config(o, filter, tape);
	cfg.protos &= kill_protos();
	cfg.want_info = o->render.info;
	cfg.want_mem = o->render.memory;
	cfg.owners = o->render.processes;
	struct query_sink sink = {.row = kill_row, .arg = &ko};
	struct query q = {0};
	struct query_error err = {0};
	int status = EXIT_SUCCESS;
	if (query_run(&q, &cfg, &sink, &err) < 0) {
		if (ko.denied) {
			say_denied();
			status = EXIT_RUNTIME;
		} else {
			status = query_status(&err);
		}
	}
	if (status == EXIT_SUCCESS) {
		rc = render_finish(ko.render);
		status = rc < 0 ? output_status(rc) : finish_output(f);
	}
	if (status == EXIT_SUCCESS && ko.failed)
		status = EXIT_RUNTIME;
	render_destroy(ko.render);
	kill_destroy(ko.killer);
	query_finish(&q);
	return status;
}

/* -K closes only what the user narrowed it to: is there anything that narrows? */
static bool kill_narrowed(const struct options *o)
{
	return o->filter_nwords > 0 || o->nports || o->npids || o->ncommands || o->nuids ||
	       o->has_states;
}

static int refuse_unnarrowed(void)
{
	return usage_error("-K (--kill) closes only what a FILTER or --port, --pid, --command, "
			   "--user or --state selects; give one");
}

/* `autobound` judges ports by the range of the namespace being listed. */
static void set_local_ports(struct filter *filter)
{
	uint16_t lo, hi;
	if (filter_needs_local_ports(filter) && procnet_local_ports("/proc", &lo, &hi) == 0)
		filter_set_local_ports(filter, lo, hi);
}

/*
 * The output, to stdout or (--output) to a temporary file that replaces
 * FILE only when everything went well; otherwise FILE is left as it was.
 */
static int emit_to(const struct options *o, const struct filter *filter, struct names *names,
		   struct tape *tape)
{
	bool counted = o->metrics || o->ncount_keys || o->summary;
	if (!o->output)
		return counted ? tally(o, filter, names, tape, stdout)
		       : o->kill ? kill_list(o, filter, names, tape, stdout)
				 : list(o, filter, names, tape, stdout);
	char tmp[QUOTE_MAX + 4];
	struct outfile of = OUTFILE_INIT;
	int rc = outfile_open(&of, o->output);
	if (rc < 0) {
		say("cannot write '%s': %s", quoted(o->output, tmp, sizeof(tmp)), strerror(-rc));
		return EXIT_RUNTIME;
	}
	output_path = o->output;
	int status = counted ? tally(o, filter, names, tape, of.f)
		     : o->kill ? kill_list(o, filter, names, tape, of.f)
			       : list(o, filter, names, tape, of.f);
	output_path = NULL;
	if (status != EXIT_SUCCESS) {
		outfile_abort(&of);
		return status;
	}
	rc = outfile_commit(&of);
	if (rc < 0) {
		say("cannot write '%s': %s", quoted(o->output, tmp, sizeof(tmp)), strerror(-rc));
		return EXIT_RUNTIME;
	}
	return EXIT_SUCCESS;
}

/* The output, with the kernel's answers recorded or replayed if asked. */
static int emit(const struct options *o, const struct filter *filter, struct names *names)
{
	struct tape tape;
	int status = tape_open(&tape, o);
	if (status == EXIT_SUCCESS)
		status = emit_to(o, filter, names, &tape);
	return tape_close(&tape, o, status);
}

/* What a frame of --watch needs: the listing's own arguments. */
struct frame_arg {
	const struct options *o;
	const struct filter *filter;
	struct names *names;
};

/* One frame: what the one-shot output would print (a listing or counts). */
static int watch_frame(void *arg, struct watch *w, FILE *f, FILE *msg)
{
	struct frame_arg *a = arg;
	bool counted = a->o->metrics || a->o->ncount_keys || a->o->summary;
	struct tape tape;
	say_to = msg;
	int status = tape_open(&tape, a->o);
	if (status == EXIT_SUCCESS)
		status = counted ? tally(a->o, a->filter, a->names, &tape, f)
				 : list_in(a->o, a->filter, a->names, &tape, f, w);
	status = tape_close(&tape, a->o, status);
	say_to = NULL;
	return status;
}

/* --watch: the one-shot output, again every interval. */
static int watch_listing(const struct options *o, const struct filter *filter,
			 struct names *names)
{
	bool tty = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
	bool counted = o->metrics || o->ncount_keys || o->summary;
	struct watch_opts wo = {
		.interval_ms = o->watch_ms,
		.tty = tty,
		.color = tty && !getenv("NO_COLOR"),
		.marks = !counted && o->render.format == FORMAT_TABLE,
		.header = o->render.header,
		.out = stdout,
		.in_fd = STDIN_FILENO,
		.proc_root = "/proc",
		.owners_via = o->owners_via,
	};
	struct frame_arg a = {o, filter, names};
	if (loop_signals_install(STDOUT_FILENO) < 0) {
		say("cannot set up signal handling: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	int why;
	int status = watch_run(&wo, watch_frame, &a, &why);
	bool stopped = loop_stopping();
	loop_signals_restore();
	/* A write a stop signal interrupted is the stop, not an error. */
	if (stopped)
		return EXIT_SUCCESS;
	if (status != EXIT_SUCCESS && why)
		return output_status(why);
	return status;
}

static void notice(const char *msg)
{
	say("%s", msg);
}

/* --events: the stream until a stop signal. */
static int event_stream(const struct options *o, const struct filter *filter,
			struct names *names)
{
	struct events_config cfg = {
		.protos = events_protocols(o->protos),
		.families = o->families,
		.source = o->source,
		.filter = filter,
		.render = o->render,
		.table = o->render.format == FORMAT_TABLE && isatty(STDOUT_FILENO),
		.interval_ms = o->interval_ms,
		.out = stdout,
		.names = names,
		.proc_root = "/proc",
		.owners_via = o->owners_via,
		.notice = notice,
	};
	if (!cfg.protos)
		return usage_error("--events follows TCP and UDP sockets only");
	if (loop_signals_install(STDOUT_FILENO) < 0) {
		say("cannot set up signal handling: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	struct events_error err;
	int rc = events_run(&cfg, &err);
	bool stopped = loop_stopping();
	loop_signals_restore();
	if (rc == 0 || (stopped && err.kind == EVENTS_OUTPUT))
		return EXIT_SUCCESS;
	switch (err.kind) {
	case EVENTS_OUTPUT:
		return output_status(err.err);
	case EVENTS_QUERY:
		return query_status(&err.q);
	case EVENTS_NETLINK:
		say("sock_diag announcements: %s", strerror(-err.err));
		return EXIT_RUNTIME;
	default:
		say("out of memory");
		return EXIT_RUNTIME;
	}
}

static int run(const struct options *o)
{
	struct names *names = NULL;
	struct filter *filter = NULL;
	int status;
	if (o->kill && !kill_narrowed(o))
		return refuse_unnarrowed();
	if (o->kill && !(o->protos & kill_protos()))
		return usage_error("-K (--kill) closes only TCP, UDP and RAW sockets");
	if (o->kill && !o->dry_run && !kill_allowed()) {
		say_denied();
		return EXIT_RUNTIME;
	}
	if (names_create(&names, NULL) < 0) {
		say("out of memory");
		return EXIT_RUNTIME;
	}
	/* Device names in the FILTER are the namespace's own: enter it first. */
	if (o->netns && (status = enter_netns(o->netns)) != EXIT_SUCCESS)
		goto out;
	char msg[256];
	int rc = options_filter(o, names, &filter, msg, sizeof(msg));
	if (rc < 0) {
		if (rc == -EINVAL) {
			status = usage_error(msg);
		} else {
			say("%s", msg);
			status = EXIT_RUNTIME;
		}
		goto out;
	}
	set_local_ports(filter);
	if (o->events)
		status = event_stream(o, filter, names);
	else if (o->watch)
		status = watch_listing(o, filter, names);
	else
		status = o->kill && !filter ? refuse_unnarrowed() : emit(o, filter, names);
out:
	filter_destroy(filter);
	names_destroy(names);
	return status;
}

int main(int argc, char **argv)
{
	int stdout_closed = open_std_fds();
	if (stdout_closed < 0)
		return EXIT_RUNTIME;
	/* A closed pipe shows up as EPIPE from a write, and ends quietly. */
	signal(SIGPIPE, SIG_IGN);
	/* Column widths count terminal cells as the user's locale says. */
	setlocale(LC_CTYPE, "");

	struct options o;
	char err[256];
	if (options_parse(&o, argc, argv, err, sizeof(err)) < 0) {
		options_finish(&o);
		return usage_error(err);
	}
	int status;
	if (stdout_closed) {
		status = output_status(-EBADF);
	} else if (o.help) {
		options_usage(stdout);
		status = finish_stdout();
	} else if (o.version) {
		printf("sockstat %s\n", SOCKSTAT_VERSION);
		status = finish_stdout();
	} else {
		/* The scan opens a directory per process on several threads. */
		(void)owners_raise_fd_limit();
		status = run(&o);
	}
	options_finish(&o);
	return status;
}
