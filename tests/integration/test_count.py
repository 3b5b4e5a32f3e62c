#!/usr/bin/env python3
"""The counting engine on the real kernel, against ss.

In a private namespace: listeners on 127.0.0.1:8080 (process web) and
[::1]:9090 (process api), connections to both from a process cli, one
TIME_WAIT. tests/count_live (gather, owners and the count engine, wired as
main will wire --count-by) is run with many key lists, as a table and as
JSON, with and without --top; every answer must equal the counts that
count_oracle derives from `ss -tanpH`.
"""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import count_oracle  # noqa: E402
import netns  # noqa: E402

LIVE = os.environ.get("COUNT_LIVE", "")
KEY_LISTS = [
    "state", "proto,state", "family,state", "local-addr,local-port", "peer-addr",
    "peer-port", "peer-net", "direction", "port", "direction,port",
    "direction,port,state,process", "process", "proto,peer-net,direction",
]


def population():
    pop = netns.Population()
    web = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    web.bind(("127.0.0.1", 8080))
    web.listen(16)
    api = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    api.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    api.bind(("::1", 9090))
    api.listen(16)
    clients, web_side, api_side = [], [web], [api]
    for _ in range(3):
        c, s = netns.tcp_pair(web, socket.AF_INET, ("127.0.0.1", 8080))
        clients.append(c)
        web_side.append(s)
    for _ in range(2):
        c, s = netns.tcp_pair(api, socket.AF_INET6, ("::1", 9090))
        clients.append(c)
        api_side.append(s)
    # The side that closes first keeps TIME_WAIT: the client, here.
    c, s = netns.tcp_pair(web, socket.AF_INET, ("127.0.0.1", 8080))
    c.close()
    time.sleep(0.05)
    s.close()
    pop.spawn("web", web_side)
    pop.spawn("api", api_side)
    pop.spawn("cli", clients)
    # Only the holders keep them now, so each socket's first holder is known.
    for s in web_side + api_side + clients:
        s.close()
    return pop


def ss_text():
    r = netns.run(["ss", "-tanpH"])
    if r.rc != 0:
        raise RuntimeError("ss failed: %r" % r)
    return r.text


def live(*args):
    return netns.run([LIVE] + list(args))


def main(ck):
    pop = population()
    try:
        ss = ss_text()
        ck.ok(ss.count("TIME-WAIT") == 1, "the population has its TIME_WAIT", ss=ss)
        for keys in KEY_LISTS:
            ck.begin("--count-by " + keys)
            klist = keys.split(",")
            want = count_oracle.ss_counts(klist, ss)
            r = live(keys, "table")
            ck.eq(r.rc, 0, "exit 0", cmd=r)
            got = count_oracle.parse_count_table(r.text)
            ck.eq(got, want, "table counts equal ss's", out=r.text, ss=ss)
            lines = r.text.split("\n")
            ck.ok(all(not l.endswith(" ") for l in lines), "no trailing spaces", out=r.text)
            counts = [int(l.split()[-1]) for l in lines[1:] if l]
            ck.eq(counts, sorted(counts, reverse=True), "most first", out=r.text)
            r = live(keys, "json")
            ck.eq(r.rc, 0, "json: exit 0", cmd=r)
            got = count_oracle.parse_count_json(r.text, klist)
            ck.eq(got, want, "JSON counts equal ss's", out=r.text)
            # --top 2: the two largest rows, then the rest summed as (other).
            r = live(keys, "json", "2")
            rows = json.loads(r.text)
            if len(want) > 2:
                ck.eq(len(rows), 3, "top 2 gives three rows", out=r.text)
                ck.eq([o["count"] for o in rows[:2]], sorted(want.values(), reverse=True)[:2],
                      "top 2 keeps the largest", out=r.text)
                ck.eq(rows[-1]["count"], sum(sorted(want.values(), reverse=True)[2:]),
                      "the rest sums into (other)", out=r.text)
                ck.ok(all(v == "(other)" for k, v in rows[-1].items() if k != "count"),
                      "every key of the last row is (other)", out=r.text)
            else:
                ck.eq(len(rows), len(want), "top 2 of fewer rows keeps them all", out=r.text)
        ck.begin("known values")
        got = count_oracle.parse_count_table(live("direction,port,state,process").text)
        ck.eq(got.get(("in", "8080", "ESTABLISHED", "web")), 3, "3 in on 8080 held by web")
        ck.eq(got.get(("out", "8080", "ESTABLISHED", "cli")), 3, "3 out to 8080 held by cli")
        ck.eq(got.get(("in", "9090", "ESTABLISHED", "api")), 2, "2 in on 9090 held by api")
        ck.eq(got.get(("out", "8080", "TIME_WAIT", "-")), 1, "the TIME_WAIT is out to 8080, no process")
        ck.eq(got.get(("listen", "8080", "LISTEN", "web")), 1, "web listens on 8080")
        got = count_oracle.parse_count_table(live("user", "table", "0", "-P").text)
        ck.eq(got.get(("-",)), 1, "-P: the TIME_WAIT has no user")
        ck.eq(got.get(("root",)), 12, "-P: the 12 other sockets have root's kernel uid")
    finally:
        pop.cleanup()


if __name__ == "__main__":
    if not LIVE or not os.access(LIVE, os.X_OK):
        print("FAIL: set COUNT_LIVE to the built tests/count_live (got %r)" % LIVE)
        sys.exit(1)
    netns.run_isolated(main)
