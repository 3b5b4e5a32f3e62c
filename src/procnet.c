#include "procnet.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"

/*
 * A cursor over one line. Every helper advances it only on success and
 * never reads past end, because the line is not NUL-terminated and may be
 * a fragment split by a newline inside a UNIX socket path.
 */
struct cur {
	const char *p;
	const char *end;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void skip_spaces(struct cur *c)
{
	while (c->p < c->end && *c->p == ' ')
		c->p++;
}

/* Requires at least one space, so that two fields never run together. */
static bool spaces(struct cur *c)
{
	if (c->p >= c->end || *c->p != ' ')
		return false;
	skip_spaces(c);
	return true;
}

static bool lit(struct cur *c, char ch)
{
	if (c->p >= c->end || *c->p != ch)
		return false;
	c->p++;
	return true;
}

/*
 * Reads between min and max hex digits. Bounding the digit count is what
 * keeps the value in range: max 16 digits always fit in 64 bits.
 */
static bool hex(struct cur *c, int min, int max, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;
	const char *p = c->p;
	while (p < c->end && hexval(*p) >= 0) {
		if (++n > max)
			return false;
		v = v << 4 | (uint64_t)hexval(*p);
		p++;
	}
	if (n < min)
		return false;
	c->p = p;
	*out = v;
	return true;
}

/* Reads an unsigned decimal number no greater than limit. */
static bool dec(struct cur *c, uint64_t limit, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = c->p;
	while (p < c->end && *p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');
		/* d > limit first: limit - d must not wrap for a small limit. */
		if (d > limit || v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
		p++;
	}
	if (p == c->p)
		return false;
	c->p = p;
	*out = v;
	return true;
}

/* Reads an optionally negative decimal number whose value is ignored. */
static bool sdec(struct cur *c)
{
	uint64_t v;
	struct cur save = *c;
	lit(c, '-');
	if (!dec(c, INT64_MAX, &v)) {
		*c = save;
		return false;
	}
	return true;
}

/* The end of a field: a space or the end of the line. */
static bool field_end(const struct cur *c)
{
	return c->p == c->end || *c->p == ' ';
}

/*
 * An address as the kernel prints it: each 32-bit word of the network
 * order address is printed with %08X as a host integer, so storing the
 * parsed value back in host order restores the original bytes on any
 * endianness.
 */
static bool addr_port(struct cur *c, int family, struct sock_endpoint *e)
{
	int words = family == AF_INET6 ? 4 : 1;
	const char *p = c->p;
	/* The words run together, so each is exactly 8 digits, then a ':'. */
	if (c->end - p < 8 * words + 1 || p[8 * words] != ':')
		return false;
	for (int i = 0; i < words; i++) {
		uint32_t w = 0;
		for (int j = 0; j < 8; j++, p++) {
			int d = hexval(*p);
			if (d < 0)
				return false;
			w = w << 4 | (uint32_t)d;
		}
		memcpy(e->addr + 4 * i, &w, 4);
	}
	c->p = p + 1;
	uint64_t port;
	if (!hex(c, 4, 4, &port) || !field_end(c))
		return false;
	e->port = (uint16_t)port;
	e->scope = 0;
	return true;
}

/* USER_HZ: /proc prints timer expiries in clock ticks of 1/100 s. */
enum { MS_PER_TICK = 10 };

int procnet_parse_inet(const char *line, size_t len, enum proto proto, int family,
		       struct sock *s)
{
	struct cur c = {line, line + len};
	uint64_t v, st, tx, rx, tr, when, retr, uid, inode;

	const struct proto_desc *d = proto_get(proto);
	if (!d || d->proc != PROTO_PROC_INET || !proto_family(proto, family))
		return -EINVAL;
	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	memset(s, 0, sizeof(*s));

	/* "sl:" is the bucket number, only checked for shape. */
	skip_spaces(&c);
	if (!dec(&c, UINT32_MAX, &v) || !lit(&c, ':') || !spaces(&c))
		return -EINVAL;
	if (!addr_port(&c, family, &s->local) || !spaces(&c))
		return -EINVAL;
	if (!addr_port(&c, family, &s->peer) || !spaces(&c))
		return -EINVAL;
	if (!hex(&c, 2, 2, &st) || !field_end(&c) || !spaces(&c))
		return -EINVAL;
	if (st == 0 || st >= SS_MAX)
		return -EINVAL;
	if (!hex(&c, 1, 8, &tx) || !lit(&c, ':') || !hex(&c, 1, 8, &rx) || !spaces(&c))
		return -EINVAL;
	/* tm->when is a long: up to 16 digits on 64-bit kernels. */
	if (!hex(&c, 1, 2, &tr) || !lit(&c, ':') || !hex(&c, 1, 16, &when) || !spaces(&c))
		return -EINVAL;
	if (tr > TIMER_PROBE)
		return -EINVAL;
	if (!hex(&c, 1, 8, &retr) || !spaces(&c) || retr > UINT8_MAX)
		return -EINVAL;
	if (!dec(&c, UINT32_MAX, &uid) || !spaces(&c))
		return -EINVAL;
	/* The "timeout" column (probes out) is not part of the record. */
	if (!sdec(&c) || !spaces(&c))
		return -EINVAL;
	if (!dec(&c, UINT64_MAX, &inode) || !field_end(&c))
		return -EINVAL;

	s->proto = (uint8_t)proto;
	s->family = (uint8_t)family;
	s->type = d->type;
	s->state = (uint8_t)st;
	s->send_q = (uint32_t)tx;
	s->recv_q = (uint32_t)rx;
	s->retrans = (uint8_t)retr;
	s->uid = (uint32_t)uid;
	s->has_uid = true;
	s->inode = inode;
	if (d->timers) {
		s->has_timer = true;
		s->timer = (uint8_t)tr;
		s->expires_ms = when > UINT32_MAX / MS_PER_TICK ? UINT32_MAX
							       : (uint32_t)when * MS_PER_TICK;
	}
	return 0;
}

/* Flags bit the kernel sets for a listening UNIX socket. */
enum { UNIX_ACCEPTCON = 0x10000 };

int procnet_parse_unix(const char *line, size_t len, enum proto proto, struct sock *s)
{
	struct cur c = {line, line + len};
	uint64_t v, flags, type, st, inode;

	memset(s, 0, sizeof(*s));
	/* Num is the socket's (possibly hashed) kernel address. */
	if (!hex(&c, 1, 16, &v) || !lit(&c, ':') || !spaces(&c))
		return -EINVAL;
	if (!hex(&c, 1, 8, &v) || !spaces(&c))           /* RefCount */
		return -EINVAL;
	if (!hex(&c, 1, 8, &v) || !spaces(&c))           /* Protocol */
		return -EINVAL;
	if (!hex(&c, 1, 8, &flags) || !spaces(&c))
		return -EINVAL;
	if (!hex(&c, 1, 4, &type) || !spaces(&c))
		return -EINVAL;
	if (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET)
		return -EINVAL;
	if (!hex(&c, 2, 2, &st) || !spaces(&c))
		return -EINVAL;
	if (!dec(&c, UINT64_MAX, &inode))
		return -EINVAL;

	/*
	 * St is the socket layer's state (SS_UNCONNECTED 1, SS_CONNECTING 2,
	 * SS_CONNECTED 3, SS_DISCONNECTING 4), which the kernel derives from
	 * sk_state: 3 and 2 both mean TCP_ESTABLISHED (2 is an embryo still
	 * in a listener's queue), 1 and 4 mean anything else, and a listener
	 * is flagged by __SO_ACCEPTCON. unix_diag reports sk_state itself, so
	 * map back to it to give the same rows.
	 */
	if (flags & UNIX_ACCEPTCON)
		s->state = SS_LISTEN;
	else if (st == 2 || st == 3)
		s->state = SS_ESTABLISHED;
	else if (st == 1 || st == 4)
		s->state = SS_CLOSE;
	else
		return -EINVAL;

	s->proto = (uint8_t)proto;
	s->family = AF_UNIX;
	s->type = (uint8_t)type;
	s->inode = inode;
	s->path = line + len; /* an empty name: path_len 0 */
	if (c.p < c.end) {
		/* The Inode column is padded on the left; one space then the name. */
		if (*c.p != ' ' || c.p + 1 == c.end)
			return -EINVAL;
		s->path = c.p + 1;
		s->path_len = (uint32_t)(c.end - c.p - 1);
		if (s->path_len > 4096)
			return -EINVAL;
	}
	return 0;
}

int procnet_parse_packet(const char *line, size_t len, enum proto proto, struct sock *s)
{
	struct cur c = {line, line + len};
	uint64_t v, type, ethertype, ifindex, running, rmem, uid, inode;

	memset(s, 0, sizeof(*s));
	if (!hex(&c, 1, 16, &v) || !spaces(&c))             /* sk */
		return -EINVAL;
	if (!dec(&c, INT32_MAX, &v) || !spaces(&c))         /* RefCnt */
		return -EINVAL;
	if (!dec(&c, INT32_MAX, &type) || !spaces(&c))
		return -EINVAL;
	if (type != SOCK_RAW && type != SOCK_DGRAM)
		return -EINVAL;
	if (!hex(&c, 1, 4, &ethertype) || !spaces(&c))
		return -EINVAL;
	if (!dec(&c, INT32_MAX, &ifindex) || !spaces(&c))
		return -EINVAL;
	if (!dec(&c, 1, &running) || !spaces(&c))
		return -EINVAL;
	if (!dec(&c, UINT32_MAX, &rmem) || !spaces(&c))
		return -EINVAL;
	if (!dec(&c, UINT32_MAX, &uid) || !spaces(&c))
		return -EINVAL;
	if (!dec(&c, UINT64_MAX, &inode))
		return -EINVAL;
	skip_spaces(&c); /* the kernel pads the last column too */
	if (c.p != c.end)
		return -EINVAL;

	s->proto = (uint8_t)proto;
	s->family = AF_PACKET;
	s->type = (uint8_t)type;
	s->state = SS_CLOSE;
	s->local.port = (uint16_t)ethertype;
	s->ifindex = (uint32_t)ifindex;
	/* ss takes Recv-Q from SK_MEMINFO_RMEM_ALLOC, which is this column. */
	s->recv_q = (uint32_t)rmem;
	s->uid = (uint32_t)uid;
	s->has_uid = true;
	s->inode = inode;
	return 0;
}

int procnet_parse_netlink(const char *line, size_t len, enum proto proto, struct sock *s)
{
	struct cur c = {line, line + len};
	uint64_t v, protocol, portid, groups, rmem, wmem, inode;

	memset(s, 0, sizeof(*s));
	if (!hex(&c, 1, 16, &v) || !spaces(&c))             /* sk */
		return -EINVAL;
	if (!dec(&c, UINT8_MAX, &protocol) || !spaces(&c))  /* Eth */
		return -EINVAL;
	if (!dec(&c, UINT32_MAX, &portid) || !spaces(&c))   /* Pid */
		return -EINVAL;
	if (!hex(&c, 8, 8, &groups) || !spaces(&c))
		return -EINVAL;
	if (!dec(&c, INT32_MAX, &rmem) || !spaces(&c))
		return -EINVAL;
	if (!dec(&c, INT32_MAX, &wmem) || !spaces(&c))
		return -EINVAL;
	if (!dec(&c, 1, &v) || !spaces(&c))                 /* Dump */
		return -EINVAL;
	if (!dec(&c, INT32_MAX, &v) || !spaces(&c))         /* Locks */
		return -EINVAL;
	if (!dec(&c, UINT32_MAX, &v) || !spaces(&c))        /* Drops */
		return -EINVAL;
	if (!dec(&c, UINT64_MAX, &inode))
		return -EINVAL;
	skip_spaces(&c); /* the kernel pads the last column too */
	if (c.p != c.end)
		return -EINVAL;

	s->proto = (uint8_t)proto;
	s->family = AF_NETLINK;
	s->state = SS_CLOSE;
	s->recv_q = (uint32_t)rmem;
	s->send_q = (uint32_t)wmem;
	s->inode = inode;
	s->nl.protocol = (uint8_t)protocol;
	s->nl.portid = (uint32_t)portid;
	s->nl.groups = (uint32_t)groups;
	return 0;
}

/*
 * The most a /proc/net file may hold: far above a million sockets' lines,
 * low enough that a broken file cannot take all memory.
 */
static const size_t PROC_FILE_MAX = (size_t)1 << 31;

static int slurp(int dirfd, const char *name, struct buf *b)
{
	return util_read_file(dirfd, name, PROC_FILE_MAX, b);
}

/* A file's text: through the tap where there is one, told to it as read. */
static int fetch(int dirfd, const char *name, const struct procnet_tap *tap, struct buf *b)
{
	int ret;
	if (tap && tap->read) {
		ret = tap->read(tap->ctx, name, b);
		/* Lines are cut in place: keep the text NUL-terminated as slurp does. */
		if (ret == 0 && !buf_reserve(b, 1))
			ret = -ENOMEM;
		if (ret == 0)
			b->p[b->len] = '\0';
	} else {
		ret = slurp(dirfd, name, b);
	}
	if (ret == 0 && tap && tap->saw)
		tap->saw(tap->ctx, name, b->len ? b->p : "", b->len);
	return ret;
}

/* The file being read: which protocol and family its lines are. */
struct pfile {
	enum proto proto;
	const struct proto_desc *desc;
	const struct proto_family *fam;
	bool v6only; /* what its inet6 sockets get */
	const struct procnet_tap *tap;
};

/* Dispatches one line to the parser the protocol table names. */
static int parse_line(const struct pfile *f, char *line, size_t len, struct sock *s)
{
	int ret;
	switch (f->desc->proc) {
	case PROTO_PROC_UNIX:
		ret = procnet_parse_unix(line, len, f->proto, s);
		if (ret < 0)
			return ret;
		/*
		 * unix_diag skips sockets without an inode (embryos and
		 * orphans), so this source does too.
		 */
		if (s->inode == 0)
			return -ENOENT;
		/*
		 * The kernel prints an abstract name's leading NUL as '@'.
		 * The buffer is ours, so restore the NUL in place and the
		 * record looks exactly like netlink's.
		 */
		if (s->path_len > 0 && s->path[0] == '@')
			line[s->path - line] = '\0';
		return 0;
	case PROTO_PROC_PACKET:
		return procnet_parse_packet(line, len, f->proto, s);
	case PROTO_PROC_NETLINK:
		return procnet_parse_netlink(line, len, f->proto, s);
	case PROTO_PROC_INET:
		ret = procnet_parse_inet(line, len, f->proto, f->fam->af, s);
		/* The file has no v6only column: the system default stands in. */
		if (ret == 0 && s->family == AF_INET6)
			s->v6only = f->v6only;
		return ret;
	}
	return -EINVAL;
}
static int read_file(int dirfd, const struct pfile *f, uint32_t states, sock_sink_fn sink,
		     void *arg)
{
	struct buf b = BUF_INIT;
	const char *name = f->fam->procfile;
	if (!name)
		return -ENOENT; /* a protocol only sock_diag lists */
	/* The table names the file as users know it; read it under our root. */
	if (strncmp(name, PROTO_PROC_PREFIX, strlen(PROTO_PROC_PREFIX)) == 0)
		name += strlen(PROTO_PROC_PREFIX);
	int ret = fetch(dirfd, name, f->tap, &b);
	if (ret < 0 || b.len == 0)
		goto out;

	char *p = b.p, *end = b.p + b.len;
	bool header = true;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *eol = nl ? nl : end;
		if (header) {
			header = false;
		} else {
			struct sock s;
			if (parse_line(f, p, (size_t)(eol - p), &s) == 0 &&
			    (states & STATE_BIT(s.state))) {
				ret = sink(arg, &s);
				if (ret < 0)
					goto out;
			}
		}
		p = nl ? nl + 1 : end;
	}
out:
	buf_finish(&b);
	return ret;
}

int procnet_read(const struct procnet_request *r, sock_sink_fn sink, void *arg)
{
	const struct proto_desc *d = proto_get(r->proto);
	if (!d)
		return -EAFNOSUPPORT;
	int dirfd = open(r->proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;

	/* AF_UNSPEC means every file; one of several may be missing. */
	bool several = r->family == AF_UNSPEC && d->families[1].af;
	int ret = -EAFNOSUPPORT;
	for (size_t i = 0; i < PROTO_FAMILIES_MAX && d->families[i].af; i++) {
		struct pfile f = {r->proto, d, &d->families[i], r->v6only, r->tap};
		if (r->family != AF_UNSPEC && r->family != f.fam->af)
			continue;
		int rr = read_file(dirfd, &f, r->states, sink, arg);
		if (rr == -ENOENT && several) {
			/* A kernel without IPv6 (or UDP-Lite) lacks one of the pair. */
			if (ret == -EAFNOSUPPORT)
				ret = rr;
			continue;
		}
		if (rr < 0) {
			ret = rr;
			break;
		}
		ret = 0;
	}
	close(dirfd);
	return ret;
}

int procnet_bindv6only(const char *proc_root, bool *on)
{
	return procnet_bindv6only_tap(proc_root, NULL, on);
}

int procnet_bindv6only_tap(const char *proc_root, const struct procnet_tap *tap, bool *on)
{
	int dirfd = open(proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	struct buf b = BUF_INIT;
	int ret = fetch(dirfd, "sys/net/ipv6/bindv6only", tap, &b);
	close(dirfd);
	if (ret == 0) {
		/* The kernel writes "0\n" or "1\n"; anything else is not its file. */
		if (b.len >= 1 && (b.p[0] == '0' || b.p[0] == '1') &&
		    (b.len == 1 || b.p[1] == '\n'))
			*on = b.p[0] == '1';
		else
			ret = -EINVAL;
	}
	buf_finish(&b);
	return ret;
}

int procnet_local_ports(const char *proc_root, uint16_t *lo, uint16_t *hi)
{
	int dirfd = open(proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	struct buf b = BUF_INIT;
	int ret = slurp(dirfd, "sys/net/ipv4/ip_local_port_range", &b);
	close(dirfd);
	if (ret == 0) {
		/* "32768\t60999\n": two numbers, white space between and after. */
		const char *p = b.p, *end = b.p + b.len;
		uint64_t v[2];
		ret = -EINVAL;
		for (int i = 0; i < 2; i++) {
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			const char *d = p;
			while (p < end && *p >= '0' && *p <= '9')
				p++;
			if (!util_parse_u64(d, (size_t)(p - d), 65535, &v[i]))
				break;
			if (i == 1 && v[0] <= v[1] && (p == end || *p == '\n')) {
				*lo = (uint16_t)v[0];
				*hi = (uint16_t)v[1];
				ret = 0;
			}
		}
	}
	buf_finish(&b);
	return ret;
}
