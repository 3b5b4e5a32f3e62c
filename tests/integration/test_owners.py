#!/usr/bin/env python3
"""Owners that the /proc scan used to lose.

A process whose main thread has exited while another thread holds a
listening socket is still its owner (read through /proc/PID/task/TID/fd).
Under a small soft limit on open files the owners are still found (the
limit is raised at start); where even the hard limit is too small, the
run fails with one message instead of silently showing no owners, so
--pid never selects nothing for that reason.
"""
import os
import socket
import subprocess
import time

import netns

LEADERLESS = os.environ.get("SOCKSTAT_LEADERLESS", "")


def listener():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(4)
    return s


def row_for(text, port):
    """The table rows whose local address is 127.0.0.1:port."""
    _, rows = netns.parse_table(text, header=False)
    return [r for r in rows if r.local == "127.0.0.1:%d" % port]


def json_pids(out, port):
    """The pids holding port in JSON output, or None when it is not JSON."""
    pids = []
    try:
        objs = netns.parse_json(out)
    except ValueError:
        return None
    for o in objs:
        if o.get("local", {}).get("port") == port or o.get("lport") == port:
            pids += [p["pid"] for p in o.get("processes") or []]
    return pids


def leader_is_zombie(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "Z"


def check_leader_exited(ck):
    ck.begin("a process whose main thread has exited")
    if not ck.ok(LEADERLESS and os.access(LEADERLESS, os.X_OK),
                 "SOCKSTAT_LEADERLESS names the built helper", got=LEADERLESS):
        return
    p = subprocess.Popen([LEADERLESS], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        port = int(p.stdout.readline())
        deadline = time.monotonic() + netns.WAIT_S
        while not leader_is_zombie(p.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        if not ck.ok(leader_is_zombie(p.pid), "the helper's main thread has exited"):
            return
        ck.eq(os.listdir("/proc/%d/fd" % p.pid), [],
              "the zombie leader's fd directory lists nothing (the case to cover)")

        r = netns.sockstat("-tlnH")
        ck.eq(r.rc, 0, "table: exit 0", cmd=r)
        rows = row_for(r.text, port)
        ck.eq([x.pids() for x in rows], [[p.pid]], "table: the listener's owner is the process",
              out=r.text)
        ck.ok(all("leaderless" in x.process for x in rows), "table: its command is shown",
              rows=rows)

        r = netns.sockstat("-tlnj")
        ck.eq(r.rc, 0, "json: exit 0", cmd=r)
        ck.eq(json_pids(r.out, port), [p.pid], "json: processes name the pid", out=r.out)

        r = netns.sockstat("-tlnH", "--pid", str(p.pid))
        ck.eq([x.local for x in netns.parse_table(r.text, header=False)[1]],
              ["127.0.0.1:%d" % port], "--pid selects the listener", cmd=r, out=r.text)
    finally:
        p.stdin.close()
        try:
            p.wait(timeout=netns.WAIT_S)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        p.stdout.close()


def under_limit(soft, hard, *args):
    return netns.run(["prlimit", "--nofile=%d:%d" % (soft, hard), netns.SOCKSTAT] + list(args))


def check_soft_limit(ck, holder, port):
    ck.begin("a small soft limit on open files is raised")
    for soft in (4, 5, 6, 8):
        r = under_limit(soft, 4096, "-tlnH")
        ck.eq((r.rc, r.err), (0, b""), "soft %d: exit 0, nothing on stderr" % soft, cmd=r)
        ck.eq([x.pids() for x in row_for(r.text, port)], [[holder.pid]],
              "soft %d: the owner is shown" % soft, out=r.text)
        r = under_limit(soft, 4096, "-tlnH", "--pid", str(holder.pid))
        ck.eq([x.local for x in netns.parse_table(r.text, header=False)[1]],
              ["127.0.0.1:%d" % port], "soft %d: --pid selects the listener" % soft, cmd=r)
        r = under_limit(soft, 4096, "-tlnj")
        ck.eq(json_pids(r.out, port), [holder.pid], "soft %d: json names the owner" % soft,
              cmd=r)


def check_hard_limit(ck, holder, port):
    ck.begin("a hard limit too small for the scan fails loudly")
    outcomes = set()
    for lim in range(4, 13):
        for args in (["-tlnH"], ["-tlnH", "--pid", str(holder.pid)]):
            r = under_limit(lim, lim, *args)
            owned = [x.pids() for x in row_for(r.text, port)] == [[holder.pid]]
            lines = r.err.decode("utf-8", "replace").splitlines()
            if r.rc == 0:
                outcomes.add("ok")
                ck.ok(owned, "limit %d %s: exit 0 only with the owner shown" % (lim, args),
                      cmd=r, out=r.text)
            else:
                outcomes.add("failed")
                ck.ok(r.rc == 1 and len(lines) == 1 and lines[0].startswith("sockstat: "),
                      "limit %d %s: otherwise exit 1 and one message" % (lim, args), cmd=r)
    print("hard limits 4..12:", sorted(outcomes))
    ck.ok("ok" in outcomes, "some small hard limit is enough for the whole run")


def main(ck):
    pop = netns.Population()
    s = listener()
    port = s.getsockname()[1]
    holder = pop.spawn("fdlimit", [s])
    s.close()
    try:
        check_leader_exited(ck)
        check_soft_limit(ck, holder, port)
        check_hard_limit(ck, holder, port)
    finally:
        pop.cleanup()


if __name__ == "__main__":
    netns.run_isolated(main)
