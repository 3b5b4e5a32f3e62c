#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "names.h"

#define SERVICES TEST_DATA "/names/services"

static void test_service_names(void **state)
{
	(void)state;
	struct names *n;
	assert_int_equal(names_create(&n, SERVICES), 0);
	assert_string_equal(names_service(n, 22, PROTO_TCP), "ssh");
	assert_string_equal(names_service(n, 22, PROTO_UDP), "ssh");
	assert_string_equal(names_service(n, 1, PROTO_TCP), "tcpmux");
	assert_null(names_service(n, 1, PROTO_UDP));
	/* The first name for a port wins over later duplicates. */
	assert_string_equal(names_service(n, 80, PROTO_TCP), "http");
	assert_null(names_service(n, 80, PROTO_UDP));
	assert_string_equal(names_service(n, 500, PROTO_UDP), "isakmp");
	assert_null(names_service(n, 500, PROTO_TCP));
	/* UDP-Lite shares the udp table; the others have no services. */
	assert_string_equal(names_service(n, 53, PROTO_UDPLITE), "domain");
	assert_null(names_service(n, 22, PROTO_RAW));
	assert_null(names_service(n, 22, PROTO_UNIX));
	assert_null(names_service(n, 22, PROTO_PACKET));
	assert_null(names_service(n, 22, PROTO_COUNT));
	/* Port 0 is the wildcard and is never named, even if listed. */
	assert_null(names_service(n, 0, PROTO_TCP));
	/* A trailing CR and the last line without newline still count. */
	assert_string_equal(names_service(n, 65535, PROTO_UDP), "tail");
	assert_string_equal(names_service(n, 9999, PROTO_TCP), "nonewline");
	assert_string_equal(names_service(n, 81, PROTO_TCP), "www");
	/* The pointer is cached: same answer, same storage. */
	assert_ptr_equal(names_service(n, 22, PROTO_TCP), names_service(n, 22, PROTO_TCP));
	assert_null(names_service(n, 12345, PROTO_TCP));
	names_destroy(n);
}

static void test_malformed_lines(void **state)
{
	(void)state;
	struct names *n;
	assert_int_equal(names_create(&n, SERVICES), 0);
	assert_int_equal(names_service_port(n, "reserved", PROTO_COUNT), -ENOENT);
	assert_int_equal(names_service_port(n, "toobig", PROTO_COUNT), -ENOENT);
	assert_int_equal(names_service_port(n, "missing", PROTO_COUNT), -ENOENT);
	assert_int_equal(names_service_port(n, "noport", PROTO_COUNT), -ENOENT);
	assert_int_equal(names_service_port(n, "noproto", PROTO_COUNT), -ENOENT);
	assert_int_equal(names_service_port(n, "junkproto", PROTO_COUNT), -ENOENT);
	assert_int_equal(names_service_port(n, "sctponly", PROTO_COUNT), -ENOENT);
	assert_int_equal(names_service_port(n, "signed", PROTO_COUNT), -ENOENT);
	assert_int_equal(names_service_port(n, "spacey", PROTO_COUNT), -ENOENT);
	assert_int_equal(names_service_port(n, "hex", PROTO_COUNT), -ENOENT);
	assert_int_equal(names_service_port(n, "esc\x1bname", PROTO_COUNT), -ENOENT);
	assert_int_equal(names_service_port(n, "aliasbad", PROTO_COUNT), -ENOENT);
	assert_null(names_service(n, 7000, PROTO_TCP));
	assert_null(names_service(n, 7001, PROTO_TCP));
	assert_null(names_service(n, 7003, PROTO_TCP));
	assert_null(names_service(n, 98, PROTO_TCP));
	assert_null(names_service(n, 9899, PROTO_TCP));
	/* 64 bytes is the longest name kept. */
	char y64[65];
	memset(y64, 'y', 64);
	y64[64] = '\0';
	assert_string_equal(names_service(n, 7002, PROTO_TCP), y64);
	/* Comments are not names. */
	assert_int_equal(names_service_port(n, "#", PROTO_COUNT), -ENOENT);
	assert_int_equal(names_service_port(n, "SSH", PROTO_COUNT), -ENOENT);
	names_destroy(n);
}

static void test_service_port(void **state)
{
	(void)state;
	struct names *n;
	assert_int_equal(names_create(&n, SERVICES), 0);
	/* The first lookup by name also loads the file lazily. */
	assert_int_equal(names_service_port(n, "ssh", PROTO_TCP), 22);
	assert_int_equal(names_service_port(n, "ssh", PROTO_UDP), 22);
	assert_int_equal(names_service_port(n, "ssh", PROTO_COUNT), 22);
	assert_int_equal(names_service_port(n, "http", PROTO_TCP), 80);
	assert_int_equal(names_service_port(n, "http", PROTO_UDP), -ENOENT);
	assert_int_equal(names_service_port(n, "http", PROTO_UDPLITE), -ENOENT);
	assert_int_equal(names_service_port(n, "domain", PROTO_UDPLITE), 53);
	/* Aliases, and a name that is also a later service keeps its first port. */
	assert_int_equal(names_service_port(n, "www", PROTO_TCP), 80);
	assert_int_equal(names_service_port(n, "www-http", PROTO_COUNT), 80);
	assert_int_equal(names_service_port(n, "mail", PROTO_TCP), 25);
	assert_int_equal(names_service_port(n, "webcache", PROTO_TCP), 8080);
	assert_int_equal(names_service_port(n, "dup", PROTO_TCP), 80);
	assert_int_equal(names_service_port(n, "shadowhttp", PROTO_TCP), 80);
	assert_int_equal(names_service_port(n, "last-alias", PROTO_UDP), 65535);
	assert_int_equal(names_service_port(n, "isakmp", PROTO_TCP), -ENOENT);
	assert_int_equal(names_service_port(n, "isakmp", PROTO_COUNT), 500);
	/* No table for these. */
	assert_int_equal(names_service_port(n, "ssh", PROTO_RAW), -ENOENT);
	assert_int_equal(names_service_port(n, "ssh", PROTO_UNIX), -ENOENT);
	assert_int_equal(names_service_port(n, "", PROTO_COUNT), -ENOENT);
	assert_int_equal(names_service_port(n, "ss", PROTO_COUNT), -ENOENT);
	assert_int_equal(names_service_port(n, "22", PROTO_COUNT), -ENOENT);
	names_destroy(n);
}

static void test_missing_services(void **state)
{
	(void)state;
	struct names *n;
	assert_int_equal(names_create(&n, TEST_DATA "/names/does-not-exist"), 0);
	assert_null(names_service(n, 22, PROTO_TCP));
	assert_int_equal(names_service_port(n, "ssh", PROTO_TCP), -ENOENT);
	names_destroy(n);
	/* A directory is not a services file either. */
	assert_int_equal(names_create(&n, TEST_DATA "/names"), 0);
	assert_null(names_service(n, 22, PROTO_TCP));
	names_destroy(n);
	names_destroy(NULL);
}

/* An unassigned uid: the first one from the top that has no passwd entry. */
static uint32_t free_uid(void)
{
	for (uint32_t uid = 3999999000u; uid < 3999999100u; uid++)
		if (!getpwuid(uid))
			return uid;
	fail_msg("no unassigned uid found");
	return 0;
}

static void test_users(void **state)
{
	(void)state;
	struct names *n;
	assert_int_equal(names_create(&n, SERVICES), 0);
	const char *root = names_user(n, 0);
	assert_string_equal(root, "root");
	assert_ptr_equal(names_user(n, 0), root); /* cached */

	uint32_t uid = free_uid();
	char want[16];
	snprintf(want, sizeof(want), "%u", uid);
	const char *u = names_user(n, uid);
	assert_string_equal(u, want);
	assert_ptr_equal(names_user(n, uid), u);
	assert_string_equal(names_user(n, UINT32_MAX), "4294967295");

	/* Enough distinct uids to grow the cache; answers stay right. */
	for (uint32_t i = 0; i < 300; i++) {
		char d[16];
		snprintf(d, sizeof(d), "%u", 3999990000u + i);
		if (!getpwuid(3999990000u + i))
			assert_string_equal(names_user(n, 3999990000u + i), d);
	}
	assert_string_equal(names_user(n, 0), "root");
	assert_ptr_equal(names_user(n, uid), u);

	struct passwd *pw = getpwuid(getuid());
	if (pw)
		assert_string_equal(names_user(n, getuid()), pw->pw_name);
	names_destroy(n);
}

static void test_hosts(void **state)
{
	(void)state;
	struct names *n;
	assert_int_equal(names_create(&n, NULL), 0);
	/* Only inet families are resolved. */
	const uint8_t zero[16] = {0};
	assert_null(names_host(n, AF_UNIX, zero));
	assert_null(names_host(n, AF_PACKET, zero));

	/* 127.0.0.1 is in /etc/hosts almost everywhere; no DNS is needed. */
	const uint8_t lo[4] = {127, 0, 0, 1};
	const char *h = names_host(n, AF_INET, lo);
	if (h) {
		assert_true(h[0] != '\0');
		/* A name, never the numeric form (NI_NAMEREQD). */
		assert_string_not_equal(h, "127.0.0.1");
	}
	assert_ptr_equal(names_host(n, AF_INET, lo), h);

	names_destroy(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_service_names),
		cmocka_unit_test(test_malformed_lines),
		cmocka_unit_test(test_service_port),
		cmocka_unit_test(test_missing_services),
		cmocka_unit_test(test_users),
		cmocka_unit_test(test_hosts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
