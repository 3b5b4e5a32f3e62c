#!/usr/bin/env python3
"""Makes basic.ssrec, the recorded dump the golden test replays: inside a
fresh network namespace a TCP listener with one connection, a
dual-stack and a v6-only UDP socket, a UNIX socketpair and a named
listener, a ping socket, an MPTCP listener, a packet socket, a raw socket
(read from /proc/net where the kernel has no raw_diag) and the netlink
sockets of the namespace, recorded with

    sockstat -a -e -m -o -i -P --record basic.ssrec

Then, from the repository root, the golden outputs:

    sockstat -a -P -n --replay tests/data/replay/basic.ssrec > basic.table
    sockstat -a -P -n -j --replay tests/data/replay/basic.ssrec > basic.json
    sockstat -s -P -n --replay ... > basic.summary
Usage (as root): unshare -n python3 record.py SOCKSTAT OUTFILE"""

import socket
import subprocess
import sys


def main():
    sockstat, out = sys.argv[1], sys.argv[2]
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    with open("/proc/sys/net/ipv4/ping_group_range", "w") as f:
        f.write("0 2147483647")
    keep = []
    lst = socket.socket()
    lst.bind(("127.0.0.1", 8080))
    lst.listen(16)
    cli = socket.socket()
    cli.bind(("127.0.0.1", 40000))
    cli.connect(("127.0.0.1", 8080))
    srv, _ = lst.accept()
    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u.bind(("::", 5353))
    u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    u6.bind(("::1", 5354))
    ux = socket.socket(socket.AF_UNIX)
    ux.bind("\0sockstat-golden")
    ux.listen(1)
    ping = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
    ping.bind(("127.0.0.1", 0))
    mp = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
    mp.bind(("127.0.0.1", 8443))
    mp.listen(4)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    pk = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, 0)
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    nl.bind((0, 1))
    keep += [lst, cli, srv, u, u6, ux, ping, mp, raw, pk, nl, socket.socketpair()]
    subprocess.run([sockstat, "-a", "-e", "-m", "-o", "-i", "-P", "--record", out],
                   check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
