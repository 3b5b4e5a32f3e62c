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
#include <unistd.h>

#include "config.h"
#include "buf.h"
#include "escape.h"
#include "filter.h"
#include "names.h"
#include "netns.h"
#include "options.h"
#include "owners.h"
#include "query.h"
#include "record.h"
#include "render.h"
#include "sock.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* A user's word quoted in a message is cut here, so the reason stays in view. */
enum { QUOTE_MAX = 200 };

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
		fputs(b.p, stderr);
	buf_finish(&b);
	free(raw);
}

static int usage_error(const char *msg)
{
	say("%s", msg);
	fputs("Try 'sockstat --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

/* Exit status for an output error: a reader that went away is not one. */
static int output_status(int rc)
{
	if (rc == -EPIPE)
		return EXIT_SUCCESS;
	say("write error: %s", strerror(-rc));
	return EXIT_RUNTIME;
}

/* Flushes stdout; the status for what that shows. */
static int finish_stdout(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return EXIT_SUCCESS;
	return output_status(errno ? -errno : -EIO);
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

/*
 * The sink of a listing: rows to the renderer, or counts for -s, one
 * summary per namespace with --all-netns (sums[0] otherwise).
 */
struct out {
	struct render *render; /* NULL for -s */
	struct summary *sums;
	char **names;          /* --all-netns: each summary's namespace */
	size_t nsums;
	uint32_t protos;
};

static int out_row(void *arg, const struct sock *s)
{
	struct out *o = arg;
	if (!o->render) {
		summary_add(&o->sums[o->nsums - 1], s);
		return 0;
	}
	return render_row(o->render, s);
}

/* -s with --all-netns: a new summary for each namespace listed. */
static int out_netns(void *arg, uint64_t ino, const char *name)
{
	(void)ino;
	struct out *o = arg;
	if (o->render)
		return 0;
	struct summary *v = realloc(o->sums, (o->nsums + 1) * sizeof(*v));
	if (v)
		o->sums = v;
	char **n = v ? realloc(o->names, (o->nsums + 1) * sizeof(*n)) : NULL;
	if (n)
		o->names = n;
	char *copy = n ? strdup(name) : NULL;
	if (!copy)
		return -ENOMEM;
	o->sums[o->nsums] = (struct summary){.protos = o->protos};
	o->names[o->nsums++] = copy;
	return 0;
}

static void out_finish(struct out *o)
{
	for (size_t i = 0; o->names && i < o->nsums; i++)
		free(o->names[i]);
	free(o->names);
	free(o->sums);
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

/* Sets cfg up to record or replay as o says. Returns an exit status. */
static int tape_open(struct tape *t, const struct options *o, struct query_config *cfg)
{
	memset(t, 0, sizeof(*t));
	if (o->record) {
		record_init(&t->rec);
		t->observer = record_observer(&t->rec);
		t->tap = record_tap(&t->rec);
		cfg->observer = &t->observer;
		cfg->tap = &t->tap;
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
		cfg->transport = &t->transport;
		cfg->tap = &t->tap;
	}
	return EXIT_SUCCESS;
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

/* One listing: the query engine into the renderer or the summary. */
static int list(const struct options *o, const struct filter *filter, struct names *names)
{
	struct out out = {.protos = o->protos};
	bool table = !o->summary && o->render.format == FORMAT_TABLE;
	if (o->summary) {
		/* Without --all-netns, one summary; with it, one per namespace. */
		if (!o->all_netns && !(out.sums = calloc(1, sizeof(*out.sums)))) {
			say("out of memory");
			return EXIT_RUNTIME;
		}
		out.nsums = o->all_netns ? 0 : 1;
		if (out.sums)
			out.sums[0].protos = o->protos;
	} else if (render_create(&out.render, stdout, &o->render, names) < 0) {
		say("out of memory");
		return EXIT_RUNTIME;
	}
	struct query_config cfg = {
		.protos = o->protos,
		.families = o->families,
		.states = filter_states(filter, o->states),
		.source = o->source,
		.want_info = o->render.info && !o->summary,
		.want_mem = o->render.memory && !o->summary,
		.owners = o->render.processes && !o->summary,
		.filter = filter,
		.proc_root = "/proc",
		.all_netns = o->all_netns,
		.netns_patterns = o->netns_patterns,
		.nnetns_patterns = o->nnetns_patterns,
		.run_netns = "/run/netns",
		.want_cgroup = (o->render.cgroup && !o->summary) || filter_needs_cgroup(filter),
	};
	struct query_sink sink = {.row = out_row, .owners_late = table ? out_owners : NULL,
				  .netns = out_netns, .arg = &out};
	struct query q = {0};
	struct query_error err = {0};
	struct tape tape;
	int status = tape_open(&tape, o, &cfg);
	if (status == EXIT_SUCCESS && query_run(&q, &cfg, &sink, &err) < 0)
		status = query_status(&err);
	if (status == EXIT_SUCCESS && err.stage == QUERY_OK) {
		int rc = out.render ? render_finish(out.render)
				    : render_summaries(stdout, &o->render, out.sums,
						       (const char *const *)out.names, out.nsums);
		status = rc < 0 ? output_status(rc) : finish_stdout();
	}
	/*
	 * Why most Process cells name only a user, said once, to a person,
	 * and only to one who is not root (root may be refused a process or
	 * two too, but has no better way to see them).
	 */
	if (status == EXIT_SUCCESS && !o->summary && q.owners_denied && geteuid() != 0 &&
	    isatty(STDOUT_FILENO))
		say("not all processes could be read (you would have to be root to see them "
		    "all); their sockets show only the user");
	/* A /run/netns file that is no namespace, and the like: said once each. */
	for (size_t i = 0; q.netns && i < q.netns->nwarnings; i++)
		say("%s", q.netns->warnings[i]);
	if (q.netns_unentered)
		say("some network namespaces could not be entered (you would have to be root): "
		    "their sockets were read from /proc/PID/net of a process in them");
	status = tape_close(&tape, o, status);
	render_destroy(out.render);
	out_finish(&out);
	query_finish(&q);
	return status;
}

static int run(const struct options *o)
{
	struct names *names = NULL;
	struct filter *filter = NULL;
	int status;
	if (names_create(&names, NULL) < 0) {
		say("out of memory");
		return EXIT_RUNTIME;
	}
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
	if (o->netns && (status = enter_netns(o->netns)) != EXIT_SUCCESS)
		goto out;
	status = list(o, filter, names);
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
