/*
 * Times the counting engine and the metrics writer on fabricated records
 * (no kernel, no /proc): nanoseconds per socket for a few key lists, and
 * the groups kept. Not a test (timings vary); run by hand:
 *
 *   build/tests/count_bench [SOCKETS]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "count.h"
#include "metrics.h"
#include "owners.h"

static const struct owner own_web = {NULL, 10, 3, 33, "nginx", NULL};
static const struct owner own_cli = {NULL, 11, 3, 1000, "curl", NULL};

/* Socket i of n: one listener on 80, half the rest in, half out. */
static void fill(struct sock *s, size_t i)
{
	memset(s, 0, sizeof(*s));
	s->proto = PROTO_TCP;
	s->family = AF_INET;
	s->type = SOCK_STREAM;
	s->has_uid = true;
	s->inode = i + 1;
	s->local.addr[0] = 10;
	s->local.addr[3] = 1;
	if (i == 0) {
		s->state = SS_LISTEN;
		s->local.port = 80;
		s->owners = &own_web;
		return;
	}
	s->state = i % 10 == 0 ? SS_TIME_WAIT : SS_ESTABLISHED;
	s->peer.addr[0] = 192;
	s->peer.addr[1] = 168;
	s->peer.addr[2] = (uint8_t)(i / 256 % 200);
	s->peer.addr[3] = (uint8_t)i;
	if (i % 2) {
		s->local.port = 80;
		s->peer.port = (uint16_t)(1024 + i % 60000);
		s->owners = &own_web;
	} else {
		s->local.port = (uint16_t)(1024 + i % 60000);
		s->peer.port = (uint16_t)(443 + i % 3);
		s->owners = &own_cli;
	}
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void bench_keys(const char *list, size_t n, bool pass)
{
	enum count_key keys[COUNT_MAX_KEYS];
	size_t nkeys, badlen;
	const char *bad;
	if (count_parse_keys(list, keys, &nkeys, &bad, &badlen) != 0)
		exit(2);
	struct count *c;
	if (count_create(&c, keys, nkeys, NULL, 0) != 0)
		exit(1);
	double t0 = now();
	struct sock s;
	if (pass) {
		fill(&s, 0);
		count_add_listener(c, &s);
		count_listeners_done(c);
	}
	for (size_t i = 0; i < n; i++) {
		fill(&s, i);
		if (count_add(c, &s) != 0)
			exit(1);
	}
	double t1 = now();
	count_finish(c, 0);
	double t2 = now();
	printf("%-28s %s %7.1f ns/socket add, finish %6.2f ms, %zu rows\n", list,
	       pass ? "pass" : "    ", (t1 - t0) * 1e9 / (double)n, (t2 - t1) * 1e3, count_rows(c));
	count_destroy(c);
}

static void bench_metrics(size_t n, bool pass)
{
	struct metrics_opts o = {METRICS_PROMETHEUS, 0, false, NULL, 0};
	struct metrics *m;
	if (metrics_create(&m, &o, NULL) != 0)
		exit(1);
	FILE *devnull = fopen("/dev/null", "w");
	double t0 = now();
	struct sock s;
	if (pass) {
		fill(&s, 0);
		metrics_add_listener(m, &s);
		metrics_listeners_done(m);
	}
	for (size_t i = 0; i < n; i++) {
		fill(&s, i);
		if (metrics_add(m, &s) != 0)
			exit(1);
	}
	double t1 = now();
	metrics_write(m, devnull, 0);
	double t2 = now();
	printf("%-28s %s %7.1f ns/socket add, write %6.2f ms\n", "metrics (standard)", pass ? "pass" : "    ",
	       (t1 - t0) * 1e9 / (double)n, (t2 - t1) * 1e3);
	fclose(devnull);
	metrics_destroy(m);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	/* Records are made one at a time (the time includes making them), so
	 * the peak RSS is the engine's: run with 10000 and 1000000 to see
	 * it stay flat when the groups do. "only" runs just the metrics. */
	bool only = argc > 2 && strcmp(argv[2], "metrics") == 0;
	const char *lists[] = {"state", "proto,state", "direction,port", "peer-net,process",
			       "direction,port,state,process", "peer-addr,peer-port"};
	for (size_t i = 0; !only && i < sizeof(lists) / sizeof(*lists); i++)
		bench_keys(lists[i], n, false);
	if (!only)
		bench_keys("direction,port", n, true);
	if (!only)
		bench_metrics(n, false);
	bench_metrics(n, true);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS %ld KiB\n", ru.ru_maxrss);
	return 0;
}
