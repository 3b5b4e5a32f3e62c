#!/usr/bin/env python3
"""--events and --watch against the real kernel, in a private namespace:
close events for connections shorter than any interval (with their byte
counts), open and state events from the dumps, filters, UDP, a flood
either reported or accounted for by lost, SIGTERM and a closed pipe,
memory flat under churn; --watch off a terminal (timed frames) and on one
(tmux: status line, + and - marks, colour and NO_COLOR, q restores)."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402

TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
FRAME_RE = re.compile(r"^# \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

# Long enough for the first dump of an empty namespace, on a loaded machine.
SETTLE_S = 0.6


class Stream:
    """A running sockstat whose stdout lines are collected by a thread."""

    def __init__(self, *args, stdout=subprocess.PIPE):
        self.p = subprocess.Popen([netns.SOCKSTAT] + list(args), stdout=stdout,
                                  stderr=subprocess.PIPE)
        self.lines = []
        self.t = None
        if stdout == subprocess.PIPE:
            self.t = threading.Thread(target=self._read, daemon=True)
            self.t.start()
        time.sleep(SETTLE_S)

    def _read(self):
        for line in self.p.stdout:
            self.lines.append(line.decode("utf-8", "replace"))

    def events(self):
        return [json.loads(x) for x in list(self.lines) if x.strip()]

    def wait_events(self, pred, timeout=netns.WAIT_S):
        return netns.wait_for(lambda: pred(self.events()), timeout)

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        if self.t:
            self.t.join(timeout=5)
        err = self.p.stderr.read().decode("utf-8", "replace")
        self.p.stderr.close()
        if self.p.stdout:
            self.p.stdout.close()
        return rc, err


def listener(port=0, family=socket.AF_INET, addr="127.0.0.1", backlog=128):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(backlog)
    return s


def exchange(lst, up, down):
    """One short connection: the client sends up bytes, the server down."""
    port = lst.getsockname()[1]
    c = socket.create_connection(("127.0.0.1", port))
    a, _ = lst.accept()
    if up:
        c.sendall(b"u" * up)
        got = 0
        while got < up:
            got += len(a.recv(65536))
    if down:
        a.sendall(b"d" * down)
        got = 0
        while got < down:
            got += len(c.recv(65536))
    cport = c.getsockname()[1]
    c.close()
    a.close()
    return cport


def closes(evs, **match):
    out = []
    for e in evs:
        if e.get("event") != "close":
            continue
        if all(e.get(k) == v if k != "lport" and k != "pport" else True
               for k, v in match.items() if k not in ("lport", "pport")):
            if "lport" in match and e["local"]["port"] != match["lport"]:
                continue
            if "pport" in match and e["peer"]["port"] != match["pport"]:
                continue
            out.append(e)
    return out


def check_short_connections(ck):
    ck.begin("close events for short connections, with byte counts")
    lst = listener()
    lport = lst.getsockname()[1]
    st = Stream("--events", "-n", "-t", "--interval", "5")
    conns = {}
    for i in range(200):
        up, down = 100 + i, 7 * i
        conns[exchange(lst, up, down)] = (up, down)
    want = 2 * len(conns)
    ok = st.wait_events(lambda evs: len(closes(evs)) >= want, timeout=10)
    rc, err = st.stop()
    ck.eq(rc, 0, "SIGTERM ends the stream with exit 0", stderr=err)
    ck.eq(err, "", "nothing on stderr")
    evs = st.events()
    ck.ok(ok, "every end of every connection closed", got=len(closes(evs)), want=want)
    ck.ok(all(TIME_RE.match(e["time"]) for e in evs), "time is RFC 3339 UTC with ms")
    ck.ok(not [e for e in evs if e["event"] == "open"],
          "connections shorter than the interval are no opens", evs=evs[:3])
    bad = []
    for cport, (up, down) in conns.items():
        client = closes(evs, lport=cport, pport=lport)
        server = closes(evs, lport=lport, pport=cport)
        if len(client) != 1 or len(server) != 1:
            bad.append(("count", cport, len(client), len(server)))
            continue
        c, s = client[0], server[0]
        if c["tcp_info"]["bytes_sent"] != up or s["tcp_info"]["bytes_sent"] != down:
            bad.append(("sent", cport, c["tcp_info"], s["tcp_info"]))
        if c["tcp_info"]["bytes_received"] < down or s["tcp_info"]["bytes_received"] < up:
            bad.append(("received", cport, c["tcp_info"], s["tcp_info"]))
        if c["duration_ms"] is not None or c["processes"] != []:
            bad.append(("unseen", cport, c))
        if c["local"]["address"] != "127.0.0.1" or c["proto"] != "tcp":
            bad.append(("tuple", cport, c))
    ck.eq(bad[:5], [], "one close per end, right tuple and counters")
    lst.close()


def check_long_lived(ck):
    ck.begin("open, state and close for sockets the dumps see")
    lst = listener()
    lport = lst.getsockname()[1]
    st = Stream("--events", "-n", "-t", "--interval", "0.2")
    c = socket.create_connection(("127.0.0.1", lport))
    a, _ = lst.accept()
    cport = c.getsockname()[1]
    ck.ok(st.wait_events(lambda evs: sum(e["event"] == "open" for e in evs) >= 2),
          "both ends open", evs=st.events())
    c.shutdown(socket.SHUT_WR)
    ck.ok(st.wait_events(lambda evs: any(
        e["event"] == "state" and e["local"]["port"] == cport for e in evs)),
        "the half-close is a state event", evs=st.events())
    time.sleep(0.3)
    c.close()
    a.close()
    ck.ok(st.wait_events(lambda evs: len(closes(evs, lport=cport)) == 1),
          "the client's close", evs=st.events())
    lst.close()
    ck.ok(st.wait_events(lambda evs: len(closes(evs, lport=lport, pport=0)) == 1),
          "the listener's close")
    rc, err = st.stop(signal.SIGINT)
    ck.eq(rc, 0, "SIGINT ends the stream with exit 0", stderr=err)
    evs = st.events()
    opens = [e for e in evs if e["event"] == "open"]
    ck.ok(all(e["processes"] and e["processes"][0]["pid"] == os.getpid() for e in opens),
          "opens name the holder", opens=opens)
    ck.ok(all("tcp_info" not in e for e in opens), "opens carry no tcp_info")
    states = [e for e in evs if e["event"] == "state" and e["local"]["port"] == cport]
    ck.ok(states and states[0]["from"] == "ESTABLISHED" and
          states[0]["to"] in ("FIN_WAIT1", "FIN_WAIT2"), "from ESTABLISHED to FIN_WAIT",
          states=states)
    server_state = [e for e in evs if e["event"] == "state" and e["peer"]["port"] == cport]
    ck.ok(server_state and server_state[0]["to"] == "CLOSE_WAIT", "the peer to CLOSE_WAIT",
          got=server_state)
    cl = closes(evs, lport=cport)
    ck.ok(cl and isinstance(cl[0]["duration_ms"], int) and cl[0]["duration_ms"] >= 300,
          "a seen socket's close has its duration", close=cl)
    ck.ok(cl and cl[0]["processes"] and cl[0]["processes"][0]["pid"] == os.getpid(),
          "and its owners")
    ck.ok(cl and "bytes_acked" in cl[0]["tcp_info"], "and the final tcp_info")


def check_slow_connect(ck):
    ck.begin("a slow connect: open in SYN_SENT, then a state event")
    # A full accept queue drops SYNs: the connect waits for a retransmit.
    lst = listener(backlog=0)
    lport = lst.getsockname()[1]
    held = [socket.create_connection(("127.0.0.1", lport), timeout=5)]
    st = Stream("--events", "-n", "-t", "--interval", "0.2", "dport = :%d" % lport)
    slow = socket.socket()
    slow.setblocking(False)
    try:
        slow.connect(("127.0.0.1", lport))
    except BlockingIOError:
        pass
    sport = slow.getsockname()[1]
    ok = st.wait_events(lambda evs: any(e["event"] == "open" and e["local"]["port"] == sport
                                        for e in evs))
    accepted = []
    for _ in range(3):
        try:
            lst.settimeout(0.2)
            accepted.append(lst.accept()[0])
        except OSError:
            break
    ok2 = st.wait_events(lambda evs: any(
        e["event"] == "state" and e["local"]["port"] == sport for e in evs), timeout=8)
    rc, err = st.stop()
    evs = st.events()
    opens = [e for e in evs if e["event"] == "open" and e["local"]["port"] == sport]
    ck.ok(ok and opens and opens[0]["state"] == "SYN_SENT", "the open says SYN_SENT",
          evs=evs)
    states = [e for e in evs if e["event"] == "state" and e["local"]["port"] == sport]
    ck.ok(ok2 and states[0]["from"] == "SYN_SENT" and states[0]["to"] == "ESTABLISHED",
          "SYN_SENT to ESTABLISHED", evs=evs)
    ck.ok(all(e["peer"]["port"] == lport for e in evs if "peer" in e),
          "the filter holds on every event", evs=evs)
    ck.eq(rc, 0, "exit 0")
    for s in held + accepted + [slow, lst]:
        s.close()


def check_filters_udp(ck):
    ck.begin("filters and families on events; UDP closes")
    a, b = listener(), listener()
    pa, pb = a.getsockname()[1], b.getsockname()[1]
    st = Stream("--events", "-n", "--port", str(pa), "--interval", "5")
    st6 = Stream("--events", "-n", "-6", "--interval", "5")
    stu = Stream("--events", "-n", "-u", "--interval", "5")
    for _ in range(5):
        exchange(a, 10, 10)
        exchange(b, 10, 10)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    uport = u.getsockname()[1]
    u.close()
    ck.ok(st.wait_events(lambda evs: len(evs) >= 10), "the port's closes", got=st.events())
    ck.ok(stu.wait_events(lambda evs: len(evs) >= 1), "the UDP close", got=stu.events())
    time.sleep(0.3)
    rcs = [x.stop() for x in (st, st6, stu)]
    ck.eq([r[0] for r in rcs], [0, 0, 0], "exit 0", errs=rcs)
    evs = st.events()
    ck.ok(all(pa in (e["local"]["port"], e["peer"]["port"]) for e in evs),
          "--port selects events", evs=evs)
    ck.eq(len(evs), 10, "five connections, two ends each")
    ck.eq(st6.events(), [], "-6 sees none of the IPv4 closes")
    ue = stu.events()
    ck.ok(len(ue) == 1 and ue[0]["proto"] == "udp" and ue[0]["local"]["port"] == uport,
          "-u: one UDP close, no TCP", got=ue)
    a.close()
    b.close()


def check_flood(ck):
    ck.begin("a flood of closes: reported or accounted for by lost")
    lst = listener(backlog=1024)
    st = Stream("--events", "-n", "-t", "--interval", "5")
    n = 10000  # 20,000 closes, both ends of each connection
    for _ in range(n):
        exchange(lst, 0, 0)
    want = 2 * n

    def accounted(evs):
        return sum(1 for e in evs if e["event"] == "close") + \
            sum(e["count"] for e in evs if e["event"] == "lost")
    st.wait_events(lambda evs: accounted(evs) >= want, timeout=60)
    rc, err = st.stop()
    evs = st.events()
    lost = [e for e in evs if e["event"] == "lost"]
    ck.ok(accounted(evs) >= want, "every close seen or counted as lost",
          got=accounted(evs), want=want, lost=lost[:3])
    ck.ok(all(e["count"] >= 1 and TIME_RE.match(e["time"]) for e in lost), "lost events")
    ck.eq(rc, 0, "exit 0", stderr=err)
    lst.close()


def check_closed_pipe(ck):
    ck.begin("a reader that goes away")
    lst = listener()
    r, w = os.pipe()
    st = Stream("--events", "-n", stdout=w)
    os.close(w)
    exchange(lst, 1, 1)
    f = os.fdopen(r, "rb")
    first = f.readline()
    f.close()
    ck.ok(first.startswith(b'{"event":"close"'), "the first event arrives", got=first)
    try:
        rc = st.p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        rc = None
    _, err = st.stop()
    ck.eq(rc, 0, "ends by itself with exit 0, no event needed", stderr=err)
    ck.eq(err, "", "quietly")
    lst.close()


def check_stalled_reader(ck):
    ck.begin("SIGTERM while a write waits on a reader that stopped reading")
    lst = listener(backlog=1024)
    r, w = os.pipe()
    st = Stream("--events", "-n", stdout=w)
    os.close(w)
    # Some 400 events of about 500 bytes: more than a pipe holds.
    for _ in range(200):
        exchange(lst, 1, 1)
    time.sleep(0.5)
    t0 = time.monotonic()
    st.p.send_signal(signal.SIGTERM)
    try:
        rc = st.p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        rc = None
    _, err = st.stop()
    os.close(r)
    ck.eq(rc, 0, "exit 0, promptly", stderr=err, waited=time.monotonic() - t0)
    ck.eq(err, "", "quietly")
    lst.close()


def check_unprivileged(ck):
    ck.begin("as an unprivileged user")
    if not netns.nobody_can_run():
        print("skipped: nobody cannot run sockstat here")
        return
    lst = listener()
    lport = lst.getsockname()[1]
    nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    p = subprocess.Popen(nobody + [netns.SOCKSTAT, "--events", "-n", "-t", "--interval", "0.2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(SETTLE_S)
    c = socket.create_connection(("127.0.0.1", lport))
    a, _ = lst.accept()
    cport = c.getsockname()[1]
    time.sleep(0.8)
    c.close()
    a.close()
    time.sleep(0.8)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=10)
    evs = [json.loads(x) for x in out.decode().splitlines() if x.strip()]
    ck.eq(p.returncode, 0, "exit 0", stderr=err)
    cl = [e for e in evs if e["event"] == "close" and e["local"]["port"] == cport]
    ck.ok(len(cl) == 1 and isinstance(cl[0]["duration_ms"], int), "one close, with a duration",
          evs=evs)
    # Linux lets any user join sock_diag's destroy groups; where a kernel
    # refuses, the stream says so once and finds closes in the dumps.
    if err:
        ck.eq(err.decode().count("\n"), 1, "refused: one message", stderr=err)
        ck.ok(b"cannot receive the kernel's socket close announcements" in err,
              "refused: saying why", stderr=err)
        ck.ok(cl and "tcp_info" not in cl[0], "refused: closes from dumps, without tcp_info")
    else:
        ck.ok(cl and "bytes_acked" in cl[0].get("tcp_info", {}),
              "joined: the kernel's final tcp_info", evs=evs)
        ck.ok(cl and cl[0]["processes"] == [], "root's fds are not ours to read")
    lst.close()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def check_rss(ck):
    ck.begin("memory flat under churn")
    if os.environ.get("SOCKSTAT_SANITIZE", "none") not in ("", "none"):
        # AddressSanitizer keeps freed memory in quarantine, so RSS grows
        # with churn there by design; its leak check at exit (the other
        # checks want an empty stderr) stands in.
        print("skipped under the sanitizers: %s" % os.environ["SOCKSTAT_SANITIZE"])
        return
    lst = listener(backlog=1024)
    lport = lst.getsockname()[1]
    st = Stream("--events", "-n", "--interval", "0.1", stdout=subprocess.DEVNULL)
    live = []
    samples = []
    start = time.monotonic()
    made = 0
    # Connections that live a few intervals, so the dumps cache them and
    # the closes evict them; sampled after a warm-up.
    while time.monotonic() - start < 60:
        c = socket.create_connection(("127.0.0.1", lport))
        a, _ = lst.accept()
        live.append((c, a))
        made += 1
        if len(live) > 100:
            for s in live.pop(0):
                s.close()
        if made % 50 == 0:
            samples.append((time.monotonic() - start, rss_kib(st.p.pid)))
        time.sleep(0.002)
    for pair in live:
        for s in pair:
            s.close()
    rc, err = st.stop()
    # A /proc scan's threads lift RSS while they run, so single samples
    # jump about; a leak lifts the floor. The floors of the first and the
    # last third after the warm-up must agree within 1 MiB.
    warm = [kib for t, kib in samples if t > 5]
    third = max(1, len(warm) // 3)
    early, late = min(warm[:third] or [0]), min(warm[-third:] or [0])
    ck.ok(made >= 1000, "thousands of connections", made=made)
    ck.ok(len(warm) >= 3 and late - early <= 1024, "RSS flat after warm-up (KiB)",
          early=early, late=late, samples=samples)
    print("rss samples (s, KiB): %s; %d connections" % (samples[::4], made))
    ck.eq(rc, 0, "exit 0", stderr=err)
    lst.close()


def check_watch_pipe(ck):
    ck.begin("--watch off a terminal: timed frames")
    lst = listener(7201)
    p = subprocess.Popen([netns.SOCKSTAT, "--watch=0.2", "-tln"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    time.sleep(1.5)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=10)
    ck.eq(p.returncode, 0, "SIGTERM: exit 0", stderr=err)
    frames = out.decode().split("\n\n")
    frames = [f for f in frames if f.strip()]
    ck.ok(len(frames) >= 3, "a frame every interval", out=out)
    ck.ok(all(FRAME_RE.match(f.splitlines()[0]) for f in frames), "each under # TIME",
          out=out)
    ck.ok(all("127.0.0.1:7201" in f for f in frames), "each whole", out=out)
    ck.ok(out.endswith(b"\n\n"), "followed by an empty line")
    p = subprocess.Popen([netns.SOCKSTAT, "--watch=0.2", "-s"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    ck.ok(p.returncode == 0 and out.count(b"\n# ") >= 1 and b"tcp" in out.lower(),
          "-s is watched too", out=out, err=err)
    p = subprocess.Popen([netns.SOCKSTAT, "--watch=0.2", "-tl", "--count-by", "state"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=10)
    ck.ok(p.returncode == 0 and FRAME_RE.match(out.decode().splitlines()[0]) and
          re.search(rb"\nLISTEN +1\n", out), "--count-by is watched too", out=out, err=err)
    for bad in ("--watch=0.05", "--watch=x", "--watch=", "--interval=0"):
        r = netns.sockstat(bad, "--events" if "interval" in bad else "-t", timeout=10)
        name = bad.split("=")[0]
        ck.ok(r.rc == 2 and ("bad %s value" % name) in r.errtext,
              "%s: a usage error naming it" % bad, err=r.errtext)
    lst.close()


TMUX_SERVER = ["sstest-events"]


def tmux(*args):
    return subprocess.run(["tmux", "-L", TMUX_SERVER[0]] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)


def capture(escapes=False):
    return tmux("capture-pane", "-p", *(["-e"] if escapes else [])).stdout.decode()


def check_watch_tty(ck):
    ck.begin("--watch on a terminal (tmux)")
    if not shutil.which("tmux"):
        ck.ok(True, "tmux missing: skipped")
        return
    lst = listener(7202)
    going = listener(7203)
    for colour in (False, True):
        env = "" if colour else "NO_COLOR=1 "
        cmd = "%senv TERM=xterm %s --watch=0.3 -tln; echo EXITED=$?; sleep 30" % (
            env, netns.SOCKSTAT)
        if not colour:
            cmd = cmd.replace("env TERM", "env NO_COLOR=1 TERM")
        tmux("kill-server")
        tmux("new-session", "-d", "-x", "160", "-y", "30", cmd)
        try:
            ok = netns.wait_for(lambda: "127.0.0.1:7202" in capture())
            ck.ok(ok, "the first frame", screen=capture())
            going.close() if not colour else None
            coming = listener(7204) if not colour else None
            ok = netns.wait_for(lambda: re.search(r"^\+ .*127\.0\.0\.1:7204", capture(), re.M)
                                is not None) if not colour else True
            screen = capture()
            ck.ok(ok, "a new row marked +", screen=screen)
            if not colour:
                ck.ok(re.search(r"^- .*127\.0\.0\.1:7203", screen, re.M), "a gone row marked -",
                      screen=screen)
                ck.ok(re.search(r"^sockstat --watch: every 0\.3s .*\d+ sockets +\+\d+ -\d+",
                                screen, re.M), "the status line", screen=screen)
                ck.ok("\x1b[3" not in capture(True), "NO_COLOR: no colour",
                      screen=capture(True))
                coming.close()
            else:
                lst2 = listener(7205)
                ok = netns.wait_for(lambda: "\x1b[32m+ " in capture(True))
                ck.ok(ok, "colour on a terminal without NO_COLOR", screen=capture(True))
                lst2.close()
            tmux("send-keys", "q")
            ok = netns.wait_for(lambda: "EXITED=0" in capture())
            screen = capture()
            ck.ok(ok, "q ends it with exit 0", screen=screen)
            ck.ok("sockstat --watch:" not in screen, "and restores the screen", screen=screen)
        finally:
            tmux("kill-server")
    # A long interval, so only the resize can redraw: a taller window
    # shows the rows that did not fit before.
    more = [listener(p) for p in (7206, 7207, 7208)]
    # A server of its own: the one just killed may still be going away.
    TMUX_SERVER[0] = "sstest-events-resize"
    tmux("new-session", "-d", "-x", "100", "-y", "3",
         "NO_COLOR=1 %s --watch=60 -tln; sleep 30" % netns.SOCKSTAT)
    try:
        def rows():
            return len(re.findall(r"127\.0\.0\.1:72", capture()))
        ck.ok(netns.wait_for(lambda: rows() == 1), "a three-line window: one row",
              screen=capture())
        tmux("resize-window", "-x", "100", "-y", "20")
        ck.ok(netns.wait_for(lambda: rows() == 4), "resized: redrawn with every row",
              screen=capture())
        tmux("send-keys", "q")
    finally:
        tmux("kill-server")
    for s in more:
        s.close()
    lst.close()


def main(ck):
    check_short_connections(ck)
    check_long_lived(ck)
    check_slow_connect(ck)
    check_filters_udp(ck)
    check_flood(ck)
    check_closed_pipe(ck)
    check_stalled_reader(ck)
    check_unprivileged(ck)
    check_watch_pipe(ck)
    check_watch_tty(ck)
    check_rss(ck)


if __name__ == "__main__":
    netns.run_isolated(main)
