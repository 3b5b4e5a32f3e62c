#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "buf.h"
#include "count.h"
#include "jsoncheck.h"
#include "owners.h"
#include "render.h"

/* Fabricated records: the engine only reads them, so plain structs do. */
static const struct owner own_nginx = {NULL, 100, 5, 33, "nginx", NULL};
static const struct owner own_curl = {NULL, 200, 3, 1000, "curl", NULL};
static const struct owner own_evil = {NULL, 300, 3, 0, "a\"b\\c\nd\xff", NULL};

static struct sock tcp4(int state, const char *la, uint16_t lp, const char *pa, uint16_t pp)
{
	struct sock s;
	memset(&s, 0, sizeof(s));
	s.proto = PROTO_TCP;
	s.family = AF_INET;
	s.type = SOCK_STREAM;
	s.state = (uint8_t)state;
	s.has_uid = true;
	s.uid = 7;
	s.inode = 42;
	assert_int_equal(inet_pton(AF_INET, la, s.local.addr), 1);
	assert_int_equal(inet_pton(AF_INET, pa, s.peer.addr), 1);
	s.local.port = lp;
	s.peer.port = pp;
	return s;
}

static struct sock tcp6(int state, const char *la, uint16_t lp, const char *pa, uint16_t pp)
{
	struct sock s = tcp4(state, "0.0.0.0", lp, "0.0.0.0", pp);
	s.family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, la, s.local.addr), 1);
	assert_int_equal(inet_pton(AF_INET6, pa, s.peer.addr), 1);
	return s;
}

static struct sock udp4(int state, uint16_t lp, const char *pa, uint16_t pp)
{
	struct sock s = tcp4(state, "127.0.0.1", lp, pa, pp);
	s.proto = PROTO_UDP;
	s.type = SOCK_DGRAM;
	return s;
}

static struct sock unix_stream(int state)
{
	struct sock s;
	memset(&s, 0, sizeof(s));
	s.proto = PROTO_UNIX;
	s.family = AF_UNIX;
	s.type = SOCK_STREAM;
	s.state = (uint8_t)state;
	s.inode = 9;
	s.has_uid = true;
	return s;
}

static struct count *make(const char *list)
{
	enum count_key keys[COUNT_MAX_KEYS];
	size_t n;
	const char *bad;
	size_t badlen;
	assert_int_equal(count_parse_keys(list, keys, &n, &bad, &badlen), 0);
	struct count *c;
	assert_int_equal(count_create(&c, keys, n, NULL, 0), 0);
	return c;
}

static void add(struct count *c, const struct sock *s, int times)
{
	for (int i = 0; i < times; i++)
		assert_int_equal(count_add(c, s), 0);
}

/* Renders c as a table or JSON into a string the caller frees. */
static char *render(const struct count *c, bool json, bool header)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	assert_non_null(f);
	struct count_render_opts o = {json, header};
	assert_int_equal(count_render(c, f, &o), 0);
	fclose(f);
	return text;
}

static void expect_table(struct count *c, size_t top, const char *want)
{
	assert_int_equal(count_finish(c, top), 0);
	char *got = render(c, false, true);
	assert_string_equal(got, want);
	free(got);
}

static void parse_keys(void **state)
{
	(void)state;
	enum count_key keys[COUNT_MAX_KEYS];
	size_t n;
	const char *bad = NULL;
	size_t badlen = 0;
	const char *all = "proto,family,state,local-addr,local-port,peer-addr,peer-port,"
			  "peer-net,direction,port,process,user,netns,cgroup";
	assert_int_equal(count_parse_keys(all, keys, &n, &bad, &badlen), 0);
	assert_int_equal(n, COUNT_KEY_COUNT);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(keys[i], (enum count_key)i);

	const char *list = "proto,foo,state";
	assert_int_equal(count_parse_keys(list, keys, &n, &bad, &badlen), -EINVAL);
	assert_ptr_equal(bad, list + 6);
	assert_int_equal(badlen, 3);

	/* A repeat, an empty word, a prefix and a case variant are all bad. */
	list = "state,proto,state";
	assert_int_equal(count_parse_keys(list, keys, &n, &bad, &badlen), -EINVAL);
	assert_ptr_equal(bad, list + 12);
	assert_int_equal(count_parse_keys("proto,", keys, &n, &bad, &badlen), -EINVAL);
	assert_int_equal(badlen, 0);
	assert_int_equal(count_parse_keys("", keys, &n, &bad, &badlen), -EINVAL);
	assert_int_equal(count_parse_keys("loc", keys, &n, &bad, &badlen), -EINVAL);
	assert_int_equal(count_parse_keys("Proto", keys, &n, &bad, &badlen), -EINVAL);
	assert_string_equal(count_key_name(COUNT_PEER_NET), "peer-net");
	assert_null(count_key_name(COUNT_KEY_COUNT));

	struct count *c;
	enum count_key twice[2] = {COUNT_PROTO, COUNT_PROTO};
	assert_int_equal(count_create(&c, twice, 2, NULL, 0), -EINVAL);
	assert_int_equal(count_create(&c, twice, 0, NULL, 0), -EINVAL);
}

static void by_state(void **state)
{
	(void)state;
	struct count *c = make("state");
	struct sock l = tcp4(SS_LISTEN, "0.0.0.0", 22, "0.0.0.0", 0);
	struct sock e = tcp4(SS_ESTABLISHED, "10.0.0.1", 22, "10.0.0.2", 5000);
	struct sock t = tcp4(SS_TIME_WAIT, "10.0.0.1", 22, "10.0.0.2", 5001);
	struct sock u = udp4(SS_CLOSE, 53, "0.0.0.0", 0);
	add(c, &l, 1);
	add(c, &e, 3);
	add(c, &t, 2);
	add(c, &u, 1);
	/* Ties (LISTEN and UNCONN, one each) in text order. */
	expect_table(c, 0,
		     "State       Count\n"
		     "ESTABLISHED 3\n"
		     "TIME_WAIT   2\n"
		     "LISTEN      1\n"
		     "UNCONN      1\n");
	count_destroy(c);
}

static void test_proto_family(void **state)
{
	(void)state;
	struct count *c = make("proto,family");
	struct sock a = tcp4(SS_ESTABLISHED, "10.0.0.1", 22, "10.0.0.2", 5000);
	struct sock b = tcp6(SS_ESTABLISHED, "::1", 22, "::1", 5000);
	struct sock x = unix_stream(SS_ESTABLISHED);
	add(c, &a, 2);
	add(c, &b, 2);
	add(c, &x, 5);
	expect_table(c, 0,
		     "Proto Family Count\n"
		     "unix  unix   5\n"
		     "tcp   inet   2\n"
		     "tcp   inet6  2\n");
	count_destroy(c);
}

/* Ports and addresses sort as numbers, not as text: 9 < 80 < 443 < 8080. */
static void ties_numeric(void **state)
{
	(void)state;
	struct count *c = make("local-port");
	uint16_t ports[] = {8080, 443, 80, 9};
	for (int i = 0; i < 4; i++) {
		struct sock s = tcp4(SS_ESTABLISHED, "10.0.0.1", ports[i], "10.0.0.2", 1);
		add(c, &s, 1);
	}
	expect_table(c, 0, "Local-Port Count\n9          1\n80         1\n443        1\n8080       1\n");
	count_destroy(c);

	c = make("peer-addr");
	const char *addrs[] = {"10.0.0.10", "10.0.0.9", "9.0.0.1", "10.0.0.100"};
	for (int i = 0; i < 4; i++) {
		struct sock s = tcp4(SS_ESTABLISHED, "10.0.0.1", 1, addrs[i], 1);
		add(c, &s, 1);
	}
	struct sock v6 = tcp6(SS_ESTABLISHED, "::1", 1, "2001:db8::1", 1);
	add(c, &v6, 1);
	struct sock nobody = unix_stream(SS_ESTABLISHED);
	add(c, &nobody, 1);
	/* "-" (no address) first, then IPv4 numerically, then IPv6. */
	expect_table(c, 0,
		     "Peer-Addr   Count\n"
		     "-           1\n"
		     "9.0.0.1     1\n"
		     "10.0.0.9    1\n"
		     "10.0.0.10   1\n"
		     "10.0.0.100  1\n"
		     "2001:db8::1 1\n");
	count_destroy(c);
}

static void addr_and_ports(void **state)
{
	(void)state;
	struct count *c = make("local-addr,local-port,peer-port");
	struct sock l = tcp4(SS_LISTEN, "0.0.0.0", 22, "0.0.0.0", 0);
	struct sock e = tcp6(SS_ESTABLISHED, "fe80::1", 22, "fe80::2", 51000);
	struct sock x = unix_stream(SS_LISTEN);
	add(c, &l, 1);
	add(c, &e, 2);
	add(c, &x, 1);
	expect_table(c, 0,
		     "Local-Addr Local-Port Peer-Port Count\n"
		     "fe80::1    22         51000     2\n"
		     "-          -          -         1\n"
		     "0.0.0.0    22         *         1\n");
	count_destroy(c);
}

static void peer_net(void **state)
{
	(void)state;
	struct count *c = make("peer-net");
	struct sock a = tcp4(SS_ESTABLISHED, "10.0.0.1", 1, "192.168.7.1", 1);
	struct sock b = tcp4(SS_ESTABLISHED, "10.0.0.1", 1, "192.168.7.254", 1);
	struct sock d = tcp4(SS_ESTABLISHED, "10.0.0.1", 1, "192.168.8.1", 1);
	struct sock e = tcp6(SS_ESTABLISHED, "::1", 1, "2001:db8:1:2:aaaa::1", 1);
	struct sock f = tcp6(SS_ESTABLISHED, "::1", 1, "2001:db8:1:2:bbbb::9", 1);
	struct sock g = tcp6(SS_ESTABLISHED, "::1", 1, "2001:db8:1:3::1", 1);
	struct sock m = tcp6(SS_ESTABLISHED, "::1", 1, "::ffff:10.1.2.3", 1);
	struct sock l = tcp4(SS_LISTEN, "0.0.0.0", 22, "0.0.0.0", 0);
	add(c, &a, 1);
	add(c, &b, 1);
	add(c, &d, 1);
	add(c, &e, 1);
	add(c, &f, 1);
	add(c, &g, 1);
	add(c, &m, 1);
	add(c, &l, 1);
	expect_table(c, 0,
		     "Peer-Net            Count\n"
		     "192.168.7.0/24      2\n"
		     "2001:db8:1:2::/64   2\n"
		     "-                   1\n"
		     "192.168.8.0/24      1\n"
		     "2001:db8:1:3::/64   1\n"
		     "::ffff:10.1.2.0/120 1\n");
	count_destroy(c);
}

/* Listeners: 0.0.0.0:80 (TCP) and UDP 53; connections in and out. */
static void population(struct count *c, bool listeners_last)
{
	struct sock l80 = tcp4(SS_LISTEN, "0.0.0.0", 80, "0.0.0.0", 0);
	struct sock u53 = udp4(SS_CLOSE, 53, "0.0.0.0", 0);
	struct sock in1 = tcp4(SS_ESTABLISHED, "10.0.0.1", 80, "10.9.9.9", 40001);
	struct sock in2 = tcp4(SS_TIME_WAIT, "10.0.0.1", 80, "10.9.9.8", 40002);
	struct sock out1 = tcp4(SS_ESTABLISHED, "10.0.0.1", 50001, "1.1.1.1", 443);
	struct sock out2 = tcp4(SS_ESTABLISHED, "10.0.0.1", 50002, "1.1.1.2", 443);
	struct sock out3 = tcp4(SS_ESTABLISHED, "10.0.0.1", 50003, "1.1.1.3", 22);
	/* A TCP connection from local port 53: UDP's listener does not make it in. */
	struct sock out4 = tcp4(SS_ESTABLISHED, "10.0.0.1", 53, "1.1.1.3", 9999);
	struct sock udpin = udp4(SS_ESTABLISHED, 53, "10.9.9.9", 1234);
	struct sock ux = unix_stream(SS_ESTABLISHED);
	if (!listeners_last) {
		add(c, &l80, 1);
		add(c, &u53, 1);
	}
	add(c, &in1, 1);
	add(c, &in2, 1);
	add(c, &out1, 1);
	add(c, &out2, 1);
	add(c, &out3, 1);
	add(c, &out4, 1);
	add(c, &udpin, 1);
	add(c, &ux, 1);
	if (listeners_last) {
		add(c, &l80, 1);
		add(c, &u53, 1);
	}
}

static const char direction_table[] =
	"Direction Port Count\n"
	"in        80   2\n"
	"out       443  2\n"
	"-         -    1\n"
	"in        53   1\n"
	"listen    53   1\n"
	"listen    80   1\n"
	"out       22   1\n"
	"out       9999 1\n";

static void direction_any_order(void **state)
{
	(void)state;
	for (int last = 0; last < 2; last++) {
		struct count *c = make("direction,port");
		assert_true(count_needs_listeners(c));
		population(c, last);
		expect_table(c, 0, direction_table);
		count_destroy(c);
	}
	struct count *c = make("state");
	assert_false(count_needs_listeners(c));
	count_destroy(c);
}

/*
 * With the listener pass first, connections are classified on arrival:
 * a thousand outgoing connections from distinct ephemeral ports make one
 * group, not a thousand pending ones.
 */
static void direction_with_listener_pass(void **state)
{
	(void)state;
	struct count *c = make("direction");
	struct sock l80 = tcp4(SS_LISTEN, "0.0.0.0", 80, "0.0.0.0", 0);
	struct sock in1 = tcp4(SS_ESTABLISHED, "10.0.0.1", 80, "10.9.9.9", 40001);
	assert_int_equal(count_add_listener(c, &l80), 0);
	assert_int_equal(count_add_listener(c, &in1), 0); /* not a listener: ignored */
	count_listeners_done(c);
	for (int i = 0; i < 1000; i++) {
		struct sock o = tcp4(SS_ESTABLISHED, "10.0.0.1", (uint16_t)(30000 + i), "1.1.1.1", 443);
		add(c, &o, 1);
	}
	add(c, &in1, 1);
	expect_table(c, 0, "Direction Count\nout       1000\nin        1\n");
	count_destroy(c);
}

static void process_user(void **state)
{
	(void)state;
	struct count *c = make("process,user");
	struct sock a = tcp4(SS_ESTABLISHED, "10.0.0.1", 80, "10.9.9.9", 1);
	a.owners = &own_nginx;
	struct sock b = a;
	b.owners = &own_curl;
	struct sock none = a;
	none.owners = NULL;  /* not visible: the kernel uid */
	struct sock tw = tcp4(SS_TIME_WAIT, "10.0.0.1", 80, "10.9.9.9", 2);
	tw.inode = 0;        /* TIME_WAIT: no socket behind it */
	add(c, &a, 3);
	add(c, &b, 1);
	add(c, &none, 1);
	add(c, &tw, 1);
	expect_table(c, 0,
		     "Process User Count\n"
		     "nginx   33   3\n"
		     "-       -    1\n"
		     "-       7    1\n"
		     "curl    1000 1\n");
	count_destroy(c);
}

static void netns_cgroup(void **state)
{
	(void)state;
	struct count *c = make("netns,cgroup");
	struct sock a = tcp4(SS_ESTABLISHED, "10.0.0.1", 80, "10.9.9.9", 1);
	add(c, &a, 1);
	assert_int_equal(count_set_netns(c, "blue"), 0);
	add(c, &a, 2);
	assert_int_equal(count_set_netns(c, NULL), 0);
	add(c, &a, 1);
	expect_table(c, 0, "Netns Cgroup Count\n-     -      2\nblue  -      2\n");
	count_destroy(c);

	/* --all-netns: the record's own namespace and cgroup id win. */
	c = make("netns,cgroup");
	assert_int_equal(count_set_netns(c, "blue"), 0);
	struct sock red = a;
	red.netns_name = "red";
	red.cgroup_id = 4242;
	add(c, &red, 2);
	add(c, &a, 1);
	expect_table(c, 0, "Netns Cgroup Count\nred   4242   2\nblue  -      1\n");
	count_destroy(c);
}

static void top_other(void **state)
{
	(void)state;
	struct count *c = make("peer-port,state");
	for (int p = 1; p <= 5; p++) {
		struct sock s = tcp4(SS_ESTABLISHED, "10.0.0.1", 1, "10.0.0.2", (uint16_t)p);
		add(c, &s, 10 - p);
	}
	expect_table(c, 2,
		     "Peer-Port State       Count\n"
		     "1         ESTABLISHED 9\n"
		     "2         ESTABLISHED 8\n"
		     "(other)   (other)     18\n");
	assert_int_equal(count_rows(c), 3);
	count_destroy(c);

	/* As many groups as N, or fewer: no (other) row. */
	c = make("state");
	struct sock s = tcp4(SS_ESTABLISHED, "10.0.0.1", 1, "10.0.0.2", 1);
	add(c, &s, 4);
	expect_table(c, 1, "State       Count\nESTABLISHED 4\n");
	count_destroy(c);
}

/* Every column as wide as its widest cell, header included, no trailing blank. */
static void table_layout(void **state)
{
	(void)state;
	struct count *c = make("process,state");
	struct sock a = tcp4(SS_ESTABLISHED, "10.0.0.1", 80, "10.9.9.9", 1);
	a.owners = &own_evil;
	add(c, &a, 12345);
	assert_int_equal(count_finish(c, 0), 0);
	char *got = render(c, false, true);
	assert_string_equal(got,
			    "Process       State       Count\n"
			    "a\"b\\\\c\\nd\\xff ESTABLISHED 12345\n");
	free(got);
	got = render(c, false, false);
	assert_string_equal(got, "a\"b\\\\c\\nd\\xff ESTABLISHED 12345\n");
	free(got);
	for (char *p = strchr(got = render(c, false, true), '\n'); p; p = strchr(p + 1, '\n'))
		assert_true(p == got || p[-1] != ' ');
	free(got);
	count_destroy(c);
}

static void json_output(void **state)
{
	(void)state;
	struct count *c = make("process,local-port,peer-net,direction");
	struct sock a = tcp4(SS_ESTABLISHED, "10.0.0.1", 80, "10.9.9.9", 1);
	a.owners = &own_evil;
	struct sock x = unix_stream(SS_ESTABLISHED);
	add(c, &a, 2);
	add(c, &x, 1);
	assert_int_equal(count_finish(c, 1), 0);
	char *got = render(c, true, true);
	assert_true(json_valid(got, strlen(got)));
	assert_string_equal(got,
			    "[{\"process\":\"a\\\"b\\\\c\\nd\xef\xbf\xbd\",\"local_port\":80,"
			    "\"peer_net\":\"10.9.9.0/24\",\"direction\":\"out\",\"count\":2},"
			    "{\"process\":\"(other)\",\"local_port\":\"(other)\",\"peer_net\":\"(other)\","
			    "\"direction\":\"(other)\",\"count\":1}]\n");
	free(got);
	count_destroy(c);

	/* No socket at all: an empty array and an empty table. */
	c = make("state");
	assert_int_equal(count_finish(c, 0), 0);
	got = render(c, true, true);
	assert_string_equal(got, "[]\n");
	free(got);
	got = render(c, false, true);
	assert_string_equal(got, "State Count\n");
	free(got);
	count_destroy(c);
}

static void fold_ports(void **state)
{
	(void)state;
	struct count *c = make("port,state");
	for (int p = 1; p <= 300; p++) {
		struct sock s = tcp4(SS_ESTABLISHED, "10.0.0.1", 50000, "10.0.0.2", (uint16_t)p);
		add(c, &s, p <= 3 ? 10 : 1);
		struct sock t = s;
		t.state = SS_TIME_WAIT;
		add(c, &t, 1);
	}
	assert_int_equal(count_finish(c, 0), 0);
	assert_int_equal(count_rows(c), 600);
	assert_int_equal(count_fold(c, COUNT_PORT, 3), 0);
	char *got = render(c, false, true);
	assert_string_equal(got,
			    "Port    State       Count\n"
			    "(other) ESTABLISHED 297\n"
			    "(other) TIME_WAIT   297\n"
			    "1       ESTABLISHED 10\n"
			    "2       ESTABLISHED 10\n"
			    "3       ESTABLISHED 10\n"
			    "1       TIME_WAIT   1\n"
			    "2       TIME_WAIT   1\n"
			    "3       TIME_WAIT   1\n");
	free(got);
	assert_int_equal(count_fold(c, COUNT_PROCESS, 3), -EINVAL);
	count_destroy(c);
}

/* Names that print alike under COUNT_UTF8_NAMES are one group. */
static void utf8_names_merge(void **state)
{
	(void)state;
	enum count_key k = COUNT_PROCESS;
	struct count *c;
	assert_int_equal(count_create(&c, &k, 1, NULL, COUNT_UTF8_NAMES), 0);
	static const struct owner o1 = {NULL, 1, 1, 0, "x\xff", NULL};
	static const struct owner o2 = {NULL, 2, 1, 0, "x\xfe", NULL};
	static const struct owner o3 = {NULL, 3, 1, 0, "x\x1b", NULL};
	struct sock a = tcp4(SS_ESTABLISHED, "10.0.0.1", 80, "10.9.9.9", 1);
	a.owners = &o1;
	add(c, &a, 1);
	a.owners = &o2;
	add(c, &a, 1);
	a.owners = &o3;
	add(c, &a, 1);
	assert_int_equal(count_finish(c, 0), 0);
	assert_int_equal(count_rows(c), 1);
	assert_int_equal(count_row_n(c, 0), 3);
	struct count_cell cell;
	count_cell(c, 0, 0, &cell);
	assert_int_equal(cell.len, 4);
	assert_memory_equal(cell.text, "x\xef\xbf\xbd", 4);
	count_destroy(c);

	struct buf b = BUF_INIT;
	count_utf8_clean(&b, "ok\n\t\xc3\xa9\xc2\x85\xed\xa0\x80\xe2\x82", 13);
	assert_string_equal(b.p, "ok\n\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
				 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	buf_finish(&b);
}

/* Memory follows the groups: 100,000 sockets in two groups are two groups. */
static void many_sockets_few_groups(void **state)
{
	(void)state;
	struct count *c = make("state,local-port");
	for (int i = 0; i < 100000; i++) {
		struct sock s = tcp4(i % 2 ? SS_ESTABLISHED : SS_TIME_WAIT, "10.0.0.1", 80, "10.0.0.2",
				     (uint16_t)(1024 + i % 60000));
		add(c, &s, 1);
	}
	assert_int_equal(count_finish(c, 0), 0);
	assert_int_equal(count_rows(c), 2);
	assert_int_equal(count_row_n(c, 0), 50000);
	assert_int_equal(count_row_n(c, 1), 50000);
	count_destroy(c);
	count_destroy(NULL);
}

static void queues_summed(void **state)
{
	(void)state;
	struct count *c = make("local-port");
	struct sock a = tcp4(SS_LISTEN, "0.0.0.0", 80, "0.0.0.0", 0);
	a.recv_q = 3;
	a.send_q = 128;
	add(c, &a, 2);
	assert_int_equal(count_finish(c, 0), 0);
	uint64_t rq, sq;
	count_row_queues(c, 0, &rq, &sq);
	assert_int_equal(rq, 6);
	assert_int_equal(sq, 256);
	count_destroy(c);
}

/* Prints sum in both -s layouts into one string the caller frees. */
static char *summary_text(const struct summary *sum)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	assert_non_null(f);
	struct render_opts o = {.format = FORMAT_TABLE, .header = true};
	assert_int_equal(render_summary(f, &o, sum), 0);
	o.format = FORMAT_JSON;
	assert_int_equal(render_summary(f, &o, sum), 0);
	fclose(f);
	return text;
}

/*
 * -s as a preset of the engine: the summary filled from its rows equals,
 * count for count and byte for byte in both layouts, the one filled
 * socket by socket, for every family and for datagram and stream states.
 */
static void summary_preset(void **state)
{
	(void)state;
	struct count *c;
	assert_int_equal(count_create(&c, summary_keys, SUMMARY_NKEYS, NULL, 0), 0);
	struct summary direct = {.protos = PROTO_BIT(PROTO_TCP) | PROTO_BIT(PROTO_UDP) |
					   PROTO_BIT(PROTO_UNIX)};
	struct summary preset = direct;
	const struct sock socks[] = {
		tcp4(SS_LISTEN, "0.0.0.0", 22, "0.0.0.0", 0),
		tcp4(SS_ESTABLISHED, "10.0.0.1", 22, "10.0.0.2", 5000),
		tcp6(SS_TIME_WAIT, "::1", 80, "::1", 5001),
		tcp6(SS_SYN_RECV, "::1", 80, "::1", 5002),
		udp4(SS_CLOSE, 53, "0.0.0.0", 0),
		udp4(SS_ESTABLISHED, 5003, "10.0.0.3", 53),
		unix_stream(SS_ESTABLISHED),
		unix_stream(SS_LISTEN),
	};
	for (size_t i = 0; i < sizeof(socks) / sizeof(socks[0]); i++) {
		int times = (int)i + 1;
		add(c, &socks[i], times);
		for (int k = 0; k < times; k++)
			summary_add(&direct, &socks[i]);
	}
	assert_int_equal(count_finish(c, 0), 0);
	assert_int_equal(summary_from_count(&preset, c), 0);
	assert_memory_equal(preset.count, direct.count, sizeof(direct.count));
	char *want = summary_text(&direct);
	char *got = summary_text(&preset);
	assert_string_equal(got, want);
	free(want);
	free(got);
	count_destroy(c);

	/* An engine with other keys is not the preset. */
	c = make("proto,state");
	assert_int_equal(count_finish(c, 0), 0);
	assert_int_equal(summary_from_count(&preset, c), -EINVAL);
	count_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_keys),
		cmocka_unit_test(by_state),
		cmocka_unit_test(test_proto_family),
		cmocka_unit_test(ties_numeric),
		cmocka_unit_test(addr_and_ports),
		cmocka_unit_test(peer_net),
		cmocka_unit_test(direction_any_order),
		cmocka_unit_test(direction_with_listener_pass),
		cmocka_unit_test(process_user),
		cmocka_unit_test(netns_cgroup),
		cmocka_unit_test(top_other),
		cmocka_unit_test(table_layout),
		cmocka_unit_test(json_output),
		cmocka_unit_test(fold_ports),
		cmocka_unit_test(utf8_names_merge),
		cmocka_unit_test(many_sockets_few_groups),
		cmocka_unit_test(queues_summed),
		cmocka_unit_test(summary_preset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
