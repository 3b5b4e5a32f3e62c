#ifndef SRC_NETNS_H
#define SRC_NETNS_H

/*
 * Network namespaces: naming one (-N) and moving the calling thread into
 * it. The only module that opens namespace files or calls setns.
 */

/*
 * Opens the network namespace spec names: a name under /run/netns (no
 * slash) or a path (/proc/PID/ns/net, a bind mount). The file is opened
 * without blocking, so a FIFO cannot hang the caller, and checked to be a
 * network namespace. Returns an O_CLOEXEC descriptor the caller closes,
 * or -ENOENT (no such name or path), -ENAMETOOLONG (the path would be
 * cut), -EINVAL (a name holding "..", or a file that is no network
 * namespace), or another negative errno from open.
 */
int netns_open(const char *spec);

/*
 * Moves the calling thread into the network namespace open on fd. Sockets
 * it creates from then on, and /proc/net as it reads it, belong to that
 * namespace. Returns 0 or a negative errno (-EPERM without CAP_SYS_ADMIN).
 */
int netns_enter(int fd);

#endif
