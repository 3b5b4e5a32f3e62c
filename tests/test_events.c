#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <sys/socket.h>

#include "events.h"
#include "fakekernel.h"
#include "filter.h"
#include "nl.h"

/*
 * The stream's multicast half against a fake kernel: announcements are
 * queued datagrams, a drop is an ENOBUFS in the queue, and the kernel's
 * drop counter is whatever the test says.
 */
static struct fake_kernel fake;
static uint32_t fake_drops;
static bool drops_known;

static ssize_t fake_recv_event(void *ctx, void *buf, size_t size, unsigned *group)
{
	struct fake_kernel *k = ctx;
	if (k->qnext == k->qlen)
		return -EAGAIN;
	*group = SKNLGRP_INET_TCP_DESTROY;
	return fake_recv(ctx, buf, size);
}

static int fake_drop_count(void *ctx, uint32_t *count)
{
	(void)ctx;
	if (!drops_known)
		return -ENOTSUP;
	*count = fake_drops;
	return 0;
}

static struct nl_transport transport(void)
{
	struct nl_transport t = fake_transport(&fake);
	t.recv_event = fake_recv_event;
	t.drops = fake_drop_count;
	return t;
}

/* A destroyed TCP socket from port sport, with its final counters. */
static void put_destroy(uint16_t sport, uint32_t cookie, uint64_t acked)
{
	struct fake_dgram *d = fake_dgram(&fake);
	struct nlmsghdr *nlh = fake_put_inet(d, 0, AF_INET, 7, sport, cookie, 0);
	struct tcp_info ti;
	memset(&ti, 0, sizeof(ti));
	ti.tcpi_bytes_acked = acked;
	ti.tcpi_bytes_received = 99;
	fake_put_attr(d, nlh, INET_DIAG_INFO, &ti, sizeof(ti));
}

struct run {
	char *text;
	size_t len;
	FILE *f;
	struct events *ev;
	struct nl_transport t;
};

static void start(struct run *r, const struct filter *filter, bool table)
{
	fake_reset(&fake);
	r->f = open_memstream(&r->text, &r->len);
	assert_non_null(r->f);
	r->t = transport();
	struct events_config cfg = {
		.protos = events_protocols(UINT32_MAX),
		.families = UINT32_MAX,
		.filter = filter,
		.render = {.numeric = true, .processes = true},
		.table = table,
		.interval_ms = 1000,
		.out = r->f,
		.transport = &r->t,
	};
	assert_int_equal(events_create(&r->ev, &cfg), 0);
	assert_int_equal(events_subscribe(r->ev), 0);
}

static void finish(struct run *r)
{
	events_destroy(r->ev);
	fclose(r->f);
	free(r->text);
}

static void test_lost_counted(void **state)
{
	(void)state;
	struct run r;
	start(&r, NULL, false);
	drops_known = true;
	fake_drops = 7;
	fake_recv_error(&fake, -ENOBUFS);
	put_destroy(4242, 5, 1001);
	struct events_error err;
	assert_int_equal(events_pump(r.ev, &err), 0);
	fflush(r.f);
	char *lost = strstr(r.text, "{\"event\":\"lost\"");
	char *close = strstr(r.text, "{\"event\":\"close\"");
	assert_non_null(lost);
	assert_non_null(close);
	assert_true(lost < close);
	assert_non_null(strstr(lost, "\"count\":7}\n"));
	assert_non_null(strstr(close, "\"port\":4242"));
	assert_non_null(strstr(close, "\"bytes_acked\":1001"));
	assert_non_null(strstr(close, "\"processes\":[],\"duration_ms\":null}\n"));

	/* Later drops count from the last report, not from zero. */
	fake_drops = 10;
	fake_recv_error(&fake, -ENOBUFS);
	size_t before = r.len;
	assert_int_equal(events_pump(r.ev, &err), 0);
	fflush(r.f);
	assert_non_null(strstr(r.text + before, "\"count\":3}\n"));
	finish(&r);
}

static void test_lost_unknown_is_one(void **state)
{
	(void)state;
	struct run r;
	start(&r, NULL, false);
	drops_known = false;
	fake_recv_error(&fake, -ENOBUFS);
	struct events_error err;
	assert_int_equal(events_pump(r.ev, &err), 0);
	fflush(r.f);
	assert_non_null(strstr(r.text, "\"event\":\"lost\""));
	assert_non_null(strstr(r.text, "\"count\":1}\n"));
	finish(&r);
}

static void test_socket_error_fails(void **state)
{
	(void)state;
	struct run r;
	start(&r, NULL, false);
	fake_recv_error(&fake, -EIO);
	struct events_error err;
	assert_int_equal(events_pump(r.ev, &err), -EIO);
	assert_int_equal(err.kind, EVENTS_NETLINK);
	finish(&r);
}

static void test_filter_applies(void **state)
{
	(void)state;
	struct filter *f;
	struct filter_error ferr;
	const char *words[] = {"sport", "=", ":80"};
	assert_int_equal(filter_parse(3, words, NULL, &f, &ferr), 0);
	struct run r;
	start(&r, f, false);
	put_destroy(81, 1, 1);
	put_destroy(80, 2, 1);
	struct events_error err;
	assert_int_equal(events_pump(r.ev, &err), 0);
	fflush(r.f);
	assert_non_null(strstr(r.text, "\"port\":80}"));
	assert_null(strstr(r.text, "\"port\":81"));
	assert_null(strchr(strchr(r.text, '\n') + 1, '\n'));
	finish(&r);
	filter_destroy(f);
}

static void test_table_row(void **state)
{
	(void)state;
	struct run r;
	start(&r, NULL, true);
	put_destroy(8080, 3, 123456);
	struct events_error err;
	assert_int_equal(events_pump(r.ev, &err), 0);
	fflush(r.f);
	/* Time Event Proto Local Peer State Duration Sent Received Process */
	assert_non_null(strstr(r.text, " close tcp   0.0.0.0:8080 "));
	assert_non_null(strstr(r.text, " CLOSE       -        123456   99       42\n"));
	finish(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lost_counted),
		cmocka_unit_test(test_lost_unknown_is_one),
		cmocka_unit_test(test_socket_error_fails),
		cmocka_unit_test(test_filter_applies),
		cmocka_unit_test(test_table_row),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
