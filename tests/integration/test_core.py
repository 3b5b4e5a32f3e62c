#!/usr/bin/env python3
"""sockstat lists exactly the sockets of a known population,
with the contract's Proto, State, queues, addresses and owners, agrees
with itself across sources and with ss, and keeps its exit codes."""

import os
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402
from netns import sockstat  # noqa: E402


def rows_of(ck, res, header=False):
    ck.ok(res.rc == 0, "exit 0", cmd=res)
    ck.eq(res.err, b"", "nothing on stderr", cmd=res)
    try:
        return netns.parse_table(res.text, header=header)[1]
    except ValueError as e:
        ck.ok(False, "table parses", error=str(e), out=res.text)
        return []


def expect_set(ck, what, rows, expected, check_owners=True, named=False, backlog=True):
    """Rows must be exactly the expected sockets, field by field. Without
    backlog (the /proc/net source), a listener's Send-Q is 0: the file does
    not carry the backlog netlink reports."""
    got = {}
    for r in rows:
        k = netns.table_key(r)
        ck.ok(k not in got, what + ": one row per socket", row=r)
        got[k] = r
    want = {}
    for e in expected:
        loc = e["local_named"] if named else e["local"]
        peer = e["peer_named"] if named else e["peer"]
        want[(e["base"], e["state"], loc, peer)] = e
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    ck.ok(not missing and not extra, what + ": exactly the population",
          missing=missing, extra=[got[k].line for k in extra])
    for k in set(want) & set(got):
        e, r = want[k], got[k]
        ck.eq(r.proto, e["proto"], what + ": Proto", row=r)
        sendq = e["sendq"] if backlog or e["state"] != "LISTEN" or e["base"] == "unix" else 0
        ck.eq((r.recvq, r.sendq), (str(e["recvq"]), str(sendq)),
              what + ": Recv-Q/Send-Q", row=r)
        if not check_owners:
            continue
        # A socket without a file (TIME_WAIT) has no owner, and its
        # kernel uid is a placeholder: "-", not root.
        ck.eq(r.user, "root" if e["inode"] else "-", what + ": owning user shown", row=r)
        ck.eq(sorted(r.pids()), sorted(p for p, _ in e["owners"]),
              what + ": holder pids", row=r)
        for _, comm in e["owners"]:
            ck.ok(comm.decode() in r.pfields, what + ": command of each holder",
                  comm=comm, row=r)


def without_netlink(ck, what, rows):
    """All protocols include netlink sockets, which the kernel opens in
    every namespace (its own rtnl socket, portid 0, at least): they must be
    there, UNCONN, and the rest must be the population."""
    nl = [r for r in rows if r.proto == "nl"]
    ck.ok(any(r.local == "0:0" and r.state == "UNCONN" for r in nl),
          what + ": the kernel's rtnl socket is listed", rows=[r.line for r in nl])
    return [r for r in rows if r.proto != "nl"]


def check_population(ck, pop):
    ck.begin("population")
    ck.ok(pop.tw_seen, "ss sees the TIME_WAIT socket we made", expected=pop.tw)

    ck.begin("sockstat -tuwxan")
    expect_set(ck, "-tuwxan", rows_of(ck, sockstat("-tuwxan", "-H")), pop.expected)
    ck.begin("sockstat -an (no protocol: all of them)")
    expect_set(ck, "-an", without_netlink(ck, "-an", rows_of(ck, sockstat("-anH"))),
               pop.expected)

    ck.begin("selections")
    expect_set(ck, "default", rows_of(ck, sockstat("-nH")), pop.select(states="default"))
    expect_set(ck, "-tuwxn", rows_of(ck, sockstat("-tuwxnH")), pop.select(states="default"))
    expect_set(ck, "-ln", without_netlink(ck, "-ln", rows_of(ck, sockstat("-lnH"))),
               pop.select(states="listening"))
    tw = rows_of(ck, sockstat("-tnH"))
    ck.ok(any(r.state == "TIME_WAIT" for r in tw), "TIME_WAIT shown without -a",
          rows=tw)
    for opt, protos in (("-t", ["tcp"]), ("-u", ["udp"]), ("-w", ["raw"]),
                        ("-x", ["unix"]), ("-tu", ["tcp", "udp"])):
        expect_set(ck, opt + "an", rows_of(ck, sockstat(opt + "anH")),
                   pop.select(protos=protos))
    expect_set(ck, "-tl", rows_of(ck, sockstat("-tlnH")),
               pop.select(protos=["tcp"], states="listening"))
    expect_set(ck, "-ul", rows_of(ck, sockstat("-ulnH")),
               pop.select(protos=["udp"], states="listening"))
    inet = ["tcp", "udp", "raw"]
    expect_set(ck, "-tuw4an", rows_of(ck, sockstat("-tuw4anH")),
               pop.select(protos=inet, families=["inet"]))
    expect_set(ck, "-tuw6an", rows_of(ck, sockstat("-tuw6anH")),
               pop.select(protos=inet, families=["inet6"]))
    expect_set(ck, "-4an", rows_of(ck, sockstat("-4anH")),
               pop.select(families=["inet"]))
    expect_set(ck, "-6an", rows_of(ck, sockstat("-6anH")),
               pop.select(families=["inet6"]))
    expect_set(ck, "-f inet6", rows_of(ck, sockstat("-f", "inet6", "-anH")),
               pop.select(families=["inet6"]))
    expect_set(ck, "-f unix", rows_of(ck, sockstat("-f", "unix", "-anH")),
               pop.select(families=["unix"]))
    expect_set(ck, "-f inet,inet6", rows_of(ck, sockstat("--family", "inet,inet6", "-anH")),
               pop.select(families=["inet", "inet6"]))
    expect_set(ck, "--tcp --udp --all --numeric",
               rows_of(ck, sockstat("--tcp", "--udp", "--all", "--numeric", "--no-header")),
               pop.select(protos=["tcp", "udp"]))

    ck.begin("sources")
    p = rows_of(ck, sockstat("--source", "proc", "-tuanH"))
    n = rows_of(ck, sockstat("--source", "netlink", "-tuanH"))
    a = rows_of(ck, sockstat("--source", "auto", "-tuanH"))
    expect_set(ck, "--source proc -tuan", p, pop.select(protos=["tcp", "udp"]), backlog=False)
    expect_set(ck, "--source netlink -tuan", n, pop.select(protos=["tcp", "udp"]))

    def no_backlog(rows):
        return sorted([f[0], f[1], f[2], "0" if f[1] == "LISTEN" else f[3]] + f[4:]
                      for f in (r.line.split() for r in rows))
    ck.eq(no_backlog(p), no_backlog(n),
          "proc and netlink agree row for row (but a listener's backlog)")
    ck.eq(sorted(r.line.split() for r in a), sorted(r.line.split() for r in n),
          "auto and netlink agree row for row")
    expect_set(ck, "--source proc -wan", rows_of(ck, sockstat("--source", "proc", "-wanH")),
               pop.select(protos=["raw"]), backlog=False)
    expect_set(ck, "--source auto -wan", rows_of(ck, sockstat("--source", "auto", "-wanH")),
               pop.select(protos=["raw"]))
    r = sockstat("--source", "netlink", "-wanH")
    if netns.kernel_has_raw_diag():
        expect_set(ck, "--source netlink -wan", rows_of(ck, r), pop.select(protos=["raw"]))
    else:
        ck.eq(r.rc, 1, "--source netlink -w without raw_diag is a runtime error", cmd=r)
        one_line_message(ck, r, "--source netlink -w")
        ck.eq(r.out, b"", "--source netlink -w prints no rows", cmd=r)

    ck.begin("ss as oracle")
    compare_ss(ck, "-tuan", rows_of(ck, sockstat("-tuanH")), netns.ss_rows(["-tua"]))
    ss_def = netns.ss_rows(["-tu"])
    ss_tw = [d for d in netns.ss_rows(["-tua"]) if d["state"] in ("TIME_WAIT", "SYN_RECV")]
    compare_ss(ck, "-tun (ss hides TIME_WAIT without -a)", rows_of(ck, sockstat("-tunH")),
               ss_def + ss_tw)
    compare_ss(ck, "-tuln", rows_of(ck, sockstat("-tulnH")), netns.ss_rows(["-tul"]))
    compare_ss(ck, "-xan", rows_of(ck, sockstat("-xanH")), netns.ss_rows(["-xa"]))

    ck.begin("-P")
    rows = rows_of(ck, sockstat("-tuwxanPH"))
    expect_set(ck, "-P", rows, pop.expected, check_owners=False)
    tw = (pop.tw["local"], pop.tw["peer"])
    for r in rows:
        ck.eq(r.pids(), [], "-P shows no pid", row=r)
        ck.eq(r.user, "-" if (r.local, r.peer) == tw else "root",
              "-P still shows the owning user (none for TIME_WAIT)", row=r)
    rows = rows_of(ck, sockstat("--no-processes", "-tanH"))
    ck.ok(all(not r.pids() for r in rows), "--no-processes shows no pid", rows=rows)

    ck.begin("-n and service names")
    rows = rows_of(ck, sockstat("-tuaH"))
    expect_set(ck, "-tua (names)", rows, pop.select(protos=["tcp", "udp"]), named=True)
    locs = [r.local for r in rows]
    for want in ("127.0.0.1:ssh", "[::1]:http", "*:http-alt"):
        ck.ok(want in locs, "service name shown without -n: " + want, locals=locs)
    locs = [r.local for r in rows_of(ck, sockstat("-tlnH"))]
    for want in ("127.0.0.1:22", "[::1]:80", "*:8080"):
        ck.ok(want in locs, "numeric port with -n: " + want, locals=locs)
    rows = rows_of(ck, sockstat("-tlH"))
    ck.ok(any(r.local == "127.0.0.1:ssh" for r in rows), "-tl names ssh", rows=rows)

    ck.begin("header and alignment")
    res = sockstat("-tuwxan")
    head, rows = None, []
    try:
        head, rows = netns.parse_table(res.text, header=True)
    except ValueError as e:
        ck.ok(False, "table with header parses", error=str(e), out=res.text)
    if head is not None:
        ck.ok(head.split()[:4] == ["Proto", "State", "Recv-Q", "Send-Q"]
              and "Local Address" in head and "Peer Address" in head
              and "Process" in head, "header line names the columns", header=head)
        noh = rows_of(ck, sockstat("-tuwxanH"))
        ck.eq(sorted(r.line.split() for r in noh), sorted(r.line.split() for r in rows),
              "-H removes the header and nothing else")
        ck.ok(all(not r.line.startswith("Proto") for r in noh), "-H: no header line")
        try:
            offs = netns.header_offsets(head)
        except ValueError as e:
            ck.ok(False, "header has every column", error=str(e))
            offs = None
        if offs:
            for r in rows:
                # A UNIX row's Local and Peer cells hold two words each.
                starts = r.col_starts
                ck.eq(starts, offs[:len(starts)], "row fields start under the header",
                      header=head, row=r.line)
        for line in [head] + [r.line for r in rows]:
            ck.ok(line == line.rstrip(), "no trailing spaces", line=line)
        ck.ok(res.out.endswith(b"\n"), "output ends with a newline", out=res.out[-80:])
    long = rows_of(ck, sockstat("-xanH"))
    ck.ok(any(r.local == pop.upath for r in long), "long UNIX path not truncated",
          rows=long)


def compare_ss(ck, what, rows, ss):
    mine = {}
    for r in rows:
        proto, state, loc, peer = netns.table_key(r)
        mine[(proto, state, netns.norm_addr(loc), netns.norm_addr(peer))] = (r.recvq, r.sendq)
    theirs = {}
    for d in ss:
        theirs[netns.ss_key(d)] = (d["recvq"], d["sendq"])
    ck.eq(sorted(mine), sorted(theirs), what + ": same sockets as ss",
          only_sockstat=sorted(set(mine) - set(theirs)),
          only_ss=sorted(set(theirs) - set(mine)))
    for k in set(mine) & set(theirs):
        ck.eq(mine[k], theirs[k], what + ": same queues as ss", socket=k)


def one_line_message(ck, r, what, word=None):
    lines = r.errtext.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    # A usage error (exit 2) adds the contract's second line.
    if r.rc == 2 and lines[1:] == ["Try 'sockstat --help' for more information."]:
        lines.pop()
    ck.ok(len(lines) == 1 and lines[0].startswith("sockstat: "),
          what + ": one line 'sockstat: ...' on stderr", stderr=r.errtext)
    if word is not None:
        ck.ok(word in r.errtext, what + ": message names " + repr(word), stderr=r.errtext)


def check_netns_option(ck, pop):
    ck.begin("-N")
    name = "sstest-%d" % os.getpid()
    r = netns.run(["ip", "netns", "add", name])
    if not ck.ok(r.rc == 0, "ip netns add", cmd=r):
        return
    held = []
    try:
        def setup():
            fd = os.open("/run/netns/" + name, os.O_RDONLY)
            netns.setns(fd)
            os.close(fd)
            netns.lo_up()
            s = socket.socket()
            s.bind(("127.0.0.1", 41444))
            s.listen(4)
            held.append(s)

        h = pop.spawn("sstest-ns", [], setup=setup)
        for arg in (name, "/proc/%d/ns/net" % h.pid):
            for opt in (["-N", arg], ["--net", arg], ["--net=" + arg]):
                rows = rows_of(ck, sockstat(*opt, "-tanH"))
                ck.eq([(r.state, r.local, r.pids()) for r in rows],
                      [("LISTEN", "127.0.0.1:41444", [h.pid])],
                      " ".join(opt) + " lists that namespace's sockets")
        rows = rows_of(ck, sockstat("-tanH"))
        ck.ok(not any(r.local.endswith(":41444") for r in rows),
              "without -N the other namespace is not shown", rows=rows)
        r = sockstat("-N", "sstest-no-such-ns", "-tan")
        ck.ok(r.rc in (1, 2), "unknown namespace fails", cmd=r)
        one_line_message(ck, r, "unknown namespace", "sstest-no-such-ns")
    finally:
        netns.run(["ip", "netns", "del", name])
    ck.ok(not os.path.exists("/run/netns/" + name), "namespace cleaned up")


def check_exit_codes(ck):
    ck.begin("exit codes")
    r = sockstat("-tanH", "sport", "=", ":1")
    ck.eq((r.rc, r.out, r.err), (0, b"", b""), "empty result is success")
    for argv, word in ((["--bogus-option"], "--bogus-option"),
                       (["-Z"], "Z"),
                       (["-N"], "N"),
                       (["--source"], "source"),
                       (["--family", "inetx"], "inetx"),
                       (["-f", "bogus"], "bogus"),
                       (["--source", "carrier-pigeon"], "carrier-pigeon"),
                       (["--format", "yaml"], "yaml"),
                       (["-t", "frobnicate"], "frobnicate"),
                       (["-t", "sport", "=", ":22", "blorp"], "blorp"),
                       (["-t", "(", "sport", "=", ":22"], "("),
                       (["-t", "sport", "=", ":22", ")"], ")"),
                       (["-t", "state", "sleeping"], "sleeping"),
                       (["-t", "dport", "~", ":22"], "~")):
        r = sockstat(*argv)
        ck.eq(r.rc, 2, "usage error exits 2: " + " ".join(argv), cmd=r)
        ck.eq(r.out, b"", "usage error prints nothing on stdout: " + " ".join(argv))
        one_line_message(ck, r, " ".join(argv), word)
    for argv in (["-h"], ["--help"], ["-V"], ["--version"]):
        r = sockstat(*argv)
        ck.eq(r.rc, 0, " ".join(argv) + " exits 0", cmd=r)
        ck.ok(r.out != b"" and r.err == b"", " ".join(argv) + " prints to stdout", cmd=r)

    ck.begin("closed pipe")
    r = netns.run(["sh", "-c", '"$0" -tan | head -1 >/dev/null', netns.SOCKSTAT])
    ck.eq((r.rc, r.err), (0, b""), "sockstat -tan | head -1 is quiet")
    # A reader that is already gone: the first write fails at once.
    for ignore in (False, True):
        rd, wr = os.pipe()
        os.close(rd)

        def pre(ignore=ignore):
            signal.signal(signal.SIGPIPE, signal.SIG_IGN if ignore else signal.SIG_DFL)

        p = subprocess.run([netns.SOCKSTAT, "-tuwxan"], stdout=wr,
                           stderr=subprocess.PIPE, preexec_fn=pre, timeout=30)
        os.close(wr)
        ck.eq(p.stderr, b"", "closed stdout: nothing on stderr (SIGPIPE %s)" %
              ("ignored" if ignore else "default"))
        ck.ok(p.returncode in (0, 1, -signal.SIGPIPE),
              "closed stdout ends without a crash", rc=p.returncode)


def main(ck):
    pop = netns.StdPopulation()
    check_population(ck, pop)
    check_netns_option(ck, pop)
    check_exit_codes(ck)


if __name__ == "__main__":
    netns.run_isolated(main)
