/* For the Linux and GNU calls test helpers use (unshare, setns, pipe2, ...), beyond POSIX. */
#define _GNU_SOURCE
/*
 * The BPF owners backend against the live kernel: the iterator passes the
 * verifier, and what it reports for a set of processes made here is what
 * /proc says about them, pid for pid and fd for fd, also when run inside a
 * child PID namespace (meson runs this test a second time under
 * `unshare --pid --fork --mount-proc`). Needs root; skips without it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "owners_bpf.h"

#ifdef HAVE_BPF
#include <bpf/bpf.h>
#endif

#ifdef HAVE_BPF

enum { MAXKIDS = 8, NOBODY = 65534 };

/* Every record of one read; the machine may hold many sockets besides ours. */
struct recs {
	struct owners_bpf_rec *r;
	size_t n, cap;
};

static int collect(void *arg, const struct owners_bpf_rec *r)
{
	struct recs *rs = arg;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? 2 * rs->cap : 1024;
		struct owners_bpf_rec *v = realloc(rs->r, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		rs->r = v;
		rs->cap = cap;
	}
	rs->r[rs->n++] = *r;
	return 0;
}

static struct owners_bpf *bpf;
static struct recs now;

static void reread(void)
{
	now.n = 0;
	assert_int_equal(owners_bpf_read(bpf, collect, &now), 0);
}

/* One socket descriptor, as /proc or the iterator gives it. */
struct fdsock {
	int fd;
	uint64_t inode;
};

static int cmp_fdsock(const void *a, const void *b)
{
	const struct fdsock *x = a, *y = b;
	if (x->fd != y->fd)
		return (x->fd > y->fd) - (x->fd < y->fd);
	return (x->inode > y->inode) - (x->inode < y->inode);
}

/* Appends the sockets of the fd directory dir to out (at most max). */
static size_t proc_fds(const char *dir, struct fdsock *out, size_t n, size_t max)
{
	DIR *d = opendir(dir);
	if (!d)
		return n;
	struct dirent *e;
	while ((e = readdir(d)) && n < max) {
		char p[300], l[64];
		unsigned long long ino;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		ssize_t k = readlink(p, l, sizeof(l) - 1);
		if (k <= 0)
			continue;
		l[k] = '\0';
		if (sscanf(l, "socket:[%llu]", &ino) == 1)
			out[n++] = (struct fdsock){atoi(e->d_name), ino};
	}
	closedir(d);
	return n;
}

/* Sorts and drops repeats, so two lists compare as sets. */
static size_t uniq(struct fdsock *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_fdsock);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || cmp_fdsock(&v[k - 1], &v[i]) != 0)
			v[k++] = v[i];
	return k;
}

/* The iterator's (fd, inode) pairs of pid (optionally of one tid only). */
static size_t bpf_fds(int pid, int tid, struct fdsock *out, size_t max, size_t *repeats)
{
	size_t n = 0;
	for (size_t i = 0; i < now.n && n < max; i++)
		if (now.r[i].pid == pid && (tid == 0 || now.r[i].tid == tid))
			out[n++] = (struct fdsock){now.r[i].fd, now.r[i].inode};
	size_t k = uniq(out, n);
	if (repeats)
		*repeats = n - k;
	return k;
}

/* What /proc says pid holds: its own fd directory, or every thread's. */
static size_t proc_pid_fds(int pid, bool threads, struct fdsock *out, size_t max)
{
	char p[64];
	size_t n = 0;
	if (!threads) {
		snprintf(p, sizeof(p), "/proc/%d/fd", pid);
		return uniq(out, proc_fds(p, out, 0, max));
	}
	snprintf(p, sizeof(p), "/proc/%d/task", pid);
	DIR *d = opendir(p);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			char q[300];
			snprintf(q, sizeof(q), "/proc/%d/task/%s/fd", pid, e->d_name);
			n = proc_fds(q, out, n, max);
		}
	closedir(d);
	return uniq(out, n);
}

static void assert_same(const struct fdsock *a, size_t na, const struct fdsock *b, size_t nb)
{
	for (size_t i = 0; i < na && i < nb; i++) {
		assert_int_equal(a[i].fd, b[i].fd);
		assert_int_equal(a[i].inode, b[i].inode);
	}
	assert_int_equal(na, nb);
}

/* The records of pid agree with /proc on fds, comm and effective uid. */
static void assert_like_proc(int pid, bool threads)
{
	static struct fdsock a[256], b[256];
	size_t rep;
	size_t na = bpf_fds(pid, 0, a, 256, &rep);
	size_t nb = proc_pid_fds(pid, threads, b, 256);
	assert_true(na > 0);
	assert_int_equal(rep, 0);
	assert_same(a, na, b, nb);

	char p[64], comm[32] = "", line[256];
	snprintf(p, sizeof(p), "/proc/%d/comm", pid);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	assert_non_null(fgets(comm, sizeof(comm), f));
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	unsigned ruid = 0, euid = ~0u;
	snprintf(p, sizeof(p), "/proc/%d/status", pid);
	f = fopen(p, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		sscanf(line, "Uid: %u %u", &ruid, &euid);
	fclose(f);
	for (size_t i = 0; i < now.n; i++)
		if (now.r[i].pid == pid) {
			assert_string_equal(now.r[i].comm, comm);
			assert_int_equal(now.r[i].uid, euid);
		}
}

/*
 * The population. Each child says it is ready by writing an int (the
 * thread of interest, or its own pid) to the ready pipe, then waits for
 * the hold pipe to close; PR_SET_PDEATHSIG ends it if this test dies.
 */
static int ready_pipe[2], hold_pipe[2];
static pid_t kids[MAXKIDS];
static int nkids;
static int shared_sock = -1; /* held by three children */

static void hold(void)
{
	char c;
	while (read(hold_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

static void say_ready(int v)
{
	if (write(ready_pipe[1], &v, sizeof(v)) != sizeof(v))
		_exit(1);
}

static int sock(void)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0)
		_exit(1);
	return s;
}

static void *unshared_thread(void *arg)
{
	(void)arg;
	/* From here on this thread's table is its own copy. */
	if (unshare(CLONE_FILES) != 0)
		_exit(1);
	int s = sock();
	(void)s;
	say_ready((int)syscall(SYS_gettid));
	hold();
	return NULL;
}

static void *worker_thread(void *arg)
{
	(void)arg;
	say_ready((int)syscall(SYS_gettid));
	hold();
	return NULL;
}

enum kind { TWO_FDS, SHARED, SHARED2, SHARED3, UNSHARED, ORPHANED, NOBODY_UID };
static int kid_info[MAXKIDS]; /* what each child said when ready */

static void child(enum kind k)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	static const char *names[] = {"bpf-twofds", "bpf-shared", "bpf-shared", "bpf-shared",
				      "bpf-unshared", "bpf-orphaned", "bpf-nobody"};
	prctl(PR_SET_NAME, names[k]);
	if (k != SHARED && k != SHARED2 && k != SHARED3)
		close(shared_sock);
	pthread_t t;
	switch (k) {
	case TWO_FDS: {
		int s = sock();
		if (dup2(s, 40) != 40)
			_exit(1);
		break;
	}
	case SHARED:
	case SHARED2:
	case SHARED3:
		break;
	case UNSHARED:
		/* One socket before the copy: the leader's, and not repeated. */
		(void)sock();
		if (pthread_create(&t, NULL, unshared_thread, NULL) != 0)
			_exit(1);
		pthread_join(t, NULL);
		_exit(1);
	case ORPHANED:
		(void)sock();
		if (pthread_create(&t, NULL, worker_thread, NULL) != 0)
			_exit(1);
		/* The leader exits alone; the worker keeps the table. */
		syscall(SYS_exit, 0);
		_exit(1);
	case NOBODY_UID:
		(void)sock();
		if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
			_exit(1);
		break;
	}
	say_ready((int)getpid());
	hold();
}

static bool leader_zombie(pid_t pid)
{
	char p[64], line[128];
	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	FILE *f = fopen(p, "r");
	bool z = false;
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "State:", 6) == 0)
			z = strchr(line, 'Z') != NULL;
	fclose(f);
	return z;
}

static int population_up(void **state)
{
	(void)state;
	if (pipe2(ready_pipe, O_CLOEXEC) || pipe2(hold_pipe, O_CLOEXEC))
		return -1;
	shared_sock = socket(AF_UNIX, SOCK_DGRAM, 0);
	for (enum kind k = TWO_FDS; k <= NOBODY_UID; k++) {
		pid_t pid = fork();
		if (pid < 0)
			return -1;
		if (pid == 0) {
			close(hold_pipe[1]);
			child(k);
		}
		kids[nkids++] = pid;
	}
	close(shared_sock); /* now only the three SHARED children hold it */
	for (int i = 0; i < nkids; i++) {
		struct pollfd p = {.fd = ready_pipe[0], .events = POLLIN};
		if (poll(&p, 1, 5000) != 1 || read(ready_pipe[0], &kid_info[i], sizeof(int)) != sizeof(int))
			return -1;
	}
	/* The ready messages arrive in any order; the leader's exit is waited for. */
	for (int i = 0; i < 500 && !leader_zombie(kids[ORPHANED]); i++)
		usleep(10000);
	return leader_zombie(kids[ORPHANED]) ? 0 : -1;
}

static int population_down(void **state)
{
	(void)state;
	close(hold_pipe[1]);
	for (int i = 0; i < nkids; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	return 0;
}

/* The tid a child reported; the ready messages carry tids, so find ours. */
static int thread_of(pid_t pid)
{
	for (int i = 0; i < nkids; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d/task/%d", (int)pid, kid_info[i]);
		if (kid_info[i] != pid && access(p, F_OK) == 0)
			return kid_info[i];
	}
	return 0;
}

static void test_two_fds(void **state)
{
	(void)state;
	reread();
	assert_like_proc(kids[TWO_FDS], false);
	struct fdsock a[16];
	size_t n = bpf_fds(kids[TWO_FDS], 0, a, 16, NULL);
	uint64_t at40 = 0, others = 0;
	for (size_t i = 0; i < n; i++) {
		if (a[i].fd == 40)
			at40 = a[i].inode;
		else
			others = a[i].inode;
	}
	assert_true(at40 != 0);
	assert_int_equal(at40, others);
}

static void test_three_holders(void **state)
{
	(void)state;
	reread();
	struct stat st;
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/fd/%d", (int)kids[SHARED], shared_sock);
	assert_int_equal(stat(p, &st), 0);
	int holders[3], nh = 0;
	for (size_t i = 0; i < now.n; i++)
		if (now.r[i].inode == st.st_ino) {
			assert_true(nh < 3);
			holders[nh++] = now.r[i].pid;
			assert_int_equal(now.r[i].fd, shared_sock);
		}
	assert_int_equal(nh, 3);
	for (int k = SHARED; k <= SHARED3; k++) {
		assert_true(holders[0] == kids[k] || holders[1] == kids[k] || holders[2] == kids[k]);
		assert_like_proc(kids[k], false);
	}
}

/*
 * A thread with a table of its own is a holder, reported under its
 * process; /proc/PID/fd shows only the leader's table (the /proc backend
 * misses it), /proc/PID/task/TID/fd shows it.
 */
static void test_unshared_thread(void **state)
{
	(void)state;
	reread();
	pid_t pid = kids[UNSHARED];
	int tid = thread_of(pid);
	assert_true(tid > 0);
	assert_like_proc(pid, true);
	struct fdsock mine[64], leaders[64], procs[64];
	size_t nt = bpf_fds(pid, tid, mine, 64, NULL);
	size_t nl = bpf_fds(pid, pid, leaders, 64, NULL);
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
	size_t np = uniq(procs, proc_fds(p, procs, 0, 64));
	assert_int_equal(nt, 1);
	assert_same(leaders, nl, procs, np);
	for (size_t i = 0; i < np; i++)
		assert_true(procs[i].inode != mine[0].inode);
}

/*
 * The leader has exited; its worker's table still holds the socket, under
 * the process's pid. /proc/PID/fd of such a process is empty (the /proc
 * backend misses these holders); /proc/PID/task/TID/fd shows them.
 */
static void test_orphaned_worker(void **state)
{
	(void)state;
	reread();
	pid_t pid = kids[ORPHANED];
	int tid = thread_of(pid);
	assert_true(tid > 0);
	assert_like_proc(pid, true);
	struct fdsock a[64], b[64];
	size_t n = bpf_fds(pid, tid, a, 64, NULL);
	assert_true(n >= 1);
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
	assert_int_equal(proc_fds(p, b, 0, 64), 0);
	for (size_t i = 0; i < now.n; i++)
		if (now.r[i].pid == pid)
			assert_string_equal(now.r[i].comm, "bpf-orphaned");
}

static void test_uid(void **state)
{
	(void)state;
	reread();
	assert_like_proc(kids[NOBODY_UID], false);
	size_t seen = 0;
	for (size_t i = 0; i < now.n; i++)
		if (now.r[i].pid == kids[NOBODY_UID]) {
			assert_int_equal(now.r[i].uid, NOBODY);
			assert_string_equal(now.r[i].comm, "bpf-nobody");
			seen++;
		}
	assert_true(seen > 0);
}

/*
 * Every pid is the reader's namespace's own: each names a live process
 * here. Inside a child namespace the whole world is this test and its
 * children, so nothing else may appear.
 */
static void test_namespace_pids(void **state)
{
	(void)state;
	reread();
	bool child_ns = getpid() == 1;
	for (size_t i = 0; i < now.n; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d/task/%d", now.r[i].pid, now.r[i].tid);
		struct stat st;
		if (stat(p, &st) != 0)
			continue; /* another helper's process that just ended */
		if (child_ns) {
			bool ours = now.r[i].pid == 1;
			for (int k = 0; k < nkids; k++)
				ours = ours || now.r[i].pid == kids[k];
			assert_true(ours);
		}
	}
	if (child_ns)
		for (int k = 0; k < nkids; k++)
			assert_true(kids[k] < 100);
}

/* Reading twice gives the same listing of a population that stands still. */
static void test_reread(void **state)
{
	(void)state;
	reread();
	struct fdsock a[64], b[64];
	size_t na = bpf_fds(kids[TWO_FDS], 0, a, 64, NULL);
	reread();
	size_t nb = bpf_fds(kids[TWO_FDS], 0, b, 64, NULL);
	assert_same(a, na, b, nb);
}

static void *open_on_thread(void *arg)
{
	char why[200];
	struct owners_bpf **b = arg;
	if (owners_bpf_open(b, why, sizeof(why)) != 0)
		*b = NULL;
	return NULL;
}

/* The load runs on a thread while the caller goes on, as sockstat does. */
static void test_open_on_thread(void **state)
{
	(void)state;
	struct owners_bpf *b = NULL;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, open_on_thread, &b), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_non_null(b);
	struct recs rs = {NULL, 0, 0};
	assert_int_equal(owners_bpf_read(b, collect, &rs), 0);
	assert_true(rs.n > 0);
	free(rs.r);
	owners_bpf_close(b);
}

static int stop_at_first(void *arg, const struct owners_bpf_rec *r);

/* The ids of the loaded BPF programs named sockiter, into ids (at most max). */
static size_t sockiter_progs(uint32_t *ids, size_t max)
{
	size_t n = 0;
	uint32_t id = 0;
	while (n < max && bpf_prog_get_next_id(id, &id) == 0) {
		int fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && strcmp(info.name, "sockiter") == 0)
			ids[n++] = id;
		close(fd);
	}
	return n;
}

static bool has_id(const uint32_t *ids, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static size_t count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	size_t n = 0;
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/*
 * Close leaves nothing: no descriptor in this process, and the program
 * it loaded is gone from the kernel (nothing pinned, nothing attached).
 * The kernel may free the link a moment after the last close.
 */
static void test_close_leaves_nothing(void **state)
{
	(void)state;
	uint32_t before[64], during[64], after[64];
	size_t nb = sockiter_progs(before, 64);
	size_t fds = count_fds();
	struct owners_bpf *b;
	char why[200];
	assert_int_equal(owners_bpf_open(&b, why, sizeof(why)), 0);
	int calls = 0;
	assert_int_equal(owners_bpf_read(b, stop_at_first, &calls), 42);
	size_t nd = sockiter_progs(during, 64);
	uint32_t mine = 0;
	for (size_t i = 0; i < nd; i++)
		if (!has_id(before, nb, during[i]))
			mine = during[i];
	assert_true(mine != 0);
	owners_bpf_close(b);
	assert_int_equal(count_fds(), fds);
	size_t na = 0;
	for (int i = 0; i < 200; i++) {
		na = sockiter_progs(after, 64);
		if (!has_id(after, na, mine))
			break;
		usleep(5000);
	}
	assert_false(has_id(after, na, mine));
}

static int stop_at_first(void *arg, const struct owners_bpf_rec *r)
{
	(void)r;
	++*(int *)arg;
	return 42;
}

static void test_callback_stops(void **state)
{
	(void)state;
	int calls = 0;
	assert_int_equal(owners_bpf_read(bpf, stop_at_first, &calls), 42);
	assert_int_equal(calls, 1);
}

/* As nobody the load fails, with a reason and nothing to close. */
static void test_nobody_fails(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char why[200] = "unchanged";
		struct owners_bpf *b = (struct owners_bpf *)&why;
		if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY))
			_exit(2);
		int err = owners_bpf_open(&b, why, sizeof(why));
		char msg[256];
		int n = snprintf(msg, sizeof(msg), "%d %d %s", err, b == NULL, why);
		_exit(write(p[1], msg, (size_t)n + 1) == n + 1 ? 0 : 3);
	}
	close(p[1]);
	char msg[256] = "";
	assert_true(read(p[0], msg, sizeof(msg) - 1) > 0);
	close(p[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	int err = 0, null = 0, off = 0;
	assert_int_equal(sscanf(msg, "%d %d %n", &err, &null, &off), 2);
	assert_int_equal(err, -EPERM);
	assert_int_equal(null, 1);
	assert_non_null(strstr(msg + off, "needs root"));
	assert_null(strchr(msg + off, '\n'));
}

static int bpf_up(void **state)
{
	char why[200];
	int err = owners_bpf_open(&bpf, why, sizeof(why));
	if (err) {
		fprintf(stderr, "owners_bpf_open: %d %s\n", err, why);
		return -1;
	}
	return population_up(state);
}

static int bpf_down(void **state)
{
	population_down(state);
	owners_bpf_close(bpf);
	free(now.r);
	return 0;
}

int main(void)
{
	if (geteuid() != 0) {
		printf("skipped: loading BPF needs root\n");
		return 77;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		printf("skipped: the kernel has no BTF\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_fds),
		cmocka_unit_test(test_three_holders),
		cmocka_unit_test(test_unshared_thread),
		cmocka_unit_test(test_orphaned_worker),
		cmocka_unit_test(test_uid),
		cmocka_unit_test(test_namespace_pids),
		cmocka_unit_test(test_reread),
		cmocka_unit_test(test_open_on_thread),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_close_leaves_nothing),
		cmocka_unit_test(test_nobody_fails),
	};
	return cmocka_run_group_tests(tests, bpf_up, bpf_down);
}
#else /* !HAVE_BPF */

/* Built without BPF: the backend says so, and there is nothing to close. */
static void test_built_without(void **state)
{
	(void)state;
	char why[200] = "";
	struct owners_bpf *b = (struct owners_bpf *)why;
	assert_int_equal(owners_bpf_open(&b, why, sizeof(why)), -ENOTSUP);
	assert_null(b);
	assert_string_equal(why, "this sockstat was built without BPF support");
	owners_bpf_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_built_without),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
