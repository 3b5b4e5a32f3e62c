#ifndef SRC_KILL_H
#define SRC_KILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sock.h"

/*
 * Closing sockets (-K): one sock_diag SOCK_DESTROY request per socket,
 * naming it by the identity the dump gave (addresses, ports, device and
 * cookie, so a socket that took the place of a closed one is never hit),
 * on a NETLINK_SOCK_DIAG socket of its own, beside any dump in progress.
 */
struct killer;

/*
 * Opens the conversation. Returns 0 and *out (kill_destroy), or a
 * negative errno.
 */
int kill_create(struct killer **out);
void kill_destroy(struct killer *k); /* NULL-safe */

/* Can SOCK_DESTROY name s at all (an inet socket of an inet_diag protocol)? */
bool kill_applies(const struct sock *s);

/*
 * Builds the SOCK_DESTROY request for s (kill_applies) in buf: pure, for
 * the tests. A record without a cookie (the /proc/net source) is named
 * by its addresses alone. Returns the length, or 0 when it does not fit.
 */
size_t kill_build_request(void *buf, size_t size, const struct sock *s, uint32_t seq);

/*
 * Asks the kernel to close s and waits for its answer. Returns 0 when it
 * closed it; -ENOENT or -ESTALE when s is already gone; -EPERM without
 * CAP_NET_ADMIN; -EOPNOTSUPP when the kernel cannot close it (no
 * CONFIG_INET_DIAG_DESTROY, or a protocol without destroy); another
 * negative errno from the kernel or the socket.
 */
int kill_close(struct killer *k, const struct sock *s);

/* Does the caller hold CAP_NET_ADMIN (in its own user namespace)? */
bool kill_allowed(void);

/*
 * "tcp 127.0.0.1:22 10.0.0.1:40000", numeric, for a message about s.
 * Always NUL-terminates buf (size > 0).
 */
void kill_describe(const struct sock *s, char *buf, size_t size);

#endif
