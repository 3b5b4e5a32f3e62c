/* For the Linux and GNU calls test helpers use (unshare, setns, pipe2, ...), beyond POSIX. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "procnet.h"
#include "netns.h"
#include "sock.h"
#include "socklist.h"

#define FIXTURE TEST_DATA "/procnet/root"

/* procnet_read with the system default off, as most machines have it. */
static int read_proc(const char *root, enum proto p, int family, uint32_t states,
		     sock_sink_fn sink, void *arg)
{
	struct procnet_request r = {root, p, family, states, false};
	return procnet_read(&r, sink, arg);
}

static int collect(void *arg, const struct sock *s)
{
	return socklist_add(arg, s);
}

static const struct sock *find_inode(const struct socklist *l, uint64_t inode)
{
	for (size_t i = 0; i < l->len; i++)
		if (l->v[i].inode == inode)
			return &l->v[i];
	return NULL;
}

static bool little_endian(void)
{
	uint32_t one = 1;
	return *(uint8_t *)&one == 1;
}

/* Parses a line from an exact-size heap copy, so ASan sees any overread. */
static int parse_inet(const char *text, enum proto proto, int family, struct sock *s)
{
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, text, len);
	int ret = procnet_parse_inet(copy, len, proto, family, s);
	free(copy);
	return ret;
}

static const char tcp_line[] =
	"   1: 0100007F:0016 0200007F:C822 01 00000005:00000010 01:00000014 00000003  1000"
	"        0 777 3 0000000000000000 20 4 30 10 -1";

static void test_parse_tcp4(void **state)
{
	(void)state;
	if (!little_endian())
		skip();
	struct sock s;
	assert_int_equal(parse_inet(tcp_line, PROTO_TCP, AF_INET, &s), 0);
	assert_int_equal(s.proto, PROTO_TCP);
	assert_int_equal(s.family, AF_INET);
	assert_int_equal(s.type, SOCK_STREAM);
	assert_int_equal(s.state, SS_ESTABLISHED);
	const uint8_t lo[4] = {127, 0, 0, 1}, lo2[4] = {127, 0, 0, 2};
	assert_memory_equal(s.local.addr, lo, 4);
	assert_memory_equal(s.peer.addr, lo2, 4);
	assert_int_equal(s.local.port, 22);
	assert_int_equal(s.peer.port, 0xC822);
	assert_int_equal(s.send_q, 5);
	assert_int_equal(s.recv_q, 16);
	assert_true(s.has_timer);
	assert_int_equal(s.timer, TIMER_ON);
	assert_int_equal(s.expires_ms, 200); /* 0x14 ticks of 10 ms */
	assert_int_equal(s.retrans, 3);
	assert_true(s.has_uid);
	assert_int_equal(s.uid, 1000);
	assert_int_equal(s.inode, 777);
	assert_int_equal(s.cookie, 0);
	assert_null(s.path);
	assert_null(s.owners);
}

/* Every cut of a good line before its inode is rejected, and none crashes. */
static void test_truncated_lines(void **state)
{
	(void)state;
	size_t len = strlen(tcp_line);
	const char *inode = strstr(tcp_line, " 777 ");
	assert_non_null(inode);
	/* A cut inside the inode digits still reads as a (shorter) inode. */
	size_t first = (size_t)(inode - tcp_line) + 1;
	size_t need = first + 3;
	for (size_t cut = 0; cut <= len; cut++) {
		char *copy = malloc(cut ? cut : 1);
		assert_non_null(copy);
		memcpy(copy, tcp_line, cut);
		struct sock s;
		int ret = procnet_parse_inet(copy, cut, PROTO_TCP, AF_INET, &s);
		if (cut < first)
			assert_int_equal(ret, -EINVAL);
		else if (cut == need || tcp_line[cut] == ' ')
			assert_int_equal(ret, 0);
		ret = procnet_parse_unix(copy, cut, PROTO_UNIX, &s);
		assert_int_equal(ret, -EINVAL);
		ret = procnet_parse_packet(copy, cut, PROTO_PACKET, &s);
		assert_int_equal(ret, -EINVAL);
		free(copy);
	}
}

static void test_hostile_inet(void **state)
{
	(void)state;
	struct sock s;
	/* One megabyte of digits: every bounded field refuses it. */
	size_t big = 1 << 20;
	char *huge = malloc(big);
	assert_non_null(huge);
	memset(huge, '7', big);
	assert_int_equal(procnet_parse_inet(huge, big, PROTO_TCP, AF_INET, &s), -EINVAL);
	assert_int_equal(procnet_parse_inet(huge, big, PROTO_TCP, AF_INET6, &s), -EINVAL);
	assert_int_equal(procnet_parse_unix(huge, big, PROTO_UNIX, &s), -EINVAL);
	assert_int_equal(procnet_parse_packet(huge, big, PROTO_PACKET, &s), -EINVAL);
	memcpy(huge, "   0: ", 6);
	assert_int_equal(procnet_parse_inet(huge, big, PROTO_TCP, AF_INET, &s), -EINVAL);
	free(huge);

	assert_int_equal(parse_inet("", PROTO_TCP, AF_INET, &s), -EINVAL);
	assert_int_equal(parse_inet("  sl  local_address rem_address   st tx_queue", PROTO_TCP,
				    AF_INET, &s), -EINVAL);
	/* Wrong family for the line, and nonsense arguments. */
	assert_int_equal(parse_inet(tcp_line, PROTO_TCP, AF_INET6, &s), -EINVAL);
	assert_int_equal(parse_inet(tcp_line, PROTO_UNIX, AF_INET, &s), -EINVAL);
	assert_int_equal(parse_inet(tcp_line, PROTO_TCP, AF_UNIX, &s), -EINVAL);
	/* An embedded NUL is not a digit. */
	char nul[sizeof(tcp_line)];
	memcpy(nul, tcp_line, sizeof(tcp_line));
	nul[10] = '\0';
	assert_int_equal(procnet_parse_inet(nul, sizeof(tcp_line) - 1, PROTO_TCP, AF_INET, &s),
			 -EINVAL);
	/* A huge timer expiry saturates instead of wrapping. */
	assert_int_equal(parse_inet("   1: 0100007F:0016 0200007F:C822 01 00000000:00000000 "
				    "02:7FFFFFFFFFFFFFFF 00000000     0        0 5 1",
				    PROTO_TCP, AF_INET, &s), 0);
	assert_int_equal(s.expires_ms, UINT32_MAX);
	assert_int_equal(s.timer, TIMER_KEEPALIVE);
	assert_int_equal(parse_inet("   1: 0100007F:0016 0200007F:C822 01 00000000:00000000 "
				    "02:17FFFFFFFFFFFFFFF 00000000     0        0 5 1",
				    PROTO_TCP, AF_INET, &s), -EINVAL);
}

static void test_read_tcp(void **state)
{
	(void)state;
	if (!little_endian())
		skip();
	struct socklist l;
	socklist_init(&l);
	assert_int_equal(read_proc(FIXTURE, PROTO_TCP, AF_INET, STATES_ALL, collect, &l), 0);
	/* Of fifteen data lines, three are good; the rest are hostile. */
	assert_int_equal(l.len, 3);
	const struct sock *s = find_inode(&l, 602);
	assert_non_null(s);
	assert_int_equal(s->state, SS_LISTEN);
	assert_int_equal(s->local.port, 2024);
	assert_int_equal(s->timer, TIMER_OFF);
	s = find_inode(&l, 777);
	assert_non_null(s);
	assert_int_equal(s->uid, 1000);
	s = find_inode(&l, 0);
	assert_non_null(s);
	assert_int_equal(s->state, SS_TIME_WAIT);
	assert_int_equal(s->timer, TIMER_TIMEWAIT);
	assert_int_equal(s->expires_ms, 60000);
	socklist_finish(&l);

	/* The state mask is applied: the default view has no listeners. */
	socklist_init(&l);
	assert_int_equal(read_proc(FIXTURE, PROTO_TCP, AF_INET, STATES_DEFAULT, collect, &l),
			 0);
	assert_int_equal(l.len, 2);
	assert_null(find_inode(&l, 602));
	socklist_finish(&l);

	socklist_init(&l);
	assert_int_equal(read_proc(FIXTURE, PROTO_TCP, AF_INET, STATE_BIT(SS_LISTEN), collect,
				      &l), 0);
	assert_int_equal(l.len, 1);
	assert_int_equal(l.v[0].inode, 602);
	socklist_finish(&l);
}

static void test_read_tcp6(void **state)
{
	(void)state;
	if (!little_endian())
		skip();
	struct socklist l;
	socklist_init(&l);
	assert_int_equal(read_proc(FIXTURE, PROTO_TCP, AF_INET6, STATES_ALL, collect, &l), 0);
	assert_int_equal(l.len, 4); /* the 31-digit address is refused */
	const uint8_t loop6[16] = {[15] = 1};
	const struct sock *s = find_inode(&l, 10639);
	assert_non_null(s);
	assert_int_equal(s->family, AF_INET6);
	assert_memory_equal(s->local.addr, loop6, 16);
	assert_int_equal(s->local.port, 0x9855);
	s = find_inode(&l, 10640);
	assert_non_null(s);
	assert_int_equal(s->timer, TIMER_KEEPALIVE);
	assert_int_equal(s->expires_ms, 5000);
	s = find_inode(&l, 10641);
	assert_non_null(s);
	const uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, [12] = 127, [15] = 1};
	const uint8_t mapped2[16] = {[10] = 0xff, [11] = 0xff, [12] = 127, [15] = 2};
	assert_memory_equal(s->local.addr, mapped, 16);
	assert_memory_equal(s->peer.addr, mapped2, 16);
	assert_int_equal(s->local.port, 80);
	assert_int_equal(s->recv_q, 10);
	s = find_inode(&l, 10643);
	assert_non_null(s);
	const uint8_t ll[16] = {0xfe, 0x80, [15] = 1};
	assert_memory_equal(s->local.addr, ll, 16);
	assert_int_equal(s->local.scope, 0);
	assert_null(find_inode(&l, 10642));
	socklist_finish(&l);

	/* AF_UNSPEC reads both files. */
	socklist_init(&l);
	assert_int_equal(read_proc(FIXTURE, PROTO_TCP, AF_UNSPEC, STATES_ALL, collect, &l), 0);
	assert_int_equal(l.len, 7);
	socklist_finish(&l);
}

static void test_read_udp_raw(void **state)
{
	(void)state;
	if (!little_endian())
		skip();
	struct socklist l;
	socklist_init(&l);
	assert_int_equal(read_proc(FIXTURE, PROTO_UDP, AF_INET, STATES_ALL, collect, &l), 0);
	assert_int_equal(l.len, 2);
	const struct sock *s = find_inode(&l, 10642);
	assert_non_null(s);
	assert_int_equal(s->type, SOCK_DGRAM);
	assert_int_equal(s->state, SS_ESTABLISHED);
	assert_int_equal(s->local.port, 5353);
	assert_int_equal(s->peer.port, 53);
	assert_false(s->has_timer);
	s = find_inode(&l, 10650);
	assert_int_equal(s->state, SS_CLOSE);
	assert_int_equal(s->recv_q, 0x300);
	assert_int_equal(s->uid, 101);
	socklist_finish(&l);

	/* -l shows the unconnected one only. */
	socklist_init(&l);
	assert_int_equal(read_proc(FIXTURE, PROTO_UDP, AF_UNSPEC, STATES_LISTENING, collect,
				      &l), 0);
	assert_int_equal(l.len, 1);
	assert_int_equal(l.v[0].inode, 10650);
	socklist_finish(&l);

	/* A RAW socket's port is its protocol, as netlink gives it. */
	socklist_init(&l);
	assert_int_equal(read_proc(FIXTURE, PROTO_RAW, AF_UNSPEC, STATES_ALL, collect, &l), 0);
	assert_int_equal(l.len, 2);
	s = find_inode(&l, 10643);
	assert_non_null(s);
	assert_int_equal(s->family, AF_INET);
	assert_int_equal(s->type, SOCK_RAW);
	assert_int_equal(s->local.port, 1);
	assert_int_equal(s->state, SS_CLOSE);
	s = find_inode(&l, 10644);
	assert_non_null(s);
	assert_int_equal(s->family, AF_INET6);
	assert_int_equal(s->local.port, 58);
	socklist_finish(&l);
}

static void test_read_unix(void **state)
{
	(void)state;
	struct socklist l;
	socklist_init(&l);
	assert_int_equal(read_proc(FIXTURE, PROTO_UNIX, AF_UNIX, STATES_ALL, collect, &l), 0);
	assert_int_equal(l.len, 6);
	assert_null(find_inode(&l, 0)); /* an embryo, which unix_diag hides too */

	const struct sock *s = find_inode(&l, 10647);
	assert_non_null(s);
	assert_int_equal(s->family, AF_UNIX);
	assert_int_equal(s->proto, PROTO_UNIX);
	assert_int_equal(s->type, SOCK_STREAM);
	assert_int_equal(s->state, SS_ESTABLISHED);
	assert_int_equal(s->path_len, 0);
	assert_false(s->has_uid);

	/* A newline in the path cuts it; the fragment line is skipped. */
	s = find_inode(&l, 10646);
	assert_non_null(s);
	assert_int_equal(s->type, SOCK_DGRAM);
	assert_int_equal(s->state, SS_CLOSE);
	assert_int_equal(s->path_len, 9);
	assert_memory_equal(s->path, "/tmp/with", 9);

	s = find_inode(&l, 10648);
	assert_non_null(s);
	assert_int_equal(s->type, SOCK_SEQPACKET);

	/* Abstract: a leading NUL like netlink; inner NULs stay '@'. */
	s = find_inode(&l, 10645);
	assert_non_null(s);
	assert_int_equal(s->state, SS_LISTEN);
	assert_int_equal(s->path_len, 9);
	assert_memory_equal(s->path, "\0abs@name", 9);

	s = find_inode(&l, 10660);
	assert_non_null(s);
	assert_int_equal(s->path_len, 15);
	assert_memory_equal(s->path, " lead space/x y", 15);

	s = find_inode(&l, 10665);
	assert_non_null(s);
	assert_int_equal(s->state, SS_CLOSE);
	assert_int_equal(s->path_len, 11);
	socklist_finish(&l);

	socklist_init(&l);
	assert_int_equal(read_proc(FIXTURE, PROTO_UNIX, AF_UNIX, STATE_BIT(SS_LISTEN), collect,
				      &l), 0);
	assert_int_equal(l.len, 1);
	assert_int_equal(l.v[0].inode, 10645);
	socklist_finish(&l);

	/* The pure parser leaves the '@' in the caller's const line. */
	const char line[] = "0000000000000001: 00000002 00000000 00010000 0001 01 10645 @x";
	struct sock u;
	assert_int_equal(procnet_parse_unix(line, sizeof(line) - 1, PROTO_UNIX, &u), 0);
	assert_int_equal(u.path_len, 2);
	assert_memory_equal(u.path, "@x", 2);
}

static void test_read_packet(void **state)
{
	(void)state;
	struct socklist l;
	socklist_init(&l);
	assert_int_equal(read_proc(FIXTURE, PROTO_PACKET, AF_PACKET, STATES_ALL, collect, &l),
			 0);
	assert_int_equal(l.len, 2);
	const struct sock *s = find_inode(&l, 10650);
	assert_non_null(s);
	assert_int_equal(s->family, AF_PACKET);
	assert_int_equal(s->type, SOCK_RAW);
	assert_int_equal(s->local.port, 3);
	assert_int_equal(s->ifindex, 0);
	assert_int_equal(s->state, SS_CLOSE);
	assert_true(s->has_uid);
	s = find_inode(&l, 10651);
	assert_non_null(s);
	assert_int_equal(s->type, SOCK_DGRAM);
	assert_int_equal(s->local.port, 0x800);
	assert_int_equal(s->ifindex, 1);
	assert_int_equal(s->recv_q, 2304);
	assert_int_equal(s->uid, 1000);
	socklist_finish(&l);

	/* Packet sockets are never in the non-listening default view. */
	socklist_init(&l);
	assert_int_equal(read_proc(FIXTURE, PROTO_PACKET, AF_PACKET, STATES_DEFAULT, collect,
				      &l), 0);
	assert_int_equal(l.len, 0);
	socklist_finish(&l);
}

#define PROTO_FIXTURE TEST_DATA "/proto/proc"

/* Ping sockets: the udp layout, the local port being the echo identifier. */
static void test_read_icmp(void **state)
{
	(void)state;
	struct socklist l;
	socklist_init(&l);
	assert_int_equal(read_proc(PROTO_FIXTURE, PROTO_ICMP, AF_UNSPEC, STATES_ALL, collect, &l),
			 0);
	assert_int_equal(l.len, 3);
	const struct sock *s = find_inode(&l, 7818157);
	assert_non_null(s);
	assert_int_equal(s->family, AF_INET);
	assert_int_equal(s->type, SOCK_DGRAM);
	assert_int_equal(s->state, SS_CLOSE);
	assert_int_equal(s->local.port, 0x6F2A);
	assert_true(s->has_uid);
	assert_string_equal(sock_proto_name(s), "icmp");
	assert_string_equal(sock_state_name(s), "UNCONN");
	s = find_inode(&l, 7818158);
	assert_non_null(s);
	assert_int_equal(s->state, SS_ESTABLISHED);
	s = find_inode(&l, 7818159);
	assert_non_null(s);
	assert_int_equal(s->family, AF_INET6);
	assert_string_equal(sock_proto_name(s), "icmp6");
	socklist_finish(&l);
}

static const char netlink_line[] =
	"00000000a1a7b157 0   6966       00000011 832      16       0     2        0        7818160 ";

static void test_parse_netlink(void **state)
{
	(void)state;
	struct sock s;
	assert_int_equal(procnet_parse_netlink(netlink_line, strlen(netlink_line), PROTO_NETLINK,
					       &s), 0);
	assert_int_equal(s.proto, PROTO_NETLINK);
	assert_int_equal(s.family, AF_NETLINK);
	assert_int_equal(s.state, SS_CLOSE);
	assert_int_equal(s.nl.protocol, 0);
	assert_int_equal(s.nl.portid, 6966);
	assert_int_equal(s.nl.groups, 0x11);
	assert_int_equal(s.recv_q, 832);
	assert_int_equal(s.send_q, 16);
	assert_int_equal(s.inode, 7818160);
	assert_false(s.has_uid);
	assert_false(s.nl.connected);

	/* Every prefix that cuts a column short is rejected, never read past. */
	size_t full = strlen(netlink_line);
	for (size_t n = 0; n < full; n++) {
		char *copy = malloc(n ? n : 1);
		assert_non_null(copy);
		memcpy(copy, netlink_line, n);
		int r = procnet_parse_netlink(copy, n, PROTO_NETLINK, &s);
		/* Only the inode column cut short still parses, as a smaller number. */
		if (n < full - 7)
			assert_int_equal(r, -EINVAL);
		free(copy);
	}
	static const char *const bad[] = {
		"sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode",
		"00000000a1a7b157 256 6966       00000000 0        0        0     2        0        1",
		"00000000a1a7b157 0   4294967296 00000000 0        0        0     2        0        1",
		"00000000a1a7b157 0   1          0000000g 0        0        0     2        0        1",
		"00000000a1a7b157 0   1          000000001 0       0        0     2        0        1",
		"00000000a1a7b157 0   1          00000000 -1       0        0     2        0        1",
		"00000000a1a7b157 0   1          00000000 0        0        2     2        0        1",
		"00000000a1a7b157 0   1          00000000 0        0        0     2        0        1 x",
		"00000000a1a7b157 0   1          00000000 0        0        0     2        0        99999999999999999999",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(procnet_parse_netlink(bad[i], strlen(bad[i]), PROTO_NETLINK, &s),
				 -EINVAL);
}

static void test_read_netlink(void **state)
{
	(void)state;
	struct socklist l;
	socklist_init(&l);
	assert_int_equal(read_proc(PROTO_FIXTURE, PROTO_NETLINK, AF_NETLINK, STATES_ALL, collect,
				   &l), 0);
	assert_int_equal(l.len, 9);
	const struct sock *s = find_inode(&l, 7818160);
	assert_non_null(s);
	assert_int_equal(s->nl.portid, 6966);
	assert_int_equal(s->nl.groups, 1);
	assert_string_equal(sock_proto_name(s), "nl");
	assert_string_equal(sock_family_name(s), "netlink");
	s = find_inode(&l, 7819462);
	assert_non_null(s);
	assert_int_equal(s->nl.protocol, 4);
	assert_int_equal(s->nl.portid, 0);
	socklist_finish(&l);
	/* Unconnected, like every netlink socket: not in the default view. */
	socklist_init(&l);
	assert_int_equal(read_proc(PROTO_FIXTURE, PROTO_NETLINK, AF_NETLINK, STATES_DEFAULT,
				   collect, &l), 0);
	assert_int_equal(l.len, 0);
	socklist_finish(&l);
}

static int stop_after_one(void *arg, const struct sock *s)
{
	(void)s;
	int *n = arg;
	return ++*n == 1 ? 0 : -ECANCELED;
}

static void test_read_errors(void **state)
{
	(void)state;
	struct socklist l;
	socklist_init(&l);
	assert_int_equal(read_proc(TEST_DATA "/procnet/nonexistent", PROTO_TCP, AF_INET,
				      STATES_ALL, collect, &l), -ENOENT);
	/* Neither udplite file is in the fixture. */
	assert_int_equal(read_proc(FIXTURE, PROTO_UDPLITE, AF_UNSPEC, STATES_ALL, collect, &l),
			 -ENOENT);
	assert_int_equal(read_proc(FIXTURE, PROTO_UDPLITE, AF_INET, STATES_ALL, collect, &l),
			 -ENOENT);
	assert_int_equal(l.len, 0);
	socklist_finish(&l);

	/* The sink's error stops the read and is returned. */
	int n = 0;
	assert_int_equal(read_proc(FIXTURE, PROTO_TCP, AF_INET, STATES_ALL, stop_after_one, &n),
			 -ECANCELED);
	assert_int_equal(n, 2);
}

/* Writes text as ROOT/sys/net/ipv4/ip_local_port_range. */
static void write_range(const char *root, const char *text)
{
	char path[256];
	const char *dirs[] = {"sys", "sys/net", "sys/net/ipv4"};
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
		(void)mkdir(path, 0755);
	}
	snprintf(path, sizeof(path), "%s/sys/net/ipv4/ip_local_port_range", root);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* net.ipv4.ip_local_port_range: two ports, tab-separated as the kernel writes them. */
static void test_local_ports(void **state)
{
	(void)state;
	char root[] = "/tmp/procnet-XXXXXX";
	assert_non_null(mkdtemp(root));
	uint16_t lo = 1, hi = 2;
	assert_int_equal(procnet_local_ports(root, &lo, &hi), -ENOENT);
	write_range(root, "32768\t60999\n");
	assert_int_equal(procnet_local_ports(root, &lo, &hi), 0);
	assert_int_equal(lo, 32768);
	assert_int_equal(hi, 60999);
	write_range(root, "1024 1024");
	assert_int_equal(procnet_local_ports(root, &lo, &hi), 0);
	assert_int_equal(lo, 1024);
	assert_int_equal(hi, 1024);
	const char *bad[] = {"", "32768\n", "60999\t32768\n", "1 65536\n", "a b\n",
			     "1 2 3\n", "-1 2\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_range(root, bad[i]);
		lo = hi = 7;
		assert_int_equal(procnet_local_ports(root, &lo, &hi), -EINVAL);
		assert_int_equal(lo, 7);
	}
	char path[256];
	snprintf(path, sizeof(path), "%s/sys/net/ipv4/ip_local_port_range", root);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sys/net/ipv4", root);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/sys/net", root);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/sys", root);
	rmdir(path);
	rmdir(root);
}

/* A file far bigger than one read: the buffer grows and no line is lost. */
static void test_big_file(void **state)
{
	(void)state;
	char root[] = "/tmp/procnet-XXXXXX";
	assert_non_null(mkdtemp(root));
	char path[256];
	snprintf(path, sizeof(path), "%s/net", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/net/tcp", root);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
		   "retrnsmt   uid  timeout inode\n");
	enum { N = 60000 };
	for (int i = 0; i < N; i++)
		fprintf(f, "%4d: 0100007F:%04X 0100007F:0050 01 00000000:00000000 00:00000000 "
			   "00000000  1000        0 %d 1 0000000000000000 20 4 30 10 -1\n",
			i, i % 65536, 100000 + i);
	/* The last line has no newline. */
	fprintf(f, "%4d: 0100007F:0001 0100007F:0050 01 00000000:00000000 00:00000000 "
		   "00000000  1000        0 42 1", N);
	assert_int_equal(fclose(f), 0);

	struct socklist l;
	socklist_init(&l);
	assert_int_equal(read_proc(root, PROTO_TCP, AF_INET, STATES_ALL, collect, &l), 0);
	assert_int_equal(l.len, N + 1);
	assert_int_equal(l.v[0].inode, 100000);
	assert_int_equal(l.v[N - 1].inode, 100000 + N - 1);
	assert_int_equal(l.v[N].inode, 42);
	socklist_finish(&l);

	unlink(path);
	snprintf(path, sizeof(path), "%s/net", root);
	rmdir(path);
	rmdir(root);
}

/*
 * The live test runs in a forked child inside its own network namespace,
 * where cmocka's assertions cannot be used (they would longjmp into the
 * child's copy of the test runner), so the child reports by exit status.
 */
#define CHECK(x)                                                            \
	do {                                                                \
		if (!(x)) {                                                 \
			fprintf(stderr, "live check failed: %s (line %d)\n", \
				#x, __LINE__);                              \
			_exit(1);                                           \
		}                                                           \
	} while (0)

static uint64_t ino(int fd)
{
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	return st.st_ino;
}

static int read_all(enum proto p, int family, struct socklist *l)
{
	socklist_finish(l);
	socklist_init(l);
	return read_proc("/proc", p, family, STATES_ALL, collect, l);
}

static void live_child(void)
{
	CHECK(netns_enter() == 0);
	struct socklist l;
	socklist_init(&l);

	/* TCP: a listener on 127.0.0.1:4711 and one connection to it. */
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(4711),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	CHECK(bind(ls, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	CHECK(listen(ls, 8) == 0);
	int cs = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(connect(cs, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	CHECK(write(cs, "hello", 5) == 5);
	CHECK(read_all(PROTO_TCP, AF_INET, &l) == 0);
	const struct sock *s = find_inode(&l, ino(ls));
	CHECK(s && s->state == SS_LISTEN && s->local.port == 4711);
	CHECK(memcmp(s->local.addr, "\x7f\0\0\x01", 4) == 0);
	CHECK(s->uid == geteuid());
	s = find_inode(&l, ino(cs));
	CHECK(s && s->state == SS_ESTABLISHED && s->peer.port == 4711);
	/* The accepted side holds the 5 unread bytes (no inode until accept). */
	int as = accept(ls, NULL, NULL);
	CHECK(as >= 0);
	CHECK(read_all(PROTO_TCP, AF_INET, &l) == 0);
	s = find_inode(&l, ino(as));
	CHECK(s && s->recv_q == 5 && s->local.port == 4711);

	/* UDP over IPv6 loopback, connected. */
	int us = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(5353),
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	if (us >= 0 && bind(us, (struct sockaddr *)&s6, sizeof(s6)) == 0) {
		CHECK(connect(us, (struct sockaddr *)&s6, sizeof(s6)) == 0);
		CHECK(read_all(PROTO_UDP, AF_INET6, &l) == 0);
		s = find_inode(&l, ino(us));
		CHECK(s && s->state == SS_ESTABLISHED && s->local.port == 5353);
		CHECK(memcmp(s->local.addr, &in6addr_loopback, 16) == 0);
	}

	/* RAW ICMP: the port is the protocol number. */
	int rs = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	CHECK(rs >= 0);
	CHECK(read_all(PROTO_RAW, AF_INET, &l) == 0);
	s = find_inode(&l, ino(rs));
	CHECK(s && s->local.port == IPPROTO_ICMP && s->state == SS_CLOSE);

	/* UNIX: an abstract listener whose name holds a NUL. */
	int xs = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	memcpy(sun.sun_path, "\0sockstat\0test", 14);
	CHECK(bind(xs, (struct sockaddr *)&sun, offsetof(struct sockaddr_un, sun_path) + 14) == 0);
	CHECK(listen(xs, 1) == 0);
	int pair[2];
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair) == 0);
	CHECK(read_all(PROTO_UNIX, AF_UNIX, &l) == 0);
	s = find_inode(&l, ino(xs));
	CHECK(s && s->state == SS_LISTEN && s->path_len == 14);
	CHECK(memcmp(s->path, "\0sockstat@test", 14) == 0);
	s = find_inode(&l, ino(pair[0]));
	CHECK(s && s->state == SS_ESTABLISHED && s->type == SOCK_DGRAM && s->path_len == 0);

	/* Packet, bound to lo. */
	int ps = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
	CHECK(ps >= 0);
	CHECK(read_all(PROTO_PACKET, AF_PACKET, &l) == 0);
	s = find_inode(&l, ino(ps));
	CHECK(s && s->local.port == ETH_P_IP && s->type == SOCK_DGRAM);

	socklist_finish(&l);
	_exit(0);
}

static void test_live(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		printf("skipping: the live test needs root for a private network namespace\n");
		skip();
	}
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		live_child();
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The system default for IPV6_V6ONLY, read from the proc root's sysctl. */
static void test_bindv6only(void **state)
{
	(void)state;
	bool on = false;
	assert_int_equal(procnet_bindv6only(TEST_DATA "/proto/proc", &on), 0);
	assert_true(on);
	assert_int_equal(procnet_bindv6only(TEST_DATA "/procnet/v6only-off", &on), 0);
	assert_false(on);
	/* A kernel without IPv6 has no such file; nonsense in it is refused. */
	on = true;
	assert_int_equal(procnet_bindv6only(FIXTURE, &on), -ENOENT);
	assert_int_equal(procnet_bindv6only(TEST_DATA "/procnet/bad-sysctl", &on), -EINVAL);
	assert_true(on);
	assert_int_equal(procnet_bindv6only(TEST_DATA "/procnet/nonexistent", &on), -ENOENT);
}

/* /proc/net has no v6only column: inet6 sockets get the default, inet ones never. */
static void test_read_v6only(void **state)
{
	(void)state;
	for (int v = 0; v <= 1; v++) {
		struct procnet_request r = {FIXTURE, PROTO_TCP, AF_UNSPEC, STATES_ALL, v};
		struct socklist l;
		socklist_init(&l);
		assert_int_equal(procnet_read(&r, collect, &l), 0);
		size_t six = 0;
		for (size_t i = 0; i < l.len; i++) {
			six += l.v[i].family == AF_INET6;
			assert_int_equal(l.v[i].v6only, l.v[i].family == AF_INET6 && v);
		}
		assert_true(six > 0 && six < l.len);
		socklist_finish(&l);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bindv6only),
		cmocka_unit_test(test_read_v6only),
		cmocka_unit_test(test_parse_tcp4),
		cmocka_unit_test(test_truncated_lines),
		cmocka_unit_test(test_hostile_inet),
		cmocka_unit_test(test_read_tcp),
		cmocka_unit_test(test_read_tcp6),
		cmocka_unit_test(test_read_udp_raw),
		cmocka_unit_test(test_read_unix),
		cmocka_unit_test(test_read_packet),
		cmocka_unit_test(test_read_icmp),
		cmocka_unit_test(test_parse_netlink),
		cmocka_unit_test(test_read_netlink),
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_big_file),
		cmocka_unit_test(test_local_ports),
		cmocka_unit_test(test_live),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
