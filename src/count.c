/* For qsort_r, beyond POSIX. */
#define _GNU_SOURCE
#include "count.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "arena.h"
#include "buf.h"
#include "escape.h"
#include "json.h"
#include "names.h"
#include "owners.h"
#include "util.h"

static const char *const key_names[COUNT_KEY_COUNT] = {
	"proto", "family", "state", "local-addr", "local-port", "peer-addr",
	"peer-port", "peer-net", "direction", "port", "process", "user",
	"netns", "cgroup",
};

/* Table headers: the key names capitalised as the socket table's are. */
static const char *const key_headers[COUNT_KEY_COUNT] = {
	"Proto", "Family", "State", "Local-Addr", "Local-Port", "Peer-Addr",
	"Peer-Port", "Peer-Net", "Direction", "Port", "Process", "User",
	"Netns", "Cgroup",
};

const char *count_key_name(enum count_key k)
{
	return (unsigned)k < COUNT_KEY_COUNT ? key_names[k] : NULL;
}

int count_parse_keys(const char *list, enum count_key *keys, size_t *nkeys,
		     const char **bad, size_t *badlen)
{
	size_t n = 0;
	unsigned seen = 0;
	const char *p = list;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		int found = -1;
		for (int k = 0; k < COUNT_KEY_COUNT; k++)
			if (strlen(key_names[k]) == len && memcmp(key_names[k], p, len) == 0)
				found = k;
		if (found < 0 || (seen & (1u << found))) {
			*bad = p;
			*badlen = len;
			return -EINVAL;
		}
		seen |= 1u << found;
		keys[n++] = (enum count_key)found;
		if (!end)
			break;
		p = end + 1;
	}
	*nkeys = n;
	return 0;
}

/*
 * A group's key. Every field a key does not use stays zero and the
 * padding is explicit, so two keys are equal exactly when their bytes
 * are, and hashing and comparing are plain memory operations. Names are
 * ids into the string table; kind[k] says whether key k has a value.
 */
struct gkey {
	uint64_t cgroup;
	uint32_t proto, family, state, direction, process, user, netns;
	uint32_t pend_netns;     /* pending: the namespace of the listener set */
	uint16_t lport, pport, port;
	uint16_t pend_lport, pend_pport;
	uint8_t kind[COUNT_KEY_COUNT];
	uint8_t pending;         /* direction/port wait for count_finish */
	uint8_t pend_proto;
	uint8_t lfam, pfam, nfam; /* 4, 6, or NET_MAPPED for nfam */
	uint8_t laddr[16], paddr[16], pnet[16];
	uint8_t pad[3];
};
_Static_assert(sizeof(struct gkey) == 120, "struct gkey must have no hidden padding");

enum { NET_MAPPED = 46 };

struct group {
	struct group *next; /* next group with the same hash */
	uint64_t hash;
	uint64_t n, recv_q, send_q;
	struct gkey key;
};

/* An interned name; ids start at 1. */
struct istr {
	struct istr *next; /* next name with the same hash */
	uint64_t hash;
	uint32_t id;
	uint32_t len;
	char s[];
};

struct count {
	enum count_key keys[COUNT_MAX_KEYS];
	size_t nkeys;
	unsigned used;        /* bit per enum count_key in keys */
	unsigned flags;
	struct names *names;
	struct arena arena;
	struct u64map strs;   /* hash -> struct istr chain */
	struct istr **byid;
	size_t nstrs, capstrs;
	struct u64map map;    /* hash -> struct group chain */
	struct group **groups;
	size_t ngroups, capgroups;
	struct group *other;  /* the --top remainder, or NULL */
	size_t shown;         /* groups[0..shown) are printed */
	struct u64map listeners; /* netns id, proto, port */
	bool listeners_done;
	uint32_t netns;       /* current namespace name id, 0 for none */
	bool oom;             /* an interning failed: the engine is unusable */
	/*
	 * Ids of static names (proto, family, state, direction: string
	 * literals that live as long as the program) by address, so that
	 * the common keys cost no string hashing per socket.
	 */
	struct {
		const char *p;
		uint32_t id;
	} statics[32];
	struct buf scratch;
};

static uint64_t hash_bytes(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t h = 0x9e3779b97f4a7c15u ^ len;
	/* One multiply per word, one full mix at the end: the key is hashed
	 * once per socket, so this is the engine's hot loop. */
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, b, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15u;
		h ^= h >> 29;
		b += 8;
		len -= 8;
	}
	uint64_t w = 0;
	memcpy(&w, b, len);
	return util_mix64(h ^ w ^ 0xff);
}

int count_create(struct count **out, const enum count_key *keys, size_t nkeys,
		 struct names *names, unsigned flags)
{
	if (nkeys == 0 || nkeys > COUNT_MAX_KEYS)
		return -EINVAL;
	struct count *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < nkeys; i++) {
		if ((unsigned)keys[i] >= COUNT_KEY_COUNT || (c->used & (1u << keys[i]))) {
			free(c);
			return -EINVAL;
		}
		c->used |= 1u << keys[i];
		c->keys[i] = keys[i];
	}
	c->nkeys = nkeys;
	c->flags = flags;
	c->names = names;
	arena_init(&c->arena);
	buf_init(&c->scratch);
	*out = c;
	return 0;
}

void count_destroy(struct count *c)
{
	if (!c)
		return;
	u64map_finish(&c->strs);
	u64map_finish(&c->map);
	u64map_finish(&c->listeners);
	free(c->byid);
	free(c->groups);
	buf_finish(&c->scratch);
	arena_finish(&c->arena);
	free(c);
}

/* The length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	if (len == 0 || len > n || s[0] > 0xf4)
		return 0;
	uint32_t v = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
	if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

void count_utf8_clean(struct buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		uint32_t cp;
		size_t len = utf8_len(p + i, n - i, &cp);
		bool control = len && cp != '\n' && (cp < 0x20 || (cp >= 0x7f && cp < 0xa0));
		if (len == 0 || control) {
			buf_add(out, "\xef\xbf\xbd", 3);
			i += len ? len : 1;
		} else {
			buf_add(out, p + i, len);
			i += len;
		}
	}
}

static uint32_t intern_raw(struct count *c, const char *s, size_t len);

/*
 * The id of name s (len bytes), interned on first sight; 0 when memory
 * ran out, which also sets c->oom so that the caller checks once.
 */
static uint32_t intern(struct count *c, const char *s, size_t len)
{
	uint32_t id = intern_raw(c, s, len);
	if (!id)
		c->oom = true;
	return id;
}

static uint32_t intern_raw(struct count *c, const char *s, size_t len)
{
	if (c->flags & COUNT_UTF8_NAMES) {
		buf_reset(&c->scratch);
		count_utf8_clean(&c->scratch, s, len);
		if (!buf_ok(&c->scratch))
			return 0;
		s = c->scratch.p ? c->scratch.p : "";
		len = c->scratch.len;
	}
	uint64_t h = hash_bytes(s, len);
	void **slot;
	bool fresh;
	if (u64map_insert(&c->strs, h, &slot, &fresh) != 0)
		return 0;
	for (struct istr *e = *slot; e; e = e->next)
		if (e->len == len && memcmp(e->s, s, len) == 0)
			return e->id;
	if (c->nstrs + 1 >= c->capstrs) {
		size_t cap = c->capstrs ? c->capstrs * 2 : 64;
		struct istr **v = realloc(c->byid, cap * sizeof(*v));
		if (!v)
			return 0;
		c->byid = v;
		c->capstrs = cap;
	}
	struct istr *e = arena_alloc(&c->arena, sizeof(*e) + len + 1);
	if (!e)
		return 0;
	memcpy(e->s, s, len);
	e->s[len] = '\0';
	e->len = (uint32_t)len;
	e->hash = h;
	e->id = (uint32_t)++c->nstrs;
	c->byid[e->id] = e;
	e->next = *slot;
	*slot = e;
	return e->id;
}

static uint32_t internz(struct count *c, const char *s)
{
	return intern(c, s, strlen(s));
}

/* internz for a string literal or static table entry, cached by address. */
static uint32_t intern_static(struct count *c, const char *s)
{
	size_t i = ((uintptr_t)s >> 3) % (sizeof(c->statics) / sizeof(c->statics[0]));
	if (c->statics[i].p == s)
		return c->statics[i].id;
	uint32_t id = internz(c, s);
	if (id) {
		c->statics[i].p = s;
		c->statics[i].id = id;
	}
	return id;
}

int count_set_netns(struct count *c, const char *name)
{
	if (!name || !*name) {
		c->netns = 0;
		return 0;
	}
	c->netns = internz(c, name);
	return c->netns ? 0 : -ENOMEM;
}

/*
 * The namespace name id of s: the record's own (--all-netns lists many
 * namespaces in one run), else the one count_set_netns gave; 0 for none.
 */
static uint32_t sock_netns(struct count *c, const struct sock *s)
{
	if (s->netns_name && *s->netns_name)
		return internz(c, s->netns_name);
	return c->netns;
}

bool count_needs_listeners(const struct count *c)
{
	return (c->used & ((1u << COUNT_DIRECTION) | (1u << COUNT_PORT))) != 0;
}

static bool is_inet(const struct sock *s)
{
	return s->family == AF_INET || s->family == AF_INET6;
}

/* Listening, or an unconnected datagram socket: the "listen" direction. */
static bool is_listener(const struct sock *s)
{
	if (s->state == SS_LISTEN)
		return true;
	return s->state == SS_CLOSE && s->proto < PROTO_COUNT && proto_table[s->proto].datagram;
}

static uint64_t listener_key(uint32_t netns, unsigned proto, uint16_t port)
{
	return (uint64_t)netns << 24 | (uint64_t)proto << 16 | port;
}

/*
 * The sockets whose port makes a connection "in": TCP listeners and
 * bound, unconnected UDP and UDP-Lite sockets (a RAW socket's "port" is a
 * protocol number, so it listens on no port).
 */
static bool takes_port(const struct sock *s)
{
	if (!is_inet(s) || s->local.port == 0 || !is_listener(s))
		return false;
	return proto_services_id((enum proto)s->proto) >= 0;
}

int count_add_listener(struct count *c, const struct sock *s)
{
	if (!takes_port(s))
		return 0;
	void **slot;
	bool fresh;
	if (u64map_insert(&c->listeners, listener_key(sock_netns(c, s), s->proto, s->local.port),
			  &slot, &fresh) != 0)
		return -ENOMEM;
	*slot = c;
	return 0;
}

void count_listeners_done(struct count *c)
{
	c->listeners_done = true;
}

static bool listened(const struct count *c, uint32_t netns, unsigned proto, uint16_t port)
{
	return u64map_get(&c->listeners, listener_key(netns, proto, port)) != NULL;
}

static bool has(const struct count *c, enum count_key k)
{
	return (c->used & (1u << k)) != 0;
}

static bool all_zero(const uint8_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i])
			return false;
	return true;
}

static bool v4mapped(const uint8_t *a)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(a, prefix, 12) == 0;
}

/* The peer's network: /24 for IPv4 (and IPv4-mapped IPv6, as /120), /64 for IPv6. */
static void peer_net(struct gkey *k, const struct sock *s)
{
	const uint8_t *a = s->peer.addr;
	if (s->family == AF_INET) {
		k->nfam = 4;
		memcpy(k->pnet, a, 3);
	} else if (v4mapped(a)) {
		k->nfam = NET_MAPPED;
		memcpy(k->pnet, a, 15);
	} else {
		k->nfam = 6;
		memcpy(k->pnet, a, 8);
	}
}

static void endpoint(uint8_t *fam, uint8_t *addr, const struct sock *s, const struct sock_endpoint *e)
{
	*fam = s->family == AF_INET ? 4 : 6;
	memcpy(addr, e->addr, s->family == AF_INET ? 4 : 16);
}

/*
 * Direction and service port. A connection whose local port is not yet
 * known to be listened on stays pending until count_finish, unless the
 * listener set is complete.
 */
static void direction(struct count *c, struct gkey *k, const struct sock *s)
{
	bool want_port = has(c, COUNT_PORT);
	if (is_listener(s)) {
		k->direction = intern_static(c, "listen");
		if (want_port && is_inet(s))
			k->port = s->local.port;
		else if (want_port)
			k->kind[COUNT_PORT] = COUNT_CELL_NONE;
		return;
	}
	if (!is_inet(s)) {
		k->kind[COUNT_DIRECTION] = COUNT_CELL_NONE;
		k->kind[COUNT_PORT] = COUNT_CELL_NONE;
		return;
	}
	uint32_t netns = sock_netns(c, s);
	if (listened(c, netns, s->proto, s->local.port)) {
		k->direction = intern_static(c, "in");
		k->port = want_port ? s->local.port : 0;
	} else if (c->listeners_done) {
		k->direction = intern_static(c, "out");
		k->port = want_port ? s->peer.port : 0;
	} else {
		k->pending = 1;
		k->pend_netns = netns;
		k->pend_proto = s->proto;
		k->pend_lport = s->local.port;
		k->pend_pport = want_port ? s->peer.port : 0;
	}
}

static void user(struct count *c, struct gkey *k, const struct sock *s)
{
	uint32_t uid;
	if (s->owners)
		uid = s->owners->uid;
	else if (s->inode && s->has_uid)
		uid = s->uid;
	else {
		k->kind[COUNT_USER] = COUNT_CELL_NONE;
		return;
	}
	char t[UTIL_U64_DIGITS];
	const char *u = t;
	if (c->names)
		u = names_user(c->names, uid);
	else
		util_fmt_u64(t, uid);
	k->user = internz(c, u);
}

/* Fills k for s; 0 or -ENOMEM (an interning failed). */
static int key_of(struct count *c, const struct sock *s, struct gkey *k)
{
	memset(k, 0, sizeof(*k));
	bool inet = is_inet(s);
	for (size_t i = 0; i < c->nkeys; i++)
		k->kind[c->keys[i]] = COUNT_CELL_VALUE;
	for (size_t i = 0; i < c->nkeys; i++) {
		switch (c->keys[i]) {
		case COUNT_PROTO:
			/* As JSON's "proto": the family is a key of its own. */
			k->proto = intern_static(c, proto_name((enum proto)s->proto));
			break;
		case COUNT_FAMILY: k->family = intern_static(c, sock_family_name(s)); break;
		case COUNT_STATE: k->state = intern_static(c, sock_state_name(s)); break;
		case COUNT_LOCAL_ADDR:
			if (inet)
				endpoint(&k->lfam, k->laddr, s, &s->local);
			else
				k->kind[COUNT_LOCAL_ADDR] = COUNT_CELL_NONE;
			break;
		case COUNT_LOCAL_PORT:
			if (inet)
				k->lport = s->local.port;
			else
				k->kind[COUNT_LOCAL_PORT] = COUNT_CELL_NONE;
			break;
		case COUNT_PEER_ADDR:
			if (inet)
				endpoint(&k->pfam, k->paddr, s, &s->peer);
			else
				k->kind[COUNT_PEER_ADDR] = COUNT_CELL_NONE;
			break;
		case COUNT_PEER_PORT:
			if (inet)
				k->pport = s->peer.port;
			else
				k->kind[COUNT_PEER_PORT] = COUNT_CELL_NONE;
			break;
		case COUNT_PEER_NET:
			if (inet && !all_zero(s->peer.addr, 16))
				peer_net(k, s);
			else
				k->kind[COUNT_PEER_NET] = COUNT_CELL_NONE;
			break;
		case COUNT_DIRECTION:
			direction(c, k, s);
			break;
		case COUNT_PORT:
			if (!has(c, COUNT_DIRECTION))
				direction(c, k, s);
			break;
		case COUNT_PROCESS:
			if (s->owners) {
				const char *comm = s->owners->comm;
				k->process = internz(c, comm && *comm ? comm : "?");
			} else {
				k->kind[COUNT_PROCESS] = COUNT_CELL_NONE;
			}
			break;
		case COUNT_USER: user(c, k, s); break;
		case COUNT_NETNS:
			k->netns = sock_netns(c, s);
			if (!k->netns)
				k->kind[COUNT_NETNS] = COUNT_CELL_NONE;
			break;
		case COUNT_CGROUP:
			/* The id as the kernel gives it; 0 (not an inet socket) is "-". */
			k->cgroup = s->cgroup_id;
			if (!k->cgroup)
				k->kind[COUNT_CGROUP] = COUNT_CELL_NONE;
			break;
		case COUNT_KEY_COUNT:
			break;
		}
	}
	if (!has(c, COUNT_DIRECTION))
		k->direction = 0;
	if (!has(c, COUNT_PORT))
		k->port = 0;
	return c->oom ? -ENOMEM : 0;
}

static int push_group(struct count *c, struct group *g)
{
	if (c->ngroups == c->capgroups) {
		size_t cap = c->capgroups ? c->capgroups * 2 : 64;
		struct group **v = realloc(c->groups, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		c->groups = v;
		c->capgroups = cap;
	}
	c->groups[c->ngroups++] = g;
	return 0;
}

/*
 * Finds the group of key k or links g (when given) or a new group for it.
 * *out gets the group that holds k. Returns 0 or -ENOMEM.
 */
static int find_group(struct count *c, const struct gkey *k, struct group *g, struct group **out)
{
	uint64_t h = hash_bytes(k, sizeof(*k));
	void **slot;
	bool fresh;
	if (u64map_insert(&c->map, h, &slot, &fresh) != 0)
		return -ENOMEM;
	for (struct group *e = *slot; e; e = e->next) {
		if (e->hash == h && memcmp(&e->key, k, sizeof(*k)) == 0) {
			*out = e;
			return 0;
		}
	}
	if (!g) {
		g = arena_alloc(&c->arena, sizeof(*g));
		if (!g)
			return -ENOMEM;
		memset(g, 0, sizeof(*g));
		g->key = *k;
	}
	g->hash = h;
	g->next = *slot;
	*slot = g;
	if (push_group(c, g) != 0)
		return -ENOMEM;
	*out = g;
	return 0;
}

int count_add(struct count *c, const struct sock *s)
{
	if (c->oom)
		return -ENOMEM;
	int err = count_add_listener(c, s);
	if (err)
		return err;
	struct gkey k;
	if ((err = key_of(c, s, &k)) != 0)
		return err;
	struct group *g;
	if ((err = find_group(c, &k, NULL, &g)) != 0)
		return err;
	g->n++;
	g->recv_q += s->recv_q;
	g->send_q += s->send_q;
	return 0;
}

/* Classifies a pending key now that every listener is known. */
static int resolve(struct count *c, struct gkey *k)
{
	if (!k->pending)
		return 0;
	bool in = listened(c, k->pend_netns, k->pend_proto, k->pend_lport);
	if (has(c, COUNT_DIRECTION)) {
		k->direction = intern_static(c, in ? "in" : "out");
		if (!k->direction)
			return -ENOMEM;
	}
	if (has(c, COUNT_PORT))
		k->port = in ? k->pend_lport : k->pend_pport;
	k->pending = 0;
	k->pend_netns = 0;
	k->pend_proto = 0;
	k->pend_lport = 0;
	k->pend_pport = 0;
	return 0;
}

/* Re-links every group after keys changed, merging those now equal. */
static int regroup(struct count *c)
{
	struct group **old = c->groups;
	size_t n = c->ngroups;
	c->groups = NULL;
	c->ngroups = c->capgroups = 0;
	u64map_clear(&c->map);
	int err = 0;
	for (size_t i = 0; i < n && !err; i++) {
		struct group *g = old[i], *into;
		if ((err = resolve(c, &g->key)) != 0)
			break;
		if ((err = find_group(c, &g->key, g, &into)) != 0)
			break;
		if (into != g) {
			into->n += g->n;
			into->recv_q += g->recv_q;
			into->send_q += g->send_q;
		}
	}
	free(old);
	return err;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_str(const struct count *c, uint32_t a, uint32_t b)
{
	if (a == b)
		return 0;
	const struct istr *x = c->byid[a], *y = c->byid[b];
	size_t n = x->len < y->len ? x->len : y->len;
	int r = memcmp(x->s, y->s, n);
	return r ? r : cmp_u64(x->len, y->len);
}

static int cmp_addr(uint8_t fa, const uint8_t *a, uint8_t fb, const uint8_t *b)
{
	if (fa != fb)
		return fa < fb ? -1 : 1;
	return memcmp(a, b, 16);
}

/* Compares key k of two groups in the key's own order. */
static int cmp_key(const struct count *c, enum count_key k, const struct gkey *a, const struct gkey *b)
{
	if (a->kind[k] != b->kind[k])
		return a->kind[k] < b->kind[k] ? -1 : 1;
	switch (k) {
	case COUNT_PROTO: return cmp_str(c, a->proto, b->proto);
	case COUNT_FAMILY: return cmp_str(c, a->family, b->family);
	case COUNT_STATE: return cmp_str(c, a->state, b->state);
	case COUNT_LOCAL_ADDR: return cmp_addr(a->lfam, a->laddr, b->lfam, b->laddr);
	case COUNT_LOCAL_PORT: return cmp_u64(a->lport, b->lport);
	case COUNT_PEER_ADDR: return cmp_addr(a->pfam, a->paddr, b->pfam, b->paddr);
	case COUNT_PEER_PORT: return cmp_u64(a->pport, b->pport);
	case COUNT_PEER_NET: return cmp_addr(a->nfam, a->pnet, b->nfam, b->pnet);
	case COUNT_DIRECTION: return cmp_str(c, a->direction, b->direction);
	case COUNT_PORT: return cmp_u64(a->port, b->port);
	case COUNT_PROCESS: return cmp_str(c, a->process, b->process);
	case COUNT_USER: return cmp_str(c, a->user, b->user);
	case COUNT_NETNS: return cmp_str(c, a->netns, b->netns);
	case COUNT_CGROUP: return cmp_u64(a->cgroup, b->cgroup);
	case COUNT_KEY_COUNT: break;
	}
	return 0;
}

static int cmp_group(const void *pa, const void *pb, void *arg)
{
	const struct count *c = arg;
	const struct group *a = *(struct group *const *)pa, *b = *(struct group *const *)pb;
	if (a->n != b->n)
		return a->n > b->n ? -1 : 1;
	for (size_t i = 0; i < c->nkeys; i++) {
		int r = cmp_key(c, c->keys[i], &a->key, &b->key);
		if (r)
			return r;
	}
	return 0;
}

static int sort_top(struct count *c, size_t top)
{
	/* qsort_r may not be handed the NULL of an engine that counted nothing. */
	if (c->ngroups)
		qsort_r(c->groups, c->ngroups, sizeof(*c->groups), cmp_group, c);
	c->shown = c->ngroups;
	c->other = NULL;
	if (top == 0 || c->ngroups <= top)
		return 0;
	struct group *o = arena_alloc(&c->arena, sizeof(*o));
	if (!o)
		return -ENOMEM;
	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < c->nkeys; i++)
		o->key.kind[c->keys[i]] = COUNT_CELL_OTHER;
	for (size_t i = top; i < c->ngroups; i++) {
		o->n += c->groups[i]->n;
		o->recv_q += c->groups[i]->recv_q;
		o->send_q += c->groups[i]->send_q;
	}
	c->shown = top;
	c->other = o;
	return 0;
}

int count_finish(struct count *c, size_t top)
{
	int err = regroup(c);
	return err ? err : sort_top(c, top);
}

/* Zeroes key k's fields in g, so that only the kind tells it apart. */
static void clear_field(struct gkey *g, enum count_key k)
{
	switch (k) {
	case COUNT_PROTO: g->proto = 0; break;
	case COUNT_FAMILY: g->family = 0; break;
	case COUNT_STATE: g->state = 0; break;
	case COUNT_LOCAL_ADDR: g->lfam = 0; memset(g->laddr, 0, 16); break;
	case COUNT_LOCAL_PORT: g->lport = 0; break;
	case COUNT_PEER_ADDR: g->pfam = 0; memset(g->paddr, 0, 16); break;
	case COUNT_PEER_PORT: g->pport = 0; break;
	case COUNT_PEER_NET: g->nfam = 0; memset(g->pnet, 0, 16); break;
	case COUNT_DIRECTION: g->direction = 0; break;
	case COUNT_PORT: g->port = 0; break;
	case COUNT_PROCESS: g->process = 0; break;
	case COUNT_USER: g->user = 0; break;
	case COUNT_NETNS: g->netns = 0; break;
	case COUNT_CGROUP: g->cgroup = 0; break;
	case COUNT_KEY_COUNT: break;
	}
}

/* Key k of g alone: every other field cleared, its kind too. */
static void only_field(const struct gkey *g, enum count_key k, struct gkey *out)
{
	*out = *g;
	for (int i = 0; i < COUNT_KEY_COUNT; i++) {
		if (i != (int)k) {
			clear_field(out, (enum count_key)i);
			out->kind[i] = 0;
		}
	}
}

/* The distinct values of one key with their totals, for count_fold. */
struct fold_value {
	struct gkey key;
	uint64_t n;
	bool keep;
};

struct fold_ctx {
	const struct count *c;
	enum count_key k;
};

static int cmp_fold(const void *pa, const void *pb, void *arg)
{
	const struct fold_value *a = *(struct fold_value *const *)pa;
	const struct fold_value *b = *(struct fold_value *const *)pb;
	const struct fold_ctx *ctx = arg;
	if (a->n != b->n)
		return a->n > b->n ? -1 : 1;
	return cmp_key(ctx->c, ctx->k, &a->key, &b->key);
}

int count_fold(struct count *c, enum count_key k, size_t top)
{
	if ((unsigned)k >= COUNT_KEY_COUNT || !has(c, k))
		return -EINVAL;
	struct u64map vals = U64MAP_INIT;
	struct fold_value **list = calloc(c->ngroups + 1, sizeof(*list));
	struct fold_value **of = calloc(c->ngroups + 1, sizeof(*of));
	size_t n = 0;
	int err = list && of ? 0 : -ENOMEM;
	for (size_t i = 0; i < c->ngroups && !err; i++) {
		struct gkey only;
		only_field(&c->groups[i]->key, k, &only);
		void **slot;
		bool fresh;
		if (u64map_insert(&vals, hash_bytes(&only, sizeof(only)), &slot, &fresh) != 0) {
			err = -ENOMEM;
			break;
		}
		/* Values are few and a 64-bit hash collision between two is
		 * astronomically unlikely; still, compare to be exact. */
		struct fold_value *v = *slot;
		if (v && memcmp(&v->key, &only, sizeof(only)) != 0)
			v = NULL;
		if (!v) {
			v = arena_alloc(&c->arena, sizeof(*v));
			if (!v) {
				err = -ENOMEM;
				break;
			}
			v->key = only;
			v->n = 0;
			v->keep = false;
			if (!*slot)
				*slot = v;
			list[n++] = v;
		}
		v->n += c->groups[i]->n;
		of[i] = v;
	}
	if (!err) {
		struct fold_ctx ctx = {c, k};
		qsort_r(list, n, sizeof(*list), cmp_fold, &ctx);
		for (size_t i = 0; i < n; i++)
			list[i]->keep = i < top && list[i]->key.kind[k] != COUNT_CELL_OTHER;
		for (size_t i = 0; i < c->ngroups; i++) {
			if (!of[i]->keep) {
				clear_field(&c->groups[i]->key, k);
				c->groups[i]->key.kind[k] = COUNT_CELL_OTHER;
			}
		}
		err = regroup(c);
	}
	free(list);
	free(of);
	u64map_finish(&vals);
	return err ? err : sort_top(c, 0);
}

size_t count_rows(const struct count *c)
{
	return c->shown + (c->other ? 1 : 0);
}

const enum count_key *count_keys(const struct count *c, size_t *nkeys)
{
	*nkeys = c->nkeys;
	return c->keys;
}

static const struct group *row(const struct count *c, size_t i)
{
	return i < c->shown ? c->groups[i] : c->other;
}

uint64_t count_row_n(const struct count *c, size_t i)
{
	return row(c, i)->n;
}

void count_row_queues(const struct count *c, size_t i, uint64_t *recv_q, uint64_t *send_q)
{
	*recv_q = row(c, i)->recv_q;
	*send_q = row(c, i)->send_q;
}

/* Writes an address as the table does (dotted quad, inet_ntop's IPv6). */
static size_t fmt_addr(char *out, size_t size, uint8_t fam, const uint8_t *a)
{
	if (!inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, out, (socklen_t)size))
		snprintf(out, size, "?");
	return strlen(out);
}

static void cell_port(struct count_cell *cell, uint16_t port)
{
	cell->numeric = true;
	cell->num = port;
	if (port == 0) {
		cell->text = "*";
		cell->len = 1;
		return;
	}
	cell->len = util_fmt_u64(cell->scratch, port);
	cell->text = cell->scratch;
}

static void cell_str(const struct count *c, struct count_cell *cell, uint32_t id)
{
	const struct istr *e = c->byid[id];
	cell->text = e->s;
	cell->len = e->len;
}

/* The address cells: the literal address, a wildcard too (0.0.0.0, ::). */
static void cell_addr(struct count_cell *cell, uint8_t fam, const uint8_t *a)
{
	cell->len = fmt_addr(cell->scratch, sizeof(cell->scratch), fam, a);
	cell->text = cell->scratch;
}

static void cell_net(struct count_cell *cell, uint8_t fam, const uint8_t *a)
{
	size_t n = fmt_addr(cell->scratch, sizeof(cell->scratch), fam == 4 ? 4 : 6, a);
	const char *len = fam == 4 ? "/24" : fam == NET_MAPPED ? "/120" : "/64";
	snprintf(cell->scratch + n, sizeof(cell->scratch) - n, "%s", len);
	cell->text = cell->scratch;
	cell->len = strlen(cell->scratch);
}

void count_cell(const struct count *c, size_t i, size_t k, struct count_cell *cell)
{
	const struct gkey *g = &row(c, i)->key;
	enum count_key key = c->keys[k];
	cell->kind = (enum count_cell_kind)g->kind[key];
	cell->numeric = false;
	cell->num = 0;
	if (cell->kind != COUNT_CELL_VALUE) {
		cell->text = cell->kind == COUNT_CELL_NONE ? "-" : "(other)";
		cell->len = strlen(cell->text);
		return;
	}
	switch (key) {
	case COUNT_PROTO: cell_str(c, cell, g->proto); break;
	case COUNT_FAMILY: cell_str(c, cell, g->family); break;
	case COUNT_STATE: cell_str(c, cell, g->state); break;
	case COUNT_LOCAL_ADDR: cell_addr(cell, g->lfam, g->laddr); break;
	case COUNT_LOCAL_PORT: cell_port(cell, g->lport); break;
	case COUNT_PEER_ADDR: cell_addr(cell, g->pfam, g->paddr); break;
	case COUNT_PEER_PORT: cell_port(cell, g->pport); break;
	case COUNT_PEER_NET: cell_net(cell, g->nfam, g->pnet); break;
	case COUNT_DIRECTION: cell_str(c, cell, g->direction); break;
	case COUNT_PORT: cell_port(cell, g->port); break;
	case COUNT_PROCESS: cell_str(c, cell, g->process); break;
	case COUNT_USER: cell_str(c, cell, g->user); break;
	case COUNT_NETNS: cell_str(c, cell, g->netns); break;
	case COUNT_CGROUP:
		cell->numeric = true;
		cell->num = g->cgroup;
		cell->len = util_fmt_u64(cell->scratch, g->cgroup);
		cell->text = cell->scratch;
		break;
	case COUNT_KEY_COUNT:
		cell->text = "-";
		cell->len = 1;
		break;
	}
}

/* Display width: one column per UTF-8 character (escape_text's output). */
static size_t dwidth(const char *s, size_t len)
{
	size_t w = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

/* Appends column k of row i (k == nkeys: the count) as the table shows it. */
static void table_cell(const struct count *c, size_t i, size_t k, struct buf *b)
{
	if (k == c->nkeys) {
		buf_addu(b, count_row_n(c, i));
		return;
	}
	struct count_cell cell;
	count_cell(c, i, k, &cell);
	escape_text(b, cell.text, cell.len);
}

static const char *header(const struct count *c, size_t k)
{
	return k == c->nkeys ? "Count" : key_headers[c->keys[k]];
}

/* One table line; row SIZE_MAX is the header. Trailing spaces never. */
static void table_line(const struct count *c, size_t i, const size_t *width, struct buf *b)
{
	for (size_t k = 0; k <= c->nkeys; k++) {
		size_t start = b->len;
		if (i == SIZE_MAX)
			buf_adds(b, header(c, k));
		else
			table_cell(c, i, k, b);
		if (k == c->nkeys)
			break;
		size_t w = b->p ? dwidth(b->p + start, b->len - start) : 0;
		for (; w <= width[k]; w++)
			buf_addc(b, ' ');
	}
	buf_addc(b, '\n');
}

static int flush_some(struct buf *b, FILE *f, bool force)
{
	if (!force && b->len < 65536)
		return 0;
	return buf_flush(b, f);
}

static int render_table(const struct count *c, FILE *f, bool want_header, struct buf *b)
{
	size_t width[COUNT_MAX_KEYS + 1] = {0};
	size_t rows = count_rows(c);
	for (size_t k = 0; k <= c->nkeys; k++) {
		if (want_header)
			width[k] = strlen(header(c, k));
		for (size_t i = 0; i < rows; i++) {
			buf_reset(b);
			table_cell(c, i, k, b);
			size_t w = b->p ? dwidth(b->p, b->len) : 0;
			if (w > width[k])
				width[k] = w;
		}
	}
	buf_reset(b);
	if (!buf_ok(b))
		return -ENOMEM;
	if (want_header)
		table_line(c, SIZE_MAX, width, b);
	for (size_t i = 0; i < rows; i++) {
		table_line(c, i, width, b);
		int err = flush_some(b, f, false);
		if (err)
			return err;
	}
	return flush_some(b, f, true);
}

static int render_json(const struct count *c, FILE *f, struct buf *b)
{
	struct json j;
	json_init(&j, b);
	json_array_begin(&j);
	for (size_t i = 0; i < count_rows(c); i++) {
		json_object_begin(&j);
		for (size_t k = 0; k < c->nkeys; k++) {
			char name[32];
			snprintf(name, sizeof(name), "%s", key_names[c->keys[k]]);
			for (char *p = name; *p; p++)
				if (*p == '-')
					*p = '_';
			json_key(&j, name);
			struct count_cell cell;
			count_cell(c, i, k, &cell);
			if (cell.kind == COUNT_CELL_VALUE && cell.numeric)
				json_uint(&j, cell.num);
			else
				json_string(&j, cell.text, cell.len);
		}
		json_key(&j, "count");
		json_uint(&j, count_row_n(c, i));
		json_object_end(&j);
		int err = flush_some(b, f, false);
		if (err)
			return err;
	}
	json_array_end(&j);
	buf_addc(b, '\n');
	return flush_some(b, f, true);
}

int count_render(const struct count *c, FILE *f, const struct count_render_opts *o)
{
	struct buf b = BUF_INIT;
	int err = o->json ? render_json(c, f, &b) : render_table(c, f, o->header, &b);
	if (!err && fflush(f) != 0)
		err = errno == EPIPE ? -EPIPE : -EIO;
	buf_finish(&b);
	return err;
}
