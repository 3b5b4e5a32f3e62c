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

#include "../bccheck.h"
#include "filter.h"
#include "fuzz.h"
#include "names.h"
#include "owners.h"
#include "sock.h"

enum { MAX_WORDS = 128, NSOCKS = 12 };

static struct names *names;
static struct sock socks[NSOCKS];

/* Holders for some of the sockets, so the process clauses see both kinds. */
static const struct owner holder_b = {.pid = 2, .fd = 4, .uid = 1000, .comm = "a-very-long-com",
				      .argv0 = "/usr/bin/a-very-long-command-name"};
static const struct owner holder_a = {.next = &holder_b, .pid = 1, .fd = 3, .uid = 0,
				      .comm = "sshd"};

/*
 * The command-line clauses the FILTER is and-ed with on a second pass:
 * every kind of them, so the holder nodes meet every tree shape.
 */
static const char *const opt_ports[] = {"22", "http"};
static const int32_t opt_pids[] = {1, 3};
static const char *const opt_commands[] = {"sshd", "a-very-long-command-name"};
static const uint32_t opt_uids[] = {0, 1000};
static const struct filter_options opts = {
	.ports = opt_ports, .nports = 2,
	.has_states = true, .states = STATES_ALL,
	.pids = opt_pids, .npids = 2,
	.commands = opt_commands, .ncommands = 2,
	.uids = opt_uids, .nuids = 2,
};

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
	addr4(&s->local, "192.168.1.10", 40000); /* a port the kernel picked */
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
	socks[1].owners = &holder_a;
	socks[4].owners = &holder_b;
	socks[5].inode = 0; /* no file: its uid is a placeholder */
	s = mk(11, PROTO_PACKET, AF_PACKET, SS_CLOSE);
	s->type = SOCK_RAW;
	s->local.port = 0x0003;
	s->ifindex = 1;
	/* A marked connection and a device-bound one, for fwmark and dev. */
	socks[2].mark = 0x10;
	socks[7].ifindex = 1;
	return 0;
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
	/* The kernel would answer EINVAL and the user see an error, not sockets. */
	const char *refused = bccheck_audit(bc, (size_t)n);
	if (refused)
		fuzz_fail(refused);
	for (int i = 0; i < NSOCKS; i++) {
		const struct sock *s = &socks[i];
		if (s->family != family)
			continue;
		if (filter_match(f, s) && !bccheck_run(bc, (size_t)n, s))
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
		/* `autobound` judged by the range bccheck_run assumes. */
		filter_set_local_ports(f, BCCHECK_AUTO_LO, BCCHECK_AUTO_HI);
		(void)filter_states(f, STATES_DEFAULT);
		for (int k = 0; k < NSOCKS; k++)
			(void)filter_match(f, &socks[k]);
		if (f) {
			check_bytecode(f, AF_INET);
			check_bytecode(f, AF_INET6);
		}
		/* And-ed with every kind of command-line clause. */
		struct filter_error oerr;
		r = filter_add_options(&f, &opts, names, &oerr);
		if (r != 0 && r != -ENOMEM)
			fuzz_fail("filter_add_options refused valid clauses");
		if (r == 0) {
			if (!f || !filter_needs_owners(f) || !filter_needs_argv0(f))
				fuzz_fail("process clauses without their needs");
			for (int k = 0; k < NSOCKS; k++)
				(void)filter_match(f, &socks[k]);
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
