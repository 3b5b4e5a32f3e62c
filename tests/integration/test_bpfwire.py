#!/usr/bin/env python3
"""Owners through BPF give the rows the /proc scan gives.

On the core population, plus a process holding one socket on two fds, a
socket held by three processes, a thread with a file table of its own
(unshare(CLONE_FILES)), a process whose main thread has exited while two
threads share its table, and inside a child PID namespace, the real
binary's JSON (-j, the scan before the rows) and table (the scan on a
thread beside the dump) are the same with --owners=bpf and
--owners=proc, but for the one documented difference: the socket that
only the thread's own table holds has that process as its holder under
BPF, and none under /proc.

As nobody, --owners=bpf exits 1 with one line and --owners=auto works
with nothing on stderr and never calls bpf(); --owners=proc never calls
bpf() either, and --owners=bpf pins nothing (strace). A build without BPF
says so in that one line and the comparisons are skipped, with a note.
"""
import ctypes
import json
import os
import socket
import subprocess
import sys
import threading

import netns

CLONE_FILES = 0x400
OWN_PORT = 41310
LEADERLESS_PORT = 41311
NOBODY = 65534
_libc = ctypes.CDLL(None, use_errno=True)


def own_dump_socket(o):
    """sockstat's own sock_diag socket, made after the owners scan (so
    holderless) and new in every run: a netlink socket with a port id."""
    return (o.get("proto") == "nl" and not o.get("processes") and
            (o.get("local") or {}).get("portid"))


def canon(objs):
    """inode -> sorted holders (pid, fd, command, user), leaving out the
    sockets sockstat itself holds, which differ from run to run."""
    out = {}
    for o in objs:
        if not o.get("inode") or own_dump_socket(o):
            continue
        hs = o.get("processes") or []
        if any(h.get("command") == "sockstat" for h in hs):
            continue
        out[o["inode"]] = sorted((h["pid"], h["fd"], h["command"], h["user"]) for h in hs)
    return out


def table_lines(text):
    """The table's rows, sorted, minus those of sockstat's own sockets
    (as in canon: a holderless netlink row with a port id)."""
    def own(l):
        f = l.split()
        return " sockstat" in l or (f[0] == "nl" and f[-1] == "-" and
                                    not f[4].endswith(":0"))
    return sorted(l for l in text.splitlines()[1:] if l.strip() and not own(l))


def bpf_built(ck):
    """Whether --owners=bpf works here; when not, checks that it says why."""
    r = netns.sockstat("--owners=bpf", "-tln")
    if r.rc == 0:
        return True
    lines = r.errtext.splitlines()
    ck.ok(r.rc == 1 and len(lines) == 1 and
          lines[0].startswith("sockstat: cannot read owners through BPF: "),
          "--owners=bpf that cannot load: exit 1, one line", cmd=r)
    print("NOTE: --owners=bpf cannot run here (%s); the comparisons are skipped" %
          (lines[0] if lines else r.rc))
    return False


def own_table_setup(ready):
    """In a helper: a thread that takes a file table of its own and opens
    a listener there, which the leader's /proc/PID/fd never shows."""
    def run():
        if _libc.unshare(CLONE_FILES) != 0:
            os._exit(3)
        s = socket.socket()
        s.bind(("127.0.0.1", OWN_PORT))
        s.listen(4)
        ready.set()
        threading.Event().wait()
    threading.Thread(target=run, daemon=True).start()
    if not ready.wait(netns.WAIT_S):
        os._exit(4)


def spawn_leaderless(pop, sock):
    """A helper whose main thread exits while two threads share its file
    table (holding sock and a dup of it); returns (pid, fds)."""
    rd, wr = os.pipe()
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(wr)
            os.close(ready_r)
            dup = os.dup(sock.fileno())
            netns.close_fds_except([sock.fileno(), dup, rd, ready_w])
            netns.set_comm("bpf-noleader")
            for _ in range(2):
                threading.Thread(target=os.read, args=(rd, 1), daemon=True).start()
            os.write(ready_w, b"%d %d" % (sock.fileno(), dup))
            os.close(ready_w)
            # Only this thread ends; the process lives on in the other two.
            _libc.pthread_exit(None)
        finally:
            os._exit(0)
    os.close(rd)
    os.close(ready_w)
    fds = sorted(int(x) for x in os.read(ready_r, 64).split())
    os.close(ready_r)
    pop.holders.append(netns.Holder(pid, b"bpf-noleader", wr))
    return pid, fds


def leader_is_zombie(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "Z"


def check_same(ck, own_inode, own_pid, two_inode, two_pid, two_fds, nl_inode, nl_pid,
               nl_fds, three):
    ck.begin("the same owners through BPF and /proc (JSON)")
    rb = netns.sockstat("--owners=bpf", "-anj")
    rp = netns.sockstat("--owners=proc", "-anj")
    ck.eq((rb.rc, rb.err, rp.rc, rp.err), (0, b"", 0, b""), "both exit 0, quietly", cmd=[rb, rp])
    b, p = canon(netns.parse_json(rb.out)), canon(netns.parse_json(rp.out))
    ck.eq(sorted(b), sorted(p), "the same sockets")
    ck.ok(len(b) > 20, "the population is there", n=len(b))
    # The documented difference: a thread's own table is BPF's alone.
    own_b, own_p = b.pop(own_inode, None), p.pop(own_inode, None)
    ck.eq([h[0] for h in own_b or []], [own_pid],
          "bpf: the thread's own table makes its process the holder", holders=own_b)
    ck.eq(own_p, [], "proc: the per-process walk cannot see it", holders=own_p)
    diff = {i: (b[i], p.get(i)) for i in b if b[i] != p.get(i)}
    ck.eq(diff, {}, "every other socket has the same holders (pid, fd, command, user)")
    ck.eq([(h[0], h[1]) for h in b.get(two_inode, [])], [(two_pid, f) for f in two_fds],
          "one socket on two fds: two entries", holders=b.get(two_inode))
    ck.eq([(h[0], h[1]) for h in b.get(nl_inode, [])], [(nl_pid, f) for f in nl_fds],
          "main thread exited, two threads share the table: each fd once",
          holders=b.get(nl_inode))
    ck.eq(sorted(h[0] for h in b.get(three["inode"], [])), sorted(x for x, _ in three["owners"]),
          "a socket held by three processes lists all three", holders=b.get(three["inode"]))

    ck.begin("the same owners through BPF and /proc (table, scan beside the dump)")
    tb = netns.sockstat("--owners=bpf", "-an")
    tp = netns.sockstat("--owners=proc", "-an")
    ck.eq((tb.rc, tp.rc), (0, 0), "both exit 0", cmd=[tb, tp])
    own = ":%d " % OWN_PORT
    lb = [l for l in table_lines(tb.text) if own not in l]
    lp = [l for l in table_lines(tp.text) if own not in l]
    ck.eq(lb, lp, "the same rows but the thread's own listener")
    ownb = [l for l in table_lines(tb.text) if own in l]
    ck.ok(len(ownb) == 1 and ownb[0].split()[-2:] == [str(own_pid), "bpf-owntable"],
          "bpf: its Process cell names the process", got=ownb)


INNER = r"""
import json, os, socket, subprocess, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4)
d = os.dup(s.fileno())
r, w = os.pipe()
kid = os.fork()
if kid == 0:
    os.close(w)
    os.read(r, 1)
    os._exit(0)
os.close(r)
out = {"me": os.getpid(), "kid": kid, "inode": os.fstat(s.fileno()).st_ino,
       "fds": sorted([s.fileno(), d])}
for how in ("bpf", "proc"):
    p = subprocess.run([sys.argv[1], "--owners=" + how, "-tlnj"], capture_output=True)
    out[how] = [p.returncode, p.stdout.decode(), p.stderr.decode()]
os.close(w)
os.waitpid(kid, 0)
print(json.dumps(out))
"""


def check_pidns(ck):
    ck.begin("inside a child PID namespace")
    # A chroot whose root is no mount point cannot make its mounts private.
    if netns.run(["unshare", "--pid", "--fork", "--mount-proc", "true"]).rc != 0:
        print("NOTE: unshare --mount-proc cannot run here; the PID namespace check is skipped")
        return
    r = netns.run(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c", INNER,
                   netns.SOCKSTAT])
    if not ck.eq(r.rc, 0, "the inner script ran", cmd=r):
        return
    d = json.loads(r.out)
    for how in ("bpf", "proc"):
        ck.eq((d[how][0], d[how][2]), (0, ""), how + ": exit 0, quietly", holders=d[how])
    b, p = canon(json.loads(d["bpf"][1])), canon(json.loads(d["proc"][1]))
    ck.eq(b, p, "the same holders")
    want = sorted([(d["me"], f) for f in d["fds"]] + [(d["kid"], f) for f in d["fds"]])
    ck.eq([(h[0], h[1]) for h in b.get(d["inode"], [])], want,
          "pids as the namespace numbers them (the script is %d there)" % d["me"],
          holders=b.get(d["inode"]))
    ck.ok(d["me"] < 10, "the namespace is a fresh one", me=d["me"])


def traced_env():
    """The environment for a run under strace: LeakSanitizer (in a
    sanitizer build) cannot work under ptrace and would fail the run."""
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = ":".join(x for x in (env.get("ASAN_OPTIONS"), "detect_leaks=0") if x)
    return env


def strace_bpf(*args):
    """sockstat under strace, its bpf() calls only; (result, trace)."""
    r = netns.run(["strace", "-f", "-qq", "-e", "trace=bpf", "-o", "/dev/stderr",
                   netns.SOCKSTAT] + list(args), env=traced_env())
    return r, r.errtext


def as_nobody(*args):
    return netns.run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                      "--clear-groups", netns.SOCKSTAT] + list(args))


def nobody_can_run():
    """Whether nobody may run the binary and read /proc here (a chroot
    whose root only root may enter leaves nobody neither)."""
    return netns.run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                      "--clear-groups", "sh", "-c", 'test -x "$1" && test -r /proc/self/stat',
                      "_", netns.SOCKSTAT]).rc == 0


def check_fallbacks(ck, built):
    ck.begin("fallbacks and what is loaded")
    if not nobody_can_run():
        print("NOTE: nobody cannot run sockstat or read /proc here; the nobody checks are skipped")
        check_traced(ck, built, False)
        return
    r = as_nobody("--owners=bpf", "-tan")
    lines = r.errtext.splitlines()
    ck.ok(r.rc == 1 and len(lines) == 1 and
          lines[0].startswith("sockstat: cannot read owners through BPF: "),
          "nobody, --owners=bpf: exit 1, one line", cmd=r)
    if built:
        ck.ok("root" in lines[0] if lines else False, "the line says root is needed", cmd=r)
    ck.eq(r.out, b"", "nobody, --owners=bpf: nothing on stdout", out=r.out)
    r = as_nobody("--owners=auto", "-tan")
    ck.eq((r.rc, r.err), (0, b""), "nobody, --owners=auto: exit 0, nothing on stderr", cmd=r)
    ck.ok(r.text.startswith("Proto"), "nobody, --owners=auto: the listing", out=r.text)
    check_traced(ck, built, True)


def check_traced(ck, built, nobody):
    """The bpf() calls each choice makes, seen through strace."""
    if not os.access("/usr/bin/strace", os.X_OK):
        print("NOTE: strace is missing; the bpf() call checks are skipped")
        return
    r, trace = strace_bpf("--owners=proc", "-tan")
    ck.eq(r.rc, 0, "--owners=proc under strace: exit 0", cmd=r)
    ck.ok("bpf(" not in trace, "--owners=proc makes no bpf() call", trace=trace)
    if nobody:
        r = netns.run(["strace", "-f", "-qq", "-e", "trace=bpf", "-o", "/dev/stderr",
                       "setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                       "--clear-groups", netns.SOCKSTAT, "-tan"], env=traced_env())
        ck.ok(r.rc == 0 and "bpf(" not in r.errtext,
              "nobody, auto: no bpf() call is even tried", cmd=r)
    if built:
        r, trace = strace_bpf("--owners=bpf", "-tan")
        ck.eq(r.rc, 0, "--owners=bpf under strace: exit 0", cmd=r)
        ck.ok("BPF_PROG_LOAD" in trace, "--owners=bpf loads its program", trace=trace[:2000])
        ck.ok("BPF_OBJ_PIN" not in trace, "and pins nothing", trace=trace[:2000])


def main(ck):
    built = bpf_built(ck)
    check_fallbacks(ck, built)
    if not built:
        return
    pop = netns.StdPopulation()
    try:
        # One socket on two fds of one process.
        two = socket.socket()
        two.bind(("127.0.0.1", 41312))
        two.listen(4)
        two_dup = os.dup(two.fileno())
        h2 = pop.spawn("bpf-twofds", [two, two_dup])
        two_fds = sorted([two.fileno(), two_dup])
        two_inode = netns.inode_of(two)
        os.close(two_dup)
        two.close()
        # A thread with a table of its own.
        ready = threading.Event()
        hown = pop.spawn("bpf-owntable", [], setup=lambda: own_table_setup(ready))
        own_inode = None
        for o in netns.parse_json(netns.sockstat("--owners=proc", "-tlnj").out):
            if o["local"]["port"] == OWN_PORT:
                own_inode = o["inode"]
        ck.ok(own_inode, "the thread's own listener is there")
        # Main thread gone, two threads sharing the table.
        nl = socket.socket()
        nl.bind(("127.0.0.1", LEADERLESS_PORT))
        nl.listen(4)
        nl_inode = netns.inode_of(nl)
        nl_pid, nl_fds = spawn_leaderless(pop, nl)
        nl.close()
        zombie = netns.wait_for(lambda: leader_is_zombie(nl_pid))
        if ck.ok(zombie, "the helper's main thread has exited"):
            ck.eq(os.listdir("/proc/%d/fd" % nl_pid), [],
                  "its leader's fd directory lists nothing")
            ck.eq(len(os.listdir("/proc/%d/task" % nl_pid)), 3, "two threads live on")
        check_same(ck, own_inode, hown.pid, two_inode, h2.pid, two_fds, nl_inode, nl_pid,
                   nl_fds, pop.three)
        check_pidns(ck)
    finally:
        pop.cleanup()


if __name__ == "__main__":
    netns.run_isolated(main)
