/* For NI_MAXHOST, beyond POSIX. */
#define _GNU_SOURCE
#include "names.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "util.h"

/*
 * The port and uid caches map a 64-bit key to a string in the arena; a
 * stored NULL value is a cached "no name". The first value put wins.
 */
static int kv_put(struct u64map *m, uint64_t key, const char *val)
{
	void **slot;
	bool fresh;
	int r = u64map_insert(m, key, &slot, &fresh);
	if (r == 0 && fresh)
		*slot = (void *)val;
	return r;
}

/* A service name or alias, for lookups by name (rare: filter parsing). */
struct svc {
	const char *name;
	uint16_t port;
	uint8_t table; /* proto_services_id of its protocol */
};

/* The reverse DNS cache, keyed by the whole address. */
struct hostc {
	bool used;
	uint8_t family;
	uint8_t addr[16];
	const char *name; /* NULL: the address has no name */
};

struct names {
	char *services_path;
	bool services_loaded;
	int services_err;
	struct u64map ports; /* (table << 16 | port) -> first name */
	struct svc *svcs;
	size_t nsvcs;
	size_t svcs_cap;
	struct u64map users;
	struct hostc *hosts;
	size_t hosts_cap;
	size_t hosts_len;
	struct arena arena;
};

/* Names longer than this are not service names but damage or mischief. */
enum { SVC_NAME_MAX = 64, SERVICES_MAX = 64 * 1024 * 1024 };

int names_create(struct names **out, const char *services)
{
	struct names *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->services_path = strdup(services ? services : "/etc/services");
	if (!n->services_path) {
		free(n);
		return -ENOMEM;
	}
	arena_init(&n->arena);
	*out = n;
	return 0;
}

void names_destroy(struct names *n)
{
	if (!n)
		return;
	free(n->services_path);
	u64map_finish(&n->ports);
	free(n->svcs);
	u64map_finish(&n->users);
	free(n->hosts);
	arena_finish(&n->arena);
	free(n);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Splits the next blank-separated token off [*p, end). */
static bool token(const char **p, const char *end, const char **tok, size_t *len)
{
	const char *s = *p;
	while (s < end && is_blank(*s))
		s++;
	if (s == end)
		return false;
	const char *e = s;
	while (e < end && !is_blank(*e))
		e++;
	*tok = s;
	*len = (size_t)(e - s);
	*p = e;
	return true;
}

/* A name must be short and printable: render shows it as is. */
static bool good_name(const char *s, size_t len)
{
	if (len == 0 || len > SVC_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f)
			return false;
	}
	return true;
}

/*
 * Parses "port/proto"; false for anything but 1-65535 over a services
 * protocol the protocol table knows ("tcp", "udp").
 */
static bool port_proto(const char *s, size_t len, uint16_t *port, uint8_t *table)
{
	const char *slash = memchr(s, '/', len);
	if (!slash || slash == s || slash - s > 5)
		return false;
	uint32_t v = 0;
	for (const char *p = s; p < slash; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint32_t)(*p - '0');
	}
	/* Port 0 is the wildcard, which output prints as '*', never by name. */
	if (v == 0 || v > 65535)
		return false;
	size_t plen = len - (size_t)(slash + 1 - s);
	int t = proto_services_by_name(slash + 1, plen);
	if (t < 0)
		return false;
	*table = (uint8_t)t;
	*port = (uint16_t)v;
	return true;
}

static int add_svc(struct names *n, const char *name, uint16_t port, uint8_t table)
{
	if (n->nsvcs == n->svcs_cap) {
		size_t ncap = n->svcs_cap ? n->svcs_cap * 2 : 256;
		struct svc *nv = realloc(n->svcs, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		n->svcs = nv;
		n->svcs_cap = ncap;
	}
	n->svcs[n->nsvcs++] = (struct svc){name, port, table};
	return 0;
}

/* One line, comment already cut off. Malformed lines are skipped whole. */
static int parse_services_line(struct names *n, const char *p, const char *end)
{
	const char *tok[32];
	size_t len[32];
	size_t count = 0;
	const char *t;
	size_t l;
	while (token(&p, end, &t, &l)) {
		if (count == sizeof(tok) / sizeof(tok[0]))
			return 0;
		tok[count] = t;
		len[count] = l;
		count++;
	}
	uint16_t port;
	uint8_t table;
	if (count < 2 || !port_proto(tok[1], len[1], &port, &table))
		return 0;
	if (!good_name(tok[0], len[0]))
		return 0;
	for (size_t i = 2; i < count; i++)
		if (!good_name(tok[i], len[i]))
			return 0;

	for (size_t i = 0; i < count; i++) {
		if (i == 1)
			continue;
		const char *name = arena_strndup(&n->arena, tok[i], len[i]);
		if (!name || add_svc(n, name, port, table) < 0)
			return -ENOMEM;
		if (i == 0 && kv_put(&n->ports, (uint64_t)table << 16 | port, name) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void load_services(struct names *n)
{
	if (n->services_loaded)
		return;
	n->services_loaded = true;
	struct buf b = BUF_INIT;
	/* A missing or unreadable file just means no names. */
	if (util_read_file(AT_FDCWD, n->services_path, SERVICES_MAX, &b) == 0 && b.len > 0) {
		const char *p = b.p, *end = b.p + b.len;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *eol = nl ? nl : end;
			const char *hash = memchr(p, '#', (size_t)(eol - p));
			if (parse_services_line(n, p, hash ? hash : eol) < 0) {
				n->services_err = -ENOMEM;
				break;
			}
			p = nl ? nl + 1 : end;
		}
	}
	buf_finish(&b);
}

const char *names_service(struct names *n, uint16_t port, enum proto proto)
{
	int t = proto_services_id(proto);
	if (t < 0 || port == 0)
		return NULL;
	load_services(n);
	void **e = u64map_get(&n->ports, (uint64_t)t << 16 | port);
	return e ? *e : NULL;
}

int names_service_port(struct names *n, const char *name, enum proto proto)
{
	/* PROTO_COUNT asks every table. */
	bool any = proto == PROTO_COUNT;
	int t = any ? 0 : proto_services_id(proto);
	if (t < 0 || !name)
		return -ENOENT;
	load_services(n);
	for (size_t i = 0; i < n->nsvcs; i++) {
		const struct svc *s = &n->svcs[i];
		if ((any || s->table == t) && strcmp(s->name, name) == 0)
			return s->port;
	}
	return n->services_err ? n->services_err : -ENOENT;
}

/* The decimal form of v in the arena. */
static const char *decimal(struct arena *a, uint32_t v)
{
	char tmp[UTIL_U64_DIGITS];
	size_t n = util_fmt_u64(tmp, v);
	return arena_strndup(a, tmp, n);
}

static const char *lookup_user(struct names *n, uint32_t uid)
{
	char small[4096];
	char *buf = small;
	size_t size = sizeof(small);
	const char *name = NULL;
	for (;;) {
		struct passwd pw, *res = NULL;
		int err = getpwuid_r((uid_t)uid, &pw, buf, size, &res);
		if (err == ERANGE && size < 1024 * 1024) {
			if (buf != small)
				free(buf);
			size *= 4;
			buf = malloc(size);
			if (!buf)
				return NULL;
			continue;
		}
		if (err == 0 && res && res->pw_name && res->pw_name[0])
			name = arena_strndup(&n->arena, res->pw_name, strlen(res->pw_name));
		break;
	}
	if (buf != small)
		free(buf);
	return name;
}

const char *names_user(struct names *n, uint32_t uid)
{
	/* The fallback when even memory runs out; never NULL, as promised. */
	static const char unknown[] = "?";
	void **e = u64map_get(&n->users, uid);
	if (e)
		return *e;
	const char *name = lookup_user(n, uid);
	if (!name)
		name = decimal(&n->arena, uid);
	if (!name)
		return unknown;
	kv_put(&n->users, uid, name); /* a failure only costs a later lookup */
	return name;
}

static size_t host_hash(int family, const uint8_t *addr, size_t len, size_t cap)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)family;
	for (size_t i = 0; i < len; i++)
		h = (h ^ addr[i]) * 1099511628211ull;
	return (size_t)(h >> 7) & (cap - 1);
}

static struct hostc *host_slot(struct hostc *v, size_t cap, int family, const uint8_t *key)
{
	size_t i = host_hash(family, key, 16, cap);
	while (v[i].used && (v[i].family != family || memcmp(v[i].addr, key, 16) != 0))
		i = (i + 1) & (cap - 1);
	return &v[i];
}

static int host_grow(struct names *n)
{
	size_t ncap = n->hosts_cap ? n->hosts_cap * 2 : 64;
	struct hostc *nv = calloc(ncap, sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	for (size_t i = 0; i < n->hosts_cap; i++)
		if (n->hosts[i].used)
			*host_slot(nv, ncap, n->hosts[i].family, n->hosts[i].addr) = n->hosts[i];
	free(n->hosts);
	n->hosts = nv;
	n->hosts_cap = ncap;
	return 0;
}

const char *names_host(struct names *n, int family, const uint8_t *addr)
{
	uint8_t key[16] = {0};
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
	socklen_t salen;
	memset(&u, 0, sizeof(u));
	if (family == AF_INET) {
		memcpy(key, addr, 4);
		u.in.sin_family = AF_INET;
		memcpy(&u.in.sin_addr, addr, 4);
		salen = sizeof(u.in);
	} else if (family == AF_INET6) {
		memcpy(key, addr, 16);
		u.in6.sin6_family = AF_INET6;
		memcpy(&u.in6.sin6_addr, addr, 16);
		salen = sizeof(u.in6);
	} else {
		return NULL;
	}

	if (n->hosts_cap) {
		const struct hostc *c = host_slot(n->hosts, n->hosts_cap, family, key);
		if (c->used)
			return c->name;
	}

	char host[NI_MAXHOST];
	const char *name = NULL;
	if (getnameinfo(&u.sa, salen, host, sizeof(host), NULL, 0, NI_NAMEREQD) == 0)
		name = arena_strndup(&n->arena, host, strlen(host));

	if ((n->hosts_len + 1) * 2 > n->hosts_cap && host_grow(n) < 0)
		return name; /* uncached, still answered */
	struct hostc *c = host_slot(n->hosts, n->hosts_cap, family, key);
	c->used = true;
	c->family = (uint8_t)family;
	memcpy(c->addr, key, 16);
	c->name = name;
	n->hosts_len++;
	return name;
}

int names_host_addrs(struct names *n, const char *name, int family, struct names_addr *out,
		     size_t max)
{
	(void)n;
	/* One socket type, so each address comes once rather than once per type. */
	struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	if (getaddrinfo(name, NULL, &hints, &res) != 0 || !res)
		return -ENOENT;
	size_t count = 0;
	for (const struct addrinfo *r = res; r && count < max; r = r->ai_next) {
		struct names_addr a = {.family = r->ai_family};
		if (r->ai_family == AF_INET && r->ai_addrlen >= sizeof(struct sockaddr_in))
			memcpy(a.addr, &((const struct sockaddr_in *)r->ai_addr)->sin_addr, 4);
		else if (r->ai_family == AF_INET6 && r->ai_addrlen >= sizeof(struct sockaddr_in6))
			memcpy(a.addr, &((const struct sockaddr_in6 *)r->ai_addr)->sin6_addr, 16);
		else
			continue;
		bool dup = false;
		for (size_t i = 0; i < count && !dup; i++)
			dup = out[i].family == a.family && memcmp(out[i].addr, a.addr, 16) == 0;
		if (!dup)
			out[count++] = a;
	}
	freeaddrinfo(res);
	return count ? (int)count : -ENOENT;
}
