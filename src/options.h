#ifndef SRC_OPTIONS_H
#define SRC_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "count.h"
#include "gather.h"
#include "metrics.h"
#include "render.h"

/* Everything the command line says, built once in main. */
struct options {
	uint32_t protos;             /* PROTO_BIT mask; all when none given */
	uint32_t families;           /* enum fam mask */
	uint32_t states;             /* from -a / -l / default */
	bool summary;                /* -s */
	bool help;                   /* -h */
	bool version;                /* -V */
	enum gather_source source;   /* --source */
	const char *owners_via;      /* --owners: "bpf", "proc", or NULL for auto (argv) */
	const char *netns;           /* -N, or NULL */
	bool all_netns;              /* --all-netns, or implied by --netns */
	const char **netns_patterns; /* --netns, or-ed; the array owned, the words in argv */
	size_t nnetns_patterns;
	bool kill;                   /* -K: close what is selected */
	bool dry_run;                /* --dry-run: with -K, close nothing */
	const char *record;          /* --record FILE, or NULL */
	const char *replay;          /* --replay FILE, or NULL */
	struct render_opts render;

	/*
	 * Counting and metrics. --format prometheus|openmetrics sets metrics
	 * (render.format then says nothing); --count-by fills count_keys.
	 */
	bool metrics;                /* a metrics format was asked for */
	enum metrics_format metrics_format;
	enum count_key count_keys[COUNT_MAX_KEYS]; /* --count-by */
	size_t ncount_keys;          /* 0: no --count-by */
	size_t top;                  /* --top N, 0 when not given */
	const char *output;          /* --output FILE (in argv), or NULL */

	/*
	 * The convenience and process filters, as typed values: each list
	 * is or-ed, the lists and the FILTER are and-ed (options_filter
	 * builds the filter). The arrays are owned (options_finish); the
	 * strings point into argv.
	 */
	const char **ports;          /* --port, a number or a service name */
	size_t nports;
	bool has_states;             /* --state given */
	uint32_t state_mask;         /* the union of the --state masks */
	int32_t *pids;               /* --pid */
	size_t npids;
	const char **commands;       /* --command */
	size_t ncommands;
	uint32_t *uids;              /* --user, resolved */
	size_t nuids;

	/* --watch[=SECONDS] and --events [--interval SECONDS], in milliseconds. */
	bool watch;
	uint64_t watch_ms;
	bool events;
	uint64_t interval_ms;
	bool interval_given;

	/* The trailing FILTER words: the array owned, the words in argv. */
	const char **filter_words;
	int filter_nwords;
};

/*
 * Parses argv. Returns 0, or -EINVAL with a one-line message in err
 * (naming the offending option or value) for a usage error.
 */
int options_parse(struct options *o, int argc, char **argv, char *err, size_t errlen);
void options_finish(struct options *o); /* NULL-safe */

struct filter;
struct names;

/*
 * Builds the filter the command line asks for: the FILTER words parsed,
 * and-ed with the convenience and process options. names resolves service
 * names (NULL: numbers only). Returns 0 and *out (NULL when nothing
 * filters; destroy with filter_destroy); -EINVAL for a usage error, with
 * a one-line message in err ("bad filter: ..." or "bad --port value
 * 'nosuch'"); or -ENOMEM.
 */
int options_filter(const struct options *o, struct names *names, struct filter **out,
		   char *err, size_t errlen);

/* Prints the --help text to f. */
void options_usage(FILE *f);

#endif
