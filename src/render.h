#ifndef SRC_RENDER_H
#define SRC_RENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "count.h"
#include "sock.h"

struct names;
struct owners;

/*
 * The render stage: table, JSON, NDJSON, summary. Renderers write to a
 * FILE * so tests capture them with open_memstream.
 */
enum render_format { FORMAT_TABLE, FORMAT_JSON, FORMAT_NDJSON };

struct render_opts {
	enum render_format format;
	bool header;     /* table header line (-H clears it) */
	bool numeric;    /* -n: no service names */
	bool resolve;    /* -r: host names */
	bool processes;  /* owners were scanned (false with -P) */
	bool extended;   /* -e */
	bool info;       /* -i */
	bool memory;     /* -m */
	bool timers;     /* -o */
	bool all_netns;  /* --all-netns: the Netns column and "netns" key */
	bool cgroup;     /* --cgroup: the Cgroup column and "cgroup" key */
};

struct render;

/*
 * Creates a renderer writing to f. names (not owned) answers service,
 * user and host names. Returns 0 or -ENOMEM.
 */
int render_create(struct render **out, FILE *f, const struct render_opts *o,
		  struct names *names);

/*
 * Takes one socket (s->owners set by the caller when processes are on).
 * The table copies what it needs (formatted cells) and prints at
 * render_finish, once widths are known; JSON and NDJSON write the row now.
 * s need not outlive the call. Returns 0, -EPIPE when the reader went
 * away (stop: nothing more will be read), -ENOMEM, or -EOVERFLOW for a
 * table cell over 64 KiB. Any other write error is kept and returned by
 * render_finish, so every format reports it the same way.
 */
int render_row(struct render *r, const struct sock *s);

/*
 * Table only: the map the Process column of rows given without owners is
 * looked up in at render_finish (not owned; must live until then). The
 * Process column is the last and is never padded, so it can be filled
 * after every other column has been measured: main streams rows here
 * while /proc is still being scanned, and hands the map over at the end.
 */
void render_set_owners(struct render *r, const struct owners *owners);

/*
 * Prints what is buffered, closes the JSON array and flushes f. Returns 0
 * or the first negative errno of any write (-EPIPE, -ENOSPC, ...).
 */
int render_finish(struct render *r);
void render_destroy(struct render *r); /* NULL-safe */

/* Counts for -s: sockets by protocol, family (0 inet/other, 1 inet6), state. */
struct summary {
	uint32_t protos;                        /* PROTO_BIT mask asked for */
	uint64_t count[PROTO_COUNT][2][SS_MAX];
};

void summary_add(struct summary *sum, const struct sock *s);

struct count;

/*
 * -s is a preset of the counting engine (count.h): sockets grouped by
 * proto, family and state, in that order (summary_keys, SUMMARY_NKEYS of
 * them), printed in the summary's own layout. summary_from_count adds
 * the rows of such an engine, after count_finish with no --top, to sum.
 * Returns 0, or -EINVAL when the engine has other keys.
 */
enum { SUMMARY_NKEYS = 3 };
extern const enum count_key summary_keys[SUMMARY_NKEYS];
int summary_from_count(struct summary *sum, const struct count *c);

/*
 * -s with --all-netns: the keys netns, proto, family, state
 * (summary_netns_keys), each row added to the summary of its namespace,
 * sums[j] for names[j] (n of them). Returns 0 or -EINVAL for other keys.
 */
extern const enum count_key summary_netns_keys[SUMMARY_NKEYS + 1];
int summary_from_count_netns(struct summary *sums, const char *const *names, size_t n,
			     const struct count *c);

/* Prints the summary as a table or (JSON formats) one object. */
int render_summary(FILE *f, const struct render_opts *o, const struct summary *sum);

/*
 * Prints n summaries: with names (--all-netns), one per namespace, the
 * table with a first Netns column and JSON as one object keyed by the
 * names; without, n is 1 and this is render_summary.
 */
int render_summaries(FILE *f, const struct render_opts *o, const struct summary *sums,
		     const char *const *names, size_t n);

#endif
