#!/usr/bin/env python3
"""JSON, NDJSON, the summary and the detailed views, on the real kernel.

The standard population (netns.py) is listed with -j and --format ndjson,
parsed by python's json module, and checked key by key against what the
test made; -e, -i, -m and -o add their keys with sane values; -s and -s -j
count the population; and peak memory of -j does not grow with the number
of sockets.
"""
import os
import subprocess

import netns

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
    want = {}
    for e in pop.expected:
        if e["base"] == "unix" and e["path"] == "":
            continue  # unnamed: not a unique key; checked by peer below
        want[expected_key(e)] = e
    ck.ok(set(want) <= set(got), what + ": every socket of the population",
          missing=sorted(set(want) - set(got), key=str))
    for k in set(want) & set(got):
        e, o = want[k], got[k]
        ck.eq(set(o) - {"type"}, KEYS, what + ": the contract's keys", obj=o)
        ck.eq(o["family"], e["family"], what + ": family", obj=o)
        ck.eq((o["recv_q"], o["send_q"]), (e["recvq"], e["sendq"]), what + ": queues", obj=o)
        ck.eq((o["uid"], o["user"]), (0, "root"), what + ": uid and user", obj=o)
        if e["inode"]:
            ck.eq(o["inode"], e["inode"], what + ": inode", obj=o)
        ck.eq(sorted(p["pid"] for p in o["processes"]), sorted(p for p, _ in e["owners"]),
              what + ": processes", obj=o)
        for p in o["processes"]:
            ck.ok(set(p) == {"pid", "command", "fd", "user"} and isinstance(p["fd"], int)
                  and p["user"] == "root", what + ": process keys", proc=p)
        if e["base"] == "unix":
            ck.eq(o["type"], e["type"], what + ": UNIX type", obj=o)
            ck.eq(o["peer"], {"inode": e["peer_inode"]}, what + ": UNIX peer", obj=o)
            continue
        ck.ok(isinstance(o["local"]["port"], int), what + ": ports are numbers", obj=o)
        svc = e["lservice"] if named else None
        ck.eq(o["local"].get("service"), svc, what + ": service only when named", obj=o)
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
    for o in objects(ck, "-P", "-tuwxaPj"):
        ck.ok("processes" not in o and "uid" in o and "user" in o,
              "-P: no processes key, uid and user kept", obj=o)

    ck.begin("-e -i -m -o")
    # Traffic on a loopback connection, so tcp_info has something to say.
    pop.c6["sock"].sendall(b"y" * 50000)
    got = 0
    while got < 50000:
        got += len(pop.s6["sock"].recv(65536))
    objs = objects(ck, "-teimoj", "-tneimoj")
    est = [o for o in objs if o["local"]["port"] == pop.c6["lport"]
           and o["state"] == "ESTABLISHED"]
    ck.eq(len(est), 1, "the v6 client is listed once", objs=est)
    for o in objs:
        ck.ok(isinstance(o.get("cookie"), int) and o["cookie"] > 0, "-e: cookie", obj=o)
        ck.ok("interface" in o, "-e: interface key", obj=o)
        if o["state"] != "TIME_WAIT":  # a minisocket has no memory counters
            ck.ok(isinstance(o.get("memory"), dict) and "rcvbuf" in o["memory"],
                  "-m: memory", obj=o)
        ck.ok(isinstance(o.get("timer"), dict) and o["timer"].get("kind") in
              ("off", "on", "keepalive", "timewait", "probe"), "-o: timer", obj=o)
        if o["state"] != "TIME_WAIT":
            ck.ok(isinstance(o.get("tcp_info"), dict), "-i: tcp_info for TCP", obj=o)
    for o in est:
        ti = o["tcp_info"]
        ck.ok(ti["rtt"] > 0 and ti["cwnd"] >= 1 and ti["bytes_acked"] > 0,
              "-i after traffic: rtt > 0, cwnd >= 1, bytes_acked > 0", tcp_info=ti)
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
    r = netns.sockstat("-s")
    ck.eq((r.rc, r.err), (0, b""), "-s runs clean", cmd=r)
    tcp = [l for l in r.text.splitlines() if l.split()[:1] == ["tcp"]]
    ntcp = len([e for e in pop.expected if e["base"] == "tcp"])
    ck.ok(len(tcp) == 1 and tcp[0].split()[1] == str(ntcp), "-s table: tcp total",
          out=r.text)


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
    rss = {}
    for n, procs in ((2000, 4), (20000, 40)):
        p = subprocess.Popen([popgen, "-t", str(n), "-p", str(procs)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            ready = p.stdout.readline()
            ck.ok(ready.startswith(b"ready"), "popgen builds %d sockets" % n, out=ready)
            rss[n] = (min(peak_rss_kb(["-tanPj"]) for _ in range(3)),
                      min(peak_rss_kb(["-tanj"]) for _ in range(3)))
        finally:
            p.stdin.close()
            p.wait(timeout=30)
    print("peak RSS in KiB, 2k -> 20k sockets: -tanPj %d -> %d, -tanj %d -> %d" %
          (rss[2000][0], rss[20000][0], rss[2000][1], rss[20000][1]))
    # The rows stream: ten times the rows cost next to nothing more.
    ck.ok(0 < rss[20000][0] <= rss[2000][0] * 1.1 + 512,
          "peak RSS of -tanPj at 20k is not meaningfully above that at 2k", kb=rss)
    # With owners, the inode -> process map holds every socket fd on the
    # system (not the rows): a bounded cost per socket, under 256 bytes.
    ck.ok(0 < rss[20000][1] <= rss[2000][1] + 18000 * 256 // 1024,
          "-tanj grows only by the owner map", kb=rss)


def main(ck):
    pop = netns.StdPopulation()
    check_outputs(ck, pop)
    check_summary(ck, pop)
    pop.cleanup()
    check_flat_memory(ck)


if __name__ == "__main__":
    netns.run_isolated(main)
