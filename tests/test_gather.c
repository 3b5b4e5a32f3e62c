/* For the Linux and GNU calls test helpers use (unshare, setns, pipe2, ...), beyond POSIX. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "filter.h"
#include "gather.h"
#include "netns.h"
#include "nl.h"
#include "fakekernel.h"
#include "socklist.h"

#define PROC_FIXTURE TEST_DATA "/gather/proc"

/* The fake kernel answers each request through the current test's script. */
static struct fake_kernel fake;
static struct nl_transport fake_nl;

/* What the sink saw, deep-copied. */
struct got {
	struct socklist l;
	int calls;
	int stop_at; /* return -ECANCELED on this call (1-based); 0: never */
};

static int sink(void *arg, const struct sock *s)
{
	struct got *g = arg;
	g->calls++;
	if (g->stop_at && g->calls == g->stop_at)
		return -ECANCELED;
	return socklist_add(&g->l, s);
}

static int setup(void **state)
{
	fake_reset(&fake);
	fake_nl = fake_transport(&fake);
	struct got *g = calloc(1, sizeof(*g));
	socklist_init(&g->l);
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	struct got *g = *state;
	socklist_finish(&g->l);
	free(g);
	return 0;
}

static struct gather_request base_req(enum gather_source src)
{
	return (struct gather_request){
		.protos = PROTO_ALL,
		.families = FAM_ALL,
		.states = STATES_ALL,
		.source = src,
		.proc_root = PROC_FIXTURE,
		.transport = &fake_nl,
	};
}

static size_t count_proto(const struct got *g, enum proto p, int family)
{
	size_t n = 0;
	for (size_t i = 0; i < g->l.len; i++)
		n += g->l.v[i].proto == p && g->l.v[i].family == family;
	return n;
}

static const struct sock *find_cookie(const struct got *g, uint64_t cookie)
{
	const struct sock *found = NULL;
	for (size_t i = 0; i < g->l.len; i++) {
		if (g->l.v[i].cookie == cookie) {
			assert_null(found); /* never twice */
			found = &g->l.v[i];
		}
	}
	return found;
}

/*
 * A kernel like this machine's: TCP answered by netlink, no raw_diag, and
 * (here) no udp, unix or packet diag either, so those come from /proc.
 */
static void script_no_raw(struct fake_kernel *f, const struct fake_request *r, int attempt)
{
	uint32_t seq = r->seq;
	(void)attempt;
	struct fake_dgram *d = fake_dgram(f);
	if (r->protocol != IPPROTO_TCP) {
		fake_put_error(d, seq, -ENOENT);
		return;
	}
	uint32_t base = r->family == AF_INET ? 10 : 20;
	fake_put_inet(d, seq, r->family, SS_LISTEN, 22, base + 1, 0);
	fake_put_inet(d, seq, r->family, SS_ESTABLISHED, 22, base + 2, 0);
	fake_put_done(fake_dgram(f), seq, 0);
}

static void test_fallback_raw(void **state)
{
	struct got *g = *state;
	fake.script = script_no_raw;
	struct gather_request req = base_req(SOURCE_AUTO);
	req.protos = PROTO_BIT(PROTO_TCP) | PROTO_BIT(PROTO_RAW);
	struct gather_error err = {0};
	assert_int_equal(gather_run(&req, sink, g, &err), 0);

	/* TCP from netlink: the fixture's TCP sockets would carry no cookie. */
	assert_int_equal(count_proto(g, PROTO_TCP, AF_INET), 2);
	assert_int_equal(count_proto(g, PROTO_TCP, AF_INET6), 2);
	assert_non_null(find_cookie(g, 11));
	assert_non_null(find_cookie(g, 22));
	/* RAW from the fixture's /proc/net/raw and raw6: port = protocol. */
	assert_int_equal(count_proto(g, PROTO_RAW, AF_INET), 1);
	assert_int_equal(count_proto(g, PROTO_RAW, AF_INET6), 1);
	for (size_t i = 0; i < g->l.len; i++) {
		const struct sock *s = &g->l.v[i];
		if (s->proto != PROTO_RAW)
			continue;
		assert_int_equal(s->local.port, s->family == AF_INET ? 1 : 58);
		assert_int_equal(s->inode, s->family == AF_INET ? 363560 : 363561);
		assert_int_equal(s->cookie, 0);
	}
	/* One socket for all four requests, asked in table order. */
	assert_int_equal(fake.nlog, 4);
	assert_int_equal(fake.log[0].protocol, IPPROTO_TCP);
	assert_int_equal(fake.log[0].family, AF_INET);
	assert_int_equal(fake.log[1].family, AF_INET6);
	assert_int_equal(fake.log[2].protocol, IPPROTO_RAW);
	assert_int_equal(fake.log[3].protocol, IPPROTO_RAW);
}

static void test_fallback_all_protos(void **state)
{
	struct got *g = *state;
	fake.script = script_no_raw;
	struct gather_request req = base_req(SOURCE_AUTO);
	struct gather_error err = {0};
	assert_int_equal(gather_run(&req, sink, g, &err), 0);
	assert_int_equal(count_proto(g, PROTO_UDP, AF_INET), 1);
	assert_int_equal(count_proto(g, PROTO_UDP, AF_INET6), 1);
	assert_int_equal(count_proto(g, PROTO_UDPLITE, AF_INET), 0);
	assert_int_equal(count_proto(g, PROTO_UNIX, AF_UNIX), 1);
	assert_int_equal(count_proto(g, PROTO_PACKET, AF_PACKET), 1);
	for (size_t i = 0; i < g->l.len; i++) {
		const struct sock *s = &g->l.v[i];
		if (s->proto == PROTO_UNIX) {
			assert_int_equal(s->path_len, strlen("@sockstat-fixture"));
			assert_memory_equal(s->path, "\0sockstat-fixture", s->path_len);
			assert_int_equal(s->state, SS_LISTEN);
		}
	}
}

static void test_source_netlink_error(void **state)
{
	struct got *g = *state;
	fake.script = script_no_raw;
	struct gather_request req = base_req(SOURCE_NETLINK);
	req.protos = PROTO_BIT(PROTO_TCP) | PROTO_BIT(PROTO_RAW) | PROTO_BIT(PROTO_UNIX);
	struct gather_error err = {.proto = PROTO_COUNT};
	assert_int_equal(gather_run(&req, sink, g, &err), -ENOENT);
	assert_int_equal(err.proto, PROTO_RAW);
	assert_int_equal(err.kind, GATHER_FAIL_NETLINK);
	/* TCP came first and was delivered; nothing was read from /proc. */
	assert_int_equal(g->l.len, 4);
	assert_int_equal(count_proto(g, PROTO_RAW, AF_INET), 0);
	/* It stopped at the first failure: raw6 and unix were never asked. */
	assert_int_equal(fake.nlog, 3);
}

static void script_never(struct fake_kernel *f, const struct fake_request *r, int attempt)
{
	uint32_t seq = r->seq;
	(void)f;
	(void)r;
	(void)seq;
	(void)attempt;
	fail_msg("netlink asked with --source proc");
}

static void test_source_proc(void **state)
{
	struct got *g = *state;
	fake.script = script_never;
	struct gather_request req = base_req(SOURCE_PROC);
	req.protos = PROTO_BIT(PROTO_TCP);
	struct gather_error err = {0};
	assert_int_equal(gather_run(&req, sink, g, &err), 0);
	assert_int_equal(fake.nlog, 0);
	assert_int_equal(count_proto(g, PROTO_TCP, AF_INET), 3);
	assert_int_equal(count_proto(g, PROTO_TCP, AF_INET6), 1);
	const struct sock *l = &g->l.v[0];
	assert_int_equal(l->state, SS_LISTEN);
	assert_int_equal(l->local.port, 8080);
	assert_memory_equal(l->local.addr, "\x7f\0\0\x01", 4);
	assert_int_equal(l->inode, 363554);
	assert_int_equal(g->l.v[1].state, SS_ESTABLISHED);
	assert_int_equal(g->l.v[1].peer.port, 8080);

	/* A missing /proc file is an error that names the file. */
	socklist_finish(&g->l);
	socklist_init(&g->l);
	req.proc_root = TEST_DATA "/gather/no-such-proc";
	assert_int_equal(gather_run(&req, sink, g, &err), -ENOENT);
	assert_int_equal(err.proto, PROTO_TCP);
	assert_int_equal(err.kind, GATHER_FAIL_PROCNET);
	assert_string_equal(err.file, "/proc/net/tcp");
	assert_int_equal(g->l.len, 0);
}

/*
 * The first two dumps are interrupted: they repeat and miss sockets, as a
 * dump racing with the hash tables does. The third is clean.
 */
static void script_intr(struct fake_kernel *f, const struct fake_request *r, int attempt)
{
	uint32_t seq = r->seq;
	struct fake_dgram *d = fake_dgram(f);
	if (r->protocol != IPPROTO_TCP || r->family != AF_INET) {
		fake_put_done(d, seq, 0);
		return;
	}
	if (attempt == 0) {
		fake_put_inet(d, seq, AF_INET, SS_ESTABLISHED, 1, 1, 0);
		fake_put_inet(d, seq, AF_INET, SS_ESTABLISHED, 2, 2, NLM_F_DUMP_INTR);
		fake_put_inet(d, seq, AF_INET, SS_ESTABLISHED, 2, 2, 0); /* moved bucket */
		fake_put_done(fake_dgram(f), seq, 0);
	} else if (attempt == 1) {
		fake_put_inet(d, seq, AF_INET, SS_ESTABLISHED, 3, 3, NLM_F_DUMP_INTR);
		fake_put_done(d, seq, 0);
	} else {
		for (uint32_t c = 1; c <= 5; c++)
			fake_put_inet(d, seq, AF_INET, SS_ESTABLISHED, (uint16_t)c, c, 0);
		fake_put_done(fake_dgram(f), seq, 0);
	}
}

static void test_dump_intr(void **state)
{
	struct got *g = *state;
	fake.script = script_intr;
	struct gather_request req = base_req(SOURCE_NETLINK);
	req.protos = PROTO_BIT(PROTO_TCP);
	req.families = FAM_INET;
	struct gather_error err = {0};
	assert_int_equal(gather_run(&req, sink, g, &err), 0);
	assert_int_equal(g->l.len, 5);
	for (uint32_t c = 1; c <= 5; c++)
		assert_non_null(find_cookie(g, c));
	assert_int_equal(fake.nlog, 3);
}

static void script_always_intr(struct fake_kernel *f, const struct fake_request *r, int attempt)
{
	uint32_t seq = r->seq;
	(void)r;
	struct fake_dgram *d = fake_dgram(f);
	fake_put_inet(d, seq, r->family, SS_ESTABLISHED, 1, 100 + (uint32_t)attempt, NLM_F_DUMP_INTR);
	fake_put_done(d, seq, 0);
}

static void test_dump_intr_bounded(void **state)
{
	struct got *g = *state;
	fake.script = script_always_intr;
	struct gather_request req = base_req(SOURCE_NETLINK);
	req.protos = PROTO_BIT(PROTO_TCP);
	req.families = FAM_INET;
	struct gather_error err = {0};
	/* Retried a few times, then what was seen is what we report. */
	assert_int_equal(gather_run(&req, sink, g, &err), 0);
	assert_true(fake.nlog >= 2 && fake.nlog <= 5);
	assert_int_equal(g->l.len, (size_t)fake.nlog);
}

/* The socket buffer overflows once in the middle of the dump. */
static void script_enobufs(struct fake_kernel *f, const struct fake_request *r, int attempt)
{
	uint32_t seq = r->seq;
	(void)r;
	struct fake_dgram *d = fake_dgram(f);
	fake_put_inet(d, seq, AF_INET, SS_ESTABLISHED, 1, 1, 0);
	fake_put_inet(d, seq, AF_INET, SS_ESTABLISHED, 2, 2, 0);
	if (attempt == 0) {
		fake_recv_error(f, -ENOBUFS); /* the socket buffer overflowed */
		return;
	}
	fake_put_inet(d, seq, AF_INET, SS_ESTABLISHED, 3, 3, 0);
	fake_put_done(d, seq, 0);
}

static void test_enobufs_retried(void **state)
{
	struct got *g = *state;
	fake.script = script_enobufs;
	struct gather_request req = base_req(SOURCE_NETLINK);
	req.protos = PROTO_BIT(PROTO_TCP);
	req.families = FAM_INET;
	struct gather_error err = {0};
	assert_int_equal(gather_run(&req, sink, g, &err), 0);
	assert_int_equal(g->l.len, 3);
	for (uint32_t c = 1; c <= 3; c++)
		assert_non_null(find_cookie(g, c));
}

/* Every state, whatever was asked: the kernel is not trusted blindly. */
static void script_all_states(struct fake_kernel *f, const struct fake_request *r, int attempt)
{
	uint32_t seq = r->seq;
	(void)attempt;
	struct fake_dgram *d = fake_dgram(f);
	if (r->family != AF_INET && r->family != AF_INET6) {
		fake_put_error(d, seq, -EOPNOTSUPP);
		return;
	}
	fake_put_inet(d, seq, r->family, SS_LISTEN, 1, 1, 0);
	fake_put_inet(d, seq, r->family, SS_ESTABLISHED, 2, 2, 0);
	fake_put_inet(d, seq, r->family, SS_TIME_WAIT, 3, 3, 0);
	/* A reply of the wrong family for this request. */
	fake_put_inet(d, seq, r->family == AF_INET ? AF_INET6 : AF_INET, SS_LISTEN, 4, 4, 0);
	fake_put_done(d, seq, 0);
}

static void test_families_states(void **state)
{
	struct got *g = *state;
	fake.script = script_all_states;
	struct gather_request req = base_req(SOURCE_NETLINK);
	req.protos = PROTO_BIT(PROTO_TCP) | PROTO_BIT(PROTO_UDP);
	req.families = FAM_INET6;
	req.states = STATE_BIT(SS_LISTEN) | STATE_BIT(SS_TIME_WAIT);
	req.want_info = true;
	struct gather_error err = {0};
	assert_int_equal(gather_run(&req, sink, g, &err), 0);
	/* Only AF_INET6 requests, carrying the state mask. */
	assert_int_equal(fake.nlog, 2);
	for (int i = 0; i < fake.nlog; i++) {
		assert_int_equal(fake.log[i].family, AF_INET6);
		assert_int_equal(fake.log[i].states, req.states);
	}
	assert_int_equal(fake.log[0].protocol, IPPROTO_TCP);
	assert_true(fake.log[0].ext & (1 << (INET_DIAG_INFO - 1)));
	assert_int_equal(fake.log[1].protocol, IPPROTO_UDP);
	assert_int_equal(g->l.len, 4);
	for (size_t i = 0; i < g->l.len; i++) {
		assert_int_equal(g->l.v[i].family, AF_INET6);
		assert_int_not_equal(g->l.v[i].state, SS_ESTABLISHED);
	}

	/* No family selected for a protocol: nothing is asked at all. */
	socklist_finish(&g->l);
	socklist_init(&g->l);
	fake.nlog = 0;
	req.protos = PROTO_BIT(PROTO_UNIX);
	assert_int_equal(gather_run(&req, sink, g, &err), 0);
	assert_int_equal(fake.nlog, 0);
	assert_int_equal(g->l.len, 0);
}

/* A dump that fails after it has delivered must not fall back to /proc. */
static void script_fail_midway(struct fake_kernel *f, const struct fake_request *r, int attempt)
{
	uint32_t seq = r->seq;
	(void)attempt;
	struct fake_dgram *d = fake_dgram(f);
	fake_put_inet(d, seq, r->family, SS_ESTABLISHED, 1, 1, 0);
	fake_put_done(d, seq, -ENOMEM);
}

static void test_no_fallback_after_partial(void **state)
{
	struct got *g = *state;
	fake.script = script_fail_midway;
	struct gather_request req = base_req(SOURCE_AUTO);
	req.protos = PROTO_BIT(PROTO_TCP);
	req.families = FAM_INET;
	struct gather_error err = {0};
	assert_int_equal(gather_run(&req, sink, g, &err), -ENOMEM);
	assert_int_equal(err.proto, PROTO_TCP);
	assert_int_equal(err.kind, GATHER_FAIL_NETLINK);
	assert_int_equal(g->l.len, 1);
}

static void test_sink_error(void **state)
{
	struct got *g = *state;
	fake.script = script_all_states;
	g->stop_at = 2;
	struct gather_request req = base_req(SOURCE_AUTO);
	struct gather_error err = {.proto = PROTO_COUNT};
	assert_int_equal(gather_run(&req, sink, g, &err), -ECANCELED);
	assert_int_equal(g->calls, 2);
	/* The sink's error is its own, not a source failure. */
	assert_int_equal(err.kind, GATHER_FAIL_SINK);

	/* The same through the /proc path. */
	g->calls = 0;
	req.source = SOURCE_PROC;
	err.kind = GATHER_FAIL_NETLINK;
	assert_int_equal(gather_run(&req, sink, g, &err), -ECANCELED);
	assert_int_equal(g->calls, 2);
	assert_int_equal(err.kind, GATHER_FAIL_SINK);
}

/* The kernel refuses the bytecode the first time; it must be asked again without. */
static void script_reject_bytecode(struct fake_kernel *f, const struct fake_request *r, int attempt)
{
	uint32_t seq = r->seq;
	(void)attempt;
	struct fake_dgram *d = fake_dgram(f);
	if (r->bytecode) {
		fake_put_error(d, seq, -EINVAL);
		return;
	}
	fake_put_inet(d, seq, r->family, SS_LISTEN, 22, 1, 0);
	fake_put_inet(d, seq, r->family, SS_LISTEN, 80, 2, 0);
	fake_put_done(d, seq, 0);
}

static void script_accept_bytecode(struct fake_kernel *f, const struct fake_request *r, int attempt)
{
	uint32_t seq = r->seq;
	(void)attempt;
	struct fake_dgram *d = fake_dgram(f);
	if (r->bytecode)
		fake_put_inet(d, seq, r->family, SS_LISTEN, 22, 1, 0);
	fake_put_done(d, seq, 0);
}

static void test_bytecode_pushdown(void **state)
{
	struct got *g = *state;
	const char *words[] = {"sport", "=", ":22"};
	struct filter *flt = NULL;
	struct filter_error ferr;
	assert_int_equal(filter_parse(3, words, NULL, &flt, &ferr), 0);
	assert_non_null(flt);

	struct gather_request req = base_req(SOURCE_NETLINK);
	req.protos = PROTO_BIT(PROTO_TCP);
	req.families = FAM_INET;
	req.filter = flt;
	struct gather_error err = {0};
	fake.script = script_accept_bytecode;
	assert_int_equal(gather_run(&req, sink, g, &err), 0);
	assert_int_equal(fake.nlog, 1);
	assert_true(fake.log[0].bytecode);
	assert_int_equal(g->l.len, 1);

	/* Rejected: asked again without, and everything comes back (user space filters). */
	socklist_finish(&g->l);
	socklist_init(&g->l);
	fake_reset(&fake);
	fake.script = script_reject_bytecode;
	assert_int_equal(gather_run(&req, sink, g, &err), 0);
	assert_int_equal(fake.nlog, 2);
	assert_true(fake.log[0].bytecode);
	assert_false(fake.log[1].bytecode);
	assert_int_equal(g->l.len, 2);

	/* UNIX is never sent inet bytecode. */
	fake_reset(&fake);
	fake.script = script_accept_bytecode;
	req.protos = PROTO_BIT(PROTO_UNIX);
	req.families = FAM_UNIX;
	assert_int_equal(gather_run(&req, sink, g, &err), 0);
	assert_int_equal(fake.nlog, 1);
	assert_false(fake.log[0].bytecode);
	filter_destroy(flt);
}

static void script_nothing(struct fake_kernel *f, const struct fake_request *r, int attempt)
{
	uint32_t seq = r->seq;
	(void)r;
	(void)attempt;
	fake_put_error(fake_dgram(f), seq, -ENOENT);
}

static void test_protocol_absent(void **state)
{
	struct got *g = *state;
	fake.script = script_nothing;
	/* A /proc whose kernel has TCP but no UDP-Lite at all. */
	struct gather_request req = base_req(SOURCE_AUTO);
	req.proc_root = TEST_DATA "/gather/proc-partial";
	req.protos = PROTO_BIT(PROTO_TCP) | PROTO_BIT(PROTO_UDPLITE);
	req.families = FAM_INET;
	struct gather_error err = {.proto = PROTO_COUNT};
	assert_int_equal(gather_run(&req, sink, g, &err), 0);
	assert_int_equal(count_proto(g, PROTO_TCP, AF_INET), 3);
	assert_int_equal(err.proto, PROTO_COUNT);

	/* Asked for /proc explicitly, the missing file is reported. */
	req.source = SOURCE_PROC;
	assert_int_equal(gather_run(&req, sink, g, &err), -ENOENT);
	assert_int_equal(err.proto, PROTO_UDPLITE);
	assert_int_equal(err.kind, GATHER_FAIL_PROCNET);
	assert_string_equal(err.file, "/proc/net/udplite");

	/* No /proc at all is an error even in auto mode. */
	req.source = SOURCE_AUTO;
	req.proc_root = TEST_DATA "/gather/no-such-proc";
	assert_int_equal(gather_run(&req, sink, g, &err), -ENOENT);
	assert_int_equal(err.proto, PROTO_TCP);
}

/* No netlink at all (socket cannot be opened): /proc serves everything. */
static ssize_t send_fails(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return -EPROTONOSUPPORT;
}

static void test_transport_down(void **state)
{
	struct got *g = *state;
	struct nl_transport t = {send_fails, fake_recv, &fake};
	struct gather_request req = base_req(SOURCE_AUTO);
	req.transport = &t;
	req.protos = PROTO_BIT(PROTO_TCP) | PROTO_BIT(PROTO_UDP);
	struct gather_error err = {0};
	assert_int_equal(gather_run(&req, sink, g, &err), 0);
	assert_int_equal(count_proto(g, PROTO_TCP, AF_INET), 3);
	assert_int_equal(count_proto(g, PROTO_UDP, AF_INET6), 1);
}

/*
 * Two full inet6 listeners say whether they are v6-only; a TIME_WAIT
 * socket, which inet_diag describes without INET_DIAG_SKV6ONLY, does not.
 */
static void script_v6only(struct fake_kernel *f, const struct fake_request *r, int attempt)
{
	(void)attempt;
	struct fake_dgram *d = fake_dgram(f);
	if (r->family == AF_INET6) {
		uint8_t on = 1, off = 0;
		struct nlmsghdr *nlh = fake_put_inet(d, r->seq, AF_INET6, SS_LISTEN, 9090, 1, 0);
		fake_put_attr(d, nlh, INET_DIAG_SKV6ONLY, &on, 1);
		nlh = fake_put_inet(d, r->seq, AF_INET6, SS_LISTEN, 9091, 2, 0);
		fake_put_attr(d, nlh, INET_DIAG_SKV6ONLY, &off, 1);
		fake_put_inet(d, r->seq, AF_INET6, SS_TIME_WAIT, 9092, 3, 0);
	} else {
		fake_put_inet(d, r->seq, AF_INET, SS_LISTEN, 9093, 4, 0);
	}
	fake_put_done(d, r->seq, 0);
}

static void test_v6only(void **state)
{
	struct got *g = *state;
	fake.script = script_v6only;
	struct gather_request req = base_req(SOURCE_NETLINK);
	req.protos = PROTO_BIT(PROTO_TCP);
	/* A namespace whose net.ipv6.bindv6only is 1. */
	req.proc_root = TEST_DATA "/proto/proc";
	struct gather_error err = {0};
	assert_int_equal(gather_run(&req, sink, g, &err), 0);
	assert_int_equal(g->l.len, 4);
	assert_false(find_cookie(g, 4)->v6only);
	assert_true(find_cookie(g, 1)->v6only);
	assert_false(find_cookie(g, 2)->v6only);
	/* Without the socket's own word, the system default stands in. */
	assert_true(find_cookie(g, 3)->v6only);

	/* The default is off where the file is missing (no IPv6 sysctl). */
	socklist_finish(&g->l);
	socklist_init(&g->l);
	req.proc_root = PROC_FIXTURE;
	assert_int_equal(gather_run(&req, sink, g, &err), 0);
	assert_true(find_cookie(g, 1)->v6only);
	assert_false(find_cookie(g, 3)->v6only);

	/* /proc/net carries no v6only at all: every inet6 socket gets the default. */
	for (int on = 0; on <= 1; on++) {
		socklist_finish(&g->l);
		socklist_init(&g->l);
		req.source = SOURCE_PROC;
		req.proc_root = on ? TEST_DATA "/proto/proc" : PROC_FIXTURE;
		assert_int_equal(gather_run(&req, sink, g, &err), 0);
		assert_int_equal(count_proto(g, PROTO_TCP, AF_INET6), 1);
		for (size_t i = 0; i < g->l.len; i++)
			assert_int_equal(g->l.v[i].v6only, g->l.v[i].family == AF_INET6 && on);
	}
}

/*
 * A dump recorded from the kernel (tests/data/diag/tcp6-v6only.bin): a
 * v6-only listener on [::]:9090 and a dual-stack one on [::]:9091, with the
 * INET_DIAG_SKV6ONLY the kernel sends unasked. Replayed with each message's
 * sequence set to the request's.
 */
static void script_recorded(struct fake_kernel *f, const struct fake_request *r, int attempt)
{
	(void)attempt;
	struct fake_dgram *d = fake_dgram(f);
	if (r->family != AF_INET6) {
		fake_put_done(d, r->seq, 0);
		return;
	}
	FILE *in = fopen(TEST_DATA "/diag/tcp6-v6only.bin", "rb");
	assert_non_null(in);
	d->len = fread(d->d.b, 1, sizeof(d->d.b), in);
	fclose(in);
	for (size_t off = 0; off + NLMSG_HDRLEN <= d->len;) {
		struct nlmsghdr *nlh = (void *)(d->d.b + off);
		assert_true(nlh->nlmsg_len >= NLMSG_HDRLEN);
		nlh->nlmsg_seq = r->seq;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
}

static void test_recorded_v6only(void **state)
{
	struct got *g = *state;
	fake.script = script_recorded;
	struct gather_request req = base_req(SOURCE_NETLINK);
	req.protos = PROTO_BIT(PROTO_TCP);
	struct gather_error err = {0};
	assert_int_equal(gather_run(&req, sink, g, &err), 0);
	assert_int_equal(g->l.len, 2);
	for (size_t i = 0; i < g->l.len; i++) {
		const struct sock *s = &g->l.v[i];
		assert_int_equal(s->family, AF_INET6);
		assert_int_equal(s->state, SS_LISTEN);
		assert_true(s->local.port == 9090 || s->local.port == 9091);
		assert_int_equal(s->v6only, s->local.port == 9090);
	}
}

/*
 * Live: in a private network namespace, the same sockets through netlink
 * and through /proc must give the same inet records. Runs in a forked
 * child (unshare affects the whole process), which reports by exit code.
 */
#define CHECK(cond)                                                                    \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "live check failed: %s (line %d)\n", #cond,    \
				__LINE__);                                             \
			return 1;                                                      \
		}                                                                      \
	} while (0)

static bool same_inet(const struct sock *a, const struct sock *b)
{
	return a->proto == b->proto && a->family == b->family && a->state == b->state &&
	       a->local.port == b->local.port && a->peer.port == b->peer.port &&
	       memcmp(a->local.addr, b->local.addr, 16) == 0 &&
	       memcmp(a->peer.addr, b->peer.addr, 16) == 0 && a->inode == b->inode &&
	       a->uid == b->uid && a->has_uid == b->has_uid;
}

static int live_child(void)
{
	CHECK(netns_enter() == 0);

	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t slen = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(l >= 0 && bind(l, (void *)&sin, sizeof(sin)) == 0 && listen(l, 8) == 0);
	CHECK(getsockname(l, (void *)&sin, &slen) == 0);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(c >= 0 && connect(c, (void *)&sin, sizeof(sin)) == 0);
	int a = accept(l, NULL, NULL);
	CHECK(a >= 0);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	sin.sin_port = 0;
	CHECK(u >= 0 && bind(u, (void *)&sin, sizeof(sin)) == 0);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	memcpy(sun.sun_path, "\0sockstat-live", 14);
	int x = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(x >= 0 && bind(x, (void *)&sun, offsetof(struct sockaddr_un, sun_path) + 14) == 0);
	CHECK(listen(x, 1) == 0);

	struct gather_request req = {
		.protos = PROTO_BIT(PROTO_TCP) | PROTO_BIT(PROTO_UDP) | PROTO_BIT(PROTO_UNIX),
		.families = FAM_INET | FAM_UNIX,
		.states = STATES_ALL,
		.source = SOURCE_NETLINK,
		.proc_root = "/proc",
	};
	struct got nl = {0}, proc = {0};
	socklist_init(&nl.l);
	socklist_init(&proc.l);
	struct gather_error err;
	CHECK(gather_run(&req, sink, &nl, &err) == 0);
	req.source = SOURCE_PROC;
	CHECK(gather_run(&req, sink, &proc, &err) == 0);

	/* 3 TCP + 1 UDP + our UNIX listener (the namespace has no other). */
	size_t inet = 0;
	for (size_t i = 0; i < nl.l.len; i++)
		inet += nl.l.v[i].family == AF_INET;
	CHECK(inet == 4);
	bool saw_unix = false;
	for (size_t i = 0; i < nl.l.len; i++) {
		const struct sock *s = &nl.l.v[i];
		CHECK(s->cookie != 0);
		if (s->family == AF_UNIX) {
			if (s->path_len == 14 && memcmp(s->path, "\0sockstat-live", 14) == 0) {
				CHECK(s->state == SS_LISTEN);
				saw_unix = true;
			}
			/* /proc/net/unix has no uid or queues, but the rest agrees. */
			bool match = false;
			for (size_t j = 0; j < proc.l.len && !match; j++) {
				const struct sock *p = &proc.l.v[j];
				match = p->inode == s->inode && p->state == s->state &&
					p->type == s->type && p->path_len == s->path_len &&
					memcmp(p->path, s->path, s->path_len) == 0;
			}
			CHECK(match);
			continue;
		}
		bool match = false;
		for (size_t j = 0; j < proc.l.len && !match; j++)
			match = same_inet(s, &proc.l.v[j]);
		CHECK(match);
	}
	CHECK(saw_unix);
	size_t proc_inet = 0;
	for (size_t i = 0; i < proc.l.len; i++)
		proc_inet += proc.l.v[i].family == AF_INET;
	CHECK(proc_inet == inet);

	/* -i: the kernel's tcp_info arrives for TCP sockets, and only then. */
	struct got info = {0};
	socklist_init(&info.l);
	req.source = SOURCE_NETLINK;
	req.protos = PROTO_BIT(PROTO_TCP) | PROTO_BIT(PROTO_UDP);
	req.want_info = true;
	req.want_mem = true;
	CHECK(gather_run(&req, sink, &info, &err) == 0);
	CHECK(info.l.len == 4);
	for (size_t i = 0; i < info.l.len; i++) {
		const struct sock *s = &info.l.v[i];
		CHECK(s->mem && s->mem->count >= 4 && s->mem->v[1] > 0); /* rcvbuf */
		if (s->proto == PROTO_UDP) {
			CHECK(s->info == NULL);
			continue;
		}
		CHECK(s->info && s->info->cong[0] != '\0');
		if (s->state == SS_ESTABLISHED)
			CHECK(s->info->snd_mss > 0 && s->info->snd_cwnd > 0);
	}
	socklist_finish(&info.l);
	req.want_info = false;
	req.want_mem = false;

	/*
	 * RAW through the default source: netlink if the kernel has
	 * raw_diag, /proc/net/raw if not (this machine); the same row.
	 */
	int r = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	CHECK(r >= 0);
	struct got raw = {0};
	socklist_init(&raw.l);
	req.source = SOURCE_AUTO;
	req.protos = PROTO_BIT(PROTO_RAW);
	req.families = FAM_INET;
	CHECK(gather_run(&req, sink, &raw, &err) == 0);
	CHECK(raw.l.len == 1);
	CHECK(raw.l.v[0].local.port == IPPROTO_ICMP);
	CHECK(raw.l.v[0].state == SS_CLOSE);
	CHECK(raw.l.v[0].has_uid && raw.l.v[0].uid == 0);
	socklist_finish(&raw.l);
	close(r);

	socklist_finish(&nl.l);
	socklist_finish(&proc.l);
	close(x);
	close(u);
	close(a);
	close(c);
	close(l);
	return 0;
}

static void test_live_netns(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		printf("skipping: needs root for a private network namespace\n");
		skip();
	}
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(live_child());
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* A listener on [::]:port, v6-only or not; returns its fd or -1. */
static int listen6(uint16_t port, int v6only)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	if (fd < 0)
		return -1;
	if (v6only >= 0 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) != 0)
		return -1;
	if (bind(fd, (void *)&a, sizeof(a)) != 0 || listen(fd, 4) != 0)
		return -1;
	return fd;
}

static const struct sock *find_port(const struct got *g, uint16_t port)
{
	for (size_t i = 0; i < g->l.len; i++)
		if (g->l.v[i].local.port == port)
			return &g->l.v[i];
	return NULL;
}

/* Writes the namespace's net.ipv6.bindv6only (private to the child's netns). */
static int set_bindv6only(const char *v)
{
	FILE *f = fopen("/proc/sys/net/ipv6/bindv6only", "w");
	if (!f)
		return -1;
	int r = fputs(v, f) < 0;
	return fclose(f) != 0 || r ? -1 : 0;
}

/* The real kernel: netlink knows each socket's v6only, /proc the default. */
static int live_v6only_child(void)
{
	CHECK(netns_enter() == 0);
	CHECK(set_bindv6only("0\n") == 0);
	int only = listen6(9090, 1), dual = listen6(9091, 0);
	CHECK(only >= 0 && dual >= 0);
	struct gather_request req = {
		.protos = PROTO_BIT(PROTO_TCP),
		.families = FAM_INET6,
		.states = STATES_ALL,
		.source = SOURCE_NETLINK,
		.proc_root = "/proc",
	};
	struct got nl = {0}, proc = {0};
	socklist_init(&nl.l);
	socklist_init(&proc.l);
	struct gather_error err;
	CHECK(gather_run(&req, sink, &nl, &err) == 0);
	CHECK(nl.l.len == 2);
	CHECK(find_port(&nl, 9090)->v6only);
	CHECK(!find_port(&nl, 9091)->v6only);
	req.source = SOURCE_PROC;
	CHECK(gather_run(&req, sink, &proc, &err) == 0);
	CHECK(proc.l.len == 2 && !proc.l.v[0].v6only && !proc.l.v[1].v6only);

	/* With the default on, a socket that says nothing is v6-only in both. */
	CHECK(set_bindv6only("1\n") == 0);
	int dflt = listen6(9092, -1);
	CHECK(dflt >= 0);
	socklist_finish(&nl.l);
	socklist_finish(&proc.l);
	socklist_init(&nl.l);
	socklist_init(&proc.l);
	CHECK(gather_run(&req, sink, &proc, &err) == 0);
	req.source = SOURCE_NETLINK;
	CHECK(gather_run(&req, sink, &nl, &err) == 0);
	CHECK(find_port(&nl, 9092)->v6only && find_port(&proc, 9092)->v6only);
	CHECK(!find_port(&nl, 9091)->v6only);
	socklist_finish(&nl.l);
	socklist_finish(&proc.l);
	close(dflt);
	close(dual);
	close(only);
	return 0;
}

static void test_live_v6only(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		printf("skipping: needs root for a private network namespace\n");
		skip();
	}
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(live_v6only_child());
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fallback_raw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_all_protos, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_netlink_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_proc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_intr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_intr_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enobufs_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_families_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_fallback_after_partial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sink_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transport_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protocol_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bytecode_pushdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v6only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recorded_v6only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_v6only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_netns, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
