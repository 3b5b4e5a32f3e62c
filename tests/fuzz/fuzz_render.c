/*
 * The renderers, fed records whose every field comes from the input: the
 * process name and the UNIX path especially, since any local user chooses
 * those bytes. Each input is rendered as a table and as JSON or NDJSON.
 * The table must hold no control byte but '\n', no C1 control, no bidi
 * control (U+061C included) or line separator, only valid UTF-8 and no
 * trailing space; the JSON must parse (strictly: valid UTF-8, no raw
 * control characters in strings) and hold no raw control byte but '\n'
 * between values.
 *
 * Input: a fixed-size block of record fields (struct layout below, short
 * input is zero-filled), then the process name up to the first NUL, then
 * the UNIX path (all remaining bytes, NUL included), repeated up to 9
 * times when one field says so, so that small inputs can make long cells.
 *
 * Speed: the checkers below read every output byte, but are left out of
 * the sanitizers' and the fuzzer's instrumentation (CHECKER): their
 * branches say nothing about the renderers, and instrumented they took
 * most of each run.
 */
#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#if defined(__clang__) && defined(__has_attribute)
#if __has_attribute(disable_sanitizer_instrumentation)
#define CHECKER __attribute__((disable_sanitizer_instrumentation, no_sanitize("coverage")))
#endif
#endif
#ifndef CHECKER
#define CHECKER
#endif
#define JSONCHECK_FN CHECKER

#include "../jsoncheck.h"
#include "fuzz.h"
#include "names.h"
#include "owners.h"
#include "render.h"
#include "sock.h"

static struct names *names;

/* The fixed part of an input, read byte by byte (no alignment games). */
struct raw {
	uint8_t opts, proto, family, state, type, timer, retrans, flags;
	uint8_t uid_pick, ifindex, nowners, repeat;
	uint8_t recv_q[4], send_q[4], expires[4];
	uint8_t inode[8], cookie[8], peer_inode[8];
	uint8_t laddr[16], lport[2], lscope;
	uint8_t paddr[16], pport[2], pscope;
	uint8_t info[sizeof(struct sock_tcpinfo)];
	uint8_t mem[sizeof(struct sock_meminfo)];
};

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int fuzz_init(void)
{
	/*
	 * Cell widths as a user's terminal has them (sockstat sets LC_CTYPE
	 * from the environment); without the locale, the C one still works.
	 */
	setlocale(LC_CTYPE, "C.UTF-8");
	return names_create(&names, FUZZ_DATA "/render/services");
}

CHECKER static bool utf8_ok(const unsigned char *p, size_t n, bool table)
{
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		if (c < 0x80) {
			if ((c < 0x20 && c != '\n') || c == 0x7f)
				return false;
			i++;
			continue;
		}
		size_t k = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
		if (c < 0xc2 || c > 0xf4 || n - i <= k)
			return false;
		uint32_t cp = c & (0x3f >> k);
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		/* C1 controls reach a terminal as commands: the table escapes them. */
		if (table && cp >= 0x80 && cp <= 0x9f)
			return false;
		/* So are line separators and every bidi control, U+061C too. */
		if (table && (cp == 0x061c || cp == 0x200e || cp == 0x200f || cp == 0x2028 ||
			      cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
			      (cp >= 0x2066 && cp <= 0x2069)))
			return false;
		i += k + 1;
	}
	return true;
}

/* Shows the offending output before failing, for whoever triages it. */
static _Noreturn void fail(const char *what, const char *out, size_t n)
{
	fputs("--- output:\n", stderr);
	fwrite(out, 1, n, stderr);
	fputs("--- end of output\n", stderr);
	fuzz_fail(what);
}

CHECKER static void check_table(const char *out, size_t n, size_t rows, bool header)
{
	if (!utf8_ok((const unsigned char *)out, n, true))
		fail("table output holds a control byte, a C1 or bidi control, or invalid UTF-8",
		     out, n);
	size_t lines = 0;
	for (size_t i = 0; i < n; i++) {
		if (out[i] != '\n')
			continue;
		lines++;
		if (i > 0 && out[i - 1] == ' ')
			fail("table line with a trailing space", out, n);
	}
	if (n && out[n - 1] != '\n')
		fail("table output does not end with a newline", out, n);
	if (lines != rows + (header ? 1 : 0))
		fail("table rows are not one line each", out, n);
}

CHECKER static void check_json(const char *out, size_t n, bool nd, size_t rows)
{
	if (!utf8_ok((const unsigned char *)out, n, false))
		fail("JSON output holds a raw control byte or invalid UTF-8", out, n);
	if (!nd) {
		if (!json_valid(out, n))
			fail("JSON output does not parse", out, n);
		return;
	}
	size_t lines = 0;
	for (const char *p = out, *end = out + n; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			fail("NDJSON output does not end with a newline", out, n);
		if (nl == p || *p != '{' || !json_valid(p, (size_t)(nl - p)))
			fail("an NDJSON line is not one JSON object", out, n);
		lines++;
		p = nl + 1;
	}
	if (lines != rows)
		fail("NDJSON rows are not one line each", out, n);
}

static void render_all(const struct render_opts *o, const struct sock *rows, size_t nrows)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	if (!f)
		return;
	struct render *r;
	if (render_create(&r, f, o, names) != 0) {
		fclose(f);
		free(out);
		return;
	}
	int err = 0;
	for (size_t i = 0; i < nrows && !err; i++)
		err = render_row(r, &rows[i]);
	if (!err)
		err = render_finish(r);
	render_destroy(r);
	fclose(f);
	if (err == 0) {
		if (o->format == FORMAT_TABLE)
			check_table(out, n, nrows, o->header);
		else
			check_json(out, n, o->format == FORMAT_NDJSON, nrows);
	}
	free(out);
}

/* The uids an input picks from: root, nobody and two ordinary ones. */
static const uint32_t uids[] = {0, 65534, 4242, 1000};

/* The record's plain fields, as the fixed block gives them. */
static void fill_sock(struct sock *s, const struct raw *w)
{
	memset(s, 0, sizeof(*s));
	s->proto = (uint8_t)(w->proto % PROTO_COUNT);
	s->family = w->family;
	s->state = w->state;
	s->type = w->type;
	s->timer = w->timer;
	s->retrans = w->retrans;
	s->has_uid = w->flags & 1;
	s->has_timer = w->flags & 2;
	s->v6only = w->flags & 0x10;
	s->recv_q = (uint32_t)le(w->recv_q, 4);
	s->send_q = (uint32_t)le(w->send_q, 4);
	s->uid = uids[w->uid_pick & 3];
	s->ifindex = w->ifindex % 4;
	s->expires_ms = (uint32_t)le(w->expires, 4);
	s->inode = le(w->inode, 8);
	s->cookie = le(w->cookie, 8);
	s->peer_inode = le(w->peer_inode, 8);
	memcpy(s->local.addr, w->laddr, 16);
	s->local.port = (uint16_t)le(w->lport, 2);
	s->local.scope = w->lscope % 4;
	memcpy(s->peer.addr, w->paddr, 16);
	s->peer.port = (uint16_t)le(w->pport, 2);
	s->peer.scope = w->pscope % 4;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct raw w;
	memset(&w, 0, sizeof(w));
	size_t fixed = size < sizeof(w) ? size : sizeof(w);
	memcpy(&w, data, fixed);
	const uint8_t *rest = data + fixed;
	size_t rlen = size - fixed;

	/* The process name: up to the first NUL, as /proc/<pid>/comm gives it. */
	const uint8_t *nul = memchr(rest, '\0', rlen);
	size_t clen = nul ? (size_t)(nul - rest) : rlen;
	char *comm = malloc(clen + 1);
	/* The path: what follows, repeated. */
	const uint8_t *pbase = nul ? nul + 1 : rest + rlen;
	size_t plen1 = (size_t)(rest + rlen - pbase);
	/*
	 * Most inputs use the path once: each repeat costs as much again, and
	 * escaping already makes short paths long (a control byte is four).
	 * Values 0xf8 and up repeat it 2 to 9 times, for long cells.
	 */
	size_t reps = w.repeat >= 0xf8 ? (size_t)w.repeat - 0xf8 + 2 : 1;
	char *path = malloc(plen1 * reps + 1);
	if (!comm || !path) {
		free(comm);
		free(path);
		return 0;
	}
	memcpy(comm, rest, clen);
	comm[clen] = '\0';
	for (size_t i = 0; i < reps; i++)
		memcpy(path + i * plen1, pbase, plen1);

	struct sock_tcpinfo info;
	memcpy(&info, w.info, sizeof(info));
	info.cong[sizeof(info.cong) - 1] = '\0';
	struct sock_meminfo mem;
	memcpy(&mem, w.mem, sizeof(mem));
	mem.count %= SOCK_MEMINFO_VARS + 1;

	struct owner own[3];
	for (int i = 0; i < 3; i++) {
		own[i].next = i < 2 ? &own[i + 1] : NULL;
		own[i].pid = (int32_t)(le(w.inode, 4) + (uint64_t)i);
		own[i].fd = i + 3;
		own[i].uid = uids[(w.uid_pick >> (2 * i)) & 3];
		own[i].comm = i == 1 ? "\x1b]0;owned\x07\xc2\x9b" : comm;
	}

	struct sock s;
	fill_sock(&s, &w);
	if (s.proto == PROTO_UNIX || s.family == AF_UNIX) {
		s.path = path;
		s.path_len = (uint32_t)(plen1 * reps);
	}
	s.info = w.flags & 4 ? &info : NULL;
	s.mem = w.flags & 8 ? &mem : NULL;
	s.owners = w.nowners % 4 ? &own[3 - w.nowners % 4] : NULL;

	/* The fuzzed row between two plain ones, so widths have to adapt. */
	struct sock rows[3];
	memset(&rows[0], 0, sizeof(rows[0]));
	rows[0].proto = PROTO_TCP;
	rows[0].family = AF_INET;
	rows[0].state = SS_LISTEN;
	rows[0].has_uid = true;
	rows[0].local.port = 22;
	rows[1] = s;
	rows[2] = rows[0];
	rows[2].owners = &own[2];

	struct render_opts o = {
		.header = !(w.opts & 0x04),
		.numeric = w.opts & 0x08,
		.processes = w.opts & 0x10,
		.extended = w.opts & 0x20,
		.info = w.opts & 0x40,
		.memory = w.opts & 0x80,
		.timers = w.opts & 0x02,
	};
	o.format = FORMAT_TABLE;
	render_all(&o, rows, 3);
	o.format = w.opts & 0x01 ? FORMAT_NDJSON : FORMAT_JSON;
	render_all(&o, rows, 3);

	free(comm);
	free(path);
	return 0;
}
