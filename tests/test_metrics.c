#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "metrics.h"
#include "owners.h"

static const struct owner own_web = {NULL, 10, 3, 33, "web", NULL};
static const struct owner own_evil = {NULL, 11, 3, 0, "q\"b\\n\nx\xff\x1b", NULL};

static struct sock tcp(int state, uint16_t lp, uint16_t pp)
{
	struct sock s;
	memset(&s, 0, sizeof(s));
	s.proto = PROTO_TCP;
	s.family = AF_INET;
	s.type = SOCK_STREAM;
	s.state = (uint8_t)state;
	s.has_uid = true;
	s.inode = 5;
	s.local.port = lp;
	s.peer.port = pp;
	inet_pton(AF_INET, "127.0.0.1", s.local.addr);
	if (pp)
		inet_pton(AF_INET, "127.0.0.2", s.peer.addr);
	return s;
}

/* A listener on 80 with a backlog, one connection in, one out. */
static void population(struct metrics *m)
{
	struct sock l = tcp(SS_LISTEN, 80, 0);
	l.owners = &own_evil;
	l.recv_q = 2;
	l.send_q = 511;
	struct sock in = tcp(SS_ESTABLISHED, 80, 40000);
	in.owners = &own_web;
	struct sock out = tcp(SS_SYN_SENT, 40001, 443);
	/* Connections first: the engine must classify them at the end. */
	assert_int_equal(metrics_add(m, &in), 0);
	assert_int_equal(metrics_add(m, &out), 0);
	assert_int_equal(metrics_add(m, &l), 0);
}

static char *write_metrics(const struct metrics_opts *o, const char *netns)
{
	struct metrics *m;
	assert_int_equal(metrics_create(&m, o, NULL), 0);
	if (netns)
		assert_int_equal(metrics_set_netns(m, netns), 0);
	population(m);
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	assert_non_null(f);
	assert_int_equal(metrics_write(m, f, 0.5), 0);
	fclose(f);
	metrics_destroy(m);
	return text;
}

/*
 * Runs `promtool check metrics` on text. Skipped (returns false) only
 * when promtool is not installed; its verdict otherwise fails the test.
 */
static bool promtool_ok(const char *text)
{
	if (access("/usr/bin/promtool", X_OK) != 0)
		return false;
	char path[] = "/tmp/test_metrics.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "/usr/bin/promtool check metrics < %s 2>&1", path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[512];
	while (fgets(line, sizeof(line), p))
		print_message("promtool: %s", line);
	int status = pclose(p);
	unlink(path);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return true;
}

static const char standard_text[] =
	"# HELP sockstat_sockets Sockets by protocol, address family and state.\n"
	"# TYPE sockstat_sockets gauge\n"
	"sockstat_sockets{proto=\"tcp\",family=\"inet\",state=\"ESTABLISHED\"} 1\n"
	"sockstat_sockets{proto=\"tcp\",family=\"inet\",state=\"LISTEN\"} 1\n"
	"sockstat_sockets{proto=\"tcp\",family=\"inet\",state=\"SYN_SENT\"} 1\n"
	"# HELP sockstat_listen_queue Connections waiting to be accepted by a TCP listener (Recv-Q).\n"
	"# TYPE sockstat_listen_queue gauge\n"
	"sockstat_listen_queue{proto=\"tcp\",address=\"127.0.0.1\",port=\"80\","
	"process=\"q\\\"b\\\\n\\nx\xef\xbf\xbd\xef\xbf\xbd\"} 2\n"
	"# HELP sockstat_listen_queue_max Backlog of a TCP listener (Send-Q).\n"
	"# TYPE sockstat_listen_queue_max gauge\n"
	"sockstat_listen_queue_max{proto=\"tcp\",address=\"127.0.0.1\",port=\"80\","
	"process=\"q\\\"b\\\\n\\nx\xef\xbf\xbd\xef\xbf\xbd\"} 511\n"
	"# HELP sockstat_connections TCP connections by direction, service port, state and process.\n"
	"# TYPE sockstat_connections gauge\n"
	"sockstat_connections{direction=\"in\",port=\"80\",state=\"ESTABLISHED\",process=\"web\"} 1\n"
	"sockstat_connections{direction=\"out\",port=\"443\",state=\"SYN_SENT\",process=\"-\"} 1\n"
	"# HELP sockstat_scrape_duration_seconds Time sockstat took to gather these metrics.\n"
	"# TYPE sockstat_scrape_duration_seconds gauge\n";

static void prometheus_exact(void **state)
{
	(void)state;
	struct metrics_opts o = {METRICS_PROMETHEUS, 0, false, NULL, 0};
	char *text = write_metrics(&o, NULL);
	size_t n = strlen(standard_text);
	assert_true(strlen(text) > n);
	assert_memory_equal(text, standard_text, n);
	assert_string_equal(text + n, "sockstat_scrape_duration_seconds 0.500000\n");
	promtool_ok(text);
	free(text);
}

static void openmetrics_exact(void **state)
{
	(void)state;
	struct metrics_opts o = {METRICS_OPENMETRICS, 0, false, NULL, 0};
	char *text = write_metrics(&o, NULL);
	size_t n = strlen(standard_text);
	assert_memory_equal(text, standard_text, n);
	assert_string_equal(text + n,
			    "# UNIT sockstat_scrape_duration_seconds seconds\n"
			    "sockstat_scrape_duration_seconds 0.500000\n"
			    "# EOF\n");
	promtool_ok(text);
	free(text);
}

/* --all-netns: every family but the run's duration gains netns first. */
static void netns_label(void **state)
{
	(void)state;
	for (int fmt = 0; fmt < 2; fmt++) {
		struct metrics_opts o = {(enum metrics_format)fmt, 0, true, NULL, 0};
		char *text = write_metrics(&o, "blue\"ns");
		assert_non_null(strstr(text, "sockstat_sockets{netns=\"blue\\\"ns\",proto=\"tcp\""));
		assert_non_null(strstr(text, "sockstat_listen_queue{netns=\"blue\\\"ns\",proto=\"tcp\","));
		assert_non_null(strstr(text, "sockstat_connections{netns=\"blue\\\"ns\",direction=\"in\""));
		promtool_ok(text);
		free(text);
	}
}

static void count_by(void **state)
{
	(void)state;
	enum count_key keys[] = {COUNT_LOCAL_PORT, COUNT_DIRECTION};
	struct metrics_opts o = {METRICS_PROMETHEUS, 0, false, keys, 2};
	char *text = write_metrics(&o, NULL);
	assert_string_equal(text,
			    "# HELP sockstat_sockets Sockets grouped by the --count-by keys.\n"
			    "# TYPE sockstat_sockets gauge\n"
			    "sockstat_sockets{local_port=\"80\",direction=\"in\"} 1\n"
			    "sockstat_sockets{local_port=\"80\",direction=\"listen\"} 1\n"
			    "sockstat_sockets{local_port=\"40001\",direction=\"out\"} 1\n");
	promtool_ok(text);
	free(text);
	o.top = 1;
	o.format = METRICS_OPENMETRICS;
	text = write_metrics(&o, NULL);
	assert_non_null(strstr(text, "sockstat_sockets{local_port=\"other\",direction=\"other\"} 2\n# EOF\n"));
	promtool_ok(text);
	free(text);
}

/* No socket at all still gives every family, with no sample. */
static void empty(void **state)
{
	(void)state;
	struct metrics_opts o = {METRICS_OPENMETRICS, 0, false, NULL, 0};
	struct metrics *m;
	assert_int_equal(metrics_create(&m, &o, NULL), 0);
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	assert_int_equal(metrics_write(m, f, 0), 0);
	fclose(f);
	metrics_destroy(m);
	assert_non_null(strstr(text, "# TYPE sockstat_listen_queue_max gauge\n# HELP sockstat_connections"));
	promtool_ok(text);
	free(text);
	metrics_destroy(NULL);
}

/* The duration: microseconds, never a locale's comma, never NaN. */
static void duration(void **state)
{
	(void)state;
	const double in[] = {0.0123456, 2.5, -1.0, NAN, 1e300};
	const char *want[] = {"0.012346", "2.500000", "0.000000", "0.000000", "0.000000"};
	for (int i = 0; i < 5; i++) {
		struct metrics_opts o = {METRICS_PROMETHEUS, 0, false, NULL, 0};
		struct metrics *m;
		assert_int_equal(metrics_create(&m, &o, NULL), 0);
		char *text = NULL;
		size_t size = 0;
		FILE *f = open_memstream(&text, &size);
		assert_int_equal(metrics_write(m, f, in[i]), 0);
		fclose(f);
		metrics_destroy(m);
		char line[64];
		snprintf(line, sizeof(line), "\nsockstat_scrape_duration_seconds %s\n", want[i]);
		assert_non_null(strstr(text, line));
		free(text);
	}
}

static void escape_label(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	metrics_escape_label(&b, "a\\b\"c\nd\te\x7f\xc2\x9f\xff\xc3\xa9", 15);
	assert_string_equal(b.p, "a\\\\b\\\"c\\nd\xef\xbf\xbd" "e\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xc3\xa9");
	buf_finish(&b);
}

/* The listener pass: same output, and connections never pend. */
static void listener_pass(void **state)
{
	(void)state;
	struct metrics_opts o = {METRICS_PROMETHEUS, 0, false, NULL, 0};
	struct metrics *m;
	assert_int_equal(metrics_create(&m, &o, NULL), 0);
	assert_true(metrics_needs_listeners(m));
	struct sock l = tcp(SS_LISTEN, 80, 0);
	assert_int_equal(metrics_add_listener(m, &l), 0);
	metrics_listeners_done(m);
	struct sock in = tcp(SS_ESTABLISHED, 80, 40000);
	assert_int_equal(metrics_add(m, &in), 0);
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	assert_int_equal(metrics_write(m, f, 0), 0);
	fclose(f);
	metrics_destroy(m);
	assert_non_null(strstr(text, "sockstat_connections{direction=\"in\",port=\"80\""));
	free(text);
}

static void closed_reader(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	FILE *f = fdopen(fds[1], "w");
	struct metrics_opts o = {METRICS_PROMETHEUS, 0, false, NULL, 0};
	struct metrics *m;
	assert_int_equal(metrics_create(&m, &o, NULL), 0);
	population(m);
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	assert_int_equal(metrics_write(m, f, 0), -EPIPE);
	signal(SIGPIPE, old);
	metrics_destroy(m);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(prometheus_exact),
		cmocka_unit_test(openmetrics_exact),
		cmocka_unit_test(netns_label),
		cmocka_unit_test(count_by),
		cmocka_unit_test(empty),
		cmocka_unit_test(duration),
		cmocka_unit_test(escape_label),
		cmocka_unit_test(listener_pass),
		cmocka_unit_test(closed_reader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
