#include "escape.h"

#include <stdbool.h>
#include <stdint.h>

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
	return c == 0x2028 || c == 0x2029 || c == 0x200e || c == 0x200f ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

static void addx(struct buf *out, unsigned char b)
{
	char e[4] = {'\\', 'x', hex[b >> 4], hex[b & 0xf]};
	buf_add(out, e, sizeof(e));
}

/* Plain printable ASCII, the common case, is copied in runs. */
static bool plain_text(unsigned char b)
{
	return b >= 0x20 && b < 0x7f && b != '\\';
}

void escape_text(struct buf *out, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		size_t run = i;
		while (run < len && plain_text(s[run]))
			run++;
		if (run > i) {
			buf_add(out, s + i, run - i);
			i = run;
			continue;
		}
		unsigned char b = s[i];
		switch (b) {
		case '\\': buf_add(out, "\\\\", 2); i++; continue;
		case '\n': buf_add(out, "\\n", 2); i++; continue;
		case '\t': buf_add(out, "\\t", 2); i++; continue;
		case '\r': buf_add(out, "\\r", 2); i++; continue;
		default: break;
		}
		if (b < 0x80) {
			/* Other C0 controls and DEL. */
			addx(out, b);
			i++;
			continue;
		}
		uint32_t c;
		size_t n = u8dec(s + i, len - i, &c);
		if (n == 0) {
			addx(out, b);
			i++;
			continue;
		}
		if (c <= 0x9f || deceptive(c)) {
			/* C1 controls (one of them is CSI) are shown byte by byte. */
			for (size_t k = 0; k < n; k++)
				addx(out, s[i + k]);
		} else {
			buf_add(out, s + i, n);
		}
		i += n;
	}
}

static void addu4(struct buf *out, uint32_t c)
{
	char e[6] = {'\\', 'u', hex[(c >> 12) & 0xf], hex[(c >> 8) & 0xf],
		     hex[(c >> 4) & 0xf], hex[c & 0xf]};
	buf_add(out, e, sizeof(e));
}

static bool plain_json(unsigned char b)
{
	return b >= 0x20 && b < 0x7f && b != '\\' && b != '"';
}

void escape_json(struct buf *out, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	buf_addc(out, '"');
	while (i < len) {
		size_t run = i;
		while (run < len && plain_json(s[run]))
			run++;
		if (run > i) {
			buf_add(out, s + i, run - i);
			i = run;
			continue;
		}
		unsigned char b = s[i];
		switch (b) {
		case '"': buf_add(out, "\\\"", 2); i++; continue;
		case '\\': buf_add(out, "\\\\", 2); i++; continue;
		case '\n': buf_add(out, "\\n", 2); i++; continue;
		case '\t': buf_add(out, "\\t", 2); i++; continue;
		case '\r': buf_add(out, "\\r", 2); i++; continue;
		case '\b': buf_add(out, "\\b", 2); i++; continue;
		case '\f': buf_add(out, "\\f", 2); i++; continue;
		default: break;
		}
		if (b < 0x80) {
			/*
			 * JSON requires only C0 to be escaped; DEL is escaped
			 * as well so that jq output on a terminal stays inert.
			 */
			addu4(out, b);
			i++;
			continue;
		}
		uint32_t c;
		size_t n = u8dec(s + i, len - i, &c);
		if (n == 0) {
			/* Each invalid byte becomes U+FFFD, never a surrogate escape. */
			buf_add(out, "\xef\xbf\xbd", 3);
			i++;
			continue;
		}
		if (c <= 0x9f || deceptive(c))
			addu4(out, c);
		else
			buf_add(out, s + i, n);
		i += n;
	}
	buf_addc(out, '"');
}
