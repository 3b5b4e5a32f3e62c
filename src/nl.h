#ifndef SRC_NL_H
#define SRC_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct nlmsghdr;

/*
 * A NETLINK_SOCK_DIAG conversation. The transport is a seam: the real one
 * is a libmnl socket; tests pass one that replays recorded or crafted
 * replies (and injects ENOBUFS, truncation, NLMSG_ERROR, DUMP_INTR).
 */
struct nl_transport {
	/* Sends len bytes; returns len or a negative errno. */
	ssize_t (*send)(void *ctx, const void *buf, size_t len);
	/* Receives one datagram into buf; returns its size or a negative errno. */
	ssize_t (*recv)(void *ctx, void *buf, size_t size);
	void *ctx;
	/*
	 * Multicast only (nl_read_events): receives one datagram without
	 * blocking and says which group it came from; -EAGAIN when none
	 * waits. NULL: the transport has no multicast.
	 */
	ssize_t (*recv_event)(void *ctx, void *buf, size_t size, unsigned *group);
	/* The kernel's count of messages it dropped for the socket; NULL: unknown. */
	int (*drops)(void *ctx, uint32_t *count);
};

struct nl;

/*
 * Watches a real conversation (--record): sent is called with every
 * request as sent, received with every datagram as received, or with
 * the negative errno of a failed receive and no data. Neither may fail
 * the conversation; an observer keeps its own errors.
 */
struct nl_observer {
	void (*sent)(void *ctx, const void *buf, size_t len);
	void (*received)(void *ctx, const void *buf, ssize_t n);
	void *ctx;
};

/*
 * Opens a conversation. t == NULL opens a real NETLINK_SOCK_DIAG socket
 * (SOCK_CLOEXEC, large receive buffer) in the caller's current network
 * namespace; otherwise t is copied and used as is, with portid 0.
 * Returns 0 and *out (owned by the caller, nl_destroy) or a negative errno.
 */
int nl_create(struct nl **out, const struct nl_transport *t);
void nl_destroy(struct nl *nl); /* NULL-safe */

/* Has obs (copied; NULL for none) told of everything nl sends and receives. */
void nl_observe(struct nl *nl, const struct nl_observer *obs);

/* Next sequence number to put in a request header. */
uint32_t nl_next_seq(struct nl *nl);

/*
 * Called for every reply message of a dump that is not NLMSG_DONE,
 * NLMSG_ERROR or NLMSG_NOOP. Return 0 to go on, a negative errno to abort.
 */
typedef int (*nl_msg_fn)(const struct nlmsghdr *nlh, void *arg);

/*
 * Sends the dump request req (whose nlmsg_seq must be nl_next_seq's value)
 * and runs cb for each reply message until NLMSG_DONE. Messages with a
 * foreign portid or sequence are ignored; a truncated message ends the
 * datagram it is in (the rest is skipped, not trusted). Returns:
 *   0         the dump completed;
 *   -EINTR    the dump completed but the kernel flagged NLM_F_DUMP_INTR
 *             (its content may be inconsistent: the caller retries);
 *   -errno    from an NLMSG_ERROR reply (e.g. -ENOENT, -EOPNOTSUPP when
 *             the kernel has no diag module for the protocol), from the
 *             transport (-ENOBUFS...) or from cb.
 */
int nl_dump(struct nl *nl, const void *req, size_t len, nl_msg_fn cb, void *arg);

/*
 * Joins the sock_diag multicast group group (SKNLGRP_*), so the socket
 * also receives what the kernel announces there. Returns 0, or a negative
 * errno (-EPERM without the privilege, -EINVAL on a kernel without it);
 * a test transport joins nothing and returns 0 when it has recv_event.
 */
int nl_subscribe(struct nl *nl, unsigned group);

/* The descriptor to poll for announcements, or -1 with a test transport. */
int nl_fd(const struct nl *nl);

/* Called for every announced message, with the group it came on. */
typedef int (*nl_event_fn)(const struct nlmsghdr *nlh, unsigned group, void *arg);

/*
 * Reads the announcements waiting on a subscribed socket, without
 * blocking, at most max datagrams, and runs cb for each message (a
 * truncated one ends its datagram). Returns 0 once none waits, 1 when
 * max datagrams were read (more may wait), -ENOBUFS when the kernel had
 * to drop some (the socket still works: call again), cb's negative
 * errno, or another negative errno from the socket.
 */
int nl_read_events(struct nl *nl, unsigned max, nl_event_fn cb, void *arg);

/*
 * The number of messages the kernel has dropped for the socket since it
 * was opened (SO_MEMINFO). Returns 0, or -ENOTSUP when it cannot tell.
 */
int nl_drops(struct nl *nl, uint32_t *count);

#endif
