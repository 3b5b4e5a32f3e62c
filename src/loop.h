#ifndef SRC_LOOP_H
#define SRC_LOOP_H

#include <stdint.h>

/*
 * What the long-running modes (--watch, --events) wait on: a descriptor,
 * a deadline and the signals that end or redraw them. The handlers only
 * note the signal and do not restart system calls, so a write blocked on
 * a reader that stopped reading is interrupted too; the caller then sees
 * a failed write with loop_stopping() true, and ends as asked. A signal
 * that lands between the check and the wait ends that wait at the latest
 * at its deadline.
 */
enum loop_signal {
	LOOP_STOP = 1u << 0,    /* SIGINT, SIGTERM, SIGHUP */
	LOOP_RESIZE = 1u << 1,  /* SIGWINCH */
};

/*
 * Installs the handlers. out_fd is the output's descriptor: when it is a
 * pipe or a socket, a stop signal also makes it non-blocking, so that a
 * write waiting on a reader that stopped reading (which stdio would
 * retry after the interruption) fails at once instead. A terminal's
 * descriptor, shared with the shell, is left alone. Returns 0 or -errno.
 */
int loop_signals_install(int out_fd);

/* Restores the signals' default handling. */
void loop_signals_restore(void);

/* The signals seen since the last call (enum loop_signal bits), cleared. */
unsigned loop_take_signals(void);

/* Whether a stop signal has been seen (and not yet taken). */
int loop_stopping(void);

/*
 * Waits until one of fds (nfds of them, -1 entries ignored) is readable,
 * a signal arrives or ms milliseconds pass. Returns the bit mask of the
 * readable fds (bit i for fds[i]), 0 for a timeout or a signal, or a
 * negative errno.
 */
int loop_wait(const int *fds, int nfds, int64_t ms);

#endif
