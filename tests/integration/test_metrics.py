#!/usr/bin/env python3
"""--count-by, --top, the metrics formats and --output, on the real binary.

In a private namespace: listeners web (127.0.0.1:8080), api ([::1]:9090,
v6-only), slow (127.0.0.1:6060, backlog 8, two connections never
accepted) and one whose command name holds a quote, a backslash and a
newline (127.0.0.1:7070, backlog 5); connections to web and api from a
process cli; one TIME_WAIT; one unconnected UDP socket. Then:

- every --count-by key and several combinations, as a table and as JSON,
  equal the counts count_oracle derives from `ss -tanpH`, also with --top
  (the rest summed as (other)) and with filters;
- both metrics formats, in every variant, pass `promtool check metrics`,
  parse with prometheus_client's parsers (the OpenMetrics one for
  openmetrics) and carry the population's values; the hostile process
  name round-trips through the label;
- a real prometheus-node-exporter on 127.0.0.1 with only the textfile
  collector reads what sockstat --output writes, scraped over HTTP, also
  while the file is rewritten;
- --output is atomic (a reader polling the file never sees part of one),
  leaves the old file and no temporary file on an unwritable directory or
  a full disk, and gives the file 0666 less the umask;
- 300 distinct peer ports give at most --top N + 1 connection series.
"""
import collections
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import count_oracle  # noqa: E402
import netns  # noqa: E402

try:
    import prometheus_client  # noqa: F401
except ImportError:
    # Debian installs it for the system python; a pyenv python does not see it.
    sys.path.append("/usr/lib/python3/dist-packages")
try:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
    from prometheus_client.parser import text_string_to_metric_families as prom_parse
except ImportError:
    om_parse = prom_parse = None

PROMTOOL = shutil.which("promtool")
EXPORTER = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
ADDR = "127.0.0.1:19101"
EVIL = 'a"b\\c\nd'
# A sanitized build takes about a second a run on a busy machine: fewer
# rewrites then, while the reader still polls thousands of times.
REWRITES = 100 if os.environ.get("SOCKSTAT_SANITIZE", "none") in ("", "none") else 20
FAMILIES = ("sockstat_sockets", "sockstat_listen_queue", "sockstat_listen_queue_max",
            "sockstat_connections", "sockstat_scrape_duration_seconds")
KEY_LISTS = [
    "proto", "family", "state", "local-addr", "local-port", "peer-addr", "peer-port",
    "peer-net", "direction", "port", "process", "proto,state", "family,state",
    "local-addr,local-port", "direction,port", "direction,port,state,process",
    "proto,peer-net,direction", "state,process,peer-port",
]


def population():
    pop = netns.Population()

    def listener(family, addr, backlog):
        s = socket.socket(family, socket.SOCK_STREAM)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind(addr)
        s.listen(backlog)
        return s

    web = listener(socket.AF_INET, ("127.0.0.1", 8080), 16)
    api = listener(socket.AF_INET6, ("::1", 9090), 16)
    slow = listener(socket.AF_INET, ("127.0.0.1", 6060), 8)
    evil = listener(socket.AF_INET, ("127.0.0.1", 7070), 5)
    clients, web_side, api_side = [], [web], [api]
    for _ in range(3):
        c, s = netns.tcp_pair(web, socket.AF_INET, ("127.0.0.1", 8080))
        clients.append(c)
        web_side.append(s)
    for _ in range(2):
        c, s = netns.tcp_pair(api, socket.AF_INET6, ("::1", 9090))
        clients.append(c)
        api_side.append(s)
    for _ in range(2):  # never accepted: slow's Recv-Q is 2
        c = socket.create_connection(("127.0.0.1", 6060))
        clients.append(c)
    # The side that closes first keeps TIME_WAIT: the client, here.
    c, s = netns.tcp_pair(web, socket.AF_INET, ("127.0.0.1", 8080))
    c.close()
    time.sleep(0.05)
    s.close()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 5353))
    pop.spawn("web", web_side + [udp])
    pop.spawn("api", api_side)
    pop.spawn("slow", [slow])
    pop.spawn(EVIL, [evil])
    pop.spawn("cli", clients)
    for s in web_side + api_side + clients + [slow, evil, udp]:
        s.close()
    return pop


def ss_text(*filt):
    r = netns.run(["ss", "-tanpH"] + list(filt))
    if r.rc != 0:
        raise RuntimeError("ss failed: %r" % r)
    return r.text


def promtool_ok(ck, text, what):
    if not PROMTOOL:
        return
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
    ck.ok(p.returncode == 0, "promtool check metrics accepts " + what,
          out=p.stdout + p.stderr, text=text[:2000])


def parse(fmt, text):
    """{family name: [(labels, value)]}, by the real parser of fmt."""
    out = {}
    for fam in (om_parse if fmt == "openmetrics" else prom_parse)(text):
        out.setdefault(fam.name, []).extend((s.labels, s.value) for s in fam.samples)
    return out


def value(fams, name, **labels):
    got = [v for l, v in fams.get(name, []) if all(l.get(k) == w for k, w in labels.items())]
    return sum(got) if got else None


# ----------------------------------------------------------- --count-by

# ss prints the hostile name raw, newline and all, which the oracle cannot
# parse: the comparisons with ss leave that listener out on both sides.
EXCL = ["not", "sport", "=", ":7070"]


def check_count_by(ck):
    ss = ss_text(*EXCL)
    for keys in KEY_LISTS:
        ck.begin("--count-by " + keys)
        klist = keys.split(",")
        want = count_oracle.ss_counts(klist, ss)
        r = netns.sockstat("-tan", "--count-by", keys, *EXCL)
        ck.eq(r.rc, 0, "exit 0", cmd=r)
        got = count_oracle.parse_count_table(r.text)
        ck.eq(got, want, "table counts equal ss's", out=r.text, ss=ss)
        lines = r.text.split("\n")
        ck.ok(all(not l.endswith(" ") for l in lines), "no trailing spaces", out=r.text)
        counts = [int(l.split()[-1]) for l in lines[1:] if l]
        ck.eq(counts, sorted(counts, reverse=True), "most first", out=r.text)
        r = netns.sockstat("-tan", "--count-by", keys, "-j", *EXCL)
        ck.eq(r.rc, 0, "-j: exit 0", cmd=r)
        ck.eq(count_oracle.parse_count_json(r.text, klist), want, "JSON counts equal ss's",
              out=r.text)
        r = netns.sockstat("-tan", "--count-by=" + keys, "--top=2", "-j", *EXCL)
        rows = json.loads(r.text)
        ranked = sorted(want.values(), reverse=True)
        if len(want) > 2:
            ck.eq(len(rows), 3, "--top 2 gives three rows", out=r.text)
            ck.eq([o["count"] for o in rows[:2]], ranked[:2], "--top 2 keeps the largest", out=r.text)
            ck.eq(rows[-1]["count"], sum(ranked[2:]), "the rest sums into (other)", out=r.text)
            ck.ok(all(v == "(other)" for k, v in rows[-1].items() if k != "count"),
                  "every key of the last row is (other)", out=r.text)
        else:
            ck.eq(len(rows), len(want), "--top 2 of fewer rows keeps them all", out=r.text)

    ck.begin("--count-by: the known population")
    got = count_oracle.parse_count_table(
        netns.sockstat("-tan", "--count-by", "direction,port,state,process").text)
    ck.eq(got.get(("in", "8080", "ESTABLISHED", "web")), 3, "3 in on 8080 held by web", table=got)
    ck.eq(got.get(("out", "8080", "ESTABLISHED", "cli")), 3, "3 out to 8080 held by cli", table=got)
    ck.eq(got.get(("in", "6060", "ESTABLISHED", "-")), 2, "2 not yet accepted on 6060", table=got)
    ck.eq(got.get(("out", "8080", "TIME_WAIT", "-")), 1, "the TIME_WAIT is out to 8080", table=got)
    r = netns.sockstat("-tanP", "--count-by", "user")
    got = count_oracle.parse_count_table(r.text)
    ck.eq(got.get(("-",)), 3, "-P: the TIME_WAIT and the 2 unaccepted have no user", out=r.text)
    r = netns.sockstat("-uan", "--count-by", "proto,state,direction,port,process", "-H")
    ck.eq(count_oracle.parse_count_table(r.text, header=False),
          {("udp", "UNCONN", "listen", "5353", "web"): 1}, "-H, UDP: one unconnected listener",
          out=r.text)
    r = netns.sockstat("-xan", "--count-by", "proto,local-port,peer-net", "-j")
    ck.ok(all(o["local_port"] == "-" and o["peer_net"] == "-" for o in json.loads(r.text)),
          "a key a UNIX socket does not have counts as -", out=r.text)
    r = netns.sockstat("-tn", "--count-by", "state")
    ck.eq(count_oracle.parse_count_table(r.text).get(("LISTEN",)), None,
          "without -a the listeners are not counted, as in the listing", out=r.text)

    ck.begin("--count-by with filters")
    keys = ["state", "process", "peer-port"]
    for args, filt in ((["dport", "=", ":8080"], ["dport", "=", ":8080"]),
                       (["--port", "9090"], ["(", "sport", "=", ":9090", "or", "dport", "=",
                                             ":9090", ")"])):
        want = count_oracle.ss_counts(keys, ss_text(*filt, *EXCL))
        r = netns.sockstat("-tan", "--count-by", ",".join(keys), *args, *EXCL)
        ck.eq(count_oracle.parse_count_table(r.text), want, "%s: counts equal ss's" % " ".join(args),
              out=r.text)
    # ss drops its State column under a state filter: the oracle filters itself.
    want = collections.Counter(
        (r["state"], r["process"], str(r["peer-port"]))
        for r in count_oracle.ss_rows("tcp", ss)
        if r["state"] == "ESTABLISHED" and r["local-addr"] == "127.0.0.1")
    r = netns.sockstat("-tan", "--count-by", ",".join(keys), "--state", "established", "src",
                       "127.0.0.1", *EXCL)
    ck.eq(count_oracle.parse_count_table(r.text), want, "--state established src 127.0.0.1",
          out=r.text)
    r = netns.sockstat("-tan", "--count-by", "direction,port", "dport", "=", ":8080")
    ck.eq(count_oracle.parse_count_table(r.text), {("out", "8080"): 4},
          "a filter that drops the listener still counts its connections as out to it", out=r.text)

    ck.begin("--count-by usage errors")
    for args, msg in (
            (["--count-by", "foo"], "sockstat: bad --count-by key 'foo'"),
            (["--count-by", "state,state"], "sockstat: bad --count-by key 'state'"),
            (["--count-by", "state,"], "sockstat: bad --count-by key ''"),
            (["--count-by", "state", "--top", "0"], "sockstat: bad --top value '0'"),
            (["--count-by", "state", "--top", "x"], "sockstat: bad --top value 'x'"),
            (["--top", "3"], "sockstat: --top needs --count-by or a metrics --format"),
            (["-s", "--count-by", "state"], "sockstat: -s and --count-by cannot be combined"),
            (["--format", "prom"], "sockstat: unknown format 'prom' (use table, json, ndjson, "
                                   "prometheus or openmetrics)")):
        r = netns.sockstat(*args)
        ck.eq(r.rc, 2, "%s: exit 2" % " ".join(args), cmd=r)
        ck.eq(r.errtext.split("\n")[0], msg, "%s: the message" % " ".join(args))
        ck.eq(r.out, b"", "%s: nothing on stdout" % " ".join(args))


# -------------------------------------------------------------- metrics

def check_metrics(ck):
    for fmt in ("prometheus", "openmetrics"):
        ck.begin("--format " + fmt)
        # Fresh from ss each time: the TIME_WAIT expires after a minute,
        # which a slow (sanitized) run can outlast.
        ss = ss_text()
        rows = count_oracle.ss_rows("tcp", ss)
        states = collections.Counter((r["family"], r["state"]) for r in rows)
        r = netns.sockstat("--format", fmt)
        ck.eq(r.rc, 0, "exit 0", cmd=r)
        text = r.text
        promtool_ok(ck, text, fmt)
        ck.eq(text.endswith("# EOF\n"), fmt == "openmetrics", "# EOF exactly in OpenMetrics")
        for name in FAMILIES:
            ck.ok("# HELP %s " % name in text and "# TYPE %s gauge" % name in text,
                  "HELP and TYPE for " + name, out=text)
        ck.ok(not any(l and not l.startswith("#") and len(l.split()) > 2 for l in text.split("\n")
                      if "{" not in l), "no timestamps", out=text)
        f = parse(fmt, text)
        for (fam, state), n in states.items():
            ck.eq(value(f, "sockstat_sockets", proto="tcp", family=fam, state=state), n,
                  "sockstat_sockets{tcp,%s,%s} equals ss's count, listeners included" % (fam, state))
        ck.eq(value(f, "sockstat_sockets", proto="udp", state="UNCONN"), 1, "the UDP socket")
        ck.eq(value(f, "sockstat_listen_queue", proto="tcp", address="127.0.0.1", port="6060",
                    process="slow"), 2, "slow's listen queue holds the 2 unaccepted connections")
        ck.eq(value(f, "sockstat_listen_queue_max", port="6060", process="slow"), 8,
              "slow's backlog")
        ck.eq(value(f, "sockstat_listen_queue_max", address="127.0.0.1", port="7070", process=EVIL),
              5, "a process named with quote, backslash and newline round-trips", out=text)
        ck.eq(value(f, "sockstat_listen_queue", address="::1", port="9090", process="api"), 0,
              "api's empty queue")
        ck.eq(value(f, "sockstat_connections", direction="in", port="8080", state="ESTABLISHED",
                    process="web"), 3, "3 in on 8080")
        ck.eq(value(f, "sockstat_connections", direction="out", port="9090", state="ESTABLISHED",
                    process="cli"), 2, "2 out to 9090")
        tw = sum(1 for r in rows if r["state"] == "TIME_WAIT")
        ck.eq(value(f, "sockstat_connections", direction="out", port="8080", state="TIME_WAIT",
                    process="-"), tw or None, "the TIME_WAIT, while it lasts")
        ck.eq(value(f, "sockstat_connections"), sum(1 for r in rows if r["state"] != "LISTEN"),
              "every TCP connection counted once, no listener")
        ck.ok(not any(k in ("peer", "peer_addr", "peer_port") for l, _ in f["sockstat_connections"]
                      for k in l), "no peer label")
        d = value(f, "sockstat_scrape_duration_seconds")
        ck.ok(d is not None and 0 < d < 30, "a scrape duration", duration=d)

        ck.begin("--format %s variants" % fmt)
        variants = [
            (["--top", "1"], None),
            (["-P"], None),
            (["-t", "-l"], None),
            (["-t", "state", "established"], None),
            (["--count-by", "proto,state"], None),
            (["--count-by", "process,direction,port", "--top", "2"], None),
            (["--count-by", "proto,family,state,local-addr,local-port,peer-addr,peer-port,"
              "peer-net,direction,port,process,user,netns,cgroup"], None),
        ]
        for args, _ in variants:
            r = netns.sockstat("--format=" + fmt, *args)
            ck.eq(r.rc, 0, "%s: exit 0" % " ".join(args), cmd=r)
            promtool_ok(ck, r.text, "%s %s" % (fmt, " ".join(args)))
            parse(fmt, r.text)
        f = parse(fmt, netns.sockstat("--format=" + fmt, "--top", "1").text)
        ck.eq(sorted({l["port"] for l, _ in f["sockstat_connections"]}), ["8080", "other"],
              "--top 1 keeps the busiest port and sums the rest as other")
        f = parse(fmt, netns.sockstat("--format=" + fmt, "-P").text)
        ck.ok(all(l["process"] == "-" for l, _ in f["sockstat_listen_queue"]), "-P: no process")
        f = parse(fmt, netns.sockstat("--format=" + fmt, "-t", "-l").text)
        ck.eq(value(f, "sockstat_connections"), None, "-l: listeners only, no connection")
        f = parse(fmt, netns.sockstat("--format=" + fmt, "--count-by", "proto,state").text)
        ck.eq(list(f), ["sockstat_sockets"], "--count-by: one family")
        ck.eq(value(f, "sockstat_sockets", proto="tcp", state="LISTEN"), 4,
              "--count-by: the 4 listeners")
        ck.eq(set(k for l, _ in f["sockstat_sockets"] for k in l), {"proto", "state"},
              "--count-by: labelled by the keys")
        r = netns.sockstat("--format=" + fmt, "-t", "--count-by", "process,direction,port",
                           "--top", "2")
        f = parse(fmt, r.text)
        ck.eq(len(f["sockstat_sockets"]), 3, "--count-by --top 2: three series", out=r.text)
        full = parse(fmt, netns.sockstat("--format=" + fmt, "-t", "--count-by",
                                         "process,direction,port").text)["sockstat_sockets"]
        ranked = sorted((v for _, v in full), reverse=True)
        ck.eq(value(f, "sockstat_sockets", process="other", direction="other", port="other"),
              sum(ranked[2:]), "--count-by --top 2: the rest under other", out=r.text)
        ck.eq(sorted(v for l, v in f["sockstat_sockets"] if l["port"] != "other"), sorted(ranked[:2]),
              "--count-by --top 2: the two largest kept", out=r.text)


# ------------------------------------------------------------- --output

def check_output(ck, d):
    ck.begin("--output")
    d = os.path.join(d, "out")
    os.mkdir(d)
    path = os.path.join(d, "counts")
    r = netns.sockstat("-tan", "--count-by", "state,port", "--output", path)
    ck.eq((r.rc, r.out, r.err), (0, b"", b""), "exit 0, nothing printed", cmd=r)
    with open(path, "rb") as f:
        ck.eq(f.read(), netns.sockstat("-tan", "--count-by", "state,port").out,
              "the file holds what stdout would")
    r = netns.sockstat("-tan", "-j", "--output=" + path)
    with open(path) as f:
        ck.ok(isinstance(json.load(f), list), "a listing as JSON too")
    r = subprocess.run([netns.SOCKSTAT, "-s", "--output", path], preexec_fn=lambda: os.umask(0o027))
    ck.eq(os.stat(path).st_mode & 0o777, 0o640, "mode 0666 less the umask (027)")
    ck.eq(sorted(os.listdir(d)), ["counts"], "no temporary file left")

    ck.begin("--output errors")
    with open(path, "w") as f:
        f.write("old\n")
    os.chmod(d, 0o755)
    os.chmod(path, 0o644)

    def as_nobody():
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)

    if netns.nobody_can_run():
        p = subprocess.run([netns.SOCKSTAT, "--format", "prometheus", "--output", path],
                           preexec_fn=as_nobody, capture_output=True)
        ck.eq(p.returncode, 1, "an unwritable directory: exit 1", err=p.stderr)
        ck.eq(p.stderr.decode(), "sockstat: cannot write '%s': Permission denied\n" % path,
              "one message")
        with open(path) as f:
            ck.eq(f.read(), "old\n", "the old file is untouched")
        ck.eq(sorted(os.listdir(d)), ["counts"], "no temporary file")
    else:
        print("skipped the unwritable directory: nobody cannot run sockstat here")
    for target, why in ((d, "Is a directory"), (os.path.join(d, "nodir", "x"),
                                                "No such file or directory")):
        r = netns.sockstat("--format", "prometheus", "--output", target)
        ck.eq((r.rc, r.errtext), (1, "sockstat: cannot write '%s': %s\n" % (target, why)),
              "--output %s: exit 1 and why" % target)
    r = netns.sockstat("--count-by", "bogus", "--output", path)
    ck.eq(r.rc, 2, "a usage error: exit 2")
    with open(path) as f:
        ck.eq(f.read(), "old\n", "a usage error leaves the file alone")
    # A full disk: a tiny tmpfs in a mount namespace of its own, filled up.
    script = r'''
set -e
mount -t tmpfs -o size=64k tmpfs "$1"
echo old > "$1/sockstat.prom"
dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null || true
set +e
"$2" -tan --count-by local-addr,local-port,peer-addr,peer-port --format openmetrics --output "$1/sockstat.prom" 2>"$1/../err"
echo "rc=$?"
cat "$1/sockstat.prom"
ls -a "$1"
'''
    full = os.path.join(d, "full")
    os.mkdir(full)
    p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
                        full, netns.SOCKSTAT], capture_output=True, text=True)
    err = open(os.path.join(d, "err")).read() if os.path.exists(os.path.join(d, "err")) else ""
    if p.returncode != 0 and ("mount" in p.stderr or "propagation" in p.stderr):
        # A chroot whose root is no mount point cannot make mounts private.
        print("note: no tmpfs mount here, the full-disk case is not checked: " + p.stderr)
    else:
        ck.eq(p.stdout.split("\n")[:2], ["rc=1", "old"], "a full disk: exit 1, the old file kept",
              out=p.stdout, err=p.stderr)
        ck.eq(sorted(p.stdout.split("\n")[2:]), ["", ".", "..", "fill", "sockstat.prom"],
              "a full disk: no temporary file", out=p.stdout)
        ck.eq(err, "sockstat: cannot write '%s/sockstat.prom': No space left on device\n" % full,
              "a full disk: one message")
    shutil.rmtree(full, ignore_errors=True)

    ck.begin("--output is atomic")
    path = os.path.join(d, "sockstat.prom")
    netns.sockstat("--format", "openmetrics", "--output", path)
    stop = threading.Event()
    seen = {"reads": 0, "bad": 0, "sample": ""}

    def reader():
        while not stop.is_set() or seen["reads"] < 2000:
            with open(path) as f:
                t = f.read()
            seen["reads"] += 1
            if not (t.startswith("# HELP sockstat_sockets ") and t.endswith("\n# EOF\n")):
                seen["bad"] += 1
                seen["sample"] = t
            if seen["reads"] > 200000:
                break

    th = threading.Thread(target=reader)
    th.start()
    rcs = [netns.sockstat("--format", "openmetrics", "--output", path).rc for _ in range(REWRITES)]
    stop.set()
    th.join()
    ck.eq(set(rcs), {0}, "%d rewrites succeed" % REWRITES)
    ck.ok(seen["reads"] >= 2000, "the reader polled thousands of times", reads=seen["reads"])
    ck.eq(seen["bad"], 0, "no read of %d saw part of a file" % seen["reads"], sample=seen["sample"])
    ck.eq(sorted(n for n in os.listdir(d) if n.startswith(".") or "tmp" in n), [],
          "no temporary file left")


# -------------------------------------------------------- node_exporter

def scrape():
    with urllib.request.urlopen("http://%s/metrics" % ADDR, timeout=5) as r:
        return r.read().decode("utf-8")


def check_node_exporter(ck, d, ss):
    ck.begin("node_exporter")
    if not EXPORTER:
        print("note: prometheus-node-exporter is not installed, not checked")
        return
    tdir = os.path.join(d, "textfile")
    os.mkdir(tdir)
    path = os.path.join(tdir, "sockstat.prom")
    r = netns.sockstat("--format", "prometheus", "--output", path)
    ck.eq(r.rc, 0, "sockstat writes the textfile", cmd=r)
    proc = subprocess.Popen([EXPORTER, "--web.listen-address=" + ADDR,
                             "--collector.disable-defaults", "--collector.textfile",
                             "--collector.textfile.directory=" + tdir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        text = None

        def up():
            nonlocal text
            try:
                text = scrape()
                return True
            except OSError:
                return proc.poll() is not None

        ck.ok(netns.wait_for(up, timeout=10) and text is not None, "node_exporter answers")
        if text is None:
            return
        f = parse("prometheus", text)
        ck.eq(value(f, "node_textfile_scrape_error"), 0.0, "node_textfile_scrape_error 0",
              out=text[-3000:])
        est = sum(1 for r in count_oracle.ss_rows("tcp", ss) if r["state"] == "ESTABLISHED")
        ck.eq(value(f, "sockstat_sockets", proto="tcp", state="ESTABLISHED"), est,
              "sockstat_sockets as ss counts them")
        ck.eq(value(f, "sockstat_listen_queue", port="6060", process="slow"), 2, "slow's queue")
        ck.eq(value(f, "sockstat_listen_queue_max", port="7070", process=EVIL), 5,
              "the hostile name through node_exporter")
        ck.eq(value(f, "sockstat_connections", direction="in", port="9090", process="api"), 2,
              "connections in on 9090")
        ck.ok(value(f, "sockstat_scrape_duration_seconds") is not None, "the duration")

        ck.begin("node_exporter while sockstat rewrites the file")
        writer = subprocess.Popen(["sh", "-c", 'i=0; while [ $i -lt $2 ]; do "$0" --format '
                                   'prometheus --output "$1" || exit 1; i=$((i+1)); done',
                                   netns.SOCKSTAT, path, str(max(10, REWRITES // 2))])
        scrapes = bad = 0
        while writer.poll() is None or scrapes < 50:
            f = parse("prometheus", scrape())
            scrapes += 1
            if value(f, "node_textfile_scrape_error") != 0.0 or \
                    value(f, "sockstat_listen_queue", port="6060") != 2:
                bad += 1
            if scrapes > 2000:
                break
        writer.wait()
        ck.eq(writer.returncode, 0, "the rewrites succeed")
        ck.eq(bad, 0, "no scrape of %d saw an error or part of a file" % scrapes)
        ck.eq(os.listdir(tdir), ["sockstat.prom"], "no temporary file in the textfile directory")
    finally:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------- cardinality

def check_cardinality(ck):
    """300 listeners on 20000-20299, one connection to each and 49 more to
    20000, never accepted; the clients' ports come from 40000-60000. The
    filter keeps the clients' side only: 349 connections out to 300
    distinct peer ports."""
    ck.begin("cardinality: 300 distinct peer ports")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    with open("/proc/sys/net/ipv4/ip_local_port_range", "w") as f:
        f.write("40000 60000\n")
    socks = []
    pop = netns.Population()
    try:
        for i in range(300):
            s = socket.socket()
            s.bind(("127.0.0.1", 20000 + i))
            s.listen(64)
            socks.append(s)
        clients = []
        for i in range(349):
            clients.append(socket.create_connection(("127.0.0.1", 20000 + max(0, i - 49))))
        pop.spawn("many", socks + clients)
        for s in socks + clients:
            s.close()
        filt = ["dport", ">=", ":20000", "and", "dport", "<=", ":20299"]
        for fmt in ("prometheus", "openmetrics"):
            for top, want in ((None, 100), ("5", 5)):
                r = netns.sockstat("--format", fmt, *(["--top", top] if top else []), *filt)
                ck.eq(r.rc, 0, "%s --top %s: exit 0" % (fmt, top), cmd=r)
                promtool_ok(ck, r.text, "%s ports300 top %s" % (fmt, top))
                f = parse(fmt, r.text)
                series = f.get("sockstat_connections", [])
                ck.ok(len(series) <= want + 1, "%s: %d series for 300 ports with top %d"
                      % (fmt, len(series), want))
                ck.eq(value(f, "sockstat_connections"), 349, "%s: every connection once" % fmt)
                ck.eq(value(f, "sockstat_connections", port="20000"), 50,
                      "%s: the busiest port kept" % fmt)
                ck.eq(value(f, "sockstat_connections", port="other"), 300 - want,
                      "%s: the rest as other" % fmt)
        r = netns.sockstat("-tn", "--count-by", "peer-port", "--top", "10", "-j", *filt)
        rows = json.loads(r.text)
        ck.eq(len(rows), 11, "--count-by peer-port --top 10: 11 rows", out=r.text)
        ck.eq(rows[0], {"peer_port": 20000, "count": 50}, "the busiest first")
        ck.eq(rows[-1], {"peer_port": "(other)", "count": 349 - 50 - 9}, "the rest as (other)")
    finally:
        pop.cleanup()


def main(ck):
    d = tempfile.mkdtemp(prefix="sockstat-metrics.")
    pop = population()
    try:
        ss = ss_text()
        ck.ok(ss.count("TIME-WAIT") == 1, "the population has its TIME_WAIT", ss=ss)
        check_count_by(ck)
        if prom_parse is None:
            print("note: python3-prometheus-client is not installed, the metrics are not parsed")
        else:
            check_metrics(ck)
            check_node_exporter(ck, d, ss_text())
        check_output(ck, d)
    finally:
        pop.cleanup()
        shutil.rmtree(d, ignore_errors=True)
    if prom_parse is not None:
        check_cardinality(ck)


if __name__ == "__main__":
    netns.run_isolated(main)
