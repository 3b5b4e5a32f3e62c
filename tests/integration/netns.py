"""Shared helpers for the sockstat integration tests (not a test itself).

Every test module runs its checks in a forked child that moves into a
fresh network namespace, so the sockets it creates are the only inet and
UNIX sockets sockstat can see there and the caller's namespace is never
touched.  Helper processes that hold sockets are forked children that
block on a pipe; they are killed and reaped at the end, also when a check
raises, through try/finally and atexit.
"""

import atexit
import ctypes
import errno
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import traceback

CLONE_NEWNET = 0x40000000
PR_SET_NAME = 15
SKIP = 77

_libc = ctypes.CDLL(None, use_errno=True)

# The hidden acceptance tests and meson both run us with SOCKSTAT set; a
# developer running a file by hand gets a clear message instead of a
# confusing failure.
SOCKSTAT = os.environ.get("SOCKSTAT", "")

# Bounded waits: loopback delivers synchronously, so anything not seen
# after this long will not be seen at all.
WAIT_S = 3.0


def require_root():
    """Exits with meson's skip code when the tests cannot run here."""
    if os.geteuid() != 0:
        print("SKIP: needs root for a private network namespace (unshare CLONE_NEWNET)")
        sys.exit(SKIP)
    if not SOCKSTAT or not os.access(SOCKSTAT, os.X_OK):
        print("FAIL: set SOCKSTAT to the built sockstat binary (got %r)" % SOCKSTAT)
        sys.exit(1)


def unshare_net():
    if _libc.unshare(CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "unshare(CLONE_NEWNET): " + os.strerror(e))


def setns(fd, nstype=CLONE_NEWNET):
    if _libc.setns(fd, nstype) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: " + os.strerror(e))


def lo_up():
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


def set_comm(name):
    """Sets this process's command name (at most 15 bytes) via prctl."""
    if isinstance(name, str):
        name = name.encode()
    buf = ctypes.create_string_buffer(name[:15])
    if _libc.prctl(PR_SET_NAME, buf, 0, 0, 0) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "prctl(PR_SET_NAME)")


def read_comm(pid):
    with open("/proc/%d/comm" % pid, "rb") as f:
        return f.read().rstrip(b"\n")


def inode_of(sock_or_fd):
    fd = sock_or_fd if isinstance(sock_or_fd, int) else sock_or_fd.fileno()
    return os.fstat(fd).st_ino


def close_fds_except(keep):
    """Closes every fd but 0-2 and keep: a forked helper must hold exactly
    the sockets it was given, not every socket its parent had open."""
    keep = set(keep) | {0, 1, 2}
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


# ---------------------------------------------------------------- checks

class Checks:
    """Collects failures so one run reports every difference, not just
    the first one."""

    def __init__(self):
        self.failures = []
        self.count = 0
        self.section = ""

    def begin(self, name):
        self.section = name
        print("== " + name, flush=True)

    def ok(self, cond, what, **detail):
        self.count += 1
        if cond:
            return True
        msg = "[%s] %s" % (self.section, what)
        for k, v in detail.items():
            msg += "\n    %s: %s" % (k, _short(v))
        self.failures.append(msg)
        print("FAIL " + msg, flush=True)
        return False

    def eq(self, got, expected, what, **detail):
        return self.ok(got == expected, what, expected=expected, got=got, **detail)

    def summary(self):
        print("%d checks, %d failed" % (self.count, len(self.failures)))
        return 1 if self.failures else 0


def _short(v, limit=3000):
    s = v if isinstance(v, str) else repr(v)
    return s if len(s) <= limit else s[:limit] + "...(%d more)" % (len(s) - limit)


# -------------------------------------------------------- running things

class Result:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err

    @property
    def text(self):
        return self.out.decode("utf-8", "replace")

    @property
    def errtext(self):
        return self.err.decode("utf-8", "replace")

    def __repr__(self):
        return "%s -> rc=%s stderr=%r" % (" ".join(self.argv), self.rc, self.err[:500])


def run(argv, timeout=30, **kw):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, **kw)
    return Result([str(a) for a in argv], p.returncode, p.stdout, p.stderr)


def sockstat(*args, timeout=30, **kw):
    return run([SOCKSTAT] + list(args), timeout=timeout, **kw)


HEADER_NAMES = ["Proto", "State", "Recv-Q", "Send-Q", "Local Address",
                "Peer Address", "Process"]


class Row:
    """One table row: the six fixed fields and the Process column."""

    def __init__(self, line):
        self.line = line
        toks = [(m.group(), m.start()) for m in re.finditer(r"\S+", line)]
        f = [t for t, _ in toks]
        if len(f) < 6:
            raise ValueError("short table row: %r" % line)
        self.proto, self.state, self.recvq, self.sendq, self.local, self.peer = f[:6]
        # Where each column starts: Proto .. Peer Address, then Process.
        self.col_starts = [o for _, o in toks[:6]]
        rest = 6
        self.inode = None
        if self.proto == "unix" or self.proto.startswith("u_"):
            # UNIX: "PATH INODE" and "* PEERINODE" (or "*"); local and peer
            # keep the path and the peer inode, as ss_rows gives them. A
            # peer inode is followed by the Process column, never empty.
            if len(f) < 7:
                raise ValueError("short UNIX row: %r" % line)
            self.inode, self.peer = f[5], f[6]
            self.col_starts[5] = toks[6][1]
            rest = 7
            if f[6] == "*" and len(f) > 8 and f[7].isdigit():
                self.peer = f[7]
                rest = 8
        if rest < len(toks):
            self.col_starts.append(toks[rest][1])
        self.process = " ".join(f[rest:])
        # Holders are joined by ", ": the comma is not part of a command.
        self.pfields = [t[:-1] if t.endswith(",") else t for t in f[rest:]]

    @property
    def user(self):
        return self.pfields[0] if self.pfields else ""

    def pids(self):
        """The pids in the Process column: every field after the user
        that is a plain number (the contract prints "user pid command",
        repeated or comma-joined for several holders)."""
        out = []
        for tok in re.split(r"[\s,;/()=\"]+", " ".join(self.pfields[1:])):
            if tok.isdigit():
                out.append(int(tok))
        return out

    def key(self):
        return (self.proto, self.state, self.local, self.peer)

    def __repr__(self):
        return repr(self.line)


def parse_table(text, header=True):
    """Returns (header_line or None, [Row]). Raises ValueError on rows
    that do not have the six fixed fields."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    head = None
    if header:
        if not lines:
            raise ValueError("no header line")
        head = lines.pop(0)
    return head, [Row(l) for l in lines]


def header_offsets(head):
    offs = []
    for name in HEADER_NAMES:
        i = head.find(name)
        if i < 0:
            raise ValueError("header lacks %r: %r" % (name, head))
        offs.append(i)
    return offs


def field_starts(line, n):
    """Start offsets of the first n whitespace-separated fields."""
    return [m.start() for m in re.finditer(r"\S+", line)][:n]


def parse_json(out):
    return json.loads(out.decode("utf-8", "strict"))


def parse_ndjson(out):
    text = out.decode("utf-8", "strict")
    return [json.loads(l) for l in text.split("\n") if l != ""]


# ------------------------------------------------------------- ss oracle

SS_STATES = {
    "ESTAB": "ESTABLISHED", "LISTEN": "LISTEN", "UNCONN": "UNCONN",
    "TIME-WAIT": "TIME_WAIT", "SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RECV",
    "FIN-WAIT-1": "FIN_WAIT1", "FIN-WAIT-2": "FIN_WAIT2",
    "CLOSE-WAIT": "CLOSE_WAIT", "LAST-ACK": "LAST_ACK", "CLOSING": "CLOSING",
    "CLOSED": "CLOSE",
}


def ss_rows(args):
    """Runs ss (always -H -n) and returns its rows as dicts with netstat
    state names: proto (tcp/udp/unix), state, recvq, sendq, local, peer
    (for UNIX: local is the path or *, peer the peer inode or *)."""
    r = run(["ss", "-Hn"] + list(args))
    if r.rc != 0:
        raise RuntimeError("ss failed: %r" % r)
    rows = []
    # ss drops the Netid column when one protocol is asked for.
    flags = "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--"))
    only = {"t": "tcp", "u": "udp", "x": "u_str", "w": "raw"}
    only = [v for k, v in only.items() if k in flags]
    for line in r.text.split("\n"):
        f = line.split()
        if not f:
            continue
        if f[0] in SS_STATES and len(only) == 1:
            f.insert(0, only[0])
        netid = f[0]
        if netid.startswith("u_"):
            # u_str STATE rq sq PATH INODE PEERPATH PEERINODE
            rows.append({"proto": "unix", "state": SS_STATES.get(f[1], f[1]),
                         "recvq": f[2], "sendq": f[3], "local": f[4],
                         "inode": f[5], "peer": _unix_peer(f[7])})
        else:
            rows.append({"proto": netid, "state": SS_STATES.get(f[1], f[1]),
                         "recvq": f[2], "sendq": f[3], "local": f[4],
                         "peer": f[5]})
    return rows


def _unix_peer(v):
    return "*" if v in ("0", "*") else v


def norm_addr(a):
    """sockstat spells addresses as ss does (a dual-stack wildcard as
    *:port, a v6-only one as [::]:port), so nothing is changed."""
    return a


def table_key(row):
    """(proto without the 6, state, local, peer) of a sockstat row."""
    proto = row.proto[:-1] if row.proto.endswith("6") else row.proto
    if proto.startswith("u_"):
        proto = "unix"  # u_str, u_dgr, u_seq: the type is checked elsewhere
    peer = _unix_peer(row.peer) if proto == "unix" else row.peer
    return (proto, row.state, row.local, peer)


def table_rows(ck, what, *args):
    """The rows of a header-less sockstat table run with args, checked to
    exit 0 quietly and to parse ([] and a failure otherwise)."""
    r = sockstat(*args, timeout=60)
    ck.eq(r.rc, 0, what + ": exit 0", cmd=r)
    ck.eq(r.err, b"", what + ": nothing on stderr", cmd=r)
    try:
        return parse_table(r.text, header=False)[1]
    except ValueError as e:
        ck.ok(False, what + ": table parses", error=str(e), out=r.text)
        return []


def row_keys(rows):
    """The (proto, state, local, peer) keys of table rows, as a set."""
    out = set()
    for r in rows:
        proto, state, loc, peer = table_key(r)
        out.add((proto, state, norm_addr(loc), norm_addr(peer)))
    return out


def ss_key(d):
    return (d["proto"], d["state"], norm_addr(d["local"]), norm_addr(d["peer"]))


# ------------------------------------------------------- raw_diag probe

def kernel_has_raw_diag():
    """Asks sock_diag for RAW sockets: the kernel answers ENOENT when the
    raw_diag module is missing (as on the machine the contract names)."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 4)
    try:
        req = struct.pack("=BBBBI", socket.AF_INET, socket.IPPROTO_RAW, 0, 0,
                          0xffffffff) + b"\0" * 48
        s.send(struct.pack("=IHHII", 16 + len(req), 20, 0x301, 1, 0) + req)
        s.settimeout(2)
        while True:
            d = s.recv(65536)
            off = 0
            while off + 16 <= len(d):
                ln, typ = struct.unpack_from("=IH", d, off)
                if typ in (2, 3):  # NLMSG_ERROR, NLMSG_DONE
                    (code,) = struct.unpack_from("=i", d, off + 16)
                    return code == 0
                if ln < 16:
                    return False
                off += (ln + 3) & ~3
    except OSError:
        return False
    finally:
        s.close()


# ----------------------------------------------------------- population

class Holder:
    def __init__(self, pid, comm, ctl_w):
        self.pid, self.comm, self._ctl = pid, comm, ctl_w


class Population:
    """A known set of sockets, each described by what sockstat should
    print, and the helper processes that hold some of them."""

    def __init__(self):
        self.expected = []   # dicts; see add()
        self.holders = []
        self.keep = []       # socket objects this process must keep open
        atexit.register(self.cleanup)

    def add(self, **kw):
        self.expected.append(kw)
        return kw

    def spawn(self, comm, socks, setup=None):
        """Forks a child that keeps socks (and only them) open under the
        command name comm and blocks until cleanup. setup, if given, runs
        in the child before it reports ready (e.g. to create sockets)."""
        rd, wr = os.pipe()       # parent closes wr's peer to release it
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(wr)
                os.close(ready_r)
                fds = [s if isinstance(s, int) else s.fileno() for s in socks]
                close_fds_except(fds + [rd, ready_w])
                set_comm(comm)
                if setup:
                    setup()
                os.write(ready_w, b"1")
                os.close(ready_w)
                os.read(rd, 1)
            finally:
                os._exit(0)
        os.close(rd)
        os.close(ready_w)
        os.read(ready_r, 1)
        os.close(ready_r)
        h = Holder(pid, comm if isinstance(comm, bytes) else comm.encode(), wr)
        self.holders.append(h)
        return h

    def cleanup(self):
        for h in self.holders:
            try:
                os.kill(h.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(h.pid, 0)
            except ChildProcessError:
                pass
            try:
                os.close(h._ctl)
            except OSError:
                pass
        self.holders = []
        for s in self.keep:
            try:
                s.close()
            except OSError:
                pass
        self.keep = []


def wait_for(pred, timeout=WAIT_S):
    end = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() > end:
            return False
        time.sleep(0.02)


def run_isolated(main):
    """Runs main(checks) in a forked child inside a fresh network
    namespace with lo up, and exits with 0, 1 or the skip code."""
    require_root()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            unshare_net()
            lo_up()
            set_comm("sstest")
            checks = Checks()
            try:
                main(checks)
            except Exception:
                traceback.print_exc()
                checks.failures.append("exception in " + checks.section)
            code = checks.summary()
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            # atexit handlers (helper cleanup) do not run under _exit.
            try:
                atexit._run_exitfuncs()
            finally:
                os._exit(code)
    try:
        _, status = os.waitpid(pid, 0)
    except KeyboardInterrupt:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def nobody_can_run():
    """Whether user nobody can run the sockstat under test and read /proc
    here: not in a chroot whose root only root may enter, nor where the
    build tree is out of nobody's reach. Checks that need nobody skip,
    saying so, where it cannot."""
    r = subprocess.run(NOBODY + [SOCKSTAT, "-V"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return r.returncode == 0 and subprocess.run(
        NOBODY + ["test", "-r", "/proc/self/status"]).returncode == 0


def make_time_wait(port):
    """Leaves a TIME_WAIT socket 127.0.0.1:CLIENT -> 127.0.0.1:port (the
    client closes first, so its side waits) and returns CLIENT. It lasts
    the kernel's 60 seconds, so a slow run makes a fresh one when it needs
    one."""
    lt = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lt.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lt.bind(("127.0.0.1", port))
    lt.listen(8)
    ct, st = tcp_pair(lt, socket.AF_INET, ("127.0.0.1", port))
    ctport = ct.getsockname()[1]
    ct.close()
    wait_for(lambda: st.recv(1) == b"")
    st.close()
    lt.close()
    return ctport


def time_wait_gone(keys):
    """Whether every TIME_WAIT among keys (table keys) has expired by now:
    one that ends between two listings is in one of them only."""
    # (ss drops its State column when given one state: ask for all.)
    now = {ss_key(d) for d in ss_rows(["-tan"]) if d["state"] == "TIME_WAIT"}
    return all(k[1] == "TIME_WAIT" and k not in now for k in keys)


def tcp_pair(listener, family, connect_addr):
    """Connects a client to listener and accepts it; returns (client,
    server) sockets, both ESTABLISHED."""
    c = socket.socket(family, socket.SOCK_STREAM)
    c.connect(connect_addr)
    s, _ = listener.accept()
    return c, s


def services():
    """(port, proto) -> name from /etc/services, first entry wins."""
    m = {}
    try:
        with open("/etc/services") as f:
            for line in f:
                line = line.split("#", 1)[0].split()
                if len(line) >= 2 and "/" in line[1]:
                    port, proto = line[1].split("/", 1)
                    if port.isdigit():
                        m.setdefault((int(port), proto), line[0])
    except OSError:
        pass
    return m


# ------------------------------------------------ the standard population
#
# One socket of every kind the contract describes, shared by test_core,
# test_output and test_filters, each recorded with what sockstat must print.

import shutil
import tempfile

COMM = b"sstest"
TW_PORT = 41100
THREE_PORT = 41000
EPHEMERAL = (45000, 45999)


def _addr_str(family, addr, dual=False):
    if family == socket.AF_INET6 and dual and addr == "::":
        return "*"
    return "[%s]" % addr if family == socket.AF_INET6 else addr


def endpoint(family, addr, port, name=None, dual=False):
    """The table spelling of an inet endpoint; name is the service, dual
    says the socket takes IPv4 too (not IPV6_V6ONLY): :: is then *."""
    p = "*" if port == 0 else (name if name else str(port))
    return "%s:%s" % (_addr_str(family, addr, dual), p)


class StdPopulation(Population):
    """Builds every socket at construction. self.expected holds dicts:
    proto (table), family ("inet"...), state, recvq, sendq, local, peer
    (table, numeric), local_named (table without -n), inode, owners
    [(pid, comm)], and json-ish fields laddr/lport/paddr/pport or
    path/peer_inode/type for UNIX."""

    def __init__(self):
        super().__init__()
        self.me = os.getpid()
        self.tmp = tempfile.mkdtemp(prefix="sstest-")
        atexit.register(shutil.rmtree, self.tmp, True)
        with open("/proc/sys/net/ipv4/ip_local_port_range", "w") as f:
            f.write("%d %d" % EPHEMERAL)
        self.svc = services()
        self._build()

    def _svc(self, port, proto):
        return self.svc.get((port, proto))

    def inet(self, sock, proto, state, peer=None, recvq=0, sendq=0, owners=None,
             local=None):
        fam = sock.family
        if local is None:
            la = sock.getsockname()
            local = (la[0], la[1])
        if peer is None:
            peer = ("::" if fam == socket.AF_INET6 else "0.0.0.0", 0)
        base = proto
        tproto = proto + ("6" if fam == socket.AF_INET6 else "")
        lname = self._svc(local[1], base) if base in ("tcp", "udp") else None
        pname = self._svc(peer[1], base) if base in ("tcp", "udp") and peer[1] else None
        dual = fam == socket.AF_INET6 and not sock.getsockopt(
            socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
        e = self.add(
            proto=tproto, base=base,
            family="inet6" if fam == socket.AF_INET6 else "inet",
            state=state, recvq=recvq, sendq=sendq,
            # What JSON says: the flag, or a specific (not v4-mapped)
            # IPv6 address, which takes IPv6 alone whatever the flag.
            v6only=fam == socket.AF_INET6 and (not dual or not (
                local[0] == "::" or local[0].startswith("::ffff:"))),
            local=endpoint(fam, local[0], local[1], dual=dual),
            peer=endpoint(fam, peer[0], peer[1], dual=dual),
            local_named=endpoint(fam, local[0], local[1], lname, dual),
            peer_named=endpoint(fam, peer[0], peer[1], pname, dual),
            lservice=lname, pservice=pname,
            laddr=local[0], lport=local[1], paddr=peer[0], pport=peer[1],
            inode=inode_of(sock) if sock.fileno() >= 0 else 0,
            owners=[(self.me, COMM)] if owners is None else owners,
            sock=sock)
        return e

    def unix(self, sock, state, path, peer_inode=0, recvq=0, sendq=0):
        typ = {socket.SOCK_STREAM: "stream", socket.SOCK_DGRAM: "dgram",
               socket.SOCK_SEQPACKET: "seqpacket"}[sock.type]
        if path == "":
            local = "*"
        elif path.startswith("\0"):
            local = "@" + path[1:]
        else:
            local = path
        column = {"stream": "u_str", "dgram": "u_dgr", "seqpacket": "u_seq"}[typ]
        return self.add(proto=column, base="unix", family="unix", state=state,
                        recvq=recvq, sendq=sendq, local=local, local_named=local,
                        peer=str(peer_inode) if peer_inode else "*",
                        peer_named=str(peer_inode) if peer_inode else "*",
                        path=local if local != "*" else "", peer_inode=peer_inode,
                        type=typ, inode=inode_of(sock),
                        owners=[(self.me, COMM)], sock=sock)

    def keep_all(self, *socks):
        self.keep.extend(socks)

    def _build(self):
        A4, A6 = socket.AF_INET, socket.AF_INET6
        ST, DG = socket.SOCK_STREAM, socket.SOCK_DGRAM

        # TCP listeners: named ports so the service column has something.
        l4 = socket.socket(A4, ST)
        l4.bind(("127.0.0.1", 22))
        l4.listen(128)
        l6 = socket.socket(A6, ST)
        l6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        l6.bind(("::1", 80))
        l6.listen(128)
        ld = socket.socket(A6, ST)
        ld.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        ld.bind(("::", 8080))
        ld.listen(128)
        self.keep_all(l4, l6, ld)
        self.l4 = self.inet(l4, "tcp", "LISTEN", sendq=128)
        self.l6 = self.inet(l6, "tcp", "LISTEN", sendq=128)
        self.ld = self.inet(ld, "tcp", "LISTEN", sendq=128)

        # ESTABLISHED pairs: v4 (with 100 unread bytes at the client), v6,
        # and v4-mapped (an AF_INET client to the dual-stack listener).
        c4, s4 = tcp_pair(l4, A4, ("127.0.0.1", 22))
        s4.sendall(b"x" * 100)
        c6, s6 = tcp_pair(l6, A6, ("::1", 80))
        cm, sm = tcp_pair(ld, A4, ("127.0.0.1", 8080))
        self.keep_all(c4, s4, c6, s6, cm, sm)
        self.c4 = self.inet(c4, "tcp", "ESTABLISHED", peer=("127.0.0.1", 22), recvq=100)
        self.s4 = self.inet(s4, "tcp", "ESTABLISHED", peer=c4.getsockname()[:2])
        self.c6 = self.inet(c6, "tcp", "ESTABLISHED", peer=("::1", 80))
        self.s6 = self.inet(s6, "tcp", "ESTABLISHED", peer=c6.getsockname()[:2])
        self.cm = self.inet(cm, "tcp", "ESTABLISHED", peer=("127.0.0.1", 8080))
        self.sm = self.inet(sm, "tcp", "ESTABLISHED",
                            peer=("::ffff:127.0.0.1", cm.getsockname()[1]))
        if self.sm["laddr"] != "::ffff:127.0.0.1":
            raise RuntimeError("v4-mapped pair has local %r" % self.sm["laddr"])

        ctport = make_time_wait(TW_PORT)
        self.tw = self.add(proto="tcp", base="tcp", family="inet", state="TIME_WAIT",
                           recvq=0, sendq=0,
                           local="127.0.0.1:%d" % ctport, peer="127.0.0.1:%d" % TW_PORT,
                           local_named="127.0.0.1:%d" % ctport,
                           peer_named="127.0.0.1:%d" % TW_PORT,
                           lservice=None, pservice=None,
                           laddr="127.0.0.1", lport=ctport, paddr="127.0.0.1",
                           pport=TW_PORT, inode=0, owners=[], sock=None)
        key = "127.0.0.1:%d" % ctport
        self.tw_seen = wait_for(lambda: any(
            r["state"] == "TIME_WAIT" and r["local"] == key
            for r in ss_rows(["-tan"])))

        # UDP: unconnected and connected, v4 and v6.
        u1 = socket.socket(A4, DG)
        u1.bind(("127.0.0.1", 41201))
        u2 = socket.socket(A6, DG)
        u2.bind(("::1", 41202))
        u3 = socket.socket(A4, DG)
        u3.bind(("127.0.0.1", 41203))
        u3.connect(("127.0.0.1", 41201))
        u4 = socket.socket(A6, DG)
        u4.bind(("::1", 41204))
        u4.connect(("::1", 41202))
        self.keep_all(u1, u2, u3, u4)
        self.u1 = self.inet(u1, "udp", "UNCONN")
        self.u2 = self.inet(u2, "udp", "UNCONN")
        self.u3 = self.inet(u3, "udp", "ESTABLISHED", peer=("127.0.0.1", 41201))
        self.u4 = self.inet(u4, "udp", "ESTABLISHED", peer=("::1", 41202))

        # RAW: the port is the protocol number.
        r4 = socket.socket(A4, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        r6 = socket.socket(A6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        self.keep_all(r4, r6)
        self.r4 = self.inet(r4, "raw", "UNCONN", local=("0.0.0.0", 1))
        self.r6 = self.inet(r6, "raw", "UNCONN", local=("::", 58))

        # UNIX: a path listener, an abstract one, a socketpair, a dgram.
        self.upath = os.path.join(self.tmp, "l.sock")
        x1 = socket.socket(socket.AF_UNIX, ST)
        x1.bind(self.upath)
        x1.listen(16)
        x2 = socket.socket(socket.AF_UNIX, ST)
        x2.bind("\0sstest-abs")
        x2.listen(16)
        pa, pb = socket.socketpair(socket.AF_UNIX, ST)
        self.dpath = os.path.join(self.tmp, "d.sock")
        x3 = socket.socket(socket.AF_UNIX, DG)
        x3.bind(self.dpath)
        self.keep_all(x1, x2, pa, pb, x3)
        self.x1 = self.unix(x1, "LISTEN", self.upath, sendq=16)
        self.x2 = self.unix(x2, "LISTEN", "\0sstest-abs", sendq=16)
        self.pa = self.unix(pa, "ESTABLISHED", "", peer_inode=inode_of(pb))
        self.pb = self.unix(pb, "ESTABLISHED", "", peer_inode=inode_of(pa))
        self.x3 = self.unix(x3, "UNCONN", self.dpath)

        # One listener held by three processes, none of them this one.
        l3 = socket.socket(A4, ST)
        l3.bind(("127.0.0.1", THREE_PORT))
        l3.listen(64)
        hs = [self.spawn(n, [l3]) for n in ("hold-a", "hold-b", "hold-c")]
        self.three = self.inet(l3, "tcp", "LISTEN", sendq=64,
                               owners=[(h.pid, h.comm) for h in hs])
        l3.close()

    # Selections over the expected set.
    def select(self, protos=None, states=None, families=None):
        out = []
        for e in self.expected:
            if protos is not None and e["base"] not in protos:
                continue
            if families is not None and e["family"] not in families:
                continue
            if states == "listening" and e["state"] not in ("LISTEN", "UNCONN"):
                continue
            if states == "default" and e["state"] in ("LISTEN", "UNCONN"):
                continue
            out.append(e)
        return out


def ekey(e):
    """The identity of an expected socket as the table shows it."""
    proto = e["base"]
    return (proto, e["state"], e["local"], e["peer"])
