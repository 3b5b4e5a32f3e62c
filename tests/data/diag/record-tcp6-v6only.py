#!/usr/bin/env python3
# Records tcp6-v6only.bin: run as root with `unshare -n python3 record-tcp6-v6only.py tcp6-v6only.bin`.
import socket, struct, sys
# Runs inside `unshare -n`: two inet6 TCP listeners, v6-only and dual-stack,
# then one inet_diag dump of AF_INET6 TCP, saved as the kernel sent it.
import subprocess
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
a = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
a.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
a.bind(("::", 9090)); a.listen(4)
b = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
b.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
b.bind(("::", 9091)); b.listen(4)
nl = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 4)
# inet_diag_req_v2: family, protocol, ext, pad, states, id(48 bytes)
req = struct.pack("=BBBBI", socket.AF_INET6, socket.IPPROTO_TCP, 0, 0, 0xffffffff) + b"\0" * 48
nl.send(struct.pack("=IHHII", 16 + len(req), 20, 0x301, 1, 0) + req)
out = b""
done = False
while not done:
    d = nl.recv(65536)
    off = 0
    while off + 16 <= len(d):
        ln, typ, fl, seq, pid = struct.unpack_from("=IHHII", d, off)
        msg = bytearray(d[off:off + ln])
        struct.pack_into("=I", msg, 12, 0)  # portid 0, as the tests' conversation
        out += bytes(msg) + b"\0" * (((ln + 3) & ~3) - ln)
        off += (ln + 3) & ~3
        if typ == 3:
            done = True
open(sys.argv[1], "wb").write(out)
