#ifndef TESTS_NETNS_H
#define TESTS_NETNS_H

/*
 * For live tests: moves the calling process (a forked child, so the test
 * runner's namespace is untouched) into a new, empty network namespace and
 * brings its loopback interface up, so the sockets the test makes are the
 * only ones there. Needs root. Returns 0 or a negative errno.
 */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static inline int netns_enter(void)
{
	if (unshare(CLONE_NEWNET) != 0)
		return -errno;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", 3);
	int r = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (r == 0) {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	r = r ? -errno : 0;
	close(fd);
	return r;
}

#endif
