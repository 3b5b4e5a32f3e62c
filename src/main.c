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

/* The sink of a listing: rows to the renderer, or counts for -s. */
struct out {
	struct render *render; /* NULL for -s */
	struct summary summary;
};

static int out_row(void *arg, const struct sock *s)
{
	struct out *o = arg;
	if (!o->render) {
		summary_add(&o->summary, s);
		return 0;
	}
	return render_row(o->render, s);
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
	case QUERY_SINK:
		return output_status(e->err);
	}
	return EXIT_RUNTIME;
}

/* One listing: the query engine into the renderer or the summary. */
static int list(const struct options *o, const struct filter *filter, struct names *names)
{
	struct out out = {0};
	bool table = !o->summary && o->render.format == FORMAT_TABLE;
	if (o->summary)
		out.summary.protos = o->protos;
	else if (render_create(&out.render, stdout, &o->render, names) < 0) {
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
		.owners_via = o->owners_via,
		.filter = filter,
		.proc_root = "/proc",
	};
	struct query_sink sink = {.row = out_row, .owners_late = table ? out_owners : NULL,
				  .arg = &out};
	struct query q = {0};
	struct query_error err;
	int status = EXIT_SUCCESS;
	if (query_run(&q, &cfg, &sink, &err) < 0)
		status = query_status(&err);
	if (status == EXIT_SUCCESS && err.stage == QUERY_OK) {
		int rc = out.render ? render_finish(out.render)
				    : render_summary(stdout, &o->render, &out.summary);
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
	render_destroy(out.render);
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
