#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"

static void test_rfc3339(void **state)
{
	(void)state;
	char b[CLOCK_RFC3339_SIZE];
	assert_int_equal(clock_rfc3339(b, 0, false), 20);
	assert_string_equal(b, "1970-01-01T00:00:00Z");
	clock_rfc3339(b, 1234, true);
	assert_string_equal(b, "1970-01-01T00:00:01.234Z");
	/* Before the epoch the milliseconds still count up within the second. */
	clock_rfc3339(b, -1, true);
	assert_string_equal(b, "1969-12-31T23:59:59.999Z");
	/* 2026-12-01T09:50:00.005Z, a leap year's February behind it. */
	clock_rfc3339(b, 1796118600005LL, true);
	assert_string_equal(b, "2026-12-01T09:50:00.005Z");
	clock_rfc3339(b, 951782400000LL, false);
	assert_string_equal(b, "2000-02-29T00:00:00Z");
}

static void test_parse_seconds(void **state)
{
	(void)state;
	uint64_t ms = 7;
	assert_true(clock_parse_seconds("2", 100000, &ms));
	assert_int_equal(ms, 2000);
	assert_true(clock_parse_seconds("0.1", 100000, &ms));
	assert_int_equal(ms, 100);
	assert_true(clock_parse_seconds("1.25", 100000, &ms));
	assert_int_equal(ms, 1250);
	assert_true(clock_parse_seconds("0.005", 100000, &ms));
	assert_int_equal(ms, 5);
	assert_true(clock_parse_seconds("100", 100000, &ms));
	assert_int_equal(ms, 100000);
	const char *bad[] = {"", ".", "1.", ".5", "-1", "+1", " 1", "1 ", "1e3", "0x10",
			     "1.2345", "1,5", "101", "99999999999999999999", "1..2", "nan"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = 7;
		assert_false(clock_parse_seconds(bad[i], 100000, &ms));
		assert_int_equal(ms, 7);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_parse_seconds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
