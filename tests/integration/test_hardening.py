#!/usr/bin/env python3
"""Hostile names and paths, no privileges, and process churn.

Processes named (PR_SET_NAME) with escape sequences, control bytes,
invalid UTF-8 and C1 bytes, and UNIX sockets whose names hold a newline,
0xff or a NUL, must never put a raw control byte on the terminal or break
the one-line-per-socket table, and JSON must stay valid UTF-8. Without
root every socket is still listed with its user. Processes that come and
go during a run never make sockstat fail or misattribute a socket.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import netns

HOSTILE = [b"\x1b[31mred\x1b[0m", b"new\nline", b"tab\there", b"bad\xff\xfeutf",
           b"c1\xc2\x9bcsi", b"raw\x9bc1", b"q'\"uote", b"back\\slash"]


def raw_controls(data):
    """Control bytes in text output, other than the line ends."""
    text = data.decode("utf-8", "replace")
    return [hex(ord(c)) for c in text
            if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f]


def check_hostile(ck, pop, tmp):
    ck.begin("hostile names and paths")
    socks, holders = [], []
    for name in HOSTILE:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        h = pop.spawn(name, [s])
        holders.append((h.pid, name, s.getsockname()[1]))
        s.close()
    paths = [os.path.join(tmp, "nl\nname").encode(), os.path.join(tmp, "ff\xff").encode("latin-1")]
    for p in paths:
        u = socket.socket(socket.AF_UNIX)
        u.bind(p)
        u.listen(1)
        socks.append(u)
    a = socket.socket(socket.AF_UNIX)
    a.bind(b"\0abs\0nul")
    a.listen(1)
    socks.append(a)
    pop.keep_all(*socks)

    r = netns.sockstat("-tuwxanH")
    ck.eq((r.rc, r.err), (0, b""), "table: exit 0, nothing on stderr", cmd=r)
    ck.eq(raw_controls(r.out), [], "table: no raw control byte", out=r.out[-2000:])
    n = len(json.loads(netns.sockstat("-tuwxanj").out.decode("utf-8", "strict")))
    ck.eq(r.out.count(b"\n"), n, "table: exactly one line per socket", out=r.out[-2000:])
    ck.eq(n, len(pop.expected) + len(HOSTILE) + len(socks),
          "the population, the hostile holders and the odd UNIX names, each once")
    for pid, name, port in holders:
        rows = [l for l in r.out.split(b"\n") if (b":%d " % port) in l]
        ck.eq(len(rows), 1, "one row for the holder of %r" % name, rows=rows)
        ck.ok(rows and (b" %d " % pid) in rows[0], "its pid is shown", rows=rows)
    for bad in (b"\n", b"\x1b", b"\xff", b"\x9b"):
        ck.ok(all(bad not in l for l in r.out.split(b"\n")), "no raw %r in any line" % bad)
    ck.ok(b"\\x1b[31mred" in r.out and b"new\\nline" in r.out and b"tab\\there" in r.out
          and b"\\xff" in r.out and b"\\x9b" in r.out, "escapes are shown",
          out=r.out[-2000:])
    ck.ok(b"@abs\\x00nul" in r.out, "an abstract name's NUL shows as \\x00", out=r.out[-800:])

    for fmt in (["-j"], ["--format", "ndjson"]):
        r = netns.sockstat("-tuwxan", *fmt)
        ck.eq((r.rc, r.err), (0, b""), "%s: exit 0, nothing on stderr" % fmt[-1], cmd=r)
        try:
            text = r.out.decode("utf-8", "strict")
            objs = (json.loads(text) if fmt == ["-j"] else
                    [json.loads(l) for l in text.split("\n") if l])
        except ValueError as e:
            ck.ok(False, "%s: valid UTF-8 and JSON" % fmt[-1], error=str(e))
            continue
        comms = {p["command"] for o in objs for p in o.get("processes", [])}
        for name in HOSTILE:
            want = name.decode("utf-8", "replace")
            ck.ok(want in comms, "%s: %r round-trips (U+FFFD for invalid bytes)"
                  % (fmt[-1], name), commands=sorted(comms))
        names = {o["local"].get("path") for o in objs if o["family"] == "unix"}
        ck.ok(paths[0].decode() in names and "@abs\u0000nul" in names and
              paths[1].decode("utf-8", "replace") in names,
              "%s: UNIX names round-trip" % fmt[-1], names=sorted(n for n in names if n))


NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def check_unprivileged(ck, pop, tmp):
    ck.begin("without root")
    # Where no unprivileged user can run any program at all (a chroot
    # whose root directory is private, as mktemp -d makes it), there is
    # nothing to test: say so rather than fail.
    if subprocess.run(NOBODY + ["true"], stderr=subprocess.DEVNULL).returncode != 0:
        print("skipping the unprivileged checks: nobody cannot run programs here")
        return
    binary = netns.SOCKSTAT
    probe = subprocess.run(NOBODY + ["test", "-x", binary])
    if probe.returncode != 0:
        # The build tree may sit where nobody cannot reach it: run a copy
        # from our world-readable temp dir instead of skipping the check.
        binary = os.path.join(tmp, "sockstat")
        shutil.copy(netns.SOCKSTAT, binary)
        os.chmod(binary, 0o755)
    probe = subprocess.run(NOBODY + ["test", "-x", binary])
    if not ck.eq(probe.returncode, 0, "nobody can run sockstat", binary=binary):
        return
    base = netns.sockstat("-tuwxanH")
    r = netns.run(NOBODY + [binary, "-tuwxanH"])
    ck.eq((r.rc, r.err), (0, b""), "as nobody: exit 0, nothing on stderr", cmd=r)
    rows = netns.parse_table(r.text, header=False)[1]
    mine = sorted(netns.table_key(x) for x in rows)
    root = sorted(netns.table_key(x) for x in netns.parse_table(base.text, header=False)[1])
    ck.eq(mine, root, "as nobody: every socket is listed")
    ck.ok(len(rows) >= len(pop.expected), "as nobody: the population is there", rows=len(rows))
    for row in rows:
        ck.eq(row.pids(), [], "as nobody: root's owners are unknown", row=row)
        # TIME_WAIT has no file, so no owner: its kernel uid is a placeholder.
        ck.eq(row.user, "-" if row.state == "TIME_WAIT" else "root",
              "as nobody: the owner user is shown", row=row)

    r = netns.run(NOBODY + [binary, "-tuwxanj"])
    ck.eq((r.rc, r.err), (0, b""), "as nobody -j: exit 0, nothing on stderr", cmd=r)
    try:
        objs = json.loads(r.out.decode("utf-8", "strict"))
    except ValueError as e:
        ck.ok(False, "as nobody -j: valid JSON", error=str(e))
        objs = []
    ck.eq(len(objs), len(mine), "as nobody -j: as many objects as table rows")
    for o in objs:
        want = (0, "root") if o.get("inode") else (None, None)
        ck.ok(o.get("processes") == [] and (o.get("uid"), o.get("user")) == want,
              "as nobody -j: processes [], uid 0 and user root (null without a file)",
              obj=o)


def _churner(nchildren, rec_w):
    """Runs in its own process group: forks nchildren short-lived children
    that each open a TCP listener, report "pid inode" on rec_w, hold it a
    few milliseconds and exit; at most 16 live at once."""
    os.setpgid(0, 0)
    live = 0
    for i in range(nchildren):
        while live >= 16:
            os.wait()
            live -= 1
        pid = os.fork()
        if pid == 0:
            try:
                netns.close_fds_except([rec_w])
                netns.set_comm("churn%d" % i)
                s = socket.socket()
                s.bind(("127.0.0.1", 0))
                s.listen(1)
                os.write(rec_w, b"%d %d\n" % (os.getpid(), os.fstat(s.fileno()).st_ino))
                # The first child stays long enough that the first runs
                # are sure to see it; the rest come and go during them.
                time.sleep(3.0 if i == 0 else 0.02 + 0.005 * (i % 8))
            finally:
                os._exit(0)
        live += 1
        time.sleep(0.01)
    while live:
        os.wait()
        live -= 1


def check_churn(ck):
    ck.begin("process churn")
    rec_r, rec_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(rec_r)
            _churner(200, rec_w)
            code = 0
        finally:
            os._exit(code)
    os.close(rec_w)
    seen = []   # (pid, inode, command) from every run
    runs = 0
    try:
        for _ in range(50):
            r = netns.sockstat("-tan", "--format", "ndjson")
            runs += 1
            ck.eq((r.rc, r.err), (0, b""), "during churn: exit 0, nothing on stderr", cmd=r)
            try:
                for line in r.out.decode("utf-8", "strict").split("\n"):
                    if line:
                        o = json.loads(line)
                        seen += [(p["pid"], o["inode"], p["command"]) for p in o["processes"]]
            except ValueError as e:
                ck.ok(False, "during churn: valid NDJSON", error=str(e), out=r.out[-500:])
        # A bound on the churner: it needs about a second.
        ck.ok(netns.wait_for(lambda: os.waitpid(pid, os.WNOHANG)[0] == pid, timeout=30),
              "the churner finishes")
    finally:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    data = b""
    while True:
        chunk = os.read(rec_r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(rec_r)
    held = {}
    for line in data.decode().split("\n"):
        if line:
            cpid, ino = map(int, line.split())
            held[cpid] = ino
    ck.eq(len(held), 200, "200 children held a socket each")
    ck.eq(runs, 50, "sockstat ran 50 times during the churn")
    wrong = [(p, i, c) for p, i, c in seen if held.get(p) != i]
    ck.eq(wrong, [], "never a socket under a pid that did not hold it",
          held_by=[(p, held.get(p)) for p, _, _ in wrong[:10]])
    print("churn: %d socket owners seen across %d runs" % (len(seen), runs))
    ck.ok(len(seen) > 0, "the runs overlapped the churn (some child seen holding its socket)")


def main(ck):
    pop = netns.StdPopulation()
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        check_hostile(ck, pop, tmp)
        check_unprivileged(ck, pop, tmp)
    pop.cleanup()
    check_churn(ck)


if __name__ == "__main__":
    netns.run_isolated(main)
