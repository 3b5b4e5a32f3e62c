#ifndef SRC_GATHER_H
#define SRC_GATHER_H

#include <stdbool.h>
#include <stdint.h>

#include "sock.h"

struct filter;
struct nl;
struct nl_transport;
struct nl_observer;
struct procnet_tap;

/*
 * The gather stage: asks netlink sock_diag for each selected protocol and
 * falls back, per protocol, to /proc/net. Only this stage (with nl, diag
 * and procnet beneath it) talks to the kernel about sockets.
 */
enum gather_source { SOURCE_AUTO, SOURCE_NETLINK, SOURCE_PROC };

struct gather_request {
	uint32_t protos;                 /* PROTO_BIT mask */
	uint32_t families;               /* enum fam mask */
	uint32_t states;                 /* STATE_BIT mask */
	enum gather_source source;
	bool want_info;                  /* -i */
	bool want_mem;                   /* -m */
	const struct filter *filter;     /* for bytecode push-down; NULL: none */
	const char *proc_root;           /* "/proc" unless testing */
	/*
	 * Where the /proc fallback finds net/ (its tables): NULL for
	 * proc_root; "/proc/thread-self" on a thread inside another network
	 * namespace, "/proc/PID" for a member process of one.
	 */
	const char *net_root;
	const struct nl_transport *transport; /* NULL: real netlink */
	/*
	 * Opens the netlink conversation instead of nl_create (another
	 * namespace's socket, made inside it); NULL: nl_create(transport).
	 * Returns as nl_create.
	 */
	int (*nl_open)(struct nl **out, void *arg);
	void *nl_open_arg;
	const struct nl_observer *observer;   /* --record: told the conversation; NULL */
	const struct procnet_tap *tap;        /* --record, --replay: /proc/net text; NULL */
};

/* Which failure gather_run returned, for the caller's message. */
enum gather_fail {
	GATHER_FAIL_SINK,     /* the sink stopped the run with its own error */
	GATHER_FAIL_NOMEM,    /* our own allocation failed */
	GATHER_FAIL_NETLINK,  /* sock_diag failed and /proc could not stand in */
	GATHER_FAIL_PROCNET,  /* the /proc/net file could not be read */
};

struct gather_error {
	enum gather_fail kind;
	enum proto proto;     /* the protocol being gathered */
	const char *file;     /* GATHER_FAIL_PROCNET: the protocol table's file */
};

/*
 * Calls sink for every socket matching the protocols, families and states
 * of req (the filter is only pushed down, never applied here). A netlink
 * dump flagged NLM_F_DUMP_INTR is retried, without handing the sink a
 * socket twice. Returns 0, the sink's negative errno, or a negative errno
 * with err filled when a protocol could be read from no allowed source.
 */
int gather_run(const struct gather_request *req, sock_sink_fn sink, void *arg,
	       struct gather_error *err);

#endif
