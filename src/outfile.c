/* For fopencookie and mkostemp, beyond POSIX. */
#define _GNU_SOURCE
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* The umask, read the only way POSIX offers: by setting it and back. */
static mode_t current_umask(void)
{
	mode_t m = umask(022);
	umask(m);
	return m;
}

/*
 * The stream writes through this, so that the first write error keeps
 * its errno (a full disk says ENOSPC at commit, not a vague EIO: stdio
 * only remembers that some write failed).
 */
struct outfile_sink {
	int fd;
	int err; /* the first write error, as a negative errno; 0 if none */
};

static ssize_t sink_write(void *cookie, const char *data, size_t len)
{
	struct outfile_sink *s = cookie;
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(s->fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!s->err)
				s->err = n < 0 ? -errno : -ENOSPC;
			return done ? (ssize_t)done : -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int sink_close(void *cookie)
{
	struct outfile_sink *s = cookie;
	int r = close(s->fd);
	if (r != 0 && !s->err)
		s->err = -errno;
	s->fd = -1;
	return r;
}

static void release(struct outfile *of)
{
	if (of->f)
		fclose(of->f);
	else if (of->sink && of->sink->fd >= 0)
		close(of->sink->fd);
	free(of->sink);
	if (of->dirfd >= 0)
		close(of->dirfd);
	free(of->path);
	free(of->tmp);
	*of = (struct outfile)OUTFILE_INIT;
}

void outfile_abort(struct outfile *of)
{
	if (of->tmp)
		unlink(of->tmp);
	release(of);
}

/* The directory part of path ("." when it has none); NULL on -ENOMEM. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int outfile_open(struct outfile *of, const char *path)
{
	*of = (struct outfile)OUTFILE_INIT;
	struct stat st;
	if (!*path)
		return -ENOENT;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return -EISDIR;
	char *dir = dir_of(path);
	of->path = strdup(path);
	size_t n = strlen(path) + sizeof("..XXXXXX"); /* a dot before, a suffix after */
	of->tmp = malloc(n);
	if (!dir || !of->path || !of->tmp) {
		free(dir);
		release(of);
		return -ENOMEM;
	}
	/* A dot name in the same directory: same filesystem, so rename is
	 * atomic, and hidden from globs such as the collector's *.prom. */
	const char *base = strrchr(path, '/');
	size_t dlen = base ? (size_t)(base - path) + 1 : 0;
	snprintf(of->tmp, n, "%.*s.%s.XXXXXX", (int)dlen, path, path + dlen);
	of->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (of->dirfd < 0) {
		int err = -errno;
		release(of);
		return err;
	}
	int fd = mkostemp(of->tmp, O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;
		free(of->tmp);
		of->tmp = NULL;
		release(of);
		return err;
	}
	of->sink = malloc(sizeof(*of->sink));
	if (!of->sink) {
		close(fd);
		outfile_abort(of);
		return -ENOMEM;
	}
	of->sink->fd = fd;
	of->sink->err = 0;
	cookie_io_functions_t io = {NULL, sink_write, NULL, sink_close};
	of->f = fopencookie(of->sink, "w", io);
	if (!of->f) {
		outfile_abort(of);
		return -ENOMEM;
	}
	return 0;
}

int outfile_commit(struct outfile *of)
{
	if (!of->f) {
		outfile_abort(of);
		return -EINVAL;
	}
	struct outfile_sink *s = of->sink;
	int err = 0;
	/* ferror catches a write that failed earlier; the sink knows why. */
	if (fflush(of->f) != 0 || ferror(of->f))
		err = s->err ? s->err : -EIO;
	if (!err && fsync(s->fd) != 0)
		err = -errno;
	if (!err && fchmod(s->fd, 0666 & ~current_umask()) != 0)
		err = -errno;
	FILE *f = of->f;
	of->f = NULL;
	if (fclose(f) != 0 && !err)
		err = s->err ? s->err : -EIO;
	if (!err && rename(of->tmp, of->path) != 0)
		err = -errno;
	if (err) {
		outfile_abort(of);
		return err;
	}
	free(of->tmp);
	of->tmp = NULL; /* it is the target now */
	/*
	 * The rename is durable only once the directory is on disk too. A
	 * failure here is not reported: FILE is already the new, whole file,
	 * and an error would claim it untouched.
	 */
	(void)fsync(of->dirfd);
	release(of);
	return 0;
}
