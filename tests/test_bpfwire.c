/*
 * The BPF owners backend behind the owners map: exact repeats are dropped
 * by the map, a backend asked for by name that cannot run says why, and
 * on the live system the BPF backend's holders are the /proc backend's,
 * argv[0] included, through both the one-call scan and its two halves.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "owners.h"
#include "owners_backend.h"

/* A holder added twice (two threads sharing one file table) counts once. */
static void test_repeat_dropped(void **state)
{
	(void)state;
	struct owners *o;
	assert_int_equal(owners_create(&o), 0);
	static struct owner w[] = {
		{.pid = 7, .fd = 3}, {.pid = 7, .fd = 3}, {.pid = 9, .fd = 4},
		{.pid = 7, .fd = 3}, {.pid = 5, .fd = 1}, {.pid = 9, .fd = 4},
		{.pid = 7, .fd = 5},
	};
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		assert_int_equal(owners_add(o, 42, &w[i]), 0);
	static const int32_t want[][2] = {{5, 1}, {7, 3}, {7, 5}, {9, 4}};
	const struct owner *c = owners_lookup(o, 42);
	for (size_t i = 0; i < 4; i++, c = c->next) {
		assert_non_null(c);
		assert_int_equal(c->pid, want[i][0]);
		assert_int_equal(c->fd, want[i][1]);
	}
	assert_null(c);
	owners_destroy(o);
}

/* "bpf" by name fails with a reason where it cannot run; "auto" moves on. */
static void test_declines(void **state)
{
	(void)state;
	struct owners *o;
	assert_int_equal(owners_create(&o), 0);
	assert_int_equal(owners_set_backend(o, "bpf"), 0);
	assert_int_equal(owners_scan(o, "/nonexistent/proc"), -EOPNOTSUPP);
	assert_non_null(owners_why(o));
	assert_null(strchr(owners_why(o), '\n'));
#ifndef HAVE_BPF
	assert_string_equal(owners_why(o), "this sockstat was built without BPF support");
#endif
	assert_int_equal(owners_scan_start(o, "/nonexistent/proc"), -EOPNOTSUPP);
	assert_int_equal(owners_scan_finish(o), -EINVAL);
	assert_int_equal(owners_set_backend(o, "auto"), 0);
	assert_int_equal(owners_scan(o, "/nonexistent/proc"), -ENOENT);
	owners_destroy(o);
}

#ifdef HAVE_BPF
static pid_t kid = -1;
static int kid_fds[3];
static uint64_t kid_inodes[2];

/* A child holding one socket on two fds and one end of a socketpair. */
static int kid_up(void **state)
{
	(void)state;
	int sv[2], hold[2], ready[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || pipe(hold) || pipe(ready))
		return -1;
	kid_fds[0] = sv[0];
	kid_fds[1] = dup(sv[0]);
	kid_fds[2] = sv[1];
	struct stat st;
	fstat(sv[0], &st);
	kid_inodes[0] = st.st_ino;
	fstat(sv[1], &st);
	kid_inodes[1] = st.st_ino;
	kid = fork();
	if (kid < 0)
		return -1;
	if (kid == 0) {
		close(hold[1]);
		char c = 'x';
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		while (read(hold[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(hold[0]);
	close(ready[1]);
	char c;
	if (read(ready[0], &c, 1) != 1)
		return -1;
	close(ready[0]);
	*(int *)state = hold[1];
	return 0;
}

static int kid_down(void **state)
{
	close(*(int *)state);
	if (kid > 0)
		waitpid(kid, NULL, 0);
	return 0;
}

/* The chain of inode restricted to the child and this process. */
static size_t ours(const struct owners *o, uint64_t inode, const struct owner **out, size_t max)
{
	size_t n = 0;
	for (const struct owner *w = owners_lookup(o, inode); w && n < max; w = w->next)
		if (w->pid == kid || w->pid == getpid())
			out[n++] = w;
	return n;
}

static void scan_with(struct owners **o, const char *how, bool halves)
{
	assert_int_equal(owners_create(o), 0);
	assert_int_equal(owners_set_backend(*o, how), 0);
	owners_set_argv0(*o, true);
	if (halves) {
		assert_int_equal(owners_scan_start(*o, "/proc"), 0);
		assert_int_equal(owners_scan_finish(*o), 0);
	} else {
		assert_int_equal(owners_scan(*o, "/proc"), 0);
	}
	assert_string_equal(owners_backend_name(*o), how);
}

static void test_same_as_proc(void **state)
{
	(void)state;
	for (int halves = 0; halves < 2; halves++) {
		struct owners *b, *p;
		scan_with(&b, "bpf", halves);
		scan_with(&p, "proc", halves);
		for (size_t i = 0; i < 2; i++) {
			const struct owner *wb[8], *wp[8];
			size_t nb = ours(b, kid_inodes[i], wb, 8), np = ours(p, kid_inodes[i], wp, 8);
			/* Here and in the child: sv[0] on two fds, sv[1] on one. */
			assert_int_equal(nb, i == 0 ? 4 : 2);
			assert_int_equal(nb, np);
			for (size_t k = 0; k < nb; k++) {
				assert_int_equal(wb[k]->pid, wp[k]->pid);
				assert_int_equal(wb[k]->fd, wp[k]->fd);
				assert_int_equal(wb[k]->uid, wp[k]->uid);
				assert_string_equal(wb[k]->comm, wp[k]->comm);
				assert_non_null(wb[k]->argv0);
				assert_string_equal(wb[k]->argv0, wp[k]->argv0);
			}
		}
		owners_destroy(b);
		owners_destroy(p);
	}
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repeat_dropped),
		cmocka_unit_test(test_declines),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
#ifdef HAVE_BPF
	if (geteuid() != 0 || access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		printf("skipped the live comparison: needs root and BTF\n");
		return failed;
	}
	static int hold = -1;
	const struct CMUnitTest live[] = {
		cmocka_unit_test_prestate_setup_teardown(test_same_as_proc, kid_up, kid_down, &hold),
	};
	failed += cmocka_run_group_tests(live, NULL, NULL);
#endif
	return failed;
}
