#!/usr/bin/env python3
"""The protocol table, seen from outside.

UNIX rows carry their socket type in the Proto column as ss spells it
(u_str, u_dgr, u_seq), from netlink and from /proc alike, while JSON keeps
"proto": "unix" with a "type". Each check runs in a private namespace
against the real kernel, with ss as the oracle.
"""
import json
import os
import socket
import tempfile

import netns

TYPES = [(socket.SOCK_STREAM, "u_str", "stream"),
         (socket.SOCK_DGRAM, "u_dgr", "dgram"),
         (socket.SOCK_SEQPACKET, "u_seq", "seqpacket")]


def make_sockets(tmp):
    """One named socket of each type; returns [(sock, path, column, type)]."""
    out = []
    for typ, column, name in TYPES:
        s = socket.socket(socket.AF_UNIX, typ)
        path = os.path.join(tmp, name + ".sock")
        s.bind(path)
        if typ != socket.SOCK_DGRAM:
            s.listen(1)
        out.append((s, path, column, name))
    return out


def first_field_of(text, path):
    """The Proto column of the one table line that shows path."""
    lines = [ln for ln in text.split("\n") if (" " + path + " ") in (ln + " ")]
    return [ln.split()[0] for ln in lines]


def check_table(ck, socks):
    ck.begin("UNIX Proto column")
    for source in ("netlink", "proc", "auto"):
        r = netns.sockstat("--source", source, "-xanH")
        ck.eq((r.rc, r.err), (0, b""), "--source %s: exit 0, quiet" % source, cmd=r)
        for _, path, column, _ in socks:
            ck.eq(first_field_of(r.text, path), [column],
                  "--source %s: %s shows %s" % (source, path, column), out=r.text)
        # Every UNIX row names its type; none says plain "unix".
        protos = {ln.split()[0] for ln in r.text.split("\n") if ln.strip()}
        ck.ok(protos <= {"u_str", "u_dgr", "u_seq"},
              "--source %s: only ss's UNIX spellings" % source, protos=sorted(protos))
    # The two sources agree row for row on the Proto column.
    nl = sorted(ln.split()[0] for ln in netns.sockstat("--source", "netlink", "-xanH").text.split("\n") if ln)
    pr = sorted(ln.split()[0] for ln in netns.sockstat("--source", "proc", "-xanH").text.split("\n") if ln)
    ck.eq(nl, pr, "netlink and /proc give the same Proto column")


def check_ss(ck, socks):
    ck.begin("ss as oracle")
    r = netns.run(["ss", "-Hxan"])
    ck.eq(r.rc, 0, "ss runs", cmd=r)
    for _, path, column, _ in socks:
        theirs = [ln.split()[0] for ln in r.text.split("\n") if path in ln.split()]
        ck.eq(theirs, [column], "ss spells %s as %s too" % (path, column), out=r.text)


def check_json(ck, socks):
    ck.begin("JSON keeps the protocol")
    r = netns.sockstat("-xanj")
    ck.eq(r.rc, 0, "-xanj: exit 0", cmd=r)
    objs = json.loads(r.out.decode("utf-8"))
    for _, path, _, name in socks:
        mine = [o for o in objs if o.get("local", {}).get("path") == path]
        ck.eq(len(mine), 1, "-xanj lists %s once" % path, objs=mine)
        for o in mine:
            ck.eq((o["proto"], o["family"], o.get("type")), ("unix", "unix", name),
                  "JSON: proto unix, family unix, type %s" % name, obj=o)


def main(ck):
    with tempfile.TemporaryDirectory() as tmp:
        socks = make_sockets(tmp)
        try:
            check_table(ck, socks)
            check_ss(ck, socks)
            check_json(ck, socks)
        finally:
            for s, _, _, _ in socks:
                s.close()


if __name__ == "__main__":
    netns.run_isolated(main)
