/*
 * Tests for --record and --replay: a conversation recorded through the
 * observer and tap comes back through the replay transport and tap, and a
 * recording that is cut, of another version or hostile is refused with
 * the offset at fault, never read past its end.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>

#include "diag.h"
#include "fakekernel.h"
#include "gather.h"
#include "record.h"
#include "socklist.h"

/* A recording made from a fake kernel's replies, in memory. */
static struct record rec;

static void script(struct fake_kernel *k, const struct fake_request *r, int attempt)
{
	(void)attempt;
	struct fake_dgram *d = fake_dgram(k);
	if (r->family == AF_INET) {
		fake_put_inet(d, r->seq, AF_INET, SS_LISTEN, 22, 101, 0);
		fake_put_inet(d, r->seq, AF_INET, SS_ESTABLISHED, 22, 102, 0);
	} else if (r->family == AF_NETLINK) {
		fake_put_netlink(d, r->seq, 0, 4242, 9001, 103);
	} else {
		fake_put_error(d, r->seq, -ENOENT);
		return;
	}
	fake_put_done(d, r->seq, 0);
}

static void gather_into(struct gather_request *req, struct socklist *l)
{
	socklist_init(l);
	struct gather_error err;
	assert_int_equal(gather_run(req, socklist_sink, l, &err), 0);
}

/* Records a TCP and a netlink dump from the fake kernel into a buffer. */
static unsigned char *make_recording(size_t *len)
{
	static struct fake_kernel k;
	fake_reset(&k);
	k.script = script;
	struct nl_transport t = fake_transport(&k);
	record_init(&rec);
	struct nl_observer obs = record_observer(&rec);
	struct gather_request req = {
		.protos = PROTO_BIT(PROTO_TCP) | PROTO_BIT(PROTO_NETLINK),
		.families = FAM_INET | FAM_NETLINK,
		.states = STATES_ALL,
		.source = SOURCE_NETLINK,
		.proc_root = TEST_DATA "/proto/proc",
		.transport = &t,
		.observer = &obs,
	};
	struct socklist l;
	gather_into(&req, &l);
	assert_int_equal(l.len, 3);
	socklist_finish(&l);

	/* The /proc text the fallback read goes in too. */
	struct procnet_tap tap = record_tap(&rec);
	tap.saw(tap.ctx, "net/icmp", "hello\n", 6);

	char path[] = "/tmp/sockstat-test-record-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(record_save(&rec, path), 0);
	record_finish(&rec);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	unsigned char *data = malloc(1 << 16);
	assert_non_null(data);
	*len = fread(data, 1, 1 << 16, f);
	fclose(f);
	unlink(path);
	return data;
}

static void test_round_trip(void **state)
{
	(void)state;
	size_t len;
	unsigned char *data = make_recording(&len);
	assert_memory_equal(data, "SSRECORD", 8);
	struct replay rp;
	struct replay_error e;
	assert_int_equal(replay_parse(&rp, data, len, &e), 0);
	struct nl_transport t = replay_transport(&rp);
	struct procnet_tap tap = replay_tap(&rp);

	/* A narrower run (other states, -i) is answered by the same dumps. */
	struct gather_request req = {
		.protos = PROTO_BIT(PROTO_TCP) | PROTO_BIT(PROTO_NETLINK) | PROTO_BIT(PROTO_UDP),
		.families = FAM_INET | FAM_NETLINK,
		.states = STATES_LISTENING,
		.want_info = true,
		.source = SOURCE_AUTO,
		.proc_root = TEST_DATA "/proto/proc",
		.transport = &t,
		.tap = &tap,
	};
	struct socklist l;
	gather_into(&req, &l);
	/* The listener and the netlink socket; UDP was never recorded: none. */
	assert_int_equal(l.len, 2);
	assert_int_equal(l.v[0].proto, PROTO_TCP);
	assert_int_equal(l.v[0].cookie, 101);
	assert_int_equal(l.v[1].proto, PROTO_NETLINK);
	assert_int_equal(l.v[1].nl.portid, 4242);
	socklist_finish(&l);

	struct buf b = BUF_INIT;
	assert_int_equal(tap.read(tap.ctx, "net/icmp", &b), 0);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.p, "hello\n", 6);
	buf_finish(&b);
	assert_int_equal(tap.read(tap.ctx, "net/tcp", &b), -ENOENT);
	buf_finish(&b);
	replay_finish(&rp);
}

/* Every cut of a good recording is refused, at an offset inside it. */
static void test_truncated(void **state)
{
	(void)state;
	size_t len;
	unsigned char *data = make_recording(&len);
	for (size_t n = 0; n < len; n++) {
		unsigned char *cut = malloc(n ? n : 1);
		assert_non_null(cut);
		memcpy(cut, data, n);
		struct replay rp;
		struct replay_error e = {0, NULL};
		assert_int_equal(replay_parse(&rp, cut, n, &e), -EINVAL);
		assert_non_null(e.why);
		assert_true(e.offset <= n);
		free(cut);
	}
	free(data);
}

static void expect_refused(unsigned char *data, size_t len, size_t offset, const char *why)
{
	struct replay rp;
	struct replay_error e = {0, NULL};
	assert_int_equal(replay_parse(&rp, data, len, &e), -EINVAL);
	assert_int_equal(e.offset, offset);
	assert_non_null(strstr(e.why, why));
}

static void put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4); /* the tests run little-endian, as the format is */
}

static void test_hostile(void **state)
{
	(void)state;
	size_t len;
	unsigned char *data = make_recording(&len);
	unsigned char *bad = malloc(len + 64);
	assert_non_null(bad);

	memcpy(bad, data, len);
	bad[0] = 'X';
	expect_refused(bad, len, 0, "not a sockstat recording");
	memcpy(bad, data, len);
	put32(bad + 8, 2);
	expect_refused(bad, len, 8, "another version");
	memcpy(bad, data, len);
	put32(bad + 16, 99);
	expect_refused(bad, len, 16, "unknown record kind");
	memcpy(bad, data, len);
	put32(bad + 20, 0xfffffff0u);
	expect_refused(bad, len, 16, "past the end");
	/* A request shorter than a netlink header. */
	memcpy(bad, data, len);
	put32(bad + 20, 8);
	expect_refused(bad, len, 16, "shorter than a netlink header");
	/* Data after the end record. */
	memcpy(bad, data, len);
	memset(bad + len, 0, 8);
	expect_refused(bad, len + 8, len, "after the end record");

	/* A /proc record whose name escapes, or runs past the record. */
	static const unsigned char head[16] = {'S', 'S', 'R', 'E', 'C', 'O', 'R', 'D', 1};
	unsigned char f[64] = {0};
	memcpy(f, head, 16);
	put32(f + 16, 4);
	put32(f + 20, 8);
	f[24] = 7;
	memcpy(f + 26, "../x\0\0", 6);
	put32(f + 32, 5);
	put32(f + 36, 0);
	expect_refused(f, 40, 16, "runs past its end");
	f[24] = 4;
	expect_refused(f, 40, 16, "bad name");
	memcpy(f + 26, "net/", 4);
	struct replay rp;
	struct replay_error e;
	assert_int_equal(replay_parse(&rp, f, 40, &e), 0);
	/* An error record that holds no errno. */
	put32(f + 16, 3);
	put32(f + 20, 4);
	put32(f + 24, 5);
	put32(f + 28, 5);
	put32(f + 32, 0);
	expect_refused(f, 36, 16, "no errno");

	free(bad);
	free(data);
}

/* Replies get the sequence number of the request they answer, portid 0. */
static void test_renumbered(void **state)
{
	(void)state;
	size_t len;
	unsigned char *data = make_recording(&len);
	struct replay rp;
	struct replay_error e;
	assert_int_equal(replay_parse(&rp, data, len, &e), 0);
	struct nl_transport t = replay_transport(&rp);
	union {
		uint64_t align;
		unsigned char b[512];
	} req, reply;
	struct diag_request dr = {.proto = PROTO_NETLINK, .states = STATES_ALL};
	size_t n = diag_build_request(req.b, sizeof(req.b), &dr, 777);
	assert_int_equal(t.send(t.ctx, req.b, n), (ssize_t)n);
	ssize_t got = t.recv(t.ctx, reply.b, sizeof(reply.b));
	assert_true(got >= (ssize_t)sizeof(struct nlmsghdr));
	const struct nlmsghdr *h = (const void *)reply.b;
	assert_int_equal(h->nlmsg_seq, 777);
	assert_int_equal(h->nlmsg_pid, 0);

	/* A dump the recording does not hold: ENOENT, as from the kernel. */
	dr = (struct diag_request){.proto = PROTO_PACKET};
	n = diag_build_request(req.b, sizeof(req.b), &dr, 778);
	assert_int_equal(t.send(t.ctx, req.b, n), (ssize_t)n);
	got = t.recv(t.ctx, reply.b, sizeof(reply.b));
	assert_int_equal(h->nlmsg_type, NLMSG_ERROR);
	assert_int_equal(h->nlmsg_seq, 778);
	const struct nlmsgerr *err = NLMSG_DATA(h);
	assert_int_equal(err->error, -ENOENT);
	replay_finish(&rp);
}

static void test_load_errors(void **state)
{
	(void)state;
	struct replay rp;
	struct replay_error e;
	assert_int_equal(replay_load(&rp, TEST_DATA "/replay/nonexistent", &e), -ENOENT);
	assert_int_equal(replay_load(&rp, TEST_DATA "/replay/CASES", &e), -EINVAL);
	assert_int_equal(e.offset, 0);
	assert_int_equal(replay_load(&rp, TEST_DATA "/replay/basic.ssrec", &e), 0);
	replay_finish(&rp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_renumbered),
		cmocka_unit_test(test_load_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
