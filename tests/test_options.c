/* Tests for the command line: what each option selects, and usage errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "options.h"

/* Parses a NULL-terminated argv; returns options_parse's result. */
static int parse(struct options *o, char *err, const char *const *args)
{
	char *argv[64];
	int argc = 0;
	argv[argc++] = "sockstat";
	for (; *args; args++)
		argv[argc++] = (char *)*args;
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
	assert_int_equal(o.protos, PROTO_BIT(PROTO_UNIX) | PROTO_BIT(PROTO_RAW) | PROTO_BIT(PROTO_PACKET));
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
	assert_true(o.have_pid);
	assert_int_equal(o.pid, 42);
	assert_string_equal(o.command, "sshd");
	assert_true(o.have_user);
	assert_int_equal(o.user_uid, 0);
	options_finish(&o);

	PARSE_OK(&o, "--user", "root", "--source=netlink", "--format", "table");
	assert_int_equal(o.user_uid, 0);
	assert_int_equal(o.source, SOURCE_NETLINK);
	assert_int_equal(o.render.format, FORMAT_TABLE);
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

static void test_filter_words(void **state)
{
	(void)state;
	struct options o;
	PARSE_OK(&o, "-t", "state", "established", "( dport = :443 )");
	assert_words(&o, (const char *[]){"state", "established", "( dport = :443 )", NULL});
	options_finish(&o);

	/* --port is and-ed with the user's filter, which keeps its own "or". */
	PARSE_OK(&o, "--port", "22", "--state", "listening", "sport", "=", ":1", "or", "dport", "=", ":2");
	assert_words(&o, (const char *[]){"state", "listening", "(", "sport", "=", ":1", "or", "dport",
					  "=", ":2", ")", "(", "sport", "=", ":22", "or", "dport", "=",
					  ":22", ")", NULL});
	options_finish(&o);

	PARSE_OK(&o, "--port=ssh");
	assert_words(&o, (const char *[]){"(", "sport", "=", ":ssh", "or", "dport", "=", ":ssh", ")", NULL});
	options_finish(&o);
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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_combined_short),
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_long_values),
		cmocka_unit_test(test_filter_words),
		cmocka_unit_test(test_usage_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
