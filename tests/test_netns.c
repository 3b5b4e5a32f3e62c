/* For the Linux and GNU calls test helpers use (unshare, setns, pipe2, ...), beyond POSIX. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include <linux/netlink.h>

#include <cmocka.h>

/* tests/netns.h is the test helper; this is the module. */
#include "src/netns.h"

static void make_file(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static void mkpath(const char *root, const char *rel)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void ino_of(const char *path, uint64_t *dev, uint64_t *ino)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	*dev = st.st_dev;
	*ino = st.st_ino;
}

static void rm_rf(const char *dir)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_open(void **state)
{
	(void)state;
	assert_int_equal(netns_open(".."), -EINVAL);
	assert_int_equal(netns_open(""), -EINVAL);
	assert_int_equal(netns_open("sockstat-no-such-name"), -ENOENT);
	int fd = netns_open("/proc/self/ns/net");
	assert_true(fd >= 0);
	close(fd);
	/* Another kind of namespace is no network namespace. */
	assert_int_equal(netns_open("/proc/self/ns/uts"), -EINVAL);
	assert_int_equal(netns_open("/etc/hostname"), -EINVAL);
	char big[PATH_MAX + 8];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(netns_open(big), -ENAMETOOLONG);
}

static int note_thread(void *arg)
{
	*(pthread_t *)arg = pthread_self();
	return 42;
}

/*
 * Under root: proc/{1,12} share one namespace file, 5 and 9 have their
 * own, self is 9, 0 and 77 and sys are no namespaces of a process; run/
 * holds a plain file, a hostile name, a directory, a FIFO and a link.
 */
static void build_fixture(const char *root)
{
	char p[PATH_MAX], q[PATH_MAX];
	static const char *const dirs[] = {"proc", "proc/1", "proc/1/ns", "proc/5", "proc/5/ns",
					   "proc/9", "proc/9/ns", "proc/12", "proc/12/ns",
					   "proc/77", "proc/sys", "proc/0", "proc/0/ns", "run",
					   "run/dir"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mkpath(root, dirs[i]);
	snprintf(p, sizeof(p), "%s/proc/12/ns/net", root);
	make_file(p);
	snprintf(q, sizeof(q), "%s/proc/1/ns/net", root);
	assert_int_equal(link(p, q), 0);
	snprintf(p, sizeof(p), "%s/proc/5/ns/net", root);
	make_file(p);
	snprintf(p, sizeof(p), "%s/proc/9/ns/net", root);
	make_file(p);
	snprintf(p, sizeof(p), "%s/proc/0/ns/net", root);
	make_file(p);
	snprintf(p, sizeof(p), "%s/proc/self", root);
	assert_int_equal(symlink("9", p), 0);
	/* Pid 1 runs in a Docker container, 12 (same namespace) in a unit. */
	snprintf(p, sizeof(p), "%s/proc/1/cgroup", root);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("0::/system.slice/docker-0123456789abcdef0123456789abcdef.scope\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/proc/12/cgroup", root);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("0::/system.slice/nginx.service\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/run/stale", root);
	make_file(p);
	snprintf(p, sizeof(p), "%s/run/bad\x1bname", root);
	make_file(p);
	snprintf(p, sizeof(p), "%s/run/fifo", root);
	assert_int_equal(mkfifo(p, 0600), 0);
	snprintf(p, sizeof(p), "%s/run/link", root);
	assert_int_equal(symlink("/proc/self/ns/net", p), 0);

}

/*
 * A fixture /proc: stat tells namespaces apart, so hard links of one file
 * are one namespace; "self" is the caller's. A fixture /run/netns holds
 * only files that are no namespace: each is skipped with a warning.
 */
static void test_scan_fixture(void **state)
{
	(void)state;
	char root[] = "/tmp/nsenumXXXXXX";
	assert_non_null(mkdtemp(root));
	char p[PATH_MAX];
	build_fixture(root);

	uint64_t dev_a, ino_a, dev_b, ino_b, dev_c, ino_c;
	snprintf(p, sizeof(p), "%s/proc/1/ns/net", root);
	ino_of(p, &dev_a, &ino_a);
	snprintf(p, sizeof(p), "%s/proc/5/ns/net", root);
	ino_of(p, &dev_b, &ino_b);
	snprintf(p, sizeof(p), "%s/proc/9/ns/net", root);
	ino_of(p, &dev_c, &ino_c);

	char proc[256], run[256];
	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(run, sizeof(run), "%s/run", root);
	struct netns_list l;
	netns_list_init(&l);
	assert_int_equal(netns_list_scan(&l, proc, run), 0);

	/* The caller's own first, then by lowest member pid; pid 0 is none. */
	assert_int_equal(l.len, 3);
	assert_true(l.v[0].self);
	assert_int_equal(l.v[0].ino, ino_c);
	assert_int_equal(l.v[0].dev, dev_c);
	assert_int_equal(l.v[0].pid, 9);
	snprintf(p, sizeof(p), "%s/self/ns/net", proc);
	assert_string_equal(l.v[0].path, p);
	assert_false(l.v[1].self);
	assert_int_equal(l.v[1].ino, ino_a);
	assert_int_equal(l.v[1].pid, 1);
	snprintf(p, sizeof(p), "%s/1/ns/net", proc);
	assert_string_equal(l.v[1].path, p);
	assert_int_equal(l.v[2].ino, ino_b);
	assert_int_equal(l.v[2].pid, 5);
	for (size_t i = 0; i < l.len; i++)
		assert_null(l.v[i].name);
	assert_ptr_equal(netns_list_find(&l, dev_b, ino_b), &l.v[2]);

	/* Labels: the caller's is host, a container by its first process, else the inode. */
	char label[NETNS_LABEL_MAX];
	netns_label(&l.v[0], proc, label);
	assert_string_equal(label, "host");
	netns_label(&l.v[1], proc, label);
	assert_string_equal(label, "docker:0123456789ab");
	netns_label(&l.v[2], proc, label);
	snprintf(p, sizeof(p), "netns:[%llu]", (unsigned long long)ino_b);
	assert_string_equal(label, p);
	assert_null(netns_list_find(&l, dev_b, ino_b + 1000000));

	/* One warning per file that is not a namespace, names escaped. */
	assert_int_equal(l.nwarnings, 5);
	const char *want[] = {"/run/bad\\x1bname: not a network namespace, skipped",
			      "/run/dir: not a network namespace, skipped",
			      "/run/fifo: not a network namespace, skipped",
			      "/run/link: not a network namespace, skipped",
			      "/run/stale: not a network namespace, skipped"};
	for (size_t i = 0; i < 5; i++) {
		snprintf(p, sizeof(p), "%s%s", root, want[i]);
		assert_string_equal(l.warnings[i], p);
	}

	/* A fixture file is no namespace to enter. */
	assert_int_equal(netns_entry_open(&l.v[1]), -ENOENT);
	assert_int_equal(netns_run_in(&l.v[1], note_thread, NULL), -ENOENT);
	/* The caller's own runs on the calling thread. */
	pthread_t t;
	assert_int_equal(netns_run_in(&l.v[0], note_thread, &t), 42);
	assert_true(pthread_equal(t, pthread_self()));
	netns_list_finish(&l);
	netns_list_finish(&l);
	netns_list_finish(NULL);

	/* No run dir, a missing one, and a proc root without self. */
	netns_list_init(&l);
	assert_int_equal(netns_list_scan(&l, proc, NULL), 0);
	assert_int_equal(l.len, 3);
	assert_int_equal(l.nwarnings, 0);
	netns_list_finish(&l);
	snprintf(p, sizeof(p), "%s/nonexistent", root);
	netns_list_init(&l);
	assert_int_equal(netns_list_scan(&l, proc, p), 0);
	assert_int_equal(l.nwarnings, 0);
	netns_list_finish(&l);
	snprintf(p, sizeof(p), "%s/proc/self", root);
	assert_int_equal(unlink(p), 0);
	netns_list_init(&l);
	assert_int_equal(netns_list_scan(&l, proc, run), -ENOENT);
	netns_list_finish(&l);
	netns_list_init(&l);
	assert_int_equal(netns_list_scan(&l, p, run), -ENOENT);
	netns_list_finish(&l);
	rm_rf(root);
}

/* Live namespaces, held by helper processes, named and unnamed. */
enum { HELPERS = 4 };

struct live {
	pid_t pid[HELPERS + 1]; /* the last shares helper 3's namespace */
	uint64_t dev[HELPERS + 1], ino[HELPERS + 1];
	char root[32];
	char alias[PATH_MAX], orphan[PATH_MAX], uts[PATH_MAX];
	bool alias_mounted, orphan_mounted, uts_mounted;
	char ipname[64];
	bool ip_added;
};

/* A helper: its own namespace (or its parent's), held until it is killed. */
static pid_t spawn(bool unshare_net)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		char c = unshare_net && unshare(CLONE_NEWNET) != 0 ? 'e' : 'k';
		if (write(p[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	char c = 0;
	ssize_t n = pid > 0 ? read(p[0], &c, 1) : -1;
	close(p[0]);
	if (n != 1 || c != 'k') {
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		return -1;
	}
	return pid;
}

static void reap(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
		*pid = 0;
	}
}

static int live_teardown(void **state)
{
	struct live *s = *state;
	if (!s)
		return 0;
	for (int i = 0; i <= HELPERS; i++)
		reap(&s->pid[i]);
	if (s->alias_mounted)
		umount2(s->alias, MNT_DETACH);
	if (s->orphan_mounted)
		umount2(s->orphan, MNT_DETACH);
	if (s->uts_mounted)
		umount2(s->uts, MNT_DETACH);
	if (s->ip_added) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "ip netns del %s", s->ipname);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove netns %s\n", s->ipname);
	}
	if (s->root[0]) {
		char cmd[64];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->root);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", s->root);
	}
	free(s);
	return 0;
}

static void bind_ns(pid_t pid, const char *at, const char *type)
{
	char src[64];
	snprintf(src, sizeof(src), "/proc/%d/ns/%s", (int)pid, type);
	make_file(at);
	assert_int_equal(mount(src, at, NULL, MS_BIND, NULL), 0);
}

/*
 * Helpers 0-3 each unshare a namespace; helper 4 is a child of the test
 * in helper 3's namespace (entered with setns). A fixture run dir names
 * helper 0's namespace "alias" and holds helper 2's as "orphan", whose
 * process then exits, and a stale plain file.
 */
static int live_setup(void **state)
{
	*state = NULL;
	if (geteuid() != 0)
		return 0;
	struct live *s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	*state = s;
	for (int i = 0; i < HELPERS; i++) {
		if ((s->pid[i] = spawn(true)) < 0)
			return -1;
	}
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)s->pid[3]);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	/* A child forked while in helper 3's namespace starts there. */
	int keep = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || keep < 0 || setns(fd, CLONE_NEWNET) != 0)
		return -1;
	s->pid[HELPERS] = spawn(false);
	int back = setns(keep, CLONE_NEWNET);
	close(fd);
	close(keep);
	if (back != 0 || s->pid[HELPERS] < 0)
		return -1;
	for (int i = 0; i <= HELPERS; i++) {
		struct stat st;
		snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)s->pid[i]);
		if (stat(p, &st) != 0)
			return -1;
		s->dev[i] = st.st_dev;
		s->ino[i] = st.st_ino;
	}
	snprintf(s->root, sizeof(s->root), "/tmp/nsliveXXXXXX");
	if (!mkdtemp(s->root))
		return -1;
	snprintf(s->alias, sizeof(s->alias), "%s/alias", s->root);
	snprintf(s->orphan, sizeof(s->orphan), "%s/orphan", s->root);
	snprintf(s->uts, sizeof(s->uts), "%s/uts", s->root);
	return 0;
}

struct inside {
	uint64_t ino;   /* /proc/thread-self/ns/net as fn saw it */
	int sock;       /* a netlink socket made there */
};

static int look_inside(void *arg)
{
	struct inside *in = arg;
	struct stat st;
	if (stat("/proc/thread-self/ns/net", &st) != 0)
		return -errno;
	in->ino = st.st_ino;
	in->sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	return in->sock < 0 ? -errno : 7;
}

/* How many entries are the namespace (dev, ino); and the first. */
static size_t count(const struct netns_list *l, uint64_t dev, uint64_t ino,
		    const struct netns_entry **e)
{
	size_t n = 0;
	*e = NULL;
	for (size_t i = 0; i < l->len; i++) {
		if (l->v[i].dev == dev && l->v[i].ino == ino) {
			if (!n)
				*e = &l->v[i];
			n++;
		}
	}
	return n;
}

/* netns_run_in on a named and an unnamed namespace of the live list. */
static void check_run_in(const struct netns_list *lp, const struct live *s,
			 const struct netns_entry *orphan)
{
	const struct netns_entry *e;
	uint64_t dev, ino;

	/* Inside helper 1's namespace on a thread; a socket made there stays there. */
	assert_int_equal(count(lp, s->dev[1], s->ino[1], &e), 1);
	struct inside in = {0, -1};
	assert_int_equal(netns_run_in(e, look_inside, &in), 7);
	assert_int_equal(in.ino, s->ino[1]);
	int nsfd = ioctl(in.sock, SIOCGSKNS);
	assert_true(nsfd >= 0);
	struct stat st;
	assert_int_equal(fstat(nsfd, &st), 0);
	assert_int_equal(st.st_ino, s->ino[1]);
	close(nsfd);
	close(in.sock);
	/* The caller never moved. */
	ino_of("/proc/thread-self/ns/net", &dev, &ino);
	assert_int_equal(ino, lp->v[0].ino);
	/* Through the name of one with no process. */
	in.sock = -1;
	assert_int_equal(netns_run_in(orphan, look_inside, &in), 7);
	assert_int_equal(in.ino, s->ino[2]);
	close(in.sock);
	/* fn's own result comes back as it is, errors too. */
	assert_int_equal(netns_run_in(orphan, note_thread, &(pthread_t){0}), 42);

}

static void test_scan_live(void **state)
{
	struct live *s = *state;
	if (!s) {
		print_message("skipped: needs root\n");
		skip();
	}
	bind_ns(s->pid[0], s->alias, "net");
	s->alias_mounted = true;
	bind_ns(s->pid[2], s->orphan, "net");
	s->orphan_mounted = true;
	/* A namespace, but not a network one. */
	bind_ns(s->pid[0], s->uts, "uts");
	s->uts_mounted = true;
	reap(&s->pid[2]);
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/stale", s->root);
	make_file(p);

	struct netns_list l;
	netns_list_init(&l);
	assert_int_equal(netns_list_scan(&l, "/proc", s->root), 0);

	uint64_t dev, ino;
	ino_of("/proc/self/ns/net", &dev, &ino);
	assert_true(l.len >= 5);
	assert_true(l.v[0].self);
	assert_int_equal(l.v[0].dev, dev);
	assert_int_equal(l.v[0].ino, ino);
	for (size_t i = 1; i < l.len; i++)
		assert_false(l.v[i].self);
	/* Every entry is distinct. */
	for (size_t i = 0; i < l.len; i++) {
		for (size_t j = i + 1; j < l.len; j++)
			assert_false(l.v[i].dev == l.v[j].dev && l.v[i].ino == l.v[j].ino);
	}

	const struct netns_entry *e;
	/* Named, with a process. */
	assert_int_equal(count(&l, s->dev[0], s->ino[0], &e), 1);
	assert_string_equal(e->name, "alias");
	assert_int_equal(e->pid, s->pid[0]);
	assert_string_equal(e->path, s->alias);
	char label[NETNS_LABEL_MAX];
	netns_label(e, "/proc", label);
	assert_string_equal(label, "alias");
	netns_label(&l.v[0], "/proc", label);
	assert_string_equal(label, "host");
	/* Unnamed. */
	assert_int_equal(count(&l, s->dev[1], s->ino[1], &e), 1);
	assert_null(e->name);
	assert_int_equal(e->pid, s->pid[1]);
	snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)s->pid[1]);
	assert_string_equal(e->path, p);
	/* Named, without a process: only the bind mount holds it. */
	assert_int_equal(count(&l, s->dev[2], s->ino[2], &e), 1);
	assert_string_equal(e->name, "orphan");
	assert_int_equal(e->pid, 0);
	assert_string_equal(e->path, s->orphan);
	const struct netns_entry *orphan = e;
	/* Two processes in one: the lowest pid is its member. */
	assert_int_equal(count(&l, s->dev[3], s->ino[3], &e), 1);
	assert_int_equal(s->dev[3], s->dev[4]);
	assert_int_equal(s->ino[3], s->ino[4]);
	assert_int_equal(e->pid, s->pid[3] < s->pid[4] ? s->pid[3] : s->pid[4]);
	/* The order: own, with members by pid, then the rest. */
	for (size_t i = 2; i < l.len; i++) {
		if (l.v[i].pid)
			assert_true(l.v[i - 1].pid && l.v[i - 1].pid < l.v[i].pid);
	}
	assert_int_equal(l.nwarnings, 2);
	snprintf(p, sizeof(p), "%s/stale: not a network namespace, skipped", s->root);
	assert_string_equal(l.warnings[0], p);
	snprintf(p, sizeof(p), "%s/uts: not a network namespace, skipped", s->root);
	assert_string_equal(l.warnings[1], p);

	check_run_in(&l, s, orphan);

	/* A namespace that vanished since the scan cannot be entered. */
	assert_int_equal(count(&l, s->dev[1], s->ino[1], &e), 1);
	reap(&s->pid[1]);
	assert_int_equal(netns_entry_open(e), -ENOENT);
	struct inside in = {0, -1};
	assert_int_equal(netns_run_in(e, look_inside, &in), -ENOENT);
	assert_int_equal(in.sock, -1);
	/* So can a name deleted since (ip netns del unmounts it; the file stays). */
	assert_int_equal(umount2(s->orphan, MNT_DETACH), 0);
	s->orphan_mounted = false;
	assert_int_equal(netns_entry_open(orphan), -ENOENT);
	assert_int_equal(netns_run_in(orphan, look_inside, &in), -ENOENT);
	netns_list_finish(&l);

	/* And the next scan lists it no more. */
	netns_list_init(&l);
	assert_int_equal(netns_list_scan(&l, "/proc", s->root), 0);
	assert_int_equal(count(&l, s->dev[1], s->ino[1], &e), 0);
	assert_int_equal(count(&l, s->dev[0], s->ino[0], &e), 1);
	netns_list_finish(&l);
}

/*
 * As nobody: the scan still works, silently without the namespaces of
 * others' processes, the names under /run/netns are still listed, and
 * entering one is refused. Returns a bit per broken promise, 0 if none.
 */
/* The child's exit status when nobody may not even reach /proc. */
enum { NOBODY_CANNOT = 77 };

static int scan_unprivileged(const struct live *s, uint64_t dev, uint64_t ino)
{
	if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
		return 1;
	/* A chroot whose root only root may enter leaves nobody nothing to read. */
	if (access("/proc", R_OK | X_OK) != 0)
		return NOBODY_CANNOT;
	struct netns_list l;
	netns_list_init(&l);
	int bad = 0;
	if (netns_list_scan(&l, "/proc", "/run/netns") != 0 || l.len == 0 || !l.v[0].self)
		bad |= 2;
	const struct netns_entry *e;
	if (count(&l, dev, ino, &e) != 1 || !e->name || strcmp(e->name, s->ipname) != 0)
		bad |= 4;
	else if (netns_run_in(e, note_thread, &(pthread_t){0}) != -EPERM)
		bad |= 8;
	if (count(&l, s->dev[1], s->ino[1], &e) != 0)
		bad |= 16;
	netns_list_finish(&l);
	return bad;
}

/* `ip netns add`: the real /run/netns, named and with no process, seen by root and not. */
static void test_ip_netns(void **state)
{
	struct live *s = *state;
	if (!s || system("ip -V >/dev/null 2>&1") != 0) {
		print_message("skipped: needs root and ip\n");
		skip();
	}
	snprintf(s->ipname, sizeof(s->ipname), "sockstat-nsenum-%d", (int)getpid());
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "ip netns add %s", s->ipname);
	assert_int_equal(system(cmd), 0);
	s->ip_added = true;
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "/run/netns/%s", s->ipname);
	uint64_t dev, ino;
	ino_of(p, &dev, &ino);

	struct netns_list l;
	netns_list_init(&l);
	assert_int_equal(netns_list_scan(&l, "/proc", "/run/netns"), 0);
	const struct netns_entry *e;
	assert_int_equal(count(&l, dev, ino, &e), 1);
	assert_string_equal(e->name, s->ipname);
	assert_int_equal(e->pid, 0);
	assert_true(l.v[0].self);
	/* The same through netns_open, as -N names it. */
	int fd = netns_open(s->ipname);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_ino, ino);
	close(fd);
	netns_list_finish(&l);

	pid_t pid = fork();
	if (pid == 0)
		_exit(scan_unprivileged(s, dev, ino));
	int status = -1;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == NOBODY_CANNOT) {
		print_message("skipped the unprivileged half: nobody cannot reach /proc here\n");
		return;
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_scan_fixture),
		cmocka_unit_test_setup_teardown(test_scan_live, live_setup, live_teardown),
		cmocka_unit_test_setup_teardown(test_ip_netns, live_setup, live_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
