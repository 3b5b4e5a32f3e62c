#ifndef SRC_METRICS_H
#define SRC_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "count.h"
#include "sock.h"

struct names;

/*
 * The metrics formats: Prometheus text exposition 0.0.4 (what
 * node_exporter's textfile collector reads) and OpenMetrics 1.0 text.
 * One pass over the records feeds counting engines (count.h), so memory
 * grows with the series, not with the sockets. Families, all gauges,
 * each with # HELP and # TYPE, no timestamps:
 *
 *   sockstat_sockets{proto,family,state}             every socket
 *   sockstat_listen_queue{proto,address,port,process}     TCP listeners' Recv-Q
 *   sockstat_listen_queue_max{proto,address,port,process} their Send-Q (backlog)
 *   sockstat_connections{direction,port,state,process}    TCP connections, the
 *       ports beyond the top N (by connections) summed as port="other"
 *   sockstat_scrape_duration_seconds                  the run's duration
 *
 * With keys (--count-by) the output is one family, sockstat_sockets,
 * labelled by those keys ("-" becoming "_" in the label names).
 * Label values are escaped as both formats require (backslash, double
 * quote, newline); a name's bytes that are not valid UTF-8 and its
 * control characters become U+FFFD, as in JSON.
 */
enum metrics_format { METRICS_PROMETHEUS, METRICS_OPENMETRICS };

/* The default number of ports sockstat_connections keeps (--top). */
enum { METRICS_TOP_PORTS = 100 };

struct metrics_opts {
	enum metrics_format format;
	/*
	 * Standard families: the ports sockstat_connections keeps (0 means
	 * METRICS_TOP_PORTS). With keys: the rows kept, the rest summed in
	 * one series whose labels are all "other" (0: all rows).
	 */
	size_t top;
	bool netns_label;          /* every family gains netns (--all-netns) */
	const enum count_key *keys; /* --count-by keys, or NULL */
	size_t nkeys;
};

struct metrics;

/*
 * Creates a writer. names (not owned, may be NULL: users as numbers)
 * answers user names for a user key. Returns 0, -EINVAL (bad keys) or
 * -ENOMEM.
 */
int metrics_create(struct metrics **out, const struct metrics_opts *o, struct names *names);
void metrics_destroy(struct metrics *m); /* NULL-safe */

/*
 * The namespace the records added from now on come from: the value of
 * the netns label (NULL: "-"), and the scope of the listener set that
 * tells an "in" connection from an "out" one. Returns 0 or -ENOMEM.
 */
int metrics_set_netns(struct metrics *m, const char *name);

/*
 * As count_needs_listeners: when true, the caller should feed every
 * listener (unfiltered) through metrics_add_listener and call
 * metrics_listeners_done before the first metrics_add, so the direction
 * of each connection is known at once and memory stays bounded by the
 * series. Without it the output is the same.
 */
bool metrics_needs_listeners(const struct metrics *m);
int metrics_add_listener(struct metrics *m, const struct sock *s);
void metrics_listeners_done(struct metrics *m);

/* Counts s (valid only during the call). Returns 0 or -ENOMEM. */
int metrics_add(struct metrics *m, const struct sock *s);

/*
 * Writes every family to f after the last metrics_add (call once);
 * scrape_seconds is the value of sockstat_scrape_duration_seconds (not
 * written with keys). OpenMetrics output ends with "# EOF". Returns 0 or
 * a negative errno (-EPIPE when the reader went away, -ENOMEM).
 */
int metrics_write(struct metrics *m, FILE *f, double scrape_seconds);

/*
 * Appends s (len bytes) as a label value's inside, without the quotes:
 * backslash, double quote and newline escaped as \\ \" \n, other control
 * bytes and bytes that are not valid UTF-8 as U+FFFD. Exposed for tests.
 */
struct buf;
void metrics_escape_label(struct buf *out, const char *s, size_t len);

#endif
