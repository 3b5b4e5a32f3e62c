#!/usr/bin/env python3
"""JSON, NDJSON, the summary and the detailed views, on the real kernel.

The standard population (netns.py) is listed with -j and --format ndjson,
parsed by python's json module, and checked key by key against what the
test made; -e, -i, -m and -o add their keys with sane values; -s and -s -j
count the population; and peak memory of -j does not grow with the number
of sockets.
"""
import os
import select
import subprocess

import netns

MEMORY_KEYS = {"rmem_alloc", "rcvbuf", "wmem_alloc", "sndbuf", "fwd_alloc",
               "wmem_queued", "optmem", "backlog", "drops"}
TCP_INFO_KEYS = {"congestion", "rtt", "rttvar", "cwnd", "ssthresh", "retransmits",
                 "total_retrans", "bytes_sent", "bytes_acked", "bytes_received",
                 "delivery_rate", "mss"}
KEYS = {"proto", "family", "state", "recv_q", "send_q", "local", "peer", "uid",
        "user", "inode", "processes"}


def objects(ck, what, *args):
    r = netns.sockstat(*args)
    ck.eq(r.rc, 0, what + ": exit 0", cmd=r)
    ck.eq(r.err, b"", what + ": nothing on stderr", cmd=r)
    try:
        if "--format" in args and "ndjson" in args:
            lines = r.out.decode("utf-8", "strict").split("\n")
            ck.eq(lines[-1], "", what + ": ends with a newline")
            return [netns.json.loads(l) for l in lines if l]
        v = netns.parse_json(r.out)
        ck.ok(isinstance(v, list), what + ": one JSON array")
        return v
    except ValueError as e:
        ck.ok(False, what + ": parses as JSON", error=str(e), out=r.out[:300])
        return []


def key_of(o):
    if o["family"] == "unix":
        return ("unix", o["state"], o["local"]["path"], o["inode"])
    return (o["proto"], o["state"], o["local"]["address"], o["local"]["port"],
            o["peer"]["address"], o["peer"]["port"])


def expected_key(e):
    if e["base"] == "unix":
        return ("unix", e["state"], e["path"], e["inode"])
    return (e["base"], e["state"], e["laddr"], e["lport"], e["paddr"], e["pport"])


def check_schema(ck, pop, what, objs, named):
    got = {}
    for o in objs:
        k = key_of(o)
        ck.ok(k not in got, what + ": one object per socket", obj=o)
        got[k] = o
    # Unnamed UNIX sockets are told apart by their inode, so every
    # socket of the namespace has its own key.
    want = {expected_key(e): e for e in pop.expected}
    ck.eq(sorted(got, key=str), sorted(want, key=str),
          what + ": exactly the sockets of the population",
          missing=sorted(set(want) - set(got), key=str),
          extra=sorted(set(got) - set(want), key=str))
    for k in set(want) & set(got):
        e, o = want[k], got[k]
        ck.eq(set(o) - {"type", "v6only"}, KEYS, what + ": the contract's keys", obj=o)
        ck.eq("v6only" in o, e["family"] == "inet6", what + ": v6only on every inet6 socket",
              obj=o)
        if e["family"] == "inet6":
            ck.eq(o["v6only"], e["v6only"], what + ": v6only as the socket is", obj=o)
        ck.eq("type" in o, e["base"] == "unix", what + ": type only for UNIX", obj=o)
        ck.eq(o["family"], e["family"], what + ": family", obj=o)
        ck.eq((o["recv_q"], o["send_q"]), (e["recvq"], e["sendq"]), what + ": queues", obj=o)
        # A socket without a file (TIME_WAIT): the kernel's uid 0 is a
        # placeholder, so neither is known.
        ck.eq((o["uid"], o["user"]), (0, "root") if e["inode"] else (None, None),
              what + ": uid and user", obj=o)
        if e["inode"]:
            ck.eq(o["inode"], e["inode"], what + ": inode", obj=o)
        ck.eq(sorted(p["pid"] for p in o["processes"]), sorted(p for p, _ in e["owners"]),
              what + ": processes", obj=o)
        for p in o["processes"]:
            ck.ok(set(p) == {"pid", "command", "fd", "user"} and isinstance(p["fd"], int)
                  and p["user"] == "root", what + ": process keys", proc=p)
        if e["base"] == "unix":
            ck.eq(o.get("type"), e["type"], what + ": UNIX type", obj=o)
            ck.eq(o["local"], {"path": e["path"]}, what + ": UNIX local.path", obj=o)
            ck.eq(o["peer"], {"inode": e["peer_inode"]}, what + ": UNIX peer", obj=o)
            continue
        ck.ok(isinstance(o["local"]["port"], int), what + ": ports are numbers", obj=o)
        svc = e["lservice"] if named and e["base"] != "raw" else None
        ck.eq(o["local"].get("service"), svc, what + ": service only when named", obj=o)
        ck.ok(set(o["local"]) <= {"address", "port", "service"}, what + ": local keys", obj=o)
        ck.ok(set(o["peer"]) <= {"address", "port", "service"}, what + ": peer keys", obj=o)
    tw = got.get(expected_key(pop.tw))
    ck.ok(tw is not None and tw["processes"] == [], what + ": TIME_WAIT has processes []",
          obj=tw)
    wild = got.get(expected_key(pop.l6))
    ck.ok(wild and wild["peer"] == {"address": "::", "port": 0},
          what + ": a wildcard peer keeps the kernel's values", obj=wild)


def check_outputs(ck, pop):
    ck.begin("-j")
    objs = objects(ck, "-tuwxaj", "-tuwxaj")
    check_schema(ck, pop, "-j", objs, named=True)
    ck.begin("--format ndjson -n")
    nd = objects(ck, "ndjson", "-tuwxan", "--format", "ndjson")
    check_schema(ck, pop, "ndjson -n", nd, named=False)
    ck.eq(len(nd), len(objs), "ndjson and json list the same sockets")

    ck.begin("-P")
    objs = objects(ck, "-P", "-tuwxaPj")
    ck.eq(len(objs), len(pop.expected), "-P lists the whole population")
    for o in objs:
        ck.ok("processes" not in o and "uid" in o and "user" in o,
              "-P: no processes key, uid and user kept", obj=o)

    ck.begin("-e -i -m -o")
    # Traffic on a loopback connection, so tcp_info has something to say.
    pop.c6["sock"].sendall(b"y" * 50000)
    got = 0
    while got < 50000:
        got += len(pop.s6["sock"].recv(65536))
    objs = objects(ck, "-teimoj", "-tneimoj")
    est = [o for o in objs if o["state"] == "ESTABLISHED" and
           o["local"]["port"] in (pop.c6["lport"], pop.s6["lport"]) and
           o["peer"]["port"] in (pop.c6["lport"], pop.s6["lport"])]
    ck.eq(len(est), 2, "both ends of the v6 connection are listed once", objs=est)
    ck.eq(len(objects(ck, "-i UNIX", "-xaij")), len(pop.select(protos=["unix"])),
          "-i with UNIX sockets still lists them")
    for o in objects(ck, "-i UNIX", "-xaij"):
        ck.ok("tcp_info" not in o, "-i: tcp_info for TCP only", obj=o)

    ck.eq(len(objs), len(pop.select(protos=["tcp"], states="default")),
          "-teimoj lists every non-listening TCP socket")
    for o in objs:
        ck.ok(isinstance(o.get("cookie"), int) and o["cookie"] > 0, "-e: cookie", obj=o)
        # Nothing here is bound to a device: the contract's null.
        ck.ok("interface" in o and o["interface"] is None, "-e: interface null when unbound",
              obj=o)
        if o["state"] != "TIME_WAIT":  # a minisocket has no memory counters
            m = o.get("memory")
            ck.ok(isinstance(m, dict) and "rcvbuf" in m and set(m) <= MEMORY_KEYS
                  and all(isinstance(v, int) and v >= 0 for v in m.values()),
                  "-m: memory with the documented keys", obj=o)
        t = o.get("timer")
        ck.ok(isinstance(t, dict) and set(t) == {"kind", "expires_ms", "retrans"} and
              t["kind"] in ("off", "on", "keepalive", "timewait", "probe"),
              "-o: timer {kind, expires_ms, retrans}", obj=o)
        if o["state"] == "TIME_WAIT" and isinstance(t, dict):
            ck.eq(t.get("kind"), "timewait", "-o: a TIME_WAIT socket's timer", obj=o)
        if o["state"] != "TIME_WAIT":
            ti = o.get("tcp_info")
            ck.ok(isinstance(ti, dict) and set(ti) == TCP_INFO_KEYS,
                  "-i: tcp_info with the documented keys", obj=o)
    for o in est:
        ti = o.get("tcp_info") or {}
        # The client sent 50 kB: its bytes were acked; the server got them.
        sender = o["local"]["port"] == pop.c6["lport"]
        moved = ti.get("bytes_acked" if sender else "bytes_received")
        ck.ok(isinstance(ti.get("rtt"), (int, float)) and ti["rtt"] > 0 and
              isinstance(ti.get("cwnd"), int) and ti["cwnd"] >= 1 and
              isinstance(moved, int) and moved >= 50000,
              "-i after traffic (%s): rtt > 0, cwnd >= 1, bytes %s >= 50000" %
              ("sender" if sender else "receiver", "acked" if sender else "received"),
              tcp_info=ti)
        ck.ok(isinstance(ti.get("congestion"), str) and ti["congestion"],
              "-i: congestion algorithm named", tcp_info=ti)


def check_summary(ck, pop):
    ck.begin("-s")
    r = netns.sockstat("-s", "-j")
    ck.eq((r.rc, r.err), (0, b""), "-s -j runs clean", cmd=r)
    s = netns.parse_json(r.out)
    for proto in ("tcp", "udp", "raw", "unix"):
        want = [e for e in pop.expected if e["base"] == proto]
        states = {}
        for e in want:
            states[e["state"]] = states.get(e["state"], 0) + 1
        ck.eq(s.get(proto, {}).get("total"), len(want), "-s -j total: " + proto, summary=s)
        ck.eq(s.get(proto, {}).get("states"), states, "-s -j states: " + proto, summary=s)
        if proto != "unix":
            fams = (len([e for e in want if e["family"] == "inet"]),
                    len([e for e in want if e["family"] == "inet6"]))
            ck.eq((s.get(proto, {}).get("ipv4"), s.get(proto, {}).get("ipv6")), fams,
                  "-s -j ipv4 and ipv6 totals: " + proto, summary=s)
    r = netns.sockstat("-s")
    ck.eq((r.rc, r.err), (0, b""), "-s runs clean", cmd=r)
    lines = r.text.splitlines()
    head = lines[0].split() if lines else []
    ck.eq(head[:4], ["Proto", "Total", "IPv4", "IPv6"], "-s table header", out=r.text)
    table = {l.split()[0]: dict(zip(head, l.split())) for l in lines[1:] if l.split()}
    for proto in ("tcp", "udp", "raw", "unix"):
        want = [e for e in pop.expected if e["base"] == proto]
        row = table.get(proto, {})
        ck.eq(row.get("Total"), str(len(want)), "-s table total: " + proto, out=r.text)
        for st in {e["state"] for e in want}:
            ck.eq(row.get(st), str(len([e for e in want if e["state"] == st])),
                  "-s table %s %s" % (proto, st), out=r.text)
        if proto != "unix":
            ck.eq((row.get("IPv4"), row.get("IPv6")),
                  (str(len([e for e in want if e["family"] == "inet"])),
                   str(len([e for e in want if e["family"] == "inet6"]))),
                  "-s table IPv4/IPv6: " + proto, out=r.text)
    # Every namespace has the kernel's own netlink sockets; they count too.
    nl = int(table.get("nl", {}).get("Total", "0"))
    ck.ok(nl >= 1, "-s table: the kernel's netlink sockets counted", out=r.text)
    ck.eq(table.get("total", {}).get("Total"), str(len(pop.expected) + nl),
          "-s table: the total line counts the population", out=r.text)


def peak_rss_kb(args):
    """Peak RSS of one sockstat run, by GNU time. (A child forked from
    this interpreter would inherit its high-water mark and report that.)"""
    out = "/tmp/sockstat-rss.%d" % os.getpid()
    try:
        r = subprocess.run(["/usr/bin/time", "-o", out, "-f", "%M", netns.SOCKSTAT] + args,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        with open(out) as f:
            kb = int(f.read().split()[-1])
        return kb if r.returncode == 0 else -1
    finally:
        if os.path.exists(out):
            os.unlink(out)


def check_flat_memory(ck):
    ck.begin("memory of -j does not grow with rows")
    if os.environ.get("SOCKSTAT_SANITIZE", "none") != "none":
        print("skipping the memory figures: a sanitized binary's memory is not its own")
        return
    popgen = os.path.join(os.path.dirname(netns.SOCKSTAT), "bench", "popgen")
    if not ck.ok(os.access(popgen, os.X_OK) and os.access("/usr/bin/time", os.X_OK),
                 "bench/popgen is built and GNU time is installed", popgen=popgen):
        return
    rss = {}
    for n, procs in ((2000, 4), (20000, 40)):
        p = subprocess.Popen([popgen, "-t", str(n), "-p", str(procs)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            # Bounded: a popgen that never gets ready must not hang the test.
            ready = b""
            if select.select([p.stdout], [], [], 30)[0]:
                ready = p.stdout.readline()
            if not ck.ok(ready.startswith(b"ready"), "popgen builds %d sockets" % n,
                         out=ready):
                return
            # popgen reports how many it made (a few short of n); earlier
            # checks may leave TIME_WAIT entries of their own on top.
            made = int(ready.split(b"tcp=")[1].split()[0])
            objs = objects(ck, "-tanPj at %d" % n, "-tanPj")
            ck.ok(made >= n * 0.95 and len(objs) >= made,
                  "-tanPj lists the %d sockets popgen made" % made, got=len(objs))
            rss[n] = (min(peak_rss_kb(["-tanPj"]) for _ in range(3)),
                      min(peak_rss_kb(["-tanj"]) for _ in range(3)))
        finally:
            p.stdin.close()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            p.stdout.close()
    print("peak RSS in KiB, 2k -> 20k sockets: -tanPj %d -> %d, -tanj %d -> %d" %
          (rss[2000][0], rss[20000][0], rss[2000][1], rss[20000][1]))
    ck.ok(all(v > 0 for pair in rss.values() for v in pair), "every measured run exits 0",
          kb=rss)
    # The rows stream: ten times the rows cost next to nothing more.
    ck.ok(rss[20000][0] <= rss[2000][0] * 1.1 + 512,
          "peak RSS of -tanPj at 20k is not meaningfully above that at 2k", kb=rss)
    # With owners, the inode -> process map holds every socket fd on the
    # system (not the rows): about 170 bytes a socket, so the 18k more
    # sockets may cost at most 256 bytes each.
    ck.ok(rss[20000][1] <= rss[2000][1] + 18000 * 256 // 1024,
          "-tanj grows only by the owner map (<= 256 bytes a socket)", kb=rss)


def main(ck):
    pop = netns.StdPopulation()
    check_outputs(ck, pop)
    check_summary(ck, pop)
    pop.cleanup()
    check_flat_memory(ck)


if __name__ == "__main__":
    netns.run_isolated(main)
