"""An oracle for --count-by (a helper, not a test itself).

`ss_counts(keys, ss_text)` computes from `ss -tanpH` (or `-uanpH`) output
the counts sockstat's `--count-by KEYS` must print, with the contract's
meaning of every key it can derive from ss (all but user, netns, cgroup);
`parse_count_table` and `parse_count_json` read sockstat's two outputs
into the same shape, a Counter of key tuples, so a black-box test is:

    want = ss_counts(["state", "port"], ss_text)
    got = parse_count_table(sockstat("-tan", "--count-by", "state,port").text)
    assert got == want

Running this file runs its self-test on canned ss output.
"""

import collections
import ipaddress
import json
import re
import sys

SS_STATES = {
    "ESTAB": "ESTABLISHED", "LISTEN": "LISTEN", "UNCONN": "UNCONN",
    "TIME-WAIT": "TIME_WAIT", "SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RECV",
    "FIN-WAIT-1": "FIN_WAIT1", "FIN-WAIT-2": "FIN_WAIT2",
    "CLOSE-WAIT": "CLOSE_WAIT", "LAST-ACK": "LAST_ACK", "CLOSING": "CLOSING",
    "CLOSED": "CLOSE",
}
NUMERIC = {"local-port", "peer-port", "port", "cgroup"}


def _endpoint(text):
    """(family, address text as sockstat prints it, port) of an ss endpoint."""
    addr, _, port = text.rpartition(":")
    port = 0 if port == "*" else int(port)
    if addr == "*":
        return "inet6", "::", port  # dual-stack ::, as ss prints it
    addr = addr.split("%")[0]
    if addr.startswith("["):
        return "inet6", str(ipaddress.IPv6Address(addr[1:].rstrip("]").split("%")[0])), port
    return "inet", addr, port


def _net(family, addr):
    if addr in ("0.0.0.0", "::"):
        return "-"
    if family == "inet":
        return str(ipaddress.ip_network(addr + "/24", strict=False))
    a = ipaddress.IPv6Address(addr)
    if a.ipv4_mapped:
        net = ipaddress.ip_network(str(a) + "/120", strict=False)
        return "::ffff:%s/120" % ipaddress.IPv4Address(int(net.network_address) & 0xffffffff)
    return str(ipaddress.ip_network(addr + "/64", strict=False))


def _process(rest):
    m = re.search(r'users:\(\("((?:[^"\\]|\\.)*)"', rest)
    return m.group(1) if m else "-"


def ss_rows(proto, ss_text):
    """ss -[tu]anpH lines as dicts of the raw facts."""
    rows = []
    for line in ss_text.splitlines():
        f = line.split(None, 5)
        if len(f) < 5:
            continue
        if f[0] not in SS_STATES:  # a Netid column came first
            f = line.split(None, 6)[1:]
        state = SS_STATES[f[0]]
        lfam, laddr, lport = _endpoint(f[3])
        _, paddr, pport = _endpoint(f[4])
        rows.append({"proto": proto, "family": lfam,
                     "state": state, "local-addr": laddr, "local-port": lport,
                     "peer-addr": paddr, "peer-port": pport,
                     "peer-net": _net(lfam, paddr),
                     "process": _process(f[5] if len(f) > 5 else "")})
    listened = {r["local-port"] for r in rows if r["state"] in ("LISTEN", "UNCONN") and r["local-port"]}
    for r in rows:
        if r["state"] in ("LISTEN", "UNCONN"):
            r["direction"], r["port"] = "listen", r["local-port"]
        elif r["local-port"] in listened:
            r["direction"], r["port"] = "in", r["local-port"]
        else:
            r["direction"], r["port"] = "out", r["peer-port"]
    return rows


def ss_counts(keys, ss_text, proto="tcp"):
    """Counter {tuple of key values as text: count}."""
    c = collections.Counter()
    for r in ss_rows(proto, ss_text):
        vals = []
        for k in keys:
            if k not in r:
                raise ValueError("the ss oracle cannot derive key %r" % k)
            v = r[k]
            vals.append("*" if k in NUMERIC and v == 0 else str(v))
        c[tuple(vals)] += 1
    return c


def parse_count_table(text, header=True):
    """sockstat's --count-by table: Counter {tuple of cells: Count}.
    Cells are split on spaces, so keys whose values hold spaces (process
    names) need the JSON form."""
    lines = [l for l in text.split("\n") if l]
    if header:
        lines = lines[1:]
    c = collections.Counter()
    for l in lines:
        f = l.split()
        c[tuple(f[:-1])] += int(f[-1])
    return c


def parse_count_json(text, keys):
    c = collections.Counter()
    for obj in json.loads(text):
        vals = []
        for k in keys:
            v = obj[k.replace("-", "_")]
            vals.append("*" if k in NUMERIC and v == 0 else str(v))
        c[tuple(vals)] += obj["count"]
    return c


def _selftest():
    ss = "\n".join([
        'LISTEN 0 128 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=1,fd=3))',
        'LISTEN 0 128 *:22 *:* users:(("sshd",pid=2,fd=3))',
        'ESTAB 0 0 10.0.0.1:80 10.0.0.9:40001 users:(("nginx",pid=1,fd=4))',
        'ESTAB 0 0 10.0.0.1:50000 192.168.1.7:443 users:(("curl",pid=3,fd=5))',
        'TIME-WAIT 0 0 10.0.0.1:80 10.0.0.8:40002',
        'ESTAB 0 0 [2001:db8::1]:22 [2001:db8:0:1::9]:51000 users:(("sshd",pid=4,fd=3))',
    ])
    got = ss_counts(["direction", "port"], ss)
    want = collections.Counter({("listen", "80"): 1, ("listen", "22"): 1, ("in", "80"): 2,
                                ("out", "443"): 1, ("in", "22"): 1})
    assert got == want, got
    got = ss_counts(["proto", "peer-net", "process"], ss)
    assert got[("tcp", "2001:db8:0:1::/64", "sshd")] == 1, got
    assert got[("tcp", "192.168.1.0/24", "curl")] == 1, got
    assert got[("tcp", "-", "nginx")] == 1, got
    assert got[("tcp", "10.0.0.0/24", "-")] == 1, got
    table = "Direction Port Count\nin        80   2\nlisten    22   1\n"
    assert parse_count_table(table) == {("in", "80"): 2, ("listen", "22"): 1}
    js = '[{"direction":"in","port":80,"count":2},{"direction":"(other)","port":"(other)","count":1}]'
    assert parse_count_json(js, ["direction", "port"]) == {("in", "80"): 2, ("(other)", "(other)"): 1}
    print("count_oracle self-test passed")


if __name__ == "__main__":
    _selftest()
    sys.exit(0)
