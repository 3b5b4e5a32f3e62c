#ifndef SRC_WATCH_H
#define SRC_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sock.h"

struct owners;

/*
 * The --watch loop: a frame every interval, drawn by the caller into a
 * FILE *, then shown. On a terminal the frame is redrawn in place on the
 * alternate screen under a status line, with rows that came marked +
 * and rows that went shown once more marked -; elsewhere each frame is
 * printed whole under a "# TIME" line and followed by an empty line.
 */
struct watch_opts {
	uint64_t interval_ms;
	bool tty;          /* out and in are a terminal */
	bool color;        /* green and red marks (a terminal, NO_COLOR unset) */
	bool marks;        /* the frame is a table whose rows the caller notes */
	bool header;       /* the table has a header line above its rows */
	FILE *out;
	int in_fd;         /* where q is read on a terminal */
	const char *proc_root;
	const char *owners_via;  /* the owners backend by name; NULL: "auto" */
};

struct watch;

/*
 * Draws one frame into f: the caller notes each row it prints, in order,
 * with watch_note_row. Messages for the user go to msg (shown after the
 * terminal is restored). Returns an exit status: 0 goes on, anything
 * else ends the loop with that status.
 */
typedef int (*watch_frame_fn)(void *arg, struct watch *w, FILE *f, FILE *msg);

/*
 * Runs frames until q, a stop signal or a failed frame; the terminal is
 * restored whichever it is. Returns the exit status (0 for q and the
 * signals), or 1 when the terminal or the output failed (*why then says
 * how, a negative errno; -EPIPE means the reader went away).
 */
int watch_run(const struct watch_opts *o, watch_frame_fn frame, void *arg, int *why);

/* Notes a row of the frame being drawn (for the marks and the counts). */
void watch_note_row(struct watch *w, const struct sock *s);

/*
 * The owners of the rows noted in this frame, for a table that takes
 * them late: the last scan's map while every noted socket was known to
 * it, a new scan (rc < 0 on failure) when some socket is new. The map
 * stays owned by w.
 */
int watch_owners(struct watch *w, const struct owners **out);

/* Whether w holds an owners map from an earlier frame. */
bool watch_has_owners(const struct watch *w);

/*
 * Takes over o, the map a frame's own scan filled (the first frame scans
 * beside its dump, as a one-shot listing does), as the cache for the
 * frames after it.
 */
void watch_adopt_owners(struct watch *w, struct owners *o);

#endif
