#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int netns_open(const char *spec)
{
	char path[PATH_MAX];
	int n;
	if (strchr(spec, '/')) {
		n = snprintf(path, sizeof(path), "%s", spec);
	} else {
		/* A name is a file in /run/netns, never a way out of it. */
		if (strcmp(spec, "..") == 0 || strcmp(spec, ".") == 0 || !*spec)
			return -EINVAL;
		n = snprintf(path, sizeof(path), "/run/netns/%s", spec);
	}
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;

	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	/* Only nsfs files answer this; anything else is not a namespace. */
	int type = ioctl(fd, NS_GET_NSTYPE);
	if (type != CLONE_NEWNET) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int netns_enter(int fd)
{
	return setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
}
