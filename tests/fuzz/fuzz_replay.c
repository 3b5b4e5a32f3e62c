/*
 * The --replay reader. The input is a recording file, whole. It is checked
 * by replay_parse from an exactly sized copy (so a read past its end is a
 * sanitizer error, not a read of the next input); one it accepts is then
 * listed, every protocol of the table, through the replay transport and
 * /proc tap, as sockstat --replay would.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gather.h"
#include "record.h"
#include "sock.h"
#include "socklist.h"

int fuzz_init(void)
{
	return 0;
}

static int sink(void *arg, const struct sock *s)
{
	if (sock_state_name(s) == NULL || sock_proto_name(s) == NULL)
		fuzz_fail("a name lookup returned NULL");
	return socklist_add(arg, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	struct replay rp;
	struct replay_error e = {0, NULL};
	int r = replay_parse(&rp, copy, size, &e);
	if (r != 0) {
		if (r != -EINVAL || !e.why)
			fuzz_fail("a refused recording without a reason");
		if (e.offset > size)
			fuzz_fail("a refusal names an offset past the end");
		free(copy);
		return 0;
	}
	struct nl_transport t = replay_transport(&rp);
	struct procnet_tap tap = replay_tap(&rp);
	struct gather_request req = {
		.protos = PROTO_ALL,
		.families = FAM_ALL,
		.states = STATES_ALL,
		.source = SOURCE_AUTO,
		.want_info = true,
		.want_mem = true,
		.proc_root = "/proc",
		.transport = &t,
		.tap = &tap,
	};
	struct socklist l;
	socklist_init(&l);
	struct gather_error ge;
	(void)gather_run(&req, sink, &l, &ge);
	socklist_finish(&l);
	replay_finish(&rp);
	return 0;
}
