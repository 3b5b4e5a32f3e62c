/*
 * The /proc/net line parsers. The first byte picks a file of the protocol
 * table, counted in table order (the inet files, unix, packet,
 * netlink), and so its parser; the rest is one line, exactly as
 * procnet_read hands it over: not NUL-terminated, without its newline.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "procnet.h"
#include "sock.h"
#include "socklist.h"

int fuzz_init(void)
{
	return 0;
}

/* What any parsed record must satisfy, whatever the line held. */
static void check(const struct sock *s, const char *line, size_t len, bool unix_sock)
{
	if (sock_state_name(s) == NULL || sock_proto_name(s) == NULL)
		fuzz_fail("a name lookup returned NULL");
	if (unix_sock) {
		if (s->path_len && !s->path)
			fuzz_fail("unix path_len without a path");
		if (s->path_len && (s->path < line || s->path_len > len ||
				    (size_t)(s->path - line) > len - s->path_len))
			fuzz_fail("unix path points outside the line");
	}

	/* Deep copy: touches every byte the record claims to point at. */
	struct socklist l;
	socklist_init(&l);
	if (socklist_add(&l, s) == 0 && l.len != 1)
		fuzz_fail("socklist_add did not add");
	socklist_finish(&l);
}

/* The n-th (protocol, family) of the table, counting every family of every row. */
static void pick(unsigned n, enum proto *proto, const struct proto_family **fam)
{
	unsigned count = 0;
	for (int p = 0; p < PROTO_COUNT; p++)
		for (size_t i = 0; i < PROTO_FAMILIES_MAX && proto_table[p].families[i].af; i++)
			count++;
	n %= count;
	for (int p = 0; p < PROTO_COUNT; p++) {
		for (size_t i = 0; i < PROTO_FAMILIES_MAX && proto_table[p].families[i].af; i++) {
			if (n-- == 0) {
				*proto = (enum proto)p;
				*fam = &proto_table[p].families[i];
				return;
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum proto proto = PROTO_COUNT;
	const struct proto_family *fam = NULL;
	pick(data[0], &proto, &fam);
	if (!fam)
		fuzz_fail("the protocol table has no family to pick");
	const char *line = (const char *)data + 1;
	size_t len = size - 1;

	struct sock s;
	memset(&s, 0xa5, sizeof(s)); /* garbage in, so unset fields show */
	int r = -EINVAL;
	switch (proto_table[proto].proc) {
	case PROTO_PROC_INET:
		r = procnet_parse_inet(line, len, proto, fam->af, &s);
		if (r == 0 && s.family != fam->af)
			fuzz_fail("inet record with the wrong family");
		break;
	case PROTO_PROC_UNIX:
		r = procnet_parse_unix(line, len, proto, &s);
		break;
	case PROTO_PROC_PACKET:
		r = procnet_parse_packet(line, len, proto, &s);
		break;
	case PROTO_PROC_NETLINK:
		r = procnet_parse_netlink(line, len, proto, &s);
		if (r == 0 && s.family != AF_NETLINK)
			fuzz_fail("netlink record with the wrong family");
		break;
	}
	if (r != 0 && r != -EINVAL)
		fuzz_fail("a parser returned neither 0 nor -EINVAL");
	if (r == 0 && s.proto != proto)
		fuzz_fail("record of another protocol");
	if (r == 0)
		check(&s, line, len, proto_table[proto].proc == PROTO_PROC_UNIX);
	return 0;
}
