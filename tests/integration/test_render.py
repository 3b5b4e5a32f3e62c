#!/usr/bin/env python3
"""What the table and JSON show, checked against the kernel and ss.

UNIX rows carry their own inode and the peer's; a dual-stack wildcard is
*:port and a v6-only one [::]:port, as ss prints them, and JSON says
which with v6only; a socket without a file (TIME_WAIT, a connection not
yet accepted) has no user; a process holding a socket on two fds is one
entry in the Process column; a CJK path keeps the columns aligned in a
UTF-8 locale; U+061C is escaped; a write error is reported as one for
every format.
"""
import json
import os
import re
import socket
import subprocess
import tempfile
import unicodedata

import netns
from netns import sockstat


def table(ck, *args, **kw):
    r = sockstat(*args, **kw)
    ck.eq((r.rc, r.err), (0, b""), " ".join(args) + ": exit 0, nothing on stderr", cmd=r)
    return netns.parse_table(r.text, header="-H" not in args and "H" not in args[0])[1], r


def objects(ck, *args):
    r = sockstat(*args)
    ck.eq((r.rc, r.err), (0, b""), " ".join(args) + ": exit 0, nothing on stderr", cmd=r)
    try:
        return json.loads(r.out.decode("utf-8", "strict"))
    except ValueError as e:
        ck.ok(False, " ".join(args) + ": valid JSON", error=str(e))
        return []


def check_unix(ck, tmp):
    ck.begin("UNIX rows name their own inode and the peer's")
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    path = os.path.join(tmp, "x.sock")
    lst = socket.socket(socket.AF_UNIX)
    lst.bind(path)
    lst.listen(1)
    ia, ib, il = netns.inode_of(a), netns.inode_of(b), netns.inode_of(lst)
    r = sockstat("-xanH")
    lines = r.text.split("\n")
    want_a = "* %d * %d" % (ia, ib)
    want_b = "* %d * %d" % (ib, ia)
    ck.ok(any(" ".join(l.split()[4:8]) == want_a for l in lines),
          "socketpair end a: '* INODE * PEERINODE'", want=want_a, out=r.text)
    ck.ok(any(" ".join(l.split()[4:8]) == want_b for l in lines),
          "socketpair end b names a", want=want_b, out=r.text)
    row = [l for l in lines if l.split()[4:5] == [path]]
    ck.ok(len(row) == 1 and row[0].split()[5:7] == [str(il), "*"],
          "listener: 'PATH INODE' then '*' (no peer)", rows=row)
    # ss prints the same words (it spells no peer "* 0").
    ss = netns.run(["ss", "-Hxan"]).text.split("\n")
    ss_words = {tuple(l.split()[4:8]) for l in ss if l}
    for want in (want_a, want_b):
        ck.ok(tuple(want.split()) in ss_words, "ss agrees: " + want, ss=ss)
    objs = [o for o in objects(ck, "-xaj") if o["inode"] in (ia, ib, il)]
    ck.eq(sorted((o["proto"], o["type"], o["inode"], o["peer"]["inode"]) for o in objs),
          sorted([("unix", "stream", ia, ib), ("unix", "stream", ib, ia),
                  ("unix", "stream", il, 0)]),
          "JSON: proto unix, type, own and peer inode")
    for s in (a, b, lst):
        s.close()


def v6_listener(port, v6only, typ=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET6, typ)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
    s.bind(("::", port))
    if typ == socket.SOCK_STREAM:
        s.listen(4)
    return s


def check_v6only(ck):
    ck.begin("dual-stack and v6-only wildcards")
    dual, only = v6_listener(9090, False), v6_listener(9091, True)
    udual, uonly = v6_listener(9092, False, socket.SOCK_DGRAM), \
        v6_listener(9093, True, socket.SOCK_DGRAM)
    rows, _ = table(ck, "-tulnH")
    mine = sorted((r.local, r.peer) for r in rows)
    ss = netns.run(["ss", "-Htuln"]).text.split("\n")
    theirs = sorted((l.split()[4], l.split()[5]) for l in ss if l)
    ck.eq(mine, theirs, "-tuln: addresses exactly as ss -tuln prints them")
    ck.ok(("*:9090", "*:*") in mine, "dual-stack listener is *:9090", rows=mine)
    ck.ok(("[::]:9091", "[::]:*") in mine, "v6-only listener is [::]:9091", rows=mine)
    ck.ok(("*:9092", "*:*") in mine, "dual-stack UDP is *:9092", rows=mine)
    ck.ok(("[::]:9093", "[::]:*") in mine, "v6-only UDP is [::]:9093", rows=mine)
    objs = objects(ck, "-tulnj")
    got = {o["local"]["port"]: o.get("v6only") for o in objs}
    ck.eq(got, {9090: False, 9091: True, 9092: False, 9093: True},
          "JSON v6only as set with IPV6_V6ONLY", objs=objs)
    c4 = socket.socket(socket.AF_INET)
    c4.bind(("127.0.0.1", 0))
    c4.listen(1)
    objs = objects(ck, "-tlnj")
    ck.ok(all(("v6only" in o) == (o["family"] == "inet6") for o in objs),
          "v6only on every inet6 socket and no other", objs=objs)
    for s in (dual, only, udual, uonly, c4):
        s.close()


def check_no_file(ck):
    ck.begin("sockets without a file have no user")
    lst = socket.socket()
    lst.bind(("127.0.0.1", 41500))
    lst.listen(4)
    # A connection never accepted: its server side has no file (inode 0).
    cli = socket.socket()
    cli.connect(("127.0.0.1", 41500))
    # And a TIME_WAIT one: the side that closes first waits.
    l2 = socket.socket()
    l2.bind(("127.0.0.1", 41501))
    l2.listen(1)
    c2 = socket.socket()
    c2.connect(("127.0.0.1", 41501))
    s2, _ = l2.accept()
    c2.close()
    netns.wait_for(lambda: s2.recv(1) == b"")
    s2.close()
    cport = cli.getsockname()[1]
    unaccepted = ("127.0.0.1:41500", "127.0.0.1:%d" % cport)
    for args in (["-tanH"], ["-tanPH"], ["-tanpH"]):
        rows, _ = table(ck, *args)
        nofile = [r for r in rows if r.state == "TIME_WAIT" or (r.local, r.peer) == unaccepted]
        ck.eq(len(nofile), 2, " ".join(args) + ": the TIME_WAIT and unaccepted rows", rows=rows)
        for r in nofile:
            ck.eq(r.process, "-", " ".join(args) + ": Process is -, not root", row=r)
    rows, res = table(ck, "-taneH")
    for line in res.text.split("\n"):
        f = line.split()
        if f and (f[1] == "TIME_WAIT" or (f[4], f[5]) == unaccepted):
            ck.eq((f[6], f[7]), ("-", "0"), "-e: UID - and inode 0", line=line)
    for o in objects(ck, "-tanj"):
        if o["inode"] == 0:
            ck.ok(o["uid"] is None and o["user"] is None and o["processes"] == [],
                  "JSON: uid and user null, processes [] without a file", obj=o)
    n = sum(1 for o in objects(ck, "-tanj") if o["inode"] == 0)
    ck.eq(n, 2, "JSON lists both sockets without a file")
    for s in (lst, cli, l2):
        s.close()


def check_two_fds(ck, pop):
    ck.begin("a process holding a socket on two fds is one holder")
    s = socket.socket()
    s.bind(("127.0.0.1", 41600))
    s.listen(4)
    dup = os.dup(s.fileno())
    other = os.dup(s.fileno())
    h1 = pop.spawn("twofd", [s.fileno(), dup])
    h2 = pop.spawn("onefd", [other])
    os.close(dup)
    os.close(other)
    s.close()
    rows, _ = table(ck, "-tlnH")
    row = [r for r in rows if r.local == "127.0.0.1:41600"]
    ck.eq(len(row), 1, "one row for the socket", rows=rows)
    if row:
        want = sorted([h1.pid, h2.pid])
        ck.eq(row[0].pids(), want, "each process once, in pid order", row=row[0])
    objs = [o for o in objects(ck, "-tlnj") if o["local"]["port"] == 41600]
    if ck.eq(len(objs), 1, "one JSON object"):
        procs = sorted((p["pid"], p["fd"]) for p in objs[0]["processes"])
        ck.eq([p for p, _ in procs], sorted([h1.pid, h1.pid, h2.pid]),
              "JSON keeps one entry per pid and fd", procs=procs)


def cells(text):
    """Terminal cells of text, as a UTF-8 terminal shows it."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def check_wide(ck, tmp):
    ck.begin("column widths count terminal cells")
    locales = netns.run(["locale", "-a"]).text.split()
    loc = next((l for l in ("C.UTF-8", "C.utf8", "en_US.UTF-8", "en_US.utf8")
                if l in locales), None)
    if loc is None:
        print("skipping the cell width checks: no UTF-8 locale installed (locale -a)")
        return
    socks = []
    for name in ("日本語の.sock", "ascii-name-of-same.sock"):
        u = socket.socket(socket.AF_UNIX)
        u.bind(os.path.join(tmp, name))
        u.listen(1)
        socks.append(u)
    env = dict(os.environ, LC_ALL=loc)
    r = sockstat("-xln", env=env)
    lines = [l for l in r.text.split("\n") if l]
    head = lines[0]
    col = cells(head[:head.index("Peer Address")])
    ours = [l for l in lines[1:] if ".sock" in l and tmp in l]
    ck.eq(len(ours), 2, "both sockets listed", out=r.text)
    for l in ours:
        # Words: Proto State Recv-Q Send-Q PATH INODE * Process...
        peer = [m.start() for m in re.finditer(r"\S+", l)][6]
        ck.eq(cells(l[:peer]), col, "Peer Address starts under its title, in cells", line=l,
              head=head)
    for s in socks:
        s.close()


def check_escapes(ck, pop):
    ck.begin("U+061C is escaped like the other bidi controls")
    s = socket.socket()
    s.bind(("127.0.0.1", 41700))
    s.listen(1)
    name = "alm\u061cx".encode()
    pop.spawn(name, [s])
    s.close()
    r = sockstat("-tlnH")
    ck.ok(b"\xd8\x9c" not in r.out, "no raw U+061C in the table", out=r.out)
    ck.ok(b"alm\\xd8\\x9cx" in r.out, "escaped byte by byte", out=r.out)
    objs = [o for o in objects(ck, "-tlnj") if o["local"]["port"] == 41700]
    ck.ok(objs and objs[0]["processes"][0]["command"] == "alm\u061cx",
          "JSON carries it (escaped as \\u061c)", objs=objs)
    raw = sockstat("-tlnj").out
    ck.ok(b"\\u061c" in raw and b"\xd8\x9c" not in raw, "JSON escapes it", out=raw[-400:])


def check_write_errors(ck):
    ck.begin("write errors are reported the same way for every format")
    # Enough sockets (well over 64 KiB of JSON, well under 1024 fds) that
    # JSON is written while rows still come.
    pairs = [socket.socketpair() for _ in range(400)]
    size = len(sockstat("-xaj").out)
    ck.ok(size > 2 * 65536, "the JSON is longer than two output chunks", size=size)
    for fmt in ([], ["-j"], ["--format", "ndjson"]):
        with open("/dev/full", "wb") as full:
            p = subprocess.run([netns.SOCKSTAT, "-xa"] + fmt, stdout=full,
                               stderr=subprocess.PIPE, timeout=30)
        what = " ".join(["-xa"] + fmt) + " > /dev/full"
        ck.eq(p.returncode, 1, what + ": exit 1")
        ck.eq(p.stderr, b"sockstat: write error: No space left on device\n",
              what + ": one 'write error' line")
    for a, b in pairs:
        a.close()
        b.close()


def main(ck):
    pop = netns.Population()
    with tempfile.TemporaryDirectory() as tmp:
        check_unix(ck, tmp)
        check_v6only(ck)
        check_no_file(ck)
        check_two_fds(ck, pop)
        check_wide(ck, tmp)
        check_escapes(ck, pop)
        check_write_errors(ck)
    pop.cleanup()


if __name__ == "__main__":
    netns.run_isolated(main)
