/*
 * A test helper for test_owners.py: a process whose main thread exits
 * while a second thread keeps a listening TCP socket on 127.0.0.1. The
 * leader becomes a zombie whose /proc/PID/fd lists nothing; only
 * /proc/PID/task/TID/fd still shows the socket. Prints the port once the
 * socket listens, then holds it until its stdin reaches end of file.
 */
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void *hold(void *arg)
{
	(void)arg;
	char c;
	while (read(0, &c, 1) > 0)
		;
	exit(0);
}

int main(void)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 4) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &len) < 0)
		return 1;
	pthread_t t;
	if (pthread_create(&t, NULL, hold, NULL) != 0)
		return 1;
	printf("%d\n", ntohs(a.sin_port));
	if (fflush(stdout) != 0)
		return 1;
	/* Only this thread ends; the process lives on in the other one. */
	pthread_exit(NULL);
}
