#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include "outfile.h"
#include "util.h"

enum {
	KIND_REQUEST = 1,
	KIND_REPLY = 2,
	KIND_ERROR = 3,
	KIND_PROCFILE = 4,
	KIND_END = 5,
};

static const char magic[8] = {'S', 'S', 'R', 'E', 'C', 'O', 'R', 'D'};
enum { HEADER = 16, RECHDR = 8, REPLY_MAX = 65536, NAME_MAX_LEN = 4096 };
/* A recording bigger than this is not one this program made. */
#define RECORDING_MAX ((size_t)1 << 30)

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* One record: its header, then the two parts of its data, then padding. */
static void append(struct record *r, uint32_t kind, const void *a, size_t alen, const void *b,
		   size_t blen)
{
	size_t len = alen + blen;
	if (len > UINT32_MAX - 8) {
		r->b.failed = true;
		return;
	}
	unsigned char hdr[RECHDR];
	put32(hdr, kind);
	put32(hdr + 4, (uint32_t)len);
	buf_add(&r->b, hdr, sizeof(hdr));
	if (alen)
		buf_add(&r->b, a, alen);
	if (blen)
		buf_add(&r->b, b, blen);
	static const unsigned char zero[3];
	buf_add(&r->b, zero, pad4(len) - len);
}

void record_init(struct record *r)
{
	buf_init(&r->b);
	unsigned char hdr[HEADER] = {0};
	memcpy(hdr, magic, sizeof(magic));
	put32(hdr + 8, RECORD_VERSION);
	buf_add(&r->b, hdr, sizeof(hdr));
}

void record_finish(struct record *r)
{
	if (r)
		buf_finish(&r->b);
}

static void on_sent(void *ctx, const void *buf, size_t len)
{
	append(ctx, KIND_REQUEST, buf, len, NULL, 0);
}

static void on_received(void *ctx, const void *buf, ssize_t n)
{
	if (n >= 0) {
		append(ctx, KIND_REPLY, buf, (size_t)n, NULL, 0);
		return;
	}
	unsigned char e[4];
	put32(e, (uint32_t)(int32_t)n);
	append(ctx, KIND_ERROR, e, sizeof(e), NULL, 0);
}

static void on_saw(void *ctx, const char *name, const char *text, size_t len)
{
	size_t n = strlen(name);
	if (n > NAME_MAX_LEN)
		return;
	unsigned char head[2 + NAME_MAX_LEN];
	head[0] = (unsigned char)n;
	head[1] = (unsigned char)(n >> 8);
	memcpy(head + 2, name, n);
	append(ctx, KIND_PROCFILE, head, 2 + n, text, len);
}

struct nl_observer record_observer(struct record *r)
{
	return (struct nl_observer){on_sent, on_received, r};
}

struct procnet_tap record_tap(struct record *r)
{
	return (struct procnet_tap){NULL, on_saw, r};
}

int record_save(struct record *r, const char *path)
{
	append(r, KIND_END, NULL, 0, NULL, 0);
	if (!buf_ok(&r->b))
		return -ENOMEM;
	struct outfile of = OUTFILE_INIT;
	int ret = outfile_open(&of, path);
	if (ret < 0)
		return ret;
	if (fwrite(r->b.p, 1, r->b.len, of.f) != r->b.len) {
		outfile_abort(&of);
		return -EIO;
	}
	return outfile_commit(&of);
}

/* Replay. */

static int refuse(struct replay_error *e, size_t offset, const char *why)
{
	e->offset = offset;
	e->why = why;
	return -EINVAL;
}

static bool name_ok(const unsigned char *p, size_t n)
{
	if (n == 0 || p[0] == '/' || memchr(p, '\0', n))
		return false;
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == '.' && p[i + 1] == '.')
			return false;
	return true;
}

/* Checks one record's data for its kind. Returns NULL or what is wrong. */
static const char *check_record(uint32_t kind, const unsigned char *p, size_t len)
{
	switch (kind) {
	case KIND_REQUEST:
		return len < sizeof(struct nlmsghdr) ? "a request shorter than a netlink header"
						      : NULL;
	case KIND_REPLY:
		return len > REPLY_MAX ? "a reply larger than a netlink datagram" : NULL;
	case KIND_ERROR: {
		if (len != 4)
			return "an error record that is not 4 bytes";
		int32_t v = (int32_t)get32(p);
		return v >= 0 || v < -4095 ? "an error record that holds no errno" : NULL;
	}
	case KIND_PROCFILE: {
		if (len < 2)
			return "a /proc record without a name length";
		size_t n = (size_t)p[0] | (size_t)p[1] << 8;
		if (n > len - 2 || n > NAME_MAX_LEN)
			return "a /proc record whose name runs past its end";
		return name_ok(p + 2, n) ? NULL : "a /proc record with a bad name";
	}
	case KIND_END:
		return len ? "an end record with data" : NULL;
	default:
		return "an unknown record kind";
	}
}

int replay_parse(struct replay *rp, unsigned char *data, size_t len, struct replay_error *e)
{
	memset(rp, 0, sizeof(*rp));
	if (len < HEADER)
		return refuse(e, len, "the file ends inside its header");
	if (memcmp(data, magic, sizeof(magic)) != 0)
		return refuse(e, 0, "not a sockstat recording");
	if (get32(data + 8) != RECORD_VERSION)
		return refuse(e, 8, "a recording of another version (this sockstat reads version 1)");
	if (get32(data + 12) != 0)
		return refuse(e, 12, "unknown flags");
	size_t off = HEADER;
	for (;;) {
		if (len - off < RECHDR)
			return refuse(e, off, "the file ends before its end record (truncated)");
		uint32_t kind = get32(data + off);
		size_t rlen = get32(data + off + 4);
		if (rlen > len - off - RECHDR || pad4(rlen) > len - off - RECHDR)
			return refuse(e, off, "a record runs past the end of the file (truncated)");
		const char *why = check_record(kind, data + off + RECHDR, rlen);
		if (why)
			return refuse(e, off, why);
		size_t end = off + RECHDR + pad4(rlen);
		for (size_t i = off + RECHDR + rlen; i < end; i++)
			if (data[i])
				return refuse(e, i, "padding that is not zero");
		if (kind == KIND_END) {
			if (end != len)
				return refuse(e, end, "data after the end record");
			break;
		}
		off = end;
	}
	rp->data = data;
	rp->len = len;
	rp->next = HEADER;
	return 0;
}

int replay_load(struct replay *rp, const char *path, struct replay_error *e)
{
	struct buf b = BUF_INIT;
	memset(rp, 0, sizeof(*rp));
	int ret = util_read_file(AT_FDCWD, path, RECORDING_MAX, &b);
	if (ret == 0 && !b.p)
		ret = replay_parse(rp, NULL, 0, e);
	else if (ret == 0)
		ret = replay_parse(rp, (unsigned char *)b.p, b.len, e);
	if (ret < 0)
		buf_finish(&b);
	return ret;
}

void replay_finish(struct replay *rp)
{
	if (!rp)
		return;
	free(rp->data);
	rp->data = NULL;
}

/* The record at off (checked by replay_parse): its kind, data and length. */
static uint32_t rec_at(const struct replay *rp, size_t off, const unsigned char **p, size_t *len)
{
	*p = rp->data + off + RECHDR;
	*len = get32(rp->data + off + 4);
	return get32(rp->data + off);
}

static size_t rec_next(const struct replay *rp, size_t off)
{
	return off + RECHDR + pad4(get32(rp->data + off + 4));
}

/*
 * Which dump a request asks for: its message type, family and protocol
 * (INET_DIAG_REQ_PROTOCOL where it names one: MPTCP and raw). What it asks
 * about the sockets (states, extensions, bytecode) does not count, since
 * the listing applies those again in user space: a recording of "-a -e -i
 * -m" answers any narrower run.
 */
struct ident {
	uint16_t type;
	uint8_t family;
	uint32_t protocol;
};

static struct ident identify(const unsigned char *p, size_t len)
{
	struct nlmsghdr h;
	memcpy(&h, p, sizeof(h));
	struct ident id = {h.nlmsg_type, 0, 0};
	size_t hdr = NLMSG_HDRLEN;
	if (len < hdr + 2)
		return id;
	id.family = p[hdr];
	id.protocol = p[hdr + 1];
	if (id.family != AF_INET && id.family != AF_INET6)
		return id;
	size_t off = hdr + NLMSG_ALIGN(sizeof(struct inet_diag_req_v2));
	while (off + NLA_HDRLEN <= len) {
		struct nlattr a;
		memcpy(&a, p + off, sizeof(a));
		if (a.nla_len < NLA_HDRLEN || a.nla_len > len - off)
			break;
		if ((a.nla_type & NLA_TYPE_MASK) == INET_DIAG_REQ_PROTOCOL && a.nla_len >= NLA_HDRLEN + 4)
			memcpy(&id.protocol, p + off + NLA_HDRLEN, 4);
		off += NLA_ALIGN(a.nla_len);
	}
	return id;
}

static bool same_request(const unsigned char *a, size_t alen, const void *b, size_t blen)
{
	struct ident x = identify(a, alen), y = identify(b, blen);
	return x.type == y.type && x.family == y.family && x.protocol == y.protocol;
}

/* The first REQUEST record equal to req in [from, end), or 0. */
static size_t find_request(const struct replay *rp, size_t from, const void *req, size_t len)
{
	const unsigned char *p;
	size_t n;
	for (size_t off = from; off < rp->len; off = rec_next(rp, off)) {
		uint32_t kind = rec_at(rp, off, &p, &n);
		if (kind == KIND_END)
			break;
		if (kind == KIND_REQUEST && same_request(p, n, req, len))
			return off;
	}
	return 0;
}

static ssize_t fake_send(void *ctx, const void *buf, size_t len)
{
	struct replay *rp = ctx;
	if (len < sizeof(struct nlmsghdr))
		return -EINVAL;
	/* The next one in order first (a retried dump asks again), then any. */
	size_t off = find_request(rp, rp->next, buf, len);
	if (!off)
		off = find_request(rp, HEADER, buf, len);
	struct nlmsghdr h;
	memcpy(&h, buf, sizeof(h));
	rp->seq = h.nlmsg_seq;
	rp->missing = off == 0;
	rp->reply = off ? rec_next(rp, off) : 0;
	if (off)
		rp->next = rp->reply;
	return (ssize_t)len;
}

/* Gives every whole message of a datagram the numbers of our request. */
static void renumber(unsigned char *p, size_t n, uint32_t seq)
{
	size_t off = 0;
	while (n - off >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr h;
		memcpy(&h, p + off, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > n - off)
			return;
		h.nlmsg_seq = seq;
		h.nlmsg_pid = 0;
		memcpy(p + off, &h, sizeof(h));
		size_t step = NLMSG_ALIGN(h.nlmsg_len);
		if (step >= n - off)
			return;
		off += step;
	}
}

static ssize_t fake_recv(void *ctx, void *buf, size_t size)
{
	struct replay *rp = ctx;
	if (rp->missing) {
		/* What a kernel without the diag module answers. */
		struct {
			struct nlmsghdr h;
			struct nlmsgerr e;
		} m = {0};
		m.h.nlmsg_len = sizeof(m);
		m.h.nlmsg_type = NLMSG_ERROR;
		m.h.nlmsg_seq = rp->seq;
		m.e.error = -ENOENT;
		rp->missing = false;
		if (size < sizeof(m))
			return -ENOBUFS;
		memcpy(buf, &m, sizeof(m));
		return (ssize_t)sizeof(m);
	}
	if (!rp->reply)
		return -EIO;
	const unsigned char *p;
	size_t n;
	uint32_t kind = rec_at(rp, rp->reply, &p, &n);
	if (kind == KIND_ERROR) {
		rp->reply = rec_next(rp, rp->reply);
		return (ssize_t)(int32_t)get32(p);
	}
	/* The recording ends here: the recorded run stopped listening. */
	if (kind != KIND_REPLY)
		return -EIO;
	rp->reply = rec_next(rp, rp->reply);
	size_t copy = n < size ? n : size;
	memcpy(buf, p, copy);
	renumber(buf, copy, rp->seq);
	return (ssize_t)copy;
}

struct nl_transport replay_transport(struct replay *rp)
{
	return (struct nl_transport){fake_send, fake_recv, rp};
}

static int tap_read(void *ctx, const char *name, struct buf *b)
{
	const struct replay *rp = ctx;
	size_t nlen = strlen(name);
	const unsigned char *p;
	size_t n;
	for (size_t off = HEADER; off < rp->len; off = rec_next(rp, off)) {
		uint32_t kind = rec_at(rp, off, &p, &n);
		if (kind == KIND_END)
			break;
		if (kind != KIND_PROCFILE)
			continue;
		size_t l = (size_t)p[0] | (size_t)p[1] << 8;
		if (l != nlen || memcmp(p + 2, name, l) != 0)
			continue;
		buf_add(b, p + 2 + l, n - 2 - l);
		return buf_ok(b) ? 0 : -ENOMEM;
	}
	return -ENOENT;
}

struct procnet_tap replay_tap(struct replay *rp)
{
	return (struct procnet_tap){tap_read, NULL, rp};
}
