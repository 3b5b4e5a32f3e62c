#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "kill.h"

static union {
	uint64_t align;
	unsigned char b[512];
} buf;

static struct sock inet(enum proto p, int family, const char *la, uint16_t lp, const char *ra,
			uint16_t rp)
{
	struct sock s;
	memset(&s, 0, sizeof(s));
	s.proto = (uint8_t)p;
	s.family = (uint8_t)family;
	s.state = SS_ESTABLISHED;
	assert_int_equal(inet_pton(family, la, s.local.addr), 1);
	assert_int_equal(inet_pton(family, ra, s.peer.addr), 1);
	s.local.port = lp;
	s.peer.port = rp;
	return s;
}

/* The request names the socket exactly as the dump described it. */
static void test_request_tcp4(void **state)
{
	(void)state;
	struct sock s = inet(PROTO_TCP, AF_INET, "127.0.0.1", 7001, "127.0.0.2", 40000);
	s.ifindex = 3;
	s.cookie = 0x1122334455667788ull;
	size_t len = kill_build_request(buf.b, sizeof(buf.b), &s, 77);
	assert_int_equal(len, NLMSG_HDRLEN + sizeof(struct inet_diag_req_v2));
	const struct nlmsghdr *nlh = (const void *)buf.b;
	assert_int_equal(nlh->nlmsg_len, len);
	assert_int_equal(nlh->nlmsg_type, SOCK_DESTROY);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(nlh->nlmsg_seq, 77);
	const struct inet_diag_req_v2 *q = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(q->sdiag_family, AF_INET);
	assert_int_equal(q->sdiag_protocol, IPPROTO_TCP);
	assert_int_equal(ntohs(q->id.idiag_sport), 7001);
	assert_int_equal(ntohs(q->id.idiag_dport), 40000);
	assert_memory_equal(q->id.idiag_src, s.local.addr, 4);
	assert_memory_equal(q->id.idiag_dst, s.peer.addr, 4);
	assert_int_equal(q->id.idiag_src[1], 0);
	assert_int_equal(q->id.idiag_if, 3);
	assert_int_equal(q->id.idiag_cookie[0], 0x55667788u);
	assert_int_equal(q->id.idiag_cookie[1], 0x11223344u);
	/* Too small a buffer is refused, not overrun. */
	assert_int_equal(kill_build_request(buf.b, len - 1, &s, 1), 0);
}

/* Without a cookie (the /proc/net source) the kernel must not check one. */
static void test_request_nocookie_udp6(void **state)
{
	(void)state;
	struct sock s = inet(PROTO_UDP, AF_INET6, "::1", 53, "::ffff:127.0.0.1", 9);
	size_t len = kill_build_request(buf.b, sizeof(buf.b), &s, 1);
	assert_true(len > 0);
	const struct inet_diag_req_v2 *q = mnl_nlmsg_get_payload((const void *)buf.b);
	assert_int_equal(q->sdiag_family, AF_INET6);
	assert_int_equal(q->sdiag_protocol, IPPROTO_UDP);
	assert_memory_equal(q->id.idiag_dst, s.peer.addr, 16);
	assert_int_equal(q->id.idiag_cookie[0], INET_DIAG_NOCOOKIE);
	assert_int_equal(q->id.idiag_cookie[1], INET_DIAG_NOCOOKIE);
}

/* raw_diag finds a socket by its protocol, which the request carries twice. */
static void test_request_raw(void **state)
{
	(void)state;
	struct sock s = inet(PROTO_RAW, AF_INET, "0.0.0.0", 253, "0.0.0.0", 0);
	size_t len = kill_build_request(buf.b, sizeof(buf.b), &s, 1);
	assert_int_equal(len, NLMSG_HDRLEN + sizeof(struct inet_diag_req_v2) + MNL_ATTR_HDRLEN +
				      sizeof(uint32_t));
	const struct inet_diag_req_raw *q = mnl_nlmsg_get_payload((const void *)buf.b);
	assert_int_equal(q->sdiag_protocol, IPPROTO_RAW);
	assert_int_equal(q->sdiag_raw_protocol, 253);
}

/* UNIX and packet sockets have no inet_diag identity: nothing to send. */
static void test_not_inet(void **state)
{
	(void)state;
	struct sock s;
	memset(&s, 0, sizeof(s));
	s.proto = PROTO_UNIX;
	s.family = AF_UNIX;
	assert_false(kill_applies(&s));
	assert_int_equal(kill_build_request(buf.b, sizeof(buf.b), &s, 1), 0);
	s.proto = PROTO_PACKET;
	s.family = AF_PACKET;
	assert_false(kill_applies(&s));
	/* A record that claims TCP in another family is not trusted either. */
	s.proto = PROTO_TCP;
	assert_false(kill_applies(&s));
	s.proto = PROTO_COUNT;
	s.family = AF_INET;
	assert_false(kill_applies(&s));
	assert_int_equal(kill_build_request(buf.b, sizeof(buf.b), &s, 1), 0);
}

static void test_describe(void **state)
{
	(void)state;
	char d[128];
	struct sock s = inet(PROTO_TCP, AF_INET, "127.0.0.1", 22, "10.0.0.1", 40000);
	kill_describe(&s, d, sizeof(d));
	assert_string_equal(d, "tcp 127.0.0.1:22 10.0.0.1:40000");
	s = inet(PROTO_UDP, AF_INET6, "::1", 53, "::", 0);
	kill_describe(&s, d, sizeof(d));
	assert_string_equal(d, "udp6 [::1]:53 [::]:0");
	/* Cut, never overrun, always terminated. */
	memset(d, 'x', sizeof(d));
	kill_describe(&s, d, 8);
	assert_int_equal(strlen(d), 7);
	kill_describe(&s, d, 1);
	assert_string_equal(d, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_tcp4),
		cmocka_unit_test(test_request_nocookie_udp6),
		cmocka_unit_test(test_request_raw),
		cmocka_unit_test(test_not_inet),
		cmocka_unit_test(test_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
