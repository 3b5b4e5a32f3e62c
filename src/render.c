#include "render.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "escape.h"
#include "json.h"
#include "names.h"
#include "owners.h"

/*
 * Output is built in one buffer and handed to stdio in chunks of about
 * this size, so 100k rows cost a few dozen writes and memory stays flat.
 */
enum { FLUSH_AT = 64 * 1024 };

enum col {
	C_PROTO,
	C_STATE,
	C_RECVQ,
	C_SENDQ,
	C_LOCAL,
	C_PEER,
	C_UID,
	C_INODE,
	C_COOKIE,
	C_IFACE,
	C_TIMER,
	C_MEMORY,
	C_INFO,
	C_PROCESS,
	C_COUNT
};

static const char *const col_title[C_COUNT] = {
	[C_PROTO] = "Proto",
	[C_STATE] = "State",
	[C_RECVQ] = "Recv-Q",
	[C_SENDQ] = "Send-Q",
	[C_LOCAL] = "Local Address",
	[C_PEER] = "Peer Address",
	[C_UID] = "UID",
	[C_INODE] = "Inode",
	[C_COOKIE] = "Cookie",
	[C_IFACE] = "Iface",
	[C_TIMER] = "Timer",
	[C_MEMORY] = "Memory",
	[C_INFO] = "Info",
	[C_PROCESS] = "Process",
};

/*
 * Buffered table rows are packed back to back in one buffer (memory is
 * most of what a 100k-row table costs): a fixed head, an owner pointer
 * only when the row came with one, the inode only when processes are
 * shown (it is what they are looked up by), a length per buffered cell (one byte,
 * or 0xff and two more), then the cells' bytes. Proto and State are not
 * stored as text: they follow from three bytes of the head. Nor is the
 * Process cell: table_line formats it from the head at render_finish.
 */
struct row_head {
	uint32_t uid;
	uint8_t flags;
	uint8_t proto;
	uint8_t family;
	uint8_t state;
	uint8_t type; /* UNIX's Proto column depends on it */
};

enum { ROW_HAS_UID = 1, ROW_HAS_OWNERS = 2, LEN_WIDE = 0xff };

/* Where a row's parts are, as row_read finds them. */
struct row {
	struct row_head h;
	uint64_t inode;
	const struct owner *owners;
	uint16_t len[C_COUNT];
	const char *data;
	size_t size; /* bytes the row takes in the buffer */
};

/* Columns whose text follows from the row head. */
static bool derived(enum col c)
{
	return c == C_PROTO || c == C_STATE;
}

/* Interface names are looked up once per index; most hosts have few. */
enum { IFCACHE = 256 };

struct render {
	FILE *f;
	struct render_opts o;
	struct names *names;
	struct buf out;   /* bytes on their way to f */
	struct buf cell;  /* scratch for one row's cells */
	struct buf tmp;   /* scratch for a JSON string built in pieces */
	enum col cols[C_COUNT];
	int ncols;
	size_t width[C_COUNT];
	struct buf packed; /* table rows, packed */
	const struct owners *owners; /* render_set_owners */
	uint64_t rows;
	char ifname[IFCACHE][IF_NAMESIZE];
	uint8_t ifstate[IFCACHE]; /* 0 not asked, 1 named, 2 unknown */
};

int render_create(struct render **out, FILE *f, const struct render_opts *o,
		  struct names *names)
{
	struct render *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->f = f;
	r->o = *o;
	r->names = names;
	buf_init(&r->out);
	buf_init(&r->cell);
	buf_init(&r->tmp);
	buf_init(&r->packed);

	static const enum col base[] = {C_PROTO, C_STATE, C_RECVQ, C_SENDQ, C_LOCAL, C_PEER};
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		r->cols[r->ncols++] = base[i];
	if (o->extended) {
		r->cols[r->ncols++] = C_UID;
		r->cols[r->ncols++] = C_INODE;
		r->cols[r->ncols++] = C_COOKIE;
		r->cols[r->ncols++] = C_IFACE;
	}
	if (o->timers)
		r->cols[r->ncols++] = C_TIMER;
	if (o->memory)
		r->cols[r->ncols++] = C_MEMORY;
	if (o->info)
		r->cols[r->ncols++] = C_INFO;
	r->cols[r->ncols++] = C_PROCESS;
	*out = r;
	return 0;
}

void render_destroy(struct render *r)
{
	if (!r)
		return;
	buf_finish(&r->out);
	buf_finish(&r->cell);
	buf_finish(&r->tmp);
	buf_finish(&r->packed);
	free(r);
}

/* Columns are measured in code points: cells are escaped, valid UTF-8. */
static size_t dwidth(const char *s, size_t len)
{
	size_t w = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

/* The interface name for index, NULL when the system has none. */
static const char *ifname(struct render *r, uint32_t index, char *scratch)
{
	if (index < IFCACHE) {
		if (r->ifstate[index] == 0)
			r->ifstate[index] = if_indextoname(index, r->ifname[index]) ? 1 : 2;
		return r->ifstate[index] == 1 ? r->ifname[index] : NULL;
	}
	return if_indextoname(index, scratch);
}

static void add_ifname_or_num(struct render *r, struct buf *b, uint32_t index)
{
	char scratch[IF_NAMESIZE];
	const char *n = ifname(r, index, scratch);
	if (n)
		escape_text(b, n, strlen(n));
	else
		buf_addu(b, index);
}

static bool is_inet(const struct sock *s)
{
	return s->family == AF_INET || s->family == AF_INET6;
}

static bool all_zero(const uint8_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i])
			return false;
	return true;
}

/* The literal address: dotted quad, or inet_ntop's IPv6 form. */
static void add_addr(struct buf *b, int family, const uint8_t *a)
{
	if (family == AF_INET) {
		char t[16];
		size_t n = 0;
		for (int i = 0; i < 4; i++) {
			unsigned v = a[i];
			if (i)
				t[n++] = '.';
			if (v >= 100)
				t[n++] = (char)('0' + v / 100);
			if (v >= 10)
				t[n++] = (char)('0' + v / 10 % 10);
			t[n++] = (char)('0' + v % 10);
		}
		buf_add(b, t, n);
		return;
	}
	char t[INET6_ADDRSTRLEN];
	if (inet_ntop(AF_INET6, a, t, sizeof(t)))
		buf_adds(b, t);
	else
		buf_addc(b, '?');
}

/* The host name for -r, or NULL for a wildcard or an unnamed address. */
static const char *host_name(struct render *r, const struct sock *s, const struct sock_endpoint *e)
{
	if (!r->o.resolve || !r->names)
		return NULL;
	size_t n = s->family == AF_INET ? 4 : 16;
	if (all_zero(e->addr, n))
		return NULL;
	return names_host(r->names, s->family, e->addr);
}

/* Service names live in the tcp and udp tables; UDP-Lite shares udp's. */
static const char *service(struct render *r, const struct sock *s, uint16_t port)
{
	if (r->o.numeric || !r->names || port == 0 || s->proto == PROTO_RAW)
		return NULL;
	enum proto p = s->proto == PROTO_UDPLITE ? PROTO_UDP : (enum proto)s->proto;
	return names_service(r->names, port, p);
}

static void cell_inet(struct render *r, struct buf *b, const struct sock *s,
		      const struct sock_endpoint *e)
{
	const char *host = host_name(r, s, e);
	if (host) {
		escape_text(b, host, strlen(host));
	} else if (s->family == AF_INET) {
		add_addr(b, AF_INET, e->addr);
	} else {
		buf_addc(b, '[');
		add_addr(b, AF_INET6, e->addr);
		if (e->scope) {
			buf_addc(b, '%');
			add_ifname_or_num(r, b, e->scope);
		}
		buf_addc(b, ']');
	}
	buf_addc(b, ':');
	const char *svc = service(r, s, e->port);
	if (e->port == 0)
		buf_addc(b, '*');
	else if (svc)
		escape_text(b, svc, strlen(svc));
	else
		buf_addu(b, e->port);
}

/*
 * A UNIX name as the table and JSON show it: "@" and the rest for an
 * abstract name, the path up to its first NUL otherwise (the kernel may
 * report the terminating NUL of a filesystem path).
 */
static void unix_name(const struct sock *s, const char **p, size_t *len, bool *abstract)
{
	*p = s->path;
	*len = s->path ? s->path_len : 0;
	*abstract = *len > 0 && (*p)[0] == '\0';
	if (*abstract) {
		(*p)++;
		(*len)--;
	} else if (*len) {
		const char *nul = memchr(*p, '\0', *len);
		if (nul)
			*len = (size_t)(nul - *p);
	}
}

static const char *packet_proto_name(uint16_t p)
{
	switch (p) {
	case 0x0003: return "ALL";
	case 0x0800: return "IP";
	case 0x86dd: return "IPv6";
	case 0x0806: return "ARP";
	default: return NULL;
	}
}

static void cell_local(struct render *r, struct buf *b, const struct sock *s)
{
	if (is_inet(s)) {
		cell_inet(r, b, s, &s->local);
	} else if (s->family == AF_UNIX) {
		const char *p;
		size_t len;
		bool abstract;
		unix_name(s, &p, &len, &abstract);
		if (abstract) {
			buf_addc(b, '@');
			escape_text(b, p, len);
		} else if (len) {
			escape_text(b, p, len);
		} else {
			buf_addc(b, '*');
		}
	} else if (s->family == AF_PACKET) {
		const char *pn = packet_proto_name(s->local.port);
		if (pn)
			buf_adds(b, pn);
		else
			buf_printf(b, "0x%04x", s->local.port);
		buf_addc(b, ':');
		if (s->ifindex)
			add_ifname_or_num(r, b, s->ifindex);
		else
			buf_addc(b, '*');
	} else {
		buf_addc(b, '-');
	}
}

static void cell_peer(struct render *r, struct buf *b, const struct sock *s)
{
	if (is_inet(s)) {
		cell_inet(r, b, s, &s->peer);
	} else if (s->family == AF_UNIX && s->peer_inode) {
		buf_addu(b, s->peer_inode);
	} else {
		buf_addc(b, '*');
	}
}

static const char *user_name(struct render *r, uint32_t uid, char *scratch, size_t size)
{
	if (r->names)
		return names_user(r->names, uid);
	snprintf(scratch, size, "%u", uid);
	return scratch;
}

static void cell_process(struct render *r, struct buf *b, const struct sock *s)
{
	char scratch[16];
	if (r->o.processes && s->owners) {
		for (const struct owner *o = s->owners; o; o = o->next) {
			if (o != s->owners)
				buf_add(b, ", ", 2);
			const char *u = user_name(r, o->uid, scratch, sizeof(scratch));
			escape_text(b, u, strlen(u));
			buf_addc(b, ' ');
			buf_addu(b, (unsigned long long)(uint32_t)o->pid);
			buf_addc(b, ' ');
			if (o->comm && o->comm[0])
				escape_text(b, o->comm, strlen(o->comm));
			else
				buf_addc(b, '?');
		}
		return;
	}
	if (!s->has_uid) {
		buf_addc(b, '-');
		return;
	}
	const char *u = user_name(r, s->uid, scratch, sizeof(scratch));
	escape_text(b, u, strlen(u));
}

static const char *timer_name(unsigned kind)
{
	static const char *const names[] = {"off", "on", "keepalive", "timewait", "probe"};
	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

/* netstat -o: "keepalive (7.12/0/0)", seconds left, retransmits, probes. */
static void cell_timer(struct buf *b, const struct sock *s)
{
	if (!is_inet(s)) {
		buf_addc(b, '-');
		return;
	}
	unsigned kind = s->has_timer ? s->timer : TIMER_OFF;
	uint32_t ms = s->has_timer ? s->expires_ms : 0;
	unsigned retrans = s->has_timer ? s->retrans : 0;
	buf_printf(b, "%s (%u.%02u/%u/0)", timer_name(kind), ms / 1000, ms % 1000 / 10, retrans);
}

static const char *const mem_tag[SOCK_MEMINFO_VARS] = {
	"r", "rb", "t", "tb", "f", "w", "o", "bl", "d"
};
static const char *const mem_key[SOCK_MEMINFO_VARS] = {
	"rmem_alloc", "rcvbuf", "wmem_alloc", "sndbuf", "fwd_alloc",
	"wmem_queued", "optmem", "backlog", "drops"
};

static void cell_memory(struct buf *b, const struct sock *s)
{
	if (!s->mem || s->mem->count == 0) {
		buf_addc(b, '-');
		return;
	}
	unsigned n = s->mem->count < SOCK_MEMINFO_VARS ? s->mem->count : SOCK_MEMINFO_VARS;
	buf_adds(b, "skmem:(");
	for (unsigned i = 0; i < n; i++) {
		if (i)
			buf_addc(b, ',');
		buf_adds(b, mem_tag[i]);
		buf_addu(b, s->mem->v[i]);
	}
	buf_addc(b, ')');
}

/* TCP_INFINITE_SSTHRESH: the kernel's "no threshold yet". */
static bool ssthresh_infinite(uint32_t v)
{
	return v >= 0x7fffffff;
}

/* A rate in bits per second, scaled as ss prints it. */
static void add_bps(struct buf *b, uint64_t bytes_per_sec)
{
	double bps = (double)bytes_per_sec * 8.0;
	if (bps >= 1e9)
		buf_printf(b, "%.1fG", bps / 1e9);
	else if (bps >= 1e6)
		buf_printf(b, "%.1fM", bps / 1e6);
	else if (bps >= 1e3)
		buf_printf(b, "%.1fK", bps / 1e3);
	else
		buf_printf(b, "%.0f", bps);
	buf_adds(b, "bps");
}

static void cell_info(struct buf *b, const struct sock *s)
{
	const struct sock_tcpinfo *i = s->info;
	if (s->proto != PROTO_TCP || !i) {
		buf_addc(b, '-');
		return;
	}
	size_t cl = strnlen(i->cong, sizeof(i->cong));
	if (cl) {
		escape_text(b, i->cong, cl);
		buf_addc(b, ' ');
	}
	buf_printf(b, "rtt:%g/%g mss:%u cwnd:%u", i->rtt_us / 1000.0, i->rttvar_us / 1000.0,
		   i->snd_mss, i->snd_cwnd);
	if (!ssthresh_infinite(i->snd_ssthresh))
		buf_printf(b, " ssthresh:%u", i->snd_ssthresh);
	buf_printf(b, " retrans:%u/%u", i->retransmits, i->total_retrans);
	buf_adds(b, " bytes_sent:");
	buf_addu(b, i->bytes_sent);
	buf_adds(b, " bytes_acked:");
	buf_addu(b, i->bytes_acked);
	buf_adds(b, " bytes_received:");
	buf_addu(b, i->bytes_received);
	buf_adds(b, " delivery_rate:");
	add_bps(b, i->delivery_rate);
}

static void cell(struct render *r, struct buf *b, enum col c, const struct sock *s)
{
	switch (c) {
	case C_PROTO: buf_adds(b, sock_proto_name(s)); break;
	case C_STATE: buf_adds(b, sock_state_name(s)); break;
	case C_RECVQ: buf_addu(b, s->recv_q); break;
	case C_SENDQ: buf_addu(b, s->send_q); break;
	case C_LOCAL: cell_local(r, b, s); break;
	case C_PEER: cell_peer(r, b, s); break;
	case C_UID:
		if (s->has_uid)
			buf_addu(b, s->uid);
		else
			buf_addc(b, '-');
		break;
	case C_INODE: buf_addu(b, s->inode); break;
	case C_COOKIE:
		if (s->cookie)
			buf_addu(b, s->cookie);
		else
			buf_addc(b, '-');
		break;
	case C_IFACE:
		if (s->ifindex)
			add_ifname_or_num(r, b, s->ifindex);
		else
			buf_addc(b, '*');
		break;
	case C_TIMER: cell_timer(b, s); break;
	case C_MEMORY: cell_memory(b, s); break;
	case C_INFO: cell_info(b, s); break;
	case C_PROCESS: cell_process(r, b, s); break;
	case C_COUNT: break;
	}
}

static int table_row(struct render *r, const struct sock *s)
{
	struct buf *b = &r->cell;
	uint8_t lens[3 * C_COUNT];
	size_t nlens = 0;
	buf_reset(b);
	/* Every column but the last, Process, which table_line writes. */
	for (int i = 0; i + 1 < r->ncols; i++) {
		size_t start = b->len;
		cell(r, b, r->cols[i], s);
		size_t n = b->len - start;
		if (n > UINT16_MAX)
			return -EOVERFLOW;
		size_t w = dwidth(b->p + start, n);
		if (w > r->width[i])
			r->width[i] = w;
		if (derived(r->cols[i])) {
			b->len = start;
			continue;
		}
		if (n < LEN_WIDE) {
			lens[nlens++] = (uint8_t)n;
		} else {
			lens[nlens++] = LEN_WIDE;
			lens[nlens++] = (uint8_t)(n >> 8);
			lens[nlens++] = (uint8_t)n;
		}
	}
	if (!buf_ok(b))
		return -ENOMEM;
	struct row_head h = {.uid = s->uid,
			     .flags = (uint8_t)((s->has_uid ? ROW_HAS_UID : 0) |
						(s->owners ? ROW_HAS_OWNERS : 0)),
			     .proto = s->proto, .family = s->family, .state = s->state,
			     .type = s->type};
	buf_add(&r->packed, &h, sizeof(h));
	if (r->o.processes)
		buf_add(&r->packed, &s->inode, sizeof(s->inode));
	if (s->owners)
		buf_add(&r->packed, &s->owners, sizeof(s->owners));
	buf_add(&r->packed, lens, nlens);
	buf_add(&r->packed, b->p, b->len);
	return buf_ok(&r->packed) ? 0 : -ENOMEM;
}

/* Reads the row at p (written by table_row); the buffer is not aligned. */
static void row_read(const struct render *r, const char *p, struct row *row)
{
	const char *start = p;
	memcpy(&row->h, p, sizeof(row->h));
	p += sizeof(row->h);
	row->inode = 0;
	if (r->o.processes) {
		memcpy(&row->inode, p, sizeof(row->inode));
		p += sizeof(row->inode);
	}
	row->owners = NULL;
	if (row->h.flags & ROW_HAS_OWNERS) {
		memcpy(&row->owners, p, sizeof(row->owners));
		p += sizeof(row->owners);
	}
	const uint8_t *u = (const uint8_t *)p;
	size_t total = 0;
	for (int i = 0; i + 1 < r->ncols; i++) {
		if (derived(r->cols[i])) {
			row->len[i] = 0;
			continue;
		}
		if (*u == LEN_WIDE) {
			row->len[i] = (uint16_t)(u[1] << 8 | u[2]);
			u += 3;
		} else {
			row->len[i] = *u++;
		}
		total += row->len[i];
	}
	row->data = (const char *)u;
	row->size = (size_t)(row->data - start) + total;
}

static const char *sock_type_name(uint8_t type)
{
	switch (type) {
	case SOCK_STREAM: return "stream";
	case SOCK_DGRAM: return "dgram";
	case SOCK_SEQPACKET: return "seqpacket";
	case SOCK_RAW: return "raw";
	default: return NULL;
	}
}

static void json_endpoint(struct render *r, struct json *j, const struct sock *s,
			  const struct sock_endpoint *e, bool local)
{
	json_object_begin(j);
	json_key(j, "address");
	buf_reset(&r->tmp);
	add_addr(&r->tmp, s->family, e->addr);
	json_string(j, r->tmp.p, r->tmp.len);
	json_key(j, "port");
	json_uint(j, e->port);
	const char *svc = local ? service(r, s, e->port) : NULL;
	if (svc) {
		json_key(j, "service");
		json_cstring(j, svc);
	}
	if (e->scope) {
		json_key(j, "scope_id");
		json_uint(j, e->scope);
	}
	const char *host = host_name(r, s, e);
	if (host) {
		json_key(j, "host");
		json_cstring(j, host);
	}
	json_object_end(j);
}

static void json_ifname(struct render *r, struct json *j, uint32_t index)
{
	char scratch[IF_NAMESIZE];
	const char *n = index ? ifname(r, index, scratch) : NULL;
	json_cstring(j, n);
}

static void json_tcpinfo(struct json *j, const struct sock_tcpinfo *i)
{
	json_object_begin(j);
	size_t cl = strnlen(i->cong, sizeof(i->cong));
	json_key(j, "congestion");
	if (cl)
		json_string(j, i->cong, cl);
	else
		json_null(j);
	json_key(j, "rtt");
	json_double(j, i->rtt_us / 1000.0);
	json_key(j, "rttvar");
	json_double(j, i->rttvar_us / 1000.0);
	json_key(j, "cwnd");
	json_uint(j, i->snd_cwnd);
	json_key(j, "ssthresh");
	if (ssthresh_infinite(i->snd_ssthresh))
		json_null(j);
	else
		json_uint(j, i->snd_ssthresh);
	json_key(j, "retransmits");
	json_uint(j, i->retransmits);
	json_key(j, "total_retrans");
	json_uint(j, i->total_retrans);
	json_key(j, "bytes_sent");
	json_uint(j, i->bytes_sent);
	json_key(j, "bytes_acked");
	json_uint(j, i->bytes_acked);
	json_key(j, "bytes_received");
	json_uint(j, i->bytes_received);
	json_key(j, "delivery_rate");
	json_uint(j, i->delivery_rate);
	json_key(j, "mss");
	json_uint(j, i->snd_mss);
	json_object_end(j);
}

static void json_row(struct render *r, struct json *j, const struct sock *s)
{
	char scratch[16];
	json_object_begin(j);
	json_key(j, "proto");
	json_cstring(j, s->proto < PROTO_COUNT ? proto_table[s->proto].name : "unknown");
	json_key(j, "family");
	json_cstring(j, sock_family_name(s));
	if (s->family == AF_UNIX || s->family == AF_PACKET) {
		json_key(j, "type");
		json_cstring(j, sock_type_name(s->type));
	}
	json_key(j, "state");
	json_cstring(j, sock_state_name(s));
	json_key(j, "recv_q");
	json_uint(j, s->recv_q);
	json_key(j, "send_q");
	json_uint(j, s->send_q);

	json_key(j, "local");
	if (is_inet(s)) {
		json_endpoint(r, j, s, &s->local, true);
		json_key(j, "peer");
		json_endpoint(r, j, s, &s->peer, false);
	} else if (s->family == AF_UNIX) {
		const char *p;
		size_t len;
		bool abstract;
		unix_name(s, &p, &len, &abstract);
		buf_reset(&r->tmp);
		if (abstract)
			buf_addc(&r->tmp, '@');
		buf_add(&r->tmp, p ? p : "", len);
		json_object_begin(j);
		json_key(j, "path");
		json_string(j, r->tmp.p, r->tmp.len);
		json_object_end(j);
		json_key(j, "peer");
		json_object_begin(j);
		json_key(j, "inode");
		json_uint(j, s->peer_inode);
		json_object_end(j);
	} else {
		json_object_begin(j);
		if (s->family == AF_PACKET) {
			json_key(j, "protocol");
			json_uint(j, s->local.port);
			json_key(j, "interface");
			json_ifname(r, j, s->ifindex);
		}
		json_object_end(j);
	}

	json_key(j, "uid");
	if (s->has_uid)
		json_uint(j, s->uid);
	else
		json_null(j);
	json_key(j, "user");
	if (s->has_uid)
		json_cstring(j, user_name(r, s->uid, scratch, sizeof(scratch)));
	else
		json_null(j);
	json_key(j, "inode");
	json_uint(j, s->inode);

	if (r->o.extended) {
		json_key(j, "cookie");
		if (s->cookie)
			json_uint(j, s->cookie);
		else
			json_null(j);
		json_key(j, "interface");
		json_ifname(r, j, s->ifindex);
	}
	if (r->o.info && s->proto == PROTO_TCP) {
		json_key(j, "tcp_info");
		if (s->info)
			json_tcpinfo(j, s->info);
		else
			json_null(j);
	}
	if (r->o.memory) {
		json_key(j, "memory");
		if (s->mem) {
			unsigned n = s->mem->count < SOCK_MEMINFO_VARS ? s->mem->count : SOCK_MEMINFO_VARS;
			json_object_begin(j);
			for (unsigned i = 0; i < n; i++) {
				json_key(j, mem_key[i]);
				json_uint(j, s->mem->v[i]);
			}
			json_object_end(j);
		} else {
			json_null(j);
		}
	}
	if (r->o.timers && is_inet(s)) {
		json_key(j, "timer");
		json_object_begin(j);
		json_key(j, "kind");
		json_cstring(j, timer_name(s->has_timer ? s->timer : TIMER_OFF));
		json_key(j, "expires_ms");
		json_uint(j, s->has_timer ? s->expires_ms : 0);
		json_key(j, "retrans");
		json_uint(j, s->has_timer ? s->retrans : 0);
		json_object_end(j);
	}
	if (r->o.processes) {
		json_key(j, "processes");
		json_array_begin(j);
		for (const struct owner *o = s->owners; o; o = o->next) {
			json_object_begin(j);
			json_key(j, "pid");
			json_int(j, o->pid);
			json_key(j, "command");
			json_cstring(j, o->comm ? o->comm : "");
			json_key(j, "fd");
			json_int(j, o->fd);
			json_key(j, "user");
			json_cstring(j, user_name(r, o->uid, scratch, sizeof(scratch)));
			json_object_end(j);
		}
		json_array_end(j);
	}
	json_object_end(j);
}

static int maybe_flush(struct render *r)
{
	if (!buf_ok(&r->out))
		return -ENOMEM;
	if (r->out.len < FLUSH_AT)
		return 0;
	return buf_flush(&r->out, r->f);
}

int render_row(struct render *r, const struct sock *s)
{
	if (r->o.format == FORMAT_TABLE) {
		int err = table_row(r, s);
		if (err == 0)
			r->rows++;
		return err;
	}
	struct json j;
	json_init(&j, &r->out);
	if (r->o.format == FORMAT_JSON)
		buf_adds(&r->out, r->rows ? ",\n" : "[\n");
	json_row(r, &j, s);
	if (r->o.format == FORMAT_NDJSON)
		buf_addc(&r->out, '\n');
	r->rows++;
	return maybe_flush(r);
}

static void pad(struct buf *b, size_t n)
{
	static const char spaces[] = "                                ";
	while (n > 0) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
		buf_add(b, spaces, k);
		n -= k;
	}
}

/*
 * A line never ends in a space, even when the last cell's text does (a
 * process may name itself "nginx "): trailing spaces of the cell that
 * starts at start are written as \x20, which also keeps them visible.
 */
static void end_visibly(struct buf *b, size_t start)
{
	size_t end = b->len;
	while (end > start && b->p[end - 1] == ' ')
		end--;
	size_t spaces = b->len - end;
	if (!spaces || !buf_ok(b))
		return;
	b->len = end;
	for (size_t i = 0; i < spaces; i++)
		buf_add(b, "\\x20", 4);
}

/*
 * Appends one line: the buffered cells, each padded to its column, then
 * the last cell (not padded, so no trailing space): the header's title, or
 * the row's Process cell, formatted now that the owners are known.
 */
static void table_line(struct render *r, const uint16_t *len, const char *data,
		       const struct row *row)
{
	for (int i = 0; i + 1 < r->ncols; i++) {
		const char *text = data;
		size_t n = len[i];
		if (row && derived(r->cols[i])) {
			struct sock k = {.proto = row->h.proto, .family = row->h.family,
					 .state = row->h.state, .type = row->h.type};
			text = r->cols[i] == C_PROTO ? sock_proto_name(&k) : sock_state_name(&k);
			n = strlen(text);
		} else {
			data += n;
		}
		buf_add(&r->out, text, n);
		pad(&r->out, r->width[i] - dwidth(text, n) + 1);
	}
	if (!row) {
		buf_add(&r->out, data, len[r->ncols - 1]);
	} else {
		struct sock s = {.owners = row->owners, .uid = row->h.uid,
				 .has_uid = row->h.flags & ROW_HAS_UID};
		if (!s.owners && r->owners)
			s.owners = owners_lookup(r->owners, row->inode);
		size_t start = r->out.len;
		cell_process(r, &r->out, &s);
		end_visibly(&r->out, start);
	}
	buf_addc(&r->out, '\n');
}

void render_set_owners(struct render *r, const struct owners *owners)
{
	r->owners = owners;
}

static int table_finish(struct render *r)
{
	uint16_t hlen[C_COUNT];
	buf_reset(&r->cell);
	for (int i = 0; i < r->ncols; i++) {
		const char *t = col_title[r->cols[i]];
		hlen[i] = (uint16_t)strlen(t);
		buf_add(&r->cell, t, hlen[i]);
		if (r->o.header && hlen[i] > r->width[i])
			r->width[i] = hlen[i];
	}
	if (!buf_ok(&r->cell))
		return -ENOMEM;
	if (r->o.header)
		table_line(r, hlen, r->cell.p, NULL);
	struct row row;
	for (size_t off = 0; off < r->packed.len; off += row.size) {
		row_read(r, r->packed.p + off, &row);
		table_line(r, row.len, row.data, &row);
		int err = maybe_flush(r);
		if (err)
			return err;
	}
	return 0;
}

int render_finish(struct render *r)
{
	int err = 0;
	if (r->o.format == FORMAT_TABLE)
		err = table_finish(r);
	else if (r->o.format == FORMAT_JSON)
		buf_adds(&r->out, r->rows ? "\n]\n" : "[]\n");
	if (err)
		return err;
	err = buf_flush(&r->out, r->f);
	if (err)
		return err;
	if (fflush(r->f) != 0 || ferror(r->f))
		return errno ? -errno : -EIO;
	return 0;
}

void summary_add(struct summary *sum, const struct sock *s)
{
	if (s->proto >= PROTO_COUNT || s->state >= SS_MAX)
		return;
	sum->count[s->proto][s->family == AF_INET6 ? 1 : 0][s->state]++;
}

/* Summary state slots: the kernel states, then UNCONN for datagram CLOSE. */
enum { SLOT_UNCONN = SS_MAX, SLOTS };

static unsigned slot_of(unsigned proto, unsigned state)
{
	return state == SS_CLOSE && proto_table[proto].datagram ? SLOT_UNCONN : state;
}

static const char *slot_name(unsigned slot)
{
	return slot == SLOT_UNCONN ? "UNCONN" : state_name(slot);
}

static bool proto_inet(unsigned p)
{
	return p != PROTO_UNIX && p != PROTO_PACKET;
}

/* Per protocol totals: [0] IPv4 or other, [1] IPv6, and by state slot. */
struct totals {
	uint64_t fam[2];
	uint64_t slot[SLOTS];
};

static void totals_of(const struct summary *sum, unsigned p, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned f = 0; f < 2; f++) {
		for (unsigned st = 0; st < SS_MAX; st++) {
			uint64_t n = sum->count[p][f][st];
			t->fam[f] += n;
			t->slot[slot_of(p, st)] += n;
		}
	}
}

static void summary_json(struct buf *b, const struct summary *sum)
{
	struct json j;
	json_init(&j, b);
	json_object_begin(&j);
	for (unsigned p = 0; p < PROTO_COUNT; p++) {
		if (!(sum->protos & PROTO_BIT(p)))
			continue;
		struct totals t;
		totals_of(sum, p, &t);
		json_key(&j, proto_table[p].name);
		json_object_begin(&j);
		json_key(&j, "total");
		json_uint(&j, t.fam[0] + t.fam[1]);
		if (proto_inet(p)) {
			json_key(&j, "ipv4");
			json_uint(&j, t.fam[0]);
			json_key(&j, "ipv6");
			json_uint(&j, t.fam[1]);
		}
		json_key(&j, "states");
		json_object_begin(&j);
		for (unsigned sl = 0; sl < SLOTS; sl++) {
			if (!t.slot[sl] || !slot_name(sl))
				continue;
			json_key(&j, slot_name(sl));
			json_uint(&j, t.slot[sl]);
		}
		json_object_end(&j);
		json_object_end(&j);
	}
	json_object_end(&j);
	buf_addc(b, '\n');
}

/*
 * The summary table: one line per protocol asked for and a total line;
 * columns Total, IPv4, IPv6, then one per state that any protocol has, so
 * the table stays as narrow as the host is quiet.
 */
enum { SUM_ROWS = PROTO_COUNT + 2, SUM_COLS = 4 + SLOTS, SUM_CELL = 24 };

static void summary_table(struct buf *b, const struct render_opts *o, const struct summary *sum)
{
	char cells[SUM_ROWS][SUM_COLS][SUM_CELL];
	unsigned slots[SLOTS];
	unsigned nslots = 0, nrows = 0, ncols;
	struct totals all;
	memset(&all, 0, sizeof(all));
	bool any_inet = false;

	for (unsigned p = 0; p < PROTO_COUNT; p++) {
		if (!(sum->protos & PROTO_BIT(p)))
			continue;
		struct totals t;
		totals_of(sum, p, &t);
		for (unsigned f = 0; f < 2; f++)
			all.fam[f] += t.fam[f];
		for (unsigned sl = 0; sl < SLOTS; sl++)
			all.slot[sl] += t.slot[sl];
		any_inet |= proto_inet(p);
	}
	for (unsigned sl = 1; sl < SLOTS; sl++)
		if (all.slot[sl] && slot_name(sl))
			slots[nslots++] = sl;
	ncols = 4 + nslots;

	snprintf(cells[nrows][0], SUM_CELL, "Proto");
	snprintf(cells[nrows][1], SUM_CELL, "Total");
	snprintf(cells[nrows][2], SUM_CELL, "IPv4");
	snprintf(cells[nrows][3], SUM_CELL, "IPv6");
	for (unsigned k = 0; k < nslots; k++)
		snprintf(cells[nrows][4 + k], SUM_CELL, "%s", slot_name(slots[k]));
	nrows++;

	for (unsigned p = 0; p <= PROTO_COUNT; p++) {
		struct totals t;
		bool inet;
		if (p == PROTO_COUNT) {
			t = all;
			inet = any_inet;
			snprintf(cells[nrows][0], SUM_CELL, "total");
		} else {
			if (!(sum->protos & PROTO_BIT(p)))
				continue;
			totals_of(sum, p, &t);
			inet = proto_inet(p);
			snprintf(cells[nrows][0], SUM_CELL, "%s", proto_table[p].name);
		}
		snprintf(cells[nrows][1], SUM_CELL, "%llu", (unsigned long long)(t.fam[0] + t.fam[1]));
		if (inet) {
			/* The total line's split counts inet sockets only. */
			uint64_t v4 = t.fam[0];
			if (p == PROTO_COUNT) {
				v4 = 0;
				for (unsigned q = 0; q < PROTO_COUNT; q++) {
					struct totals tq;
					if (!(sum->protos & PROTO_BIT(q)) || !proto_inet(q))
						continue;
					totals_of(sum, q, &tq);
					v4 += tq.fam[0];
				}
			}
			snprintf(cells[nrows][2], SUM_CELL, "%llu", (unsigned long long)v4);
			snprintf(cells[nrows][3], SUM_CELL, "%llu", (unsigned long long)t.fam[1]);
		} else {
			snprintf(cells[nrows][2], SUM_CELL, "-");
			snprintf(cells[nrows][3], SUM_CELL, "-");
		}
		for (unsigned k = 0; k < nslots; k++)
			snprintf(cells[nrows][4 + k], SUM_CELL, "%llu",
				 (unsigned long long)t.slot[slots[k]]);
		nrows++;
	}

	size_t width[SUM_COLS] = {0};
	for (unsigned i = o->header ? 0 : 1; i < nrows; i++)
		for (unsigned c = 0; c < ncols; c++) {
			size_t w = strlen(cells[i][c]);
			if (w > width[c])
				width[c] = w;
		}
	for (unsigned i = o->header ? 0 : 1; i < nrows; i++) {
		for (unsigned c = 0; c < ncols; c++) {
			size_t w = strlen(cells[i][c]);
			buf_add(b, cells[i][c], w);
			if (c + 1 < ncols)
				pad(b, width[c] - w + 1);
		}
		buf_addc(b, '\n');
	}
}

int render_summary(FILE *f, const struct render_opts *o, const struct summary *sum)
{
	struct buf b = BUF_INIT;
	if (o->format == FORMAT_TABLE)
		summary_table(&b, o, sum);
	else
		summary_json(&b, sum);
	int err = buf_flush(&b, f);
	buf_finish(&b);
	if (err)
		return err;
	if (fflush(f) != 0 || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}
