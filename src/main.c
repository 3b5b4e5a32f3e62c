/*
 * sockstat: list sockets and the processes that own them.
 *
 * main is the only place that prints fatal errors and chooses the exit
 * status: 0 success (also when nothing matched), 1 runtime error, 2 usage
 * error. The pipeline is options -> gather -> owners -> names -> filter ->
 * render; each stage lives in its own module.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <pthread.h>
#include <sched.h>
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
#include "gather.h"
#include "names.h"
#include "options.h"
#include "owners.h"
#include "render.h"
#include "sock.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* Everything the per-socket step needs, built once here. */
struct run {
	const struct options *opts;
	const struct filter *filter;
	struct owners *owners;      /* NULL when /proc is not scanned */
	struct render *render;      /* NULL for -s */
	struct summary summary;
};

/* The /proc scan, run on a thread of its own while the kernel is asked. */
struct scan_job {
	struct owners *owners;
	int rc;
};

static void *scan_main(void *arg)
{
	struct scan_job *job = arg;
	job->rc = owners_scan(job->owners, "/proc");
	return NULL;
}

/* Prints "sockstat: MESSAGE" with any user-controlled text escaped. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	char raw[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	struct buf b = BUF_INIT;
	buf_adds(&b, "sockstat: ");
	escape_text(&b, raw, strlen(raw));
	buf_addc(&b, '\n');
	if (buf_ok(&b))
		fputs(b.p, stderr);
	buf_finish(&b);
}

/* The last steps for a row: owners, the filter when it needs them, output. */
static int emit(struct run *r, const struct sock *s)
{
	struct sock row = *s;
	row.owners = r->owners ? owners_lookup(r->owners, s->inode) : NULL;
	if (filter_needs_owners(r->filter) && !filter_match(r->filter, &row))
		return 0;
	if (!r->render) {
		summary_add(&r->summary, &row);
		return 0;
	}
	return render_row(r->render, &row);
}

static int on_sock(void *arg, const struct sock *s)
{
	struct run *r = arg;
	/* Most rows fail a filter on their addresses: judge those before the owners. */
	if (!filter_needs_owners(r->filter) && !filter_match(r->filter, s))
		return 0;
	return emit(r, s);
}

/*
 * Moves this process into a network namespace given as a name under
 * /run/netns or as a path. /proc/net follows (it shows the namespace of
 * the reading task), so both sources see the same sockets.
 */
static int enter_netns(const char *spec)
{
	char path[4096];
	if (strchr(spec, '/'))
		snprintf(path, sizeof(path), "%s", spec);
	else if (snprintf(path, sizeof(path), "/run/netns/%s", spec) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

/* Exit status for an output error: a reader that went away is not one. */
static int output_status(int rc)
{
	if (rc == -EPIPE)
		return EXIT_SUCCESS;
	say("write error: %s", strerror(-rc));
	return EXIT_RUNTIME;
}

static int run(const struct options *o)
{
	int status = EXIT_SUCCESS;
	struct names *names = NULL;
	struct filter *filter = NULL;
	struct owners *owners = NULL;
	struct render *render = NULL;
	/* Everything the exit path releases is set up before the first goto. */
	struct run r = {.opts = o};
	struct scan_job job = {0};
	bool scanning = false;

	if (names_create(&names, NULL) < 0) {
		say("out of memory");
		status = EXIT_RUNTIME;
		goto out;
	}

	char ferr[256];
	int frc = options_filter(o, names, &filter, ferr, sizeof(ferr));
	if (frc < 0) {
		say("%s", ferr);
		status = frc == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
		goto out;
	}

	if (o->netns) {
		int rc = enter_netns(o->netns);
		if (rc < 0) {
			say("cannot enter network namespace '%s': %s", o->netns, strerror(-rc));
			status = rc == -ENOENT ? EXIT_USAGE : EXIT_RUNTIME;
			goto out;
		}
	}

	/*
	 * The /proc scan and the netlink dump are the two big costs, and
	 * they are independent. The table fills its Process column last
	 * (render_set_owners), so there the scan runs on a thread of its own
	 * while rows stream in. Everything else needs the owners per row (to
	 * print them as JSON streams, or to apply --pid, --command, --user),
	 * so there the scan comes first.
	 */
	bool proc_filters = filter_needs_owners(filter);
	bool need_owners = proc_filters || (o->render.processes && !o->summary);
	bool overlap = need_owners && !proc_filters && !o->summary &&
		       o->render.format == FORMAT_TABLE;
	r.filter = filter;
	int rc;
	if (need_owners) {
		rc = owners_create(&owners);
		if (rc < 0) {
			say("out of memory");
			status = EXIT_RUNTIME;
			goto out;
		}
		job.owners = owners;
		if (overlap) {
			job.rc = owners_scan_start(owners, "/proc");
			if (job.rc < 0)
				goto scan_failed;
			scanning = true;
		}
		if (!scanning) {
			scan_main(&job);
			if (job.rc < 0)
				goto scan_failed;
			r.owners = owners;
		}
	}

	if (o->summary) {
		r.summary.protos = o->protos;
	} else if (render_create(&render, stdout, &o->render, names) < 0) {
		say("out of memory");
		status = EXIT_RUNTIME;
		goto out;
	}
	r.render = render;

	struct gather_request req = {
		.protos = o->protos,
		.families = o->families,
		.states = filter_states(filter, o->states),
		.source = o->source,
		.want_info = o->render.info && !o->summary,
		.want_mem = o->render.memory && !o->summary,
		.filter = filter,
		.proc_root = "/proc",
	};
	struct gather_error gerr = {0};
	rc = gather_run(&req, on_sock, &r, &gerr);
	if (scanning) {
		job.rc = owners_scan_finish(owners);
		scanning = false;
		if (job.rc < 0)
			goto scan_failed;
		render_set_owners(render, owners);
	}
	if (rc == -EPIPE) {
		status = EXIT_SUCCESS;
		goto out;
	}
	if (rc < 0) {
		switch (gerr.kind) {
		case GATHER_FAIL_NOMEM:
			say("out of memory");
			break;
		case GATHER_FAIL_NETLINK:
			say("%s: the kernel's sock_diag cannot list these sockets (%s); "
			    "--source auto falls back to /proc/net",
			    proto_table[gerr.proto].name, strerror(-rc));
			break;
		case GATHER_FAIL_PROCNET:
			say("%s: %s: %s", proto_table[gerr.proto].name, gerr.file, strerror(-rc));
			break;
		case GATHER_FAIL_SINK:
			status = output_status(rc);
			goto out;
		}
		status = EXIT_RUNTIME;
		goto out;
	}

	rc = render ? render_finish(render) : render_summary(stdout, &o->render, &r.summary);
	if (rc == 0 && fflush(stdout) != 0)
		rc = -errno;
	if (rc < 0)
		status = output_status(rc);
	goto out;

scan_failed:
	say("cannot scan /proc for processes: %s", strerror(-job.rc));
	status = EXIT_RUNTIME;
out:
	if (scanning)
		owners_scan_finish(owners);
	render_destroy(render);
	owners_destroy(owners);
	filter_destroy(filter);
	names_destroy(names);
	return status;
}

/* The second line of every usage error. */
static void usage_hint(void)
{
	fputs("Try 'sockstat --help' for more information.\n", stderr);
}

int main(int argc, char **argv)
{
	setlocale(LC_CTYPE, "");
	/* A closed pipe shows up as EPIPE from a write, and ends quietly. */
	signal(SIGPIPE, SIG_IGN);
	/* A small soft fd limit would stop the /proc scan (EMFILE). */
	(void)owners_raise_fd_limit();

	struct options o;
	char err[256];
	if (options_parse(&o, argc, argv, err, sizeof(err)) < 0) {
		say("%s", err);
		usage_hint();
		options_finish(&o);
		return EXIT_USAGE;
	}
	int status = EXIT_SUCCESS;
	if (o.help) {
		options_usage(stdout);
	} else if (o.version) {
		printf("sockstat %s\n", SOCKSTAT_VERSION);
	} else {
		status = run(&o);
		if (status == EXIT_USAGE)
			usage_hint();
	}
	if (fflush(stdout) != 0 && status == EXIT_SUCCESS && errno != EPIPE)
		status = EXIT_RUNTIME;
	options_finish(&o);
	return status;
}
