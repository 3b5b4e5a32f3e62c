#include "sock.h"

#include <stddef.h>

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
	const struct proto_desc *d = proto_get((enum proto)s->proto);
	if (s->state == SS_CLOSE && d && d->datagram)
		return "UNCONN";
	const char *n = state_name(s->state);
	return n ? n : "UNKNOWN";
}

const char *sock_proto_name(const struct sock *s)
{
	return proto_column((enum proto)s->proto, s->family, s->type);
}

const char *sock_family_name(const struct sock *s)
{
	const struct proto_family *f = proto_family((enum proto)s->proto, s->family);
	return f ? f->fname : "unknown";
}

unsigned sock_fam_bit(const struct sock *s)
{
	const struct proto_family *f = proto_family((enum proto)s->proto, s->family);
	return f ? f->fam : 0;
}
