/* For ppoll, beyond POSIX. */
#define _GNU_SOURCE
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static volatile sig_atomic_t pending_stop;
static volatile sig_atomic_t pending_resize;

/* The output to make non-blocking on a stop, and its flags; -1: none. */
static int stop_fd = -1;
static int stop_fd_flags;

static void on_signal(int sig)
{
	if (sig == SIGWINCH) {
		pending_resize = 1;
		return;
	}
	pending_stop = 1;
	/* fcntl is async-signal-safe; errno is the interrupted code's. */
	int saved = errno;
	if (stop_fd >= 0)
		(void)fcntl(stop_fd, F_SETFL, stop_fd_flags | O_NONBLOCK);
	errno = saved;
}

static const int handled[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH};
enum { NHANDLED = sizeof(handled) / sizeof(handled[0]) };

int loop_signals_install(int out_fd)
{
	struct stat st;
	stop_fd = -1;
	if (out_fd >= 0 && fstat(out_fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
		int fl = fcntl(out_fd, F_GETFL);
		if (fl >= 0) {
			stop_fd_flags = fl;
			stop_fd = out_fd;
		}
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < NHANDLED; i++)
		if (sigaction(handled[i], &sa, NULL) < 0)
			return -errno;
	return 0;
}

void loop_signals_restore(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < NHANDLED; i++)
		(void)sigaction(handled[i], &sa, NULL);
	if (stop_fd >= 0)
		(void)fcntl(stop_fd, F_SETFL, stop_fd_flags);
	stop_fd = -1;
}

unsigned loop_take_signals(void)
{
	unsigned bits = 0;
	if (pending_stop)
		bits |= LOOP_STOP;
	if (pending_resize)
		bits |= LOOP_RESIZE;
	pending_stop = 0;
	pending_resize = 0;
	return bits;
}

int loop_stopping(void)
{
	return pending_stop != 0;
}

int loop_wait(const int *fds, int nfds, int64_t ms)
{
	enum { MAXFDS = 4 };
	struct pollfd p[MAXFDS];
	if (nfds > MAXFDS)
		return -EINVAL;
	/* A negative fd is skipped by poll itself. */
	for (int i = 0; i < nfds; i++)
		p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
	if (pending_stop || pending_resize)
		return 0;
	if (ms < 0)
		ms = 0;
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	int n = ppoll(p, (nfds_t)nfds, &ts, NULL);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	int mask = 0;
	for (int i = 0; i < nfds; i++)
		if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
			mask |= 1 << i;
	return mask;
}
