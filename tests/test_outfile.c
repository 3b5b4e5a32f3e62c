/* For the Linux and GNU calls test helpers use (unshare, setns, pipe2, ...), beyond POSIX. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "outfile.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_outfile.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return chmod(dir, 0755);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "chmod -R u+w %s; rm -rf %s", dir, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *path_in(const char *d, const char *name)
{
	static char p[256];
	snprintf(p, sizeof(p), "%s/%s", d, name);
	return p;
}

static char *xdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		abort();
	return p;
}

/* The file's whole content (caller frees), or NULL when absent. */
static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *p = malloc(cap + 1);
	assert_non_null(p);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			p = realloc(p, cap + 1);
			assert_non_null(p);
		}
		ssize_t r = read(fd, p + n, cap - n);
		assert_true(r >= 0);
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	p[n] = '\0';
	if (len)
		*len = n;
	return p;
}

/* The number of directory entries other than . and .. */
static int entries(const char *d)
{
	DIR *dp = opendir(d);
	assert_non_null(dp);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(dp)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(dp);
	return n;
}

static void write_file(const char *path, const char *text)
{
	struct outfile of;
	assert_int_equal(outfile_open(&of, path), 0);
	fputs(text, of.f);
	assert_int_equal(outfile_commit(&of), 0);
}

static void commit_replaces(void **state)
{
	(void)state;
	char *target = xdup(path_in(dir, "m.prom"));
	mode_t old = umask(027);
	write_file(target, "first\n");
	struct stat st;
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	umask(022);
	write_file(target, "second\n");
	umask(old);
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	char *got = slurp(target, NULL);
	assert_string_equal(got, "second\n");
	free(got);
	assert_int_equal(entries(dir), 1);
	unlink(target);
	free(target);
}

static void relative_path(void **state)
{
	(void)state;
	char cwd[512];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	write_file("plain", "x\n");
	char *got = slurp("plain", NULL);
	assert_string_equal(got, "x\n");
	free(got);
	unlink("plain");
	assert_int_equal(chdir(cwd), 0);
}

static void abort_keeps_old(void **state)
{
	(void)state;
	char *target = xdup(path_in(dir, "a.prom"));
	write_file(target, "old\n");
	struct outfile of;
	assert_int_equal(outfile_open(&of, target), 0);
	fputs("half of a new fi", of.f);
	assert_int_equal(entries(dir), 2);
	outfile_abort(&of);
	outfile_abort(&of); /* released: harmless */
	char *got = slurp(target, NULL);
	assert_string_equal(got, "old\n");
	free(got);
	assert_int_equal(entries(dir), 1);
	unlink(target);
	free(target);
}

static void bad_targets(void **state)
{
	(void)state;
	struct outfile of;
	assert_int_equal(outfile_open(&of, path_in(dir, "nosuch/x.prom")), -ENOENT);
	assert_int_equal(outfile_open(&of, dir), -EISDIR);
	assert_int_equal(outfile_open(&of, ""), -ENOENT);
	/* A directory appearing at the target before commit: rename fails. */
	char *target = xdup(path_in(dir, "d"));
	assert_int_equal(outfile_open(&of, target), 0);
	fputs("data\n", of.f);
	assert_int_equal(mkdir(target, 0755), 0);
	assert_int_equal(mkdir(path_in(target, "sub"), 0755), 0);
	int err = outfile_commit(&of);
	assert_true(err == -EISDIR || err == -ENOTEMPTY || err == -EEXIST);
	assert_int_equal(entries(dir), 1);
	rmdir(path_in(target, "sub"));
	rmdir(target);
	free(target);
}

/*
 * A directory its user may not write: the old file stays, nothing else
 * appears. Root writes anywhere, so as root the attempt runs in a child
 * that has become nobody.
 */
static void unwritable_dir(void **state)
{
	(void)state;
	char *ro = xdup(path_in(dir, "ro"));
	assert_int_equal(mkdir(ro, 0755), 0);
	char *target = xdup(path_in(ro, "s.prom"));
	write_file(target, "old\n");
	assert_int_equal(chmod(ro, 0555), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(3);
		struct outfile of;
		int err = outfile_open(&of, target);
		_exit(err == -EACCES ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	char *got = slurp(target, NULL);
	assert_string_equal(got, "old\n");
	free(got);
	assert_int_equal(entries(ro), 1);
	chmod(ro, 0755);
	unlink(target);
	rmdir(ro);
	free(target);
	free(ro);
}

/*
 * A full filesystem: a 16 KiB tmpfs in a private mount namespace (root
 * only; skipped otherwise). The write error surfaces at commit, the old
 * file stays whole and the temporary file goes.
 */
static void full_disk(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	char *mnt = xdup(path_in(dir, "full"));
	assert_int_equal(mkdir(mnt, 0755), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
			_exit(77);
		if (mount("tmpfs", mnt, "tmpfs", 0, "size=16k") != 0)
			_exit(77);
		char target[256];
		snprintf(target, sizeof(target), "%s/f.prom", mnt);
		struct outfile of;
		if (outfile_open(&of, target) != 0)
			_exit(2);
		fputs("old\n", of.f);
		if (outfile_commit(&of) != 0)
			_exit(3);
		if (outfile_open(&of, target) != 0)
			_exit(4);
		static char big[1 << 20];
		memset(big, 'x', sizeof(big));
		fwrite(big, 1, sizeof(big), of.f);
		if (outfile_commit(&of) != -ENOSPC)
			_exit(5);
		char *got = slurp(target, NULL);
		bool same = got && strcmp(got, "old\n") == 0;
		free(got);
		_exit(!same ? 6 : entries(mnt) != 1 ? 7 : 0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	rmdir(mnt);
	free(mnt);
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Each version is fsynced, so rounds cost disk time: few, but polled often. */
enum { ROUNDS = 60, POLLS = 5000, FILL = 20000 };

/* Version i of the file: a first and a last line that both name i. */
static void write_version(const char *target, int i)
{
	struct outfile of;
	if (outfile_open(&of, target) != 0)
		_exit(2);
	fprintf(of.f, "BEGIN %d\n", i);
	for (int k = 0; k < FILL + (i % 7) * 1000; k++)
		fputc('a' + k % 26, of.f);
	fprintf(of.f, "\nEND %d\n", i);
	if (outfile_commit(&of) != 0)
		_exit(3);
}

/* A reader polling while a writer rewrites never sees part of a file. */
static void atomic_for_readers(void **state)
{
	(void)state;
	char *target = xdup(path_in(dir, "atomic.prom"));
	write_version(target, 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (int i = 1; i < ROUNDS; i++)
			write_version(target, i);
		_exit(0);
	}
	int polls = 0, changes = 0, last = 0;
	int status = 0;
	bool running = true;
	for (; polls < POLLS || running; polls++) {
		if (running && waitpid(pid, &status, WNOHANG) == pid)
			running = false;
		size_t len;
		char *got = slurp(target, &len);
		assert_non_null(got);
		int begin = -1, end = -2;
		assert_int_equal(sscanf(got, "BEGIN %d\n", &begin), 1);
		char *tail = strrchr(got, 'E');
		assert_true(tail && tail > got + 4);
		assert_int_equal(sscanf(tail, "END %d\n", &end), 1);
		assert_int_equal(begin, end);
		assert_true(got[len - 1] == '\n');
		if (begin != last)
			changes++;
		last = begin;
		free(got);
		if (polls > 200000)
			break;
	}
	if (running)
		assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	print_message("%d polls saw %d versions\n", polls, changes);
	assert_true(polls >= POLLS);
	assert_true(changes > 1);
	assert_int_equal(entries(dir), 1);
	unlink(target);
	free(target);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(commit_replaces),
		cmocka_unit_test(relative_path),
		cmocka_unit_test(abort_keeps_old),
		cmocka_unit_test(bad_targets),
		cmocka_unit_test(unwritable_dir),
		cmocka_unit_test(full_disk),
		cmocka_unit_test(atomic_for_readers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
