/* For the Linux and GNU calls test helpers use (unshare, setns, pipe2, ...), beyond POSIX. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "filter.h"
#include "bccheck.h"
#include "cgroup.h"
#include "netns.h"
#include "filter_impl.h"
#include "names.h"
#include "nl.h"
#include "owners.h"
#include "procnet.h"

/* ---- helpers ---- */

/* Splits s at single spaces into words (at most 32); returns the count. */
static int split(char *s, const char **words)
{
	int n = 0;
	for (char *tok = strtok(s, " "); tok && n < 32; tok = strtok(NULL, " "))
		words[n++] = tok;
	return n;
}

static struct names *test_names(void)
{
	struct names *n = NULL;
	assert_int_equal(names_create(&n, TEST_DATA "/filter/services"), 0);
	return n;
}

/* Parses one word, failing the test on error. */
static struct filter *parse1(const char *s, struct names *names)
{
	struct filter *f = NULL;
	struct filter_error err;
	int r = filter_parse(1, &s, names, &f, &err);
	if (r != 0)
		fail_msg("'%s' did not parse: %s", s, err.msg);
	return f;
}

/* Parses words and expects an error; returns it. */
static struct filter_error parse_err(int n, const char *const *words)
{
	struct filter *f = NULL;
	struct filter_error err;
	memset(&err, 0x55, sizeof(err));
	int r = filter_parse(n, words, NULL, &f, &err);
	if (r != -EINVAL)
		fail_msg("'%s'... parsed (r=%d), expected an error", n ? words[0] : "", r);
	assert_null(f);
	return err;
}

static bool tree_eq(const struct fnode *a, const struct fnode *b)
{
	if (!a || !b)
		return a == b;
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case FN_AND:
	case FN_OR:
		return tree_eq(a->a, b->a) && tree_eq(a->b, b->b);
	case FN_NOT:
		return tree_eq(a->a, b->a);
	case FN_HOST:
		return a->side == b->side && a->family == b->family &&
		       a->qualified == b->qualified && a->prefix_len == b->prefix_len &&
		       a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
	case FN_PORT:
		return a->side == b->side && a->op == b->op && a->port == b->port;
	case FN_UNIX:
		return a->side == b->side && strcmp(a->pattern, b->pattern) == 0;
	case FN_DEV:
		return a->value == b->value;
	case FN_MARK:
		return a->value == b->value && a->mask == b->mask;
	case FN_AUTO:
		/* The port range is the namespace's, set after parsing. */
		return true;
	}
	return false;
}

/* Both strings parse (one word each) to the same tree and state mask. */
static void assert_same(const char *x, const char *y)
{
	struct filter *a = parse1(x, NULL);
	struct filter *b = parse1(y, NULL);
	assert_non_null(a);
	assert_non_null(b);
	if (!tree_eq(a->root, b->root) || a->has_states != b->has_states || a->states != b->states)
		fail_msg("'%s' and '%s' differ", x, y);
	filter_destroy(a);
	filter_destroy(b);
}

static void assert_differ(const char *x, const char *y)
{
	struct filter *a = parse1(x, NULL);
	struct filter *b = parse1(y, NULL);
	if (tree_eq(a->root, b->root))
		fail_msg("'%s' and '%s' should differ", x, y);
	filter_destroy(a);
	filter_destroy(b);
}

static struct sock inet_sock(int family, const char *laddr, int lport, const char *raddr,
			     int rport)
{
	struct sock s;
	memset(&s, 0, sizeof(s));
	s.proto = PROTO_TCP;
	s.family = (uint8_t)family;
	s.state = SS_ESTABLISHED;
	s.type = SOCK_STREAM;
	assert_int_equal(inet_pton(family, laddr, s.local.addr), 1);
	assert_int_equal(inet_pton(family, raddr, s.peer.addr), 1);
	s.local.port = (uint16_t)lport;
	s.peer.port = (uint16_t)rport;
	return s;
}

static struct sock unix_sock(const char *path, size_t len)
{
	struct sock s;
	memset(&s, 0, sizeof(s));
	s.proto = PROTO_UNIX;
	s.family = AF_UNIX;
	s.state = SS_LISTEN;
	s.type = SOCK_STREAM;
	s.path = path;
	s.path_len = (uint32_t)len;
	return s;
}

static bool match(const char *expr, const struct sock *s)
{
	struct names *n = test_names();
	struct filter *f = parse1(expr, n);
	bool r = filter_match(f, s);
	filter_destroy(f);
	names_destroy(n);
	return r;
}

/* ---- parser ---- */

static void test_empty(void **state)
{
	(void)state;
	struct filter *f = (struct filter *)1;
	struct filter_error err;
	assert_int_equal(filter_parse(0, NULL, NULL, &f, &err), 0);
	assert_null(f);
	const char *blank[] = {"", "  ", "\t"};
	f = (struct filter *)1;
	assert_int_equal(filter_parse(3, blank, NULL, &f, &err), 0);
	assert_null(f);
	/* No filter at all: everything matches, the base states stand. */
	struct sock s = unix_sock("/x", 2);
	assert_true(filter_match(NULL, &s));
	assert_int_equal(filter_states(NULL, 1234), 1234);
	assert_int_equal(filter_bytecode(NULL, AF_INET, NULL, 0), 0);
	filter_destroy(NULL);
}

static void test_spellings(void **state)
{
	(void)state;
	assert_same("dport = :22", "dport == :22");
	assert_same("dport = :22", "dport eq :22");
	assert_same("dport = :22", "dport = 22");
	assert_same("dport = :22", "dport :22");
	assert_same("dport = :22", "dport 22");
	assert_same("dport != :22", "dport ne :22");
	assert_same("dport != :22", "dport neq :22");
	assert_same("dport != :22", "not dport = :22");
	assert_same("sport < :22", "sport lt :22");
	assert_same("sport <= :22", "sport le :22");
	assert_same("sport <= :22", "sport leq :22");
	assert_same("sport > :22", "sport gt :22");
	assert_same("sport >= :22", "sport ge :22");
	assert_same("sport >= :22", "sport geq :22");
	assert_same("src 1.2.3.4", "src = 1.2.3.4");
	assert_same("src 1.2.3.4", "src == 1.2.3.4");
	assert_same("src 1.2.3.4", "src eq 1.2.3.4");
	assert_same("src 1.2.3.4 and dst 5.6.7.8", "src 1.2.3.4 && dst 5.6.7.8");
	assert_same("src 1.2.3.4 and dst 5.6.7.8", "src 1.2.3.4 & dst 5.6.7.8");
	assert_same("src 1.2.3.4 and dst 5.6.7.8", "src 1.2.3.4 dst 5.6.7.8");
	assert_same("src 1.2.3.4 or dst 5.6.7.8", "src 1.2.3.4 || dst 5.6.7.8");
	assert_same("src 1.2.3.4 or dst 5.6.7.8", "src 1.2.3.4 | dst 5.6.7.8");
	assert_same("not src 1.2.3.4", "! src 1.2.3.4");
	assert_same("not src 1.2.3.4", "!src 1.2.3.4");
	/* Address forms. */
	assert_same("src 127.0.0.0/24", "src 127.0.0/24");
	assert_same("src 10.0.0.0/8", "src 10/8");
	assert_same("src [::1]", "src ::1");
	assert_same("src [::1]", "src [::1/128]");
	assert_same("src [::1]", "src [::1]/128");
	assert_same("src [::1]:22", "src [::1]/128:22");
	assert_same("src *", "src *:*");
	assert_same("src *:22", "sport = :22");
	assert_same("src 0.0.0.0/0", "src 0/0");
	assert_differ("src 127.0.0.1", "src inet:127.0.0.1");
	assert_differ("src [::1]", "src inet6:[::1]");
	assert_differ("src 127.0.0.1", "src 127.0.0.1:0");
	assert_differ("src /run/x", "dst /run/x");
	assert_same("src /run/*", "src unix:/run/*");
	assert_differ("src 1.2.3.4", "dst 1.2.3.4");
	assert_differ("sport = :1", "dport = :1");
}

static void test_precedence(void **state)
{
	(void)state;
	assert_same("src 1.1.1.1 or src 2.2.2.2 and src 3.3.3.3",
		    "src 1.1.1.1 or ( src 2.2.2.2 and src 3.3.3.3 )");
	assert_differ("src 1.1.1.1 or src 2.2.2.2 and src 3.3.3.3",
		      "( src 1.1.1.1 or src 2.2.2.2 ) and src 3.3.3.3");
	assert_same("src 1.1.1.1 and src 2.2.2.2 or src 3.3.3.3",
		    "( src 1.1.1.1 and src 2.2.2.2 ) or src 3.3.3.3");
	assert_same("not src 1.1.1.1 and src 2.2.2.2", "( not src 1.1.1.1 ) and src 2.2.2.2");
	assert_differ("not src 1.1.1.1 and src 2.2.2.2", "not ( src 1.1.1.1 and src 2.2.2.2 )");
	assert_same("src 1.1.1.1 or src 2.2.2.2 src 3.3.3.3",
		    "src 1.1.1.1 or ( src 2.2.2.2 and src 3.3.3.3 )");
	assert_same("not not src 1.1.1.1", "not ( not src 1.1.1.1 )");
	/* Left associativity. */
	assert_same("src 1.1.1.1 or src 2.2.2.2 or src 3.3.3.3",
		    "( src 1.1.1.1 or src 2.2.2.2 ) or src 3.3.3.3");

	/* And by meaning, on a socket where the two readings disagree. */
	struct sock s = inet_sock(AF_INET, "1.1.1.1", 5, "9.9.9.9", 7);
	assert_true(match("src 1.1.1.1 or src 2.2.2.2 and src 3.3.3.3", &s));
	assert_false(match("( src 1.1.1.1 or src 2.2.2.2 ) and src 3.3.3.3", &s));
	assert_false(match("not src 1.1.1.1 and src 2.2.2.2", &s));
	assert_true(match("not ( src 2.2.2.2 and src 1.1.1.1 )", &s));
}

/* One word, many words and glued parentheses are the same filter. */
static void test_words(void **state)
{
	(void)state;
	const char *one[] = {"( dport = :22 or sport = :80 )"};
	const char *many[] = {"(", "dport", "=", ":22", "or", "sport", "=", ":80", ")"};
	const char *glued[] = {"(dport=:22 or sport=:80)"};
	const char *mix[] = {"(dport", "= :22", "or", "sport= :80)"};
	const char *tight[] = {"(dport=:22||sport=:80)"};
	const char *const *all[] = {one, many, glued, mix, tight};
	int counts[] = {1, 9, 1, 4, 1};
	struct filter *ref = NULL;
	struct filter_error err;
	assert_int_equal(filter_parse(1, one, NULL, &ref, &err), 0);
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		struct filter *f = NULL;
		int r = filter_parse(counts[i], all[i], NULL, &f, &err);
		if (r)
			fail_msg("form %zu: %s", i, err.msg);
		assert_true(tree_eq(ref->root, f->root));
		filter_destroy(f);
	}
	filter_destroy(ref);

	/* Parentheses glued to addresses and UNIX paths, nested. */
	assert_same("((src 1.2.3.4) or (dst [::1]:22))", "( ( src 1.2.3.4 ) or ( dst [::1]:22 ) )");
	assert_same("(src unix:/run/a*)", "( src unix:/run/a* )");
	assert_same("!(src 1.2.3.4)", "not ( src 1.2.3.4 )");
	/* A UNIX path may end in ')' when no parenthesis is open. */
	struct filter *f = parse1("src /tmp/x)", NULL);
	assert_int_equal(f->root->kind, FN_UNIX);
	assert_string_equal(f->root->pattern, "/tmp/x)");
	filter_destroy(f);
	/* A backslash escapes a space in a path. */
	f = parse1("src /tmp/a\\ b", NULL);
	assert_string_equal(f->root->pattern, "/tmp/a b");
	filter_destroy(f);
}

static void test_states(void **state)
{
	(void)state;
	const struct { const char *expr; uint32_t mask; } cases[] = {
		{"state established", STATE_BIT(SS_ESTABLISHED)},
		{"state ESTABLISHED", STATE_BIT(SS_ESTABLISHED)},
		{"state Established", STATE_BIT(SS_ESTABLISHED)},
		{"state syn-sent", STATE_BIT(SS_SYN_SENT)},
		{"state SYN_SENT", STATE_BIT(SS_SYN_SENT)},
		{"state syn-recv", STATE_BIT(SS_SYN_RECV) | STATE_BIT(SS_NEW_SYN_RECV)},
		{"state SYN_RECV", STATE_BIT(SS_SYN_RECV) | STATE_BIT(SS_NEW_SYN_RECV)},
		{"state fin-wait-1", STATE_BIT(SS_FIN_WAIT1)},
		{"state FIN_WAIT1", STATE_BIT(SS_FIN_WAIT1)},
		{"state fin-wait-2", STATE_BIT(SS_FIN_WAIT2)},
		{"state FIN_WAIT2", STATE_BIT(SS_FIN_WAIT2)},
		{"state time-wait", STATE_BIT(SS_TIME_WAIT)},
		{"state TIME_WAIT", STATE_BIT(SS_TIME_WAIT)},
		{"state closed", STATE_BIT(SS_CLOSE)},
		{"state CLOSE", STATE_BIT(SS_CLOSE)},
		{"state UNCONN", STATE_BIT(SS_CLOSE)},
		{"state close-wait", STATE_BIT(SS_CLOSE_WAIT)},
		{"state CLOSE_WAIT", STATE_BIT(SS_CLOSE_WAIT)},
		{"state last-ack", STATE_BIT(SS_LAST_ACK)},
		{"state LAST_ACK", STATE_BIT(SS_LAST_ACK)},
		{"state listening", STATE_BIT(SS_LISTEN)},
		{"state LISTEN", STATE_BIT(SS_LISTEN)},
		{"state closing", STATE_BIT(SS_CLOSING)},
		{"state CLOSING", STATE_BIT(SS_CLOSING)},
		{"state all", STATES_ALL},
		{"state connected", STATES_ALL & ~(STATE_BIT(SS_LISTEN) | STATE_BIT(SS_CLOSE))},
		{"state synchronized",
		 STATES_ALL & ~(STATE_BIT(SS_LISTEN) | STATE_BIT(SS_CLOSE) | STATE_BIT(SS_SYN_SENT))},
		{"state bucket",
		 STATE_BIT(SS_SYN_RECV) | STATE_BIT(SS_NEW_SYN_RECV) | STATE_BIT(SS_TIME_WAIT)},
		{"state big",
		 STATES_ALL & ~(STATE_BIT(SS_SYN_RECV) | STATE_BIT(SS_NEW_SYN_RECV) |
				STATE_BIT(SS_TIME_WAIT))},
		{"state established state time-wait",
		 STATE_BIT(SS_ESTABLISHED) | STATE_BIT(SS_TIME_WAIT)},
		{"exclude listening", STATES_ALL & ~STATE_BIT(SS_LISTEN)},
		{"exclude closed exclude listening",
		 STATES_ALL & ~(STATE_BIT(SS_LISTEN) | STATE_BIT(SS_CLOSE))},
		{"state connected exclude established",
		 STATES_ALL & ~(STATE_BIT(SS_LISTEN) | STATE_BIT(SS_CLOSE) |
				STATE_BIT(SS_ESTABLISHED))},
		{"state established dport = :22", STATE_BIT(SS_ESTABLISHED)},
		{"dport = :22 state established", STATE_BIT(SS_ESTABLISHED)},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct filter *f = parse1(cases[i].expr, NULL);
		if (filter_states(f, 0xdead) != cases[i].mask)
			fail_msg("'%s': mask %#x, want %#x", cases[i].expr,
				 filter_states(f, 0xdead), cases[i].mask);
		filter_destroy(f);
	}
	/* States are not part of the expression: a state-only filter matches all. */
	struct filter *f = parse1("state listening", NULL);
	assert_null(f->root);
	struct sock s = inet_sock(AF_INET, "1.2.3.4", 1, "5.6.7.8", 2);
	assert_true(filter_match(f, &s));
	assert_int_equal(filter_bytecode(f, AF_INET, (char[64]){0}, 64), 0);
	filter_destroy(f);
	f = parse1("state established dport = :22", NULL);
	assert_same("state established dport = :22", "dport = :22 state established");
	s.peer.port = 22;
	assert_true(filter_match(f, &s));
	s.peer.port = 23;
	assert_false(filter_match(f, &s));
	filter_destroy(f);
	/* No state clause: the base. */
	f = parse1("dport = :22", NULL);
	assert_int_equal(filter_states(f, 0x42), 0x42);
	filter_destroy(f);
	/* As in ss, separate words work. */
	const char *words[] = {"state", "established", "( dport = :22 )"};
	f = NULL;
	struct filter_error err;
	assert_int_equal(filter_parse(3, words, NULL, &f, &err), 0);
	assert_int_equal(filter_states(f, 0), STATE_BIT(SS_ESTABLISHED));
	filter_destroy(f);
}

struct err_case {
	const char *words[6];
	int word;
	int offset;
	const char *text;
	const char *msg;
};

static void test_errors(void **state)
{
	(void)state;
	const struct err_case cases[] = {
		{{"src", "1.2.3.4", "foo"}, 2, 0, "foo", "unexpected 'foo' at word 3"},
		{{"( dport = :22"}, 0, 0, "(", "unbalanced parenthesis '(' at word 1"},
		{{"dport = :22 )"}, 0, 12, ")", "unbalanced parenthesis ')' at word 1, offset 12"},
		{{"(", "src", "1.2.3.4", ")", ")"}, 4, 0, ")", "unbalanced parenthesis ')' at word 5"},
		{{"dport", "=", "x"}, 2, 0, "x", "bad port 'x' at word 3"},
		{{"dport = :99999"}, 0, 8, ":99999", "bad port '99999' at word 1, offset 8"},
		{{"sport = :-1"}, 0, 8, ":-1", "bad port '-1'"},
		{{"sport > *"}, 0, 8, "*", "bad port '*'"},
		{{"state", "estab"}, 1, 0, "estab", "unknown state 'estab' at word 2"},
		{{"state"}, 0, 0, "state", "missing state after 'state'"},
		{{"exclude"}, 0, 0, "exclude", "missing state after 'exclude'"},
		{{"src"}, 0, 0, "src", "missing address after 'src' at word 1"},
		{{"dst ="}, 0, 0, "dst", "missing address after 'dst'"},
		{{"dport"}, 0, 0, "dport", "missing port after 'dport'"},
		{{"sport", ">="}, 0, 0, "sport", "missing port after 'sport'"},
		{{"src 1.2.3.4 and"}, 0, 12, "and", "missing expression after 'and'"},
		{{"src 1.2.3.4 or"}, 0, 12, "or", "missing expression after 'or'"},
		{{"not"}, 0, 0, "not", "missing expression after 'not'"},
		{{"src 1.2.3.4 or or src 1.1.1.1"}, 0, 15, "or", "missing expression after 'or'"},
		{{"()"}, 0, 1, ")", "unexpected ')'"},
		{{"src 1.2.3.4.5"}, 0, 4, "1.2.3.4.5", "bad address '1.2.3.4.5'"},
		{{"src 256.1.1.1"}, 0, 4, "256.1.1.1", "bad address"},
		{{"src 1.2.3.4/33"}, 0, 4, "1.2.3.4/33", "bad prefix length '/33' at word 1"},
		{{"src 10.0.0.0/33"}, 0, 4, "10.0.0.0/33", "bad prefix length '/33'"},
		{{"src 10/x"}, 0, 4, "10/x", "bad prefix length '/x'"},
		{{"src [::1]/129"}, 0, 4, "[::1]/129", "bad prefix length '/129'"},
		{{"src [::1/200]:22"}, 0, 4, "[::1/200]:22", "bad prefix length '/200'"},
		{{"src 1.2.3.4.5/33"}, 0, 4, "1.2.3.4.5/33", "bad address '1.2.3.4.5'"},
		{{"dport ~ :22"}, 0, 6, "~", "bad operator '~' at word 1, offset 6"},
		{{"dport", "~", ":22"}, 1, 0, "~", "bad operator '~' at word 2"},
		{{"sport =~ 22"}, 0, 7, "~", "bad operator '~'"},
		{{"dst ^ 1.2.3.4"}, 0, 4, "^", "bad operator '^'"},
		{{"sport = -1"}, 0, 8, "-1", "bad port '-1'"},
		{{"src !x"}, 0, 4, "!", "bad operator '!'"},
		{{"dport = <=1"}, 0, 8, "<=", "bad operator '<='"},
		{{"src [::1"}, 0, 4, "[::1", "bad address"},
		{{"src [::1]x"}, 0, 4, "[::1]x", "bad address"},
		{{"src ::g"}, 0, 4, "::g", "bad"},
		{{"src", "hostname.invalid"}, 1, 0, "hostname.invalid", "unknown host 'hostname.invalid'"},
		{{"src", "host%name"}, 1, 0, "host%name", "bad address 'host%name'"},
		{{"src != 1.2.3.4"}, 0, 4, "!=", "'src' takes only '='"},
		{{"= 22"}, 0, 0, "=", "unexpected '='"},
		{{"and src 1.2.3.4"}, 0, 0, "and", "unexpected 'and'"},
		{{"autobound x"}, 0, 10, "x", "unexpected 'x' at word 1"},
		{{"dev"}, 0, 0, "dev", "missing device after 'dev'"},
		{{"dev < lo"}, 0, 4, "<", "'dev' takes only '=' or '!=', not '<'"},
		{{"dev no-such-device0"}, 0, 4, "no-such-device0", "unknown device 'no-such-device0'"},
		{{"fwmark"}, 0, 0, "fwmark", "missing mark after 'fwmark'"},
		{{"fwmark 1/x"}, 0, 7, "1/x", "bad mark '1/x'"},
		{{"fwmark 0x"}, 0, 7, "0x", "bad mark '0x'"},
		{{"fwmark 4294967296"}, 0, 7, "4294967296", "bad mark"},
		{{"not state established"}, 0, 4, "state", "'state' cannot be inside"},
		{{"( state established )"}, 0, 2, "state", "'state' cannot be inside"},
		{{"dport = :22 or state established"}, 0, 12, "or",
		 "state clauses cannot be an operand of 'or'"},
		{{"dport = :22 ( src 1.2.3.4"}, 0, 12, "(", "unbalanced parenthesis"},
		{{"src 1.2.3.4", "(", "dport", ":1", "dport", ":2"}, 1, 0, "(",
		 "unbalanced parenthesis '(' at word 2"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct err_case *c = &cases[i];
		int n = 0;
		while (n < 6 && c->words[n])
			n++;
		struct filter_error e = parse_err(n, c->words);
		if (e.word != c->word || e.offset != c->offset || strcmp(e.text, c->text) != 0 ||
		    !strstr(e.msg, c->msg))
			fail_msg("case %zu '%s': got word %d offset %d text '%s' msg '%s'", i,
				 c->words[0], e.word, e.offset, e.text, e.msg);
	}

	/* Hostile input: a huge token is cut, never overflows. */
	char big[4096];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	const char *w[] = {"src", big};
	struct filter_error e = parse_err(2, w);
	assert_int_equal(e.word, 1);
	assert_true(strlen(e.text) < sizeof(e.text));
	assert_true(strlen(e.msg) < sizeof(e.msg));
	big[0] = ':';
	const char *w2[] = {"dport", big};
	e = parse_err(2, w2);
	assert_int_equal(e.word, 1);
	/* Nesting up to the limit parses. */
	char deep[2 * FILTER_MAX_DEPTH + 16];
	size_t k = 0;
	for (int i = 0; i < FILTER_MAX_DEPTH; i++)
		deep[k++] = '(';
	memcpy(deep + k, "sport 1", 7);
	k += 7;
	for (int i = 0; i < FILTER_MAX_DEPTH; i++)
		deep[k++] = ')';
	deep[k] = '\0';
	struct filter *f = parse1(deep, NULL);
	filter_destroy(f);
	deep[k - 1] = '\0';
	const char *w3[] = {deep};
	e = parse_err(1, w3);
	assert_string_equal(e.text, "(");
	assert_int_equal(e.offset, 0);
	/* not and parentheses count together. */
	f = parse1("not ( not ( sport 1 ) )", NULL);
	filter_destroy(f);
	/* NULL words with a count is refused, not dereferenced. */
	struct filter *g = NULL;
	assert_int_equal(filter_parse(2, NULL, NULL, &g, &e), -EINVAL);
	assert_null(g);
}

static void test_services(void **state)
{
	(void)state;
	struct names *n = test_names();
	struct filter *f = parse1("dport = :ssh or sport = http", n);
	assert_int_equal(f->root->a->port, 22);
	assert_int_equal(f->root->b->port, 80);
	filter_destroy(f);
	const char *w[] = {"dport = :nosuchservice"};
	struct filter_error e;
	f = NULL;
	assert_int_equal(filter_parse(1, w, n, &f, &e), -EINVAL);
	assert_string_equal(e.text, ":nosuchservice");
	assert_non_null(strstr(e.msg, "bad port 'nosuchservice'"));
	names_destroy(n);
	/* Without names only numbers are ports. */
	const char *w2[] = {"dport = :ssh"};
	e = parse_err(1, w2);
	assert_non_null(strstr(e.msg, "bad port 'ssh'"));
}

/* ---- evaluation ---- */

static void test_match_inet(void **state)
{
	(void)state;
	struct sock v4 = inet_sock(AF_INET, "127.0.0.1", 8080, "10.1.2.3", 51000);
	struct sock v6 = inet_sock(AF_INET6, "::1", 8080, "2001:db8::7", 51000);
	struct sock mapped = inet_sock(AF_INET6, "::ffff:127.0.0.1", 8080, "::ffff:10.1.2.3", 22);
	struct sock any6 = inet_sock(AF_INET6, "::", 22, "::", 0);

	assert_true(match("sport = :8080", &v4));
	assert_false(match("sport = :8081", &v4));
	assert_true(match("dport = :51000", &v6));
	assert_true(match("dport != :22", &v4));
	assert_false(match("dport != :22", &mapped));
	assert_true(match("sport > :8079", &v4));
	assert_false(match("sport > :8080", &v4));
	assert_true(match("sport >= :8080", &v4));
	assert_true(match("sport < :8081", &v4));
	assert_false(match("sport < :8080", &v4));
	assert_true(match("sport <= :8080", &v4));
	assert_false(match("sport <= :8079", &v4));
	assert_true(match("sport = *", &v4));
	assert_true(match("dport = :ssh", &mapped));

	assert_true(match("src 127.0.0.1", &v4));
	assert_true(match("src 127.0.0.1:8080", &v4));
	assert_false(match("src 127.0.0.1:8081", &v4));
	assert_true(match("src 127/8", &v4));
	assert_true(match("src 127.0.0/24", &v4));
	assert_false(match("src 127.0.1/24", &v4));
	assert_true(match("src 126.0.0.0/7", &v4));
	assert_false(match("src 126.0.0.0/8", &v4));
	assert_true(match("dst 10.1.2.3", &v4));
	assert_true(match("dst 10.1.2.3:51000", &v4));
	assert_false(match("dst 127.0.0.1", &v4));
	assert_false(match("src [::1]", &v4));
	assert_true(match("src inet:127.0.0.1", &v4));
	assert_false(match("src inet6:[::ffff:127.0.0.1]", &v4));
	assert_true(match("src *", &v4));
	assert_true(match("src *:8080", &v4));
	assert_true(match("src 0.0.0.0/0", &v4));
	assert_false(match("src 0.0.0.0", &v4));

	assert_true(match("src [::1]", &v6));
	assert_true(match("src ::1", &v6));
	assert_true(match("src [::1]:8080", &v6));
	assert_true(match("src [::1/128]:8080", &v6));
	assert_true(match("src [::1]/127:8080", &v6));
	assert_true(match("dst [2001:db8::]/32", &v6));
	assert_false(match("dst [2001:db9::]/32", &v6));
	assert_false(match("src 127.0.0.1", &v6));
	assert_false(match("src 0.0.0.0/0", &v6));
	assert_true(match("src inet6:[::1]", &v6));
	assert_false(match("src inet:*", &v6));
	assert_true(match("src inet6:*", &v6));

	/* An unqualified IPv4 prefix matches v4-mapped; inet:/inet6: do not map. */
	assert_true(match("src 127.0.0.1", &mapped));
	assert_true(match("src 127.0.0.0/8:8080", &mapped));
	assert_true(match("dst 10.1.2.3:22", &mapped));
	assert_true(match("src 0.0.0.0/0", &mapped));
	assert_false(match("src inet:127.0.0.1", &mapped));
	assert_true(match("src inet6:[::ffff:127.0.0.1]", &mapped));
	assert_true(match("src [::ffff:127.0.0.0]/104", &mapped));
	assert_false(match("src [::1]", &mapped));
	/* The dual-stack wildcard is not the IPv4 wildcard. */
	assert_false(match("src 0.0.0.0", &any6));
	assert_true(match("src [::]", &any6));

	/* Boolean structure. */
	assert_true(match("src 127.0.0.1 and sport = :8080", &v4));
	assert_false(match("src 127.0.0.1 and sport = :8081", &v4));
	assert_true(match("sport = :1 or sport = :8080", &v4));
	assert_false(match("not sport = :8080", &v4));
	assert_true(match("not not sport = :8080", &v4));
	assert_true(match("( src [::1] or src 127.0.0.1 ) and dport = :51000", &v4));
	assert_true(match("dport = 10.1.2.3:51000", &v4));
	assert_false(match("dport = 10.1.2.4:51000", &v4));
	assert_true(match("dport > 10.1.2.3:50000", &v4));
	assert_false(match("dport > 10.1.2.4:50000", &v4));
}

static void test_match_unix(void **state)
{
	(void)state;
	struct sock path = unix_sock("/run/dbus/system_bus_socket", 27);
	static const char abs_name[] = "\0dbus-1234\0pad";
	struct sock abstract = unix_sock(abs_name, sizeof(abs_name) - 1);
	struct sock unnamed = unix_sock(NULL, 0);
	struct sock v4 = inet_sock(AF_INET, "127.0.0.1", 22, "0.0.0.0", 0);

	assert_true(match("src /run/*", &path));
	assert_true(match("src unix:/run/*", &path));
	assert_true(match("src unix:/run/dbus/system_bus_socket", &path));
	assert_true(match("src /RUN/*", &path)); /* as ss: case-insensitive */
	assert_true(match("src /run/*/sys*", &path));
	assert_false(match("src /tmp/*", &path));
	assert_false(match("src @*", &path));
	assert_false(match("dst /run/*", &path));
	assert_true(match("src @dbus*", &abstract));
	assert_true(match("src unix:@dbus-1234", &abstract)); /* cut at the NUL */
	assert_true(match("src @*", &abstract));
	assert_false(match("src /*", &abstract));
	assert_true(match("src unix:*", &unnamed));
	assert_false(match("src unix:?*", &unnamed));
	assert_true(match("src unix:", &unnamed));

	/* Inet predicates never match UNIX sockets and UNIX ones no inet socket. */
	assert_false(match("src 127.0.0.1", &path));
	assert_false(match("src 0.0.0.0/0", &path));
	assert_false(match("src [::]/0", &path));
	assert_false(match("src *:22", &path));
	assert_false(match("src unix:*", &v4));
	assert_false(match("src /run/*", &v4));
	/* A port predicate is false for UNIX; != is the negation of =. */
	assert_false(match("sport = :0", &path));
	assert_false(match("dport = :0", &path));
	assert_false(match("sport < :65535", &path));
	assert_false(match("sport > :0", &path));
	assert_false(match("sport >= :0", &path));
	assert_false(match("sport <= :65535", &path));
	assert_true(match("sport != :22", &path));
	/* Wildcards match everything. */
	assert_true(match("src *", &path));
	assert_true(match("sport = *", &path));
	/* A packet socket is like a UNIX one here. */
	struct sock pkt = unix_sock(NULL, 0);
	pkt.family = AF_PACKET;
	pkt.proto = PROTO_PACKET;
	assert_false(match("src unix:*", &pkt));
	assert_false(match("sport >= :0", &pkt));
	assert_false(match("src 0.0.0.0/0", &pkt));
	assert_true(match("src *", &pkt));
}

/* ---- bytecode ---- */

/*
 * Beyond what the kernel's audit requires: our compiler never skips with
 * yes, so every yes step is exactly its op's length.
 */
static bool yes_steps_exact(const unsigned char *bc, int len)
{
	for (int off = 0; off < len;) {
		struct inet_diag_bc_op op;
		memcpy(&op, bc + off, sizeof(op));
		if (op.yes != bccheck_op_len(bc + off, (size_t)(len - off)))
			return false;
		off += op.yes;
	}
	return true;
}

static const char *const v4_addrs[] = {"127.0.0.1", "127.0.0.2", "10.1.2.3", "0.0.0.0"};
static const char *const v6_addrs[] = {"::1", "::", "::ffff:127.0.0.1", "::ffff:10.1.2.3",
				       "2001:db8::1", "::ffff:0.0.0.0"};
static const int test_ports[] = {0, 1, 22, 80, 443, 1023, 1024, 1025, 8080, 8081, 8082, 8100,
				 40000, 65535};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Checks that the kernel (as bccheck_run reads it) accepts every socket of the
 * family that filter_match accepts; our compiler is exact for inet, so
 * the two must in fact agree. Returns how many sockets matched.
 */
static size_t check_bytecode(const char *expr, struct filter *f, int family)
{
	unsigned char bc[4096];
	/* `autobound` judged by the range bccheck_run assumes the kernel had. */
	filter_set_local_ports(f, BCCHECK_AUTO_LO, BCCHECK_AUTO_HI);
	int len = filter_bytecode(f, family, bc, sizeof(bc));
	assert_true(len >= 0);
	if (len > 0 && (bccheck_audit(bc, (size_t)len) || !yes_steps_exact(bc, len)))
		fail_msg("'%s' family %d: the kernel would reject the bytecode", expr, family);
	/* A too small buffer is reported, never overrun. */
	if (len > 4) {
		unsigned char small[4096];
		memset(small, 0xa5, sizeof(small));
		assert_int_equal(filter_bytecode(f, family, small, (size_t)len - 4), -ENOSPC);
		for (size_t i = (size_t)len - 4; i < sizeof(small); i++)
			assert_int_equal(small[i], 0xa5);
	}
	const char *const *addrs = family == AF_INET ? v4_addrs : v6_addrs;
	size_t naddrs = family == AF_INET ? N(v4_addrs) : N(v6_addrs);
	size_t matched = 0;
	for (size_t la = 0; la < naddrs; la++)
		for (size_t lp = 0; lp < N(test_ports); lp++)
			for (size_t ra = 0; ra < naddrs; ra++)
				for (size_t rp = 0; rp < N(test_ports); rp += 2) {
					struct sock s = inet_sock(family, addrs[la], test_ports[lp],
								  addrs[ra], test_ports[rp]);
					bool want = filter_match(f, &s);
					bool got = len == 0 || bccheck_run(bc, (size_t)len, &s);
					if (want && !got)
						fail_msg("'%s': kernel drops [%s]:%d -> [%s]:%d", expr,
							 addrs[la], test_ports[lp], addrs[ra],
							 test_ports[rp]);
					if (got != want)
						fail_msg("'%s': kernel keeps [%s]:%d -> [%s]:%d", expr,
							 addrs[la], test_ports[lp], addrs[ra],
							 test_ports[rp]);
					matched += want;
				}
	return matched;
}

static void test_bytecode_corpus(void **state)
{
	(void)state;
	FILE *fp = fopen(TEST_DATA "/filter/corpus.txt", "r");
	assert_non_null(fp);
	struct names *n = test_names();
	char line[1024];
	int count = 0;
	while (fgets(line, sizeof(line), fp)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		char *tab = strchr(line, '\t');
		if (tab)
			*tab = '\0';
		struct filter *f = parse1(line, n);
		assert_non_null(f);
		check_bytecode(line, f, AF_INET);
		check_bytecode(line, f, AF_INET6);
		if (tab) {
			/* The ss spelling means the same to us. */
			struct filter *g = parse1(tab + 1, n);
			if (!tree_eq(f->root, g->root))
				fail_msg("'%s' and its ss spelling '%s' differ", line, tab + 1);
			filter_destroy(g);
		}
		/* Words split at spaces parse to the same tree. */
		char copy[1024];
		const char *words[32];
		snprintf(copy, sizeof(copy), "%s", line);
		int nw = split(copy, words);
		struct filter *h = NULL;
		struct filter_error err;
		assert_int_equal(filter_parse(nw, words, n, &h, &err), 0);
		assert_true(tree_eq(f->root, h->root));
		filter_destroy(h);
		filter_destroy(f);
		count++;
	}
	fclose(fp);
	names_destroy(n);
	assert_true(count >= 60);
}

static void test_bytecode_shapes(void **state)
{
	(void)state;
	struct names *n = test_names();
	const char *exprs[] = {
		"src inet:127.0.0.1", "src inet6:[::1]", "src inet:*", "src inet6:*:8080",
		"not src inet:127.0.0.1", "src 0.0.0.0/0", "not src 0.0.0.0/0",
		"sport < :0", "sport > :65535", "sport <= :65535", "sport >= :0",
		"not sport < :1", "sport < :1", "dport > :65534",
		"src /run/* or sport = :22", "not src /run/* and dport = :8080",
		"not ( src @x or dst 127.0.0.1 )", "src unix:* or not src unix:*",
		"src 127.0.0.1 or src 127.0.0.2 or src 10/8 and not dport = :80 or sport 1",
		"not ( not ( sport = :80 or not dport = :81 ) and ( src 10/8 or dst [::1] ) )",
		"( sport > :1 and sport < :9000 ) or ( dport >= :8000 and not dport <= :8090 )",
		"dport != :22 and dport != :80 and dport != :443",
		"src 127.0.0.0/8:8080 or dst [::ffff:10.1.2.3]/120 or src [::]/0",
	};
	for (size_t i = 0; i < N(exprs); i++) {
		struct filter *f = parse1(exprs[i], n);
		check_bytecode(exprs[i], f, AF_INET);
		check_bytecode(exprs[i], f, AF_INET6);
		filter_destroy(f);
	}
	/* What the kernel cannot decide is not sent at all, or sent as "none". */
	unsigned char bc[256];
	struct filter *f = parse1("src /run/*", n);
	int len = filter_bytecode(f, AF_INET, bc, sizeof(bc));
	assert_int_equal(len, 4); /* nothing inet can match: reject all */
	struct sock none = {.family = AF_INET};
	assert_false(bccheck_run(bc, (size_t)len, &none));
	filter_destroy(f);
	f = parse1("not src /run/*", n);
	assert_int_equal(filter_bytecode(f, AF_INET, bc, sizeof(bc)), 0);
	filter_destroy(f);
	f = parse1("src *", n);
	assert_int_equal(filter_bytecode(f, AF_INET6, bc, sizeof(bc)), 0);
	filter_destroy(f);
	/* A family the kernel bytecode is not for. */
	f = parse1("sport = :22", n);
	assert_int_equal(filter_bytecode(f, AF_UNIX, bc, sizeof(bc)), 0);
	assert_int_equal(filter_bytecode(f, AF_INET, bc, 0), -ENOSPC);
	filter_destroy(f);
	/* A v4 prefix in an AF_INET6 request still matches v4-mapped sockets. */
	f = parse1("src 127.0.0.0/8", n);
	len = filter_bytecode(f, AF_INET6, bc, sizeof(bc));
	assert_true(len > 0);
	struct sock s = inet_sock(AF_INET6, "::ffff:127.0.0.5", 1, "::", 0);
	assert_true(bccheck_run(bc, (size_t)len, &s));
	filter_destroy(f);
	names_destroy(n);
}

/*
 * `cgroup PATH`: a glob over the record's cgroup path in user space; a
 * literal path that names a cgroup (the cgroup2 root, "/", on any host
 * with one) goes to the kernel as INET_DIAG_BC_CGROUP_COND on its id.
 */
static void test_cgroup(void **state)
{
	(void)state;
	struct names *n = test_names();
	struct filter *f = parse1("cgroup /system.slice/*", n);
	assert_true(filter_needs_cgroup(f));
	struct sock s = inet_sock(AF_INET, "127.0.0.1", 1, "0.0.0.0", 0);
	assert_false(filter_match(f, &s));
	s.cgroup_path = "/system.slice/ssh.service";
	assert_true(filter_match(f, &s));
	s.cgroup_path = "/user.slice";
	assert_false(filter_match(f, &s));
	unsigned char bc[256];
	/* A glob is for user space: the kernel is sent nothing. */
	assert_int_equal(filter_bytecode(f, AF_INET, bc, sizeof(bc)), 0);
	filter_destroy(f);
	f = parse1("sport = :22", n);
	assert_false(filter_needs_cgroup(f));
	filter_destroy(f);

	char mount[4096];
	uint64_t id = 0;
	if (cgroup_mount_find("/proc/self/mountinfo", mount, sizeof(mount)) < 0 ||
	    cgroup_path_id(mount, "/", &id) < 0) {
		names_destroy(n);
		skip();
	}
	f = parse1("cgroup / or sport = :22", n);
	check_bytecode("cgroup /", f, AF_INET);
	int len = filter_bytecode(f, AF_INET, bc, sizeof(bc));
	assert_true(len > 0);
	assert_null(bccheck_audit(bc, (size_t)len));
	s.cgroup_id = id;
	assert_true(bccheck_run(bc, (size_t)len, &s));
	s.cgroup_id = id + 1;
	assert_false(bccheck_run(bc, (size_t)len, &s));
	filter_destroy(f);
	names_destroy(n);
}

/* A long or-chain must not produce jumps the 16-bit field cannot hold. */
static void test_bytecode_huge(void **state)
{
	(void)state;
	size_t cap = 3000 * 32;
	char *s = malloc(cap);
	assert_non_null(s);
	size_t k = 0;
	for (int i = 0; i < 3000; i++)
		k += (size_t)snprintf(s + k, cap - k, "%sdst [2001:db8::%x]", i ? " or " : "", i);
	struct filter *f = parse1(s, NULL);
	size_t size = 200000;
	unsigned char *bc = malloc(size);
	assert_non_null(bc);
	int len = filter_bytecode(f, AF_INET6, bc, size);
	/* 3000 * 32 bytes would overflow the jumps: nothing is pushed down. */
	assert_int_equal(len, 0);
	filter_destroy(f);
	free(bc);
	free(s);
}

/* ---- nesting and size ---- */

/* Builds n copies of unit followed by tail, as one word. */
static char *repeat(const char *unit, size_t n, const char *tail)
{
	size_t ul = strlen(unit), tl = strlen(tail);
	char *s = malloc(ul * n + tl + 1);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	memcpy(s + ul * n, tail, tl + 1);
	return s;
}

static void expect_too_deep(const char *unit, size_t n, const char *tail, int offset)
{
	char *s = repeat(unit, n, tail);
	const char *w[] = {s};
	struct filter_error e = parse_err(1, w);
	if (!strstr(e.msg, "nested too deeply") || !strstr(e.msg, "256"))
		fail_msg("%zu x '%s': %s", n, unit, e.msg);
	assert_int_equal(e.word, 0);
	assert_int_equal(e.offset, offset);
	free(s);
}

/* 13,000 '(' or 100,000 'not' once overflowed the stack. */
static void test_depth_limit(void **state)
{
	(void)state;
	assert_int_equal(FILTER_MAX_DEPTH, 256);
	expect_too_deep("(", 13000, "sport 1", FILTER_MAX_DEPTH);
	expect_too_deep("not ", 100000, "sport 1", 4 * FILTER_MAX_DEPTH);
	expect_too_deep("!", 100000, "sport 1", FILTER_MAX_DEPTH);
	expect_too_deep("not (", FILTER_MAX_DEPTH / 2 + 1, "sport 1", 5 * (FILTER_MAX_DEPTH / 2));
	/* Just under the limit both parse, and mean what they say. */
	char *s = repeat("not ", FILTER_MAX_DEPTH, "sport 1");
	struct filter *f = parse1(s, NULL);
	struct sock k = inet_sock(AF_INET, "1.2.3.4", 1, "5.6.7.8", 2);
	assert_true(filter_match(f, &k)); /* an even number of nots */
	filter_destroy(f);
	free(s);
}

/* "PRED1 JOIN PRED2 JOIN ..." with n terms (PRED: pred and a port), one word. */
static char *chain(size_t n, const char *pred, const char *join)
{
	size_t cap = n * 32 + 1;
	char *s = malloc(cap);
	assert_non_null(s);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += (size_t)snprintf(s + k, cap - k, "%s%s%d", i ? join : "", pred,
				      (int)(i % 65000) + 1);
	return s;
}

/*
 * The compiler once re-classified every subtree at every level: 50,000
 * or-ed terms took 32 s. Its work is now counted, and must be linear.
 */
static void test_bytecode_linear(void **state)
{
	(void)state;
	const size_t sizes[] = {10, 1000, 50000};
	for (size_t i = 0; i < N(sizes); i++) {
		char *s = chain(sizes[i], "sport = :", " or ");
		struct filter *f = parse1(s, NULL);
		size_t visits = 0;
		static unsigned char bc[65536];
		int len = filter_bytecode_counted(f, AF_INET, bc, sizeof(bc), &visits);
		if (visits > 2 * (size_t)f->nnodes)
			fail_msg("%zu terms: %zu visits for %u nodes", sizes[i], visits, f->nnodes);
		assert_true(visits >= f->nnodes);
		/* Evaluating the whole chain recurses no deeper than its nesting. */
		struct sock last = inet_sock(AF_INET, "1.2.3.4", (int)sizes[i], "5.6.7.8", 2);
		struct sock none = inet_sock(AF_INET, "1.2.3.4", 65535, "5.6.7.8", 2);
		assert_true(filter_match(f, &last));
		assert_false(filter_match(f, &none));
		if (sizes[i] <= 1000) {
			/* Small enough to send: the kernel agrees. */
			assert_true(len > 0);
			assert_null(bccheck_audit(bc, (size_t)len));
			assert_true(bccheck_run(bc, (size_t)len, &last));
			assert_false(bccheck_run(bc, (size_t)len, &none));
		} else {
			/* Too large for 16-bit jumps: nothing is pushed down. */
			assert_int_equal(len, 0);
		}
		filter_destroy(f);
		free(s);
	}
	/* The same for an and-chain under a not, where the sense flips. */
	char *s = chain(50000, "sport != :", " && ");
	size_t len = strlen(s);
	char *w = malloc(len + 16);
	assert_non_null(w);
	snprintf(w, len + 16, "not ( %s )", s);
	struct filter *f = parse1(w, NULL);
	size_t visits = 0;
	static unsigned char bc[65536];
	assert_int_equal(filter_bytecode_counted(f, AF_INET6, bc, sizeof(bc), &visits), 0);
	assert_true(visits <= 2 * (size_t)f->nnodes);
	struct sock k = inet_sock(AF_INET6, "::1", 7, "::1", 2);
	assert_true(filter_match(f, &k));
	k.local.port = 60000;
	assert_false(filter_match(f, &k));
	filter_destroy(f);
	free(w);
	free(s);
}

static __attribute__((noinline)) void dirty_stack(void)
{
	volatile unsigned char junk[8192];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = 0xff;
}

/*
 * The padding of struct inet_diag_hostcond goes to the kernel with the
 * rest: it must be zero, not stack garbage (valgrind saw it), so the bytes
 * sent are the same every time.
 */
static void test_bytecode_padding(void **state)
{
	(void)state;
	const char *exprs[] = {"src 127.0.0.1", "dst [::1]:22", "sport = :22",
			       "not src 10/8 or dport = :80", "src 127.0.0.0/8:8080"};
	const size_t pad = offsetof(struct inet_diag_hostcond, prefix_len) + 1;
	const size_t pad_end = offsetof(struct inet_diag_hostcond, port);
	assert_true(pad < pad_end);
	for (size_t i = 0; i < N(exprs); i++) {
		struct filter *f = parse1(exprs[i], NULL);
		for (int fam = AF_INET; fam <= AF_INET6; fam += AF_INET6 - AF_INET) {
			unsigned char a[512], b[512];
			memset(a, 0xa5, sizeof(a));
			memset(b, 0x5a, sizeof(b));
			dirty_stack();
			int la = filter_bytecode(f, fam, a, sizeof(a));
			dirty_stack();
			int lb = filter_bytecode(f, fam, b, sizeof(b));
			assert_int_equal(la, lb);
			assert_true(la > 0);
			assert_memory_equal(a, b, (size_t)la);
			for (int off = 0; off < la;) {
				struct inet_diag_bc_op op;
				memcpy(&op, a + off, sizeof(op));
				if (op.code == INET_DIAG_BC_S_COND || op.code == INET_DIAG_BC_D_COND)
					for (size_t k = pad; k < pad_end; k++)
						if (a[(size_t)off + sizeof(op) + k])
							fail_msg("'%s': padding byte %zu is %#x", exprs[i],
								 k, a[(size_t)off + sizeof(op) + k]);
				off += (int)bccheck_op_len(a + off, (size_t)(la - off));
			}
		}
		filter_destroy(f);
	}
}

/* ---- command-line clauses ---- */

/* Parses expr (NULL: no FILTER) and ands o onto it, failing the test on error. */
static struct filter *with_opts(const char *expr, const struct filter_options *o,
				struct names *n)
{
	struct filter *f = expr ? parse1(expr, n) : NULL;
	struct filter_error err;
	int r = filter_add_options(&f, o, n, &err);
	if (r)
		fail_msg("'%s' with options: %d %s", expr ? expr : "", r, err.msg);
	return f;
}

static void test_option_ports(void **state)
{
	(void)state;
	struct names *n = test_names();
	const char *ports[] = {"22", "http"};
	struct filter_options o = {.ports = ports, .nports = 2};
	struct filter *f = with_opts(NULL, &o, n);
	assert_non_null(f);
	assert_false(filter_needs_owners(f));
	assert_false(f->has_states);
	struct sock a = inet_sock(AF_INET, "127.0.0.1", 22, "127.0.0.1", 50000);
	struct sock b = inet_sock(AF_INET6, "::1", 50000, "::1", 80);
	struct sock c = inet_sock(AF_INET, "127.0.0.1", 443, "127.0.0.1", 50001);
	struct sock u = unix_sock("/x", 2);
	/* Repeats are or-ed, each local or peer. */
	assert_true(filter_match(f, &a));
	assert_true(filter_match(f, &b));
	assert_false(filter_match(f, &c));
	assert_false(filter_match(f, &u));
	check_bytecode("--port 22 --port http", f, AF_INET);
	check_bytecode("--port 22 --port http", f, AF_INET6);
	filter_destroy(f);

	/* And-ed with a FILTER that holds an or of its own and a state. */
	o.nports = 1;
	f = with_opts("state established sport = :1 or dport = :2", &o, n);
	assert_int_equal(filter_states(f, 0), STATE_BIT(SS_ESTABLISHED));
	struct sock d = inet_sock(AF_INET, "127.0.0.1", 1, "127.0.0.1", 22);
	struct sock e = inet_sock(AF_INET, "127.0.0.1", 1, "127.0.0.1", 3);
	struct sock g = inet_sock(AF_INET, "127.0.0.1", 5, "127.0.0.1", 22);
	assert_true(filter_match(f, &d));
	assert_false(filter_match(f, &e));
	assert_false(filter_match(f, &g));
	check_bytecode("--port 22 with a filter", f, AF_INET);
	filter_destroy(f);

	/* A bad value names the option, and leaves the filter as it was. */
	const char *bad[] = {"nosuch", "99999", "", "-1"};
	for (size_t i = 0; i < N(bad); i++) {
		struct filter_options ob = {.ports = &bad[i], .nports = 1};
		f = parse1("sport = :7", n);
		struct fnode *root = f->root;
		struct filter_error err;
		assert_int_equal(filter_add_options(&f, &ob, n, &err), -EINVAL);
		char want[64];
		snprintf(want, sizeof(want), "bad --port value '%s'", bad[i]);
		assert_string_equal(err.msg, want);
		assert_int_equal(err.word, -1);
		assert_ptr_equal(f->root, root);
		filter_destroy(f);
		f = NULL;
		assert_int_equal(filter_add_options(&f, &ob, n, &err), -EINVAL);
		assert_null(f);
	}
	/* Without names only numbers. */
	struct filter_options os = {.ports = &ports[1], .nports = 1};
	f = NULL;
	struct filter_error err;
	assert_int_equal(filter_add_options(&f, &os, NULL, &err), -EINVAL);
	assert_string_equal(err.msg, "bad --port value 'http'");
	/* Nothing to add: nothing created. */
	struct filter_options none = {0};
	assert_int_equal(filter_add_options(&f, &none, n, &err), 0);
	assert_null(f);
	names_destroy(n);
}

static void test_option_states(void **state)
{
	(void)state;
	uint32_t m = 0;
	assert_int_equal(filter_state_mask("TIME_WAIT", &m), 0);
	assert_int_equal(m, STATE_BIT(SS_TIME_WAIT));
	assert_int_equal(filter_state_mask("connected", &m), 0);
	assert_int_equal(m, STATES_ALL & ~(STATE_BIT(SS_LISTEN) | STATE_BIT(SS_CLOSE)));
	assert_int_equal(filter_state_mask("bogus", &m), -EINVAL);
	assert_int_equal(filter_state_mask("", &m), -EINVAL);
	assert_int_equal(filter_state_mask(NULL, &m), -EINVAL);

	uint32_t est = STATE_BIT(SS_ESTABLISHED), lis = STATE_BIT(SS_LISTEN);
	struct filter_options o = {.has_states = true, .states = est | lis};
	/* Alone: they replace the base, and there is no predicate. */
	struct filter *f = with_opts(NULL, &o, NULL);
	assert_int_equal(filter_states(f, 0x42), est | lis);
	assert_null(f->root);
	filter_destroy(f);
	/* With the FILTER's states: both must hold. */
	f = with_opts("state established", &o, NULL);
	assert_int_equal(filter_states(f, 0x42), est);
	filter_destroy(f);
	f = with_opts("exclude established", &o, NULL);
	assert_int_equal(filter_states(f, 0x42), lis);
	filter_destroy(f);
	f = with_opts("state time-wait dport = :22", &o, NULL);
	assert_int_equal(filter_states(f, 0x42), 0);
	filter_destroy(f);
	/* A FILTER without states keeps its tree; the option's states stand. */
	f = with_opts("dport = :22", &o, NULL);
	assert_int_equal(filter_states(f, 0x42), est | lis);
	assert_int_equal(f->root->kind, FN_HOST);
	filter_destroy(f);
}

static struct sock held(const struct owner *w)
{
	struct sock s = inet_sock(AF_INET, "127.0.0.1", 22, "127.0.0.1", 40000);
	s.inode = 4711;
	s.has_uid = true;
	s.uid = 1000;
	s.owners = w;
	return s;
}

static void test_option_holders(void **state)
{
	(void)state;
	struct owner w1 = {.pid = 100, .fd = 3, .uid = 1000, .comm = "nginx"};
	struct owner w2 = {.pid = 200, .fd = 4, .uid = 0, .comm = "sshd"};
	struct owner w21 = w2;
	w21.next = &w1;
	const int32_t pids[] = {100, 300};
	struct filter_options o = {.pids = pids, .npids = 1};
	struct filter *f = with_opts(NULL, &o, NULL);
	assert_true(filter_needs_owners(f));
	assert_false(filter_needs_argv0(f));
	struct sock s1 = held(&w1), s2 = held(&w2), s21 = held(&w21), s0 = held(NULL);
	assert_true(filter_match(f, &s1));
	assert_false(filter_match(f, &s2));
	assert_true(filter_match(f, &s21)); /* some holder */
	assert_false(filter_match(f, &s0)); /* no visible holder */
	filter_destroy(f);
	o.npids = 2;
	o.pids = (const int32_t[]){300, 200};
	f = with_opts(NULL, &o, NULL);
	assert_true(filter_match(f, &s2)); /* repeats or-ed */
	assert_false(filter_match(f, &s1));
	filter_destroy(f);

	const char *names[] = {"nginx"};
	struct filter_options oc = {.commands = names, .ncommands = 1};
	f = with_opts(NULL, &oc, NULL);
	assert_true(filter_match(f, &s1));
	assert_true(filter_match(f, &s21));
	assert_false(filter_match(f, &s2));
	assert_false(filter_match(f, &s0));
	filter_destroy(f);

	/* --user: the holder's uid, else the kernel's, never for inode 0. */
	const uint32_t uids[] = {1000};
	struct filter_options ou = {.uids = uids, .nuids = 1};
	f = with_opts(NULL, &ou, NULL);
	assert_true(filter_match(f, &s1));
	assert_false(filter_match(f, &s2)); /* a visible holder decides */
	assert_true(filter_match(f, &s21));
	assert_true(filter_match(f, &s0)); /* none visible: kernel uid 1000 */
	s0.has_uid = false;
	assert_false(filter_match(f, &s0));
	filter_destroy(f);
	const uint32_t root[] = {0};
	ou.uids = root;
	f = with_opts(NULL, &ou, NULL);
	struct sock tw = held(NULL);
	tw.state = SS_TIME_WAIT;
	tw.inode = 0;
	tw.uid = 0;
	assert_false(filter_match(f, &tw)); /* the placeholder 0 is not root */
	tw.inode = 99;
	assert_true(filter_match(f, &tw));
	filter_destroy(f);

	/* --pid and --user hold for one and the same holder. */
	struct owner w3 = {.pid = 100, .uid = 0, .comm = "nginx"};
	struct owner w13 = w2;
	w13.next = &w1; /* pid 200 uid 0, then pid 100 uid 1000 */
	struct filter_options both = {.pids = pids, .npids = 1, .uids = root, .nuids = 1};
	f = with_opts("sport = :22", &both, NULL);
	struct sock s13 = held(&w13), s3 = held(&w3);
	assert_false(filter_match(f, &s13));
	assert_true(filter_match(f, &s3));
	struct sock s3b = s3;
	s3b.local.port = 23; /* and the FILTER still applies */
	assert_false(filter_match(f, &s3b));
	s0 = held(NULL);
	s0.uid = 0;
	assert_false(filter_match(f, &s0)); /* no holder: --pid cannot hold */
	/* The kernel judges the ports, and passes the holders through. */
	unsigned char bc[256];
	int len = filter_bytecode(f, AF_INET, bc, sizeof(bc));
	assert_true(len > 0);
	assert_true(bccheck_run(bc, (size_t)len, &s3));
	assert_false(bccheck_run(bc, (size_t)len, &s3b));
	filter_destroy(f);
}

static void test_option_long_command(void **state)
{
	(void)state;
	const char *name = "a-very-long-command-name"; /* 24 bytes */
	struct filter_options o = {.commands = &name, .ncommands = 1};
	struct filter *f = with_opts(NULL, &o, NULL);
	assert_true(filter_needs_argv0(f));
	assert_true(filter_needs_owners(f));
	const struct { const char *comm, *argv0; bool match; } cases[] = {
		{"a-very-long-com", "a-very-long-command-name", true},
		{"a-very-long-com", "/usr/bin/a-very-long-command-name", true},
		{"a-very-long-com", NULL, false},
		{"a-very-long-com", "a-very-long-command", false},
		{"a-very-long-com", "/a-very-long-command-name/x", false},
		{"a-very-long-co", "a-very-long-command-name", false},
		{"a-very-long-cox", "a-very-long-command-name", false},
		{"a-very-long-command-name", NULL, true}, /* a comm as given */
	};
	for (size_t i = 0; i < N(cases); i++) {
		struct owner w = {.pid = 1, .comm = cases[i].comm, .argv0 = cases[i].argv0};
		struct sock s = held(&w);
		if (filter_match(f, &s) != cases[i].match)
			fail_msg("comm '%s' argv0 '%s': want %d", cases[i].comm,
				 cases[i].argv0 ? cases[i].argv0 : "(null)", cases[i].match);
	}
	filter_destroy(f);
	/* 15 bytes exactly needs no argv[0]. */
	const char *fifteen = "a-very-long-com";
	struct filter_options o15 = {.commands = &fifteen, .ncommands = 1};
	f = with_opts(NULL, &o15, NULL);
	assert_false(filter_needs_argv0(f));
	struct owner w = {.pid = 1, .comm = "a-very-long-com"};
	struct sock s = held(&w);
	assert_true(filter_match(f, &s));
	filter_destroy(f);
	/* A filter without process clauses needs neither. */
	f = parse1("sport = :1", NULL);
	assert_false(filter_needs_owners(f));
	assert_false(filter_needs_argv0(f));
	filter_destroy(f);
	assert_false(filter_needs_owners(NULL));
	assert_false(filter_needs_argv0(NULL));
}

/* ---- live push-down ---- */

struct collect {
	struct sock socks[256];
	size_t n;
	enum proto proto;
};

static int on_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct collect *c = arg;
	struct diag_scratch sc;
	struct sock s;
	if (diag_parse(nlh, c->proto, &s, &sc) != 0)
		return 0;
	if (c->n < N(c->socks)) {
		s.path = NULL;
		s.info = NULL;
		s.mem = NULL;
		c->socks[c->n++] = s;
	}
	return 0;
}

static int dump(int family, const void *bc, size_t bclen, struct collect *c)
{
	struct nl *nl = NULL;
	int r = nl_create(&nl, NULL);
	if (r)
		return r;
	struct diag_request req = {
		.proto = PROTO_TCP,
		.family = family,
		.states = STATES_ALL,
		.bytecode = bc,
		.bytecode_len = bclen,
	};
	unsigned char buf[8192];
	size_t len = diag_build_request(buf, sizeof(buf), &req, nl_next_seq(nl));
	if (!len) {
		nl_destroy(nl);
		return -ENOSPC;
	}
	c->n = 0;
	c->proto = PROTO_TCP;
	r = nl_dump(nl, buf, len, on_msg, c);
	nl_destroy(nl);
	return r;
}

/* The sockets of c that filter_match keeps, as a sorted key list. */
static size_t keep(const struct collect *c, const struct filter *f, uint64_t *keys)
{
	size_t k = 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct sock *s = &c->socks[i];
		if (!filter_match(f, s))
			continue;
		uint64_t key = ((uint64_t)s->local.port << 48) | ((uint64_t)s->peer.port << 32) |
			       ((uint64_t)s->local.addr[s->family == AF_INET ? 3 : 15] << 24) |
			       ((uint64_t)s->peer.addr[s->family == AF_INET ? 3 : 15] << 16) |
			       ((uint64_t)s->state << 8) | s->family;
		keys[k++] = key;
	}
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && keys[j - 1] > keys[j]; j--) {
			uint64_t t = keys[j];
			keys[j] = keys[j - 1];
			keys[j - 1] = t;
		}
	return k;
}

static int listen_on(int family, const char *addr, int port)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &a->sin_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, addr, &a->sin6_addr);
		len = sizeof(*a);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 16)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_to(int family, const char *addr, int port)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &a->sin_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, addr, &a->sin6_addr);
		len = sizeof(*a);
	}
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Runs in the child, in its own namespace; returns an exit status. */
static int live_child(void)
{
	int entered = netns_enter();
	if (entered) {
		fprintf(stderr, "netns_enter: %s\n", strerror(-entered));
		return 2;
	}
	int fds[32];
	int nfd = 0;
	fds[nfd++] = listen_on(AF_INET, "127.0.0.1", 8080);
	fds[nfd++] = listen_on(AF_INET, "127.0.0.2", 8081);
	fds[nfd++] = listen_on(AF_INET, "0.0.0.0", 8082);
	fds[nfd++] = listen_on(AF_INET6, "::1", 8080);
	fds[nfd++] = listen_on(AF_INET6, "::", 8100);
	fds[nfd++] = connect_to(AF_INET, "127.0.0.1", 8080);
	fds[nfd++] = connect_to(AF_INET, "127.0.0.2", 8081);
	fds[nfd++] = connect_to(AF_INET6, "::1", 8080);
	fds[nfd++] = connect_to(AF_INET6, "::ffff:127.0.0.1", 8100); /* v4-mapped */
	fds[nfd++] = connect_to(AF_INET, "127.0.0.3", 8100);         /* dual-stack */
	for (int i = 0; i < nfd; i++)
		if (fds[i] < 0)
			return 4;

	struct names *n = NULL;
	if (names_create(&n, TEST_DATA "/filter/services"))
		return 5;
	/* `autobound` in user space needs the range this namespace picks from. */
	uint16_t lo, hi;
	if (procnet_local_ports("/proc", &lo, &hi))
		return 8;
	FILE *fp = fopen(TEST_DATA "/filter/corpus.txt", "r");
	if (!fp)
		return 6;
	static struct collect all, pushed;
	static uint64_t ka[256], kb[256];
	char line[1024];
	int failures = 0, lines = 0;
	size_t nonempty = 0;
	while (fgets(line, sizeof(line), fp) && lines < 1000) {
		line[strcspn(line, "\n\t")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		lines++;
		const char *w = line;
		struct filter *f = NULL;
		struct filter_error err;
		if (filter_parse(1, &w, n, &f, &err)) {
			fprintf(stderr, "'%s': %s\n", line, err.msg);
			failures++;
			continue;
		}
		filter_set_local_ports(f, lo, hi);
		for (int fam = AF_INET; fam <= AF_INET6; fam += AF_INET6 - AF_INET) {
			unsigned char bc[4096];
			int len = filter_bytecode(f, fam, bc, sizeof(bc));
			if (len < 0 || dump(fam, NULL, 0, &all) || dump(fam, len ? bc : NULL, (size_t)len, &pushed)) {
				fprintf(stderr, "'%s': dump failed\n", line);
				failures++;
				continue;
			}
			size_t na = keep(&all, f, ka);
			size_t nb = keep(&pushed, f, kb);
			nonempty += na > 0;
			if (na != nb || memcmp(ka, kb, na * sizeof(ka[0])) != 0) {
				fprintf(stderr, "'%s' family %d: %zu sockets without bytecode, %zu with\n",
					line, fam, na, nb);
				failures++;
			}
			/* The kernel really did filter: never more than it was asked for. */
			if (len > 0 && pushed.n > all.n)
				failures++;
		}
		filter_destroy(f);
	}
	fclose(fp);
	names_destroy(n);
	for (int i = 0; i < nfd; i++)
		close(fds[i]);
	if (lines < 60 || nonempty < 20) {
		fprintf(stderr, "only %d lines, %zu with matches\n", lines, nonempty);
		return 7;
	}
	return failures ? 1 : 0;
}

/* Runs f's bytecode for family over s as the kernel would; true when it passes. */
static bool kernel_keeps(struct filter *f, const struct sock *s)
{
	unsigned char bc[4096];
	int len = filter_bytecode(f, s->family, bc, sizeof(bc));
	assert_true(len >= 0);
	if (len > 0)
		assert_null(bccheck_audit(bc, (size_t)len));
	return len == 0 || bccheck_run(bc, (size_t)len, s);
}

/*
 * dev, fwmark and autobound: what each selects in user space, and that
 * the kernel, running the bytecode, selects the same.
 */
static void test_dev_mark_auto(void **state)
{
	(void)state;
	struct sock bound = inet_sock(AF_INET, "0.0.0.0", 7002, "0.0.0.0", 0);
	bound.ifindex = 1;
	bound.mark = 0x1234;
	struct sock free4 = inet_sock(AF_INET, "127.0.0.1", 40000, "127.0.0.1", 22);
	struct sock free6 = inet_sock(AF_INET6, "::1", 8080, "::1", 40001);
	free6.ifindex = 7;
	free6.mark = 0x10;
	struct sock us = unix_sock(NULL, 0);
	struct sock us_auto = unix_sock("\0" "1a2b3", 6);
	struct sock us_named = unix_sock("/run/x", 6);
	static const struct {
		const char *expr;
		bool bound, free4, free6, us, us_auto, us_named;
	} cases[] = {
		{"dev 1", true, false, false, false, false, false},
		{"dev = 1", true, false, false, false, false, false},
		{"dev == 1", true, false, false, false, false, false},
		{"dev eq 1", true, false, false, false, false, false},
		{"dev != 1", false, true, true, true, true, true},
		{"dev ne 1", false, true, true, true, true, true},
		{"dev 7", false, false, true, false, false, false},
		{"dev 0", false, true, false, true, true, true},
		{"fwmark 0x1234", true, false, false, false, false, false},
		{"fwmark = 4660", true, false, false, false, false, false},
		{"fwmark 0x1000/0xf000", true, false, false, false, false, false},
		{"fwmark 0/0", true, true, true, true, true, true},
		{"fwmark 0", false, true, false, true, true, true},
		{"fwmark != 0x10", true, true, false, true, true, true},
		{"fwmark 0x10/0xf0", false, false, true, false, false, false},
		{"fwmark 0x11/0xf0", false, false, false, false, false, false},
		{"autobound", false, true, false, true, true, false},
		{"not autobound", true, false, true, false, false, true},
		{"autobound and dport = :22", false, true, false, false, false, false},
		{"dev 1 or fwmark 0x10", true, false, true, false, false, false},
		{"! ( dev 7 and not autobound )", true, true, false, true, true, true},
	};
	for (size_t i = 0; i < N(cases); i++) {
		struct filter *f = parse1(cases[i].expr, NULL);
		assert_true(filter_needs_local_ports(f) == (strstr(cases[i].expr, "auto") != NULL));
		filter_set_local_ports(f, BCCHECK_AUTO_LO, BCCHECK_AUTO_HI);
		const struct { const struct sock *s; bool want; } v[] = {
			{&bound, cases[i].bound}, {&free4, cases[i].free4}, {&free6, cases[i].free6},
			{&us, cases[i].us}, {&us_auto, cases[i].us_auto},
			{&us_named, cases[i].us_named},
		};
		for (size_t k = 0; k < N(v); k++) {
			if (filter_match(f, v[k].s) != v[k].want)
				fail_msg("'%s': socket %zu should %sbe selected", cases[i].expr, k,
					 v[k].want ? "" : "not ");
			bool inet = v[k].s->family == AF_INET || v[k].s->family == AF_INET6;
			if (inet && kernel_keeps(f, v[k].s) != v[k].want)
				fail_msg("'%s': the bytecode disagrees on socket %zu", cases[i].expr, k);
		}
		filter_destroy(f);
	}
	/* Before the range is known, every port counts as the kernel's choice. */
	struct filter *f = parse1("autobound", NULL);
	assert_true(filter_match(f, &bound));
	filter_destroy(f);
	/* A device by name: lo is index 1 in every namespace. */
	f = parse1("dev lo", NULL);
	assert_true(filter_match(f, &bound));
	assert_false(filter_match(f, &free4));
	filter_destroy(f);
}

/* A host name stands for every one of its addresses, port and side kept. */
static void test_host_names(void **state)
{
	(void)state;
	struct names *n = test_names();
	struct sock lo22 = inet_sock(AF_INET, "127.0.0.1", 22, "127.0.0.1", 40000);
	struct sock other = inet_sock(AF_INET, "10.0.0.1", 22, "127.0.0.1", 40000);
	struct filter *f = parse1("src localhost", n);
	assert_true(filter_match(f, &lo22));
	assert_false(filter_match(f, &other));
	assert_true(kernel_keeps(f, &lo22));
	assert_false(kernel_keeps(f, &other));
	filter_destroy(f);
	f = parse1("src localhost:22", n);
	assert_true(filter_match(f, &lo22));
	filter_destroy(f);
	f = parse1("src localhost:23", n);
	assert_false(filter_match(f, &lo22));
	filter_destroy(f);
	f = parse1("dst localhost", n);
	assert_true(filter_match(f, &other));
	filter_destroy(f);
	f = parse1("not dst localhost", n);
	assert_false(filter_match(f, &other));
	assert_false(kernel_keeps(f, &other));
	filter_destroy(f);
	/* inet6: asks for IPv6 addresses only; /etc/hosts may hold none for localhost. */
	const char *w[] = {"src", "inet6:localhost"};
	struct filter *g = NULL;
	struct filter_error err;
	int r = filter_parse(2, w, n, &g, &err);
	if (r == 0)
		assert_false(filter_match(g, &lo22));
	else
		assert_non_null(strstr(err.msg, "unknown host 'localhost'"));
	filter_destroy(g);
	names_destroy(n);
}

static void test_live_pushdown(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		printf("skipping the live push-down test: it needs root for a network namespace\n");
		skip();
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(60);
		_exit(live_child());
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_spellings),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_services),
		cmocka_unit_test(test_match_inet),
		cmocka_unit_test(test_match_unix),
		cmocka_unit_test(test_bytecode_corpus),
		cmocka_unit_test(test_bytecode_shapes),
		cmocka_unit_test(test_cgroup),
		cmocka_unit_test(test_bytecode_huge),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_bytecode_linear),
		cmocka_unit_test(test_bytecode_padding),
		cmocka_unit_test(test_option_ports),
		cmocka_unit_test(test_option_states),
		cmocka_unit_test(test_option_holders),
		cmocka_unit_test(test_option_long_command),
		cmocka_unit_test(test_dev_mark_auto),
		cmocka_unit_test(test_host_names),
		cmocka_unit_test(test_live_pushdown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
