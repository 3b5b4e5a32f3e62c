#include "gather.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "diag.h"
#include "filter.h"
#include "nl.h"
#include "procnet.h"
#include "util.h"

/* One (protocol, family) dump: a row of the protocol table and one of its families. */
struct step {
	enum proto proto;
	const struct proto_desc *desc;
	const struct proto_family *fam;
};

/* A dump interrupted by the kernel is tried again, this many times at most. */
enum { DUMP_TRIES = 4 };

/* Room for a request: headers plus the largest bytecode we push down. */
enum { BYTECODE_MAX = 4096, REQ_MAX = BYTECODE_MAX + 256 };

/*
 * The identity of a socket: its cookie, which the kernel never reuses
 * while the socket lives, or, without one, a hash of what the row shows.
 * The top bit keeps the two kinds apart and the key away from 0.
 */
static uint64_t sock_key(const struct sock *s)
{
	if (s->cookie)
		return s->cookie;
	uint64_t h = util_mix64(s->inode ^ ((uint64_t)s->family << 56));
	h = util_mix64(h ^ ((uint64_t)s->local.port << 16 | s->peer.port));
	for (size_t i = 0; i < 16; i += 8) {
		uint64_t a, b;
		memcpy(&a, s->local.addr + i, 8);
		memcpy(&b, s->peer.addr + i, 8);
		h = util_mix64(h ^ a) ^ util_mix64(b + i);
	}
	return h | 1ull << 63;
}

struct run {
	const struct gather_request *req;
	sock_sink_fn sink;
	void *arg;
	struct step step;
	struct nl *nl;
	int nl_err;            /* why the socket could not be opened */
	struct u64map seen;    /* sock_key of every socket handed on this step */
	struct diag_scratch scratch;
	/* net.ipv6.bindv6only, read once per run when an inet6 step needs it. */
	bool v6only_read;
	bool v6only;
	size_t delivered;      /* records handed on during this step */
	int sink_err;          /* the sink's own error, passed through as is */
	int own_err;           /* our own failure (memory) during a dump */
	unsigned char bytecode[BYTECODE_MAX];
	union {
		uint64_t align;
		unsigned char b[REQ_MAX];
	} reqbuf;
};

/*
 * The kernel was asked for exactly this, but a safety net is cheap: a
 * source that ignores part of a request must not widen the output.
 */
static bool wanted(const struct run *run, const struct sock *s)
{
	unsigned state = s->state;
	if (state == SS_NEW_SYN_RECV)
		state = SS_SYN_RECV;
	return state < 32 && (run->req->states & STATE_BIT(state)) &&
	       (sock_fam_bit(s) & run->req->families) && s->family == run->step.fam->af;
}

static int deliver(struct run *run, const struct sock *s)
{
	if (!wanted(run, s))
		return 0;
	bool fresh;
	void **slot;
	int r = u64map_insert(&run->seen, sock_key(s), &slot, &fresh);
	if (r < 0) {
		run->own_err = r;
		return r;
	}
	if (!fresh)
		return 0;
	run->delivered++;
	r = run->sink(run->arg, s);
	if (r < 0)
		run->sink_err = r;
	return r;
}

static int on_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct run *run = arg;
	struct sock s;
	/* A malformed record is skipped; the rest of the dump is still good. */
	if (diag_parse(nlh, run->step.proto, &s, &run->scratch) < 0)
		return 0;
	/* TIME_WAIT and SYN_RECV sockets come without INET_DIAG_SKV6ONLY. */
	if (s.family == AF_INET6 && !run->scratch.v6only_given)
		s.v6only = run->v6only;
	return deliver(run, &s);
}

static int on_proc(void *arg, const struct sock *s)
{
	return deliver(arg, s);
}

/* One netlink dump of the current step, with or without bytecode. */
static int dump_once(struct run *run, const void *bc, size_t bclen)
{
	const struct gather_request *req = run->req;
	struct diag_request dr = {
		.proto = run->step.proto,
		.family = run->step.fam->af,
		.states = req->states,
		.want_info = req->want_info,
		.want_mem = req->want_mem,
		.bytecode = bc,
		.bytecode_len = bclen,
	};
	size_t len = diag_build_request(run->reqbuf.b, sizeof(run->reqbuf.b), &dr,
					nl_next_seq(run->nl));
	if (len == 0)
		return -ENOSPC;
	return nl_dump(run->nl, run->reqbuf.b, len, on_msg, run);
}

/*
 * Errors the kernel gives in reply to the request itself leave the socket
 * idle and reusable. Anything else (an overrun, a reply we could not
 * trust) may leave a dump running, and the kernel refuses a new dump on
 * that socket (EBUSY) until the old one is drained: start afresh instead.
 */
static bool conversation_over(int r)
{
	return r == 0 || r == -EINTR || r == -ENOENT || r == -EOPNOTSUPP || r == -EINVAL ||
	       r == -EPROTONOSUPPORT;
}

static int open_nl(struct run *run)
{
	if (!run->nl && !run->nl_err) {
		run->nl_err = run->req->nl_open
				      ? run->req->nl_open(&run->nl, run->req->nl_open_arg)
				      : nl_create(&run->nl, run->req->transport);
		if (run->nl_err == 0 && !run->nl)
			run->nl_err = -EIO;
		if (run->nl_err == 0)
			nl_observe(run->nl, run->req->observer);
	}
	return run->nl_err;
}

static int dump_try(struct run *run, const void *bc, size_t bclen)
{
	int r = open_nl(run);
	if (r < 0)
		return r;
	r = dump_once(run, bc, bclen);
	if (!conversation_over(r)) {
		nl_destroy(run->nl);
		run->nl = NULL;
	}
	return r;
}

static int dump_netlink(struct run *run)
{
	const struct gather_request *req = run->req;
	int r = open_nl(run);
	if (r < 0)
		return r;

	const void *bc = NULL;
	size_t bclen = 0;
	if (req->filter && run->step.desc->bytecode) {
		int n = filter_bytecode(req->filter, run->step.fam->af, run->bytecode,
					sizeof(run->bytecode));
		/* Nothing to push down, or too much: user space filters anyway. */
		if (n > 0) {
			bc = run->bytecode;
			bclen = (size_t)n;
		}
	}

	for (int tries = 0; tries < DUMP_TRIES; tries++) {
		r = dump_try(run, bc, bclen);
		if ((r == -EINVAL || r == -EPERM) && bc && run->delivered == 0 && !run->sink_err) {
			/*
			 * An older kernel may not take our bytecode, and a mark
			 * condition needs CAP_NET_ADMIN: ask without it.
			 */
			bc = NULL;
			bclen = 0;
			r = dump_try(run, bc, bclen);
		}
		/*
		 * An interrupted dump may have missed or repeated sockets; so
		 * may one whose replies overflowed the socket buffer. Run it
		 * again: the set of delivered sockets keeps the sink from
		 * seeing one twice.
		 */
		if (run->sink_err || run->own_err || (r != -EINTR && r != -ENOBUFS))
			break;
	}
	/* The last try was still inconsistent: what it gave is the best we have. */
	if (r == -EINTR)
		r = 0;
	return r;
}

/* Netlink's way of saying it knows no such protocol or family. */
static bool kernel_lacks(int r)
{
	return r == -ENOENT || r == -EOPNOTSUPP || r == -EPROTONOSUPPORT || r == -EAFNOSUPPORT;
}

static bool have_net_dir(const char *root)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/net", root);
	return n > 0 && (size_t)n < sizeof(path) && access(path, F_OK) == 0;
}

/*
 * The system default for IPV6_V6ONLY in the namespace being listed. A
 * kernel without IPv6, or a fixture /proc without the file, means none:
 * dual-stack, the kernel's own default.
 */
static void read_v6only(struct run *run)
{
	if (run->v6only_read)
		return;
	run->v6only_read = true;
	bool on = false;
	if (procnet_bindv6only_tap(run->req->proc_root ? run->req->proc_root : "/proc",
				   run->req->tap, &on) == 0)
		run->v6only = on;
}

/*
 * Fills err for a step that failed. What the sink or our own allocation
 * said wins over what the source then reported, as it is the cause.
 */
static int failed(struct run *run, int r, enum gather_fail kind, struct gather_error *err)
{
	if (run->sink_err) {
		r = run->sink_err;
		kind = GATHER_FAIL_SINK;
	} else if (run->own_err) {
		r = run->own_err;
		kind = GATHER_FAIL_NOMEM;
	}
	if (err)
		*err = (struct gather_error){.kind = kind, .proto = run->step.proto,
					     .file = kind == GATHER_FAIL_PROCNET
							     ? run->step.fam->procfile : NULL};
	return r;
}

static int run_step(struct run *run, struct gather_error *err)
{
	const struct gather_request *req = run->req;
	run->delivered = 0;
	u64map_clear(&run->seen);

	int r = -ENOENT;
	/* A protocol no diag module reports has /proc/net as its one source. */
	if (req->source != SOURCE_PROC && run->step.desc->diag != PROTO_DIAG_NONE) {
		r = dump_netlink(run);
		if (run->sink_err || run->own_err)
			return failed(run, r, GATHER_FAIL_SINK, err);
		if (r == 0)
			return 0;
		/*
		 * /proc may only stand in for a dump that gave nothing: after
		 * a partial dump it would repeat or contradict what was sent.
		 */
		if (req->source == SOURCE_NETLINK || run->delivered > 0) {
			return failed(run, r, GATHER_FAIL_NETLINK, err);
		}
	}

	const char *root = req->net_root ? req->net_root
			   : req->proc_root ? req->proc_root : "/proc";
	int nl_r = r;
	struct procnet_request pr = {
		.proc_root = root,
		.proto = run->step.proto,
		.family = run->step.fam->af,
		.states = req->states,
		.v6only = run->v6only,
		.tap = req->tap,
	};
	r = procnet_read(&pr, on_proc, run);
	if (run->sink_err || run->own_err)
		return failed(run, r, GATHER_FAIL_SINK, err);
	/*
	 * Neither source knows the protocol (a kernel built without UDP-Lite
	 * or IPv6): it has no sockets, which is not an error when the user
	 * merely asked for everything.
	 */
	if (r == -ENOENT && req->source == SOURCE_AUTO && kernel_lacks(nl_r) && have_net_dir(root))
		return 0;
	if (r < 0)
		return failed(run, r, run->step.fam->procfile ? GATHER_FAIL_PROCNET
							     : GATHER_FAIL_NETLINK, err);
	return r;
}

int gather_run(const struct gather_request *req, sock_sink_fn sink, void *arg,
	       struct gather_error *err)
{
	/* The run holds buffers too big for a comfortable stack frame. */
	struct run *run = calloc(1, sizeof(*run));
	if (!run) {
		if (err)
			*err = (struct gather_error){.kind = GATHER_FAIL_NOMEM};
		return -ENOMEM;
	}
	run->req = req;
	run->sink = sink;
	run->arg = arg;
	run->seen = (struct u64map)U64SET_INIT;

	int r = 0;
	for (int p = 0; p < PROTO_COUNT && r == 0; p++) {
		const struct proto_desc *d = proto_get((enum proto)p);
		if (!(req->protos & PROTO_BIT(p)))
			continue;
		for (size_t i = 0; i < PROTO_FAMILIES_MAX && d->families[i].af && r == 0; i++) {
			const struct proto_family *f = &d->families[i];
			if (!(req->families & f->fam))
				continue;
			run->step = (struct step){(enum proto)p, d, f};
			if (f->af == AF_INET6)
				read_v6only(run);
			r = run_step(run, err);
		}
	}

	nl_destroy(run->nl);
	u64map_finish(&run->seen);
	free(run);
	return r;
}
