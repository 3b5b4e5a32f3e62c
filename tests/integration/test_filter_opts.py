#!/usr/bin/env python3
"""The convenience and process filters and the usage messages, against the
real binary in a private network namespace holding the standard population
(netns.py), with ss as the oracle where it has an equivalent:

- --port and --state are typed clauses and-ed onto any FILTER, one that
  holds `state` included; repeats of one option are or-ed; a bad value
  names the option;
- --user matches an unheld socket by its kernel uid, never a socket without
  a file (inode 0), whose uid 0 is a placeholder;
- --pid/--command/--user hold for one and the same holder;
- every usage error says what is wrong in the user's words and adds the
  --help line;
- hostile filters: deep nesting is a usage error naming the limit, not a
  crash; 50,000 or-ed terms parse and compile in well under a second each
  (they took 32 s when the compiler was quadratic).
"""
import os
import pwd
import socket
import subprocess
import sys
import time

import netns

HINT = "Try 'sockstat --help' for more information."

table = netns.table_rows
keys = netns.row_keys


def ss_keys(ck, args, state=None):
    """ss's TCP sockets for args. With one state selected ss drops its
    State column, so the caller names that state."""
    ss = netns.run(["ss", "-Hn"] + list(args))
    ck.eq(ss.rc, 0, "ss accepts: %r" % (args,), cmd=ss)
    if state is None:
        return {netns.ss_key(d) for d in netns.ss_rows(list(args))}
    out = set()
    for line in ss.text.split("\n"):
        f = line.split()
        if f:
            out.add(("tcp", state, netns.norm_addr(f[2]), netns.norm_addr(f[3])))
    return out


def same_as_ss(ck, what, mine, ss_args, state=None):
    theirs = ss_keys(ck, ss_args, state)
    ck.ok(mine, what + ": selects something", mine=mine)
    ck.eq(sorted(keys(mine)), sorted(theirs), what + ": same sockets as ss " + " ".join(ss_args),
          only_sockstat=sorted(keys(mine) - theirs), only_ss=sorted(theirs - keys(mine)))


def usage_error(ck, what, args, first):
    """The run exits 2 with exactly `sockstat: FIRST` and the --help line."""
    r = netns.sockstat(*args, timeout=60)
    ck.eq(r.rc, 2, what + ": exit 2", cmd=r)
    ck.eq(r.out, b"", what + ": nothing on stdout")
    ck.eq(r.errtext.split("\n"), ["sockstat: " + first, HINT, ""], what + ": the message")


def check_convenience(ck, pop):
    ck.begin("--port and --state with a FILTER")
    rows = table(ck, "--port 22 state established", "-tanH", "--port", "22", "state",
                 "established")
    same_as_ss(ck, "--port 22 state established", rows,
               ["-t", "state", "established", "( sport = :22 or dport = :22 )"], "ESTABLISHED")
    rows = table(ck, "--port 22 --port 80", "-tanH", "--port", "22", "--port", "80")
    ck.ok(any(r.local.endswith(":80") for r in rows) and
          any(r.local.endswith(":22") for r in rows), "repeats are or-ed", rows=rows)
    same_as_ss(ck, "--port 22 --port 80", rows,
               ["-ta", "( sport = :22 or dport = :22 or sport = :80 or dport = :80 )"])
    rows = table(ck, "--port ssh --port http", "-tanH", "--port", "ssh", "--port", "http")
    ck.eq(keys(rows), keys(table(ck, "numbers", "-tanH", "--port", "22", "--port", "80")),
          "service names as ports")
    rows = table(ck, "--port with an or FILTER", "-tanH", "--port", "22",
                 "src 127.0.0.1 or src [::1]")
    same_as_ss(ck, "--port 22 and an or", rows,
               ["-ta", "( sport = :22 or dport = :22 ) and ( src 127.0.0.1 or src [::1] )"])
    rows = table(ck, "--state twice", "-tanH", "--state", "established", "--state",
                 "LISTEN")
    same_as_ss(ck, "--state established --state LISTEN", rows,
               ["-t", "state", "established", "state", "listening"])
    rows = table(ck, "--state and a FILTER state", "-tanH", "--state", "listening",
                 "state", "established")
    ck.eq(rows, [], "--state and a FILTER's state are and-ed: none is both")
    rows = table(ck, "--state and exclude", "-tanH", "--state", "connected", "exclude",
                 "time-wait")
    same_as_ss(ck, "--state connected exclude time-wait", rows,
               ["-t", "state", "connected", "exclude", "time-wait"])
    rows = table(ck, "--port --state --pid", "-tanH", "--port", "22", "--state",
                 "established", "--pid", str(pop.me))
    same_as_ss(ck, "all three with our own pid", rows,
               ["-t", "state", "established", "( sport = :22 or dport = :22 )"], "ESTABLISHED")
    usage_error(ck, "--port nosuch", ["-tan", "--port", "nosuch"], "bad --port value 'nosuch'")
    usage_error(ck, "--port 70000", ["-tan", "--port", "70000"], "bad --port value '70000'")
    usage_error(ck, "--state bogus", ["-tan", "--state", "bogus"], "bad --state value 'bogus'")


def unheld_socket_of(uid, port):
    """A TCP listener created by uid and left only in flight in an
    SCM_RIGHTS message: the kernel lists it (inode and uid set), but no
    process holds a descriptor of it. Returns the socketpair to keep."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            b.close()
            os.setuid(uid)
            s = socket.socket()
            s.bind(("127.0.0.1", port))
            s.listen(4)
            socket.send_fds(a, [b"x"], [s.fileno()])
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("the helper could not pass its socket on")
    return a, b


def check_users(ck, pop):
    ck.begin("--user and sockets without a file")
    nobody = pwd.getpwnam("nobody").pw_uid
    pop.keep_all(*unheld_socket_of(nobody, 41500))
    # The whole pair: a later connection may reuse its local port.
    tw = (pop.tw["local"], pop.tw["peer"])
    ck.ok(pop.tw_seen, "the population has a TIME_WAIT socket")
    for user in ("0", "root"):
        rows = table(ck, "--user " + user, "-tanH", "--user", user)
        ck.ok(rows and not any((r.local, r.peer) == tw or r.state == "TIME_WAIT" for r in rows),
              "--user %s: the TIME_WAIT socket's placeholder uid 0 is no one's" % user,
              rows=rows)
        ck.ok(not any(r.local == "127.0.0.1:41500" for r in rows),
              "--user %s: not the socket nobody made" % user, rows=rows)
    rows = table(ck, "--user nobody", "-tanH", "--user", "nobody")
    ck.eq([r.local for r in rows], ["127.0.0.1:41500"],
          "--user matches a socket no process holds by its kernel uid", rows=rows)
    rows = table(ck, "--user nobody --pid", "-tanH", "--user", "nobody", "--pid", str(pop.me))
    ck.eq(rows, [], "--pid does not match a socket no process holds")
    rows = table(ck, "--user twice", "-tanH", "--user", "nobody", "--user", "root",
                 "sport = :41500 or sport = :22")
    ck.eq(sorted({r.local for r in rows}), ["127.0.0.1:22", "127.0.0.1:41500"],
          "--user repeats are or-ed", rows=rows)


def check_holders(ck, pop):
    ck.begin("--pid --command --user: one holder")
    three = pop.three
    pids = [p for p, _ in three["owners"]]
    rows = table(ck, "--pid twice", "-tanH", "--pid", str(pids[0]), "--pid", str(pop.me),
                 "sport = :%d or sport = :22" % netns.THREE_PORT)
    ck.eq(sorted({r.local for r in rows}), sorted({three["local"], "127.0.0.1:22"}),
          "--pid repeats are or-ed", rows=rows)
    rows = table(ck, "--command twice", "-tanH", "--command", "hold-a", "--command", "nosuch")
    ck.eq([r.local for r in rows], [three["local"]], "--command repeats are or-ed")
    rows = table(ck, "--pid and --command of another", "-tanH", "--pid", str(pids[0]),
                 "--command", "hold-b")
    ck.eq(rows, [], "--pid and --command must name the same holder")
    rows = table(ck, "--pid and --command of it", "-tanH", "--pid", str(pids[1]),
                 "--command", "hold-b", "--user", "root")
    ck.eq([r.local for r in rows], [three["local"]], "--pid, --command, --user of one holder")
    # The process filters need the owners even with -P.
    rows = table(ck, "-P --command", "-tanHP", "--command", "hold-c")
    ck.eq([r.local for r in rows], [three["local"]], "-P does not stop --command")


LONG = "a-very-long-command-name"  # 24 bytes: the kernel keeps 15

HELPER = r"""
import ctypes, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 41600))
s.listen(4)
ctypes.CDLL(None).prctl(15, ctypes.c_char_p(sys.argv[1].encode()), 0, 0, 0)
print("ready", flush=True)
sys.stdin.read()
"""


def check_long_command(ck):
    ck.begin("--command longer than the kernel's comm")
    p = subprocess.Popen([LONG, "-c", HELPER, LONG], executable=sys.executable,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        ck.eq(p.stdout.readline(), b"ready\n", "the helper listens")
        ck.eq(netns.read_comm(p.pid), LONG[:15].encode(), "the kernel cut its comm")
        rows = table(ck, "--command 15 bytes", "-tlnH", "--command", LONG[:15])
        ck.eq([r.local for r in rows], ["127.0.0.1:41600"], "the comm itself matches")
        rows = table(ck, "--command other", "-tlnH", "--command", LONG[:15] + "x-other")
        ck.eq(rows, [], "a long name whose argv[0] differs does not match")
        rows = table(ck, "--command long", "-tlnH", "--command", LONG)
        ck.eq([r.local for r in rows], ["127.0.0.1:41600"],
              "a long name matches by comm prefix and argv[0]", rows=rows)
    finally:
        p.kill()
        p.wait()


def check_messages(ck):
    ck.begin("usage messages")
    for args, first in (
            (["--tcp=1"], "option '--tcp' takes no argument"),
            (["--n"], "ambiguous option '--n' (could be --net, --netlink, --netns, --no-header, "
                      "--no-processes, --numeric)"),
            (["--x"], "unknown option '--x'"),
            (["--numeric", "-Zt"], "unknown option '-Z'"),
            (["-tN"], "option '-N' needs an argument"),
            (["-tan", "src", "10.0.0.0/33"], "bad filter: bad prefix length '/33' at word 2"),
            (["-tan", "dport", "~", ":22"], "bad filter: bad operator '~' at word 2"),
            (["-tan", "dport ~ :22"], "bad filter: bad operator '~' at word 1, offset 6")):
        usage_error(ck, " ".join(args), args, first)


def check_hostile(ck):
    ck.begin("hostile filters")
    for what, word in (("13,000 (", "(" * 13000 + "sport 1"),
                       ("100,000 !", "!" * 100000 + "sport 1")):
        r = netns.sockstat("-tan", word, timeout=60)
        ck.eq(r.rc, 2, what + ": a usage error, not a crash", cmd=r)
        ck.ok("nested too deeply" in r.errtext and "256" in r.errtext,
              what + ": the message names the limit", stderr=r.errtext[:300])
    # 100,000 `not` as words, as a shell loop would pass them.
    r = netns.sockstat("-tan", *(["not"] * 100000 + ["sport", "1"]), timeout=60)
    ck.eq(r.rc, 2, "100,000 not: a usage error, not a crash", cmd=r)

    # 50,000 or-ed terms in words of 5,000 (one argument holds 128 KiB at most).
    terms = ["sport = :%d" % (i + 1) for i in range(50000)]
    words = []
    for i in range(0, len(terms), 5000):
        if words:
            words.append("or")
        words.append(" or ".join(terms[i:i + 5000]))
    want = keys(table(ck, "the same as one range", "-tanH", "sport >= :1 and sport <= :50000"))
    ck.ok(want, "some sockets have a local port up to 50000", want=want)
    for source in ("netlink", "proc"):
        t = time.monotonic()
        rows = table(ck, "50,000 terms, " + source, "--source", source, "-tanH", *words)
        took = time.monotonic() - t
        # Generous: sanitizer builds are slow; the quadratic compiler took 32 s.
        ck.ok(took < 10, "50,000 or-ed terms (%s) in %.2f s" % (source, took))
        ck.eq(keys(rows), want, "50,000 or-ed terms (%s) select what the range does" % source)


def main(ck):
    pop = netns.StdPopulation()
    check_convenience(ck, pop)
    check_users(ck, pop)
    check_holders(ck, pop)
    check_long_command(ck)
    check_messages(ck)
    check_hostile(ck)


if __name__ == "__main__":
    netns.run_isolated(main)
