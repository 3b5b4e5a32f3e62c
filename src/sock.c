#include "sock.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

const struct proto_desc proto_table[PROTO_COUNT] = {
	[PROTO_TCP] = {"tcp", "tcp6", IPPROTO_TCP, false},
	[PROTO_UDP] = {"udp", "udp6", IPPROTO_UDP, true},
	[PROTO_UDPLITE] = {"udplite", "udplite6", IPPROTO_UDPLITE, true},
	[PROTO_RAW] = {"raw", "raw6", IPPROTO_RAW, true},
	[PROTO_UNIX] = {"unix", "unix", 0, true},
	[PROTO_PACKET] = {"packet", "packet", 0, true},
};

static const char *const state_names[SS_MAX] = {
	[SS_ESTABLISHED] = "ESTABLISHED",
	[SS_SYN_SENT] = "SYN_SENT",
	[SS_SYN_RECV] = "SYN_RECV",
	[SS_FIN_WAIT1] = "FIN_WAIT1",
	[SS_FIN_WAIT2] = "FIN_WAIT2",
	[SS_TIME_WAIT] = "TIME_WAIT",
	[SS_CLOSE] = "CLOSE",
	[SS_CLOSE_WAIT] = "CLOSE_WAIT",
	[SS_LAST_ACK] = "LAST_ACK",
	[SS_LISTEN] = "LISTEN",
	[SS_CLOSING] = "CLOSING",
	[SS_NEW_SYN_RECV] = "NEW_SYN_RECV",
};

const char *state_name(unsigned state)
{
	if (state >= SS_MAX)
		return NULL;
	return state_names[state];
}

const char *sock_state_name(const struct sock *s)
{
	if (s->state == SS_CLOSE && s->proto < PROTO_COUNT && proto_table[s->proto].datagram)
		return "UNCONN";
	const char *n = state_name(s->state);
	return n ? n : "UNKNOWN";
}

const char *sock_proto_name(const struct sock *s)
{
	if (s->proto >= PROTO_COUNT)
		return "?";
	return s->family == AF_INET6 ? proto_table[s->proto].name6 : proto_table[s->proto].name;
}

const char *sock_family_name(const struct sock *s)
{
	switch (s->family) {
	case AF_INET: return "inet";
	case AF_INET6: return "inet6";
	case AF_UNIX: return "unix";
	case AF_PACKET: return "packet";
	default: return "unknown";
	}
}

unsigned sock_fam_bit(const struct sock *s)
{
	switch (s->family) {
	case AF_INET: return FAM_INET;
	case AF_INET6: return FAM_INET6;
	case AF_UNIX: return FAM_UNIX;
	case AF_PACKET: return FAM_PACKET;
	default: return 0;
	}
}

void socklist_init(struct socklist *l)
{
	l->v = NULL;
	l->len = 0;
	l->cap = 0;
	arena_init(&l->arena);
}

void socklist_finish(struct socklist *l)
{
	if (!l)
		return;
	free(l->v);
	l->v = NULL;
	l->len = l->cap = 0;
	arena_finish(&l->arena);
}

int socklist_add(struct socklist *l, const struct sock *s)
{
	if (l->len == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 1024;
		struct sock *nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = ncap;
	}
	struct sock *d = &l->v[l->len];
	*d = *s;
	if (s->path) {
		char *p = arena_alloc(&l->arena, s->path_len ? s->path_len : 1);
		if (!p)
			return -ENOMEM;
		memcpy(p, s->path, s->path_len);
		d->path = p;
	}
	if (s->info) {
		struct sock_tcpinfo *i = arena_alloc(&l->arena, sizeof(*i));
		if (!i)
			return -ENOMEM;
		*i = *s->info;
		d->info = i;
	}
	if (s->mem) {
		struct sock_meminfo *m = arena_alloc(&l->arena, sizeof(*m));
		if (!m)
			return -ENOMEM;
		*m = *s->mem;
		d->mem = m;
	}
	l->len++;
	return 0;
}
