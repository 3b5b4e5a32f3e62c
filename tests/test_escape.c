#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "escape.h"

/* Escapes len bytes for the table and compares with want. */
static void text_is(const char *in, size_t len, const char *want)
{
	struct buf b = BUF_INIT;
	escape_text(&b, in, len);
	assert_true(buf_ok(&b));
	assert_string_equal(b.p ? b.p : "", want);
	/* The table output never holds a raw control byte. */
	for (size_t i = 0; i < b.len; i++) {
		unsigned char c = (unsigned char)b.p[i];
		assert_false(c < 0x20 || c == 0x7f);
	}
	buf_finish(&b);
}

static void json_is(const char *in, size_t len, const char *want)
{
	struct buf b = BUF_INIT;
	escape_json(&b, in, len);
	assert_true(buf_ok(&b));
	assert_string_equal(b.p, want);
	buf_finish(&b);
}

#define TEXT(lit, want) text_is(lit, sizeof(lit) - 1, want)
#define JSON(lit, want) json_is(lit, sizeof(lit) - 1, want)

static void text_ascii(void **state)
{
	(void)state;
	TEXT("", "");
	TEXT("sshd", "sshd");
	TEXT("/run/a b.sock", "/run/a b.sock");
	TEXT("~!\"#$%&'()*+,-./:;<=>?@[]^_`{|}", "~!\"#$%&'()*+,-./:;<=>?@[]^_`{|}");
	TEXT("a\\b", "a\\\\b");
}

static void text_controls(void **state)
{
	(void)state;
	TEXT("a\nb", "a\\nb");
	TEXT("\t\r", "\\t\\r");
	TEXT("\x1b[31mred", "\\x1b[31mred");
	TEXT("\x01\x07\x08\x1f", "\\x01\\x07\\x08\\x1f");
	TEXT("\x7f", "\\x7f");
	TEXT("a\0b", "a\\x00b");
	TEXT("\0", "\\x00");
}

static void text_utf8(void **state)
{
	(void)state;
	/* Valid printable UTF-8 passes: 2, 3 and 4 byte forms and the edges. */
	TEXT("caf\xc3\xa9", "caf\xc3\xa9");
	TEXT("\xc2\xa0", "\xc2\xa0");                 /* U+00A0, first after C1 */
	TEXT("\xe2\x82\xac", "\xe2\x82\xac");         /* U+20AC */
	TEXT("\xef\xbf\xbf", "\xef\xbf\xbf");         /* U+FFFF */
	TEXT("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"); /* U+1F600 */
	TEXT("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
	TEXT("\xed\x9f\xbf", "\xed\x9f\xbf");         /* U+D7FF */
	TEXT("\xee\x80\x80", "\xee\x80\x80");         /* U+E000 */
}

static void text_c1(void **state)
{
	(void)state;
	/* C1 controls, encoded or raw (0x9b alone is CSI on some terminals). */
	TEXT("\xc2\x80", "\\xc2\\x80");
	TEXT("\xc2\x9b" "2J", "\\xc2\\x9b2J");
	TEXT("\xc2\x9f", "\\xc2\\x9f");
	TEXT("\x9b" "31m", "\\x9b31m");
	/* Bidirectional overrides would reorder what the admin reads. */
	TEXT("a\xe2\x80\xae" "b", "a\\xe2\\x80\\xaeb");
	TEXT("\xe2\x80\xa8", "\\xe2\\x80\\xa8");
	/* U+061C ARABIC LETTER MARK is a bidi control like U+200E/U+200F. */
	TEXT("a\xd8\x9c" "b", "a\\xd8\\x9cb");
	TEXT("\xe2\x80\x8e\xe2\x80\x8f", "\\xe2\\x80\\x8e\\xe2\\x80\\x8f");
	/* Its neighbours are letters and pass. */
	TEXT("\xd8\x9b\xd8\x9d", "\xd8\x9b\xd8\x9d");
}

static void text_invalid(void **state)
{
	(void)state;
	TEXT("\xff", "\\xff");
	TEXT("\xfe\xc0\xc1", "\\xfe\\xc0\\xc1");
	TEXT("\xc0\xaf", "\\xc0\\xaf");                 /* overlong '/' */
	TEXT("\xe0\x80\xaf", "\\xe0\\x80\\xaf");        /* overlong 3-byte */
	TEXT("\xe0\x9f\xbf", "\\xe0\\x9f\\xbf");        /* overlong U+07FF */
	TEXT("\xf0\x8f\xbf\xbf", "\\xf0\\x8f\\xbf\\xbf"); /* overlong U+FFFF */
	TEXT("\xed\xa0\x80", "\\xed\\xa0\\x80");        /* U+D800 */
	TEXT("\xed\xbf\xbf", "\\xed\\xbf\\xbf");        /* U+DFFF */
	TEXT("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* U+110000 */
	TEXT("\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80");
	TEXT("\x80", "\\x80");                          /* lone continuation */
	TEXT("\xe2\x82", "\\xe2\\x82");                 /* truncated at end */
	TEXT("\xe2\x82" "A", "\\xe2\\x82A");            /* truncated mid-string */
	TEXT("\xf0\x9f\x98", "\\xf0\\x9f\\x98");
	TEXT("\xc3", "\\xc3");
	TEXT("\xc3\xc3\xa9", "\\xc3\xc3\xa9");          /* resyncs on next lead */
}

static void json_basic(void **state)
{
	(void)state;
	JSON("", "\"\"");
	JSON("python3", "\"python3\"");
	JSON("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
	JSON("\n\t\r\b\f", "\"\\n\\t\\r\\b\\f\"");
	JSON("\x1b[31m", "\"\\u001b[31m\"");
	JSON("\x01\x1f", "\"\\u0001\\u001f\"");
	JSON("a\0b", "\"a\\u0000b\"");
	JSON("\x7f", "\"\\u007f\"");
}

static void json_utf8(void **state)
{
	(void)state;
	JSON("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	JSON("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");
	JSON("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");
	JSON("\xc2\x9b", "\"\\u009b\"");
	JSON("\xe2\x80\xae", "\"\\u202e\"");
	JSON("\xd8\x9c", "\"\\u061c\"");
}

/*
 * Widths are terminal cells under the locale: a CJK character takes two,
 * a combining mark none, an escape its own length; where the locale reads
 * no UTF-8 (C), one per character.
 */
static void width_cells(void **state)
{
	(void)state;
	assert_int_equal(escape_width("abc", 3), 3);
	assert_int_equal(escape_width("\\x1b", 4), 4);
	assert_non_null(setlocale(LC_CTYPE, "C"));
	assert_int_equal(escape_width("\xe6\x97\xa5\xe6\x9c\xac", 6), 2);
	if (!setlocale(LC_CTYPE, "C.UTF-8")) {
		printf("skipped: no C.UTF-8 locale\n");
		skip();
	}
	assert_int_equal(escape_width("\xe6\x97\xa5\xe6\x9c\xac", 6), 4); /* 日本 */
	assert_int_equal(escape_width("e\xcc\x81", 3), 1);                 /* e + U+0301 */
	assert_int_equal(escape_width("caf\xc3\xa9", 5), 4);
	assert_int_equal(escape_width("/\xe6\x97\xa5.sock", 9), 8);
	setlocale(LC_CTYPE, "C");
}

static void json_invalid(void **state)
{
	(void)state;
	JSON("\xff", "\"\xef\xbf\xbd\"");
	JSON("a\x9b" "b", "\"a\xef\xbf\xbd" "b\"");
	JSON("\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	JSON("\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	JSON("\xf4\x90\x80\x80",
	     "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	JSON("\xe2\x82", "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	JSON("x\xe2\x82\"", "\"x\xef\xbf\xbd\xef\xbf\xbd\\\"\"");
}

/*
 * Every single byte and every pair of bytes: the table form never holds a
 * control byte, and the JSON form never holds one either, nor a surrogate
 * escape, and always ends with its closing quote.
 */
static void exhaustive_pairs(void **state)
{
	(void)state;
	struct buf t = BUF_INIT, j = BUF_INIT;
	for (unsigned a = 0; a < 256; a++) {
		for (unsigned c = 0; c < 256; c++) {
			char in[3] = {(char)a, (char)c, 'z'};
			buf_reset(&t);
			buf_reset(&j);
			escape_text(&t, in, sizeof(in));
			escape_json(&j, in, sizeof(in));
			assert_true(buf_ok(&t) && buf_ok(&j));
			for (size_t i = 0; i < t.len; i++) {
				unsigned char x = (unsigned char)t.p[i];
				assert_false(x < 0x20 || x == 0x7f);
			}
			for (size_t i = 0; i < j.len; i++) {
				unsigned char x = (unsigned char)j.p[i];
				assert_false(x < 0x20 || x == 0x7f);
			}
			assert_null(strstr(j.p, "\\ud8"));
			assert_true(j.len >= 3);
			assert_int_equal(j.p[j.len - 1], '"');
			assert_int_equal(j.p[j.len - 2], 'z');
			assert_int_equal(t.p[t.len - 1], 'z');
		}
	}
	buf_finish(&t);
	buf_finish(&j);
}

/* A long hostile string is escaped whole, nothing truncated. */
static void long_input(void **state)
{
	(void)state;
	enum { N = 100000 };
	static char in[N];
	for (size_t i = 0; i < N; i++)
		in[i] = (i % 2) ? '\n' : 'a';
	struct buf b = BUF_INIT;
	escape_text(&b, in, N);
	assert_int_equal(b.len, N / 2 * 3);
	buf_finish(&b);
	escape_json(&b, in, N);
	assert_int_equal(b.len, N / 2 * 3 + 2);
	buf_finish(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_ascii),
		cmocka_unit_test(text_controls),
		cmocka_unit_test(text_utf8),
		cmocka_unit_test(text_c1),
		cmocka_unit_test(text_invalid),
		cmocka_unit_test(json_basic),
		cmocka_unit_test(json_utf8),
		cmocka_unit_test(json_invalid),
		cmocka_unit_test(width_cells),
		cmocka_unit_test(exhaustive_pairs),
		cmocka_unit_test(long_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
