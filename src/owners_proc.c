/* For syscall (getdents64) and MAP_ANONYMOUS, beyond POSIX. */
#define _GNU_SOURCE
/*
 * The /proc backend of the owners map: a readlink of every
 * /proc/<pid>/fd/<n>, on up to OWNERS_ARENAS threads.
 *
 * The scan threads allocate only from mmap (the map's arenas and their
 * own scratch) and run on small stacks: with glibc, a thread's first
 * malloc reserves a malloc arena of 64 MiB of address space, and a
 * default thread stack is 8 MiB, which made a plain table cost well over
 * a hundred MiB of address space for a few KiB of work.
 */
#include "owners_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arena.h"

/*
 * A process is spread over this many threads only when each gets at
 * least PIDS_PER_THREAD of them; below that, starting threads costs more
 * than it saves.
 */
enum { PIDS_PER_THREAD = 16 };

/*
 * A scan thread calls nothing but system-call wrappers, and its deepest
 * chain (scan_pid -> make_group -> read_comm) keeps under 1 KiB of
 * locals: measured on a pattern-filled stack, a thread used 8.3 KiB with
 * the C library's thread control block and TLS (11.4 KiB under
 * address,undefined sanitizers). 64 KiB leaves a wide margin; the
 * sanitizers' builds get more for their redzones and runtime.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(SANITIZED)
enum { SCAN_STACK = 256 * 1024 };
#else
enum { SCAN_STACK = 64 * 1024 };
#endif

/* getdents buffers: the pid list and fd listings; a thread's task list. */
enum { DENTS_SIZE = 256 * 1024, TASK_DENTS_SIZE = 8 * 1024, CMDLINE_SIZE = 4096 };

/* A holder with the inode it holds, as a scan thread finds it. */
struct entry {
	uint64_t inode;
	struct owner w;
};

/* The entries one process contributed, in fd order. */
struct group {
	struct entry *e;
	size_t n;
};

/* One socket fd of the process being scanned. */
struct fdsock {
	uint64_t inode;
	int32_t fd;
};

/*
 * One scan thread's state: scratch reused across processes (so the scan
 * allocates per process never), the pids it handles (every nth of the
 * sorted list, which spreads large and small processes evenly) and what it
 * found, one group per pid.
 */
struct scan {
	int root;
	bool argv0;
	struct arena *arena;
	char *dents;       /* DENTS_SIZE, for fd listings */
	char *tdents;      /* TASK_DENTS_SIZE, for a task listing */
	char *cmdline;     /* CMDLINE_SIZE */
	struct fdsock *fds; /* mmap'ed, fds_cap entries */
	size_t nfds;
	size_t fds_cap;
	size_t nlisted;    /* numeric entries of the last fd listing */
	const int32_t *pids; /* the shared sorted list */
	size_t npids;
	size_t first;        /* this thread's first index */
	size_t stride;       /* the number of threads */
	struct group *groups; /* one per pid handled, in order */
	bool denied;
	int ret;
};

/* A started scan, until finish. */
struct proc_state {
	int root;
	int32_t *pids;
	size_t npids;
	int nthreads;
	struct scan sc[OWNERS_ARENAS];
	pthread_t tid[OWNERS_ARENAS];
	bool running[OWNERS_ARENAS];
};

/* Parses a decimal directory name into a positive int32; false otherwise. */
static bool parse_num(const char *s, int32_t *out)
{
	int64_t v = 0;
	if (*s < '0' || *s > '9')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
		if (v > INT32_MAX)
			return false;
	}
	*out = (int32_t)v;
	return true;
}

/* Writes pid in decimal into name (at least 11 bytes). */
static void fmt_pid(char *name, int32_t pid)
{
	char tmp[12];
	size_t i = sizeof(tmp);
	tmp[--i] = '\0';
	do {
		tmp[--i] = (char)('0' + pid % 10);
		pid /= 10;
	} while (pid > 0);
	memcpy(name, tmp + i, sizeof(tmp) - i);
}

/* dst = a + b; callers size dst for the pieces of a /proc path. */
static void join(char *dst, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	memmove(dst, a, la);
	memcpy(dst + la, b, lb + 1);
}

/*
 * Recognises a link "socket:[N]" of len bytes. Anything else (pipes,
 * files, anon inodes, a malformed or overflowing number) is not a socket.
 */
static bool socket_inode(const char *l, size_t len, uint64_t *out)
{
	static const char pre[] = "socket:[";
	const size_t plen = sizeof(pre) - 1;
	if (len < plen + 2 || memcmp(l, pre, plen) != 0 || l[len - 1] != ']')
		return false;
	uint64_t v = 0;
	for (size_t i = plen; i < len - 1; i++) {
		if (l[i] < '0' || l[i] > '9')
			return false;
		unsigned d = (unsigned)(l[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v == 0)
		return false;
	*out = v;
	return true;
}

/* getdents64 through syscall(): glibc only wraps it since 2.30. */
static ssize_t dents(int fd, char *buf, size_t size)
{
	return syscall(SYS_getdents64, fd, buf, size);
}

struct dent64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/*
 * An open that fails for want of descriptors (or memory) must stop the
 * scan: taken for a vanished process, it would silently drop every owner
 * from there on.
 */
static bool fatal_errno(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOMEM;
}

static bool denied_errno(int err)
{
	return err == EACCES || err == EPERM;
}

/* Grows sc->fds through mmap, for the reason the file comment gives. */
static int push_fd(struct scan *sc, uint64_t inode, int32_t fd)
{
	if (sc->nfds == sc->fds_cap) {
		size_t ncap = sc->fds_cap ? sc->fds_cap * 2 : 1024;
		if (ncap > SIZE_MAX / sizeof(struct fdsock))
			return -ENOMEM;
		void *n = mmap(NULL, ncap * sizeof(struct fdsock), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (n == MAP_FAILED)
			return -ENOMEM;
		if (sc->fds) {
			memcpy(n, sc->fds, sc->nfds * sizeof(struct fdsock));
			munmap(sc->fds, sc->fds_cap * sizeof(struct fdsock));
		}
		sc->fds = n;
		sc->fds_cap = ncap;
	}
	sc->fds[sc->nfds].inode = inode;
	sc->fds[sc->nfds].fd = fd;
	sc->nfds++;
	return 0;
}

/*
 * Collects the socket fds of one fd directory into sc->fds and counts its
 * numeric entries in sc->nlisted (a directory with none may belong to a
 * leader thread that has exited).
 */
static int read_fds(struct scan *sc, int fddir)
{
	sc->nfds = 0;
	sc->nlisted = 0;
	for (;;) {
		ssize_t n = dents(fddir, sc->dents, DENTS_SIZE);
		if (n < 0) {
			/* Whatever the reason, this process is not ours to report. */
			sc->nfds = 0;
			return errno == ENOMEM ? -ENOMEM : 0;
		}
		if (n == 0)
			return 0;
		for (ssize_t off = 0; off < n;) {
			struct dent64 *d = (struct dent64 *)(sc->dents + off);
			off += d->reclen;
			int32_t fd;
			if (!parse_num(d->name, &fd))
				continue;
			sc->nlisted++;
			char link[64];
			ssize_t l = readlinkat(fddir, d->name, link, sizeof(link));
			if (l < 0 && denied_errno(errno))
				sc->denied = true;
			/* A link that fills the buffer may be cut: not ours. */
			if (l <= 0 || (size_t)l >= sizeof(link))
				continue;
			uint64_t inode;
			if (!socket_inode(link, (size_t)l, &inode))
				continue;
			int ret = push_fd(sc, inode, fd);
			if (ret < 0)
				return ret;
		}
	}
}

/*
 * Opens the directory path under the scan's root. Returns the fd, or -1
 * with *ret = 0 when the entry is gone or denied (noting a denial), or -1
 * with *ret a negative errno when the scan must stop.
 */
static int open_dir(struct scan *sc, const char *path, int *ret)
{
	*ret = 0;
	int fd = openat(sc->root, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (fatal_errno(errno))
		*ret = -errno;
	else if (denied_errno(errno))
		sc->denied = true;
	return -1;
}

/*
 * Reads the fds of base ("<pid>/task/<tid>"); true when it listed any,
 * which makes that thread the one to read the process through.
 */
static bool try_task(struct scan *sc, const char *base, int *ret)
{
	char path[64];
	join(path, base, "/fd");
	int fddir = open_dir(sc, path, ret);
	if (fddir < 0)
		return false;
	*ret = read_fds(sc, fddir);
	close(fddir);
	return *ret == 0 && sc->nlisted > 0;
}

/*
 * When the main thread of a process has exited and a worker thread lives
 * on, <pid>/fd lists nothing (the zombie leader has no files any more),
 * so the process is read through its first other thread that lists
 * something. On success base is "<pid>/task/<tid>"; otherwise it is left
 * as "<pid>" with sc->nfds 0.
 */
static int read_via_task(struct scan *sc, int32_t pid, const char *name, char *base)
{
	char path[32];
	join(path, name, "/task");
	/*
	 * Most processes with no fds are kernel threads, alone in their task
	 * directory: /proc counts a task directory's links as 2 plus its
	 * threads, so 3 is that case, told by one stat instead of a listing.
	 */
	struct stat st;
	if (fstatat(sc->root, path, &st, 0) == 0 && st.st_nlink == 3)
		return 0;
	int ret;
	int tdir = open_dir(sc, path, &ret);
	if (tdir < 0)
		return ret;
	bool found = false;
	for (;;) {
		ssize_t n = dents(tdir, sc->tdents, TASK_DENTS_SIZE);
		if (n <= 0)
			break;
		for (ssize_t off = 0; off < n && !found && ret == 0;) {
			struct dent64 *d = (struct dent64 *)(sc->tdents + off);
			off += d->reclen;
			int32_t tid;
			char tname[16];
			if (!parse_num(d->name, &tid) || tid == pid)
				continue;
			/* Rewritten, so a name padded with zeros cannot overflow base. */
			fmt_pid(tname, tid);
			join(base, path, "/");
			join(base, base, tname);
			found = try_task(sc, base, &ret);
		}
		if (found || ret < 0)
			break;
	}
	close(tdir);
	if (!found) {
		sc->nfds = 0;
		join(base, name, "");
	}
	return ret;
}

/* Reads up to size bytes of the file path under the scan's root. */
static ssize_t read_small(struct scan *sc, const char *path, char *buf, size_t size, int *err)
{
	int fd = openat(sc->root, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	ssize_t n;
	do
		n = read(fd, buf, size);
	while (n < 0 && errno == EINTR);
	*err = n < 0 ? errno : 0;
	close(fd);
	return n;
}

/*
 * Reads <pid>/comm into the arena without the kernel's trailing newline.
 * Returns 0 with *out set ("" when unreadable), 1 when the process is
 * gone, or a negative errno that stops the scan.
 */
static int read_comm(struct scan *sc, const char *name, const char **out)
{
	char path[32], comm[256];
	int err;
	join(path, name, "/comm");
	ssize_t n = read_small(sc, path, comm, sizeof(comm), &err);
	if (n < 0) {
		if (err == ENOENT || err == ESRCH)
			return 1;
		if (fatal_errno(err))
			return -err;
		*out = "";
		return 0;
	}
	size_t len = (size_t)n;
	if (len > 0 && comm[len - 1] == '\n')
		len--;
	*out = arena_strndup(sc->arena, comm, len);
	return *out ? 0 : -ENOMEM;
}

/*
 * Reads the basename of argv[0] from <base>/cmdline into the arena, or
 * NULL when it is unreadable, empty (a kernel thread, a zombie), or does
 * not end within CMDLINE_SIZE bytes (a cut name would be a wrong one).
 * Returns 0 or a negative errno that stops the scan.
 */
static int read_argv0(struct scan *sc, const char *base, const char **out)
{
	char path[64];
	int err;
	*out = NULL;
	join(path, base, "/cmdline");
	ssize_t n = read_small(sc, path, sc->cmdline, CMDLINE_SIZE, &err);
	if (n < 0)
		return fatal_errno(err) ? -err : 0;
	const char *s = sc->cmdline, *end = memchr(s, '\0', (size_t)n);
	if (!end) {
		if ((size_t)n == CMDLINE_SIZE)
			return 0;
		end = s + n; /* a process that rewrote its arguments */
	}
	for (const char *p = s; p < end; p++)
		if (*p == '/')
			s = p + 1;
	if (s == end)
		return 0;
	*out = arena_strndup(sc->arena, s, (size_t)(end - s));
	return *out ? 0 : -ENOMEM;
}

/*
 * Sorts sc->fds by fd. The kernel lists a process's fds in order, so the
 * check alone usually suffices; a fixture tree comes in any order, and a
 * heap sort handles it without the allocation qsort may make.
 */
static void sift(struct fdsock *a, size_t i, size_t n)
{
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && a[c + 1].fd > a[c].fd)
			c++;
		if (a[i].fd >= a[c].fd)
			return;
		struct fdsock t = a[i];
		a[i] = a[c];
		a[c] = t;
		i = c;
	}
}

static void sort_fds(struct fdsock *a, size_t n)
{
	size_t i = 1;
	while (i < n && a[i - 1].fd <= a[i].fd)
		i++;
	if (i >= n)
		return;
	for (i = n / 2; i-- > 0;)
		sift(a, i, n);
	for (size_t end = n; end-- > 1;) {
		struct fdsock t = a[0];
		a[0] = a[end];
		a[end] = t;
		sift(a, 0, end);
	}
}

/* Turns sc->fds of process pid into a group of holders. */
static int make_group(struct scan *sc, int32_t pid, const char *name, const char *base,
		      struct group *g)
{
	struct stat st;
	if (fstatat(sc->root, name, &st, 0) < 0)
		return fatal_errno(errno) ? -errno : 0;
	const char *comm = NULL, *argv0 = NULL;
	/*
	 * The name is the process's (its leader's comm, kept while the leader
	 * is a zombie, as ps shows it), not that of the thread read through;
	 * argv[0] lives in the memory of the threads that are left.
	 */
	int ret = read_comm(sc, name, &comm);
	if (ret != 0)
		return ret < 0 ? ret : 0;
	if (sc->argv0 && (ret = read_argv0(sc, base, &argv0)) < 0)
		return ret;

	sort_fds(sc->fds, sc->nfds);
	struct entry *e = arena_alloc(sc->arena, sc->nfds * sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < sc->nfds; i++)
		e[i] = (struct entry){.inode = sc->fds[i].inode,
				      .w = {.next = NULL, .pid = pid, .fd = sc->fds[i].fd,
					    .uid = (uint32_t)st.st_uid, .comm = comm,
					    .argv0 = argv0}};
	*g = (struct group){e, sc->nfds};
	return 0;
}

/* Reads one process into *g (left empty when it has no socket or is gone). */
static int scan_pid(struct scan *sc, int32_t pid, struct group *g)
{
	char name[16], path[32], base[64];
	*g = (struct group){NULL, 0};
	fmt_pid(name, pid);
	join(base, name, "");
	join(path, name, "/fd");
	int ret;
	int fddir = open_dir(sc, path, &ret);
	if (fddir < 0)
		return ret; /* gone, denied, or not a process directory at all */
	ret = read_fds(sc, fddir);
	close(fddir);
	if (ret == 0 && sc->nlisted == 0)
		ret = read_via_task(sc, pid, name, base);
	if (ret < 0 || sc->nfds == 0)
		return ret;
	return make_group(sc, pid, name, base, g);
}

/* A scan thread: every stride-th pid from first on. */
static void *scan_thread(void *arg)
{
	struct scan *sc = arg;
	size_t k = 0;
	for (size_t i = sc->first; sc->ret == 0 && i < sc->npids; i += sc->stride)
		sc->ret = scan_pid(sc, sc->pids[i], &sc->groups[k++]);
	return NULL;
}

static int cmp_pid(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/*
 * Lists the numeric entries of the directory root, sorted, so chains are
 * in pid order. *pids is malloc'ed and owned by the caller.
 */
static int list_pids(int root, int32_t **pids, size_t *npids)
{
	size_t cap = 0;
	*pids = NULL;
	*npids = 0;
	char *buf = malloc(DENTS_SIZE);
	if (!buf)
		return -ENOMEM;
	int ret = 0;
	for (;;) {
		ssize_t n = dents(root, buf, DENTS_SIZE);
		if (n < 0)
			ret = -errno;
		if (n <= 0)
			break;
		for (ssize_t off = 0; off < n && ret == 0;) {
			struct dent64 *d = (struct dent64 *)(buf + off);
			off += d->reclen;
			int32_t pid;
			if (!parse_num(d->name, &pid) || pid == 0)
				continue;
			if (*npids == cap) {
				size_t ncap = cap ? cap * 2 : 1024;
				int32_t *np = realloc(*pids, ncap * sizeof(*np));
				if (!np) {
					ret = -ENOMEM;
					break;
				}
				*pids = np;
				cap = ncap;
			}
			(*pids)[(*npids)++] = pid;
		}
		if (ret < 0)
			break;
	}
	free(buf);
	if (ret == 0 && *npids)
		qsort(*pids, *npids, sizeof(**pids), cmp_pid);
	return ret;
}

static int threads_for(const struct owners_scan_opts *opts, size_t npids)
{
	if (opts->threads)
		return opts->threads > OWNERS_ARENAS ? OWNERS_ARENAS : opts->threads;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t t = npids / PIDS_PER_THREAD;
	if (cpus > 0 && t > (size_t)cpus)
		t = (size_t)cpus;
	if (t > OWNERS_ARENAS)
		t = OWNERS_ARENAS;
	return t < 1 ? 1 : (int)t;
}

static void free_state(struct proc_state *ps)
{
	for (int t = 0; t < ps->nthreads; t++) {
		struct scan *sc = &ps->sc[t];
		free(sc->dents);
		free(sc->groups);
		if (sc->fds)
			munmap(sc->fds, sc->fds_cap * sizeof(*sc->fds));
	}
	free(ps->pids);
	close(ps->root);
	free(ps);
}

/* Gives thread t its share and its scratch, all allocated here. */
static int prepare(struct owners *o, const struct owners_scan_opts *opts,
		   struct proc_state *ps, int t)
{
	struct scan *sc = &ps->sc[t];
	*sc = (struct scan){.root = ps->root, .argv0 = opts->argv0,
			    .arena = owners_arena(o, t), .pids = ps->pids,
			    .npids = ps->npids, .first = (size_t)t,
			    .stride = (size_t)ps->nthreads};
	sc->dents = malloc(DENTS_SIZE + TASK_DENTS_SIZE + CMDLINE_SIZE);
	sc->groups = calloc(ps->npids / (size_t)ps->nthreads + 1, sizeof(struct group));
	if (!sc->dents || !sc->groups)
		return -ENOMEM;
	sc->tdents = sc->dents + DENTS_SIZE;
	sc->cmdline = sc->tdents + TASK_DENTS_SIZE;
	return 0;
}

static int proc_start(struct owners *o, const struct owners_scan_opts *opts, void **state)
{
	struct proc_state *ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	ps->root = open(opts->proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ps->root < 0) {
		int ret = -errno;
		free(ps);
		return ret;
	}
	int ret = list_pids(ps->root, &ps->pids, &ps->npids);
	if (ret == 0)
		ps->nthreads = threads_for(opts, ps->npids);
	for (int t = 0; t < ps->nthreads && ret == 0; t++)
		ret = prepare(o, opts, ps, t);
	if (ret < 0) {
		free_state(ps);
		return ret;
	}
	pthread_attr_t attr;
	bool attr_ok = pthread_attr_init(&attr) == 0;
	if (attr_ok)
		pthread_attr_setstacksize(&attr, SCAN_STACK);
	/* A share whose thread cannot start is scanned by finish instead. */
	for (int t = opts->inline_first ? 1 : 0; t < ps->nthreads; t++)
		ps->running[t] = pthread_create(&ps->tid[t], attr_ok ? &attr : NULL,
						scan_thread, &ps->sc[t]) == 0;
	if (attr_ok)
		pthread_attr_destroy(&attr);
	*state = ps;
	return 0;
}

static int proc_finish(struct owners *o, void *state)
{
	struct proc_state *ps = state;
	for (int t = 0; t < ps->nthreads; t++)
		if (!ps->running[t])
			scan_thread(&ps->sc[t]);
	for (int t = 0; t < ps->nthreads; t++)
		if (ps->running[t])
			pthread_join(ps->tid[t], NULL);

	int ret = 0;
	size_t n = (size_t)ps->nthreads;
	for (size_t t = 0; t < n; t++) {
		if (ps->sc[t].denied)
			owners_note_denied(o);
		if (ret == 0)
			ret = ps->sc[t].ret;
	}
	/* Fill the map in pid order, so every holder joins its chain at the tail. */
	for (size_t i = 0; ret == 0 && i < ps->npids; i++) {
		const struct group *g = &ps->sc[i % n].groups[i / n];
		for (size_t j = 0; ret == 0 && j < g->n; j++)
			ret = owners_add(o, g->e[j].inode, &g->e[j].w);
	}
	free_state(ps);
	return ret;
}

const struct owners_backend owners_proc_backend = {
	.name = "proc",
	.start = proc_start,
	.finish = proc_finish,
};

int owners_raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	/* RLIM_INFINITY is the largest rlim_t, so plain comparisons hold. */
	rlim_t want = rl.rlim_max < OWNERS_FD_WANT ? rl.rlim_max : OWNERS_FD_WANT;
	if (rl.rlim_cur >= want)
		return 0;
	rl.rlim_cur = want;
	return setrlimit(RLIMIT_NOFILE, &rl) < 0 ? -errno : 0;
}
