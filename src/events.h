#ifndef SRC_EVENTS_H
#define SRC_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gather.h"
#include "query.h"
#include "render.h"

struct filter;
struct names;
struct nl_transport;

/*
 * The event stream (--events): close events from sock_diag's destroy
 * multicast groups, open and state events from comparing dumps taken
 * every interval, lost events when the kernel dropped announcements.
 * Written as NDJSON (one object a line, flushed per line) or as a table.
 */
struct events_config {
	uint32_t protos;              /* PROTO_BIT mask; those with destroy groups count */
	uint32_t families;            /* enum fam mask */
	enum gather_source source;
	const struct filter *filter;  /* judged on every event; NULL: none */
	struct render_opts render;    /* -n, -e, -P ...; format is ignored */
	bool table;                   /* a table for a person, not NDJSON */
	uint64_t interval_ms;         /* between dumps */
	FILE *out;
	struct names *names;          /* not owned; may be NULL */
	const char *proc_root;        /* "/proc" unless testing */
	const char *owners_via;       /* the owners backend by name; NULL: "auto" */
	/* The multicast socket's transport; NULL: a real netlink socket. */
	const struct nl_transport *transport;
	/* Called once when the destroy groups cannot be joined; may be NULL. */
	void (*notice)(const char *msg);
};

enum events_fail {
	EVENTS_OK,
	EVENTS_NOMEM,
	EVENTS_QUERY,     /* a dump failed: see q */
	EVENTS_NETLINK,   /* the multicast socket failed */
	EVENTS_OUTPUT,    /* writing failed (-EPIPE: the reader went away) */
};

struct events_error {
	enum events_fail kind;
	int err;                 /* negative errno */
	struct query_error q;    /* EVENTS_QUERY */
};

struct events;

/* The protocols of mask that the stream can follow (those with destroy groups). */
uint32_t events_protocols(uint32_t mask);

/* Sets up the stream for cfg (copied). Returns 0 or -ENOMEM. */
int events_create(struct events **out, const struct events_config *cfg);
void events_destroy(struct events *ev); /* NULL-safe */

/*
 * Opens the multicast socket and joins the destroy groups of the chosen
 * protocols and families. Returns 0; or a negative errno when they cannot
 * be joined, after which the stream goes on with dumps alone (closes then
 * come from dumps, without the kernel's final tcp_info).
 */
int events_subscribe(struct events *ev);

/*
 * Reads what the multicast socket holds (at most a bounded batch) and
 * writes an event for each; a drop by the kernel becomes one lost
 * event. Returns 0 when nothing more waits, 1 when more may, or a
 * negative errno with err filled.
 */
int events_pump(struct events *ev, struct events_error *err);

/*
 * Takes one dump and writes the open and state events it shows (the
 * first dump only learns what exists). Returns 0 or a negative errno
 * with err filled.
 */
int events_tick(struct events *ev, struct events_error *err);

/* The number of sockets the stream remembers now (all of them live). */
uint64_t events_cached(const struct events *ev);

/*
 * Runs the stream until a stop signal (loop.h's, installed by the
 * caller). Returns 0, or a negative errno with err filled.
 */
int events_run(const struct events_config *cfg, struct events_error *err);

#endif
