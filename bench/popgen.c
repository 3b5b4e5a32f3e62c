/* For accept4 and pipe2, beyond POSIX. */
#define _GNU_SOURCE
/*
 * popgen: build a known socket population for benchmarks, spread over many
 * processes (the hard open-file limit here is 20,000 per process).
 *
 * Run it inside a private network namespace with lo up (bench/run does
 * that); it refuses to run in the initial namespace's loopback-only world
 * only by convention, so never point it at a host you care about.
 *
 *   popgen -t TCP -p PROCS [-w TIMEWAIT_PERCENT] [-u UDP] [-x UNIX]
 *
 * Each worker process owns one listener (IPv4 or IPv6, alternating) and
 * connects clients to it over loopback, accepting each, so every
 * connection is two ESTABLISHED sockets held by that worker. A share of
 * the clients is closed first, which leaves TIME_WAIT entries that hold no
 * file descriptor. When every worker is ready, popgen prints one line
 * "ready tcp=N udp=N unix=N" on stdout and waits until stdin reaches end
 * of file, then ends the workers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { BASE_PORT = 10000, MAX_PROCS = 2000, FD_LIMIT = 19900 };

struct plan {
	long tcp;        /* TCP sockets wanted in the dump, in all */
	int procs;
	int timewait;    /* percent of connections left in TIME_WAIT */
	long udp;
	long unixs;
};

/* Counts a worker reports back to the parent. */
struct counts {
	long tcp;
	long udp;
	long unixs;
};

static void die(const char *what)
{
	fprintf(stderr, "popgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static bool parse_long(const char *s, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > max)
		return false;
	*out = v;
	return true;
}

static int listener(bool v6, int port)
{
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6) {
		struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
					 .sin6_addr = IN6ADDR_LOOPBACK_INIT};
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("bind6");
	} else {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("bind");
	}
	if (listen(fd, 4096) < 0)
		die("listen");
	return fd;
}

static int client(bool v6, int port)
{
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	int rc;
	if (v6) {
		struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
					 .sin6_addr = IN6ADDR_LOOPBACK_INIT};
		rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	} else {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	}
	if (rc < 0)
		die("connect");
	return fd;
}

/*
 * One worker: a listener, conns connections (a share closed into
 * TIME_WAIT), udp UDP sockets and unixs UNIX sockets; then reports its
 * counts on out and sleeps until killed.
 */
static void worker(int index, long conns, int timewait, long udp, long unixs, int out)
{
	bool v6 = index % 2 == 1;
	int port = BASE_PORT + index;
	int lfd = listener(v6, port);
	struct counts c = {.tcp = 1};
	long closing = conns * timewait / 100;
	for (long i = 0; i < conns; i++) {
		int cfd = client(v6, port);
		int afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (afd < 0)
			die("accept");
		if (i < closing) {
			/* The side that closes first keeps the TIME_WAIT entry. */
			close(cfd);
			close(afd);
			c.tcp += 1;
		} else {
			c.tcp += 2;
		}
	}
	for (long i = 0; i < udp; i++) {
		int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die("udp socket");
		c.udp++;
	}
	for (long i = 0; i + 1 < unixs; i += 2) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			die("socketpair");
		c.unixs += 2;
	}
	if (write(out, &c, sizeof(c)) != (ssize_t)sizeof(c))
		die("report");
	close(out);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	struct plan p = {.tcp = 10000, .procs = 20, .timewait = 5};
	int opt;
	long v;
	while ((opt = getopt(argc, argv, "t:p:w:u:x:")) != -1) {
		bool ok = optarg && parse_long(optarg, 10000000, &v);
		switch (opt) {
		case 't': p.tcp = v; break;
		case 'p': ok = ok && v >= 1 && v <= MAX_PROCS; p.procs = (int)v; break;
		case 'w': ok = ok && v <= 90; p.timewait = (int)v; break;
		case 'u': p.udp = v; break;
		case 'x': p.unixs = v; break;
		default: ok = false;
		}
		if (!ok) {
			fprintf(stderr, "usage: popgen -t TCP -p PROCS [-w TIMEWAIT%%] [-u UDP] [-x UNIX]\n");
			return 2;
		}
	}

	/*
	 * Each connection yields two sockets, or one when it is left in
	 * TIME_WAIT; solve for the connections that give p.tcp sockets.
	 */
	long per_proc = (p.tcp / p.procs) - 1;
	long conns = per_proc * 100 / (200 - p.timewait);
	if (conns < 0)
		conns = 0;
	if (conns * 2 + p.udp / p.procs + p.unixs / p.procs + 16 > FD_LIMIT) {
		fprintf(stderr, "popgen: %ld connections per process exceed the fd limit; use more processes\n",
			conns);
		return 2;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		die("pipe");
	pid_t *pids = calloc((size_t)p.procs, sizeof(*pids));
	if (!pids)
		die("calloc");
	for (int i = 0; i < p.procs; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			/* Workers never outlive popgen, however it ends. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() == 1)
				_exit(1);
			close(pipefd[0]);
			worker(i, conns, p.timewait, p.udp / p.procs, p.unixs / p.procs, pipefd[1]);
		}
		pids[i] = pid;
	}
	close(pipefd[1]);

	struct counts total = {0};
	int ready = 0;
	for (; ready < p.procs; ready++) {
		struct counts c;
		if (read(pipefd[0], &c, sizeof(c)) != (ssize_t)sizeof(c))
			break;
		total.tcp += c.tcp;
		total.udp += c.udp;
		total.unixs += c.unixs;
	}
	int status = 0;
	if (ready == p.procs) {
		printf("ready tcp=%ld udp=%ld unix=%ld procs=%d\n", total.tcp, total.udp, total.unixs,
		       p.procs);
		fflush(stdout);
		char b[64];
		while (read(STDIN_FILENO, b, sizeof(b)) > 0)
			;
	} else {
		fprintf(stderr, "popgen: only %d of %d workers got ready\n", ready, p.procs);
		status = 1;
	}
	for (int i = 0; i < p.procs; i++)
		kill(pids[i], SIGKILL);
	for (int i = 0; i < p.procs; i++)
		waitpid(pids[i], NULL, 0);
	free(pids);
	return status;
}
