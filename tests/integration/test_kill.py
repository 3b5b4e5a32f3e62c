#!/usr/bin/env python3
"""-K (closing sockets) and the filter words dev, fwmark, autobound and
host names, against the real kernel in private network namespaces, with
ss as the oracle:

- -K closes exactly the selected connection: ss no longer lists it, its
  peer sees the reset, every neighbour survives; it prints what it closed
  (table and JSON); --pid narrows it to one process's sockets; -N closes
  in another namespace; a connected UDP socket is closed too;
- it refuses (exit 2, nothing closed) without a FILTER or a narrowing
  option; --dry-run prints the rows and closes nothing; as nobody
  (setpriv) it fails with one line and exit 1, nothing closed; a socket
  the kernel cannot close is named on stderr with the reason, exit 1;
- dev, fwmark, autobound and host names select what ss selects, and the
  kernel's bytecode and user space (--source proc) agree where /proc/net
  holds what the word looks at;
- a socket bound to a device shows 0.0.0.0%lo:PORT as ss does.
"""
import json
import os
import socket
import subprocess
import sys
import time

import netns

HINT = "Try 'sockstat --help' for more information."
SO_MARK = 36
SO_BINDTODEVICE = 25


def keys(text):
    out = set()
    for r in netns.parse_table(text, header=False)[1]:
        proto, state, loc, peer = netns.table_key(r)
        out.add((proto, state, loc, peer))
    return out


def mine(ck, *args):
    r = netns.sockstat(*args)
    ck.eq(r.rc, 0, "exit 0: %s" % " ".join(args), cmd=r)
    ck.eq(r.err, b"", "nothing on stderr: %s" % " ".join(args), cmd=r)
    return keys(r.text) if r.rc == 0 else set()


def ss_tcp(*args, ns=None):
    """ss's TCP sockets (-Htan plus args) as (proto, state, local, peer)."""
    argv = ["ss", "-Htan"] + list(args)
    if ns:
        argv = ["nsenter", "--net=" + ns] + argv
    r = netns.run(argv)
    if r.rc != 0:
        raise RuntimeError("ss failed: %r" % r)
    out = set()
    for line in r.text.split("\n"):
        f = line.split()
        if f:
            out.add(("tcp", netns.SS_STATES.get(f[0], f[0]), f[3], f[4]))
    return out


def ep(sock):
    a, p = sock.getsockname()[:2]
    return "%s:%d" % (a, p)


def peer_reset(sock):
    """Whether sock's peer was closed by a reset (or at least an EOF)."""
    sock.settimeout(2)
    try:
        return sock.recv(16) == b""
    except (ConnectionResetError, ConnectionAbortedError):
        return True
    except OSError:
        return False


class Conns:
    """A listener on 127.0.0.1:port and n connections to it."""

    def __init__(self, port, n):
        self.l = socket.socket()
        self.l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.l.bind(("127.0.0.1", port))
        self.l.listen(16)
        self.pairs = []
        for _ in range(n):
            c = socket.create_connection(("127.0.0.1", port))
            a, _ = self.l.accept()
            self.pairs.append((c, a))

    def close(self):
        for c, a in self.pairs:
            c.close()
            a.close()
        self.l.close()


def check_kill_exact(ck):
    ck.begin("-K closes exactly the selected connection")
    cs = Conns(7101, 3)
    victim, vpeer = cs.pairs[0]
    before = ss_tcp()
    vkey = ("tcp", "ESTABLISHED", ep(victim), ep(vpeer))
    ck.ok(vkey in before, "ss sees the victim first", before=before)
    r = netns.sockstat("-K", "-tnH", "sport", "=", ":%d" % victim.getsockname()[1])
    ck.eq(r.rc, 0, "-K exit 0", cmd=r)
    ck.eq(r.err, b"", "-K: nothing on stderr", cmd=r)
    rows = keys(r.text)
    ck.eq(rows, {vkey}, "-K prints the one socket it closed", out=r.text)
    after = ss_tcp()
    ck.ok(vkey not in after, "ss no longer lists it", after=after)
    ck.ok(peer_reset(vpeer), "the peer sees the reset")
    for c, a in cs.pairs[1:]:
        k1 = ("tcp", "ESTABLISHED", ep(c), ep(a))
        k2 = ("tcp", "ESTABLISHED", ep(a), ep(c))
        ck.ok(k1 in after and k2 in after, "a neighbour survives: " + ep(c), after=after)
    ck.ok(("tcp", "LISTEN", "127.0.0.1:7101", "0.0.0.0:*") in after, "the listener survives",
          after=after)

    ck.begin("-K -j prints the closed socket as JSON")
    c, a = cs.pairs[1]
    r = netns.sockstat("-K", "-j", "-t", "dport = :%d" % c.getsockname()[1])
    ck.eq(r.rc, 0, "-K -j exit 0", cmd=r)
    try:
        doc = json.loads(r.out)
    except ValueError:
        doc = None
    ck.ok(isinstance(doc, list) and len(doc) == 1 and doc[0]["local"]["port"] == 7101
          and doc[0]["peer"]["port"] == c.getsockname()[1], "one JSON object, the closed one",
          out=r.text)
    ck.ok(peer_reset(c), "its peer sees the reset")
    after = ss_tcp()
    c3, a3 = cs.pairs[2]
    ck.ok(("tcp", "ESTABLISHED", ep(c3), ep(a3)) in after, "the last neighbour survives",
          after=after)
    cs.close()


def check_refusals(ck):
    ck.begin("refusals and --dry-run close nothing")
    cs = Conns(7102, 2)
    before = ss_tcp()
    for args in (["-K"], ["-K", "-t"], ["-K", "-ta"], ["-Kt", "--dry-run"], ["--kill", "-tan"]):
        r = netns.sockstat(*args)
        ck.eq(r.rc, 2, "refused without a filter: %s" % args, cmd=r)
        lines = r.errtext.rstrip("\n").split("\n")
        ck.ok(len(lines) == 2 and "-K" in lines[0] and "FILTER" in lines[0] and lines[1] == HINT,
              "says why, then the --help line", err=r.errtext)
        ck.eq(r.out, b"", "prints no rows", cmd=r)
    ck.eq(ss_tcp(), before, "nothing was closed by the refused runs")
    r = netns.sockstat("--dry-run", "-t", "sport = :7102")
    ck.eq(r.rc, 2, "--dry-run without -K is a usage error", cmd=r)
    r = netns.sockstat("-K", "-s", "sport = :7102")
    ck.eq(r.rc, 2, "-K with -s is a usage error", cmd=r)
    r = netns.sockstat("-K", "--replay", "/nonexistent.ssrec", "sport = :7102")
    ck.eq(r.rc, 2, "-K --replay without --dry-run is a usage error", cmd=r)
    rec = "/tmp/sockstat-kill-test.ssrec"
    r = netns.sockstat("-K", "--dry-run", "--record", rec, "-tnH", "sport = :7102")
    ck.eq(r.rc, 0, "-K --dry-run --record exit 0", cmd=r)
    r2 = netns.sockstat("-K", "--dry-run", "--replay", rec, "-tnH", "sport = :7102")
    ck.eq((r2.rc, r2.out), (0, r.out), "--replay --dry-run shows what the recorded run did",
          cmd=r2)
    if os.path.exists(rec):
        os.unlink(rec)
    r = netns.sockstat("-K", "-x", "src /run/*")
    ck.eq(r.rc, 2, "-K of UNIX sockets only is a usage error", cmd=r)
    ck.ok("TCP, UDP and RAW" in r.errtext, "it says what -K closes", err=r.errtext)

    r = netns.sockstat("-K", "--dry-run", "-tnH", "sport = :7102")
    ck.eq(r.rc, 0, "--dry-run exit 0", cmd=r)
    want = {("tcp", "ESTABLISHED", ep(a), ep(c)) for c, a in cs.pairs}
    ck.eq(keys(r.text), want, "--dry-run prints what would be closed", out=r.text)
    ck.eq(ss_tcp(), before, "--dry-run closed nothing")

    ck.begin("without CAP_NET_ADMIN")
    if not netns.nobody_can_run():
        print("skipped: nobody cannot run sockstat here")
        cs.close()
        return
    r = netns.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                   netns.SOCKSTAT, "-K", "-t", "sport = :7102"])
    ck.eq(r.rc, 1, "as nobody: exit 1", cmd=r)
    lines = r.errtext.rstrip("\n").split("\n")
    ck.ok(len(lines) == 1 and "CAP_NET_ADMIN" in lines[0], "one line that says why",
          err=r.errtext)
    ck.eq(r.out, b"", "as nobody: no rows", cmd=r)
    r = netns.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                   netns.SOCKSTAT, "-K", "--dry-run", "-tnH", "sport = :7102"])
    ck.eq(r.rc, 0, "as nobody --dry-run still shows what would be closed", cmd=r)
    ck.eq(ss_tcp(), before, "nobody closed nothing")
    cs.close()


HOLDER = r"""
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print(c.getsockname()[1], flush=True)
sys.stdin.read()
"""


def check_pid(ck):
    ck.begin("-K --pid closes one process's sockets only")
    cs = Conns(7103, 1)
    p = subprocess.Popen([sys.executable, "-c", HOLDER, "7103"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        port = int(p.stdout.readline())
        a, _ = cs.l.accept()
        r = netns.sockstat("-K", "-tnH", "--pid", str(p.pid))
        ck.eq(r.rc, 0, "-K --pid exit 0", cmd=r)
        ck.eq(keys(r.text), {("tcp", "ESTABLISHED", "127.0.0.1:%d" % port, "127.0.0.1:7103")},
              "closes the process's connection only", out=r.text)
        ck.ok(peer_reset(a), "its peer sees the reset")
        c0, a0 = cs.pairs[0]
        ck.ok(("tcp", "ESTABLISHED", ep(c0), ep(a0)) in ss_tcp(), "our own connection survives")
        a.close()
    finally:
        p.stdin.close()
        p.wait(10)
    cs.close()


NSHOLDER = r"""
import os, socket, sys
l = socket.socket(); l.bind(("127.0.0.1", 7104)); l.listen()
c = socket.create_connection(("127.0.0.1", 7104)); a, _ = l.accept()
d = socket.create_connection(("127.0.0.1", 7104)); b, _ = l.accept()
print(c.getsockname()[1], d.getsockname()[1], flush=True)
sys.stdin.readline()
try:
    a.settimeout(2)
    print("reset" if a.recv(4) == b"" else "data", flush=True)
except OSError:
    print("reset", flush=True)
sys.stdin.read()
"""


def check_netns(ck):
    ck.begin("-K -N closes in another namespace")
    p = subprocess.Popen(["unshare", "-n", "sh", "-c",
                          "ip link set lo up && exec %s -c '%s'" % (sys.executable, NSHOLDER)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ports = p.stdout.readline().split()
        ck.ok(len(ports) == 2, "the holder started", got=ports)
        if len(ports) != 2:
            return
        ns = "/proc/%d/ns/net" % p.pid
        # The sh exec'd python: the pid is the holder's.
        r = netns.sockstat("-N", ns, "-K", "-tnH", "sport = :%s" % ports[0])
        ck.eq(r.rc, 0, "-K -N exit 0", cmd=r)
        ck.eq(keys(r.text), {("tcp", "ESTABLISHED", "127.0.0.1:" + ports[0], "127.0.0.1:7104")},
              "closes the one connection there", out=r.text)
        after = ss_tcp(ns=ns)
        ck.ok(not any(k[2] == "127.0.0.1:" + ports[0] for k in after), "ss there: it is gone",
              after=after)
        ck.ok(any(k[2] == "127.0.0.1:" + ports[1] for k in after), "ss there: its neighbour stays",
              after=after)
        p.stdin.write("\n")
        p.stdin.flush()
        ck.eq(p.stdout.readline().strip(), "reset", "the peer there sees the reset")
    finally:
        p.stdin.close()
        p.wait(10)


def check_udp_and_raw(ck):
    ck.begin("UDP is closed; what cannot be closed is reported")
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 7105))
    u.connect(("127.0.0.1", 7106))
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind(("127.0.0.1", 7107))
    other.connect(("127.0.0.1", 7106))
    r = netns.sockstat("-K", "-unH", "sport = :7105")
    ck.eq(r.rc, 0, "-K -u exit 0", cmd=r)
    ck.eq({(k[0], k[2]) for k in keys(r.text)}, {("udp", "127.0.0.1:7105")},
          "prints the UDP socket it closed", out=r.text)
    u.setblocking(False)
    try:
        u.recv(4)
        aborted = False
    except ConnectionAbortedError:
        aborted = True
    except OSError:
        aborted = False
    ck.ok(aborted, "its owner sees ECONNABORTED")
    ss = netns.run(["ss", "-Huan"]).text
    ck.ok("127.0.0.1:7107" in ss, "the other UDP socket survives", ss=ss)
    u.close()
    other.close()

    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, 253)
    try:
        r = netns.sockstat("-K", "-wanH", "sport = :253")
        if netns.kernel_has_raw_diag():
            ck.eq(r.rc, 0, "raw_diag closes the RAW socket", cmd=r)
        else:
            ck.eq(r.rc, 1, "without raw_diag the RAW socket cannot be closed: exit 1", cmd=r)
            err = r.errtext
            ck.ok(err.startswith("sockstat: cannot close raw 0.0.0.0:253 ") and
                  err.count("\n") == 1, "one line names the socket and the reason", err=err)
            ck.eq(r.out.strip(), b"", "and it is not printed as closed", cmd=r)
    finally:
        raw.close()


def check_words(ck):
    ck.begin("dev, fwmark, autobound and host names against ss")
    cs = Conns(7108, 2)
    d = socket.socket()
    d.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, b"lo")
    d.bind(("0.0.0.0", 7109))
    d.listen()
    m = socket.socket()
    m.setsockopt(socket.SOL_SOCKET, SO_MARK, 0x42)
    m.bind(("127.0.0.1", 7110))
    m.listen()
    mc = socket.socket()
    mc.setsockopt(socket.SOL_SOCKET, SO_MARK, 0x142)
    mc.connect(("127.0.0.1", 7110))
    ma, _ = m.accept()
    d6 = socket.socket(socket.AF_INET6)
    d6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    d6.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, b"lo")
    d6.bind(("::", 7111))
    d6.listen()
    exprs = ["dev lo", "dev = lo", "dev != lo", "dev 1", "dev eq lo", "not dev lo",
             "fwmark 0x42", "fwmark = 66", "fwmark 0x42/0xff", "fwmark != 0x42",
             "fwmark 0/0", "fwmark 0x100/0x100", "dev lo or fwmark 0x42",
             "autobound", "not autobound", "autobound and dport = :7108",
             "src localhost", "dst localhost", "src localhost:7108", "not src localhost",
             "src localhost and autobound"]
    nonempty = 0
    for e in exprs:
        got = mine(ck, "-tanH", e)
        want = ss_tcp(e)
        ck.eq(sorted(got), sorted(want), "same sockets as ss -tan: " + e,
              only_sockstat=sorted(got - want), only_ss=sorted(want - got))
        nonempty += bool(got)
    ck.ok(nonempty >= len(exprs) - 2, "the words select something", nonempty=nonempty)

    ck.begin("bytecode and user space agree")
    # /proc/net holds no device and no v6only flag: compare the sockets
    # without a device, as the addresses read. An accepted connection is
    # autobound to the kernel (no bind lock) but not by its port, so, as
    # with ss, netlink selects it for neither `autobound` nor its negation
    # while /proc selects it for the negation: `not autobound` is compared
    # on listeners.
    def plain(keys):
        return {k for k in keys if not k[2].endswith((":7109", ":7111"))}
    for e in ("autobound", "not autobound and state listening", "src localhost",
              "dst localhost:7108", "autobound or src localhost:7110"):
        net = plain(mine(ck, "--source", "netlink", "-tanH", e))
        proc = plain(mine(ck, "--source", "proc", "-tanH", e))
        ck.eq(sorted(net), sorted(proc), "netlink bytecode = user space: " + e,
              only_netlink=sorted(net - proc), only_proc=sorted(proc - net))

    ck.begin("%dev display")
    r = netns.sockstat("-tlnH")
    ss = netns.run(["ss", "-Htln"]).text
    for want in ("0.0.0.0%lo:7109", "[::]%lo:7111"):
        ck.ok(want in ss, "ss shows " + want, ss=ss)
        ck.ok(any(row.local == want for row in netns.parse_table(r.text, header=False)[1]),
              "sockstat shows " + want, out=r.text)
    r = netns.sockstat("-tlnej", "sport = :7109")
    doc = json.loads(r.out)
    ck.ok(len(doc) == 1 and doc[0]["interface"] == "lo" and doc[0]["local"]["address"] ==
          "0.0.0.0", "-e JSON names the device, the address stays the address", doc=doc)

    ck.begin("bad words")
    for e, word in (("dev nosuchdev0", "nosuchdev0"), ("fwmark 0xzz", "0xzz"),
                    ("src nosuch.invalid", "nosuch.invalid"), ("dev < lo", "<")):
        r = netns.sockstat("-tan", e)
        ck.eq(r.rc, 2, "usage error: " + e, cmd=r)
        ck.ok("'%s'" % word in r.errtext and r.errtext.endswith(HINT + "\n"),
              "names the word: " + e, err=r.errtext)
    for s in (d, m, mc, ma, d6):
        s.close()
    cs.close()


def main(ck):
    check_kill_exact(ck)
    check_refusals(ck)
    check_pid(ck)
    check_netns(ck)
    check_udp_and_raw(ck)
    check_words(ck)


if __name__ == "__main__":
    netns.run_isolated(main)
