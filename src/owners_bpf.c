#include "owners_bpf.h"

#include "config.h"

#include <errno.h>
#include <stdio.h>

#ifdef HAVE_BPF

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/sockiter.h"
#include "sockiter.skel.h"

_Static_assert(sizeof(struct sockiter_rec) == 40, "the record has no padding");

/*
 * A read() of a BPF iterator returns at most its seq_file buffer (eight
 * pages), so a buffer of that size takes every read whole.
 */
enum { READ_CHUNK = 64 * 1024 };

struct owners_bpf {
	struct sockiter *skel;
	char *buf; /* READ_CHUNK bytes */
};

/*
 * libbpf prints its warnings (a verifier log can be pages long) to stderr
 * by default; sockstat reports one line of its own instead, and lets a
 * developer see libbpf's account with SOCKSTAT_BPF_DEBUG set.
 */
/* libbpf's format strings are its own: the callback passes them on as they are. */
__attribute__((format(printf, 2, 0)))
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	static int debug = -1;
	if (debug < 0)
		debug = getenv("SOCKSTAT_BPF_DEBUG") != NULL;
	if (!debug || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int fail(int err, char *why, size_t whylen, const char *msg)
{
	if (whylen)
		snprintf(why, whylen, "%s", msg);
	return err;
}

/*
 * Whether lockdown's confidentiality mode is on: it withholds the helpers
 * that read kernel memory, and the verifier then refuses the program as
 * calling an unknown function, which says nothing useful by itself.
 */
static bool locked_down(void)
{
	char buf[128] = "";
	FILE *f = fopen("/sys/kernel/security/lockdown", "re");
	if (!f)
		return false;
	bool on = fgets(buf, sizeof(buf), f) && strstr(buf, "[confidentiality]");
	fclose(f);
	return on;
}

/* The reason for a failed load, in the words an administrator acts on. */
static int load_failed(int err, char *why, size_t whylen)
{
	/*
	 * The verifier answers EACCES for a program it reads as unsafe, but
	 * an unprivileged caller may get EACCES too, before any verifying:
	 * EPERM, or EACCES when not root, means privilege.
	 */
	if (err == -EPERM || (err == -EACCES && geteuid() != 0))
		return fail(-EPERM, why, whylen,
			    "loading BPF programs needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)");
	if (err == -ENOSYS)
		return fail(err, why, whylen, "the kernel has no bpf() system call");
	if (locked_down())
		return fail(err, why, whylen,
			    "the kernel is locked down (confidentiality), which forbids BPF reading kernel memory");
	char msg[160];
	snprintf(msg, sizeof(msg), "the kernel refused the BPF socket iterator: %s", strerror(-err));
	return fail(err, why, whylen, msg);
}

int owners_bpf_open(struct owners_bpf **out, char *why, size_t whylen)
{
	*out = NULL;
	if (whylen)
		why[0] = '\0';
	libbpf_set_print(libbpf_print);
	/*
	 * Without kernel BTF, the CO-RE relocations cannot be resolved;
	 * saying so is clearer than libbpf's error for it.
	 */
	/*
	 * Only a file that is not there says so: one this user may not reach
	 * (a private chroot) is left to the load, whose EPERM says more.
	 */
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0 && errno == ENOENT)
		return fail(-ENOENT, why, whylen, "the kernel has no BTF (/sys/kernel/btf/vmlinux)");

	struct owners_bpf *b = calloc(1, sizeof(*b));
	if (!b)
		return fail(-ENOMEM, why, whylen, "out of memory");
	b->buf = malloc(READ_CHUNK);
	if (!b->buf) {
		free(b);
		return fail(-ENOMEM, why, whylen, "out of memory");
	}
	/*
	 * libbpf 1.x raises RLIMIT_MEMLOCK by itself, and only on kernels
	 * (before 5.11) that still charge BPF memory against it.
	 */
	b->skel = sockiter__open();
	if (!b->skel) {
		int err = -errno;
		owners_bpf_close(b);
		return fail(err ? err : -ENOMEM, why, whylen, "cannot open the BPF socket iterator object");
	}
	int err = sockiter__load(b->skel);
	if (err) {
		owners_bpf_close(b);
		return load_failed(err, why, whylen);
	}
	err = sockiter__attach(b->skel);
	if (err) {
		owners_bpf_close(b);
		if (err == -EPERM)
			return load_failed(err, why, whylen);
		char msg[160];
		snprintf(msg, sizeof(msg), "cannot attach the BPF socket iterator: %s", strerror(-err));
		return fail(err, why, whylen, msg);
	}
	*out = b;
	return 0;
}

/* Hands the whole records of buf[0..n) to cb; returns cb's first non-zero. */
static int deliver(const char *buf, size_t n, int (*cb)(void *, const struct owners_bpf_rec *),
		   void *arg)
{
	for (size_t off = 0; off + sizeof(struct sockiter_rec) <= n; off += sizeof(struct sockiter_rec)) {
		struct sockiter_rec k;
		memcpy(&k, buf + off, sizeof(k));
		struct owners_bpf_rec r = {.inode = k.inode, .pid = (int32_t)k.pid,
					   .tid = (int32_t)k.tid, .fd = (int32_t)k.fd, .uid = k.uid};
		memcpy(r.comm, k.comm, sizeof(r.comm));
		r.comm[sizeof(r.comm) - 1] = '\0';
		int ret = cb(arg, &r);
		if (ret)
			return ret;
	}
	return 0;
}

int owners_bpf_read(struct owners_bpf *b, int (*cb)(void *arg, const struct owners_bpf_rec *r),
		    void *arg)
{
	int fd = bpf_iter_create(bpf_link__fd(b->skel->links.sockiter));
	if (fd < 0)
		return -errno;
	/*
	 * Records are whole in every read of this size, but a part record
	 * left at the end of a read is carried to the next all the same.
	 */
	size_t have = 0;
	int ret = 0;
	for (;;) {
		ssize_t n = read(fd, b->buf + have, READ_CHUNK - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		ret = deliver(b->buf, have, cb, arg);
		if (ret)
			break;
		size_t whole = have - have % sizeof(struct sockiter_rec);
		memmove(b->buf, b->buf + whole, have - whole);
		have -= whole;
	}
	close(fd);
	return ret;
}

void owners_bpf_close(struct owners_bpf *b)
{
	if (!b)
		return;
	sockiter__destroy(b->skel);
	free(b->buf);
	free(b);
}

#else /* !HAVE_BPF */

int owners_bpf_open(struct owners_bpf **out, char *why, size_t whylen)
{
	*out = NULL;
	if (whylen)
		snprintf(why, whylen, "this sockstat was built without BPF support");
	return -ENOTSUP;
}

int owners_bpf_read(struct owners_bpf *b, int (*cb)(void *arg, const struct owners_bpf_rec *r),
		    void *arg)
{
	(void)b;
	(void)cb;
	(void)arg;
	return -ENOTSUP;
}

void owners_bpf_close(struct owners_bpf *b)
{
	(void)b;
}

#endif
