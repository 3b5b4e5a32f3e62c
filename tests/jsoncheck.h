#ifndef TESTS_JSONCHECK_H
#define TESTS_JSONCHECK_H

/*
 * A strict RFC 8259 validator for the tests: the writer's output is
 * checked by an independent reader rather than only against strings the
 * same author wrote. Strings must be valid UTF-8 without raw control
 * characters and without lone surrogate escapes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/*
 * Put before every function here. A fuzz target defines it to leave the
 * checker uninstrumented: its branches tell the fuzzer nothing about the
 * code under test, and instrumented they cost most of each run.
 */
#ifndef JSONCHECK_FN
#define JSONCHECK_FN
#endif

struct jc {
	const unsigned char *p;
	const unsigned char *end;
	int depth;
};

JSONCHECK_FN static bool jc_value(struct jc *c);

JSONCHECK_FN static void jc_ws(struct jc *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

JSONCHECK_FN static bool jc_lit(struct jc *c, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0)
		return false;
	c->p += n;
	return true;
}

JSONCHECK_FN static int jc_hex4(struct jc *c)
{
	if (c->end - c->p < 4)
		return -1;
	int v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned char h = *c->p++;
		v <<= 4;
		if (h >= '0' && h <= '9')
			v |= h - '0';
		else if (h >= 'a' && h <= 'f')
			v |= h - 'a' + 10;
		else if (h >= 'A' && h <= 'F')
			v |= h - 'A' + 10;
		else
			return -1;
	}
	return v;
}

JSONCHECK_FN static bool jc_utf8(struct jc *c)
{
	unsigned char b = *c->p;
	int n;
	unsigned char lo = 0x80, hi = 0xbf;
	if (b >= 0xc2 && b <= 0xdf)
		n = 2;
	else if (b >= 0xe0 && b <= 0xef) {
		n = 3;
		if (b == 0xe0) lo = 0xa0;
		if (b == 0xed) hi = 0x9f;
	} else if (b >= 0xf0 && b <= 0xf4) {
		n = 4;
		if (b == 0xf0) lo = 0x90;
		if (b == 0xf4) hi = 0x8f;
	} else
		return false;
	if (c->end - c->p < n || c->p[1] < lo || c->p[1] > hi)
		return false;
	for (int i = 2; i < n; i++)
		if ((c->p[i] & 0xc0) != 0x80)
			return false;
	c->p += n;
	return true;
}

JSONCHECK_FN static bool jc_string(struct jc *c)
{
	if (c->p >= c->end || *c->p != '"')
		return false;
	c->p++;
	while (c->p < c->end) {
		unsigned char b = *c->p;
		if (b == '"') {
			c->p++;
			return true;
		}
		if (b < 0x20)
			return false;
		if (b == '\\') {
			c->p++;
			if (c->p >= c->end)
				return false;
			unsigned char e = *c->p++;
			if (e == 'u') {
				int v = jc_hex4(c);
				if (v < 0)
					return false;
				if (v >= 0xdc00 && v <= 0xdfff)
					return false;
				if (v >= 0xd800 && v <= 0xdbff) {
					if (!jc_lit(c, "\\u"))
						return false;
					int w = jc_hex4(c);
					if (w < 0xdc00 || w > 0xdfff)
						return false;
				}
			} else if (!strchr("\"\\/bfnrt", e) || e == 0) {
				return false;
			}
		} else if (b < 0x80) {
			c->p++;
		} else if (!jc_utf8(c)) {
			return false;
		}
	}
	return false;
}

JSONCHECK_FN static bool jc_digits(struct jc *c)
{
	const unsigned char *s = c->p;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
		c->p++;
	return c->p > s;
}

JSONCHECK_FN static bool jc_number(struct jc *c)
{
	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (c->p < c->end && *c->p == '0')
		c->p++;
	else if (!jc_digits(c))
		return false;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (!jc_digits(c))
			return false;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (!jc_digits(c))
			return false;
	}
	return true;
}

JSONCHECK_FN static bool jc_container(struct jc *c, char close, bool object)
{
	c->p++;
	if (++c->depth > 64)
		return false;
	jc_ws(c);
	if (c->p < c->end && *c->p == close) {
		c->p++;
		c->depth--;
		return true;
	}
	for (;;) {
		jc_ws(c);
		if (object) {
			if (!jc_string(c))
				return false;
			jc_ws(c);
			if (c->p >= c->end || *c->p != ':')
				return false;
			c->p++;
		}
		if (!jc_value(c))
			return false;
		jc_ws(c);
		if (c->p >= c->end)
			return false;
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (*c->p != close)
			return false;
		c->p++;
		c->depth--;
		return true;
	}
}

JSONCHECK_FN static bool jc_value(struct jc *c)
{
	jc_ws(c);
	if (c->p >= c->end)
		return false;
	switch (*c->p) {
	case '{': return jc_container(c, '}', true);
	case '[': return jc_container(c, ']', false);
	case '"': return jc_string(c);
	case 't': return jc_lit(c, "true");
	case 'f': return jc_lit(c, "false");
	case 'n': return jc_lit(c, "null");
	default: return jc_number(c);
	}
}

/* True when s[0..len) is exactly one JSON value, whitespace around it. */
JSONCHECK_FN static inline bool json_valid(const char *s, size_t len)
{
	struct jc c = {(const unsigned char *)s, (const unsigned char *)s + len, 0};
	if (!jc_value(&c))
		return false;
	jc_ws(&c);
	return c.p == c.end;
}

#endif
