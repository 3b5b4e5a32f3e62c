/* For the Linux and GNU calls test helpers use (unshare, setns, pipe2, ...), beyond POSIX. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "owners.h"
#include "owners_backend.h"

/* The fixture /proc tree, built fresh for each test that needs it. */
static char root[64];

static void put_dir(const char *rel, mode_t mode)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(mkdir(p, mode), 0);
}

static void put_link(const char *rel, const char *target)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(symlink(target, p), 0);
}

static void put_file(const char *rel, const char *data, size_t len)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void put_pid(const char *pid, const char *comm)
{
	char p[64];
	put_dir(pid, 0755);
	snprintf(p, sizeof(p), "%s/fd", pid);
	put_dir(p, 0755);
	if (comm) {
		snprintf(p, sizeof(p), "%s/comm", pid);
		put_file(p, comm, strlen(comm));
	}
}

static const char hostile_comm[] = "\x1b[31mev\nil\xff";

/*
 * Pids are created out of order on purpose: chains must come out in pid
 * order whatever order the directory lists them in.
 */
static int fixture_setup(void **state)
{
	(void)state;
	strcpy(root, "/tmp/owners-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	chmod(root, 0755);

	put_pid("300", "gamma\n");
	put_link("300/fd/11", "socket:[777]");
	put_link("300/fd/10", "socket:[777]");
	char p[256];
	snprintf(p, sizeof(p), "%s/300", root);
	assert_int_equal(chown(p, 1234, 1234), 0);

	put_pid("100", "alpha\n");
	put_link("100/fd/3", "socket:[1234]");
	put_link("100/fd/4", "pipe:[5]");
	put_link("100/fd/5", "/dev/null");
	put_link("100/fd/6", "socket:[");
	put_link("100/fd/7", "socket:[99999999999999999999]");
	put_link("100/fd/8", "socket:[777]");
	put_link("100/fd/9", "socket:[12x]");
	put_link("100/fd/12", "socket:[0]");
	put_link("100/fd/13", "socket:[555]trailing");
	put_link("100/fd/x", "socket:[9001]");

	char comm[32];
	snprintf(comm, sizeof(comm), "%s\n", hostile_comm);
	put_pid("200", comm);
	put_link("200/fd/0", "socket:[777]");

	/* Its fd directory is unreadable to anyone but root. */
	put_pid("400", "hidden\n");
	put_link("400/fd/3", "socket:[4000]");
	snprintf(p, sizeof(p), "%s/400/fd", root);
	assert_int_equal(chmod(p, 0), 0);

	/* Like a kernel thread: no fd directory at all. */
	put_dir("500", 0755);
	put_file("500/comm", "kthreadd\n", 9);

	/* Holds no socket and has no comm: the scan must not need it. */
	put_pid("600", NULL);
	put_link("600/fd/1", "pipe:[8]");

	/* Vanished between its fd listing and its comm. */
	put_pid("700", NULL);
	put_link("700/fd/1", "socket:[7000]");

	/* Not processes. */
	put_pid("self", "self\n");
	put_link("self/fd/1", "socket:[9000]");
	put_pid("12abc", "junk\n");
	put_link("12abc/fd/1", "socket:[9002]");
	put_file("net", "", 0);
	return 0;
}

static int fixture_teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_fixture(void **state)
{
	(void)state;
	struct owners *o;
	assert_int_equal(owners_create(&o), 0);
	assert_null(owners_lookup(o, 777)); /* empty map */
	assert_int_equal(owners_scan(o, root), 0);
	assert_string_equal(owners_backend_name(o), "proc");
	/* Root reads every fd directory, the mode-000 one too. */
	assert_false(owners_denied(o));

	/* One socket held by three processes, one of them twice, in pid order. */
	const struct owner *w = owners_lookup(o, 777);
	assert_non_null(w);
	assert_int_equal(w->pid, 100);
	assert_int_equal(w->fd, 8);
	assert_string_equal(w->comm, "alpha");
	assert_int_equal(w->uid, 0);
	w = w->next;
	assert_non_null(w);
	assert_int_equal(w->pid, 200);
	assert_int_equal(w->fd, 0);
	assert_string_equal(w->comm, hostile_comm); /* raw bytes, last newline gone */
	w = w->next;
	assert_non_null(w);
	assert_int_equal(w->pid, 300);
	assert_int_equal(w->fd, 10);
	assert_int_equal(w->uid, 1234);
	assert_string_equal(w->comm, "gamma");
	w = w->next;
	assert_non_null(w);
	assert_int_equal(w->pid, 300);
	assert_int_equal(w->fd, 11);
	assert_null(w->next);

	w = owners_lookup(o, 1234);
	assert_non_null(w);
	assert_int_equal(w->pid, 100);
	assert_int_equal(w->fd, 3);
	assert_null(w->next);

	/* Root reads a mode-000 directory. */
	assert_non_null(owners_lookup(o, 4000));

	/* Not sockets, malformed, overflowing, or not a process. */
	assert_null(owners_lookup(o, 5));
	assert_null(owners_lookup(o, 8));
	assert_null(owners_lookup(o, 12));
	assert_null(owners_lookup(o, 555));
	assert_null(owners_lookup(o, 0));
	assert_null(owners_lookup(o, 7000));
	assert_null(owners_lookup(o, 9000));
	assert_null(owners_lookup(o, 9001));
	assert_null(owners_lookup(o, 9002));
	assert_null(owners_lookup(o, UINT64_MAX));
	owners_destroy(o);
	owners_destroy(NULL);
}

/*
 * Without privilege the unreadable fd directory is skipped silently and
 * the rest is still found. The check runs in a child that drops to
 * nobody, reporting by exit status (cmocka asserts cannot cross fork).
 */
static void test_permission_denied(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		printf("skipping: dropping privileges needs root\n");
		skip();
	}
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		/* A private directory above the fixture (a chroot made with
		 * mktemp -d, say) hides it from any unprivileged user. */
		if (access(root, X_OK) != 0)
			_exit(77);
		struct owners *o;
		if (owners_create(&o) < 0 || owners_scan(o, root) != 0)
			_exit(3);
		int bad = owners_lookup(o, 4000) != NULL || owners_lookup(o, 1234) == NULL ||
			  owners_lookup(o, 777) == NULL;
		/* The one unreadable fd directory is remembered. */
		if (!bad && !owners_denied(o))
			bad = 5;
		owners_destroy(o);
		_exit(bad == 5 ? 5 : bad ? 4 : 0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		printf("skipping: a directory above %s is closed to unprivileged users here\n", root);
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_missing_root(void **state)
{
	(void)state;
	struct owners *o;
	assert_int_equal(owners_create(&o), 0);
	assert_int_equal(owners_scan(o, "/nonexistent/proc"), -ENOENT);
	char f[128];
	snprintf(f, sizeof(f), "%s/net", root);
	assert_int_equal(owners_scan(o, f), -ENOTDIR);
	assert_null(owners_lookup(o, 1234));
	owners_destroy(o);
}

/* Enough sockets to make the map double many times; all stay findable. */
static void test_many(void **state)
{
	(void)state;
	enum { N = 5000 };
	put_pid("900", "many\n");
	for (int i = 0; i < N; i++) {
		char rel[32], target[32];
		snprintf(rel, sizeof(rel), "900/fd/%d", i);
		snprintf(target, sizeof(target), "socket:[%d]", 1000000 + i * 7);
		put_link(rel, target);
	}
	struct owners *o;
	assert_int_equal(owners_create(&o), 0);
	assert_int_equal(owners_scan(o, root), 0);
	for (int i = 0; i < N; i++) {
		const struct owner *w = owners_lookup(o, 1000000 + (uint64_t)i * 7);
		assert_non_null(w);
		assert_int_equal(w->pid, 900);
		assert_int_equal(w->fd, i);
		assert_null(w->next);
		assert_null(owners_lookup(o, 1000001 + (uint64_t)i * 7));
	}
	owners_destroy(o);
}

/*
 * The threaded scan finds exactly what the single-threaded one does, with
 * every chain in the same (pid) order, on a tree of many processes that
 * share sockets among them.
 */
static void test_threads_agree(void **state)
{
	(void)state;
	enum { PIDS = 300, FDS = 12, SHARED = 50 };
	for (int p = 0; p < PIDS; p++) {
		char rel[32], target[32];
		snprintf(rel, sizeof(rel), "%d", 1000 + p);
		put_pid(rel, p % 2 ? "odd\n" : "even\n");
		for (int f = 0; f < FDS; f++) {
			snprintf(rel, sizeof(rel), "%d/fd/%d", 1000 + p, f);
			/* Half private sockets, half shared with other processes. */
			uint64_t ino = f % 2 ? 2000000 + (uint64_t)p * FDS + (uint64_t)f
					     : 3000000 + (uint64_t)((p * 7 + f) % SHARED);
			snprintf(target, sizeof(target), "socket:[%llu]", (unsigned long long)ino);
			put_link(rel, target);
		}
	}
	struct owners *one, *many;
	assert_int_equal(owners_create(&one), 0);
	assert_int_equal(owners_create(&many), 0);
	owners_set_threads(one, 1);
	owners_set_threads(many, 4);
	assert_int_equal(owners_scan(one, root), 0);
	assert_int_equal(owners_scan(many, root), 0);
	size_t holders = 0;
	for (uint64_t ino = 2000000; ino < 2000000 + PIDS * FDS; ino++) {
		const struct owner *a = owners_lookup(one, ino), *b = owners_lookup(many, ino);
		for (; a && b; a = a->next, b = b->next, holders++) {
			assert_int_equal(a->pid, b->pid);
			assert_int_equal(a->fd, b->fd);
			assert_string_equal(a->comm, b->comm);
		}
		assert_null(a);
		assert_null(b);
	}
	for (uint64_t ino = 3000000; ino < 3000000 + SHARED; ino++) {
		const struct owner *a = owners_lookup(one, ino), *b = owners_lookup(many, ino);
		assert_non_null(a);
		int32_t last = 0;
		for (; a && b; a = a->next, b = b->next, holders++) {
			assert_int_equal(a->pid, b->pid);
			assert_int_equal(a->fd, b->fd);
			assert_true(a->pid >= last);
			last = a->pid;
		}
		assert_null(a);
		assert_null(b);
	}
	assert_int_equal(holders, PIDS * FDS);
	owners_destroy(one);
	owners_destroy(many);
}

/* Live: a socket shared by this process and two children, on the real /proc. */
static pid_t kids[2];

static int kill_kids(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++) {
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			kids[i] = 0;
		}
	}
	return 0;
}

static void test_live(void **state)
{
	(void)state;
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(sk >= 0);
	struct stat st;
	assert_int_equal(fstat(sk, &st), 0);
	int ready[2], hold[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(hold), 0);
	static const char *const names[2] = {"sockstat-kid1", "sockstat-kid2"};
	for (int i = 0; i < 2; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0) {
			close(ready[0]);
			close(hold[1]);
			prctl(PR_SET_NAME, names[i], 0, 0, 0);
			if (write(ready[1], "x", 1) != 1)
				_exit(1);
			char c;
			/* Hold the socket until the parent closes the pipe. */
			while (read(hold[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
	}
	close(ready[1]);
	close(hold[0]);
	for (int i = 0; i < 2; i++) {
		char c;
		assert_int_equal(read(ready[0], &c, 1), 1);
	}
	close(ready[0]);

	char self_comm[17] = "";
	prctl(PR_GET_NAME, self_comm, 0, 0, 0);

	struct owners *o;
	assert_int_equal(owners_create(&o), 0);
	assert_int_equal(owners_scan(o, "/proc"), 0);
	const struct owner *w = owners_lookup(o, st.st_ino);
	bool seen[3] = {false, false, false};
	int n = 0;
	for (; w && n < 100; w = w->next, n++) {
		assert_int_equal(w->fd, sk);
		assert_int_equal(w->uid, geteuid());
		if (w->pid == getpid()) {
			assert_string_equal(w->comm, self_comm);
			seen[0] = true;
		}
		for (int i = 0; i < 2; i++) {
			if (w->pid == kids[i]) {
				assert_string_equal(w->comm, names[i]);
				seen[i + 1] = true;
			}
		}
		if (w->next)
			assert_true(w->next->pid > w->pid);
	}
	assert_int_equal(n, 3);
	assert_true(seen[0] && seen[1] && seen[2]);
	owners_destroy(o);

	close(hold[1]);
	for (int i = 0; i < 2; i++) {
		int status;
		assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
		kids[i] = 0;
		assert_true(WIFEXITED(status));
	}
	close(sk);
}

/*
 * A process whose main thread has exited while another thread lives on:
 * the zombie leader's fd directory lists nothing, so the process must be
 * read through a live thread's (task/<tid>/fd), including its argv[0],
 * under the leader's name, which ps shows too.
 */
static void test_leader_exited(void **state)
{
	(void)state;
	put_pid("800", "worker\n");
	put_dir("800/task", 0755);
	put_dir("800/task/800", 0755);
	put_dir("800/task/800/fd", 0755);
	put_dir("800/task/801", 0755);
	put_dir("800/task/801/fd", 0755);
	put_link("800/task/801/fd/5", "socket:[8000]");
	put_link("800/task/801/fd/4", "socket:[8001]");
	put_file("800/task/801/comm", "pool-thread\n", 12); /* a thread's own name */
	put_file("800/task/801/cmdline", "/opt/long-named-worker\0-x\0", 26);
	put_file("800/cmdline", "", 0); /* a zombie's is empty */
	/* A leaderless process whose one other thread has a hostile name:
	 * it parses as tid 802 but is far longer than any pid. */
	put_pid("820", "padded\n");
	put_dir("820/task", 0755);
	put_dir("820/task/820", 0755);
	char pad[128];
	snprintf(pad, sizeof(pad), "820/task/%0100d", 802);
	put_dir(pad, 0755);
	strcat(pad, "/fd");
	put_dir(pad, 0755);
	strcat(pad, "/1");
	put_link(pad, "socket:[8002]");
	/* A live process with no fds at all, and no task directory: nothing. */
	put_pid("810", "empty\n");

	struct owners *o;
	assert_int_equal(owners_create(&o), 0);
	owners_set_argv0(o, true);
	assert_int_equal(owners_scan(o, root), 0);
	const struct owner *w = owners_lookup(o, 8000);
	assert_non_null(w);
	assert_int_equal(w->pid, 800);
	assert_int_equal(w->fd, 5);
	assert_string_equal(w->comm, "worker");
	assert_non_null(w->argv0);
	assert_string_equal(w->argv0, "long-named-worker");
	assert_null(w->next);
	w = owners_lookup(o, 8001);
	assert_non_null(w);
	assert_int_equal(w->fd, 4);
	assert_null(owners_lookup(o, 8002)); /* 820/task/802 does not exist */
	/* The other processes are found as before. */
	assert_non_null(owners_lookup(o, 1234));
	owners_destroy(o);
}

/* argv[0]'s basename, read only when asked for, raw and bounded. */
static void test_argv0(void **state)
{
	(void)state;
	static const struct {
		const char *pid;
		const char *cmdline;
		size_t len;
		const char *want; /* NULL: none */
	} cases[] = {
		{"1001", "/usr/bin/a-very-long-program-name\0--flag\0", 42,
		 "a-very-long-program-name"},
		{"1002", "relative\0", 9, "relative"},
		{"1003", "", 0, NULL},                       /* kernel thread, zombie */
		{"1004", "/x/\x1b[31mev\nil\xff\0", 16, "\x1b[31mev\nil\xff"},
		{"1005", "dir/\0", 5, NULL},                 /* no basename */
		{"1006", "rewritten title", 15, "rewritten title"}, /* no NUL */
		{"1007", "a/b/\0/c/d\0", 10, NULL},          /* only the first string */
	};
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	char rel[64];
	for (size_t i = 0; i < N; i++) {
		put_pid(cases[i].pid, "name\n");
		snprintf(rel, sizeof(rel), "%s/fd/3", cases[i].pid);
		char target[32];
		snprintf(target, sizeof(target), "socket:[%s]", cases[i].pid);
		put_link(rel, target);
		snprintf(rel, sizeof(rel), "%s/cmdline", cases[i].pid);
		put_file(rel, cases[i].cmdline, cases[i].len);
	}
	/* A first string that does not end within 4 KiB would be cut: none. */
	static char huge[5000];
	memset(huge, 'a', sizeof(huge));
	huge[0] = '/';
	put_pid("1008", "huge\n");
	put_link("1008/fd/3", "socket:[1008]");
	put_file("1008/cmdline", huge, sizeof(huge));
	/* No cmdline file at all. */
	put_pid("1009", "nocmd\n");
	put_link("1009/fd/3", "socket:[1009]");

	struct owners *plain, *o;
	assert_int_equal(owners_create(&plain), 0);
	assert_int_equal(owners_create(&o), 0);
	owners_set_argv0(o, true);
	assert_int_equal(owners_scan(plain, root), 0);
	assert_int_equal(owners_scan(o, root), 0);
	for (size_t i = 0; i < N; i++) {
		uint64_t ino = strtoull(cases[i].pid, NULL, 10);
		const struct owner *w = owners_lookup(o, ino), *p = owners_lookup(plain, ino);
		assert_non_null(w);
		assert_non_null(p);
		assert_null(p->argv0); /* not asked for */
		if (cases[i].want)
			assert_string_equal(w->argv0, cases[i].want);
		else
			assert_null(w->argv0);
	}
	assert_null(owners_lookup(o, 1008)->argv0);
	assert_null(owners_lookup(o, 1009)->argv0);
	assert_string_equal(owners_lookup(o, 1009)->comm, "nocmd");
	owners_destroy(plain);
	owners_destroy(o);
}

/* Lowers the soft fd limit so that only `spare` more fds can be opened. */
static rlim_t limit_fds(int spare)
{
	int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(probe >= 0);
	close(probe);
	struct rlimit rl;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rlim_t old = rl.rlim_cur;
	rl.rlim_cur = (rlim_t)probe + (rlim_t)spare;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	return old;
}

static void restore_fds(rlim_t old)
{
	struct rlimit rl;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = old;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

/*
 * Out of descriptors, the scan must fail rather than report that every
 * process vanished: -EMFILE, not 0 with an empty map.
 */
static void test_out_of_fds(void **state)
{
	(void)state;
	for (int threads = 1; threads <= 4; threads *= 4) {
		struct owners *o;
		assert_int_equal(owners_create(&o), 0);
		owners_set_threads(o, threads);
		/* The root directory opens; no fd directory can. */
		rlim_t old = limit_fds(1);
		int ret = owners_scan(o, root);
		restore_fds(old);
		assert_int_equal(ret, -EMFILE);
		owners_destroy(o);
	}
	/* With descriptors back, the same scan works. */
	struct owners *o;
	assert_int_equal(owners_create(&o), 0);
	assert_int_equal(owners_scan(o, root), 0);
	assert_non_null(owners_lookup(o, 1234));
	owners_destroy(o);
}

/*
 * owners_raise_fd_limit lifts a small soft limit to OWNERS_FD_WANT, or to
 * the hard limit when that is lower, and never lowers one. Run in a child:
 * lowering the hard limit cannot be undone without privilege.
 */
static void test_raise_fd_limit(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = {64, 4096};
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			_exit(2);
		if (owners_raise_fd_limit() != 0 || getrlimit(RLIMIT_NOFILE, &rl) < 0 ||
		    rl.rlim_cur != OWNERS_FD_WANT || rl.rlim_max != 4096)
			_exit(3);
		rl = (struct rlimit){2048, 4096};
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || owners_raise_fd_limit() != 0 ||
		    getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur != 2048)
			_exit(4);
		rl = (struct rlimit){8, 100};
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || owners_raise_fd_limit() != 0 ||
		    getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur != 100)
			_exit(5);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * The map keeps every chain in (pid, fd) order whatever order a backend
 * adds holders in, and refuses inode 0.
 */
static void test_map_order(void **state)
{
	(void)state;
	static struct owner w[6] = {
		{.pid = 30, .fd = 1}, {.pid = 10, .fd = 7}, {.pid = 20, .fd = 2},
		{.pid = 10, .fd = 3}, {.pid = 40, .fd = 0}, {.pid = 20, .fd = 1},
	};
	static const int32_t want[6][2] = {{10, 3}, {10, 7}, {20, 1}, {20, 2}, {30, 1}, {40, 0}};
	struct owners *o;
	assert_int_equal(owners_create(&o), 0);
	for (int i = 0; i < 6; i++)
		assert_int_equal(owners_add(o, 42, &w[i]), 0);
	struct owner zero = {.pid = 1};
	assert_int_equal(owners_add(o, 0, &zero), -EINVAL);
	const struct owner *p = owners_lookup(o, 42);
	for (int i = 0; i < 6; i++, p = p->next) {
		assert_non_null(p);
		assert_int_equal(p->pid, want[i][0]);
		assert_int_equal(p->fd, want[i][1]);
	}
	assert_null(p);
	assert_null(owners_lookup(o, 0));
	assert_null(owners_lookup(o, 43));
	assert_null(owners_backend_name(o)); /* no scan yet */
	owners_destroy(o);
}

/* Backends by name; the two-half scan finds what the one-call scan does. */
static void test_backend_and_halves(void **state)
{
	(void)state;
	struct owners *o, *ref;
	assert_int_equal(owners_create(&o), 0);
	assert_int_equal(owners_create(&ref), 0);
	assert_int_equal(owners_set_backend(o, "nosuch"), -ENOENT);
	assert_int_equal(owners_set_backend(o, "proc"), 0);
	assert_int_equal(owners_scan_finish(o), -EINVAL); /* nothing started */
	assert_int_equal(owners_scan_start(o, root), 0);
	assert_int_equal(owners_scan_finish(o), 0);
	assert_string_equal(owners_backend_name(o), "proc");
	assert_int_equal(owners_set_backend(ref, "auto"), 0);
	assert_int_equal(owners_scan(ref, root), 0);
	static const uint64_t inodes[] = {777, 1234, 4000};
	for (size_t i = 0; i < 3; i++) {
		const struct owner *a = owners_lookup(o, inodes[i]), *b = owners_lookup(ref, inodes[i]);
		for (; a && b; a = a->next, b = b->next) {
			assert_int_equal(a->pid, b->pid);
			assert_int_equal(a->fd, b->fd);
		}
		assert_null(a);
		assert_null(b);
	}
	assert_int_equal(owners_scan_start(o, "/nonexistent/proc"), -ENOENT);
	assert_int_equal(owners_scan_finish(o), -EINVAL);
	owners_destroy(ref);

	/* One scan at a time; destroy waits for one never finished. */
	assert_int_equal(owners_scan_start(o, root), 0);
	assert_int_equal(owners_scan_start(o, root), -EBUSY);
	assert_int_equal(owners_scan(o, root), -EBUSY);
	owners_destroy(o);
}

/* VmPeak of this process in KiB, or -1. */
static long vm_peak(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPeak: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/*
 * Four scan threads cost little address space: no 8 MiB default stacks,
 * no malloc arena reserved per thread (64 MiB each with glibc). Measured
 * in a child, whose peak starts from the fork, before any other test has
 * started a thread, on the fixture tree (a /proc whose processes hold
 * many sockets would measure those instead).
 */
static void test_small_threads(void **state)
{
	(void)state;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	/* The sanitizers' runtime maps shadow memory and bigger stacks of its own. */
	printf("skipping: address space is the sanitizer runtime's to spend here\n");
	skip();
#endif
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct owners *o;
		if (owners_create(&o) < 0)
			_exit(2);
		owners_set_threads(o, 4);
		long before = vm_peak();
		int ret = owners_scan(o, root);
		long after = vm_peak();
		owners_destroy(o);
		if (ret != 0 || before < 0 || after < 0)
			_exit(3);
		printf("scan with 4 threads: VmPeak %ld -> %ld kB\n", before, after);
		fflush(stdout);
		/* Four 268 KiB buffers, first arena blocks and stacks: under 8 MiB. */
		_exit(after - before < 8 * 1024 ? 0 : 4);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* First: thread stacks and malloc arenas that earlier tests'
		 * threads left cached would hide what a scan costs. */
		cmocka_unit_test_setup_teardown(test_small_threads, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_fixture, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_permission_denied, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_missing_root, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_many, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_threads_agree, fixture_setup, fixture_teardown),
		cmocka_unit_test_teardown(test_live, kill_kids),
		cmocka_unit_test_setup_teardown(test_leader_exited, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_argv0, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_out_of_fds, fixture_setup, fixture_teardown),
		cmocka_unit_test(test_raise_fd_limit),
		cmocka_unit_test(test_map_order),
		cmocka_unit_test_setup_teardown(test_backend_and_halves, fixture_setup,
						fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
