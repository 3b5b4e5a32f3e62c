/* For setns and CLONE_NEWNET, beyond POSIX. */
#define _GNU_SOURCE
#include "netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cgroup.h"
#include "escape.h"

int netns_open(const char *spec)
{
	char path[PATH_MAX];
	int n;
	if (strchr(spec, '/')) {
		n = snprintf(path, sizeof(path), "%s", spec);
	} else {
		/* A name is a file in /run/netns, never a way out of it. */
		if (strcmp(spec, "..") == 0 || strcmp(spec, ".") == 0 || !*spec)
			return -EINVAL;
		n = snprintf(path, sizeof(path), "/run/netns/%s", spec);
	}
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;

	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	/* Only nsfs files answer this; anything else is not a namespace. */
	int type = ioctl(fd, NS_GET_NSTYPE);
	if (type != CLONE_NEWNET) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int netns_enter(int fd)
{
	return setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
}

void netns_list_init(struct netns_list *l)
{
	memset(l, 0, sizeof(*l));
}

void netns_list_finish(struct netns_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->len; i++) {
		free(l->v[i].name);
		free(l->v[i].path);
	}
	free(l->v);
	for (size_t i = 0; i < l->nwarnings; i++)
		free(l->warnings[i]);
	free(l->warnings);
	u64map_finish(&l->index);
	memset(l, 0, sizeof(*l));
}

/* Device and inode in one key; the entry itself is checked on a hit. */
static uint64_t key(uint64_t dev, uint64_t ino)
{
	return util_mix64(dev) ^ ino;
}

const struct netns_entry *netns_list_find(const struct netns_list *l, uint64_t dev, uint64_t ino)
{
	void **slot = u64map_get(&l->index, key(dev, ino));
	if (slot) {
		const struct netns_entry *e = &l->v[(uintptr_t)*slot - 1];
		if (e->dev == dev && e->ino == ino)
			return e;
	}
	/* Two namespaces whose keys collide: the index names only one. */
	for (size_t i = 0; i < l->len; i++) {
		if (l->v[i].dev == dev && l->v[i].ino == ino)
			return &l->v[i];
	}
	return NULL;
}

/* Adds the namespace (dev, ino) if new; *e is its entry either way. */
static int add(struct netns_list *l, uint64_t dev, uint64_t ino, struct netns_entry **e)
{
	*e = (struct netns_entry *)netns_list_find(l, dev, ino);
	if (*e)
		return 0;
	if (l->len == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct netns_entry *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	void **slot;
	bool fresh;
	int r = u64map_insert(&l->index, key(dev, ino), &slot, &fresh);
	if (r < 0)
		return r;
	if (fresh)
		*slot = (void *)(uintptr_t)(l->len + 1);
	*e = &l->v[l->len++];
	**e = (struct netns_entry){.ino = ino, .dev = dev};
	return 0;
}

/* Adds a sentence to the warnings, the file name escaped for a terminal. */
static int warn(struct netns_list *l, const char *dir, const char *name, const char *why)
{
	char **w = realloc(l->warnings, (l->nwarnings + 1) * sizeof(*w));
	if (!w)
		return -ENOMEM;
	l->warnings = w;
	struct buf b = BUF_INIT;
	escape_text(&b, dir, strlen(dir));
	if (name) {
		buf_addc(&b, '/');
		escape_text(&b, name, strlen(name));
	}
	buf_adds(&b, ": ");
	buf_adds(&b, why);
	buf_adds(&b, ", skipped");
	if (!buf_ok(&b)) {
		buf_finish(&b);
		return -ENOMEM;
	}
	l->warnings[l->nwarnings++] = b.p;
	return 0;
}

static char *path_of(const char *proc_root, const char *rel)
{
	size_t n = strlen(proc_root) + strlen(rel) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", proc_root, rel);
	return p;
}

/* Every process's namespace, by stat, so nothing is opened per process. */
static int scan_proc(struct netns_list *l, const char *proc_root, int procfd)
{
	int fd = openat(procfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		int r = -errno;
		if (fd >= 0)
			close(fd);
		return r;
	}
	int err = 0;
	struct dirent *de;
	while (!err && (de = readdir(d))) {
		uint64_t pid;
		if (!util_parse_u64z(de->d_name, INT_MAX, &pid) || pid == 0)
			continue;
		char rel[64];
		snprintf(rel, sizeof(rel), "%llu/ns/net", (unsigned long long)pid);
		struct stat st;
		if (fstatat(procfd, rel, &st, 0) != 0)
			continue; /* gone, or not ours to see */
		struct netns_entry *e;
		err = add(l, st.st_dev, st.st_ino, &e);
		if (err || (e->pid && e->pid < (int)pid))
			continue;
		e->pid = (int)pid;
		if (e->self)
			continue; /* self/ns/net stays its way in */
		char *p = path_of(proc_root, rel);
		if (!p) {
			err = -ENOMEM;
			continue;
		}
		free(e->path);
		e->path = p;
	}
	closedir(d);
	return err;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir, sorted, so that a namespace with two names gets the first. */
static int list_dir(DIR *d, char ***names, size_t *n)
{
	size_t cap = 0;
	struct dirent *de;
	*names = NULL;
	*n = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			char **v = realloc(*names, cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			*names = v;
		}
		if (!((*names)[*n] = strdup(de->d_name)))
			return -ENOMEM;
		(*n)++;
	}
	if (*n)
		qsort(*names, *n, sizeof(**names), cmp_names);
	return 0;
}

/*
 * One file of run_netns: opened without blocking or following a link, to
 * check that it is a network namespace (a bind mount of nsfs).
 */
static int add_file(struct netns_list *l, const char *dir, int dfd, const char *name)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : warn(l, dir, name, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return warn(l, dir, name, "not a network namespace");
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : warn(l, dir, name, strerror(errno));
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET || fstat(fd, &st) != 0) {
		close(fd);
		return warn(l, dir, name, "not a network namespace");
	}
	close(fd);
	struct netns_entry *e;
	int r = add(l, st.st_dev, st.st_ino, &e);
	if (r < 0 || e->name)
		return r; /* a second name of one namespace */
	if (!(e->name = strdup(name)))
		return -ENOMEM;
	if (e->self)
		return 0;
	/* A name outlives any member process: enter through it. */
	char *p = path_of(dir, name);
	if (!p)
		return -ENOMEM;
	free(e->path);
	e->path = p;
	return 0;
}

static int scan_run(struct netns_list *l, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : warn(l, dir, NULL, strerror(errno));
	char **names;
	size_t n;
	int r = list_dir(d, &names, &n);
	for (size_t i = 0; i < n; i++) {
		if (r == 0)
			r = add_file(l, dir, dirfd(d), names[i]);
		free(names[i]);
	}
	free(names);
	closedir(d);
	return r;
}

/* The caller's own first, then by lowest member pid, then by name. */
static int cmp_entries(const void *pa, const void *pb)
{
	const struct netns_entry *a = pa, *b = pb;
	if (a->self != b->self)
		return a->self ? -1 : 1;
	if ((a->pid > 0) != (b->pid > 0))
		return a->pid > 0 ? -1 : 1;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	if (!a->name || !b->name)
		return (a->name != NULL) - (b->name != NULL);
	return strcmp(a->name, b->name);
}

static int sort_and_index(struct netns_list *l)
{
	if (l->len)
		qsort(l->v, l->len, sizeof(*l->v), cmp_entries);
	u64map_clear(&l->index);
	for (size_t i = 0; i < l->len; i++) {
		void **slot;
		bool fresh;
		int r = u64map_insert(&l->index, key(l->v[i].dev, l->v[i].ino), &slot, &fresh);
		if (r < 0)
			return r;
		if (fresh)
			*slot = (void *)(uintptr_t)(i + 1);
	}
	return 0;
}

int netns_list_scan(struct netns_list *l, const char *proc_root, const char *run_netns)
{
	int procfd = open(proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0)
		return -errno;
	struct stat st;
	int r = fstatat(procfd, "self/ns/net", &st, 0) == 0 ? 0 : -errno;
	struct netns_entry *self;
	if (r == 0)
		r = add(l, st.st_dev, st.st_ino, &self);
	if (r == 0) {
		self->self = true;
		self->path = path_of(proc_root, "self/ns/net");
		if (!self->path)
			r = -ENOMEM;
	}
	if (r == 0)
		r = scan_proc(l, proc_root, procfd);
	close(procfd);
	if (r == 0 && run_netns)
		r = scan_run(l, run_netns);
	if (r == 0)
		r = sort_and_index(l);
	return r;
}

int netns_entry_open(const struct netns_entry *e)
{
	if (!e->path)
		return -ENOENT;
	int fd = open(e->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return errno == ESRCH ? -ENOENT : -errno;
	/* The pid may have exited and its number gone to another process. */
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_dev != e->dev || st.st_ino != e->ino ||
	    ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

/* What the thread that enters a namespace needs, and what it returns. */
struct run {
	int fd;
	int (*fn)(void *);
	void *arg;
	int ret;
};

static void *run_thread(void *p)
{
	struct run *r = p;
	r->ret = netns_enter(r->fd);
	if (r->ret == 0)
		r->ret = r->fn(r->arg);
	return NULL;
}

int netns_run_in(const struct netns_entry *e, int (*fn)(void *), void *arg)
{
	if (e->self)
		return fn(arg);
	struct run r = {.fd = netns_entry_open(e), .fn = fn, .arg = arg, .ret = 0};
	if (r.fd < 0)
		return r.fd;
	pthread_t t;
	int err = pthread_create(&t, NULL, run_thread, &r);
	if (err == 0)
		err = pthread_join(t, NULL);
	close(r.fd);
	return err ? -err : r.ret;
}

void netns_label(const struct netns_entry *e, const char *proc_root, char out[NETNS_LABEL_MAX])
{
	_Static_assert((int)NETNS_LABEL_MAX >= (int)CGROUP_NAME_MAX, "a cgroup name fits a label");
	if (e->name && strlen(e->name) < NETNS_LABEL_MAX) {
		strcpy(out, e->name);
		return;
	}
	if (e->self) {
		strcpy(out, "host");
		return;
	}
	/* A process that exited since the scan leaves the inode. */
	if (e->pid > 0 && cgroup_name_pid(proc_root, e->pid, out) > 0)
		return;
	snprintf(out, NETNS_LABEL_MAX, "netns:[%llu]", (unsigned long long)e->ino);
}
