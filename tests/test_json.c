#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "jsoncheck.h"

/* Checks the buffer against want and against the independent validator. */
static void out_is(struct buf *b, const char *want)
{
	assert_true(buf_ok(b));
	assert_string_equal(b->p, want);
	assert_true(json_valid(b->p, b->len));
	buf_finish(b);
}

static void validator_rejects(void **state)
{
	(void)state;
	/* The validator must be able to fail, or the other tests prove nothing. */
	const char *bad[] = {
		"", "{", "[1,]", "{\"a\"1}", "{\"a\":1,}", "[1 2]", "01", "1.", "-",
		"\"\x01\"", "\"\\ud800\"", "\"\xff\"", "\"\xed\xa0\x80\"", "nul",
		"{\"a\":1}}", "[\"\\x\"]", "NaN", "Infinity", "\"abc",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(json_valid(bad[i], strlen(bad[i])));
	const char *good[] = {
		"{}", "[]", "0", "-1.5e+3", "\"\\ud83d\\ude00\"", "[{\"a\":[null,true,false]}]",
		" {\"a\" : 1 } \n",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(json_valid(good[i], strlen(good[i])));
}

static void empty_containers(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	struct json j;
	json_init(&j, &b);
	json_object_begin(&j);
	json_object_end(&j);
	out_is(&b, "{}");

	json_init(&j, &b);
	json_array_begin(&j);
	json_array_end(&j);
	out_is(&b, "[]");

	json_init(&j, &b);
	json_object_begin(&j);
	json_key(&j, "a");
	json_array_begin(&j);
	json_array_end(&j);
	json_key(&j, "b");
	json_object_begin(&j);
	json_object_end(&j);
	json_object_end(&j);
	out_is(&b, "{\"a\":[],\"b\":{}}");
}

static void nesting_and_commas(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	struct json j;
	json_init(&j, &b);
	json_array_begin(&j);
	for (int i = 0; i < 3; i++) {
		json_object_begin(&j);
		json_key(&j, "i");
		json_int(&j, i);
		json_key(&j, "l");
		json_array_begin(&j);
		json_uint(&j, 1);
		json_array_begin(&j);
		json_null(&j);
		json_bool(&j, true);
		json_array_end(&j);
		json_bool(&j, false);
		json_array_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	assert_int_equal(j.depth, 0);
	out_is(&b, "[{\"i\":0,\"l\":[1,[null,true],false]},"
		   "{\"i\":1,\"l\":[1,[null,true],false]},"
		   "{\"i\":2,\"l\":[1,[null,true],false]}]");
}

/* Top-level values are a stream (NDJSON): no commas between them. */
static void top_level_stream(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	struct json j;
	json_init(&j, &b);
	json_object_begin(&j);
	json_object_end(&j);
	buf_addc(&b, '\n');
	json_object_begin(&j);
	json_key(&j, "x");
	json_uint(&j, 2);
	json_object_end(&j);
	assert_true(buf_ok(&b));
	assert_string_equal(b.p, "{}\n{\"x\":2}");
	buf_finish(&b);
}

static void numbers(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	struct json j;
	json_init(&j, &b);
	json_array_begin(&j);
	json_uint(&j, 0);
	json_uint(&j, UINT64_MAX);
	json_int(&j, INT64_MIN);
	json_int(&j, INT64_MAX);
	json_int(&j, -1);
	json_array_end(&j);
	out_is(&b, "[0,18446744073709551615,-9223372036854775808,9223372036854775807,-1]");

	json_init(&j, &b);
	json_array_begin(&j);
	json_double(&j, 0.05);
	json_double(&j, 0.025);
	json_double(&j, 1.0);
	json_double(&j, -2.5);
	json_double(&j, 0.0);
	json_double(&j, NAN);
	json_double(&j, INFINITY);
	json_double(&j, -INFINITY);
	json_double(&j, 1e300);
	json_array_end(&j);
	out_is(&b, "[0.05,0.025,1,-2.5,0,null,null,null,1e+300]");
}

/* Doubles read back exactly, whatever their magnitude. */
static void doubles_round_trip(void **state)
{
	(void)state;
	const double v[] = {0.1, 1.0 / 3.0, 123456.789, 2.2250738585072014e-308,
			    1.7976931348623157e308, 5e-324, 0.30000000000000004};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct buf b = BUF_INIT;
		struct json j;
		json_init(&j, &b);
		json_double(&j, v[i]);
		assert_true(json_valid(b.p, b.len));
		assert_true(strtod(b.p, NULL) == v[i]);
		buf_finish(&b);
	}
}

static void strings(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	struct json j;
	json_init(&j, &b);
	json_object_begin(&j);
	json_key(&j, "command");
	json_cstring(&j, "\x1b[31mevil\"\\\n");
	json_key(&j, "path");
	json_string(&j, "@a\0b\xff", 5);
	json_key(&j, "none");
	json_cstring(&j, NULL);
	json_object_end(&j);
	out_is(&b, "{\"command\":\"\\u001b[31mevil\\\"\\\\\\n\","
		   "\"path\":\"@a\\u0000b\xef\xbf\xbd\",\"none\":null}");
}

/* Nesting past the limit fails the buffer rather than writing nonsense. */
static void too_deep(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	struct json j;
	json_init(&j, &b);
	for (int i = 0; i < JSON_MAX_DEPTH + 2; i++)
		json_array_begin(&j);
	assert_false(buf_ok(&b));
	buf_finish(&b);

	json_init(&j, &b);
	for (int i = 0; i < JSON_MAX_DEPTH - 1; i++)
		json_array_begin(&j);
	for (int i = 0; i < JSON_MAX_DEPTH - 1; i++)
		json_array_end(&j);
	assert_true(buf_ok(&b));
	assert_true(json_valid(b.p, b.len));
	buf_finish(&b);
}

/* Many rows stay valid and the writer itself holds no growing state. */
static void many_values(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	struct json j;
	json_init(&j, &b);
	json_array_begin(&j);
	for (unsigned i = 0; i < 10000; i++) {
		json_object_begin(&j);
		json_key(&j, "n");
		json_uint(&j, i);
		json_key(&j, "s");
		json_string(&j, "\xc3\xa9\x80", 3);
		json_object_end(&j);
	}
	json_array_end(&j);
	assert_true(buf_ok(&b));
	assert_true(json_valid(b.p, b.len));
	/* A truncated document must not validate. */
	assert_false(json_valid(b.p, b.len - 1));
	buf_finish(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(validator_rejects),
		cmocka_unit_test(empty_containers),
		cmocka_unit_test(nesting_and_commas),
		cmocka_unit_test(top_level_stream),
		cmocka_unit_test(numbers),
		cmocka_unit_test(doubles_round_trip),
		cmocka_unit_test(strings),
		cmocka_unit_test(too_deep),
		cmocka_unit_test(many_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
