/* For memmem and the d_type constants, beyond POSIX. */
#define _GNU_SOURCE
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"

/* A run of bytes inside a caller's text; never NUL terminated. */
struct span {
	const char *p;
	size_t n;
};

static bool span_is(struct span s, const char *lit)
{
	size_t l = strlen(lit);
	return s.n == l && memcmp(s.p, lit, l) == 0;
}

static bool span_starts(struct span s, const char *lit)
{
	size_t l = strlen(lit);
	return s.n >= l && memcmp(s.p, lit, l) == 0;
}

static bool span_ends(struct span s, const char *lit)
{
	size_t l = strlen(lit);
	return s.n >= l && memcmp(s.p + s.n - l, lit, l) == 0;
}

/* The bytes between prefix and suffix, when s has both and more between. */
static bool span_between(struct span s, const char *prefix, const char *suffix, struct span *mid)
{
	size_t a = strlen(prefix), b = strlen(suffix);
	if (s.n <= a + b || !span_starts(s, prefix) || !span_ends(s, suffix))
		return false;
	mid->p = s.p + a;
	mid->n = s.n - a - b;
	return true;
}

/*
 * The next non-empty component of path at or after *pos, which moves past
 * it. Returns false at the end.
 */
static bool next_comp(const char *path, size_t len, size_t *pos, struct span *c)
{
	size_t i = *pos;
	while (i < len && path[i] == '/')
		i++;
	if (i >= len)
		return false;
	size_t start = i;
	while (i < len && path[i] != '/')
		i++;
	c->p = path + start;
	c->n = i - start;
	*pos = i;
	return true;
}

/*
 * A container id: lowercase hex, as every engine writes it (64 digits;
 * shorter ones down to the 12 we show are accepted for engines that
 * abbreviate).
 */
static bool is_hex_id(struct span s)
{
	if (s.n < 12 || s.n > 128)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

/*
 * A pod UID: a UUID with dashes (cgroupfs) or underscores (systemd, which
 * keeps dashes for its hierarchy), or the 32 hex digits of a static pod's
 * hash.
 */
static bool is_pod_uid(struct span s)
{
	if (s.n < 8 || s.n > 64)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

/*
 * Writes prefix and the bytes of s (a name a runtime chose) to out.
 * Refuses an empty name, a control byte (a cell must never carry one,
 * and no runtime writes one) and a name that would not fit.
 */
static bool put_name(char *out, const char *prefix, struct span s)
{
	size_t a = strlen(prefix);
	if (s.n == 0 || a + s.n >= CGROUP_NAME_MAX)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	memcpy(out, prefix, a);
	memcpy(out + a, s.p, s.n);
	out[a + s.n] = '\0';
	return true;
}

/* prefix and the first 12 digits of a hex id. */
static bool put_id(char *out, const char *prefix, struct span id)
{
	if (!is_hex_id(id))
		return false;
	id.n = 12;
	return put_name(out, prefix, id);
}

/*
 * A Kubernetes pod: a systemd slice "kubepods[-QOS]-pod<UID>.slice" (any
 * prefix, as kubelet's cgroup root may add one), or under a cgroupfs
 * "kubepods" directory, "pod<UID>".
 */
static bool find_pod(const char *path, size_t len, char *out)
{
	size_t pos = 0;
	bool under_kubepods = false;
	struct span c;
	while (next_comp(path, len, &pos, &c)) {
		struct span uid = {NULL, 0};
		if (span_ends(c, ".slice") && memmem(c.p, c.n, "kubepods", 8)) {
			struct span stem = {c.p, c.n - 6};
			for (size_t i = stem.n; i >= 4; i--) {
				if (memcmp(stem.p + i - 4, "-pod", 4) == 0) {
					uid.p = stem.p + i;
					uid.n = stem.n - i;
					break;
				}
			}
		} else if (under_kubepods && span_starts(c, "pod")) {
			uid.p = c.p + 3;
			uid.n = c.n - 3;
		}
		if (uid.p && is_pod_uid(uid)) {
			memcpy(out, "pod:", 4);
			for (size_t i = 0; i < uid.n; i++)
				out[4 + i] = uid.p[i] == '_' ? '-' : uid.p[i];
			out[4 + uid.n] = '\0';
			return true;
		}
		if (span_starts(c, "kubepods"))
			under_kubepods = true;
	}
	return false;
}

/* One component as a container, given the component before it. */
static bool match_container(struct span prev, struct span c, char *out)
{
	struct span mid;
	if (span_between(c, "docker-", ".scope", &mid))
		return put_id(out, "docker:", mid);
	if (span_is(prev, "docker"))
		return put_id(out, "docker:", c);
	if (span_between(c, "libpod-", ".scope", &mid) || span_between(c, "libpod-", "", &mid))
		return put_id(out, "podman:", mid);
	if (span_between(c, "cri-containerd-", ".scope", &mid) ||
	    span_between(c, "nerdctl-", ".scope", &mid))
		return put_id(out, "containerd:", mid);
	if (span_is(prev, "default") || span_is(prev, "k8s.io"))
		return put_id(out, "containerd:", c);
	if (span_between(c, "crio-", ".scope", &mid) || span_between(c, "crio-", "", &mid))
		return put_id(out, "crio:", mid);
	if (span_between(c, "lxc.payload.", "", &mid))
		return put_name(out, "lxc:", mid);
	if (span_is(prev, "lxc.payload") || span_is(prev, "lxc"))
		return put_name(out, "lxc:", c);
	if (span_between(c, "systemd-nspawn@", ".service", &mid) ||
	    span_between(c, "machine-", ".scope", &mid))
		return put_name(out, "nspawn:", mid);
	return false;
}

/* The outermost component that names a container. */
static bool find_container(const char *path, size_t len, char *out)
{
	size_t pos = 0;
	struct span prev = {"", 0}, c;
	while (next_comp(path, len, &pos, &c)) {
		if (match_container(prev, c, out))
			return true;
		prev = c;
	}
	return false;
}

/* The innermost component that is a systemd unit holding processes. */
static bool find_unit(const char *path, size_t len, char *out)
{
	static const char *const kinds[] = {".service", ".scope", ".socket", ".mount", ".swap"};
	size_t pos = 0;
	struct span c, unit = {NULL, 0};
	while (next_comp(path, len, &pos, &c)) {
		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
			if (c.n > strlen(kinds[i]) && span_ends(c, kinds[i]))
				unit = c;
		}
	}
	return unit.p && put_name(out, "", unit);
}

enum cgroup_kind cgroup_name(const char *path, size_t len, char out[CGROUP_NAME_MAX])
{
	out[0] = '\0';
	if (find_pod(path, len, out) || find_container(path, len, out))
		return CGROUP_CONTAINER;
	if (find_unit(path, len, out))
		return CGROUP_UNIT;
	out[0] = '\0';
	return CGROUP_NONE;
}

/* Whether the comma-separated controller list holds item. */
static bool has_controller(struct span list, const char *item)
{
	size_t pos = 0;
	while (pos <= list.n) {
		const char *comma = memchr(list.p + pos, ',', list.n - pos);
		size_t end = comma ? (size_t)(comma - list.p) : list.n;
		struct span one = {list.p + pos, end - pos};
		if (span_is(one, item))
			return true;
		pos = end + 1;
	}
	return false;
}

void cgroup_pick(const char *text, size_t len, const char **v2, size_t *v2_len,
		 const char **systemd, size_t *systemd_len)
{
	*v2 = *systemd = NULL;
	*v2_len = *systemd_len = 0;
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		struct span line = {text + pos, end - pos};
		pos = end + 1;

		/* ID:CONTROLLERS:PATH, where only PATH may hold colons. */
		const char *c1 = memchr(line.p, ':', line.n);
		if (!c1)
			continue;
		size_t rest = line.n - (size_t)(c1 + 1 - line.p);
		const char *c2 = memchr(c1 + 1, ':', rest);
		if (!c2)
			continue;
		struct span id = {line.p, (size_t)(c1 - line.p)};
		struct span ctl = {c1 + 1, (size_t)(c2 - c1 - 1)};
		struct span p = {c2 + 1, line.n - (size_t)(c2 + 1 - line.p)};
		if (span_ends(p, " (deleted)"))
			p.n -= 10;
		if (span_is(id, "0") && ctl.n == 0 && !*v2) {
			*v2 = p.p;
			*v2_len = p.n;
		} else if (has_controller(ctl, "name=systemd") && !*systemd) {
			*systemd = p.p;
			*systemd_len = p.n;
		}
	}
}

enum cgroup_kind cgroup_name_file(const char *text, size_t len, char out[CGROUP_NAME_MAX])
{
	const char *v2, *sd;
	size_t v2_len, sd_len;
	cgroup_pick(text, len, &v2, &v2_len, &sd, &sd_len);

	char unit[CGROUP_NAME_MAX] = "";
	enum cgroup_kind k = CGROUP_NONE;
	if (v2) {
		k = cgroup_name(v2, v2_len, out);
		if (k == CGROUP_CONTAINER)
			return k;
		if (k == CGROUP_UNIT)
			memcpy(unit, out, CGROUP_NAME_MAX);
	}
	if (sd) {
		enum cgroup_kind s = cgroup_name(sd, sd_len, out);
		if (s == CGROUP_CONTAINER || (s == CGROUP_UNIT && k == CGROUP_NONE))
			return s;
	}
	memcpy(out, unit, CGROUP_NAME_MAX);
	return k;
}

int cgroup_name_pid(const char *proc_root, int pid, char out[CGROUP_NAME_MAX])
{
	char path[PATH_MAX];
	out[0] = '\0';
	int n = snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, pid);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	struct buf b = BUF_INIT;
	/* A process in a thousand cgroup hierarchies still fits in 1 MiB. */
	int r = util_read_file(AT_FDCWD, path, 1 << 20, &b);
	if (r == 0)
		r = (int)cgroup_name_file(b.p ? b.p : "", b.len, out);
	buf_finish(&b);
	return r;
}

/* Undoes the octal escapes the kernel writes for space, tab, newline, backslash. */
static int unescape(struct span s, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		if (c == '\\' && i + 3 < s.n && s.p[i + 1] >= '0' &&
		    s.p[i + 1] <= '3' && s.p[i + 2] >= '0' && s.p[i + 2] <= '7' && s.p[i + 3] >= '0' &&
		    s.p[i + 3] <= '7') {
			c = (char)((s.p[i + 1] - '0') * 64 + (s.p[i + 2] - '0') * 8 + (s.p[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= cap)
			return -ENAMETOOLONG;
		out[o++] = c;
	}
	if (cap == 0)
		return -ENAMETOOLONG;
	out[o] = '\0';
	return 0;
}

/*
 * Splits a mountinfo line ("ID PARENT MAJ:MIN ROOT POINT OPTS [TAGS...] -
 * FSTYPE SOURCE SUPEROPTS") into root, mount point and file system type.
 */
static bool mountinfo_fields(struct span line, struct span *root, struct span *point,
			     struct span *fstype)
{
	size_t pos = 0, nf = 0;
	bool dash = false;
	while (pos < line.n) {
		const char *sp = memchr(line.p + pos, ' ', line.n - pos);
		size_t end = sp ? (size_t)(sp - line.p) : line.n;
		struct span w = {line.p + pos, end - pos};
		pos = end + 1;
		if (w.n == 0)
			continue;
		if (dash) {
			*fstype = w;
			return true;
		}
		if (nf == 3)
			*root = w;
		else if (nf == 4)
			*point = w;
		else if (nf > 5 && span_is(w, "-"))
			dash = true;
		nf++;
	}
	return false;
}

int cgroup_mount_parse(const char *text, size_t len, char *out, size_t cap)
{
	struct span best = {NULL, 0};
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		struct span line = {text + pos, end - pos};
		pos = end + 1;
		struct span root, point, fstype;
		if (!mountinfo_fields(line, &root, &point, &fstype) || !span_is(fstype, "cgroup2"))
			continue;
		if (span_is(root, "/")) {
			best = point;
			break;
		}
		if (!best.p)
			best = point;
	}
	if (!best.p)
		return -ENOENT;
	return unescape(best, out, cap);
}

int cgroup_mount_find(const char *path, char *out, size_t cap)
{
	struct buf b = BUF_INIT;
	int r = util_read_file(AT_FDCWD, path, 16 << 20, &b);
	if (r == 0)
		r = cgroup_mount_parse(b.p ? b.p : "", b.len, out, cap);
	buf_finish(&b);
	return r;
}

int cgroup_map_init(struct cgroup_map *m, const char *mount)
{
	memset(m, 0, sizeof(*m));
	m->mount = strdup(mount);
	if (!m->mount)
		return -ENOMEM;
	arena_init(&m->paths);
	/* Far more cgroups than any host has, yet a bound on a hostile tree. */
	m->limit = 1u << 20;
	return 0;
}

void cgroup_map_finish(struct cgroup_map *m)
{
	if (!m)
		return;
	free(m->mount);
	m->mount = NULL;
	u64map_finish(&m->ids);
	arena_finish(&m->paths);
}

void cgroup_map_reset(struct cgroup_map *m)
{
	u64map_clear(&m->ids);
	arena_finish(&m->paths);
	arena_init(&m->paths);
	m->walked = m->rewalked = false;
}

/* The state of one walk of the tree. */
struct walk {
	struct cgroup_map *m;
	dev_t dev;              /* the cgroup2 file system; mounts below are not it */
	char path[PATH_MAX];    /* the directory being read, relative, "" at the root */
	size_t count;
};

/* Deep enough for any real hierarchy; each level holds one descriptor. */
enum { WALK_DEPTH = 64 };

static int record(struct walk *w, uint64_t id, size_t len)
{
	if (w->count >= w->m->limit)
		return 0;
	void **slot;
	bool fresh;
	int r = u64map_insert(&w->m->ids, id, &slot, &fresh);
	if (r < 0)
		return r;
	if (fresh) {
		*slot = arena_strndup(&w->m->paths, len ? w->path : "/", len ? len : 1);
		if (!*slot)
			return -ENOMEM;
		w->count++;
	}
	return 0;
}

/*
 * Records every directory below the one open on fd (consumed), whose path
 * is w->path[0..len). Directories that vanish or cannot be read are
 * skipped: the tree changes while we walk it.
 */
static int walk_dir(struct walk *w, int fd, size_t len, unsigned depth)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	int err = 0;
	struct dirent *e;
	while (!err && (e = readdir(d))) {
		if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
			continue;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(st.st_mode) || st.st_dev != w->dev)
			continue;
		size_t nl = strlen(e->d_name);
		if (len + 1 + nl >= sizeof(w->path))
			continue;
		w->path[len] = '/';
		memcpy(w->path + len + 1, e->d_name, nl + 1);
		err = record(w, st.st_ino, len + 1 + nl);
		if (err || depth + 1 >= WALK_DEPTH || w->count >= w->m->limit)
			continue;
		int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (sub >= 0)
			err = walk_dir(w, sub, len + 1 + nl, depth + 1);
	}
	w->path[len] = '\0';
	closedir(d);
	return err;
}

static int walk_tree(struct cgroup_map *m)
{
	struct walk *w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	int fd = open(m->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = fd < 0 ? -errno : 0;
	struct stat st;
	if (r == 0 && fstat(fd, &st) != 0)
		r = -errno;
	if (r == 0) {
		w->m = m;
		w->dev = st.st_dev;
		w->path[0] = '\0';
		w->count = 0;
		r = record(w, st.st_ino, 0);
		if (r == 0) {
			r = walk_dir(w, fd, 0, 0);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	free(w);
	return r;
}

int cgroup_map_lookup(struct cgroup_map *m, uint64_t id, const char **path)
{
	*path = NULL;
	if (!m->walked) {
		m->walked = true;
		int r = walk_tree(m);
		if (r < 0)
			return r;
	}
	void **slot = u64map_get(&m->ids, id);
	if (!slot && !m->rewalked) {
		/* Once per reset: a cgroup made since the first walk. */
		m->rewalked = true;
		int r = walk_tree(m);
		if (r < 0)
			return r;
		slot = u64map_get(&m->ids, id);
	}
	if (!slot)
		return -ENOENT;
	*path = *slot;
	return 0;
}

int cgroup_path_id(const char *mount, const char *path, uint64_t *id)
{
	char full[PATH_MAX];
	int n = snprintf(full, sizeof(full), "%s/%s", mount, path[0] == '/' ? path + 1 : path);
	if (n < 0 || (size_t)n >= sizeof(full))
		return -ENAMETOOLONG;
	struct stat top, st;
	if (stat(mount, &top) != 0 || lstat(full, &st) != 0)
		return -errno;
	/* A cgroup is a directory of the cgroup2 file system itself. */
	if (!S_ISDIR(st.st_mode) || st.st_dev != top.st_dev)
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}
