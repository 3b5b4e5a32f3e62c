/* For the Linux and GNU calls test helpers use (unshare, setns, pipe2, ...), beyond POSIX. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>

#include <cmocka.h>

#include "buf.h"
#include "cgroup.h"
#include "escape.h"

#define DATA TEST_DATA "/cgroup"

/* A 64-digit container id and the 12 digits every name shows. */
#define ID "3b2f1d0c9e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c"
#define ID12 "3b2f1d0c9e8a"
#define ID2 "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0"
#define UID "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"
#define UID_ "1b2c3d4e_5f60_4a7b_8c9d_0e1f2a3b4c5d"

struct shape {
	const char *path;
	const char *name; /* NULL: no name */
	enum cgroup_kind kind;
};

static void check_shapes(const struct shape *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char out[CGROUP_NAME_MAX];
		memset(out, 'x', sizeof(out));
		enum cgroup_kind k = cgroup_name(v[i].path, strlen(v[i].path), out);
		if (k != v[i].kind || strcmp(out, v[i].name ? v[i].name : "") != 0)
			fail_msg("%s: got %d '%s', want %d '%s'", v[i].path, k, out, v[i].kind,
				 v[i].name ? v[i].name : "");
	}
}

#define CHECK(v) check_shapes(v, sizeof(v) / sizeof(v[0]))

static void test_docker(void **state)
{
	(void)state;
	static const struct shape v[] = {
		/* cgroupfs driver, v1 and v2 alike. */
		{"/docker/" ID, "docker:" ID12, CGROUP_CONTAINER},
		/* systemd driver. */
		{"/system.slice/docker-" ID ".scope", "docker:" ID12, CGROUP_CONTAINER},
		/* Docker-in-Docker: the outermost is the host's container. */
		{"/docker/" ID "/docker/" ID2, "docker:" ID12, CGROUP_CONTAINER},
		/* A kind node's own systemd. */
		{"/docker/" ID "/init.scope", "docker:" ID12, CGROUP_CONTAINER},
		/* The daemon itself is a unit, not a container. */
		{"/system.slice/docker.service", "docker.service", CGROUP_UNIT},
		/* Not an id: too short, upper case, not hex. */
		{"/docker/3b2f1d0c9e8", NULL, CGROUP_NONE},
		{"/docker/3B2F1D0C9E8A7B6C", NULL, CGROUP_NONE},
		{"/system.slice/docker-zzzzzzzzzzzzzzzz.scope", "docker-zzzzzzzzzzzzzzzz.scope",
		 CGROUP_UNIT},
	};
	CHECK(v);
}

static void test_podman_containerd_crio(void **state)
{
	(void)state;
	static const struct shape v[] = {
		{"/machine.slice/libpod-" ID ".scope", "podman:" ID12, CGROUP_CONTAINER},
		{"/machine.slice/libpod-" ID ".scope/container", "podman:" ID12, CGROUP_CONTAINER},
		/* Rootless podman, under the user's manager. */
		{"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope",
		 "podman:" ID12, CGROUP_CONTAINER},
		/* cgroupfs manager. */
		{"/libpod_parent/libpod-" ID, "podman:" ID12, CGROUP_CONTAINER},
		{"/libpod_parent/libpod-" ID "/ctr", "podman:" ID12, CGROUP_CONTAINER},
		/* conmon lives in the host's namespace; it is only a scope. */
		{"/machine.slice/libpod-conmon-" ID ".scope", "libpod-conmon-" ID ".scope",
		 CGROUP_UNIT},
		{"/system.slice/cri-containerd-" ID ".scope", "containerd:" ID12, CGROUP_CONTAINER},
		{"/system.slice/nerdctl-" ID ".scope", "containerd:" ID12, CGROUP_CONTAINER},
		{"/default/" ID, "containerd:" ID12, CGROUP_CONTAINER},
		{"/k8s.io/" ID, "containerd:" ID12, CGROUP_CONTAINER},
		{"/system.slice/crio-" ID ".scope", "crio:" ID12, CGROUP_CONTAINER},
		{"/system.slice/crio-conmon-" ID ".scope", "crio-conmon-" ID ".scope", CGROUP_UNIT},
	};
	CHECK(v);
}

static void test_kubernetes(void **state)
{
	(void)state;
	static const struct shape v[] = {
		/* cgroupfs driver: BestEffort, Burstable, Guaranteed. */
		{"/kubepods/besteffort/pod" UID "/" ID, "pod:" UID, CGROUP_CONTAINER},
		{"/kubepods/burstable/pod" UID "/" ID, "pod:" UID, CGROUP_CONTAINER},
		{"/kubepods/pod" UID "/" ID, "pod:" UID, CGROUP_CONTAINER},
		{"/kubepods/burstable/pod" UID "/crio-" ID, "pod:" UID, CGROUP_CONTAINER},
		/* systemd driver, containerd, CRI-O and dockershim. */
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
		 ".slice/cri-containerd-" ID ".scope", "pod:" UID, CGROUP_CONTAINER},
		{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
		 ".slice/crio-" ID ".scope", "pod:" UID, CGROUP_CONTAINER},
		{"/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" ID ".scope",
		 "pod:" UID, CGROUP_CONTAINER},
		{"/kubepods.slice/kubepods-pod" UID_ ".slice/docker-" ID ".scope", "pod:" UID,
		 CGROUP_CONTAINER},
		/* The pause container is in the pod too; so is the pod's own slice. */
		{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice",
		 "pod:" UID, CGROUP_CONTAINER},
		/* A kubelet cgroup root, and kind: pods inside a Docker container. */
		{"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
		 "kubelet-kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" ID ".scope",
		 "pod:" UID, CGROUP_CONTAINER},
		{"/docker/" ID2 "/kubepods/besteffort/pod" UID "/" ID, "pod:" UID, CGROUP_CONTAINER},
		/* A static pod's UID is a 32-digit hash. */
		{"/kubepods/burstable/pod0c4b0a1c2d3e4f5061728394a5b6c7d8/" ID,
		 "pod:0c4b0a1c2d3e4f5061728394a5b6c7d8", CGROUP_CONTAINER},
		/* QoS slices without a pod are no pod. */
		{"/kubepods.slice/kubepods-besteffort.slice", NULL, CGROUP_NONE},
		{"/kubepods/burstable", NULL, CGROUP_NONE},
		/* "pod" outside kubepods is nothing special. */
		{"/pod" UID "/x", NULL, CGROUP_NONE},
	};
	CHECK(v);
}

static void test_lxc_nspawn(void **state)
{
	(void)state;
	static const struct shape v[] = {
		{"/lxc/web1", "lxc:web1", CGROUP_CONTAINER},
		{"/lxc/web1/init.scope", "lxc:web1", CGROUP_CONTAINER},
		{"/lxc.payload.web1", "lxc:web1", CGROUP_CONTAINER},
		{"/lxc.payload.web1/system.slice/nginx.service", "lxc:web1", CGROUP_CONTAINER},
		{"/lxc.payload/web1", "lxc:web1", CGROUP_CONTAINER},
		/* The monitor runs on the host. */
		{"/lxc.monitor.web1", NULL, CGROUP_NONE},
		{"/machine.slice/systemd-nspawn@deb1.service", "nspawn:deb1", CGROUP_CONTAINER},
		{"/machine.slice/systemd-nspawn@deb1.service/payload/system.slice/cron.service",
		 "nspawn:deb1", CGROUP_CONTAINER},
		{"/machine.slice/machine-deb1.scope", "nspawn:deb1", CGROUP_CONTAINER},
		{"/machine.slice/machine-deb1.scope/payload", "nspawn:deb1", CGROUP_CONTAINER},
	};
	CHECK(v);
}

static void test_units(void **state)
{
	(void)state;
	static const struct shape v[] = {
		{"/system.slice/nginx.service", "nginx.service", CGROUP_UNIT},
		{"/system.slice/system-getty.slice/getty@tty1.service", "getty@tty1.service",
		 CGROUP_UNIT},
		{"/user.slice/user-1000.slice/session-2.scope", "session-2.scope", CGROUP_UNIT},
		{"/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.service",
		 "dbus.service", CGROUP_UNIT},
		{"/user.slice/user-1000.slice/user@1000.service/init.scope", "init.scope", CGROUP_UNIT},
		{"/user.slice/user-1000.slice/user@1000.service", "user@1000.service", CGROUP_UNIT},
		/* A delegated subtree names its unit. */
		{"/system.slice/foo.service/worker/a", "foo.service", CGROUP_UNIT},
		{"/init.scope", "init.scope", CGROUP_UNIT},
		{"/system.slice/dev-hugepages.mount", "dev-hugepages.mount", CGROUP_UNIT},
		{"/", NULL, CGROUP_NONE},
		{"", NULL, CGROUP_NONE},
		{"/user.slice", NULL, CGROUP_NONE},
		{"/system.slice/.service", NULL, CGROUP_NONE},
		{"//system.slice//nginx.service//", "nginx.service", CGROUP_UNIT},
	};
	CHECK(v);
}

static void test_hostile(void **state)
{
	(void)state;
	char out[CGROUP_NAME_MAX];
	static const struct shape v[] = {
		/* Control bytes are never part of a name. */
		{"/system.slice/ngi\x1b[2Jnx.service", NULL, CGROUP_NONE},
		{"/lxc/we\nb", NULL, CGROUP_NONE},
		{"/lxc.payload.a\tb", NULL, CGROUP_NONE},
		{"/machine.slice/machine-x\x7fy.scope", NULL, CGROUP_NONE},
		/* An escaped name later in the path does not taint a good unit. */
		{"/system.slice/ok.service/bad\x01", "ok.service", CGROUP_UNIT},
		/* A bad pod UID leaves the container nameless. */
		{"/kubepods/besteffort/pod12345678!/" ID, NULL, CGROUP_NONE},
		{"/kubepods/besteffort/pod/" ID, NULL, CGROUP_NONE},
	};
	CHECK(v);

	/* Bytes that are not UTF-8 are kept, and escaped by the caller. */
	const char *p = "/system.slice/\xff\xfe\xc0\x80.service";
	assert_int_equal(cgroup_name(p, strlen(p), out), CGROUP_UNIT);
	assert_string_equal(out, "\xff\xfe\xc0\x80.service");
	struct buf b = BUF_INIT;
	escape_text(&b, out, strlen(out));
	assert_string_equal(b.p, "\\xff\\xfe\\xc0\\x80.service");
	buf_finish(&b);

	/* A NUL inside the path is a byte like any other, not an end. */
	static const char nul[] = "/lxc/a\0b";
	assert_int_equal(cgroup_name(nul, sizeof(nul) - 1, out), CGROUP_NONE);
	assert_int_equal(cgroup_name(nul, 6, out), CGROUP_CONTAINER);
	assert_string_equal(out, "lxc:a");

	/* Overlong: a name that would not fit is refused, never cut. */
	char big[8192];
	memcpy(big, "/system.slice/", 14);
	memset(big + 14, 'a', 300);
	memcpy(big + 314, ".service", 9);
	assert_int_equal(cgroup_name(big, strlen(big), out), CGROUP_NONE);
	memcpy(big, "/lxc/", 5);
	memset(big + 5, 'n', CGROUP_NAME_MAX - 4);
	assert_int_equal(cgroup_name(big, 5 + CGROUP_NAME_MAX - 4, out), CGROUP_NONE);
	/* The longest that fits: prefix, name and NUL in CGROUP_NAME_MAX. */
	assert_int_equal(cgroup_name(big, 5 + CGROUP_NAME_MAX - 5, out), CGROUP_CONTAINER);
	assert_int_equal(strlen(out), CGROUP_NAME_MAX - 1);
	/* Thousands of components, all slashes, all garbage. */
	memset(big, '/', sizeof(big));
	assert_int_equal(cgroup_name(big, sizeof(big), out), CGROUP_NONE);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 37 + 11);
	cgroup_name(big, sizeof(big), out);
	assert_true(strlen(out) < CGROUP_NAME_MAX);
}

static void test_pick(void **state)
{
	(void)state;
	char out[CGROUP_NAME_MAX];
	const char *v2, *sd;
	size_t v2n, sdn;

	const char *hybrid = "12:pids:/docker/" ID "\n1:name=systemd:/docker/" ID
			     "\n0::/system.slice/containerd.service\n";
	cgroup_pick(hybrid, strlen(hybrid), &v2, &v2n, &sd, &sdn);
	assert_int_equal(v2n, strlen("/system.slice/containerd.service"));
	assert_memory_equal(v2, "/system.slice/containerd.service", v2n);
	assert_int_equal(sdn, strlen("/docker/" ID));
	assert_memory_equal(sd, "/docker/" ID, sdn);
	/* The engine's cgroupfs driver left the v2 line at its service. */
	assert_int_equal(cgroup_name_file(hybrid, strlen(hybrid), out), CGROUP_CONTAINER);
	assert_string_equal(out, "docker:" ID12);

	const char *pure = "0::/system.slice/nginx.service\n";
	assert_int_equal(cgroup_name_file(pure, strlen(pure), out), CGROUP_UNIT);
	assert_string_equal(out, "nginx.service");
	/* No trailing newline, and a container on the v2 line. */
	const char *last = "0::/system.slice/docker-" ID ".scope";
	assert_int_equal(cgroup_name_file(last, strlen(last), out), CGROUP_CONTAINER);
	assert_string_equal(out, "docker:" ID12);
	/* The v2 line at the root: the name=systemd line names the unit. */
	const char *root = "9:name=systemd:/system.slice/sshd.service\n1:cpu:/\n0::/\n";
	assert_int_equal(cgroup_name_file(root, strlen(root), out), CGROUP_UNIT);
	assert_string_equal(out, "sshd.service");
	/* Two units: the v2 line's wins. */
	const char *two = "1:name=systemd:/system.slice/a.service\n0::/system.slice/b.service\n";
	assert_int_equal(cgroup_name_file(two, strlen(two), out), CGROUP_UNIT);
	assert_string_equal(out, "b.service");
	/* A removed cgroup, a colon in a path, name=systemd among others. */
	const char *del = "0::/system.slice/gone.service (deleted)\n";
	assert_int_equal(cgroup_name_file(del, strlen(del), out), CGROUP_UNIT);
	assert_string_equal(out, "gone.service");
	const char *colon = "3:cpu,name=systemd:/a:b/lxc.payload.c1\n";
	assert_int_equal(cgroup_name_file(colon, strlen(colon), out), CGROUP_CONTAINER);
	assert_string_equal(out, "lxc:c1");
	/* Only the first of each kind of line counts. */
	const char *dup = "0::/x.service\n0::/docker/" ID "\n";
	assert_int_equal(cgroup_name_file(dup, strlen(dup), out), CGROUP_UNIT);
	assert_string_equal(out, "x.service");
	/* Neither line, or garbage: nothing. */
	const char *v1 = "4:memory:/docker/" ID "\n2:cpu:/docker/" ID "\n";
	assert_int_equal(cgroup_name_file(v1, strlen(v1), out), CGROUP_NONE);
	assert_string_equal(out, "");
	const char *junk = "garbage\n:\n::\n1::x\n0:cpu:/docker/" ID "\n\n";
	assert_int_equal(cgroup_name_file(junk, strlen(junk), out), CGROUP_NONE);
	cgroup_pick("", 0, &v2, &v2n, &sd, &sdn);
	assert_null(v2);
	assert_null(sd);
	assert_int_equal(v2n + sdn, 0);
	/* name=systemdX is not name=systemd. */
	const char *near = "1:name=systemdX:/a.service\n";
	cgroup_pick(near, strlen(near), &v2, &v2n, &sd, &sdn);
	assert_null(sd);
}

static void test_name_pid(void **state)
{
	(void)state;
	char out[CGROUP_NAME_MAX];
	assert_int_equal(cgroup_name_pid(DATA "/proc", 100, out), CGROUP_CONTAINER);
	assert_string_equal(out, "docker:" ID12);
	assert_int_equal(cgroup_name_pid(DATA "/proc", 200, out), CGROUP_CONTAINER);
	assert_string_equal(out, "pod:" UID);
	assert_int_equal(cgroup_name_pid(DATA "/proc", 300, out), CGROUP_UNIT);
	assert_string_equal(out, "sshd.service");
	assert_int_equal(cgroup_name_pid(DATA "/proc", 400, out), -ENOENT);
	assert_string_equal(out, "");
	/* The live file reads, whatever it names. */
	assert_true(cgroup_name_pid("/proc", getpid(), out) >= 0);
}

static void test_mountinfo(void **state)
{
	(void)state;
	char out[PATH_MAX];
	assert_int_equal(cgroup_mount_find(DATA "/mountinfo-hybrid", out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
	assert_int_equal(cgroup_mount_find(DATA "/mountinfo-v2", out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup");
	/* cgroup v1 only; a v1 hierarchy whose source or name says cgroup2. */
	assert_int_equal(cgroup_mount_find(DATA "/mountinfo-none", out, sizeof(out)), -ENOENT);
	assert_int_equal(cgroup_mount_find(DATA "/mountinfo-escaped", out, sizeof(out)), 0);
	assert_string_equal(out, "/mnt/my cgroup\ttree\\x");
	/* A mount of the whole tree beats a container's view of a subtree. */
	assert_int_equal(cgroup_mount_find(DATA "/mountinfo-subtree", out, sizeof(out)), 0);
	assert_string_equal(out, "/host/cgroup");
	assert_int_equal(cgroup_mount_find(DATA "/mountinfo-onlysub", out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup");
	assert_int_equal(cgroup_mount_find(DATA "/nosuchfile", out, sizeof(out)), -ENOENT);

	/* Too small a buffer is an error, never a cut path. */
	char small[14];
	assert_int_equal(cgroup_mount_find(DATA "/mountinfo-v2", small, sizeof(small)),
			 -ENAMETOOLONG);
	char fits[15];
	assert_int_equal(cgroup_mount_find(DATA "/mountinfo-v2", fits, sizeof(fits)), 0);
	assert_string_equal(fits, "/sys/fs/cgroup");

	/* Truncated lines and a dangling escape. */
	const char *cut = "41 31 0:38 / /a\\04 rw - cgroup2\n41 31 0:38 /\n - cgroup2 x\n";
	assert_int_equal(cgroup_mount_parse(cut, strlen(cut), out, sizeof(out)), 0);
	assert_string_equal(out, "/a\\04");
	const char *nodash = "41 31 0:38 / /b rw cgroup2 cgroup2 rw\n";
	assert_int_equal(cgroup_mount_parse(nodash, strlen(nodash), out, sizeof(out)), -ENOENT);
	assert_int_equal(cgroup_mount_parse("", 0, out, sizeof(out)), -ENOENT);

	/* This machine's own, wherever it is. */
	int r = cgroup_mount_find("/proc/self/mountinfo", out, sizeof(out));
	assert_true(r == 0 || r == -ENOENT);
}

/* A plain directory tree walks as a cgroup tree does. */
static void test_map_tree(void **state)
{
	(void)state;
	char dir[] = "/tmp/cgmapXXXXXX";
	assert_non_null(mkdtemp(dir));
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/a", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/a/b c", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	uint64_t bc = st.st_ino;
	snprintf(p, sizeof(p), "%s/file", dir);
	int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	uint64_t file = st.st_ino;
	snprintf(p, sizeof(p), "%s/link", dir);
	assert_int_equal(symlink("/", p), 0);
	assert_int_equal(stat(dir, &st), 0);
	uint64_t root = st.st_ino;

	struct cgroup_map m;
	assert_int_equal(cgroup_map_init(&m, dir), 0);
	const char *path;
	assert_int_equal(cgroup_map_lookup(&m, bc, &path), 0);
	assert_string_equal(path, "/a/b c");
	assert_int_equal(cgroup_map_lookup(&m, root, &path), 0);
	assert_string_equal(path, "/");
	/* And back: a path to its id. */
	uint64_t id;
	assert_int_equal(cgroup_path_id(dir, "/a/b c", &id), 0);
	assert_int_equal(id, bc);
	assert_int_equal(cgroup_path_id(dir, "/", &id), 0);
	assert_int_equal(id, root);
	assert_int_equal(cgroup_path_id(dir, "/file", &id), -ENOTDIR);
	assert_int_equal(cgroup_path_id(dir, "/link", &id), -ENOTDIR);
	assert_int_equal(cgroup_path_id(dir, "/nope", &id), -ENOENT);

	/* A directory made after the walk is found by the one rewalk. */
	snprintf(p, sizeof(p), "%s/late", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(stat(p, &st), 0);
	uint64_t late = st.st_ino;
	assert_int_equal(cgroup_map_lookup(&m, late, &path), 0);
	assert_string_equal(path, "/late");
	/* Files and links are no cgroups. */
	assert_int_equal(cgroup_map_lookup(&m, file, &path), -ENOENT);
	assert_null(path);
	/* After that, misses are misses until a reset. */
	snprintf(p, sizeof(p), "%s/later", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(stat(p, &st), 0);
	uint64_t later = st.st_ino;
	assert_int_equal(cgroup_map_lookup(&m, later, &path), -ENOENT);
	cgroup_map_reset(&m);
	assert_int_equal(cgroup_map_lookup(&m, later, &path), 0);
	assert_string_equal(path, "/later");

	/* The walk is bounded. */
	cgroup_map_reset(&m);
	m.limit = 2;
	assert_int_equal(cgroup_map_lookup(&m, root, &path), 0);
	assert_true(m.ids.len <= 2);
	cgroup_map_finish(&m);
	cgroup_map_finish(&m);
	cgroup_map_finish(NULL);

	/* A mount that is not there. */
	assert_int_equal(cgroup_map_init(&m, "/nonexistent/cgroup"), 0);
	assert_int_equal(cgroup_map_lookup(&m, 1, &path), -ENOENT);
	cgroup_map_finish(&m);

	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
}


/*
 * The cgroup id the kernel reports (INET_DIAG_CGROUP_ID) for the TCP
 * listener whose inode is ino, from a sock_diag dump; 0 when not found.
 */
static uint64_t diag_cgroup_id(uint64_t ino)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return 0;
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req = {
		.h = {.nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1},
		.r = {.sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_TCP,
		      .idiag_states = 1u << 10 /* LISTEN */},
	};
	uint64_t id = 0;
	static char buf[1 << 16] __attribute__((aligned(8)));
	bool done = send(fd, &req, sizeof(req), 0) != (ssize_t)sizeof(req);
	for (int rounds = 0; !done && rounds < 10000; rounds++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			struct inet_diag_msg *m = NLMSG_DATA(h);
			if (m->idiag_inode != ino)
				continue;
			int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
			for (struct rtattr *a = (void *)(m + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
				if (a->rta_type == INET_DIAG_CGROUP_ID &&
				    RTA_PAYLOAD(a) >= sizeof(uint64_t))
					memcpy(&id, RTA_DATA(a), sizeof(id));
			}
		}
	}
	close(fd);
	return id;
}

/*
 * A child that joins the cgroup at dir, then listens on TCP (a socket
 * takes its creator's cgroup) and reports the socket's inode; it waits
 * to be killed.
 */
static pid_t listener_in(const char *dir, uint64_t *ino)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char procs[PATH_MAX * 2];
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
		int c = open(procs, O_WRONLY | O_CLOEXEC);
		uint64_t got = 0;
		if (c >= 0 && write(c, "0", 1) == 1) {
			int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			struct sockaddr_in a = {.sin_family = AF_INET,
						.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
			struct stat st;
			if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
			    listen(s, 1) == 0 && fstat(s, &st) == 0)
				got = st.st_ino;
		}
		if (write(p[1], &got, sizeof(got)) != sizeof(got))
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	*ino = 0;
	if (pid > 0 && read(p[0], ino, sizeof(*ino)) != sizeof(*ino))
		*ino = 0;
	close(p[0]);
	return pid;
}

/*
 * The real cgroup2 tree, found from mountinfo: a cgroup made for the test
 * maps from its id (its inode, the kernel's file handle of it, and the
 * INET_DIAG_CGROUP_ID of a socket made in it) to its path, and is removed
 * afterwards.
 */
static void test_map_live(void **state)
{
	(void)state;
	char mount[PATH_MAX];
	if (geteuid() != 0 || cgroup_mount_find("/proc/self/mountinfo", mount, sizeof(mount)) != 0) {
		print_message("skipped: needs root and a cgroup2 mount\n");
		skip();
	}
	char top[PATH_MAX + 32], sub[PATH_MAX + 64];
	snprintf(top, sizeof(top), "%s/sockstat-test-%d", mount, (int)getpid());
	snprintf(sub, sizeof(sub), "%s/pod x", top);
	assert_int_equal(mkdir(top, 0755), 0);
	int r = mkdir(sub, 0755);
	struct stat st;
	int sr = stat(sub, &st);

	/* The id the kernel reports is in the file handle of a cgroup2 directory. */
	struct {
		struct file_handle fh;
		unsigned char bytes[64];
	} h;
	h.fh.handle_bytes = sizeof(h.bytes);
	int mnt_id;
	int hr = name_to_handle_at(AT_FDCWD, sub, &h.fh, &mnt_id, 0);
	uint64_t handle_id = 0;
	if (hr == 0 && h.fh.handle_bytes == 8)
		memcpy(&handle_id, h.fh.f_handle, 8);

	struct cgroup_map m;
	const char *path = NULL;
	int lr = -1;
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "/sockstat-test-%d/pod x", (int)getpid());
	if (r == 0 && sr == 0 && cgroup_map_init(&m, mount) == 0) {
		lr = cgroup_map_lookup(&m, st.st_ino, &path);
		if (lr == 0)
			lr = strcmp(path, want) == 0 ? 0 : 1;
		uint64_t id = 0;
		if (lr == 0)
			lr = cgroup_path_id(mount, want, &id) == 0 && id == st.st_ino ? 0 : 2;
		cgroup_map_finish(&m);
	}
	/* What the kernel says of a socket made in that cgroup. */
	uint64_t sock_ino = 0, kernel_id = 0;
	pid_t child = r == 0 ? listener_in(sub, &sock_ino) : -1;
	if (child > 0) {
		if (sock_ino)
			kernel_id = diag_cgroup_id(sock_ino);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	rmdir(sub);
	rmdir(top);
	assert_true(child > 0);
	assert_true(sock_ino != 0);
	assert_int_equal(kernel_id, st.st_ino);
	assert_int_equal(r, 0);
	assert_int_equal(sr, 0);
	assert_int_equal(lr, 0);
	if (hr == 0 && h.fh.handle_bytes == 8)
		assert_int_equal(handle_id, st.st_ino);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docker),
		cmocka_unit_test(test_podman_containerd_crio),
		cmocka_unit_test(test_kubernetes),
		cmocka_unit_test(test_lxc_nspawn),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_name_pid),
		cmocka_unit_test(test_mountinfo),
		cmocka_unit_test(test_map_tree),
		cmocka_unit_test(test_map_live),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
