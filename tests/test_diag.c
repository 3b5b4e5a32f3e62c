#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/netlink_diag.h>
#include <linux/packet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "diag.h"

/* Messages are built here; 8-byte alignment like a real receive buffer. */
static union {
	uint64_t align;
	unsigned char b[8192];
} msg;

static struct nlmsghdr *inet_msg(int family, uint8_t state, const char *src, uint16_t sport,
				 const char *dst, uint16_t dport)
{
	memset(&msg, 0, sizeof(msg));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(msg.b);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	struct inet_diag_msg *m = mnl_nlmsg_put_extra_header(nlh, sizeof(*m));
	m->idiag_family = (uint8_t)family;
	m->idiag_state = state;
	m->id.idiag_sport = htons(sport);
	m->id.idiag_dport = htons(dport);
	assert_int_equal(inet_pton(family, src, m->id.idiag_src), 1);
	assert_int_equal(inet_pton(family, dst, m->id.idiag_dst), 1);
	return nlh;
}

static struct inet_diag_msg *inet_of(struct nlmsghdr *nlh)
{
	return mnl_nlmsg_get_payload(nlh);
}

static void addr_is(const uint8_t *a, int family, const char *text)
{
	uint8_t want[16] = {0};
	assert_int_equal(inet_pton(family, text, want), 1);
	assert_memory_equal(a, want, 16);
}

static void test_tcp4_all_fields(void **state)
{
	(void)state;
	struct nlmsghdr *nlh = inet_msg(AF_INET, SS_ESTABLISHED, "127.0.0.1", 8080, "10.1.2.3", 51234);
	struct inet_diag_msg *m = inet_of(nlh);
	m->idiag_timer = 2;
	m->idiag_retrans = 3;
	m->idiag_expires = 7000;
	m->idiag_rqueue = 11;
	m->idiag_wqueue = 22;
	m->idiag_uid = 1000;
	m->idiag_inode = 4242;
	m->id.idiag_if = 3;
	m->id.idiag_cookie[0] = 0x89abcdef;
	m->id.idiag_cookie[1] = 0x01234567;

	struct sock s;
	struct diag_scratch sc;
	memset(&s, 0xa5, sizeof(s));
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), 0);
	assert_int_equal(s.proto, PROTO_TCP);
	assert_int_equal(s.family, AF_INET);
	assert_int_equal(s.state, SS_ESTABLISHED);
	assert_int_equal(s.type, SOCK_STREAM);
	assert_int_equal(s.local.port, 8080);
	assert_int_equal(s.peer.port, 51234);
	addr_is(s.local.addr, AF_INET, "127.0.0.1");
	addr_is(s.peer.addr, AF_INET, "10.1.2.3");
	assert_int_equal(s.local.scope, 0);
	assert_int_equal(s.ifindex, 3);
	assert_true(s.has_timer);
	assert_int_equal(s.timer, TIMER_KEEPALIVE);
	assert_int_equal(s.retrans, 3);
	assert_int_equal(s.expires_ms, 7000);
	assert_int_equal(s.recv_q, 11);
	assert_int_equal(s.send_q, 22);
	assert_true(s.has_uid);
	assert_int_equal(s.uid, 1000);
	assert_int_equal(s.inode, 4242);
	assert_true(s.cookie == 0x0123456789abcdefull);
	assert_null(s.path);
	assert_int_equal(s.path_len, 0);
	assert_int_equal(s.peer_inode, 0);
	assert_null(s.info);
	assert_null(s.mem);
	assert_null(s.owners);
}

static void test_tcp6_info_cong_mem(void **state)
{
	(void)state;
	struct nlmsghdr *nlh = inet_msg(AF_INET6, SS_LISTEN, "::", 22, "::", 0);
	inet_of(nlh)->idiag_uid = 0;
	struct tcp_info ti;
	memset(&ti, 0, sizeof(ti));
	ti.tcpi_rtt = 1234;
	ti.tcpi_rttvar = 56;
	ti.tcpi_snd_cwnd = 10;
	ti.tcpi_snd_ssthresh = 0x7fffffff;
	ti.tcpi_retransmits = 2;
	ti.tcpi_total_retrans = 9;
	ti.tcpi_bytes_sent = 1ull << 40;
	ti.tcpi_bytes_acked = 12345678901ull;
	ti.tcpi_bytes_received = 77;
	ti.tcpi_delivery_rate = 1000000;
	ti.tcpi_snd_mss = 1448;
	ti.tcpi_rcv_space = 14600;
	mnl_attr_put(nlh, INET_DIAG_INFO, sizeof(ti), &ti);
	mnl_attr_put_strz(nlh, INET_DIAG_CONG, "cubic");
	uint32_t mem[SK_MEMINFO_VARS] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	mnl_attr_put(nlh, INET_DIAG_SKMEMINFO, sizeof(mem), mem);

	struct sock s;
	struct diag_scratch sc;
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), 0);
	assert_int_equal(s.family, AF_INET6);
	assert_int_equal(s.state, SS_LISTEN);
	addr_is(s.local.addr, AF_INET6, "::");
	assert_int_equal(s.local.port, 22);
	assert_non_null(s.info);
	assert_ptr_equal(s.info, &sc.info);
	assert_int_equal(s.info->rtt_us, 1234);
	assert_int_equal(s.info->rttvar_us, 56);
	assert_int_equal(s.info->snd_cwnd, 10);
	assert_int_equal(s.info->snd_ssthresh, 0x7fffffff);
	assert_int_equal(s.info->retransmits, 2);
	assert_int_equal(s.info->total_retrans, 9);
	assert_true(s.info->bytes_sent == 1ull << 40);
	assert_true(s.info->bytes_acked == 12345678901ull);
	assert_true(s.info->bytes_received == 77);
	assert_true(s.info->delivery_rate == 1000000);
	assert_int_equal(s.info->snd_mss, 1448);
	assert_int_equal(s.info->rcv_space, 14600);
	assert_string_equal(s.info->cong, "cubic");
	assert_non_null(s.mem);
	assert_int_equal(s.mem->count, 9);
	assert_int_equal(s.mem->v[0], 1);
	assert_int_equal(s.mem->v[8], 9);
}

static void test_v4_mapped(void **state)
{
	(void)state;
	struct nlmsghdr *nlh = inet_msg(AF_INET6, SS_ESTABLISHED, "::ffff:127.0.0.1", 80,
					"::ffff:127.0.0.1", 40000);
	struct sock s;
	struct diag_scratch sc;
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), 0);
	assert_int_equal(s.family, AF_INET6);
	addr_is(s.local.addr, AF_INET6, "::ffff:127.0.0.1");
	addr_is(s.peer.addr, AF_INET6, "::ffff:127.0.0.1");
	assert_int_equal(s.local.scope, 0);
}

static void test_link_local_scope(void **state)
{
	(void)state;
	struct nlmsghdr *nlh = inet_msg(AF_INET6, SS_ESTABLISHED, "fe80::1", 22, "fe80::2", 1000);
	inet_of(nlh)->id.idiag_if = 5;
	struct sock s;
	struct diag_scratch sc;
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), 0);
	assert_int_equal(s.local.scope, 5);
	assert_int_equal(s.peer.scope, 5);
	assert_int_equal(s.ifindex, 5);

	/* A global address bound to a device has an interface, no scope. */
	nlh = inet_msg(AF_INET6, SS_ESTABLISHED, "2001:db8::1", 22, "fe80::2", 1000);
	inet_of(nlh)->id.idiag_if = 5;
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), 0);
	assert_int_equal(s.local.scope, 0);
	assert_int_equal(s.peer.scope, 5);
	assert_int_equal(s.ifindex, 5);
}

static void test_udp_and_raw(void **state)
{
	(void)state;
	struct nlmsghdr *nlh = inet_msg(AF_INET, SS_CLOSE, "0.0.0.0", 53, "0.0.0.0", 0);
	inet_of(nlh)->idiag_timer = 1;
	struct sock s;
	struct diag_scratch sc;
	assert_int_equal(diag_parse(nlh, PROTO_UDP, &s, &sc), 0);
	assert_int_equal(s.proto, PROTO_UDP);
	assert_int_equal(s.type, SOCK_DGRAM);
	assert_int_equal(s.state, SS_CLOSE);
	assert_int_equal(s.local.port, 53);
	assert_false(s.has_timer);
	assert_string_equal(sock_state_name(&s), "UNCONN");

	/* raw_diag reports the protocol as the source port (htons(inet_num)). */
	nlh = inet_msg(AF_INET6, SS_CLOSE, "::", IPPROTO_ICMPV6, "::", 0);
	assert_int_equal(diag_parse(nlh, PROTO_RAW, &s, &sc), 0);
	assert_int_equal(s.proto, PROTO_RAW);
	assert_int_equal(s.type, SOCK_RAW);
	assert_int_equal(s.local.port, 58);
	assert_string_equal(sock_proto_name(&s), "raw6");
}

static struct nlmsghdr *unix_msg(uint8_t type, uint8_t st, uint32_t ino)
{
	memset(&msg, 0, sizeof(msg));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(msg.b);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	struct unix_diag_msg *m = mnl_nlmsg_put_extra_header(nlh, sizeof(*m));
	m->udiag_family = AF_UNIX;
	m->udiag_type = type;
	m->udiag_state = st;
	m->udiag_ino = ino;
	m->udiag_cookie[0] = 7;
	m->udiag_cookie[1] = 1;
	return nlh;
}

static void test_unix_path(void **state)
{
	(void)state;
	struct nlmsghdr *nlh = unix_msg(SOCK_STREAM, SS_LISTEN, 999);
	/* The kernel sends a filesystem path with its NUL terminator. */
	mnl_attr_put(nlh, UNIX_DIAG_NAME, sizeof("/run/x.sock"), "/run/x.sock");
	mnl_attr_put_u32(nlh, UNIX_DIAG_PEER, 1001);
	struct unix_diag_rqlen q = {3, 128};
	mnl_attr_put(nlh, UNIX_DIAG_RQLEN, sizeof(q), &q);
	mnl_attr_put_u32(nlh, UNIX_DIAG_UID, 1234);
	uint32_t mem[4] = {10, 20, 30, 40};
	mnl_attr_put(nlh, UNIX_DIAG_MEMINFO, sizeof(mem), mem);

	struct sock s;
	struct diag_scratch sc;
	assert_int_equal(diag_parse(nlh, PROTO_UNIX, &s, &sc), 0);
	assert_int_equal(s.proto, PROTO_UNIX);
	assert_int_equal(s.family, AF_UNIX);
	assert_int_equal(s.type, SOCK_STREAM);
	assert_int_equal(s.state, SS_LISTEN);
	assert_int_equal(s.inode, 999);
	assert_true(s.cookie == ((1ull << 32) | 7));
	assert_int_equal(s.path_len, strlen("/run/x.sock"));
	assert_memory_equal(s.path, "/run/x.sock", s.path_len);
	assert_true(s.path > (const char *)msg.b && s.path < (const char *)msg.b + nlh->nlmsg_len);
	assert_int_equal(s.peer_inode, 1001);
	assert_int_equal(s.recv_q, 3);
	assert_int_equal(s.send_q, 128);
	assert_true(s.has_uid);
	assert_int_equal(s.uid, 1234);
	assert_non_null(s.mem);
	assert_int_equal(s.mem->count, 4);
	assert_int_equal(s.mem->v[3], 40);
	assert_int_equal(s.mem->v[4], 0);
	assert_false(s.has_timer);
}

static void test_unix_abstract_and_unnamed(void **state)
{
	(void)state;
	static const char name[] = "\0bus\0x\n";
	struct nlmsghdr *nlh = unix_msg(SOCK_DGRAM, SS_CLOSE, 5);
	mnl_attr_put(nlh, UNIX_DIAG_NAME, sizeof(name) - 1, name);
	struct sock s;
	struct diag_scratch sc;
	assert_int_equal(diag_parse(nlh, PROTO_UNIX, &s, &sc), 0);
	assert_int_equal(s.path_len, sizeof(name) - 1);
	assert_memory_equal(s.path, name, sizeof(name) - 1);
	assert_int_equal(s.type, SOCK_DGRAM);
	assert_false(s.has_uid);
	assert_null(s.mem);

	nlh = unix_msg(SOCK_SEQPACKET, SS_ESTABLISHED, 6);
	assert_int_equal(diag_parse(nlh, PROTO_UNIX, &s, &sc), 0);
	assert_non_null(s.path);
	assert_int_equal(s.path_len, 0);
	assert_int_equal(s.type, SOCK_SEQPACKET);
	assert_int_equal(s.peer_inode, 0);
}

static void test_packet(void **state)
{
	(void)state;
	memset(&msg, 0, sizeof(msg));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(msg.b);
	struct packet_diag_msg *m = mnl_nlmsg_put_extra_header(nlh, sizeof(*m));
	m->pdiag_family = AF_PACKET;
	m->pdiag_type = SOCK_RAW;
	m->pdiag_num = 0x0003; /* ETH_P_ALL, host order as packet_diag sends it */
	m->pdiag_ino = 31337;
	struct packet_diag_info pi = {.pdi_index = 2, .pdi_version = 2};
	mnl_attr_put(nlh, PACKET_DIAG_INFO, sizeof(pi), &pi);
	mnl_attr_put_u32(nlh, PACKET_DIAG_UID, 0);
	uint32_t mem[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	mnl_attr_put(nlh, PACKET_DIAG_MEMINFO, sizeof(mem), mem);

	struct sock s;
	struct diag_scratch sc;
	assert_int_equal(diag_parse(nlh, PROTO_PACKET, &s, &sc), 0);
	assert_int_equal(s.family, AF_PACKET);
	assert_int_equal(s.type, SOCK_RAW);
	assert_int_equal(s.state, SS_CLOSE);
	assert_int_equal(s.local.port, 3);
	assert_int_equal(s.inode, 31337);
	assert_int_equal(s.ifindex, 2);
	assert_true(s.has_uid);
	assert_int_equal(s.uid, 0);
	/* More values than we know are capped, never overflow. */
	assert_int_equal(s.mem->count, SOCK_MEMINFO_VARS);
	assert_int_equal(s.mem->v[8], 9);
	/* Recv-Q is SK_MEMINFO_RMEM_ALLOC, as /proc/net/packet's Rmem. */
	assert_int_equal(s.recv_q, 1);
}

static void test_tcpinfo_short_and_long(void **state)
{
	(void)state;
	struct tcp_info ti;
	memset(&ti, 0, sizeof(ti));
	ti.tcpi_retransmits = 4;
	ti.tcpi_snd_mss = 1000;
	ti.tcpi_rtt = 555;
	ti.tcpi_bytes_received = 99;

	/* An old kernel: the struct ends right after tcpi_snd_mss. */
	struct nlmsghdr *nlh = inet_msg(AF_INET, SS_ESTABLISHED, "1.2.3.4", 1, "5.6.7.8", 2);
	size_t cut = offsetof(struct tcp_info, tcpi_snd_mss) + sizeof(ti.tcpi_snd_mss);
	mnl_attr_put(nlh, INET_DIAG_INFO, cut, &ti);
	struct sock s;
	struct diag_scratch sc;
	memset(&sc, 0xff, sizeof(sc));
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), 0);
	assert_non_null(s.info);
	assert_int_equal(s.info->retransmits, 4);
	assert_int_equal(s.info->snd_mss, 1000);
	assert_int_equal(s.info->rtt_us, 0);
	assert_true(s.info->bytes_received == 0);
	assert_string_equal(s.info->cong, "");

	/* A newer kernel: more than we know, with junk after our fields. */
	unsigned char big[sizeof(ti) + 64];
	memset(big, 0xee, sizeof(big));
	memcpy(big, &ti, sizeof(ti));
	nlh = inet_msg(AF_INET, SS_ESTABLISHED, "1.2.3.4", 1, "5.6.7.8", 2);
	mnl_attr_put(nlh, INET_DIAG_INFO, sizeof(big), big);
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), 0);
	assert_int_equal(s.info->rtt_us, 555);
	assert_true(s.info->bytes_received == 99);
	assert_int_equal(s.info->retransmits, 4);
}

static void test_truncated(void **state)
{
	(void)state;
	struct sock s;
	struct diag_scratch sc;
	struct nlmsghdr *nlh = inet_msg(AF_INET, SS_ESTABLISHED, "1.2.3.4", 1, "5.6.7.8", 2);
	inet_of(nlh)->idiag_inode = 77;
	/* The body is cut short of a whole inet_diag_msg. */
	nlh->nlmsg_len = NLMSG_HDRLEN + sizeof(struct inet_diag_msg) - 1;
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), -EINVAL);
	assert_int_equal(s.inode, 0);
	assert_null(s.path);

	nlh->nlmsg_len = 4; /* shorter than its own header */
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), -EINVAL);
	nlh->nlmsg_len = NLMSG_HDRLEN + 8;
	assert_int_equal(diag_parse(nlh, PROTO_UNIX, &s, &sc), -EINVAL);
	assert_int_equal(diag_parse(nlh, PROTO_PACKET, &s, &sc), -EINVAL);

	/* An attribute that claims more bytes than the message holds. */
	nlh = inet_msg(AF_INET, SS_ESTABLISHED, "1.2.3.4", 1, "5.6.7.8", 2);
	struct nlattr *a = mnl_attr_nest_start(nlh, INET_DIAG_INFO);
	a->nla_len = 200;
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), -EINVAL);
	assert_null(s.info);

	/* An attribute length below its own header. */
	nlh = unix_msg(SOCK_STREAM, SS_LISTEN, 1);
	a = mnl_attr_nest_start(nlh, UNIX_DIAG_NAME);
	a->nla_len = 2;
	assert_int_equal(diag_parse(nlh, PROTO_UNIX, &s, &sc), -EINVAL);
	assert_null(s.path);
}

static void test_short_and_unknown_attributes(void **state)
{
	(void)state;
	struct sock s;
	struct diag_scratch sc;

	struct nlmsghdr *nlh = unix_msg(SOCK_STREAM, SS_ESTABLISHED, 8);
	mnl_attr_put(nlh, 200, 3, "abc");                 /* unknown */
	mnl_attr_put(nlh, UNIX_DIAG_UID, 2, "\x01\x02");   /* short */
	mnl_attr_put(nlh, UNIX_DIAG_PEER, 3, "\x01\x02\x03");
	mnl_attr_put(nlh, UNIX_DIAG_RQLEN, 4, "\x01\x02\x03\x04");
	mnl_attr_put(nlh, UNIX_DIAG_MEMINFO, 3, "\x01\x02\x03");
	mnl_attr_put(nlh, UNIX_DIAG_NAME, 1, "\0");        /* abstract "" */
	assert_int_equal(diag_parse(nlh, PROTO_UNIX, &s, &sc), 0);
	assert_false(s.has_uid);
	assert_int_equal(s.peer_inode, 0);
	assert_int_equal(s.recv_q, 0);
	assert_null(s.mem);
	assert_int_equal(s.path_len, 1);
	assert_int_equal(s.inode, 8);

	nlh = inet_msg(AF_INET, SS_ESTABLISHED, "1.2.3.4", 1, "5.6.7.8", 2);
	mnl_attr_put(nlh, 99, 7, "1234567");
	mnl_attr_put(nlh, INET_DIAG_SKMEMINFO, 2, "zz");
	/* A congestion name with no NUL and longer than we keep. */
	mnl_attr_put(nlh, INET_DIAG_CONG, 40, "0123456789012345678901234567890123456789");
	inet_of(nlh)->idiag_timer = 200;
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), 0);
	assert_null(s.mem);
	assert_non_null(s.info);
	assert_string_equal(s.info->cong, "012345678901234");
	assert_int_equal(s.info->rtt_us, 0);
	assert_int_equal(s.timer, TIMER_OFF);

	/* INET_DIAG_INFO on a UDP socket means nothing to us. */
	nlh = inet_msg(AF_INET, SS_CLOSE, "1.2.3.4", 1, "0.0.0.0", 0);
	mnl_attr_put(nlh, INET_DIAG_INFO, 16, "0123456789abcdef");
	assert_int_equal(diag_parse(nlh, PROTO_UDP, &s, &sc), 0);
	assert_null(s.info);

	/* Packet attributes too short to use. */
	memset(&msg, 0, sizeof(msg));
	nlh = mnl_nlmsg_put_header(msg.b);
	struct packet_diag_msg *m = mnl_nlmsg_put_extra_header(nlh, sizeof(*m));
	m->pdiag_family = AF_PACKET;
	mnl_attr_put(nlh, PACKET_DIAG_INFO, 2, "ab");
	mnl_attr_put(nlh, PACKET_DIAG_UID, 0, NULL);
	assert_int_equal(diag_parse(nlh, PROTO_PACKET, &s, &sc), 0);
	assert_int_equal(s.ifindex, 0);
	assert_false(s.has_uid);
}

static void test_wrong_family(void **state)
{
	(void)state;
	struct sock s;
	struct diag_scratch sc;
	struct nlmsghdr *nlh = inet_msg(AF_INET, SS_ESTABLISHED, "1.2.3.4", 1, "5.6.7.8", 2);
	inet_of(nlh)->idiag_family = AF_UNIX;
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), -EINVAL);
	nlh = unix_msg(SOCK_STREAM, SS_LISTEN, 1);
	((struct unix_diag_msg *)mnl_nlmsg_get_payload(nlh))->udiag_family = AF_INET;
	assert_int_equal(diag_parse(nlh, PROTO_UNIX, &s, &sc), -EINVAL);
	assert_int_equal(diag_parse(nlh, PROTO_COUNT, &s, &sc), -EINVAL);
}

/* Finds attribute type in a request built by diag_build_request. */
static const struct nlattr *req_attr(const struct nlmsghdr *nlh, size_t hdr, uint16_t type)
{
	const struct nlattr *a;
	mnl_attr_for_each(a, nlh, hdr) {
		if (mnl_attr_get_type(a) == type)
			return a;
	}
	return NULL;
}

static void test_build_inet(void **state)
{
	(void)state;
	union {
		uint64_t align;
		unsigned char b[1024];
	} buf;
	struct diag_request r = {.proto = PROTO_TCP, .family = AF_INET6,
				 .states = STATE_BIT(SS_LISTEN) | STATE_BIT(SS_SYN_RECV)};
	size_t n = diag_build_request(buf.b, sizeof(buf.b), &r, 42);
	const struct nlmsghdr *nlh = (const void *)buf.b;
	assert_int_equal(n, NLMSG_HDRLEN + sizeof(struct inet_diag_req_v2));
	assert_int_equal(nlh->nlmsg_len, n);
	assert_int_equal(nlh->nlmsg_type, SOCK_DIAG_BY_FAMILY);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	assert_int_equal(nlh->nlmsg_seq, 42);
	const struct inet_diag_req_v2 *q = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(q->sdiag_family, AF_INET6);
	assert_int_equal(q->sdiag_protocol, IPPROTO_TCP);
	assert_int_equal(q->idiag_ext, 0);
	assert_int_equal(q->idiag_states, STATE_BIT(SS_LISTEN) | STATE_BIT(SS_SYN_RECV) |
				  STATE_BIT(SS_NEW_SYN_RECV));

	r.want_info = true;
	n = diag_build_request(buf.b, sizeof(buf.b), &r, 43);
	assert_int_equal(q->idiag_ext, (1 << (INET_DIAG_INFO - 1)) | (1 << (INET_DIAG_CONG - 1)));
	r.want_info = false;
	r.want_mem = true;
	n = diag_build_request(buf.b, sizeof(buf.b), &r, 43);
	assert_int_equal(q->idiag_ext, 1 << (INET_DIAG_SKMEMINFO - 1));

	/* Bytecode travels as INET_DIAG_REQ_BYTECODE, byte for byte. */
	static const unsigned char bc[12] = {INET_DIAG_BC_NOP, 4, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8};
	r = (struct diag_request){.proto = PROTO_UDP, .family = AF_INET, .states = STATES_ALL,
				  .bytecode = bc, .bytecode_len = sizeof(bc)};
	n = diag_build_request(buf.b, sizeof(buf.b), &r, 44);
	assert_int_equal(n, NLMSG_HDRLEN + sizeof(struct inet_diag_req_v2) + NLA_HDRLEN + 12);
	assert_int_equal(q->sdiag_protocol, IPPROTO_UDP);
	assert_int_equal(q->idiag_states, STATES_ALL);
	const struct nlattr *a = req_attr(nlh, sizeof(*q), INET_DIAG_REQ_BYTECODE);
	assert_non_null(a);
	assert_int_equal(mnl_attr_get_payload_len(a), sizeof(bc));
	assert_memory_equal(mnl_attr_get_payload(a), bc, sizeof(bc));

	/* Too small a buffer: nothing, never a partial request. */
	assert_int_equal(diag_build_request(buf.b, n - 1, &r, 44), 0);
	r.bytecode_len = 70000;
	assert_int_equal(diag_build_request(buf.b, sizeof(buf.b), &r, 44), 0);

	r = (struct diag_request){.proto = PROTO_UDPLITE, .family = AF_INET, .want_info = true};
	n = diag_build_request(buf.b, sizeof(buf.b), &r, 45);
	assert_int_equal(q->sdiag_protocol, IPPROTO_UDPLITE);
	assert_int_equal(q->idiag_ext, 0);
	assert_null(req_attr(nlh, sizeof(*q), INET_DIAG_REQ_BYTECODE));
}

static void test_build_raw(void **state)
{
	(void)state;
	union {
		uint64_t align;
		unsigned char b[256];
	} buf;
	struct diag_request r = {.proto = PROTO_RAW, .family = AF_INET, .states = STATES_ALL};
	size_t n = diag_build_request(buf.b, sizeof(buf.b), &r, 1);
	const struct nlmsghdr *nlh = (const void *)buf.b;
	assert_int_equal(n, NLMSG_HDRLEN + sizeof(struct inet_diag_req_v2) + NLA_HDRLEN + 4);
	const struct inet_diag_req_raw *q = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(q->sdiag_protocol, IPPROTO_RAW);
	assert_int_equal(q->sdiag_raw_protocol, IPPROTO_RAW);
	const struct nlattr *a = req_attr(nlh, sizeof(*q), INET_DIAG_REQ_PROTOCOL);
	assert_non_null(a);
	assert_int_equal(mnl_attr_get_u32(a), IPPROTO_RAW);
}

static void test_build_unix_packet(void **state)
{
	(void)state;
	union {
		uint64_t align;
		unsigned char b[256];
	} buf;
	struct diag_request r = {.proto = PROTO_UNIX, .family = AF_INET, .states = STATES_LISTENING};
	size_t n = diag_build_request(buf.b, sizeof(buf.b), &r, 9);
	const struct nlmsghdr *nlh = (const void *)buf.b;
	assert_int_equal(n, NLMSG_HDRLEN + sizeof(struct unix_diag_req));
	const struct unix_diag_req *u = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(u->sdiag_family, AF_UNIX);
	assert_int_equal(u->sdiag_protocol, 0);
	assert_int_equal(u->udiag_states, STATES_LISTENING);
	assert_int_equal(u->udiag_show,
			 UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN | UDIAG_SHOW_UID);
	r.want_mem = true;
	diag_build_request(buf.b, sizeof(buf.b), &r, 9);
	assert_true(u->udiag_show & UDIAG_SHOW_MEMINFO);

	r = (struct diag_request){.proto = PROTO_PACKET};
	n = diag_build_request(buf.b, sizeof(buf.b), &r, 10);
	assert_int_equal(n, NLMSG_HDRLEN + sizeof(struct packet_diag_req));
	const struct packet_diag_req *p = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(p->sdiag_family, AF_PACKET);
	assert_int_equal(p->sdiag_protocol, 0);
	/* Memory always: a packet socket's Recv-Q is its receive memory. */
	assert_int_equal(p->pdiag_show, PACKET_SHOW_INFO | PACKET_SHOW_MEMINFO);
	r.want_mem = true;
	diag_build_request(buf.b, sizeof(buf.b), &r, 10);
	assert_int_equal(p->pdiag_show, PACKET_SHOW_INFO | PACKET_SHOW_MEMINFO);
	assert_int_equal(nlh->nlmsg_seq, 10);
	assert_int_equal(diag_build_request(buf.b, 8, &r, 10), 0);
}

/*
 * inet_diag sends INET_DIAG_SKV6ONLY, unasked, for every full inet6 socket
 * (inet_sk_diag_fill); TIME_WAIT and request sockets come without it.
 */
static struct nlmsghdr *netlink_msg(uint8_t protocol, uint32_t portid, uint32_t ino)
{
	memset(&msg, 0, sizeof(msg));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(msg.b);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	struct netlink_diag_msg *m = mnl_nlmsg_put_extra_header(nlh, sizeof(*m));
	m->ndiag_family = AF_NETLINK;
	m->ndiag_type = SOCK_RAW;
	m->ndiag_protocol = protocol;
	m->ndiag_portid = portid;
	m->ndiag_ino = ino;
	m->ndiag_cookie[0] = 5;
	return nlh;
}

static void test_netlink(void **state)
{
	(void)state;
	struct sock s;
	struct diag_scratch sc;
	struct nlmsghdr *nlh = netlink_msg(NETLINK_ROUTE, 4242, 9001);
	uint32_t mem[SOCK_MEMINFO_VARS] = {832, 212992, 16, 212992};
	mnl_attr_put(nlh, NETLINK_DIAG_MEMINFO, sizeof(mem), mem);
	uint64_t groups = 0x11;
	mnl_attr_put(nlh, NETLINK_DIAG_GROUPS, sizeof(groups), &groups);
	assert_int_equal(diag_parse(nlh, PROTO_NETLINK, &s, &sc), 0);
	assert_int_equal(s.family, AF_NETLINK);
	assert_int_equal(s.type, SOCK_RAW);
	assert_int_equal(s.state, SS_CLOSE);
	assert_int_equal(s.nl.protocol, NETLINK_ROUTE);
	assert_int_equal(s.nl.portid, 4242);
	assert_false(s.nl.connected);
	assert_int_equal(s.nl.groups, 0x11);
	assert_int_equal(s.inode, 9001);
	assert_int_equal(s.cookie, 5);
	/* The queues are the memory counters, as ss shows them. */
	assert_int_equal(s.recv_q, 832);
	assert_int_equal(s.send_q, 16);
	assert_false(s.has_uid);

	/* A connected socket keeps its destination. */
	nlh = netlink_msg(NETLINK_GENERIC, (uint32_t)-4097, 9002);
	struct netlink_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	m->ndiag_state = 1;
	m->ndiag_dst_portid = 77;
	m->ndiag_dst_group = 3;
	assert_int_equal(diag_parse(nlh, PROTO_NETLINK, &s, &sc), 0);
	assert_true(s.nl.connected);
	assert_int_equal(s.nl.dst_portid, 77);
	assert_int_equal(s.nl.dst_group, 3);
	assert_int_equal((int32_t)s.nl.portid, -4097);
	assert_int_equal(s.recv_q, 0);

	/* Truncated, of the wrong family, or with a lying attribute: rejected. */
	nlh = netlink_msg(NETLINK_ROUTE, 1, 1);
	nlh->nlmsg_len = NLMSG_HDRLEN + sizeof(struct netlink_diag_msg) - 1;
	assert_int_equal(diag_parse(nlh, PROTO_NETLINK, &s, &sc), -EINVAL);
	assert_int_equal(s.inode, 0);
	nlh = netlink_msg(NETLINK_ROUTE, 1, 1);
	m = mnl_nlmsg_get_payload(nlh);
	m->ndiag_family = AF_INET;
	assert_int_equal(diag_parse(nlh, PROTO_NETLINK, &s, &sc), -EINVAL);
	nlh = netlink_msg(NETLINK_ROUTE, 1, 1);
	struct nlattr *a = mnl_attr_nest_start(nlh, NETLINK_DIAG_GROUPS);
	a->nla_len = 300;
	assert_int_equal(diag_parse(nlh, PROTO_NETLINK, &s, &sc), -EINVAL);
	assert_null(s.mem);
	/* Short attributes are ignored, not read past. */
	nlh = netlink_msg(NETLINK_ROUTE, 1, 1);
	mnl_attr_put(nlh, NETLINK_DIAG_GROUPS, 2, "ab");
	mnl_attr_put(nlh, NETLINK_DIAG_MEMINFO, 4, mem);
	assert_int_equal(diag_parse(nlh, PROTO_NETLINK, &s, &sc), 0);
	assert_int_equal(s.nl.groups, 0);
	assert_int_equal(s.recv_q, 0);
}

static void test_build_netlink_mptcp(void **state)
{
	(void)state;
	union {
		uint64_t align;
		unsigned char b[256];
	} buf;
	struct diag_request r = {.proto = PROTO_NETLINK, .states = STATES_ALL};
	size_t n = diag_build_request(buf.b, sizeof(buf.b), &r, 3);
	const struct nlmsghdr *nlh = (const void *)buf.b;
	assert_int_equal(n, NLMSG_HDRLEN + sizeof(struct netlink_diag_req));
	const struct netlink_diag_req *q = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(q->sdiag_family, AF_NETLINK);
	assert_int_equal(q->sdiag_protocol, NDIAG_PROTO_ALL);
	assert_int_equal(q->ndiag_show, NDIAG_SHOW_MEMINFO | NDIAG_SHOW_GROUPS);

	/* MPTCP's number does not fit the request's byte: the attribute names it. */
	r = (struct diag_request){.proto = PROTO_MPTCP, .family = AF_INET6, .states = STATES_ALL};
	n = diag_build_request(buf.b, sizeof(buf.b), &r, 4);
	assert_int_equal(n, NLMSG_HDRLEN + sizeof(struct inet_diag_req_v2) + NLA_HDRLEN + 4);
	const struct inet_diag_req_v2 *i = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(i->sdiag_family, AF_INET6);
	const struct nlattr *a = req_attr(nlh, sizeof(*i), INET_DIAG_REQ_PROTOCOL);
	assert_non_null(a);
	assert_int_equal(mnl_attr_get_u32(a), IPPROTO_MPTCP);

	/* Ping sockets have no diag module: no request at all. */
	r = (struct diag_request){.proto = PROTO_ICMP, .family = AF_INET};
	assert_int_equal(diag_build_request(buf.b, sizeof(buf.b), &r, 5), 0);
}

/* INET_DIAG_CGROUP_ID, sent unasked for every full inet socket; short: ignored. */
static void test_cgroup_id(void **state)
{
	(void)state;
	struct sock s;
	struct diag_scratch sc;
	uint64_t id = 0x1234567890ull;
	struct nlmsghdr *nlh = inet_msg(AF_INET, SS_LISTEN, "0.0.0.0", 80, "0.0.0.0", 0);
	mnl_attr_put_u64(nlh, INET_DIAG_CGROUP_ID, id);
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), 0);
	assert_true(s.cgroup_id == id);

	uint32_t half = 7;
	nlh = inet_msg(AF_INET, SS_LISTEN, "0.0.0.0", 81, "0.0.0.0", 0);
	mnl_attr_put(nlh, INET_DIAG_CGROUP_ID, sizeof(half), &half);
	memset(&s, 0xa5, sizeof(s));
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), 0);
	assert_true(s.cgroup_id == 0);

	nlh = inet_msg(AF_INET6, SS_TIME_WAIT, "::1", 82, "::1", 40000);
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), 0);
	assert_true(s.cgroup_id == 0);
}

static void test_v6only(void **state)
{
	(void)state;
	struct sock s;
	struct diag_scratch sc;
	uint8_t on = 1, off = 0;

	struct nlmsghdr *nlh = inet_msg(AF_INET6, SS_LISTEN, "::", 9090, "::", 0);
	mnl_attr_put(nlh, INET_DIAG_SKV6ONLY, sizeof(on), &on);
	memset(&s, 0, sizeof(s));
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), 0);
	assert_true(s.v6only);
	assert_true(sc.v6only_given);

	nlh = inet_msg(AF_INET6, SS_LISTEN, "::", 9091, "::", 0);
	mnl_attr_put(nlh, INET_DIAG_SKV6ONLY, sizeof(off), &off);
	memset(&s, 0xa5, sizeof(s));
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), 0);
	assert_false(s.v6only);
	assert_true(sc.v6only_given);

	/* No attribute: the record says dual-stack and the caller is told. */
	nlh = inet_msg(AF_INET6, SS_TIME_WAIT, "::1", 9092, "::1", 40000);
	memset(&s, 0xa5, sizeof(s));
	sc.v6only_given = true;
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), 0);
	assert_false(s.v6only);
	assert_false(sc.v6only_given);

	/* An inet socket is never v6-only, whatever a message claims. */
	nlh = inet_msg(AF_INET, SS_LISTEN, "0.0.0.0", 9093, "0.0.0.0", 0);
	mnl_attr_put(nlh, INET_DIAG_SKV6ONLY, sizeof(on), &on);
	assert_int_equal(diag_parse(nlh, PROTO_UDP, &s, &sc), 0);
	assert_false(s.v6only);
	assert_false(sc.v6only_given);

	/* An empty attribute is ignored like any short one. */
	nlh = inet_msg(AF_INET6, SS_LISTEN, "::", 9094, "::", 0);
	mnl_attr_put(nlh, INET_DIAG_SKV6ONLY, 0, NULL);
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), 0);
	assert_false(s.v6only);
	assert_false(sc.v6only_given);
}

/* INET_DIAG_MARK comes unasked to CAP_NET_ADMIN; a short one is ignored. */
static void test_mark(void **state)
{
	(void)state;
	struct sock s;
	struct diag_scratch sc;
	uint32_t mark = 0x1234;
	struct nlmsghdr *nlh = inet_msg(AF_INET, SS_LISTEN, "0.0.0.0", 7003, "0.0.0.0", 0);
	mnl_attr_put(nlh, INET_DIAG_MARK, sizeof(mark), &mark);
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), 0);
	assert_int_equal(s.mark, 0x1234);
	nlh = inet_msg(AF_INET, SS_LISTEN, "0.0.0.0", 7003, "0.0.0.0", 0);
	mnl_attr_put(nlh, INET_DIAG_MARK, 2, &mark);
	memset(&s, 0xa5, sizeof(s));
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), 0);
	assert_int_equal(s.mark, 0);
	/* The bound device is the id's idiag_if. */
	nlh = inet_msg(AF_INET, SS_LISTEN, "0.0.0.0", 7002, "0.0.0.0", 0);
	inet_of(nlh)->id.idiag_if = 3;
	assert_int_equal(diag_parse(nlh, PROTO_TCP, &s, &sc), 0);
	assert_int_equal(s.ifindex, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp4_all_fields),
		cmocka_unit_test(test_tcp6_info_cong_mem),
		cmocka_unit_test(test_v4_mapped),
		cmocka_unit_test(test_link_local_scope),
		cmocka_unit_test(test_udp_and_raw),
		cmocka_unit_test(test_unix_path),
		cmocka_unit_test(test_unix_abstract_and_unnamed),
		cmocka_unit_test(test_packet),
		cmocka_unit_test(test_tcpinfo_short_and_long),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_short_and_unknown_attributes),
		cmocka_unit_test(test_wrong_family),
		cmocka_unit_test(test_build_inet),
		cmocka_unit_test(test_build_raw),
		cmocka_unit_test(test_build_unix_packet),
		cmocka_unit_test(test_v6only),
		cmocka_unit_test(test_mark),
		cmocka_unit_test(test_cgroup_id),
		cmocka_unit_test(test_netlink),
		cmocka_unit_test(test_build_netlink_mptcp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
