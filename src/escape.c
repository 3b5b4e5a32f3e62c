/* wcwidth is X/Open. */
#define _XOPEN_SOURCE 700

#include "escape.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <wchar.h>

static const char hex[] = "0123456789abcdef";

/*
 * Decodes one UTF-8 sequence at s (len > 0 bytes left). Returns its length
 * and the code point, or 0 when the bytes there are not valid UTF-8:
 * overlong forms, surrogates, values past U+10FFFF and truncated sequences
 * are all rejected, so whatever passes is safe to hand to a UTF-8 reader.
 */
static size_t u8dec(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char b = s[0];
	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;
	uint32_t c;
	if (b >= 0xc2 && b <= 0xdf) {
		n = 2;
		c = b & 0x1f;
	} else if (b >= 0xe0 && b <= 0xef) {
		n = 3;
		c = b & 0x0f;
		if (b == 0xe0)
			lo = 0xa0; /* Below is overlong. */
		else if (b == 0xed)
			hi = 0x9f; /* Above is a surrogate. */
	} else if (b >= 0xf0 && b <= 0xf4) {
		n = 4;
		c = b & 0x07;
		if (b == 0xf0)
			lo = 0x90; /* Below is overlong. */
		else if (b == 0xf4)
			hi = 0x8f; /* Above is past U+10FFFF. */
	} else {
		return 0;
	}
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	c = (c << 6) | (s[1] & 0x3f);
	for (size_t i = 2; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	*cp = c;
	return n;
}

/*
 * Code points above U+009F that are valid but must not reach a terminal
 * raw: line separators and the bidirectional overrides that can make a
 * process name or path read differently from what it is.
 */
static bool deceptive(uint32_t c)
{
	return c == 0x2028 || c == 0x2029 || c == 0x061c || c == 0x200e || c == 0x200f ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

static void addx(struct buf *out, unsigned char b)
{
	char e[4] = {'\\', 'x', hex[b >> 4], hex[b & 0xf]};
	buf_add(out, e, sizeof(e));
}

static void addu4(struct buf *out, uint32_t c)
{
	char e[6] = {'\\', 'u', hex[(c >> 12) & 0xf], hex[(c >> 8) & 0xf],
		     hex[(c >> 4) & 0xf], hex[c & 0xf]};
	buf_add(out, e, sizeof(e));
}

/*
 * What one output form does with each kind of byte. Both forms walk the
 * input the same way (walk below); only these choices differ.
 */
struct policy {
	/* Printable ASCII that is copied as is (in runs: the common case). */
	bool (*plain)(unsigned char b);
	/* Two-character escapes: '\\' and short[b], where short[b] is set. */
	char shortform[0x80];
	/* Any other ASCII control byte, and DEL. */
	void (*control)(struct buf *out, unsigned char b);
	/* A byte that is not part of valid UTF-8. */
	void (*invalid)(struct buf *out, unsigned char b);
	/* A valid sequence for a C1 control or a deceptive code point. */
	void (*unsafe)(struct buf *out, const unsigned char *s, size_t n, uint32_t c);
};

static void walk(struct buf *out, const unsigned char *s, size_t len, const struct policy *p)
{
	size_t i = 0;
	while (i < len) {
		size_t run = i;
		while (run < len && p->plain(s[run]))
			run++;
		if (run > i) {
			buf_add(out, s + i, run - i);
			i = run;
			continue;
		}
		unsigned char b = s[i];
		if (b < 0x80) {
			if (p->shortform[b]) {
				char e[2] = {'\\', p->shortform[b]};
				buf_add(out, e, 2);
			} else {
				p->control(out, b);
			}
			i++;
			continue;
		}
		uint32_t c;
		size_t n = u8dec(s + i, len - i, &c);
		if (n == 0) {
			p->invalid(out, b);
			i++;
			continue;
		}
		if (c <= 0x9f || deceptive(c))
			p->unsafe(out, s + i, n, c);
		else
			buf_add(out, s + i, n);
		i += n;
	}
}

static bool plain_text(unsigned char b)
{
	return b >= 0x20 && b < 0x7f && b != '\\';
}

/* C1 controls (one of them is CSI) and deceptive ones, byte by byte. */
static void text_unsafe(struct buf *out, const unsigned char *s, size_t n, uint32_t c)
{
	(void)c;
	for (size_t k = 0; k < n; k++)
		addx(out, s[k]);
}

static const struct policy text_policy = {
	.plain = plain_text,
	.shortform = {['\\'] = '\\', ['\n'] = 'n', ['\t'] = 't', ['\r'] = 'r'},
	.control = addx,
	.invalid = addx,
	.unsafe = text_unsafe,
};

void escape_text(struct buf *out, const char *str, size_t len)
{
	walk(out, (const unsigned char *)str, len, &text_policy);
}

static bool plain_json(unsigned char b)
{
	return b >= 0x20 && b < 0x7f && b != '\\' && b != '"';
}

/*
 * JSON requires only C0 to be escaped; DEL is escaped as well so that jq
 * output on a terminal stays inert.
 */
static void json_control(struct buf *out, unsigned char b)
{
	addu4(out, b);
}

/* Each invalid byte becomes U+FFFD, never a surrogate escape. */
static void json_invalid(struct buf *out, unsigned char b)
{
	(void)b;
	buf_add(out, "\xef\xbf\xbd", 3);
}

static void json_unsafe(struct buf *out, const unsigned char *s, size_t n, uint32_t c)
{
	(void)s;
	(void)n;
	addu4(out, c);
}

static const struct policy json_policy = {
	.plain = plain_json,
	.shortform = {['"'] = '"', ['\\'] = '\\', ['\n'] = 'n', ['\t'] = 't', ['\r'] = 'r',
		      ['\b'] = 'b', ['\f'] = 'f'},
	.control = json_control,
	.invalid = json_invalid,
	.unsafe = json_unsafe,
};

void escape_json(struct buf *out, const char *str, size_t len)
{
	buf_addc(out, '"');
	walk(out, (const unsigned char *)str, len, &json_policy);
	buf_addc(out, '"');
}

size_t escape_width(const char *s, size_t len)
{
	size_t w = 0;
	mbstate_t st;
	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < len;) {
		unsigned char b = (unsigned char)s[i];
		if (b < 0x80) {
			w++;
			i++;
			continue;
		}
		wchar_t wc;
		size_t n = mbrtowc(&wc, s + i, len - i, &st);
		if (n == 0 || n > len - i) {
			/*
			 * The locale cannot read it (the C locale reads no UTF-8):
			 * a character per lead byte, as a UTF-8 terminal shows it.
			 */
			memset(&st, 0, sizeof(st));
			if ((b & 0xc0) != 0x80)
				w++;
			i++;
			continue;
		}
		int cw = wcwidth(wc);
		w += cw < 0 ? 1 : (size_t)cw;
		i += n;
	}
	return w;
}
