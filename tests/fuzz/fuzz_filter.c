/*
 * The filter language. The input is split on NUL bytes and spaces into
 * words (as if given on the command line); when they parse, the filter is
 * matched against fixed sockets and compiled to inet_diag bytecode for
 * both inet families. The bytecode is then checked the way the kernel
 * checks it before running it (every jump lands on an instruction or just
 * past the end), and run here by a small interpreter of the kernel's
 * documented semantics: every socket filter_match accepts must pass the
 * bytecode too, since the kernel's answer must be a superset of ours.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/inet_diag.h>

#include "filter.h"
#include "fuzz.h"
#include "names.h"
#include "sock.h"

enum { MAX_WORDS = 128, NSOCKS = 12 };

static struct names *names;
static struct sock socks[NSOCKS];

static void addr4(struct sock_endpoint *e, const char *a, uint16_t port)
{
	memset(e->addr, 0, sizeof(e->addr));
	if (inet_pton(AF_INET, a, e->addr) != 1)
		fuzz_fail("bad fixed IPv4 address");
	e->port = port;
}

static void addr6(struct sock_endpoint *e, const char *a, uint16_t port)
{
	if (inet_pton(AF_INET6, a, e->addr) != 1)
		fuzz_fail("bad fixed IPv6 address");
	e->port = port;
}

static struct sock *mk(int i, enum proto p, int family, int state)
{
	struct sock *s = &socks[i];
	memset(s, 0, sizeof(*s));
	s->proto = (uint8_t)p;
	s->family = (uint8_t)family;
	s->state = (uint8_t)state;
	s->type = p == PROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	s->has_uid = true;
	s->inode = 1000 + (uint64_t)i;
	return s;
}

int fuzz_init(void)
{
	if (names_create(&names, FUZZ_DATA "/filter/services") != 0)
		return -1;
	struct sock *s;
	s = mk(0, PROTO_TCP, AF_INET, SS_LISTEN);
	addr4(&s->local, "0.0.0.0", 22);
	addr4(&s->peer, "0.0.0.0", 0);
	s = mk(1, PROTO_TCP, AF_INET, SS_ESTABLISHED);
	addr4(&s->local, "127.0.0.1", 22);
	addr4(&s->peer, "127.0.0.1", 51234);
	s = mk(2, PROTO_TCP, AF_INET, SS_ESTABLISHED);
	addr4(&s->local, "192.168.1.10", 40000);
	addr4(&s->peer, "10.1.2.3", 443);
	s = mk(3, PROTO_TCP, AF_INET6, SS_LISTEN);
	addr6(&s->local, "::", 8080);
	addr6(&s->peer, "::", 0);
	s = mk(4, PROTO_TCP, AF_INET6, SS_ESTABLISHED);
	addr6(&s->local, "::1", 8080);
	addr6(&s->peer, "::1", 1024);
	s = mk(5, PROTO_TCP, AF_INET6, SS_ESTABLISHED);
	addr6(&s->local, "::ffff:127.0.0.1", 80);
	addr6(&s->peer, "::ffff:10.0.0.1", 65535);
	s = mk(6, PROTO_UDP, AF_INET, SS_CLOSE);
	addr4(&s->local, "127.0.0.53", 53);
	addr4(&s->peer, "0.0.0.0", 0);
	s = mk(7, PROTO_UDP, AF_INET6, SS_ESTABLISHED);
	addr6(&s->local, "fe80::1", 546);
	s->local.scope = 1;
	addr6(&s->peer, "ff02::1:2", 547);
	s = mk(8, PROTO_RAW, AF_INET, SS_CLOSE);
	addr4(&s->local, "0.0.0.0", 1);
	s = mk(9, PROTO_UNIX, AF_UNIX, SS_LISTEN);
	s->type = SOCK_STREAM;
	s->path = "/run/dbus/system_bus_socket";
	s->path_len = (uint32_t)strlen(s->path);
	s = mk(10, PROTO_UNIX, AF_UNIX, SS_ESTABLISHED);
	s->path = "\0dbus-abstract";
	s->path_len = 14;
	s->peer_inode = 1009;
	s = mk(11, PROTO_PACKET, AF_PACKET, SS_CLOSE);
	s->type = SOCK_RAW;
	s->local.port = 0x0003;
	s->ifindex = 1;
	return 0;
}

/* Does the first bits of a match b? As the kernel's bitstring_match. */
static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8;
	if (memcmp(a, b, bytes) != 0)
		return false;
	unsigned rest = bits % 8;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

static bool host_match(const struct inet_diag_hostcond *c, const uint8_t *caddr,
		       const struct sock *s, bool src)
{
	const struct sock_endpoint *e = src ? &s->local : &s->peer;
	if (c->port != -1 && c->port != e->port)
		return false;
	if (c->family != AF_UNSPEC && c->family != s->family) {
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		/* The kernel lets an IPv4 condition see through a mapped address. */
		return s->family == AF_INET6 && c->family == AF_INET &&
		       memcmp(e->addr, mapped, 12) == 0 &&
		       prefix_match(e->addr + 12, caddr, c->prefix_len);
	}
	if (c->prefix_len == 0)
		return true;
	return prefix_match(e->addr, caddr, c->prefix_len);
}

/*
 * Checks bytecode the way the kernel's audit does and fails the run on
 * anything it would refuse: the kernel would answer EINVAL and the user
 * would see an error instead of sockets.
 */
static void audit(const uint8_t *bc, size_t total)
{
	if (total % 4)
		fuzz_fail("bytecode length not a multiple of 4");
	/* Instruction starts, reached by following yes from the start. */
	bool *start = calloc(total + 1, 1);
	if (!start)
		return;
	for (size_t off = 0; off < total;) {
		start[off] = true;
		const struct inet_diag_bc_op *op = (const void *)(bc + off);
		if (op->yes < sizeof(*op) || op->yes % 4)
			fuzz_fail("bytecode yes step too short or unaligned");
		off += op->yes;
		if (off > total + 4)
			fuzz_fail("bytecode yes jumps past the end");
	}
	start[total] = true;

	for (size_t off = 0; off < total;) {
		const struct inet_diag_bc_op *op = (const void *)(bc + off);
		size_t left = total - off, min = sizeof(*op);
		switch (op->code) {
		case INET_DIAG_BC_S_COND:
		case INET_DIAG_BC_D_COND: {
			if (left < sizeof(*op) + sizeof(struct inet_diag_hostcond))
				fuzz_fail("host condition truncated");
			const struct inet_diag_hostcond *c = (const void *)(op + 1);
			size_t alen = c->family == AF_INET ? 4 : c->family == AF_INET6 ? 16 : 0;
			if (c->family != AF_UNSPEC && alen == 0)
				fuzz_fail("host condition with a bad family");
			if (c->prefix_len > alen * 8)
				fuzz_fail("host condition prefix longer than its address");
			min = sizeof(*op) + sizeof(*c) + alen;
			break;
		}
		case INET_DIAG_BC_S_GE:
		case INET_DIAG_BC_S_LE:
		case INET_DIAG_BC_D_GE:
		case INET_DIAG_BC_D_LE:
		case INET_DIAG_BC_S_EQ:
		case INET_DIAG_BC_D_EQ:
			min = 2 * sizeof(*op);
			break;
		case INET_DIAG_BC_AUTO:
		case INET_DIAG_BC_JMP:
		case INET_DIAG_BC_NOP:
			break;
		default:
			fuzz_fail("bytecode with an opcode we never emit");
		}
		if (left < min || op->yes < min)
			fuzz_fail("bytecode instruction shorter than its operands");
		if (op->code != INET_DIAG_BC_NOP) {
			if (op->no < min || op->no % 4 || op->no > left + 4)
				fuzz_fail("bytecode no jump out of range");
			if (op->no <= left && !start[off + op->no])
				fuzz_fail("bytecode no jump into the middle of an instruction");
		}
		off += op->yes;
	}
	free(start);
}

/* Runs audited bytecode over s as the kernel's inet_diag_bc_run would. */
static bool run(const uint8_t *bc, size_t total, const struct sock *s)
{
	long len = (long)total;
	const uint8_t *p = bc;
	while (len > 0) {
		const struct inet_diag_bc_op *op = (const void *)p;
		bool yes = true;
		switch (op->code) {
		case INET_DIAG_BC_NOP:
			break;
		case INET_DIAG_BC_JMP:
			yes = false;
			break;
		case INET_DIAG_BC_S_EQ:
			yes = s->local.port == op[1].no;
			break;
		case INET_DIAG_BC_S_GE:
			yes = s->local.port >= op[1].no;
			break;
		case INET_DIAG_BC_S_LE:
			yes = s->local.port <= op[1].no;
			break;
		case INET_DIAG_BC_D_EQ:
			yes = s->peer.port == op[1].no;
			break;
		case INET_DIAG_BC_D_GE:
			yes = s->peer.port >= op[1].no;
			break;
		case INET_DIAG_BC_D_LE:
			yes = s->peer.port <= op[1].no;
			break;
		case INET_DIAG_BC_AUTO:
			yes = false; /* the fixed sockets all bound their port */
			break;
		case INET_DIAG_BC_S_COND:
		case INET_DIAG_BC_D_COND: {
			const struct inet_diag_hostcond *c = (const void *)(op + 1);
			yes = host_match(c, (const uint8_t *)(c + 1), s,
					 op->code == INET_DIAG_BC_S_COND);
			break;
		}
		}
		unsigned step = yes ? op->yes : op->no;
		len -= step;
		p += step;
	}
	return len == 0;
}

static void check_bytecode(const struct filter *f, int family)
{
	static uint8_t bc[8192];
	int n = filter_bytecode(f, family, bc, sizeof(bc));
	if (n < 0 && n != -ENOSPC)
		fuzz_fail("filter_bytecode returned an unexpected error");
	if (n > (int)sizeof(bc))
		fuzz_fail("filter_bytecode claims more than the buffer");
	/* A buffer that is too small must be refused, not overrun. */
	uint8_t *tiny = malloc(12);
	if (tiny) {
		int t = filter_bytecode(f, family, tiny, 12);
		if (t > 12 || (n > 12 && t != -ENOSPC))
			fuzz_fail("filter_bytecode overran or misreported a small buffer");
		free(tiny);
	}
	if (n <= 0)
		return;
	audit(bc, (size_t)n);
	for (int i = 0; i < NSOCKS; i++) {
		const struct sock *s = &socks[i];
		if (s->family != family)
			continue;
		if (filter_match(f, s) && !run(bc, (size_t)n, s))
			fuzz_fail("the bytecode drops a socket the filter accepts");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *words[MAX_WORDS];
	int nwords = 0;
	size_t i = 0;
	while (i < size && nwords < MAX_WORDS) {
		while (i < size && (data[i] == ' ' || data[i] == '\0'))
			i++;
		size_t b = i;
		while (i < size && data[i] != ' ' && data[i] != '\0')
			i++;
		if (i == b)
			break;
		words[nwords] = malloc(i - b + 1);
		if (!words[nwords])
			break;
		memcpy(words[nwords], data + b, i - b);
		words[nwords][i - b] = '\0';
		nwords++;
	}

	struct filter *f = NULL;
	struct filter_error err;
	memset(&err, 0xa5, sizeof(err));
	int r = filter_parse(nwords, (const char *const *)words, names, &f, &err);
	if (r == 0) {
		(void)filter_states(f, STATES_DEFAULT);
		for (int k = 0; k < NSOCKS; k++)
			(void)filter_match(f, &socks[k]);
		if (f) {
			check_bytecode(f, AF_INET);
			check_bytecode(f, AF_INET6);
		}
		filter_destroy(f);
	} else {
		if (r != -EINVAL)
			fuzz_fail("filter_parse returned neither 0 nor -EINVAL");
		if (f)
			fuzz_fail("a failed parse handed out a filter");
		if (!memchr(err.text, '\0', sizeof(err.text)) || !memchr(err.msg, '\0', sizeof(err.msg)))
			fuzz_fail("error text not NUL-terminated");
		if (err.msg[0] == '\0')
			fuzz_fail("a parse error without a message");
		if (err.word < 0 || (nwords > 0 && err.word >= nwords))
			fuzz_fail("error names a word that does not exist");
		if (nwords > 0 && (err.offset < 0 || (size_t)err.offset > strlen(words[err.word])))
			fuzz_fail("error offset outside its word");
	}
	for (int k = 0; k < nwords; k++)
		free(words[k]);
	return 0;
}
