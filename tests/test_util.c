#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "util.h"

static void test_map_many(void **state)
{
	(void)state;
	struct u64map m = U64MAP_INIT;
	static int vals[3];
	/* 0 and large keys too: the map stores key + 1 internally. */
	for (uint64_t k = 0; k < 100000; k++) {
		void **slot;
		bool fresh;
		assert_int_equal(u64map_insert(&m, k * 7919, &slot, &fresh), 0);
		assert_true(fresh);
		*slot = &vals[k % 3];
	}
	assert_int_equal(m.len, 100000);
	assert_true(m.len * 2 <= m.cap);
	for (uint64_t k = 0; k < 100000; k++) {
		void **slot = u64map_get(&m, k * 7919);
		assert_non_null(slot);
		assert_ptr_equal(*slot, &vals[k % 3]);
	}
	assert_null(u64map_get(&m, 1));
	assert_null(u64map_get(&m, UINT64_MAX));

	/* A second insert of a key finds the first. */
	void **slot;
	bool fresh;
	assert_int_equal(u64map_insert(&m, 7919, &slot, &fresh), 0);
	assert_false(fresh);
	assert_ptr_equal(*slot, &vals[1]);
	assert_int_equal(u64map_insert(&m, UINT64_MAX, &slot, &fresh), -EINVAL);
	assert_int_equal(u64map_insert(&m, UINT64_MAX - 1, &slot, &fresh), 0);
	assert_true(fresh);

	u64map_clear(&m);
	assert_int_equal(m.len, 0);
	assert_null(u64map_get(&m, 0));
	u64map_finish(&m);
	u64map_finish(&m);
	u64map_finish(NULL);
}

static void test_set(void **state)
{
	(void)state;
	struct u64map m = U64SET_INIT;
	for (uint64_t k = 0; k < 5000; k++) {
		void **slot = (void **)&m;
		bool fresh;
		assert_int_equal(u64map_insert(&m, k * 3, &slot, &fresh), 0);
		assert_true(fresh);
		assert_null(slot);
	}
	assert_null(m.vals);
	for (uint64_t k = 0; k < 15000; k++)
		assert_true(u64map_has(&m, k) == (k % 3 == 0));
	assert_null(u64map_get(&m, 3));
	u64map_clear(&m);
	assert_false(u64map_has(&m, 3));
	u64map_finish(&m);
	assert_true(m.set);
}

static void test_parse(void **state)
{
	(void)state;
	uint64_t v = 42;
	assert_true(util_parse_u64z("0", 10, &v));
	assert_int_equal(v, 0);
	assert_true(util_parse_u64z("18446744073709551615", UINT64_MAX, &v));
	assert_true(v == UINT64_MAX);
	v = 42;
	assert_false(util_parse_u64z("18446744073709551616", UINT64_MAX, &v));
	assert_false(util_parse_u64z("65536", 65535, &v));
	assert_true(util_parse_u64z("65535", 65535, &v));
	assert_int_equal(v, 65535);
	v = 42;
	assert_false(util_parse_u64z("", 10, &v));
	assert_false(util_parse_u64z("-1", 10, &v));
	assert_false(util_parse_u64z("+1", 10, &v));
	assert_false(util_parse_u64z(" 1", 10, &v));
	assert_false(util_parse_u64z("1 ", 10, &v));
	assert_false(util_parse_u64z("0x10", 100, &v));
	assert_int_equal(v, 42);
	/* The hex-or-decimal form, for marks. */
	assert_true(util_parse_x64z("0x10", 100, &v));
	assert_int_equal(v, 16);
	assert_true(util_parse_x64z("0XfF", 255, &v));
	assert_int_equal(v, 255);
	assert_true(util_parse_x64z("17", 100, &v));
	assert_int_equal(v, 17);
	assert_true(util_parse_x64z("0xffffffff", UINT32_MAX, &v));
	assert_true(v == UINT32_MAX);
	v = 42;
	assert_false(util_parse_x64z("0x100000000", UINT32_MAX, &v));
	assert_false(util_parse_x64z("0x", 100, &v));
	assert_false(util_parse_x64z("0xg", 100, &v));
	assert_false(util_parse_x64z("0x-1", 100, &v));
	assert_false(util_parse_x64z("", 100, &v));
	assert_false(util_parse_x64z("x10", 100, &v));
	assert_true(util_parse_x64z("0xffffffffffffffff", UINT64_MAX, &v));
	assert_false(util_parse_x64z("0x10000000000000000", UINT64_MAX, &v));
	assert_true(v == UINT64_MAX);
	/* Only len bytes count. */
	assert_true(util_parse_u64("123abc", 3, 1000, &v));
	assert_int_equal(v, 123);
	assert_false(util_parse_u64("123", 0, 1000, &v));
}

static void test_fmt(void **state)
{
	(void)state;
	char b[UTIL_U64_DIGITS];
	assert_int_equal(util_fmt_u64(b, 0), 1);
	assert_string_equal(b, "0");
	assert_int_equal(util_fmt_u64(b, 4711), 4);
	assert_string_equal(b, "4711");
	assert_int_equal(util_fmt_u64(b, UINT64_MAX), 20);
	assert_string_equal(b, "18446744073709551615");
}

static void test_read_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_util.XXXXXX";
	assert_non_null(mkdtemp(dir));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);

	/* Bigger than one read chunk. */
	int fd = openat(dfd, "big", O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	char chunk[1000];
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 200; i++)
		assert_int_equal(write(fd, chunk, sizeof(chunk)), sizeof(chunk));
	close(fd);

	struct buf b = BUF_INIT;
	buf_adds(&b, "pre");
	assert_int_equal(util_read_file(dfd, "big", 1 << 20, &b), 0);
	assert_int_equal(b.len, 3 + 200000);
	assert_int_equal(b.p[b.len], '\0');
	buf_reset(&b);
	/* Exactly max is fine, one byte less is too big. */
	assert_int_equal(util_read_file(dfd, "big", 200000, &b), 0);
	buf_reset(&b);
	assert_int_equal(util_read_file(dfd, "big", 199999, &b), -EFBIG);
	buf_reset(&b);
	assert_int_equal(util_read_file(dfd, "none", 100, &b), -ENOENT);
	/* A FIFO neither blocks nor counts as a file. */
	assert_int_equal(mkfifoat(dfd, "fifo", 0600), 0);
	assert_int_equal(util_read_file(dfd, "fifo", 100, &b), -EINVAL);
	assert_int_equal(util_read_file(dfd, ".", 100, &b), -EINVAL);
	/* /proc files say they are empty and are not. */
	buf_reset(&b);
	assert_int_equal(util_read_file(AT_FDCWD, "/proc/self/status", 1 << 20, &b), 0);
	assert_non_null(strstr(b.p, "Pid:"));
	buf_finish(&b);

	unlinkat(dfd, "big", 0);
	unlinkat(dfd, "fifo", 0);
	close(dfd);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_many),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_fmt),
		cmocka_unit_test(test_read_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
