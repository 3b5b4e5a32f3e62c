#!/usr/bin/env python3
"""Every network namespace at once: --all-netns, --netns, -s per
namespace, --cgroup and the cgroup predicate, and the path without root.

Namespaces are made here and held by helper processes: two named ones
(ip netns add, removed after), and unnamed ones whose helpers sit in
cgroup directories shaped like a Docker container and a Kubernetes pod,
made under the real cgroup2 mount (from /proc/self/mountinfo) and removed
after. The oracle is ss run inside each namespace (nsenter). The machine
has other namespaces too, which come and go: every check looks only at
the namespaces made here, by inode.
"""
import ctypes
import os
import secrets
import socket
import subprocess

import netns

PR_SET_DUMPABLE = 4
NOBODY = 65534
PORT = 8080
TAG = "sstest-allns-%d" % os.getpid()


def cgroup2_mount():
    """The mount point of the cgroup2 tree, as sockstat finds it."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[0] == "cgroup2":
                return left.split()[4]
    return None


def ns_inode(pid):
    return os.stat("/proc/%d/ns/net" % pid).st_ino


class World:
    """The namespaces, their helpers and their cgroups; cleaned up once."""

    def __init__(self):
        self.pop = netns.Population()
        self.names = []      # ip netns names made here
        self.cgroups = []    # cgroup directories made here, deepest first
        self.ns = {}         # key -> {"pid", "ino", "label", "cgroup"}
        self.mount = cgroup2_mount()

    def cleanup(self):
        self.pop.cleanup()
        for n in self.names:
            subprocess.run(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)
        for d in self.cgroups:
            try:
                os.rmdir(d)
            except OSError:
                pass

    def make_cgroup(self, rel):
        """Makes the cgroup rel (a path under the mount) and its parents."""
        path = self.mount
        made = []
        for part in rel.strip("/").split("/"):
            path = os.path.join(path, part)
            if not os.path.isdir(path):
                os.mkdir(path)
                made.append(path)
        self.cgroups = list(reversed(made)) + self.cgroups
        return rel

    def spawn(self, key, label, name=None, cgroup=None, nobody=False, conns=2):
        """A helper in a namespace of its own (or the named one), holding
        a listener on PORT, conns connections to it and a UDP socket."""
        keep = []

        def setup():
            if cgroup:
                with open(os.path.join(self.mount, cgroup.strip("/"), "cgroup.procs"), "w") as f:
                    f.write("%d\n" % os.getpid())
            if name:
                fd = os.open("/run/netns/" + name, os.O_RDONLY)
                netns.setns(fd)
                os.close(fd)
            else:
                netns.unshare_net()
            netns.lo_up()
            lst = socket.socket()
            lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            lst.bind(("127.0.0.1", PORT))
            lst.listen(16)
            keep.append(lst)
            for _ in range(conns):
                keep.extend(netns.tcp_pair(lst, socket.AF_INET, ("127.0.0.1", PORT)))
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind(("127.0.0.1", 5353))
            keep.append(u)
            if nobody:
                os.setresgid(NOBODY, NOBODY, NOBODY)
                os.setresuid(NOBODY, NOBODY, NOBODY)
                # A changed uid clears the flag that lets its owner read /proc/PID/ns.
                ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)

        h = self.pop.spawn("ns-" + key, [], setup=setup)
        self.ns[key] = {"pid": h.pid, "ino": ns_inode(h.pid), "label": label,
                        "cgroup": cgroup, "name": name}
        return self.ns[key]


def ss_in(pid, args):
    """The fields of ss -Hn ARGS inside the namespace of pid (an int), or
    of the ip netns name pid (a str)."""
    # nsenter, not ip netns exec: that also mounts a /sys of its own, which
    # a chroot whose root is no mount point cannot do.
    enter = (["nsenter", "--net=/run/netns/" + pid] if isinstance(pid, str)
             else ["nsenter", "-t", str(pid), "-n"])
    r = netns.run(enter + ["ss", "-Hn"] + args)
    if r.rc != 0:
        raise RuntimeError("ss failed: %r" % r)
    rows = []
    for line in r.text.split("\n"):
        f = line.split()
        if f:
            rows.append(f)
    return rows


def ss_keys(pid, proto_flag):
    proto = {"-t": "tcp", "-u": "udp"}[proto_flag]
    out = []
    for f in ss_in(pid, [proto_flag + "a"]):
        out.append((proto, netns.SS_STATES.get(f[0], f[0]), f[3], f[4]))
    return sorted(out)


def json_key(o):
    def ep(e):
        a = e["address"]
        a = "[%s]" % a if ":" in a else a
        return "%s:%s" % (a, e["port"] or "*")
    return (o["proto"], o["state"] if o["state"] != "UNCONN" else "UNCONN",
            ep(o["local"]), ep(o["peer"]))


def by_ns(objs, ino):
    return [o for o in objs if o["netns"]["inode"] == ino]


def ss_state(st):
    return "UNCONN" if st == "UNCONN" else st


def check_every_socket(ck, w, own_ino):
    ck.begin("every socket of every namespace exactly once")
    r = netns.sockstat("--all-netns", "-tuan", "-j")
    ck.eq(r.rc, 0, "exit status", err=r.errtext)
    objs = netns.parse_json(r.out)
    ck.ok(objs and objs[0]["netns"] == {"inode": own_ino, "name": "host"},
          "the caller's own namespace comes first, as host", got=objs[:1])
    # Each namespace is listed once: its rows are one run, under one name.
    runs, names = [], {}
    for o in objs:
        n = o["netns"]
        if not runs or runs[-1] != n["inode"]:
            runs.append(n["inode"])
        names.setdefault(n["inode"], set()).add(n["name"])
    ck.eq(len(runs), len(set(runs)), "each namespace's rows come together, once")
    ck.ok(all(len(v) == 1 for v in names.values()), "one name per namespace", got=names)
    for key, ns in w.ns.items():
        got = sorted(json_key(o) for o in by_ns(objs, ns["ino"]))
        want = sorted(ss_keys(ns["pid"], "-t") + ss_keys(ns["pid"], "-u"))
        ck.eq(got, want, "namespace %s: the rows ss sees inside it" % key)
        ck.eq(names.get(ns["ino"]), {ns["label"]}, "namespace %s: its name" % key)

    r = netns.sockstat("--all-netns", "-tan")
    head = r.text.split("\n", 1)[0]
    ck.ok(head.startswith("Netns "), "the table's first column is Netns", got=head)
    r = netns.sockstat("-tan")
    ck.ok(not r.text.startswith("Netns"), "no Netns column without --all-netns",
          got=r.text[:80])
    r = netns.sockstat("-tanj")
    ck.ok(all("netns" not in o for o in netns.parse_json(r.out)),
          "no netns key without --all-netns")


def check_owners_across(ck, w, fd_ino, a_ino):
    ck.begin("owners across namespaces")
    r = netns.sockstat("--all-netns", "-tan", "-j")
    rows = [o for o in netns.parse_json(r.out) if o["inode"] == fd_ino]
    ck.eq(len(rows), 1, "the passed socket is listed once", rows=rows)
    if rows:
        ck.eq(rows[0]["netns"]["inode"], a_ino, "in the namespace it was made in")
        ck.ok(os.getpid() in [p["pid"] for p in rows[0]["processes"]],
              "held by the process it was passed to, in another namespace", got=rows[0])


def names_of(args):
    r = netns.sockstat("-tan", "-j", *args)
    return r, {o["netns"]["name"] for o in netns.parse_json(r.out)}


def check_netns_patterns(ck, w):
    ck.begin("--netns globs and inodes")
    a, b = w.ns["a"], w.ns["b"]
    r, got = names_of(["--netns", TAG + "-*"])
    ck.eq(got, {a["label"], b["label"], w.ns["c"]["label"]}, "a glob on ip netns names",
          err=r.errtext)
    r, got = names_of(["--netns", TAG + "-[ab]"])
    ck.eq(got, {a["label"], b["label"]}, "a bracket glob")
    r, got = names_of(["--netns", "docker:*"])
    ck.ok(w.ns["docker"]["label"] in got and all(n.startswith("docker:") for n in got),
          "docker:* keeps the Docker namespaces", got=got)
    r, got = names_of(["--netns", str(w.ns["pod"]["ino"])])
    ck.eq(got, {w.ns["pod"]["label"]}, "an inode")
    r, got = names_of(["--netns", a["label"], "--netns", w.ns["pod"]["label"]])
    ck.eq(got, {a["label"], w.ns["pod"]["label"]}, "repeats are or-ed")
    r = netns.sockstat("--netns", "nosuch-" + TAG, "-tan")
    ck.eq((r.rc, r.text.count("\n")), (0, 1), "no match: the header alone, exit 0",
          out=r.text, err=r.errtext)
    r = netns.sockstat("--netns", "nosuch-" + TAG, "-s", "-j")
    ck.eq((r.rc, r.text), (0, "{}\n"), "no match: an empty summary", err=r.errtext)
    r = netns.sockstat("--netns", a["label"], "-N", a["label"], "-tan")
    ck.eq(r.rc, 2, "-N with --netns is a usage error", err=r.errtext)


def check_summary(ck, w):
    ck.begin("-s per namespace")
    a, d = w.ns["a"], w.ns["docker"]
    r = netns.sockstat("--netns", a["label"], "--netns", d["label"], "-s", "-t", "-j")
    ck.eq(r.rc, 0, "exit status", err=r.errtext)
    got = netns.parse_json(r.out)
    ck.eq(set(got), {a["label"], d["label"]}, "one summary per namespace")
    for ns in (a, d):
        want = len(ss_keys(ns["pid"], "-t"))
        ck.eq(got.get(ns["label"], {}).get("tcp", {}).get("total"), want,
              "%s: the tcp total ss counts" % ns["label"])
    r = netns.sockstat("--netns", a["label"], "--netns", d["label"], "--count-by", "netns",
                       "-ta", "-H")
    got = dict(l.split() for l in r.text.split("\n") if l)
    ck.eq(got, {ns["label"]: str(len(ss_keys(ns["pid"], "-t"))) for ns in (a, d)},
          "--count-by netns: the tcp sockets ss counts in each", err=r.errtext)
    r = netns.sockstat("--netns", a["label"], "--format", "prometheus", "-ta")
    ck.ok('netns="%s"' % a["label"] in r.text and "netns=" in r.text,
          "the metrics carry the netns label", got=r.text[:500])
    r = netns.sockstat("--netns", a["label"], "-s", "-t")
    lines = r.text.split("\n")
    ck.ok(lines[0].startswith("Netns ") and lines[1].startswith(a["label"] + " "),
          "the table has a Netns column", got=r.text)


def ss_cgroups(pid):
    """(local, peer) -> cgroup path of ss -tan --cgroup inside pid's namespace."""
    out = {}
    for f in ss_in(pid, ["-ta", "--cgroup"]):
        cg = [x[len("cgroup:"):] for x in f if x.startswith("cgroup:")]
        out[(f[3], f[4])] = cg[0] if cg else None
    return out


def check_cgroup(ck, w):
    ck.begin("--cgroup and the cgroup predicate")
    d = w.ns["docker"]
    r = netns.sockstat("--netns", d["label"], "-tan", "--cgroup", "-j")
    objs = netns.parse_json(r.out)
    want = ss_cgroups(d["pid"])
    got = {json_key(o)[2:]: o.get("cgroup") for o in objs}
    ck.eq(got, want, "the cgroup of every socket, as ss --cgroup shows it")
    ck.ok(objs and all(o.get("cgroup") == d["cgroup"] for o in objs),
          "the helper's cgroup", want=d["cgroup"], got=objs)
    r = netns.sockstat("--netns", d["label"], "-tan", "--cgroup")
    ck.ok(r.text.split("\n", 1)[0].split()[:2] == ["Netns", "Proto"] and
          "Cgroup" in r.text.split("\n", 1)[0] and d["cgroup"] in r.text,
          "the Cgroup column", got=r.text)

    # The predicate, literal (the kernel's bytecode) and as a glob (user space).
    n_ss = len(ss_in(d["pid"], ["-ta", "cgroup", d["cgroup"]]))
    for pat in (d["cgroup"], "/" + TAG + "/*/docker-*", d["cgroup"][:-3] + "*"):
        r = netns.sockstat("--all-netns", "-tan", "-j", "cgroup", pat)
        objs = netns.parse_json(r.out)
        ck.eq(len(objs), n_ss, "cgroup %s: as many as ss cgroup PATH" % pat, err=r.errtext)
        ck.ok(all(o["netns"]["inode"] == d["ino"] for o in objs),
              "cgroup %s: only the container's sockets" % pat)
    r = netns.sockstat("--all-netns", "-tan", "-j", "not", "cgroup", d["cgroup"])
    ck.ok(all(o["netns"]["inode"] != d["ino"] for o in netns.parse_json(r.out)),
          "not cgroup PATH leaves the container out")
    r = netns.sockstat("-tan", "cgroup")
    ck.eq(r.rc, 2, "cgroup without a path is a usage error", err=r.errtext)


def check_nobody(ck, w):
    if not netns.nobody_can_run():
        print("skipped the unprivileged checks: nobody cannot run sockstat here")
        return
    ck.begin("without root: /proc/PID/net of a member")
    n = w.ns["nobody"]
    r = netns.run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                   "--clear-groups", netns.SOCKSTAT, "--all-netns", "-tan", "-j"])
    ck.eq(r.rc, 0, "exit status", err=r.errtext)
    got = sorted(json_key(o) for o in by_ns(netns.parse_json(r.out), n["ino"]))
    ck.eq(got, ss_keys(n["pid"], "-t"), "the namespace's sockets, read through /proc")
    ck.eq(r.errtext.count("could not be entered"), 1, "said once on stderr", err=r.errtext)
    r = netns.sockstat("--all-netns", "-tan")
    ck.eq(r.errtext.count("could not be entered"), 0, "root says nothing",
          err=r.errtext)


def check_bogus_file(ck):
    ck.begin("a /run/netns file that is no namespace")
    path = "/run/netns/%s-bogus" % TAG
    with open(path, "w") as f:
        f.write("not a namespace\n")
    try:
        r = netns.sockstat("--all-netns", "-tan", "-H")
    finally:
        os.unlink(path)
    ck.eq(r.rc, 0, "exit status", err=r.errtext)
    lines = [l for l in r.errtext.split("\n") if TAG + "-bogus" in l]
    ck.eq(len(lines), 1, "one warning naming it", err=r.errtext)


def pass_socket(a_name):
    """A TCP listener made in the named namespace by a child and passed to
    this process over SCM_RIGHTS; returns it. The namespace is then held
    by its name and this socket alone, with no process in it."""
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    pid = os.fork()
    if pid == 0:
        try:
            fd = os.open("/run/netns/" + a_name, os.O_RDONLY)
            netns.setns(fd)
            s = socket.socket()
            s.bind(("127.0.0.1", 9999))
            s.listen(1)
            socket.send_fds(right, [b"x"], [s.fileno()])
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    _, fds, _, _ = socket.recv_fds(left, 1, 1)
    left.close()
    right.close()
    return socket.socket(fileno=fds[0])


def main(ck):
    w = World()
    try:
        if not w.mount:
            ck.ok(False, "a cgroup2 mount in /proc/self/mountinfo")
            return
        for k in ("a", "b", "c"):
            n = "%s-%s" % (TAG, k)
            subprocess.run(["ip", "netns", "add", n], check=True)
            w.names.append(n)
            if k != "c":
                w.spawn(k, n, name=n)
        # c has no process: its sockets are held from this namespace.
        c = w.names[2]
        subprocess.run(["nsenter", "--net=/run/netns/" + c, "ip", "link", "set", "lo", "up"],
                       check=True)
        w.ns["c"] = {"pid": c, "ino": os.stat("/run/netns/" + c).st_ino, "label": c,
                     "cgroup": None, "name": c}
        dock = secrets.token_hex(32)
        w.spawn("docker", "docker:" + dock[:12],
                cgroup=w.make_cgroup("/%s/system.slice/docker-%s.scope" % (TAG, dock)))
        uid = "%s-%s-%s-%s-%s" % tuple(secrets.token_hex(n) for n in (4, 2, 2, 2, 6))
        w.spawn("pod", "pod:" + uid,
                cgroup=w.make_cgroup("/%s/kubepods/besteffort/pod%s/%s"
                                     % (TAG, uid, secrets.token_hex(32))))
        # Helpers of a cgroup no container or unit is named after.
        plain_cg = w.make_cgroup("/%s/plain" % TAG)
        w.spawn("plain", None, cgroup=plain_cg)
        w.ns["plain"]["label"] = "netns:[%d]" % w.ns["plain"]["ino"]
        w.spawn("nobody", None, cgroup=plain_cg, nobody=True, conns=1)
        w.ns["nobody"]["label"] = "netns:[%d]" % w.ns["nobody"]["ino"]
        # The caller's namespace has a socket too, so it is listed.
        own = socket.socket()
        own.bind(("127.0.0.1", 7777))
        own.listen(1)
        passed = pass_socket(c)

        check_every_socket(ck, w, ns_inode(os.getpid()))
        check_owners_across(ck, w, netns.inode_of(passed), w.ns["c"]["ino"])
        check_netns_patterns(ck, w)
        check_summary(ck, w)
        check_cgroup(ck, w)
        check_nobody(ck, w)
        check_bogus_file(ck)
        passed.close()
        own.close()
    finally:
        w.cleanup()


if __name__ == "__main__":
    netns.run_isolated(main)
