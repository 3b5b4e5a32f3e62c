#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"

uint64_t util_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

void u64map_finish(struct u64map *m)
{
	if (!m)
		return;
	free(m->keys);
	free(m->vals);
	bool set = m->set;
	*m = (struct u64map)U64MAP_INIT;
	m->set = set;
}

void u64map_clear(struct u64map *m)
{
	if (m->len)
		memset(m->keys, 0, m->cap * sizeof(*m->keys));
	m->len = 0;
}

/* The slot holding stored key k (key + 1), or the empty one where it would go. */
static size_t probe(const uint64_t *keys, size_t cap, uint64_t k)
{
	size_t i = util_mix64(k) & (cap - 1);
	while (keys[i] != 0 && keys[i] != k)
		i = (i + 1) & (cap - 1);
	return i;
}

void **u64map_get(const struct u64map *m, uint64_t key)
{
	if (m->cap == 0 || key == UINT64_MAX || m->set)
		return NULL;
	size_t i = probe(m->keys, m->cap, key + 1);
	return m->keys[i] ? &m->vals[i] : NULL;
}

bool u64map_has(const struct u64map *m, uint64_t key)
{
	if (m->cap == 0 || key == UINT64_MAX)
		return false;
	return m->keys[probe(m->keys, m->cap, key + 1)] != 0;
}

static int grow(struct u64map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	uint64_t *keys = calloc(cap, sizeof(*keys));
	void **vals = m->set ? NULL : calloc(cap, sizeof(*vals));
	if (!keys || (!vals && !m->set)) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		size_t j = probe(keys, cap, m->keys[i]);
		keys[j] = m->keys[i];
		if (vals)
			vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = cap;
	return 0;
}

int u64map_insert(struct u64map *m, uint64_t key, void ***slot, bool *fresh)
{
	if (key == UINT64_MAX)
		return -EINVAL;
	if ((m->len + 1) * 2 > m->cap) {
		int r = grow(m);
		if (r < 0)
			return r;
	}
	size_t i = probe(m->keys, m->cap, key + 1);
	*fresh = m->keys[i] == 0;
	if (*fresh) {
		m->keys[i] = key + 1;
		if (m->vals)
			m->vals[i] = NULL;
		m->len++;
	}
	*slot = m->vals ? &m->vals[i] : NULL;
	return 0;
}

bool util_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	if (len == 0)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

bool util_parse_u64z(const char *s, uint64_t max, uint64_t *out)
{
	return util_parse_u64(s, strlen(s), max, out);
}

bool util_parse_x64z(const char *s, uint64_t max, uint64_t *out)
{
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return util_parse_u64z(s, max, out);
	s += 2;
	if (!*s)
		return false;
	uint64_t v = 0;
	for (; *s; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return false;
		if (v > (max - d) / 16)
			return false;
		v = v * 16 + d;
	}
	*out = v;
	return true;
}

size_t util_fmt_u64(char *buf, uint64_t v)
{
	char tmp[UTIL_U64_DIGITS];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	size_t n = sizeof(tmp) - i;
	memcpy(buf, tmp + i, n);
	buf[n] = '\0';
	return n;
}

int util_read_file(int dirfd, const char *path, size_t max, struct buf *b)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	struct stat st;
	int ret = 0;
	if (fstat(fd, &st) < 0)
		ret = -errno;
	else if (!S_ISREG(st.st_mode))
		ret = -EINVAL;
	size_t start = b->len;
	while (ret == 0) {
		/* /proc files report size 0: read in chunks until the end. */
		if (!buf_reserve(b, 64 * 1024)) {
			ret = -ENOMEM;
			break;
		}
		size_t room = b->cap - b->len - 1;
		if (room > max - (b->len - start) + 1)
			room = max - (b->len - start) + 1;
		ssize_t n = read(fd, b->p + b->len, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		b->len += (size_t)n;
		b->p[b->len] = '\0';
		if (b->len - start > max)
			ret = -EFBIG;
	}
	close(fd);
	return ret;
}
