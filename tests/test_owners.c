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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "owners.h"

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
		owners_destroy(o);
		_exit(bad ? 4 : 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fixture, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_permission_denied, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_missing_root, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_many, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_threads_agree, fixture_setup, fixture_teardown),
		cmocka_unit_test_teardown(test_live, kill_kids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
