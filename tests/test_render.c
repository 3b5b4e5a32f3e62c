#include <arpa/inet.h>
#include <errno.h>
#include <locale.h>
#include <net/if.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "escape.h"
#include "jsoncheck.h"
#include "names.h"
#include "owners.h"
#include "render.h"

static struct names *names;
static char lo[IF_NAMESIZE]; /* the name of interface 1, normally "lo" */

/* Crafted records, one of each kind the renderer distinguishes. */
static const struct owner own_sshd = {NULL, 612, 3, 0, "sshd"};
static const struct owner own_evil2 = {NULL, 77, 9, 4242, "\x1b[31mevil\n\xff"};
static const struct owner own_evil1 = {&own_evil2, 1, 12, 0, "systemd"};

static void v4(uint8_t *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	memset(a, 0, 16);
	a[0] = x;
	a[1] = y;
	a[2] = z;
	a[3] = w;
}

static void v6(uint8_t *a, const char *text)
{
	assert_int_equal(inet_pton(AF_INET6, text, a), 1);
}

static struct sock base(enum proto p, int family, int state)
{
	struct sock s;
	memset(&s, 0, sizeof(s));
	s.proto = (uint8_t)p;
	s.family = (uint8_t)family;
	s.state = (uint8_t)state;
	s.has_uid = true;
	return s;
}

static struct sock tcp_listen(void)
{
	struct sock s = base(PROTO_TCP, AF_INET, SS_LISTEN);
	s.type = SOCK_STREAM;
	s.send_q = 128;
	s.local.port = 22;
	s.inode = 1000;
	s.owners = &own_sshd;
	return s;
}

static struct sock tcp6_estab(void)
{
	struct sock s = base(PROTO_TCP, AF_INET6, SS_ESTABLISHED);
	s.type = SOCK_STREAM;
	v6(s.local.addr, "::1");
	v6(s.peer.addr, "::1");
	s.local.port = 8080;
	s.peer.port = 51234;
	s.uid = 4242;
	s.inode = 123456;
	return s;
}

static struct sock udp_mapped(void)
{
	struct sock s = base(PROTO_UDP, AF_INET6, SS_CLOSE);
	s.type = SOCK_DGRAM;
	v6(s.local.addr, "::ffff:127.0.0.1");
	s.local.port = 53;
	s.recv_q = 7;
	s.inode = 5;
	return s;
}

static struct sock tcp6_scoped(uint32_t scope)
{
	struct sock s = base(PROTO_TCP, AF_INET6, SS_SYN_SENT);
	s.type = SOCK_STREAM;
	v6(s.local.addr, "fe80::1");
	v6(s.peer.addr, "fe80::2");
	s.local.scope = scope;
	s.peer.scope = scope;
	s.local.port = 40000;
	s.peer.port = 80;
	s.inode = 6;
	return s;
}

static struct sock raw_icmp(void)
{
	struct sock s = base(PROTO_RAW, AF_INET, SS_CLOSE);
	s.type = SOCK_RAW;
	s.local.port = 1; /* the protocol; never "tcpmux" */
	s.inode = 7;
	return s;
}

static struct sock unix_sock(const char *path, uint32_t len, uint64_t peer)
{
	struct sock s = base(PROTO_UNIX, AF_UNIX, peer ? SS_ESTABLISHED : SS_LISTEN);
	s.type = SOCK_STREAM;
	s.path = path;
	s.path_len = len;
	s.peer_inode = peer;
	s.inode = 8;
	return s;
}

static struct sock packet_sock(uint16_t proto, uint32_t ifindex)
{
	struct sock s = base(PROTO_PACKET, AF_PACKET, SS_CLOSE);
	s.type = SOCK_RAW;
	s.local.port = proto;
	s.ifindex = ifindex;
	s.inode = 9;
	return s;
}

/* Renders n records with o into a string (caller frees). */
static char *render(const struct render_opts *o, const struct sock *v, size_t n)
{
	static char *text;
	static size_t size;
	text = NULL;
	FILE *f = open_memstream(&text, &size);
	assert_non_null(f);
	struct render *r;
	assert_int_equal(render_create(&r, f, o, names), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(render_row(r, &v[i]), 0);
	assert_int_equal(render_finish(r), 0);
	render_destroy(r);
	assert_int_equal(fclose(f), 0);
	return text;
}

static const struct render_opts table_opts = {
	.format = FORMAT_TABLE, .header = true, .processes = true,
};

/* No line ends in a space, and every line ends in a newline. */
static void no_trailing_space(const char *t)
{
	size_t len = strlen(t);
	assert_true(len == 0 || t[len - 1] == '\n');
	for (size_t i = 1; i < len; i++)
		if (t[i] == '\n')
			assert_true(t[i - 1] != ' ');
}

static void check_table(const struct render_opts *o, const struct sock *v, size_t n,
			const char *want)
{
	char *t = render(o, v, n);
	if (strcmp(t, want) != 0)
		printf("<<<GOT\n%s>>>END\n", t);
	assert_string_equal(t, want);
	no_trailing_space(t);
	free(t);
}

/* Expectations name interface 1 "lo", as it is in any network namespace. */
static bool need_lo(void)
{
	if (strcmp(lo, "lo") == 0)
		return true;
	printf("skipped: interface 1 is not \"lo\" here\n");
	skip();
	return false;
}

static void table_contract_sample(void **state)
{
	(void)state;
	struct sock v[] = {tcp_listen(), tcp6_estab()};
	check_table(&table_opts, v, 2,
		"Proto State       Recv-Q Send-Q Local Address  Peer Address Process\n"
		"tcp   LISTEN      0      128    0.0.0.0:ssh    0.0.0.0:*    root 612 sshd\n"
		"tcp6  ESTABLISHED 0      0      [::1]:http-alt [::1]:51234  4242\n");
}

/*
 * Cells longer than 254 bytes (here a UNIX path whose bytes all escape to
 * four characters) are kept whole and aligned like any other, between
 * short rows, with every row's Proto and State intact.
 */
static void table_long_cells(void **state)
{
	(void)state;
	char path[120];
	memset(path, 0x01, sizeof(path));
	path[0] = '/';
	struct sock v[] = {tcp_listen(), unix_sock(path, sizeof(path), 0), tcp6_estab()};
	char *t = render(&table_opts, v, 3);
	no_trailing_space(t);
	char want_path[1 + 119 * 4 + 1];
	want_path[0] = '/';
	for (int i = 0; i < 119; i++)
		memcpy(want_path + 1 + i * 4, "\\x01", 4);
	want_path[sizeof(want_path) - 1] = '\0';
	char *lines[4];
	char *save = NULL;
	lines[0] = strtok_r(t, "\n", &save);
	for (int i = 1; i < 4; i++)
		lines[i] = strtok_r(NULL, "\n", &save);
	assert_non_null(lines[3]);
	assert_null(strtok_r(NULL, "\n", &save));
	assert_true(strncmp(lines[1], "tcp   LISTEN ", 13) == 0);
	assert_true(strncmp(lines[2], "u_str LISTEN ", 13) == 0);
	assert_true(strncmp(lines[3], "tcp6  ESTABLISHED ", 18) == 0);
	assert_non_null(strstr(lines[2], want_path));
	/* The Peer column starts at the same offset on every line. */
	size_t local = (size_t)(strstr(lines[0], "Local Address") - lines[0]);
	size_t peer = (size_t)(strstr(lines[0], "Peer Address") - lines[0]);
	assert_true(peer > local + strlen(want_path));
	assert_int_equal(lines[2][peer - 1], ' ');
	assert_true(lines[2][peer] != ' ');
	assert_true(lines[1][peer] != ' ' && lines[1][peer - 1] == ' ');
	assert_true(lines[3][peer] != ' ' && lines[3][peer - 1] == ' ');
	free(t);
}

/* A command that ends in spaces must not leave spaces at the line's end. */
static void table_comm_trailing_space(void **state)
{
	(void)state;
	static const struct owner spacey = {NULL, 42, 3, 0, "nginx  "};
	struct sock v[] = {tcp_listen()};
	v[0].owners = &spacey;
	char *t = render(&table_opts, v, 1);
	no_trailing_space(t);
	assert_non_null(strstr(t, "root 42 nginx\\x20\\x20\n"));
	free(t);
}

static void table_addresses(void **state)
{
	(void)state;
	if (!need_lo())
		return;
	struct sock v[] = {udp_mapped(), tcp6_scoped(1), tcp6_scoped(9999), raw_icmp(),
			   tcp_listen()};
	v[4].state = SS_TIME_WAIT;
	v[4].owners = NULL;
	v4(v[4].local.addr, 127, 0, 0, 1);
	v4(v[4].peer.addr, 192, 0, 2, 255);
	v[4].peer.port = 65535;
	check_table(&table_opts, v, 5,
		"Proto State     Recv-Q Send-Q Local Address             Peer Address        Process\n"
		"udp6  UNCONN    7      0      [::ffff:127.0.0.1]:domain *:*                 root\n"
		"tcp6  SYN_SENT  0      0      [fe80::1%lo]:40000        [fe80::2%lo]:http   root\n"
		"tcp6  SYN_SENT  0      0      [fe80::1%9999]:40000      [fe80::2%9999]:http root\n"
		"raw   UNCONN    0      0      0.0.0.0:1                 0.0.0.0:*           root\n"
		"tcp   TIME_WAIT 0      128    127.0.0.1:ssh             192.0.2.255:65535   root\n");
}

static void table_unix_packet(void **state)
{
	(void)state;
	if (!need_lo())
		return;
	static const char path[] = "/run/x.sock";
	static const char abstract[] = "\0dbus\0x";
	static const char hostile[] = "/tmp/\x1b]0;pwned\a\n";
	struct sock v[] = {
		unix_sock(path, sizeof(path) - 1, 0),
		unix_sock(abstract, sizeof(abstract) - 1, 4711),
		unix_sock(NULL, 0, 77),
		unix_sock(hostile, sizeof(hostile) - 1, 0),
		packet_sock(0x0003, 1),
		packet_sock(0x88cc, 0),
		packet_sock(0x86dd, 9999),
	};
	v[2].type = SOCK_DGRAM;
	v[2].state = SS_CLOSE;
	check_table(&table_opts, v, 7,
		"Proto  State       Recv-Q Send-Q Local Address             Peer Address Process\n"
		"u_str  LISTEN      0      0      /run/x.sock 8             *            root\n"
		"u_str  ESTABLISHED 0      0      @dbus\\x00x 8              * 4711       root\n"
		"u_dgr  UNCONN      0      0      * 8                       * 77         root\n"
		"u_str  LISTEN      0      0      /tmp/\\x1b]0;pwned\\x07\\n 8 *            root\n"
		"packet UNCONN      0      0      ALL:lo                    *            root\n"
		"packet UNCONN      0      0      0x88cc:*                  *            root\n"
		"packet UNCONN      0      0      IPv6:9999                 *            root\n");
}

static void table_owners(void **state)
{
	(void)state;
	struct sock v[] = {tcp_listen(), tcp_listen(), tcp_listen()};
	v[1].owners = &own_evil1;
	v[2].owners = NULL;
	v[2].has_uid = false;
	check_table(&table_opts, v, 3,
		"Proto State  Recv-Q Send-Q Local Address Peer Address Process\n"
		"tcp   LISTEN 0      128    0.0.0.0:ssh   0.0.0.0:*    root 612 sshd\n"
		"tcp   LISTEN 0      128    0.0.0.0:ssh   0.0.0.0:*    root 1 systemd, 4242 77 \\x1b[31mevil\\n\\xff\n"
		"tcp   LISTEN 0      128    0.0.0.0:ssh   0.0.0.0:*    -\n");
	struct render_opts o = table_opts;
	o.processes = false;
	o.header = false;
	o.numeric = true;
	check_table(&o, v, 3,
		"tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* root\n"
		"tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* root\n"
		"tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* -\n");
}

static void table_details(void **state)
{
	(void)state;
	if (!need_lo())
		return;
	static const struct sock_tcpinfo info = {
		.rtt_us = 50, .rttvar_us = 25, .snd_cwnd = 10, .snd_ssthresh = 7,
		.retransmits = 0, .total_retrans = 2, .bytes_sent = 10, .bytes_acked = 11,
		.bytes_received = 12, .delivery_rate = 1250000, .snd_mss = 65483,
		.cong = "cubic",
	};
	static const struct sock_meminfo mem = {{0, 131072, 0, 2626560, 0, 0, 0, 0, 0}, 9};
	struct sock v[] = {tcp6_estab(), tcp_listen(), unix_sock(NULL, 0, 0)};
	v[0].info = &info;
	v[0].mem = &mem;
	v[0].has_timer = true;
	v[0].timer = TIMER_KEEPALIVE;
	v[0].expires_ms = 7123;
	v[0].cookie = 42;
	v[0].ifindex = 1;
	struct render_opts o = table_opts;
	o.extended = o.info = o.memory = o.timers = true;
	check_table(&o, v, 3,
		"Proto State       Recv-Q Send-Q Local Address     Peer Address UID  Inode  Cookie Iface Timer                Memory                                           Info                                                                                                                                Process\n"
		"tcp6  ESTABLISHED 0      0      [::1]%lo:http-alt [::1]:51234  4242 123456 42     lo    keepalive (7.12/0/0) skmem:(r0,rb131072,t0,tb2626560,f0,w0,o0,bl0,d0) cubic rtt:0.05/0.025 mss:65483 cwnd:10 ssthresh:7 retrans:0/2 bytes_sent:10 bytes_acked:11 bytes_received:12 delivery_rate:10.0Mbps 4242\n"
		"tcp   LISTEN      0      128    0.0.0.0:ssh       0.0.0.0:*    0    1000   -      *     off (0.00/0/0)       -                                                -                                                                                                                                   root 612 sshd\n"
		"u_str LISTEN      0      0      * 8               *            0    8      -      *     -                    -                                                -                                                                                                                                   root\n");
}

/* Checks JSON output exactly, and that it parses: as one document, or line by line. */
static void check_json(const struct render_opts *o, const struct sock *v, size_t n,
		       const char *want)
{
	char *t = render(o, v, n);
	if (strcmp(t, want) != 0)
		printf("<<<GOT\n%s>>>END\n", t);
	assert_string_equal(t, want);
	if (o->format == FORMAT_JSON) {
		assert_true(json_valid(t, strlen(t)));
	} else {
		size_t lines = 0;
		for (char *line = t, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
			assert_true(json_valid(line, (size_t)(nl - line)));
			assert_int_equal(line[0], '{');
			lines++;
		}
		assert_int_equal(lines, n);
	}
	free(t);
}

static const struct render_opts json_opts = {
	.format = FORMAT_JSON, .header = true, .processes = true,
};

static void json_inet(void **state)
{
	(void)state;
	struct sock v[] = {tcp_listen(), tcp6_estab(), udp_mapped(), raw_icmp(), tcp6_scoped(3)};
	v[2].has_uid = false;
	v[3].owners = &own_evil1;
	check_json(&json_opts, v, 5,
		"[\n"
		"{\"proto\":\"tcp\",\"family\":\"inet\",\"state\":\"LISTEN\",\"recv_q\":0,\"send_q\":128,\"local\":{\"address\":\"0.0.0.0\",\"port\":22,\"service\":\"ssh\"},\"peer\":{\"address\":\"0.0.0.0\",\"port\":0},\"uid\":0,\"user\":\"root\",\"inode\":1000,\"processes\":[{\"pid\":612,\"command\":\"sshd\",\"fd\":3,\"user\":\"root\"}]},\n"
		"{\"proto\":\"tcp\",\"family\":\"inet6\",\"state\":\"ESTABLISHED\",\"recv_q\":0,\"send_q\":0,\"local\":{\"address\":\"::1\",\"port\":8080,\"service\":\"http-alt\"},\"peer\":{\"address\":\"::1\",\"port\":51234},\"v6only\":true,\"uid\":4242,\"user\":\"4242\",\"inode\":123456,\"processes\":[]},\n"
		"{\"proto\":\"udp\",\"family\":\"inet6\",\"state\":\"UNCONN\",\"recv_q\":7,\"send_q\":0,\"local\":{\"address\":\"::ffff:127.0.0.1\",\"port\":53,\"service\":\"domain\"},\"peer\":{\"address\":\"::\",\"port\":0},\"v6only\":false,\"uid\":null,\"user\":null,\"inode\":5,\"processes\":[]},\n"
		"{\"proto\":\"raw\",\"family\":\"inet\",\"state\":\"UNCONN\",\"recv_q\":0,\"send_q\":0,\"local\":{\"address\":\"0.0.0.0\",\"port\":1},\"peer\":{\"address\":\"0.0.0.0\",\"port\":0},\"uid\":0,\"user\":\"root\",\"inode\":7,\"processes\":[{\"pid\":1,\"command\":\"systemd\",\"fd\":12,\"user\":\"root\"},{\"pid\":77,\"command\":\"\\u001b[31mevil\\n\xef""\xbf""\xbd""\",\"fd\":9,\"user\":\"4242\"}]},\n"
		"{\"proto\":\"tcp\",\"family\":\"inet6\",\"state\":\"SYN_SENT\",\"recv_q\":0,\"send_q\":0,\"local\":{\"address\":\"fe80::1\",\"port\":40000,\"scope_id\":3},\"peer\":{\"address\":\"fe80::2\",\"port\":80,\"scope_id\":3},\"v6only\":true,\"uid\":0,\"user\":\"root\",\"inode\":6,\"processes\":[]}\n"
		"]\n");
}

/* -n drops service names; -P drops the processes key entirely. */
static void json_numeric_no_processes(void **state)
{
	(void)state;
	struct sock v[] = {tcp_listen()};
	struct render_opts o = json_opts;
	o.numeric = true;
	o.processes = false;
	check_json(&o, v, 1,
		"[\n"
		"{\"proto\":\"tcp\",\"family\":\"inet\",\"state\":\"LISTEN\",\"recv_q\":0,\"send_q\":128,\"local\":{\"address\":\"0.0.0.0\",\"port\":22},\"peer\":{\"address\":\"0.0.0.0\",\"port\":0},\"uid\":0,\"user\":\"root\",\"inode\":1000}\n"
		"]\n");
}

static void json_unix_packet(void **state)
{
	(void)state;
	if (!need_lo())
		return;
	static const char path[] = "/run/x.sock";
	static const char abstract[] = "\0dbus\0x";
	static const char hostile[] = "/tmp/\"\\\x1b\n\xff\xc3\xa9";
	struct sock v[] = {
		unix_sock(path, sizeof(path), 0), /* with the kernel's trailing NUL */
		unix_sock(abstract, sizeof(abstract) - 1, 4711),
		unix_sock(NULL, 0, 77),
		unix_sock(hostile, sizeof(hostile) - 1, 0),
		packet_sock(0x0003, 1),
		packet_sock(0x0800, 0),
	};
	v[2].type = SOCK_SEQPACKET;
	v[5].type = SOCK_DGRAM;
	check_json(&json_opts, v, 6,
		"[\n"
		"{\"proto\":\"unix\",\"family\":\"unix\",\"type\":\"stream\",\"state\":\"LISTEN\",\"recv_q\":0,\"send_q\":0,\"local\":{\"path\":\"/run/x.sock\"},\"peer\":{\"inode\":0},\"uid\":0,\"user\":\"root\",\"inode\":8,\"processes\":[]},\n"
		"{\"proto\":\"unix\",\"family\":\"unix\",\"type\":\"stream\",\"state\":\"ESTABLISHED\",\"recv_q\":0,\"send_q\":0,\"local\":{\"path\":\"@dbus\\u0000x\"},\"peer\":{\"inode\":4711},\"uid\":0,\"user\":\"root\",\"inode\":8,\"processes\":[]},\n"
		"{\"proto\":\"unix\",\"family\":\"unix\",\"type\":\"seqpacket\",\"state\":\"ESTABLISHED\",\"recv_q\":0,\"send_q\":0,\"local\":{\"path\":\"\"},\"peer\":{\"inode\":77},\"uid\":0,\"user\":\"root\",\"inode\":8,\"processes\":[]},\n"
		"{\"proto\":\"unix\",\"family\":\"unix\",\"type\":\"stream\",\"state\":\"LISTEN\",\"recv_q\":0,\"send_q\":0,\"local\":{\"path\":\"/tmp/\\\"\\\\\\u001b\\n\xef""\xbf""\xbd""\xc3""\xa9""\"},\"peer\":{\"inode\":0},\"uid\":0,\"user\":\"root\",\"inode\":8,\"processes\":[]},\n"
		"{\"proto\":\"packet\",\"family\":\"packet\",\"type\":\"raw\",\"state\":\"UNCONN\",\"recv_q\":0,\"send_q\":0,\"local\":{\"protocol\":3,\"interface\":\"lo\"},\"uid\":0,\"user\":\"root\",\"inode\":9,\"processes\":[]},\n"
		"{\"proto\":\"packet\",\"family\":\"packet\",\"type\":\"dgram\",\"state\":\"UNCONN\",\"recv_q\":0,\"send_q\":0,\"local\":{\"protocol\":2048,\"interface\":null},\"uid\":0,\"user\":\"root\",\"inode\":9,\"processes\":[]}\n"
		"]\n");
}

static void json_details(void **state)
{
	(void)state;
	if (!need_lo())
		return;
	static const struct sock_tcpinfo info = {
		.rtt_us = 50, .rttvar_us = 25, .snd_cwnd = 10, .snd_ssthresh = 0x7fffffff,
		.retransmits = 1, .total_retrans = 2, .bytes_sent = 10, .bytes_acked = 11,
		.bytes_received = 12, .delivery_rate = 1250000, .snd_mss = 65483,
	};
	static const struct sock_meminfo mem = {{1, 2, 3, 4, 5, 6, 7, 8, 9}, 4};
	struct sock v[] = {tcp6_estab(), udp_mapped(), unix_sock(NULL, 0, 0)};
	v[0].info = &info;
	v[0].mem = &mem;
	v[0].has_timer = true;
	v[0].timer = TIMER_ON;
	v[0].expires_ms = 200;
	v[0].retrans = 3;
	v[0].cookie = 42;
	v[0].ifindex = 1;
	struct render_opts o = json_opts;
	o.extended = o.info = o.memory = o.timers = true;
	o.format = FORMAT_NDJSON;
	check_json(&o, v, 3,
		"{\"proto\":\"tcp\",\"family\":\"inet6\",\"state\":\"ESTABLISHED\",\"recv_q\":0,\"send_q\":0,\"local\":{\"address\":\"::1\",\"port\":8080,\"service\":\"http-alt\"},\"peer\":{\"address\":\"::1\",\"port\":51234},\"v6only\":true,\"uid\":4242,\"user\":\"4242\",\"inode\":123456,\"cookie\":42,\"interface\":\"lo\",\"timer\":{\"kind\":\"on\",\"expires_ms\":200,\"retrans\":3},\"memory\":{\"rmem_alloc\":1,\"rcvbuf\":2,\"wmem_alloc\":3,\"sndbuf\":4},\"tcp_info\":{\"congestion\":null,\"rtt\":0.05,\"rttvar\":0.025,\"cwnd\":10,\"ssthresh\":null,\"retransmits\":1,\"total_retrans\":2,\"bytes_sent\":10,\"bytes_acked\":11,\"bytes_received\":12,\"delivery_rate\":1250000,\"mss\":65483},\"processes\":[]}\n"
		"{\"proto\":\"udp\",\"family\":\"inet6\",\"state\":\"UNCONN\",\"recv_q\":7,\"send_q\":0,\"local\":{\"address\":\"::ffff:127.0.0.1\",\"port\":53,\"service\":\"domain\"},\"peer\":{\"address\":\"::\",\"port\":0},\"v6only\":false,\"uid\":0,\"user\":\"root\",\"inode\":5,\"cookie\":null,\"interface\":null,\"timer\":{\"kind\":\"off\",\"expires_ms\":0,\"retrans\":0},\"memory\":null,\"processes\":[]}\n"
		"{\"proto\":\"unix\",\"family\":\"unix\",\"type\":\"stream\",\"state\":\"LISTEN\",\"recv_q\":0,\"send_q\":0,\"local\":{\"path\":\"\"},\"peer\":{\"inode\":0},\"uid\":0,\"user\":\"root\",\"inode\":8,\"cookie\":null,\"interface\":null,\"memory\":null,\"processes\":[]}\n");
}

static void json_empty(void **state)
{
	(void)state;
	check_json(&json_opts, NULL, 0, "[]\n");
	struct render_opts o = json_opts;
	o.format = FORMAT_NDJSON;
	check_json(&o, NULL, 0, "");
	check_table(&table_opts, NULL, 0,
		"Proto State Recv-Q Send-Q Local Address Peer Address Process\n");
}

/* A wildcard that takes IPv4 too is *, as ss prints it; a v6-only one [::]. */
static void dual_stack(void **state)
{
	(void)state;
	struct sock v[] = {base(PROTO_TCP, AF_INET6, SS_LISTEN), base(PROTO_TCP, AF_INET6, SS_LISTEN),
			   base(PROTO_UDP, AF_INET6, SS_CLOSE), tcp6_estab()};
	v[0].local.port = 9090;
	v[0].inode = 10;
	v[1] = v[0];
	v[1].local.port = 9091;
	v[1].v6only = true;
	v[2].local.port = 9092;
	v[2].inode = 11;
	/* The kernel reports the flag only for LISTEN and CLOSE: ::1 says it. */
	v[3].v6only = false;
	struct render_opts o = table_opts;
	o.numeric = true;
	check_table(&o, v, 4,
		"Proto State       Recv-Q Send-Q Local Address Peer Address Process\n"
		"tcp6  LISTEN      0      0      *:9090        *:*          root\n"
		"tcp6  LISTEN      0      0      [::]:9091     [::]:*       root\n"
		"udp6  UNCONN      0      0      *:9092        *:*          root\n"
		"tcp6  ESTABLISHED 0      0      [::1]:8080    [::1]:51234  4242\n");
	o = json_opts;
	o.numeric = true;
	o.processes = false;
	char *t = render(&o, v, 4);
	assert_true(json_valid(t, strlen(t)));
	const char *want[] = {"\"port\":9090},\"peer\":{\"address\":\"::\",\"port\":0},\"v6only\":false,",
			      "\"port\":9091},\"peer\":{\"address\":\"::\",\"port\":0},\"v6only\":true,",
			      "\"port\":9092},\"peer\":{\"address\":\"::\",\"port\":0},\"v6only\":false,",
			      "\"port\":51234},\"v6only\":true,"};
	for (size_t i = 0; i < 4; i++)
		assert_non_null(strstr(t, want[i]));
	free(t);
	/* Not on IPv4 sockets. */
	struct sock four = tcp_listen();
	t = render(&o, &four, 1);
	assert_null(strstr(t, "v6only"));
	free(t);
}

/*
 * A socket without a file (inode 0) has no owner and its kernel uid 0 is
 * a placeholder: Process and UID are "-", JSON uid and user null.
 */
static void no_file(void **state)
{
	(void)state;
	struct sock v[] = {tcp_listen(), tcp_listen()};
	v[0].state = SS_TIME_WAIT;
	v[0].inode = 0;
	v[0].owners = NULL;
	v[1].owners = NULL;
	struct render_opts o = table_opts;
	o.numeric = true;
	check_table(&o, v, 2,
		"Proto State     Recv-Q Send-Q Local Address Peer Address Process\n"
		"tcp   TIME_WAIT 0      128    0.0.0.0:22    0.0.0.0:*    -\n"
		"tcp   LISTEN    0      128    0.0.0.0:22    0.0.0.0:*    root\n");
	o.processes = false;
	o.header = false;
	o.extended = true;
	check_table(&o, v, 2,
		"tcp TIME_WAIT 0 128 0.0.0.0:22 0.0.0.0:* - 0    - * -\n"
		"tcp LISTEN    0 128 0.0.0.0:22 0.0.0.0:* 0 1000 - * root\n");
	o = json_opts;
	o.numeric = true;
	check_json(&o, v, 1,
		"[\n"
		"{\"proto\":\"tcp\",\"family\":\"inet\",\"state\":\"TIME_WAIT\",\"recv_q\":0,\"send_q\":128,\"local\":{\"address\":\"0.0.0.0\",\"port\":22},\"peer\":{\"address\":\"0.0.0.0\",\"port\":0},\"uid\":null,\"user\":null,\"inode\":0,\"processes\":[]}\n"
		"]\n");
}

/*
 * One entry per process in the table, in pid order, however many fds it
 * holds the socket on and in whatever order the chain comes; JSON keeps
 * every pid and fd.
 */
static void owners_once(void **state)
{
	(void)state;
	static const struct owner c3 = {NULL, 9, 4, 0, "nine"};
	static const struct owner c2 = {&c3, 5, 7, 0, "five"};
	static const struct owner c1 = {&c2, 5, 3, 0, "five"};
	static const struct owner u3 = {NULL, 5, 3, 0, "five"};
	static const struct owner u2 = {&u3, 2, 1, 0, "two"};
	static const struct owner u1 = {&u2, 9, 4, 0, "nine"};
	static const struct owner u0 = {&u1, 5, 7, 0, "five"};
	struct sock v[] = {tcp_listen(), tcp_listen()};
	v[0].owners = &c1;
	v[1].owners = &u0;
	struct render_opts o = table_opts;
	o.header = false;
	check_table(&o, v, 2,
		"tcp LISTEN 0 128 0.0.0.0:ssh 0.0.0.0:* root 5 five, root 9 nine\n"
		"tcp LISTEN 0 128 0.0.0.0:ssh 0.0.0.0:* root 2 two, root 5 five, root 9 nine\n");
	char *t = render(&json_opts, v, 1);
	assert_non_null(strstr(t, "\"processes\":[{\"pid\":5,\"command\":\"five\",\"fd\":3,\"user\":\"root\"},{\"pid\":5,\"command\":\"five\",\"fd\":7,\"user\":\"root\"},{\"pid\":9,"));
	free(t);
}

/* The display column where needle starts in line, in terminal cells. */
static size_t cells_before(const char *line, const char *needle)
{
	const char *at = strstr(line, needle);
	assert_non_null(at);
	return escape_width(line, (size_t)(at - line));
}

/* A CJK path is two cells a character: the next column still lines up. */
static void wide_cells(void **state)
{
	(void)state;
	if (!setlocale(LC_CTYPE, "C.UTF-8")) {
		printf("skipped: no C.UTF-8 locale\n");
		skip();
	}
	static const char cjk[] = "/run/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.sock"; /* 日本語 */
	static const char plain[] = "/run/abc.sock";
	static const char esc[] = "/run/\x01x.sock";
	struct sock v[] = {unix_sock(cjk, sizeof(cjk) - 1, 0), unix_sock(plain, sizeof(plain) - 1, 0),
			   unix_sock(esc, sizeof(esc) - 1, 0)};
	v[1].peer_inode = 99;
	v[2].peer_inode = 98;
	char *t = render(&table_opts, v, 3);
	setlocale(LC_CTYPE, "C");
	no_trailing_space(t);
	char *save = NULL;
	char *head = strtok_r(t, "\n", &save);
	char *l1 = strtok_r(NULL, "\n", &save);
	char *l2 = strtok_r(NULL, "\n", &save);
	char *l3 = strtok_r(NULL, "\n", &save);
	assert_non_null(l3);
	setlocale(LC_CTYPE, "C.UTF-8");
	size_t col = cells_before(head, "Peer Address");
	/* 日本語 is six cells and nine bytes; \x01 is four cells. */
	assert_int_equal(cells_before(l1, " * "), col - 1);
	assert_int_equal(cells_before(l2, "* 99"), col);
	assert_int_equal(cells_before(l3, "* 98"), col);
	/* The widest cell is the CJK one: 5 + 6 + 7 cells. */
	assert_int_equal(col, strlen("Proto State  Recv-Q Send-Q ") + 18 + 1);
	setlocale(LC_CTYPE, "C");
	free(t);
}

/*
 * A write error is the same negative errno for every format, reported
 * once by render_finish: JSON rows do not fail one by one (only a reader
 * that went away stops them early).
 */
static void write_error(void **state)
{
	(void)state;
	enum render_format formats[] = {FORMAT_TABLE, FORMAT_JSON, FORMAT_NDJSON};
	for (size_t k = 0; k < 3; k++) {
		FILE *f = fopen("/dev/full", "w");
		if (!f) {
			printf("skipped: no /dev/full\n");
			skip();
		}
		struct render_opts o = json_opts;
		o.format = formats[k];
		struct render *r;
		assert_int_equal(render_create(&r, f, &o, names), 0);
		struct sock s = tcp6_estab();
		for (int i = 0; i < 5000; i++)
			assert_int_equal(render_row(r, &s), 0);
		assert_int_equal(render_finish(r), -ENOSPC);
		render_destroy(r);
		fclose(f);
	}
}

static char *summary_text(const struct render_opts *o, const struct summary *sum)
{
	static char *text;
	static size_t size;
	text = NULL;
	FILE *f = open_memstream(&text, &size);
	assert_non_null(f);
	assert_int_equal(render_summary(f, o, sum), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void check_summary(const struct render_opts *o, const struct summary *sum,
			  const char *want)
{
	char *t = summary_text(o, sum);
	if (strcmp(t, want) != 0)
		printf("<<<GOT\n%s>>>END\n", t);
	assert_string_equal(t, want);
	if (o->format != FORMAT_TABLE)
		assert_true(json_valid(t, strlen(t)));
	else
		no_trailing_space(t);
	free(t);
}

static void summary_counts(void **state)
{
	(void)state;
	struct summary sum;
	memset(&sum, 0, sizeof(sum));
	sum.protos = PROTO_BIT(PROTO_TCP) | PROTO_BIT(PROTO_UDP) | PROTO_BIT(PROTO_RAW) |
		     PROTO_BIT(PROTO_UNIX);
	struct sock v[] = {tcp_listen(), tcp_listen(), tcp6_estab(), udp_mapped(),
			   unix_sock(NULL, 0, 0), unix_sock(NULL, 0, 5), tcp_listen()};
	v[1].state = SS_ESTABLISHED;
	v[4].type = SOCK_DGRAM;
	v[4].state = SS_CLOSE;
	v[6].state = SS_CLOSE; /* a TCP socket in CLOSE stays CLOSE, not UNCONN */
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		summary_add(&sum, &v[i]);
	/* Nonsense is not counted rather than written out of bounds. */
	struct sock bad = tcp_listen();
	bad.state = 200;
	summary_add(&sum, &bad);
	bad.state = SS_LISTEN;
	bad.proto = 99;
	summary_add(&sum, &bad);

	check_summary(&table_opts, &sum,
		"Proto Total IPv4 IPv6 ESTABLISHED CLOSE LISTEN UNCONN\n"
		"tcp   4     3    1    2           1     1      0\n"
		"udp   1     0    1    0           0     0      1\n"
		"raw   0     0    0    0           0     0      0\n"
		"unix  2     -    -    1           0     0      1\n"
		"total 7     3    2    3           1     1      2\n");
	struct render_opts o = table_opts;
	o.header = false;
	check_summary(&o, &sum,
		"tcp   4 3 1 2 1 1 0\n"
		"udp   1 0 1 0 0 0 1\n"
		"raw   0 0 0 0 0 0 0\n"
		"unix  2 - - 1 0 0 1\n"
		"total 7 3 2 3 1 1 2\n");
	check_summary(&json_opts, &sum,
		"{\"tcp\":{\"total\":4,\"ipv4\":3,\"ipv6\":1,\"states\":{\"ESTABLISHED\":2,\"CLOSE\":1,\"LISTEN\":1}},\"udp\":{\"total\":1,\"ipv4\":0,\"ipv6\":1,\"states\":{\"UNCONN\":1}},\"raw\":{\"total\":0,\"ipv4\":0,\"ipv6\":0,\"states\":{}},\"unix\":{\"total\":2,\"states\":{\"ESTABLISHED\":1,\"UNCONN\":1}}}\n");
	o.format = FORMAT_NDJSON;
	check_summary(&o, &sum,
		"{\"tcp\":{\"total\":4,\"ipv4\":3,\"ipv6\":1,\"states\":{\"ESTABLISHED\":2,\"CLOSE\":1,\"LISTEN\":1}},\"udp\":{\"total\":1,\"ipv4\":0,\"ipv6\":1,\"states\":{\"UNCONN\":1}},\"raw\":{\"total\":0,\"ipv4\":0,\"ipv6\":0,\"states\":{}},\"unix\":{\"total\":2,\"states\":{\"ESTABLISHED\":1,\"UNCONN\":1}}}\n");
}

static void summary_empty(void **state)
{
	(void)state;
	struct summary sum;
	memset(&sum, 0, sizeof(sum));
	sum.protos = PROTO_BIT(PROTO_PACKET);
	check_summary(&table_opts, &sum,
		"Proto  Total IPv4 IPv6\n"
		"packet 0     -    -\n"
		"total  0     -    -\n");
	check_summary(&json_opts, &sum,
		"{\"packet\":{\"total\":0,\"states\":{}}}\n");
}

/* A reader that went away ends the output with -EPIPE, not a crash or a hang. */
static void closed_pipe(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	FILE *f = fdopen(fds[1], "w");
	assert_non_null(f);
	struct render_opts o = json_opts;
	struct render *r;
	assert_int_equal(render_create(&r, f, &o, names), 0);
	struct sock s = tcp_listen();
	int err = 0;
	/* Bounded: well past one flush, so the write is certainly attempted. */
	for (int i = 0; i < 100000 && err == 0; i++)
		err = render_row(r, &s);
	if (err == 0)
		err = render_finish(r);
	assert_int_equal(err, -EPIPE);
	render_destroy(r);
	fclose(f);
	signal(SIGPIPE, old);
}

/*
 * 100k rows: JSON is written as it goes (the pending buffer never holds
 * much more than one flush), the table stays aligned, and every row is
 * there.
 */
static void many_rows(void **state)
{
	(void)state;
	enum { N = 100000 };
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	assert_non_null(f);
	struct render *r;
	assert_int_equal(render_create(&r, f, &json_opts, names), 0);
	struct sock s = tcp6_estab();
	char *one = render(&json_opts, &s, 1);
	size_t objlen = strlen(one) - strlen("[\n") - strlen("\n]\n");
	free(one);
	size_t seen_max = 0;
	for (size_t k = 1; k <= N; k++) {
		assert_int_equal(render_row(r, &s), 0);
		fflush(f);
		/* What the renderer holds back is bounded, whatever N is. */
		size_t total = 2 + k * objlen + (k - 1) * 2;
		assert_true(total >= size);
		if (total - size > seen_max)
			seen_max = total - size;
	}
	assert_int_equal(render_finish(r), 0);
	render_destroy(r);
	fclose(f);
	assert_int_equal(size, 2 + N * objlen + (N - 1) * 2 + 3);
	/* It did buffer (no write per row), and never more than about one chunk. */
	assert_true(seen_max > 4096);
	assert_true(seen_max < 64 * 1024 + objlen + 2);
	assert_true(json_valid(text, size));
	free(text);

	struct sock v[3] = {tcp_listen(), tcp6_estab(), udp_mapped()};
	text = NULL;
	f = open_memstream(&text, &size);
	assert_non_null(f);
	assert_int_equal(render_create(&r, f, &table_opts, names), 0);
	for (unsigned i = 0; i < N; i++) {
		v[i % 3].inode = i;
		assert_int_equal(render_row(r, &v[i % 3]), 0);
	}
	assert_int_equal(render_finish(r), 0);
	render_destroy(r);
	fclose(f);
	no_trailing_space(text);
	size_t lines = 0;
	const char *first = strstr(text, "Process");
	assert_non_null(first);
	size_t col = (size_t)(first - text);
	for (const char *line = text; *line; lines++) {
		const char *nl = strchr(line, '\n');
		assert_non_null(nl);
		/* The Process column starts at the same offset on every line. */
		assert_true((size_t)(nl - line) > col);
		assert_int_equal(line[col - 1], ' ');
		assert_true(line[col] != ' ');
		line = nl + 1;
	}
	assert_int_equal(lines, N + 1);
	free(text);
}

int main(void)
{
	if (!if_indextoname(1, lo))
		strcpy(lo, "1");
	if (names_create(&names, TEST_DATA "/render/services") != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_contract_sample),
		cmocka_unit_test(table_addresses),
		cmocka_unit_test(table_long_cells),
		cmocka_unit_test(table_comm_trailing_space),
		cmocka_unit_test(table_unix_packet),
		cmocka_unit_test(table_owners),
		cmocka_unit_test(table_details),
		cmocka_unit_test(json_inet),
		cmocka_unit_test(json_numeric_no_processes),
		cmocka_unit_test(json_unix_packet),
		cmocka_unit_test(json_details),
		cmocka_unit_test(json_empty),
		cmocka_unit_test(dual_stack),
		cmocka_unit_test(no_file),
		cmocka_unit_test(owners_once),
		cmocka_unit_test(wide_cells),
		cmocka_unit_test(write_error),
		cmocka_unit_test(summary_counts),
		cmocka_unit_test(summary_empty),
		cmocka_unit_test(closed_pipe),
		cmocka_unit_test(many_rows),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	names_destroy(names);
	return rc;
}
