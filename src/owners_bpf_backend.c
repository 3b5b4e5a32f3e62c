/* For syscall (capget), beyond POSIX. */
#define _GNU_SOURCE
/*
 * The BPF backend of the owners map: one read of the task_file iterator
 * (owners_bpf.h) instead of a readlink per descriptor in /proc.
 *
 * start makes only the cheap checks (the live /proc, privilege, BTF, a
 * /proc of this PID namespace) and then loads and reads the iterator on
 * a thread of its own, so the load (about 15 ms) and the read overlap
 * the caller's netlink dump; finish joins it and fills the map. A load
 * that fails on the thread is only known at finish, which then answers
 * -EOPNOTSUPP, so that "auto" falls back to /proc there.
 */
#include "owners_backend.h"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arena.h"
#include "owners_bpf.h"

/* Linux 5.8 split these out of CAP_SYS_ADMIN; older headers lack them. */
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/*
 * libbpf's load runs on the scan thread and keeps some path and log
 * buffers on the stack; 1 MiB is ample, and an eighth of a default
 * thread stack's address space.
 */
enum { LOAD_STACK = 1024 * 1024, CHUNK = 1024, CMDLINE_SIZE = 4096, WHY = 160 };

/* A holder with the inode it holds, as the iterator reports it. */
struct entry {
	uint64_t inode;
	struct owner w;
};

/* The entries in the order of the records, CHUNK at a time. */
struct chunk {
	struct chunk *next;
	size_t n;
	struct entry e[CHUNK];
};

struct bpf_state {
	struct arena *arena;   /* the map's arena 0: entries, names */
	bool argv0;
	int root;              /* /proc, for argv[0] only; -1 without argv0 */
	struct chunk *head, *tail;
	/* The process of the previous record, whose names the next reuses. */
	int32_t last_pid, last_tid;
	const char *last_comm, *last_argv0;
	char *cmdline;         /* CMDLINE_SIZE, with argv0 only */
	pthread_t thread;
	bool running;
	int ret;
	char why[WHY];
};

/* Whether the effective set holds cap (a CAP_* number). */
static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return cap < 64 && (d[cap / 32].effective & (1u << (cap % 32)));
}

/*
 * Whether this process may load a tracing program that reads kernel
 * memory: CAP_BPF with CAP_PERFMON, or CAP_SYS_ADMIN. Asked of capget
 * first, so a user without them costs no thread and no libbpf work.
 */
static bool privileged(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2] = {{0}};
	if (syscall(SYS_capget, &h, d) != 0)
		return geteuid() == 0;
	return has_cap(d, CAP_SYS_ADMIN) || (has_cap(d, CAP_BPF) && has_cap(d, CAP_PERFMON));
}

/*
 * Whether /proc numbers processes as this PID namespace does: the
 * iterator gives this namespace's pids, and argv[0] is read from
 * /proc/PID, so both must agree (a /proc mounted for another namespace,
 * as after unshare --pid without --mount-proc, does not).
 */
static bool proc_is_ours(void)
{
	char link[24];
	ssize_t n = readlink("/proc/self", link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	char want[24];
	snprintf(want, sizeof(want), "%ld", (long)getpid());
	return strcmp(link, want) == 0;
}

static int decline(struct owners *o, const char *why)
{
	owners_note_why(o, why);
	return -EOPNOTSUPP;
}

/*
 * The basename of argv[0] of the process read through base ("PID" or
 * "PID/task/TID"), or NULL when unreadable, empty or cut, as the /proc
 * backend reads it.
 */
static int read_argv0(struct bpf_state *st, const char *base, const char **out)
{
	char path[64];
	*out = NULL;
	snprintf(path, sizeof(path), "%s/cmdline", base);
	int fd = openat(st->root, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == EMFILE || errno == ENFILE || errno == ENOMEM ? -errno : 0;
	ssize_t n;
	do
		n = read(fd, st->cmdline, CMDLINE_SIZE);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return 0;
	const char *s = st->cmdline, *end = memchr(s, '\0', (size_t)n);
	if (!end) {
		if ((size_t)n == CMDLINE_SIZE)
			return 0;
		end = s + n;
	}
	for (const char *p = s; p < end; p++)
		if (*p == '/')
			s = p + 1;
	if (s == end)
		return 0;
	*out = arena_strndup(st->arena, s, (size_t)(end - s));
	return *out ? 0 : -ENOMEM;
}

/* The names of r's process: the previous record's when it is the same. */
static int names_of(struct bpf_state *st, const struct owners_bpf_rec *r)
{
	if (st->last_comm && r->pid == st->last_pid && r->tid == st->last_tid)
		return 0;
	st->last_pid = r->pid;
	st->last_tid = r->tid;
	st->last_comm = arena_strndup(st->arena, r->comm, strlen(r->comm));
	if (!st->last_comm)
		return -ENOMEM;
	st->last_argv0 = NULL;
	if (!st->argv0)
		return 0;
	/* A leader that has exited left no memory; a live thread still has it. */
	char base[40];
	if (r->tid == r->pid)
		snprintf(base, sizeof(base), "%d", (int)r->pid);
	else
		snprintf(base, sizeof(base), "%d/task/%d", (int)r->pid, (int)r->tid);
	return read_argv0(st, base, &st->last_argv0);
}

static int on_rec(void *arg, const struct owners_bpf_rec *r)
{
	struct bpf_state *st = arg;
	if (r->inode == 0)
		return 0;
	int ret = names_of(st, r);
	if (ret < 0)
		return ret;
	if (!st->tail || st->tail->n == CHUNK) {
		struct chunk *c = arena_alloc(st->arena, sizeof(*c));
		if (!c)
			return -ENOMEM;
		c->next = NULL;
		c->n = 0;
		if (st->tail)
			st->tail->next = c;
		else
			st->head = c;
		st->tail = c;
	}
	st->tail->e[st->tail->n++] = (struct entry){
		.inode = r->inode,
		.w = {.next = NULL, .pid = r->pid, .fd = r->fd, .uid = r->uid,
		      .comm = st->last_comm, .argv0 = st->last_argv0}};
	return 0;
}

/* Loads, reads and unloads the iterator: the whole scan, on any thread. */
static void *scan(void *arg)
{
	struct bpf_state *st = arg;
	struct owners_bpf *b;
	st->ret = owners_bpf_open(&b, st->why, sizeof(st->why));
	if (st->ret < 0)
		return NULL;
	st->ret = owners_bpf_read(b, on_rec, st);
	if (st->ret < 0 && st->ret != -ENOMEM)
		snprintf(st->why, sizeof(st->why), "reading the BPF socket iterator failed: %s",
			 strerror(-st->ret));
	owners_bpf_close(b);
	return NULL;
}

static void free_state(struct bpf_state *st)
{
	if (st->root >= 0)
		close(st->root);
	free(st->cmdline);
	free(st);
}

static int bpf_start(struct owners *o, const struct owners_scan_opts *opts, void **state)
{
#ifndef HAVE_BPF
	(void)opts;
	(void)state;
	return decline(o, "this sockstat was built without BPF support");
#endif
	if (strcmp(opts->proc_root, "/proc") != 0)
		return decline(o, "it reads the live system, not a copy of /proc");
	if (!privileged())
		return decline(o, "loading BPF programs needs root "
				  "(CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)");
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		return decline(o, "the kernel has no BTF (/sys/kernel/btf/vmlinux)");
	if (!proc_is_ours())
		return decline(o, "/proc is not mounted for sockstat's PID namespace");

	struct bpf_state *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->arena = owners_arena(o, 0);
	st->argv0 = opts->argv0;
	st->root = -1;
	if (st->argv0) {
		st->cmdline = malloc(CMDLINE_SIZE);
		st->root = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (!st->cmdline || st->root < 0) {
			int ret = st->cmdline ? -errno : -ENOMEM;
			free_state(st);
			return ret;
		}
	}
	if (!opts->inline_first) {
		pthread_attr_t attr;
		bool attr_ok = pthread_attr_init(&attr) == 0;
		if (attr_ok)
			pthread_attr_setstacksize(&attr, LOAD_STACK);
		/* A thread that cannot start leaves the scan to finish. */
		st->running = pthread_create(&st->thread, attr_ok ? &attr : NULL, scan, st) == 0;
		if (attr_ok)
			pthread_attr_destroy(&attr);
	}
	*state = st;
	return 0;
}

/*
 * The errors that mean BPF cannot be used here (the kernel refused the
 * program, or its read) rather than a failure of sockstat itself: "auto"
 * then falls back to /proc.
 */
static bool unusable(int err)
{
	return err != -ENOMEM && err != -EMFILE && err != -ENFILE;
}

static int bpf_finish(struct owners *o, void *state)
{
	struct bpf_state *st = state;
	if (st->running)
		pthread_join(st->thread, NULL);
	else
		scan(st);
	int ret = st->ret;
	if (ret < 0) {
		if (st->why[0])
			owners_note_why(o, st->why);
		if (unusable(ret))
			ret = -EOPNOTSUPP;
	}
	/*
	 * The records come in thread id order, which is pid order but for
	 * threads with file tables of their own; owners_add sorts those in
	 * and drops the repeats two threads sharing such a table give.
	 */
	for (const struct chunk *c = st->head; ret == 0 && c; c = c->next)
		for (size_t i = 0; ret == 0 && i < c->n; i++) {
			struct entry *e = (struct entry *)&c->e[i];
			ret = owners_add(o, e->inode, &e->w);
		}
	free_state(st);
	return ret;
}

const struct owners_backend owners_bpf_backend = {
	.name = "bpf",
	.start = bpf_start,
	.finish = bpf_finish,
};
