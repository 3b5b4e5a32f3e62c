/*
 * The /proc/net line parsers. The first byte picks the parser (the eight
 * inet files, unix, packet); the rest is one line, exactly as procnet_read
 * hands it over: not NUL-terminated, without its newline.
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum proto inet[] = {PROTO_TCP, PROTO_UDP, PROTO_UDPLITE, PROTO_RAW};

	if (size < 1)
		return 0;
	unsigned which = data[0] % 10;
	const char *line = (const char *)data + 1;
	size_t len = size - 1;

	struct sock s;
	memset(&s, 0xa5, sizeof(s)); /* garbage in, so unset fields show */
	int r;
	if (which < 8) {
		r = procnet_parse_inet(line, len, inet[which / 2], which % 2 ? AF_INET6 : AF_INET, &s);
		if (r == 0 && s.family != (which % 2 ? AF_INET6 : AF_INET))
			fuzz_fail("inet record with the wrong family");
	} else if (which == 8) {
		r = procnet_parse_unix(line, len, PROTO_UNIX, &s);
	} else {
		r = procnet_parse_packet(line, len, PROTO_PACKET, &s);
	}
	if (r != 0 && r != -EINVAL)
		fuzz_fail("a parser returned neither 0 nor -EINVAL");
	if (r == 0)
		check(&s, line, len, which == 8);
	return 0;
}
