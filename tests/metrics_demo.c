/*
 * A test driver for the metrics writer: it renders a fixed, fabricated
 * population of records, so that tests/metrics_check.py can hand the
 * output to real consumers (promtool, the Python OpenMetrics parser) and
 * compare the values with the population it knows.
 *
 * Usage: metrics_demo prometheus|openmetrics [standard|ports300|countby KEYS [TOP]]
 *        [--output FILE]   (written atomically through outfile.h)
 *
 * The standard population (the counts the checker expects):
 *   - TCP listener 0.0.0.0:80, process web, Recv-Q 3, Send-Q 128 (twice,
 *     SO_REUSEPORT style: the series sums them to 6 and 256);
 *   - TCP listener [::]:8080, process named a"b\c<newline>d, Recv-Q 1, Send-Q 64;
 *   - 5 established connections into port 80 (process web), 2 TIME_WAIT
 *     ones into 80 (no process), 4 established out to port 443 (curl);
 *   - 1 UDP socket unconnected on 53, 3 UNIX stream sockets.
 * ports300: 300 TCP connections out, each to a distinct peer port.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "count.h"
#include "metrics.h"
#include "outfile.h"
#include "owners.h"

static const struct owner own_web = {NULL, 10, 3, 33, "web", NULL};
static const struct owner own_evil = {NULL, 11, 3, 0, "a\"b\\c\nd", NULL};
static const struct owner own_curl = {NULL, 12, 3, 1000, "curl", NULL};

static struct sock mk(enum proto p, int family, int state, uint16_t lp, uint16_t pp)
{
	struct sock s;
	memset(&s, 0, sizeof(s));
	s.proto = (uint8_t)p;
	s.family = (uint8_t)family;
	s.state = (uint8_t)state;
	s.type = p == PROTO_TCP || p == PROTO_UNIX ? SOCK_STREAM : SOCK_DGRAM;
	s.has_uid = true;
	s.inode = 1;
	s.local.port = lp;
	s.peer.port = pp;
	if (family == AF_INET) {
		inet_pton(AF_INET, state == SS_LISTEN || state == SS_CLOSE ? "0.0.0.0" : "10.0.0.1",
			  s.local.addr);
		if (state != SS_LISTEN && state != SS_CLOSE)
			inet_pton(AF_INET, "10.0.0.2", s.peer.addr);
	}
	return s;
}

static int add(struct metrics *m, struct sock s, int times)
{
	for (int i = 0; i < times; i++) {
		struct sock t = s;
		if (t.state != SS_LISTEN && t.proto == PROTO_TCP && t.peer.port == 0)
			t.peer.port = (uint16_t)(40000 + i);
		int err = metrics_add(m, &t);
		if (err)
			return err;
	}
	return 0;
}

static int standard(struct metrics *m)
{
	struct sock s = mk(PROTO_TCP, AF_INET, SS_LISTEN, 80, 0);
	s.owners = &own_web;
	s.recv_q = 3;
	s.send_q = 128;
	int err = add(m, s, 2);
	s = mk(PROTO_TCP, AF_INET6, SS_LISTEN, 8080, 0);
	s.owners = &own_evil;
	s.recv_q = 1;
	s.send_q = 64;
	err = err ? err : add(m, s, 1);
	s = mk(PROTO_TCP, AF_INET, SS_ESTABLISHED, 80, 0);
	s.owners = &own_web;
	err = err ? err : add(m, s, 5);
	s = mk(PROTO_TCP, AF_INET, SS_TIME_WAIT, 80, 0);
	s.inode = 0;
	err = err ? err : add(m, s, 2);
	for (int i = 0; i < 4 && !err; i++) {
		s = mk(PROTO_TCP, AF_INET, SS_ESTABLISHED, (uint16_t)(50000 + i), 443);
		s.owners = &own_curl;
		err = add(m, s, 1);
	}
	err = err ? err : add(m, mk(PROTO_UDP, AF_INET, SS_CLOSE, 53, 0), 1);
	err = err ? err : add(m, mk(PROTO_UNIX, AF_UNIX, SS_ESTABLISHED, 0, 0), 3);
	return err;
}

static int ports300(struct metrics *m)
{
	int err = 0;
	for (int i = 0; i < 300 && !err; i++) {
		struct sock s = mk(PROTO_TCP, AF_INET, SS_ESTABLISHED, (uint16_t)(30000 + i),
				   (uint16_t)(1000 + i));
		/* Port 1000 is the busiest: it must survive the cut. */
		err = add(m, s, i == 0 ? 50 : 1);
	}
	return err;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: metrics_demo prometheus|openmetrics [standard|ports300|countby KEYS [TOP]]\n");
		return 2;
	}
	const char *output = NULL;
	if (argc > 3 && strcmp(argv[argc - 2], "--output") == 0) {
		output = argv[argc - 1];
		argc -= 2;
	}
	struct metrics_opts o = {0};
	o.format = strcmp(argv[1], "openmetrics") == 0 ? METRICS_OPENMETRICS : METRICS_PROMETHEUS;
	const char *mode = argc > 2 ? argv[2] : "standard";
	enum count_key keys[COUNT_MAX_KEYS];
	if (strcmp(mode, "countby") == 0) {
		const char *bad;
		size_t badlen;
		if (argc < 4 || count_parse_keys(argv[3], keys, &o.nkeys, &bad, &badlen) != 0) {
			fprintf(stderr, "metrics_demo: bad keys\n");
			return 2;
		}
		o.keys = keys;
		o.top = argc > 4 ? (size_t)atoi(argv[4]) : 0;
	} else if (strcmp(mode, "ports300") == 0) {
		o.top = argc > 3 ? (size_t)atoi(argv[3]) : 0;
	}
	struct metrics *m;
	if (metrics_create(&m, &o, NULL) != 0)
		return 1;
	int err = strcmp(mode, "ports300") == 0 ? ports300(m) : standard(m);
	struct outfile of = OUTFILE_INIT;
	if (!err && output)
		err = outfile_open(&of, output);
	if (!err)
		err = metrics_write(m, output ? of.f : stdout, 0.012345);
	if (output && !err)
		err = outfile_commit(&of);
	else if (output)
		outfile_abort(&of);
	metrics_destroy(m);
	if (err) {
		fprintf(stderr, "metrics_demo: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}
