/*
 * The count engine on the real kernel, driven straight from the gather
 * and owners stages (no query engine, no options), in the sequence main
 * uses for --count-by: a first pass over the listeners only (so every
 * connection's direction is known on arrival), then the counted pass.
 * tests/integration/test_count.py compares its output with counts
 * derived from ss, so an engine fault shows apart from a wiring one.
 *
 * Usage: count_live KEYS [table|json] [TOP] [-P]   (TCP sockets, all states)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "count.h"
#include "names.h"
#include "gather.h"
#include "owners.h"

struct live {
	struct count *c;
	const struct owners *owners; /* NULL with -P */
};

static int listener_row(void *arg, const struct sock *s)
{
	struct live *l = arg;
	return count_add_listener(l->c, s);
}

static int count_row(void *arg, const struct sock *s)
{
	struct live *l = arg;
	if (!l->owners)
		return count_add(l->c, s);
	struct sock t = *s;
	t.owners = owners_lookup(l->owners, s->inode);
	return count_add(l->c, &t);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: count_live KEYS [table|json] [TOP] [-P]\n");
		return 2;
	}
	enum count_key keys[COUNT_MAX_KEYS];
	size_t nkeys, badlen;
	const char *bad;
	if (count_parse_keys(argv[1], keys, &nkeys, &bad, &badlen) != 0) {
		fprintf(stderr, "count_live: bad --count-by key '%.*s'\n", (int)badlen, bad);
		return 2;
	}
	bool json = argc > 2 && strcmp(argv[2], "json") == 0;
	size_t top = argc > 3 ? strtoul(argv[3], NULL, 10) : 0;
	bool want_owners = !(argc > 4 && strcmp(argv[4], "-P") == 0);
	struct names *names = NULL;
	struct owners *owners = NULL;
	struct live l = {NULL, NULL};
	if (names_create(&names, NULL) != 0 || count_create(&l.c, keys, nkeys, names, 0) != 0 ||
	    owners_create(&owners) != 0)
		return 1;
	int err = want_owners ? owners_scan(owners, "/proc") : 0;
	if (want_owners)
		l.owners = owners;
	struct gather_error ge;
	struct gather_request req = {PROTO_BIT(PROTO_TCP), FAM_ALL, STATE_BIT(SS_LISTEN), SOURCE_AUTO,
				     false, false, NULL, "/proc", NULL};
	if (!err && count_needs_listeners(l.c)) {
		err = gather_run(&req, listener_row, &l, &ge);
		count_listeners_done(l.c);
	}
	req.states = STATES_ALL;
	if (!err)
		err = gather_run(&req, count_row, &l, &ge);
	if (!err)
		err = count_finish(l.c, top);
	struct count_render_opts o = {json, true};
	if (!err)
		err = count_render(l.c, stdout, &o);
	count_destroy(l.c);
	owners_destroy(owners);
	names_destroy(names);
	if (err) {
		fprintf(stderr, "count_live: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}
