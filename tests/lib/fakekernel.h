#ifndef TESTS_LIB_FAKEKERNEL_H
#define TESTS_LIB_FAKEKERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nl.h"

struct nlmsghdr;

/*
 * The one fake kernel of the tests: an nl_transport whose send() decodes
 * and logs each sock_diag request and whose recv() hands out queued reply
 * datagrams (or errors). Replies are either queued up front (the nl tests
 * script a whole conversation) or produced per request by a script (the
 * gather tests answer by protocol and family). Running out of room in the
 * queue or the log aborts: a test that outgrows them must fail loudly.
 */
enum { FAKE_QMAX = 16, FAKE_DGRAM = 8192, FAKE_LOGMAX = 64 };

/* One datagram for recv(), or an error it returns instead (err < 0). */
struct fake_dgram {
	int err;
	size_t len;
	union {
		uint64_t align;
		unsigned char b[FAKE_DGRAM];
	} d;
};

/* What a request asked for, as send() decoded it. */
struct fake_request {
	uint32_t seq;
	int family;      /* sdiag_family; 0 for a request without payload */
	int protocol;    /* sdiag_protocol for inet, 0 for unix and packet */
	uint32_t states; /* idiag_states or udiag_states */
	uint8_t ext;     /* idiag_ext */
	bool bytecode;   /* INET_DIAG_REQ_BYTECODE was attached */
};

struct fake_kernel;

/*
 * Queues the replies to r (r->seq is the sequence to answer). attempt
 * counts earlier requests for the same family and protocol.
 */
typedef void (*fake_script_fn)(struct fake_kernel *k, const struct fake_request *r,
			       int attempt);

struct fake_kernel {
	fake_script_fn script; /* NULL: the queue was filled up front */
	struct fake_dgram q[FAKE_QMAX];
	int qlen, qnext;
	struct fake_request log[FAKE_LOGMAX];
	int nlog;              /* requests sent */
	ssize_t send_ret;      /* nonzero: what send() returns instead */
};

/* Empties k: no script, no replies, no log. */
void fake_reset(struct fake_kernel *k);

/* A transport talking to k. */
struct nl_transport fake_transport(struct fake_kernel *k);

/* The transport's two halves, for tests that wrap one of them. */
ssize_t fake_send(void *ctx, const void *buf, size_t len);
ssize_t fake_recv(void *ctx, void *buf, size_t size);

/* A new empty datagram at the end of the queue. */
struct fake_dgram *fake_dgram(struct fake_kernel *k);

/* A recv() that fails with err (negative errno) at this point of the queue. */
void fake_recv_error(struct fake_kernel *k, int err);

/*
 * Appends a message with plen zeroed payload bytes to d and returns it;
 * the payload is NLMSG_DATA of the result.
 */
struct nlmsghdr *fake_put(struct fake_dgram *d, uint16_t type, uint16_t flags, uint32_t seq,
			  uint32_t pid, size_t plen);

/* Appends an attribute to nlh, which must be the last message of d. */
void fake_put_attr(struct fake_dgram *d, struct nlmsghdr *nlh, uint16_t type, const void *data,
		   size_t len);

void fake_put_done(struct fake_dgram *d, uint32_t seq, int err);
void fake_put_error(struct fake_dgram *d, uint32_t seq, int err);

/*
 * One inet_diag reply; the cookie doubles as the socket's name in tests,
 * the inode is 1000 + cookie and the uid 42.
 */
struct nlmsghdr *fake_put_inet(struct fake_dgram *d, uint32_t seq, int family, uint8_t state,
			       uint16_t sport, uint32_t cookie, uint16_t flags);

/* One unix_diag reply, unnamed, of type type (SOCK_STREAM...). */
struct nlmsghdr *fake_put_unix(struct fake_dgram *d, uint32_t seq, uint8_t type, uint8_t state,
			       uint32_t inode, uint32_t cookie);

/* One packet_diag reply. */
struct nlmsghdr *fake_put_packet(struct fake_dgram *d, uint32_t seq, uint8_t type,
				 uint16_t ethertype, uint32_t inode, uint32_t cookie);

/* One netlink_diag reply: a socket of netlink protocol protocol at portid. */
struct nlmsghdr *fake_put_netlink(struct fake_dgram *d, uint32_t seq, uint8_t protocol,
				  uint32_t portid, uint32_t inode, uint32_t cookie);

#endif
