#ifndef SRC_OUTFILE_H
#define SRC_OUTFILE_H

#include <stdio.h>

/*
 * --output FILE: output goes to a temporary file in FILE's directory,
 * which replaces FILE only once it is whole (written, flushed, fsynced,
 * renamed), so a reader such as node_exporter's textfile collector sees
 * the old file or the new one and never part of one. FILE ends with mode
 * 0666 less the umask, as a shell redirection would create it. On any
 * error FILE is left as it was and the temporary file is removed.
 */
struct outfile_sink;

struct outfile {
	FILE *f;       /* where to write; owned until commit or abort */
	char *path;    /* the target; owned */
	char *tmp;     /* the temporary file's path; owned, NULL when none */
	int dirfd;     /* the target's directory, for the fsync after rename */
	struct outfile_sink *sink; /* the stream's file and first error; owned */
};

#define OUTFILE_INIT {NULL, NULL, NULL, -1, NULL}

/*
 * Creates the temporary file next to path (O_CLOEXEC, mode 0600 until
 * commit) and sets of->f to a stream on it. Returns 0 or a negative errno
 * (-EACCES, -ENOENT for a missing directory, -EISDIR when path names a
 * directory, ...); of holds nothing on error.
 */
int outfile_open(struct outfile *of, const char *path);

/*
 * Flushes and fsyncs the temporary file, gives it its final mode, renames
 * it over the target and fsyncs the directory. Returns 0 or a negative
 * errno (the first one met, -ENOSPC for a full disk, a write error the
 * stream recorded earlier...), in which case the temporary file is
 * removed and the target untouched. Either way of is released.
 */
int outfile_commit(struct outfile *of);

/* Removes the temporary file and releases of; the target is untouched.
 * Safe on an OUTFILE_INIT or already released outfile. */
void outfile_abort(struct outfile *of);

#endif
