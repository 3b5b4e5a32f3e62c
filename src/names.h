#ifndef SRC_NAMES_H
#define SRC_NAMES_H

#include <stdint.h>

#include "sock.h"

/*
 * The names stage: service names from /etc/services, user names from
 * uids, host names for -r. Each answer is computed once and cached; the
 * returned strings are owned by the cache and live until names_destroy.
 */
struct names;

/*
 * Creates a cache. services is the services file to read ("/etc/services"
 * when NULL); it is read lazily, on the first service lookup, and a
 * missing file just means no names. Returns 0 or -ENOMEM.
 */
int names_create(struct names **out, const char *services);
void names_destroy(struct names *n); /* NULL-safe */

/* Service name for port under proto (tcp or udp table), or NULL. */
const char *names_service(struct names *n, uint16_t port, enum proto proto);

/*
 * Port for a service name ("ssh") under proto (PROTO_COUNT: any), or a
 * negative errno (-ENOENT when unknown).
 */
int names_service_port(struct names *n, const char *name, enum proto proto);

/* User name for uid, or its decimal form when it has no name. Never NULL. */
const char *names_user(struct names *n, uint32_t uid);

/*
 * Host name for an address (family AF_INET/AF_INET6, 4 or 16 bytes in
 * network order) by reverse DNS, or NULL when it has none.
 */
const char *names_host(struct names *n, int family, const uint8_t *addr);

/* One address of a host name, as names_host_addrs gives them. */
struct names_addr {
	int family;        /* AF_INET or AF_INET6 */
	uint8_t addr[16];  /* network order; IPv4 in the first 4 bytes */
};

/*
 * The addresses of host name (forward lookup through getaddrinfo, so
 * /etc/hosts first), of family (AF_UNSPEC: both), each once, at most max
 * of them into out. Not cached: a filter resolves each name once. Returns
 * how many, or -ENOENT when the name has none.
 */
int names_host_addrs(struct names *n, const char *name, int family, struct names_addr *out,
		     size_t max);

#endif
