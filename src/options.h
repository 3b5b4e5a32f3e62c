#ifndef SRC_OPTIONS_H
#define SRC_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "gather.h"
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
	const char *netns;           /* -N, or NULL */
	struct render_opts render;

	/* Process filters (imply the /proc scan). */
	bool have_pid;
	pid_t pid;                   /* --pid */
	const char *command;         /* --command */
	bool have_user;
	uint32_t user_uid;           /* --user, resolved */

	/*
	 * The filter words: the trailing FILTER words, plus the words that
	 * --port and --state stand for. Owned by the struct (options_finish).
	 */
	char **filter_words;
	int filter_nwords;
};

/*
 * Parses argv. Returns 0, or -EINVAL with a one-line message in err
 * (naming the offending option or value) for a usage error.
 */
int options_parse(struct options *o, int argc, char **argv, char *err, size_t errlen);
void options_finish(struct options *o);

/* Prints the --help text to f. */
void options_usage(FILE *f);

#endif
