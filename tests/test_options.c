/* Tests for the command line: what each option selects, and usage errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "filter.h"
#include "options.h"

/* Parses a NULL-terminated argv; returns options_parse's result. */
static int parse(struct options *o, char *err, const char *const *args)
{
	char *argv[256];
	int argc = 0;
	argv[argc++] = "sockstat";
	for (; *args; args++) {
		assert_true(argc < (int)(sizeof(argv) / sizeof(argv[0])) - 1);
		argv[argc++] = (char *)*args;
	}
	argv[argc] = NULL;
	return options_parse(o, argc, argv, err, 256);
}

#define PARSE_OK(o, ...)                                                  \
	do {                                                              \
		char err_[256] = "";                                      \
		const char *args_[] = {__VA_ARGS__, NULL};                \
		int rc_ = parse(o, err_, args_);                          \
		if (rc_ != 0)                                             \
			fail_msg("unexpected error: %s", err_);           \
	} while (0)

static void expect_error(const char *word, const char *const *args)
{
	struct options o;
	char err[256] = "";
	assert_int_equal(parse(&o, err, args), -EINVAL);
	if (!strstr(err, word))
		fail_msg("error '%s' does not name '%s'", err, word);
	options_finish(&o);
}

static void test_defaults(void **state)
{
	(void)state;
	struct options o;
	PARSE_OK(&o, "-n");
	assert_int_equal(o.protos, PROTO_ALL);
	assert_int_equal(o.families, FAM_ALL);
	assert_int_equal(o.states, STATES_DEFAULT);
	/* TIME_WAIT and SYN_RECV are shown by default, as netstat does. */
	assert_true(o.states & STATE_BIT(SS_TIME_WAIT));
	assert_true(o.states & STATE_BIT(SS_SYN_RECV));
	assert_false(o.states & STATE_BIT(SS_LISTEN));
	assert_false(o.states & STATE_BIT(SS_CLOSE));
	assert_true(o.render.processes);
	assert_true(o.render.header);
	assert_true(o.render.numeric);
	assert_int_equal(o.render.format, FORMAT_TABLE);
	assert_int_equal(o.source, SOURCE_AUTO);
	assert_int_equal(o.filter_nwords, 0);
	options_finish(&o);
}

static void test_combined_short(void **state)
{
	(void)state;
	struct options o;
	PARSE_OK(&o, "-tuna");
	assert_int_equal(o.protos, PROTO_BIT(PROTO_TCP) | PROTO_BIT(PROTO_UDP));
	assert_int_equal(o.states, STATES_ALL);
	assert_true(o.render.numeric);
	options_finish(&o);

	PARSE_OK(&o, "-s");
	assert_int_equal(o.states, STATES_ALL);
	assert_true(o.summary);
	options_finish(&o);

	PARSE_OK(&o, "-sl");
	assert_int_equal(o.states, STATES_LISTENING);
	options_finish(&o);

	PARSE_OK(&o, "-tlnp");
	assert_int_equal(o.protos, PROTO_BIT(PROTO_TCP));
	assert_int_equal(o.states, STATES_LISTENING);
	assert_true(o.render.processes);
	options_finish(&o);

	PARSE_OK(&o, "-xw0", "-P", "-H", "-j");
	/* -w brings the ping sockets with the raw ones. */
	assert_int_equal(o.protos, PROTO_BIT(PROTO_UNIX) | PROTO_BIT(PROTO_RAW) |
					   PROTO_BIT(PROTO_ICMP) | PROTO_BIT(PROTO_PACKET));
	assert_false(o.render.processes);
	assert_false(o.render.header);
	assert_int_equal(o.render.format, FORMAT_JSON);
	options_finish(&o);
}

static void test_families(void **state)
{
	(void)state;
	struct options o;
	/* -4 alone means the inet protocols over IPv4 only. */
	PARSE_OK(&o, "-4");
	assert_int_equal(o.families & (FAM_INET | FAM_INET6), FAM_INET);
	assert_false(o.protos & PROTO_BIT(PROTO_UNIX));
	assert_true(o.protos & PROTO_BIT(PROTO_TCP));
	options_finish(&o);

	PARSE_OK(&o, "-t6");
	assert_int_equal(o.families & (FAM_INET | FAM_INET6), FAM_INET6);
	options_finish(&o);

	PARSE_OK(&o, "-f", "inet6,unix");
	assert_int_equal(o.families, FAM_INET6 | FAM_UNIX);
	assert_true(o.protos & PROTO_BIT(PROTO_UNIX));
	assert_false(o.protos & PROTO_BIT(PROTO_PACKET));
	options_finish(&o);

	PARSE_OK(&o, "--family=packet");
	assert_int_equal(o.protos, PROTO_BIT(PROTO_PACKET));
	options_finish(&o);
}

static void test_long_values(void **state)
{
	(void)state;
	struct options o;
	PARSE_OK(&o, "--source", "proc", "--format=ndjson", "-N", "blue", "--pid", "42",
		 "--command", "sshd", "--user", "0");
	assert_int_equal(o.source, SOURCE_PROC);
	assert_int_equal(o.render.format, FORMAT_NDJSON);
	assert_string_equal(o.netns, "blue");
	assert_int_equal(o.npids, 1);
	assert_int_equal(o.pids[0], 42);
	assert_int_equal(o.ncommands, 1);
	assert_string_equal(o.commands[0], "sshd");
	assert_int_equal(o.nuids, 1);
	assert_int_equal(o.uids[0], 0);
	options_finish(&o);

	PARSE_OK(&o, "--user", "root", "--source=netlink", "--format", "table");
	assert_int_equal(o.uids[0], 0);
	assert_int_equal(o.source, SOURCE_NETLINK);
	assert_int_equal(o.render.format, FORMAT_TABLE);
	options_finish(&o);
}

/* --all-netns, --netns (repeatable, implying --all-netns) and --cgroup. */
static void test_netns_options(void **state)
{
	(void)state;
	struct options o;
	PARSE_OK(&o, "-tan");
	assert_false(o.all_netns);
	assert_false(o.render.all_netns);
	assert_false(o.render.cgroup);
	options_finish(&o);

	PARSE_OK(&o, "--all-netns", "--cgroup");
	assert_true(o.all_netns);
	assert_true(o.render.all_netns);
	assert_true(o.render.cgroup);
	assert_int_equal(o.nnetns_patterns, 0);
	options_finish(&o);

	PARSE_OK(&o, "--netns", "docker:*", "--netns=4026531840", "--netns", "blue");
	assert_true(o.all_netns);
	assert_true(o.render.all_netns);
	assert_int_equal(o.nnetns_patterns, 3);
	assert_string_equal(o.netns_patterns[0], "docker:*");
	assert_string_equal(o.netns_patterns[1], "4026531840");
	assert_string_equal(o.netns_patterns[2], "blue");
	options_finish(&o);
}

static void assert_words(const struct options *o, const char *const *want)
{
	int n = 0;
	for (; want[n]; n++) {
		assert_true(n < o->filter_nwords);
		assert_string_equal(o->filter_words[n], want[n]);
	}
	assert_int_equal(o->filter_nwords, n);
}

/* The FILTER words are the user's, untouched: options add no words of their own. */
static void test_filter_words(void **state)
{
	(void)state;
	struct options o;
	PARSE_OK(&o, "-t", "state", "established", "( dport = :443 )");
	assert_words(&o, (const char *[]){"state", "established", "( dport = :443 )", NULL});
	options_finish(&o);

	PARSE_OK(&o, "--port", "22", "--state", "listening", "sport", "=", ":1", "or", "dport", "=", ":2");
	assert_words(&o, (const char *[]){"sport", "=", ":1", "or", "dport", "=", ":2", NULL});
	assert_int_equal(o.nports, 1);
	assert_string_equal(o.ports[0], "22");
	assert_true(o.has_states);
	assert_int_equal(o.state_mask, STATE_BIT(SS_LISTEN));
	options_finish(&o);

	PARSE_OK(&o, "--port=ssh");
	assert_int_equal(o.filter_nwords, 0);
	assert_string_equal(o.ports[0], "ssh");
	options_finish(&o);
}

/* Each convenience option repeats into a list; --state into one mask. */
static void test_repeats(void **state)
{
	(void)state;
	struct options o;
	PARSE_OK(&o, "--port", "22", "--port=80", "--pid", "1", "--pid", "2", "--pid=3",
		 "--command", "a", "--command", "b", "--user", "0", "--user", "1",
		 "--state", "established", "--state=TIME_WAIT");
	assert_int_equal(o.nports, 2);
	assert_string_equal(o.ports[1], "80");
	assert_int_equal(o.npids, 3);
	assert_int_equal(o.pids[2], 3);
	assert_int_equal(o.ncommands, 2);
	assert_string_equal(o.commands[1], "b");
	assert_int_equal(o.nuids, 2);
	assert_int_equal(o.uids[1], 1);
	assert_int_equal(o.state_mask, STATE_BIT(SS_ESTABLISHED) | STATE_BIT(SS_TIME_WAIT));
	options_finish(&o);
	options_finish(&o); /* twice is harmless */
	options_finish(NULL);

	/* Many repeats: the lists grow, nothing is capped. */
	enum { MANY = 60 };
	const char *args[2 * MANY + 1];
	for (int i = 0; i < MANY; i++) {
		args[2 * i] = "--port";
		args[2 * i + 1] = i % 2 ? "22" : "ssh";
	}
	args[2 * MANY] = NULL;
	assert_int_equal(parse(&o, (char[256]){0}, args), 0);
	assert_int_equal(o.nports, MANY);
	assert_string_equal(o.ports[MANY - 1], "22");
	options_finish(&o);
}

/* options_filter: the FILTER parsed, the options and-ed onto it. */
static void test_options_filter(void **state)
{
	(void)state;
	struct options o;
	char err[256];
	struct filter *f;
	/* The bug of the first release: --port with a FILTER that holds state. */
	PARSE_OK(&o, "-tan", "--port", "22", "state", "established");
	assert_int_equal(options_filter(&o, NULL, &f, err, sizeof(err)), 0);
	assert_non_null(f);
	assert_int_equal(filter_states(f, o.states), STATE_BIT(SS_ESTABLISHED));
	assert_false(filter_needs_owners(f));
	filter_destroy(f);
	options_finish(&o);

	PARSE_OK(&o, "--state", "established", "--state", "listening", "exclude", "listening");
	assert_int_equal(options_filter(&o, NULL, &f, err, sizeof(err)), 0);
	assert_int_equal(filter_states(f, o.states), STATE_BIT(SS_ESTABLISHED));
	filter_destroy(f);
	options_finish(&o);

	PARSE_OK(&o, "--pid", "1", "--command", "a-name-longer-than-fifteen");
	assert_int_equal(options_filter(&o, NULL, &f, err, sizeof(err)), 0);
	assert_true(filter_needs_owners(f));
	assert_true(filter_needs_argv0(f));
	filter_destroy(f);
	options_finish(&o);

	/* Nothing to filter: no filter at all. */
	PARSE_OK(&o, "-tan");
	f = (struct filter *)1;
	assert_int_equal(options_filter(&o, NULL, &f, err, sizeof(err)), 0);
	assert_null(f);
	options_finish(&o);

	/* Errors: the FILTER's name the word, the options' the option. */
	PARSE_OK(&o, "--port", "nosuch");
	assert_int_equal(options_filter(&o, NULL, &f, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "bad --port value 'nosuch'");
	assert_null(f);
	options_finish(&o);
	PARSE_OK(&o, "--port", "22", "dport", "=", ":x");
	assert_int_equal(options_filter(&o, NULL, &f, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "bad filter: bad port 'x' at word 3");
	options_finish(&o);
}

static void expect_message(const char *want, const char *const *args)
{
	struct options o;
	char err[256] = "";
	assert_int_equal(parse(&o, err, args), -EINVAL);
	if (strcmp(err, want) != 0)
		fail_msg("'%s': got '%s', want '%s'", args[0], err, want);
	options_finish(&o);
}

/* What a user sees for each kind of usage error, word for word. */
static void test_usage_messages(void **state)
{
	(void)state;
	expect_message("option '--tcp' takes no argument", (const char *[]){"--tcp=1", NULL});
	expect_message("option '--numeric' takes no argument",
		       (const char *[]){"-t", "--nu=3", NULL});
	expect_message("bad --netns value '': an empty pattern",
		       (const char *[]){"--netns", "", NULL});
	expect_message("option '-N' cannot be combined with '--all-netns'",
		       (const char *[]){"-N", "blue", "--all-netns", NULL});
	expect_message("option '-N' cannot be combined with '--netns'",
		       (const char *[]){"--netns", "x", "-N", "blue", NULL});
	expect_message("--replay and --all-netns cannot be used together",
		       (const char *[]){"--all-netns", "--replay", "f", NULL});
	expect_message("-K (--kill) and --netns cannot be used together",
		       (const char *[]){"--netns", "x", "-K", "--port", "22", NULL});
	expect_message("ambiguous option '--n' (could be --net, --netlink, --netns, --no-header, "
		       "--no-processes, --numeric)", (const char *[]){"--n", NULL});
	expect_message("ambiguous option '--no' (could be --no-header, --no-processes)",
		       (const char *[]){"--no=x", NULL});
	expect_message("unknown option '--x'", (const char *[]){"--x", NULL});
	expect_message("unknown option '--bogus'", (const char *[]){"--bogus=1", NULL});
	/* In a cluster, the letter at fault, not the word before it. */
	expect_message("unknown option '-Z'", (const char *[]){"--numeric", "-Zt", NULL});
	expect_message("unknown option '-Z'", (const char *[]){"-tZ", NULL});
	expect_message("unknown option '-:'", (const char *[]){"-:", NULL});
	expect_message("option '-f' needs an argument", (const char *[]){"-tf", NULL});
	expect_message("option '--family' needs an argument", (const char *[]){"--family", NULL});
	expect_message("option '--source' needs an argument",
		       (const char *[]){"state", "--source", NULL});
	/* Abbreviations that are not ambiguous still work. */
	struct options o;
	PARSE_OK(&o, "--num", "--sou=proc", "--po", "22");
	assert_true(o.render.numeric);
	assert_int_equal(o.source, SOURCE_PROC);
	assert_int_equal(o.nports, 1);
	options_finish(&o);
	/* A bad value names the option. */
	expect_message("bad --port value 'no such'", (const char *[]){"--port", "no such", NULL});
	expect_message("bad --state value 'bogus'", (const char *[]){"--state", "bogus", NULL});
	expect_message("bad --pid value '12x'", (const char *[]){"--pid=12x", NULL});
	expect_message("bad --user value 'no-such-user-xyz': no such user",
		       (const char *[]){"--user", "no-such-user-xyz", NULL});
	expect_message("bad --command value '': an empty name",
		       (const char *[]){"--command", "", NULL});
}

static void test_usage_errors(void **state)
{
	(void)state;
	expect_error("--bogus", (const char *[]){"--bogus", NULL});
	expect_error("-q", (const char *[]){"-tq", NULL});
	expect_error("-f", (const char *[]){"-f", NULL});
	expect_error("--source", (const char *[]){"--source", NULL});
	expect_error("bluetooth", (const char *[]){"-f", "inet,bluetooth", NULL});
	expect_error("''", (const char *[]){"-f", "", NULL});
	expect_error("sideways", (const char *[]){"--source", "sideways", NULL});
	expect_error("xml", (const char *[]){"--format", "xml", NULL});
	expect_error("12x", (const char *[]){"--pid", "12x", NULL});
	expect_error("0", (const char *[]){"--pid", "0", NULL});
	expect_error("99999999999", (const char *[]){"--pid", "99999999999", NULL});
	expect_error("no-such-user-xyz", (const char *[]){"--user", "no-such-user-xyz", NULL});
	expect_error("2 2", (const char *[]){"--port", "2 2", NULL});
	expect_error("--command", (const char *[]){"--command", "", NULL});
	expect_error("--state", (const char *[]){"--state", "estab", NULL});
}

/* --count-by, --top, --output and the metrics formats. */
static void test_counting(void **state)
{
	(void)state;
	struct options o;
	PARSE_OK(&o, "-ta", "--count-by", "direction,port", "--top=5", "--output", "/tmp/x");
	assert_int_equal(o.ncount_keys, 2);
	assert_int_equal(o.count_keys[0], COUNT_DIRECTION);
	assert_int_equal(o.count_keys[1], COUNT_PORT);
	assert_int_equal(o.top, 5);
	assert_string_equal(o.output, "/tmp/x");
	assert_false(o.metrics);
	options_finish(&o);

	/* The metrics formats count every socket unless told otherwise. */
	PARSE_OK(&o, "--format", "openmetrics");
	assert_true(o.metrics);
	assert_int_equal(o.metrics_format, METRICS_OPENMETRICS);
	assert_int_equal(o.states, STATES_ALL);
	options_finish(&o);
	PARSE_OK(&o, "-l", "--format=prometheus");
	assert_int_equal(o.metrics_format, METRICS_PROMETHEUS);
	assert_int_equal(o.states, STATES_LISTENING);
	options_finish(&o);
	/* The last format wins, -j among them. */
	PARSE_OK(&o, "--format=prometheus", "-j");
	assert_false(o.metrics);
	assert_int_equal(o.render.format, FORMAT_JSON);
	options_finish(&o);
	PARSE_OK(&o, "--format=prometheus", "--top", "3");
	assert_int_equal(o.top, 3);
	options_finish(&o);

	expect_message("bad --count-by key 'foo'", (const char *[]){"--count-by", "proto,foo", NULL});
	expect_message("bad --count-by key 'proto'", (const char *[]){"--count-by=proto,proto", NULL});
	expect_message("bad --count-by key ''", (const char *[]){"--count-by=", NULL});
	expect_message("bad --top value '0'", (const char *[]){"--count-by=state", "--top=0", NULL});
	expect_message("bad --top value '-1'", (const char *[]){"--count-by=state", "--top=-1", NULL});
	expect_message("--top needs --count-by or a metrics --format", (const char *[]){"--top=2", NULL});
	expect_message("-s and --count-by cannot be combined",
		       (const char *[]){"-s", "--count-by=state", NULL});
	expect_message("bad --output value '': an empty file name", (const char *[]){"--output=", NULL});
	expect_message("unknown format 'prom' (use table, json, ndjson, prometheus or openmetrics)",
		       (const char *[]){"--format=prom", NULL});
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_combined_short),
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_long_values),
		cmocka_unit_test(test_netns_options),
		cmocka_unit_test(test_filter_words),
		cmocka_unit_test(test_repeats),
		cmocka_unit_test(test_options_filter),
		cmocka_unit_test(test_usage_messages),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_counting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
