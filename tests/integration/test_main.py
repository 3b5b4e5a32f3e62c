#!/usr/bin/env python3
"""The program's edges: how it starts (closed standard fds, a low fd limit),
how it names a namespace (-N with a FIFO, a plain file, an overlong path),
what it says on a usage error and on a write error (--help, --version and
listings into a full disk), and the one line a non-root user sees on a
terminal about the processes it could not read."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402
from netns import sockstat  # noqa: E402

NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
TRY = "Try 'sockstat --help' for more information."


def check_std_fds(ck):
    ck.begin("closed standard descriptors")
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 7101))
    srv.listen()
    # stdout closed: a write error, not our JSON sent to a netlink socket
    # that took fd 1. strace would show the sendmsg; the exit status and
    # the message are what a user sees.
    p = subprocess.run("exec %s -tlj >&-" % netns.SOCKSTAT, shell=True,
                       stderr=subprocess.PIPE, timeout=30)
    ck.eq(p.returncode, 1, "stdout closed: exit 1", stderr=p.stderr)
    ck.eq(p.stderr.decode(), "sockstat: write error: Bad file descriptor\n",
          "stdout closed: one write error message")
    # stdin closed: fd 0 must not become the netlink socket either; the
    # listing is still complete.
    p = subprocess.run("exec %s -tlnH <&-" % netns.SOCKSTAT, shell=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    ck.eq(p.returncode, 0, "stdin closed: exit 0", stderr=p.stderr)
    ck.ok(b"127.0.0.1:7101" in p.stdout, "stdin closed: the listener is listed",
          out=p.stdout)
    # stderr closed: the listing still works.
    p = subprocess.run("exec %s -tlnH 2>&-" % netns.SOCKSTAT, shell=True,
                       stdout=subprocess.PIPE, timeout=30)
    ck.eq(p.returncode, 0, "stderr closed: exit 0")
    ck.ok(b"127.0.0.1:7101" in p.stdout, "stderr closed: the listener is listed")
    srv.close()


def check_netns_option(ck, tmp):
    ck.begin("-N hardening")
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    try:
        r = sockstat("-N", fifo, "-tan", timeout=10)
    except subprocess.TimeoutExpired:
        ck.ok(False, "-N FIFO returns instead of blocking in open()")
    else:
        ck.eq(r.rc, 2, "-N FIFO: a usage error", res=r)
        ck.ok("not a network namespace" in r.errtext, "-N FIFO: says why", res=r)
    plain = os.path.join(tmp, "plain")
    with open(plain, "w") as f:
        f.write("x\n")
    r = sockstat("-N", plain, "-tan")
    ck.eq(r.rc, 2, "-N plain file: a usage error", res=r)
    ck.ok("'%s': not a network namespace" % plain in r.errtext, "-N plain file: names it", res=r)
    # A path longer than PATH_MAX is refused, never cut to another one.
    long_path = "/proc/self/ns/net" + "/" * 5000
    r = sockstat("-N", long_path, "-tan")
    ck.eq(r.rc, 2, "-N overlong path: a usage error", res=r)
    ck.ok("File name too long" in r.errtext, "-N overlong path: the reason is in the message",
          res=r)
    ck.ok(len(r.err) < 600, "-N overlong path: the path is cut in the message", res=r)
    r = sockstat("-N", "..", "-tan")
    ck.eq(r.rc, 2, "-N ..: refused", res=r)
    # A real namespace path still works.
    r = sockstat("-N", "/proc/self/ns/net", "-tan")
    ck.eq(r.rc, 0, "-N /proc/self/ns/net works", res=r)


def check_usage(ck):
    ck.begin("usage errors")
    for args in (["--bogus"], ["-Z"], ["--format", "xml"], ["state", "nosuch"]):
        r = sockstat(*args)
        ck.eq(r.rc, 2, "%s: exit 2" % args, res=r)
        lines = r.errtext.split("\n")
        ck.ok(len(lines) == 3 and lines[0].startswith("sockstat: ") and lines[1] == TRY
              and lines[2] == "", "%s: the message, then the --help line" % args, err=r.errtext)
        ck.eq(r.out, b"", "%s: nothing on stdout" % args)
    for args in (["--help"], ["-V"]):
        r = sockstat(*args)
        ck.eq((r.rc, r.err), (0, b""), "%s: exit 0, quiet" % args, res=r)


def check_full_disk(ck):
    ck.begin("write errors")
    # Something to list in every format (an empty NDJSON stream writes nothing).
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 7104))
    srv.listen()
    for args in (["--help"], ["--version"], ["-tln"], ["-tlnj"], ["-tln", "--format", "ndjson"],
                 ["-s"]):
        with open("/dev/full", "w") as full:
            p = subprocess.run([netns.SOCKSTAT] + args, stdout=full, stderr=subprocess.PIPE,
                               timeout=30)
        ck.eq(p.returncode, 1, "%s into /dev/full: exit 1" % args, stderr=p.stderr)
        ck.eq(p.stderr.decode(), "sockstat: write error: No space left on device\n",
              "%s into /dev/full: one message" % args)
    srv.close()


def check_fd_limit(ck):
    ck.begin("a low fd limit")
    # The owners scan opens /proc/PID/fd of every process; with a soft
    # limit too low for that, sockstat raises it (up to the hard limit)
    # rather than losing owners silently.
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 7102))
    srv.listen()
    r = netns.run(["prlimit", "--nofile=10:%d" % 4096, netns.SOCKSTAT, "-tln", "--pid",
                   str(os.getpid())])
    ck.eq(r.rc, 0, "soft limit 10: exit 0", res=r)
    ck.ok(":7102" in r.text and str(os.getpid()) in r.text,
          "soft limit 10: --pid still finds the listener with its owner", out=r.text)
    srv.close()


def check_not_root_line(ck, tmp):
    ck.begin("the non-root line on a terminal")
    if subprocess.run(NOBODY + ["true"], stderr=subprocess.DEVNULL).returncode != 0:
        print("skipping: nobody cannot run programs here")
        return
    if subprocess.run(["which", "script"], stdout=subprocess.DEVNULL).returncode != 0:
        print("SKIP: script(1) is not installed, no terminal to run under")
        return
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 7103))
    srv.listen()
    # The build tree may sit where nobody cannot reach it: run a copy.
    binary = os.path.join(tmp, "sockstat")
    shutil.copy(netns.SOCKSTAT, binary)
    os.chmod(binary, 0o755)
    # On a terminal (script gives it one), once.
    out = "/dev/null"  # script's own copy of the session
    r = netns.run(NOBODY + ["script", "-qec", binary + " -tln", out])
    text = r.out.decode("utf-8", "replace")
    ck.eq(r.rc, 0, "as nobody on a terminal: exit 0", res=r)
    ck.eq(text.count("not all processes could be read"), 1,
          "as nobody on a terminal: one line says why owners are missing", out=text)
    # Into a pipe, never.
    r = netns.run(NOBODY + [binary, "-tln"])
    ck.eq(r.rc, 0, "as nobody into a pipe: exit 0", res=r)
    ck.eq(r.err, b"", "as nobody into a pipe: nothing on stderr")
    # As root on a terminal, nothing is missing and nothing is said.
    r = netns.run(["script", "-qec", netns.SOCKSTAT + " -tln", out])
    ck.ok("not all processes" not in r.out.decode("utf-8", "replace"),
          "as root on a terminal: no such line", out=r.out)
    srv.close()


def main(ck):
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        check_std_fds(ck)
        check_netns_option(ck, tmp)
        check_usage(ck)
        check_full_disk(ck)
        check_fd_limit(ck)
        check_not_root_line(ck, tmp)


if __name__ == "__main__":
    netns.run_isolated(main)
