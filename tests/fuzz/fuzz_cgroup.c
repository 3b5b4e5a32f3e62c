/* For the Linux and GNU calls test helpers use (unshare, setns, pipe2, ...), beyond POSIX. */
#define _GNU_SOURCE
/*
 * The cgroup parsers. Byte 0 picks the entry point: 0, cgroup_name over
 * one path; 1, cgroup_name_file over a /proc/PID/cgroup text; 2,
 * cgroup_mount_parse over a mountinfo text, into a large and a small
 * buffer. The rest is the input, not NUL-terminated.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "fuzz.h"

int fuzz_init(void)
{
	return 0;
}

static bool is_hex12(const char *s)
{
	for (int i = 0; i < 12; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return s[12] == '\0';
}

/*
 * A name is "" for CGROUP_NONE; else a known prefix and bytes copied from
 * the input (a pod's underscores may have become dashes), never a
 * control byte, never longer than CGROUP_NAME_MAX.
 */
static void check_name(enum cgroup_kind k, const char *out, const char *in, size_t len)
{
	static const char *const ids[] = {"docker:", "podman:", "containerd:", "crio:"};
	static const char *const names[] = {"pod:", "lxc:", "nspawn:"};

	size_t n = strnlen(out, CGROUP_NAME_MAX);
	if (n == CGROUP_NAME_MAX)
		fuzz_fail("name not terminated within CGROUP_NAME_MAX");
	if ((k == CGROUP_NONE) != (n == 0))
		fuzz_fail("an empty name for a kind, or a name for none");
	if (k != CGROUP_NONE && k != CGROUP_UNIT && k != CGROUP_CONTAINER)
		fuzz_fail("unknown kind");
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			fuzz_fail("a control byte in a name");
	}
	if (k == CGROUP_NONE)
		return;

	const char *rest = out;
	bool pod = false;
	if (k == CGROUP_CONTAINER) {
		bool known = false;
		for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
			size_t l = strlen(ids[i]);
			if (strncmp(out, ids[i], l) == 0) {
				if (!is_hex12(out + l))
					fuzz_fail("a container id that is not 12 hex digits");
				rest = out + l;
				known = true;
			}
		}
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			size_t l = strlen(names[i]);
			if (strncmp(out, names[i], l) == 0) {
				rest = out + l;
				known = true;
				pod = i == 0;
			}
		}
		if (!known)
			fuzz_fail("a container name without a known prefix");
		if (!*rest)
			fuzz_fail("a prefix without a name");
	}

	char *copy = malloc(len ? len : 1);
	if (!copy)
		return;
	for (size_t i = 0; i < len; i++)
		copy[i] = pod && in[i] == '_' ? '-' : in[i];
	bool found = memmem(copy, len, rest, strlen(rest)) != NULL;
	free(copy);
	if (!found)
		fuzz_fail("a name holding bytes that are not the input's");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned which = data[0] % 3;
	const char *in = (const char *)data + 1;
	size_t len = size - 1;
	char out[CGROUP_NAME_MAX];
	memset(out, 'x', sizeof(out));

	if (which == 0) {
		check_name(cgroup_name(in, len, out), out, in, len);
	} else if (which == 1) {
		check_name(cgroup_name_file(in, len, out), out, in, len);
		const char *v2, *sd;
		size_t v2n, sdn;
		cgroup_pick(in, len, &v2, &v2n, &sd, &sdn);
		if ((v2 && (v2 < in || v2n > len || (size_t)(v2 - in) > len - v2n)) ||
		    (sd && (sd < in || sdn > len || (size_t)(sd - in) > len - sdn)))
			fuzz_fail("a picked path outside the text");
		if (v2 && memchr(v2, '\n', v2n))
			fuzz_fail("a picked path spanning lines");
	} else {
		static char big[PATH_MAX];
		char small[16];
		int r = cgroup_mount_parse(in, len, big, sizeof(big));
		if (r != 0 && r != -ENOENT && r != -ENAMETOOLONG)
			fuzz_fail("mount_parse returned an unknown error");
		if (r == 0 && strnlen(big, sizeof(big)) >= len + 1)
			fuzz_fail("a mount point longer than the input");
		int s = cgroup_mount_parse(in, len, small, sizeof(small));
		if (s == 0 && (r != 0 || strcmp(small, big) != 0))
			fuzz_fail("a small buffer gave another mount point");
		if (s == 0 && strnlen(small, sizeof(small)) >= sizeof(small))
			fuzz_fail("mount point not terminated");
	}
	return 0;
}
