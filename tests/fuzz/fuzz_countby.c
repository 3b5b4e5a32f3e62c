/*
 * The --count-by key list. The input, up to its first NUL, is the list;
 * the byte after that NUL (if any) is --top. When the list parses, the
 * keys are the input's words in order; when it does not, the word blamed
 * lies inside the input, holds no comma, and is unknown or repeated. A
 * list that parses then counts fixed sockets: rows add up, the table has
 * no trailing space and the JSON is strictly valid.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../jsoncheck.h"
#include "count.h"
#include "fuzz.h"
#include "owners.h"

enum { NSOCKS = 6 };

static struct sock socks[NSOCKS];
static const struct owner own = {NULL, 1, 3, 0, "a\"\\\n\xff", NULL};

static void mk(int i, enum proto p, int family, int state, uint16_t lp, uint16_t pp)
{
	struct sock *s = &socks[i];
	memset(s, 0, sizeof(*s));
	s->proto = (uint8_t)p;
	s->family = (uint8_t)family;
	s->state = (uint8_t)state;
	s->type = p == PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	s->has_uid = true;
	s->inode = (uint64_t)i;
	s->local.port = lp;
	s->peer.port = pp;
	if (family == AF_INET && pp)
		inet_pton(AF_INET, "10.1.2.3", s->peer.addr);
	if (family == AF_INET6)
		inet_pton(AF_INET6, "2001:db8::5", s->peer.addr);
}

int fuzz_init(void)
{
	mk(0, PROTO_TCP, AF_INET, SS_LISTEN, 80, 0);
	mk(1, PROTO_TCP, AF_INET, SS_ESTABLISHED, 80, 4000);
	socks[1].owners = &own;
	mk(2, PROTO_TCP, AF_INET6, SS_ESTABLISHED, 50000, 443);
	mk(3, PROTO_UDP, AF_INET, SS_CLOSE, 53, 0);
	mk(4, PROTO_UNIX, AF_UNIX, SS_ESTABLISHED, 0, 0);
	mk(5, PROTO_TCP, AF_INET, SS_TIME_WAIT, 80, 4001);
	return 0;
}

/* Whether word (len bytes) names a key among keys[0..n). */
static bool named(const char *word, size_t len, const enum count_key *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *name = count_key_name(keys[i]);
		if (strlen(name) == len && memcmp(name, word, len) == 0)
			return true;
	}
	return false;
}

static void check_failure(const char *list, const char *bad, size_t badlen)
{
	size_t len = strlen(list);
	if (bad < list || bad + badlen > list + len || memchr(bad, ',', badlen))
		fuzz_fail("the blamed word is not a word of the input");
	if (bad != list && bad[-1] != ',')
		fuzz_fail("the blamed word does not start a word");
	if (bad[badlen] != ',' && bad[badlen] != '\0')
		fuzz_fail("the blamed word is cut short");
	/* A known word is blamed only when it came before. */
	enum count_key all[COUNT_KEY_COUNT];
	for (int k = 0; k < COUNT_KEY_COUNT; k++)
		all[k] = (enum count_key)k;
	if (named(bad, badlen, all, COUNT_KEY_COUNT)) {
		const char *p = list;
		bool before = false;
		while (p < bad) {
			const char *end = strchr(p, ',');
			if ((size_t)(end - p) == badlen && memcmp(p, bad, badlen) == 0)
				before = true;
			p = end + 1;
		}
		if (!before)
			fuzz_fail("a known key blamed without a repeat");
	}
}

static void check_output(const char *text, size_t len, bool json)
{
	if (json) {
		if (!json_valid(text, len))
			fuzz_fail("count JSON is not valid");
		return;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n' && i && text[i - 1] == ' ')
			fuzz_fail("count table line ends in a space");
		if (c < 0x20 && c != '\n')
			fuzz_fail("count table holds a control byte");
	}
}

static void count_all(const enum count_key *keys, size_t n, size_t top)
{
	struct count *c;
	if (count_create(&c, keys, n, NULL, top & 1 ? COUNT_UTF8_NAMES : 0) != 0)
		fuzz_fail("count_create refused parsed keys");
	for (int i = 0; i < NSOCKS; i++)
		if (count_add(c, &socks[i]) != 0)
			fuzz_fail("count_add failed");
	if (count_finish(c, top) != 0)
		fuzz_fail("count_finish failed");
	uint64_t sum = 0;
	for (size_t i = 0; i < count_rows(c); i++)
		sum += count_row_n(c, i);
	if (sum != NSOCKS || (top && count_rows(c) > top + 1))
		fuzz_fail("rows do not add up");
	for (int json = 0; json < 2; json++) {
		char *text = NULL;
		size_t size = 0;
		FILE *f = open_memstream(&text, &size);
		struct count_render_opts o = {json != 0, true};
		if (!f || count_render(c, f, &o) != 0)
			fuzz_fail("count_render failed");
		fclose(f);
		check_output(text, size, json);
		free(text);
	}
	count_destroy(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *list = malloc(size + 1);
	if (!list)
		return 0;
	memcpy(list, data, size);
	list[size] = '\0';
	size_t len = strlen(list);
	size_t top = len + 1 < size ? data[len + 1] : 0;
	enum count_key keys[COUNT_MAX_KEYS];
	size_t n = 0, badlen = 0;
	const char *bad = NULL;
	int err = count_parse_keys(list, keys, &n, &bad, &badlen);
	if (err == 0) {
		/* The keys, joined by commas, are the input. */
		char joined[512] = "";
		size_t off = 0;
		for (size_t i = 0; i < n; i++)
			off += (size_t)snprintf(joined + off, sizeof(joined) - off, "%s%s", i ? "," : "",
						count_key_name(keys[i]));
		if (strcmp(joined, list) != 0 || n == 0 || n > COUNT_MAX_KEYS)
			fuzz_fail("parsed keys are not the input");
		count_all(keys, n, top);
	} else if (err == -EINVAL) {
		check_failure(list, bad, badlen);
	} else {
		fuzz_fail("count_parse_keys returned neither 0 nor -EINVAL");
	}
	free(list);
	return 0;
}
