#!/usr/bin/env python3
"""More kinds of socket: MPTCP (-M) against ss -M, netlink sockets
(--netlink) against ss -A netlink with their owners, and ping sockets
(-w, Proto icmp/icmp6) with their owners, against /proc and lsof. Then
--record, the namespace's sockets deleted, and --replay printing what
the recorded run printed."""

import os
import shutil
import socket
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402
from netns import sockstat  # noqa: E402

IPPROTO_MPTCP = 262
SS_NAMES = netns.SS_STATES


def table(ck, *args):
    r = sockstat(*args)
    ck.ok(r.rc == 0 and r.err == b"", "sockstat %s runs clean" % " ".join(args), cmd=r)
    try:
        return netns.parse_table(r.text, header=False)[1]
    except ValueError as e:
        ck.ok(False, "table parses", error=str(e), out=r.text)
        return []


def ss_lines(*args):
    r = netns.run(["ss", "-Hn"] + list(args))
    if r.rc != 0:
        raise RuntimeError("ss failed: %r" % r)
    return [l.split() for l in r.text.split("\n") if l.split()]


def check_mptcp(ck, pop):
    ck.begin("MPTCP")
    try:
        lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    except OSError as e:
        ck.ok(False, "an MPTCP socket can be made (net.mptcp.enabled)", error=str(e))
        return
    lst.bind(("127.0.0.1", 0))
    lst.listen(7)
    port = lst.getsockname()[1]
    cli = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    cli.connect(("127.0.0.1", port))
    srv, _ = lst.accept()
    lst6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM, IPPROTO_MPTCP)
    lst6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    lst6.bind(("::1", 0))
    lst6.listen(3)
    holder = pop.spawn("mptcpd", [lst, cli, srv, lst6])
    for s in (lst, cli, srv, lst6):
        s.close()

    # ss -M prints one protocol: no Netid column.
    want = {(SS_NAMES[f[0]], f[1], f[2], netns.norm_addr(f[3]), netns.norm_addr(f[4]))
            for f in ss_lines("-M", "-a")}
    rows = table(ck, "-M", "-a", "-n", "-H")
    got = {(r.state, r.recvq, r.sendq, netns.norm_addr(r.local), netns.norm_addr(r.peer))
           for r in rows}
    ck.eq(got, want, "sockstat -M -a is ss -M -a")
    ck.eq(len(rows), 4, "the two listeners and both ends of the connection")
    ck.eq(sorted({r.proto for r in rows}), ["mptcp", "mptcp6"], "Proto mptcp and mptcp6")
    for r in rows:
        ck.eq(r.pids(), [holder.pid], "each MPTCP socket's owner", row=r)
        ck.ok("mptcpd" in r.pfields, "the owner's command", row=r)

    # The subflows stay TCP rows, as ss -t shows them.
    tcp = {(r.state, r.local, r.peer) for r in table(ck, "-t", "-a", "-n", "-H")
           if r.local.endswith(":%d" % port) or r.peer.endswith(":%d" % port)}
    ss_tcp = {(SS_NAMES[f[0]], f[3], f[4]) for f in ss_lines("-t", "-a")
              if f[3].endswith(":%d" % port) or f[4].endswith(":%d" % port)}
    ck.eq(tcp, ss_tcp, "the subflows are TCP rows, as ss -t shows them")
    ck.ok(len(tcp) >= 2, "subflows of the connection are listed", rows=tcp)

    # A filter goes to mptcp_diag as bytecode and selects what ss selects.
    f = "sport = :%d" % port
    got = {(r.state, r.local, r.peer) for r in table(ck, "-M", "-a", "-n", "-H", f)}
    want = {(SS_NAMES[x[0]], x[3], x[4]) for x in ss_lines("-M", "-a", f)}
    ck.eq(got, want, "a port filter selects what ss selects")
    ck.eq(len(got), 2, "the listener and the accepted end")
    got4 = {r.proto for r in table(ck, "-M", "-a", "-4", "-n", "-H")}
    ck.eq(got4, {"mptcp"}, "-4 keeps the IPv4 MPTCP sockets")

    r = sockstat("-M", "-a", "-j")
    objs = netns.parse_json(r.out) if r.rc == 0 else []
    ck.eq(sorted((o["proto"], o["family"]) for o in objs),
          sorted([("mptcp", "inet")] * 3 + [("mptcp", "inet6")]), "JSON proto and family")
    r = sockstat("-s", "-j")
    s = netns.parse_json(r.out) if r.rc == 0 else {}
    ck.eq(s.get("mptcp", {}).get("total"), 4, "-s -j counts the MPTCP sockets", summary=s)


def check_netlink(ck, pop):
    ck.begin("netlink")
    rt = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    rt.bind((0, 1))  # RTMGRP_LINK: group 1
    gen = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)  # NETLINK_GENERIC
    gen.bind((0, 0))
    unknown = None
    for proto in (17, 22, 23, 30, 31):
        try:
            unknown = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, proto)
            break
        except OSError:
            continue
    rt_port, gen_port = rt.getsockname()[0], gen.getsockname()[0]
    holder = pop.spawn("nlholder", [rt, gen])
    rt.close()
    gen.close()

    # The tools' own sock_diag sockets differ between the two runs.
    def mine(local):
        return local.startswith("4:") and local != "4:0"

    want = {(f[1], f[2], f[3], f[4]) for f in ss_lines("-A", "netlink", "-a", "-p")
            if not mine(f[3])}
    rows = table(ck, "--netlink", "-a", "-n", "-H")
    got = {(r.recvq, r.sendq, r.local, r.peer) for r in rows if not mine(r.local)}
    ck.eq(got, want, "sockstat --netlink -a -n is ss -A netlink -a -n")
    ck.ok(all(r.proto == "nl" and r.state == "UNCONN" for r in rows), "Proto nl, UNCONN",
          rows=rows)
    by_local = {r.local: r for r in rows}
    for local in ("0:%d" % rt_port, "16:%d" % gen_port):
        r = by_local.get(local)
        ck.ok(r is not None, "the holder's socket %s is listed" % local, rows=rows)
        if r:
            ck.eq(r.pids(), [holder.pid], "its owner", row=r)
            ck.ok("nlholder" in r.pfields, "its owner's command", row=r)
    ck.ok("0:0" in by_local, "the kernel's rtnl socket is listed")

    named = {r.local for r in table(ck, "--netlink", "-a", "-H", "-P")}
    ck.ok("rtnl:%d" % rt_port in named and "genl:%d" % gen_port in named
          and "rtnl:kernel" in named, "protocol names as ss prints them", rows=named)
    ss_out = netns.run(["ss", "-H", "-A", "netlink", "-a"]).text
    ss_named = {l.split()[3].split(":")[0] for l in ss_out.split("\n") if l.split()}
    ours = {l.split(":")[0] for l in named}
    ck.eq(ours, ss_named, "the same protocol names as ss")
    if unknown is not None:
        ck.ok(any(l.startswith("%d:" % unknown.proto) for l in named),
              "a protocol without a name prints as its number", rows=named)
        unknown.close()

    # The /proc/net/netlink fallback gives the same sockets. The kernel's
    # sock_diag socket holds memory only while a dump runs: its queue
    # differs between the two sources, by design.
    def queues(rs):
        return {(r.local, r.recvq if not r.local.startswith("4:") else "-") for r in rs
                if not mine(r.local)}
    proc = queues(table(ck, "--netlink", "-a", "-n", "-H", "--source", "proc"))
    ck.eq(proc, queues(rows), "--source proc lists the same netlink sockets")
    ck.ok({r.local for r in table(ck, "-f", "netlink", "-a", "-n", "-H")} >= {"0:%d" % rt_port},
          "-f netlink selects them too")

    r = sockstat("--netlink", "-a", "-j")
    objs = netns.parse_json(r.out) if r.rc == 0 else []
    mine_obj = [o for o in objs if o["local"].get("portid") == rt_port
                and o["local"].get("protocol") == 0]
    ck.eq(len(mine_obj), 1, "JSON has the holder's rtnl socket", objs=objs)
    if mine_obj:
        o = mine_obj[0]
        ck.eq((o["proto"], o["family"], o["local"]["protocol_name"], o["local"]["groups"]),
              ("nl", "netlink", "rtnl", 1), "JSON proto, family, protocol name, groups", obj=o)
        ck.eq([p["pid"] for p in o["processes"]], [holder.pid], "JSON owners", obj=o)
    ck.ok(sockstat("--netlink=1").rc == 2, "--netlink takes no argument")


def check_ping(ck, pop):
    ck.begin("ping sockets")
    # Only inside this namespace: the host's setting is not touched.
    with open("/proc/sys/net/ipv4/ping_group_range", "w") as f:
        f.write("0 2147483647")
    p4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
    p4.bind(("127.0.0.1", 0))
    c4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
    c4.connect(("127.0.0.1", 0))
    p6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM, socket.IPPROTO_ICMPV6)
    p6.bind(("::1", 0))
    ids = (p4.getsockname()[1], c4.getsockname()[1], p6.getsockname()[1])
    inodes = [netns.inode_of(s) for s in (p4, c4, p6)]
    holder = pop.spawn("pinger", [p4, c4, p6])
    for s in (p4, c4, p6):
        s.close()

    rows = table(ck, "-w", "-a", "-n", "-H")
    want = {("icmp", "UNCONN", "127.0.0.1:%d" % ids[0], "0.0.0.0:*"),
            ("icmp", "ESTABLISHED", "127.0.0.1:%d" % ids[1], "127.0.0.1:*"),
            ("icmp6", "UNCONN", "[::1]:%d" % ids[2], "[::]:*")}
    got = {(r.proto, r.state, r.local, r.peer) for r in rows if r.proto.startswith("icmp")}
    ck.eq(got, want, "-w lists the ping sockets, Proto icmp and icmp6")
    for r in rows:
        if r.proto.startswith("icmp"):
            ck.eq(r.pids(), [holder.pid], "each ping socket's owner", row=r)
            ck.ok("pinger" in r.pfields, "the owner's command", row=r)
    ck.eq({r.proto for r in table(ck, "-w", "-a", "-6", "-n", "-H")}, {"icmp6"},
          "-6 keeps the ICMPv6 one")
    ck.eq(len(table(ck, "-w", "-n", "-H")), 1, "without -a only the connected one")
    ck.eq(len(table(ck, "-w", "-a", "-n", "-H", "sport = :%d" % ids[0])), 1,
          "a port filter selects by echo identifier")
    r = sockstat("-w", "-a", "-j")
    objs = netns.parse_json(r.out) if r.rc == 0 else []
    ck.eq(sorted(o["inode"] for o in objs if o["proto"] == "icmp"), sorted(inodes),
          "JSON proto icmp for all three, by inode")
    r = sockstat("-s", "-j")
    s = netns.parse_json(r.out) if r.rc == 0 else {}
    ck.eq(s.get("icmp", {}).get("total"), 3, "-s -j counts the ping sockets", summary=s)

    if shutil.which("lsof"):
        # lsof, the one other tool that shows them, agrees on the holder.
        r = netns.run(["lsof", "-nP", "-a", "-p", str(holder.pid), "-d", "0-999"])
        seen = set()
        for l in r.text.split("\n")[1:]:
            f = l.split()
            # "icmp" (no DEVICE column) for IPv4; a "sock" of "PINGv6" for IPv6.
            if ("icmp" in f[4:5] or "PINGv6" in f) and "0t0" in f:
                node = f[f.index("0t0") + 1]
                if node.isdigit():
                    seen.add(int(node))
        ck.eq(seen, set(inodes), "lsof sees the same three ping sockets", out=r.text)


def not_diag(text, view):
    """The output without the rows of NETLINK_SOCK_DIAG sockets."""
    if view == "json":
        return [o for o in netns.parse_json(text.encode())
                if not (o["family"] == "netlink" and o["local"]["protocol"] == 4)]
    return [l for l in text.split("\n") if not (l.startswith("nl ") and " 4:" in l)]


def check_record_replay(ck, pop, tmp):
    ck.begin("record and replay")
    # With the sockets alive, owners come out the same from the live system.
    rec = os.path.join(tmp, "owners.ssrec")
    args = ["-t", "-u", "-w", "-M", "-a", "-n"]
    first = sockstat(*args, "--record", rec)
    again = sockstat(*args, "--replay", rec)
    ck.ok(first.rc == 0 and again.rc == 0, "record and replay run", cmd=(first, again))
    ck.eq(again.text, first.text, "the replay prints the recorded rows and owners")
    ck.ok(len(first.text.split("\n")) > 6, "the recording has rows", out=first.text)

    views = {"table": ["-a", "-n", "-P"], "json": ["-a", "-n", "-P", "-j"],
             "extended": ["-a", "-n", "-P", "-e", "-m", "-o", "-i"]}
    recorded = {}
    for name, v in views.items():
        r = sockstat(*v, "--record", os.path.join(tmp, name + ".ssrec"))
        ck.ok(r.rc == 0 and r.err == b"", "recording %s runs clean" % name, cmd=r)
        recorded[name] = r.text
    # One full recording serves the narrower views too.
    sockstat("-a", "-e", "-i", "-m", "-o", "-P", "--record", os.path.join(tmp, "all.ssrec"))

    # Delete the namespace's sockets: every holder killed.
    pop.cleanup()
    live = sockstat("-a", "-n", "-P").text
    ck.ok(live != recorded["table"], "the sockets are gone from the live system", live=live)
    for name, v in views.items():
        r = sockstat(*v, "--replay", os.path.join(tmp, name + ".ssrec"))
        ck.ok(r.rc == 0 and r.err == b"", "replaying %s runs clean" % name, cmd=r)
        ck.eq(r.text, recorded[name], "the replay of %s is the recorded output" % name)
        # Another run's own sock_diag socket (and the kernel's, busy
        # answering it) differ between recordings: those rows aside.
        r = sockstat(*v, "--replay", os.path.join(tmp, "all.ssrec"))
        ck.eq(not_diag(r.text, name), not_diag(recorded[name], name),
              "the full recording replays %s too" % name)
    netns.parse_json(sockstat("-a", "-j", "--replay", os.path.join(tmp, "json.ssrec")).out)

    # Refused files: one message naming the offset, exit 1.
    with open(os.path.join(tmp, "table.ssrec"), "rb") as f:
        data = f.read()
    bad = {"cut": data[:len(data) // 2], "version": data[:8] + b"\x02" + data[9:],
           "empty": b"", "text": b"Proto State\n"}
    for name, content in bad.items():
        path = os.path.join(tmp, "bad-" + name)
        with open(path, "wb") as f:
            f.write(content)
        r = sockstat("--replay", path)
        ck.eq(r.rc, 1, "a %s recording exits 1" % name, cmd=r)
        lines = r.errtext.strip().split("\n")
        ck.ok(len(lines) == 1 and "offset" in lines[0] and r.out == b"",
              "one message naming the offset, nothing listed", err=r.errtext)
    r = sockstat("--replay", os.path.join(tmp, "table.ssrec"), "--record", path)
    ck.eq(r.rc, 2, "--record with --replay is a usage error", cmd=r)
    r = sockstat("-a", "--record", os.path.join(tmp, "no", "such", "dir"))
    ck.eq(r.rc, 1, "an unwritable recording exits 1", cmd=r)


def main(ck):
    pop = netns.Population()
    tmp = tempfile.mkdtemp(prefix="sockstat-protos-")
    try:
        check_mptcp(ck, pop)
        check_netlink(ck, pop)
        check_ping(ck, pop)
        check_record_replay(ck, pop, tmp)
    finally:
        pop.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    netns.run_isolated(main)
