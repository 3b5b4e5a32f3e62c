#include "owners.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arena.h"

/*
 * The map from inode to its chain of holders: open addressing with linear
 * probing, at most half full, so a lookup touches one or two slots even
 * with hundreds of thousands of sockets. Inode 0 marks an empty slot; no
 * socket has inode 0.
 */
struct slot {
	uint64_t inode;
	struct owner *head;
	struct owner *tail; /* so appending keeps pid order in O(1) */
};

/*
 * The scan reads /proc on up to SCAN_THREADS threads (readlink costs a few
 * microseconds per fd, the bulk of the work at 100k sockets), each into an
 * arena of its own; the map is then filled on one thread, in pid order.
 */
enum { SCAN_THREADS = 4, PIDS_PER_THREAD = 16 };

struct owners {
	struct slot *slots;
	size_t cap;   /* a power of two, or 0 before the first insert */
	size_t count;
	struct arena arenas[SCAN_THREADS];
	int threads;  /* 0: automatic */
};

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
	struct arena *arena;
	char *dents;       /* getdents64 buffer */
	size_t dents_size;
	struct fdsock *fds;
	size_t nfds;
	size_t fds_cap;
	const int32_t *pids; /* the shared sorted list */
	size_t npids;
	size_t first;        /* this thread's first index */
	size_t stride;       /* the number of threads */
	struct group *groups; /* one per pid handled, in order */
	int ret;
};

enum { DENTS_SIZE = 256 * 1024, FIRST_CAP = 1024 };

int owners_create(struct owners **out)
{
	struct owners *o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	for (int i = 0; i < SCAN_THREADS; i++)
		arena_init(&o->arenas[i]);
	*out = o;
	return 0;
}

void owners_destroy(struct owners *o)
{
	if (!o)
		return;
	free(o->slots);
	for (int i = 0; i < SCAN_THREADS; i++)
		arena_finish(&o->arenas[i]);
	free(o);
}

static size_t hash(uint64_t inode, size_t cap)
{
	/* Fibonacci hashing spreads the dense inode numbers over the table. */
	return (size_t)((inode * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
}

static struct slot *probe(struct slot *slots, size_t cap, uint64_t inode)
{
	size_t i = hash(inode, cap);
	while (slots[i].inode != 0 && slots[i].inode != inode)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int grow(struct owners *o)
{
	size_t ncap = o->cap ? o->cap * 2 : FIRST_CAP;
	if (ncap > SIZE_MAX / sizeof(struct slot))
		return -ENOMEM;
	struct slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < o->cap; i++)
		if (o->slots[i].inode)
			*probe(ns, ncap, o->slots[i].inode) = o->slots[i];
	free(o->slots);
	o->slots = ns;
	o->cap = ncap;
	return 0;
}

static int add(struct owners *o, uint64_t inode, struct owner *w)
{
	if ((o->count + 1) * 2 > o->cap) {
		int ret = grow(o);
		if (ret < 0)
			return ret;
	}
	struct slot *s = probe(o->slots, o->cap, inode);
	if (s->inode == 0) {
		s->inode = inode;
		s->head = s->tail = w;
		o->count++;
	} else {
		s->tail->next = w;
		s->tail = w;
	}
	return 0;
}

const struct owner *owners_lookup(const struct owners *o, uint64_t inode)
{
	if (!o || o->cap == 0 || inode == 0)
		return NULL;
	return probe(o->slots, o->cap, inode)->head;
}

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

/* dst = a + b; callers size dst for a pid directory and a short suffix. */
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

static int push_fd(struct scan *sc, uint64_t inode, int32_t fd)
{
	if (sc->nfds == sc->fds_cap) {
		size_t ncap = sc->fds_cap ? sc->fds_cap * 2 : 256;
		struct fdsock *n = realloc(sc->fds, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		sc->fds = n;
		sc->fds_cap = ncap;
	}
	sc->fds[sc->nfds].inode = inode;
	sc->fds[sc->nfds].fd = fd;
	sc->nfds++;
	return 0;
}

/* Collects the socket fds of one process into sc->fds. */
static int read_fds(struct scan *sc, int fddir)
{
	sc->nfds = 0;
	for (;;) {
		ssize_t n = dents(fddir, sc->dents, sc->dents_size);
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
			char link[64];
			ssize_t l = readlinkat(fddir, d->name, link, sizeof(link));
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
 * Reads <pid>/comm into the arena without the kernel's trailing newline.
 * Returns NULL when the process is gone.
 */
static const char *read_comm(struct arena *arena, int root, const char *pid, bool *gone)
{
	char path[32], comm[256];
	join(path, pid, "/comm");
	*gone = false;
	int fd = openat(root, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*gone = errno == ENOENT || errno == ESRCH;
		return *gone ? NULL : "";
	}
	ssize_t n;
	do
		n = read(fd, comm, sizeof(comm));
	while (n < 0 && errno == EINTR);
	int err = errno;
	close(fd);
	if (n < 0) {
		*gone = err == ENOENT || err == ESRCH;
		return *gone ? NULL : "";
	}
	size_t len = (size_t)n;
	if (len > 0 && comm[len - 1] == '\n')
		len--;
	return arena_strndup(arena, comm, len);
}

static int cmp_fd(const void *a, const void *b)
{
	const struct fdsock *x = a, *y = b;
	return (x->fd > y->fd) - (x->fd < y->fd);
}

/* Reads one process into *g (left empty when it has no socket or is gone). */
static int scan_pid(struct scan *sc, int32_t pid, struct group *g)
{
	char name[16], path[32];
	*g = (struct group){NULL, 0};
	fmt_pid(name, pid);
	join(path, name, "/fd");
	int fddir = openat(sc->root, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fddir < 0) {
		/* Gone, denied, or not a process directory at all. */
		return errno == ENOMEM ? -ENOMEM : 0;
	}
	int ret = read_fds(sc, fddir);
	close(fddir);
	if (ret < 0 || sc->nfds == 0)
		return ret;

	struct stat st;
	if (fstatat(sc->root, name, &st, 0) < 0)
		return 0;
	bool gone;
	const char *comm = read_comm(sc->arena, sc->root, name, &gone);
	if (gone)
		return 0;
	if (!comm)
		return -ENOMEM;

	qsort(sc->fds, sc->nfds, sizeof(*sc->fds), cmp_fd);
	struct entry *e = arena_alloc(sc->arena, sc->nfds * sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < sc->nfds; i++)
		e[i] = (struct entry){.inode = sc->fds[i].inode,
				      .w = {.next = NULL, .pid = pid, .fd = sc->fds[i].fd,
					    .uid = (uint32_t)st.st_uid, .comm = comm}};
	*g = (struct group){e, sc->nfds};
	return 0;
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
static int list_pids(int root, char *buf, size_t size, int32_t **pids, size_t *npids)
{
	size_t cap = 0;
	*pids = NULL;
	*npids = 0;
	for (;;) {
		ssize_t n = dents(root, buf, size);
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			struct dent64 *d = (struct dent64 *)(buf + off);
			off += d->reclen;
			int32_t pid;
			if (!parse_num(d->name, &pid) || pid == 0)
				continue;
			if (*npids == cap) {
				size_t ncap = cap ? cap * 2 : 1024;
				int32_t *np = realloc(*pids, ncap * sizeof(*np));
				if (!np)
					return -ENOMEM;
				*pids = np;
				cap = ncap;
			}
			(*pids)[(*npids)++] = pid;
		}
	}
	if (*npids)
		qsort(*pids, *npids, sizeof(**pids), cmp_pid);
	return 0;
}

void owners_set_threads(struct owners *o, int n)
{
	o->threads = n < 0 ? 0 : n > SCAN_THREADS ? SCAN_THREADS : n;
}

static int threads_for(const struct owners *o, size_t npids)
{
	if (o->threads)
		return o->threads;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t t = npids / PIDS_PER_THREAD;
	if (cpus > 0 && t > (size_t)cpus)
		t = (size_t)cpus;
	if (t > SCAN_THREADS)
		t = SCAN_THREADS;
	return t < 1 ? 1 : (int)t;
}

int owners_scan(struct owners *o, const char *proc_root)
{
	struct scan sc[SCAN_THREADS] = {0};
	pthread_t tid[SCAN_THREADS];
	int32_t *pids = NULL;
	size_t npids = 0;
	int nthreads = 0, started = 1;

	int root = open(proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	int ret = -ENOMEM;
	char *listbuf = malloc(DENTS_SIZE);
	if (!listbuf)
		goto out;
	ret = list_pids(root, listbuf, DENTS_SIZE, &pids, &npids);
	free(listbuf);
	if (ret < 0)
		goto out;

	nthreads = threads_for(o, npids);
	for (int t = 0; t < nthreads; t++) {
		sc[t] = (struct scan){.root = root, .arena = &o->arenas[t], .dents_size = DENTS_SIZE,
				      .pids = pids, .npids = npids, .first = (size_t)t,
				      .stride = (size_t)nthreads};
		sc[t].dents = malloc(DENTS_SIZE);
		sc[t].groups = calloc(npids / (size_t)nthreads + 1, sizeof(struct group));
		if (!sc[t].dents || !sc[t].groups) {
			ret = -ENOMEM;
			goto out;
		}
	}
	/* Thread 0 is this one; a thread that cannot start leaves its share here. */
	for (; started < nthreads; started++)
		if (pthread_create(&tid[started], NULL, scan_thread, &sc[started]) != 0)
			break;
	scan_thread(&sc[0]);
	for (int t = started; t < nthreads; t++)
		scan_thread(&sc[t]);
	for (int t = 1; t < started; t++)
		pthread_join(tid[t], NULL);

	ret = 0;
	for (int t = 0; t < nthreads && ret == 0; t++)
		ret = sc[t].ret;
	/* Fill the map in pid order, so every chain lists its holders by pid. */
	for (size_t i = 0; ret == 0 && i < npids; i++) {
		const struct group *g = &sc[i % (size_t)nthreads].groups[i / (size_t)nthreads];
		for (size_t j = 0; ret == 0 && j < g->n; j++)
			ret = add(o, g->e[j].inode, &g->e[j].w);
	}
out:
	for (int t = 0; t < nthreads; t++) {
		free(sc[t].dents);
		free(sc[t].fds);
		free(sc[t].groups);
	}
	free(pids);
	close(root);
	return ret;
}
