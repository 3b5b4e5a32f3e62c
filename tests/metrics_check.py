#!/usr/bin/env python3
"""The metrics formats against real consumers.

tests/metrics_demo renders a fixed population of fabricated records (see
its header for the numbers); this script checks every format variant with
`promtool check metrics` and parses it with python3-prometheus-client's
parsers (the OpenMetrics one for openmetrics, the text one for
prometheus), then compares the values with the population.

Usage: metrics_check.py METRICS_DEMO [PROMTOOL]
"""
import subprocess
import sys

try:
    import prometheus_client  # noqa: F401
except ImportError:
    # Debian installs it for the system python; a pyenv python does not see it.
    sys.path.append("/usr/lib/python3/dist-packages")
try:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
    from prometheus_client.parser import text_string_to_metric_families as prom_parse
except ImportError:
    print("skipped: python3-prometheus-client is not installed")
    sys.exit(77)

DEMO = sys.argv[1]
PROMTOOL = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
EVIL = 'a"b\\c\nd'
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def demo(*args):
    return subprocess.run([DEMO, *args], check=True, capture_output=True, text=True).stdout


def promtool(text, what):
    if not PROMTOOL:
        return
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
    check(p.returncode == 0, f"promtool check metrics on {what}: {p.stdout}{p.stderr}")


def samples(fmt, text):
    """{family: [(labels, value)]}, parsed by the real parser of fmt."""
    parse = om_parse if fmt == "openmetrics" else prom_parse
    out = {}
    for fam in parse(text):
        check(fam.type == "gauge", f"{fmt}: {fam.name} is a gauge")
        check(fam.documentation != "", f"{fmt}: {fam.name} has HELP")
        out.setdefault(fam.name, []).extend((s.labels, s.value) for s in fam.samples)
    return out


def value(fams, name, **labels):
    got = [v for l, v in fams.get(name, []) if all(l.get(k) == w for k, w in labels.items())]
    return sum(got) if got else None


for fmt in ("prometheus", "openmetrics"):
    text = demo(fmt, "standard")
    promtool(text, f"{fmt} standard")
    check(text.endswith("# EOF\n") == (fmt == "openmetrics"), f"{fmt}: # EOF only in OpenMetrics")
    check(all(not c or c in "\n" or ord(c) >= 0x20 for c in text), f"{fmt}: no raw control bytes")
    for name in ("sockstat_sockets", "sockstat_listen_queue", "sockstat_listen_queue_max",
                 "sockstat_connections", "sockstat_scrape_duration_seconds"):
        check(f"# HELP {name} " in text and f"# TYPE {name} gauge" in text, f"{fmt}: HELP and TYPE for {name}")
    f = samples(fmt, text)
    check(value(f, "sockstat_sockets") == 18, f"{fmt}: 18 sockets in all")
    check(value(f, "sockstat_sockets", proto="tcp", family="inet", state="ESTABLISHED") == 9,
          f"{fmt}: 9 established tcp")
    check(value(f, "sockstat_sockets", proto="unix", family="unix", state="ESTABLISHED") == 3,
          f"{fmt}: 3 unix")
    check(value(f, "sockstat_sockets", proto="udp", state="UNCONN") == 1, f"{fmt}: 1 udp")
    check(value(f, "sockstat_listen_queue", proto="tcp", address="0.0.0.0", port="80", process="web") == 6,
          f"{fmt}: listen queue of :80 sums both listeners")
    check(value(f, "sockstat_listen_queue_max", port="80") == 256, f"{fmt}: backlog of :80")
    check(value(f, "sockstat_listen_queue", port="8080", process=EVIL) == 1,
          f"{fmt}: quote, backslash and newline round-trip in a process label")
    check(value(f, "sockstat_listen_queue_max", address="::", port="8080", process=EVIL) == 64,
          f"{fmt}: backlog of :8080")
    check(value(f, "sockstat_connections", direction="in", port="80", state="ESTABLISHED", process="web") == 5,
          f"{fmt}: 5 in on 80")
    check(value(f, "sockstat_connections", direction="in", port="80", state="TIME_WAIT", process="-") == 2,
          f"{fmt}: 2 TIME_WAIT on 80")
    check(value(f, "sockstat_connections", direction="out", port="443", process="curl") == 4,
          f"{fmt}: 4 out to 443")
    check(value(f, "sockstat_connections") == 11, f"{fmt}: 11 connections, no listener among them")
    check(abs(value(f, "sockstat_scrape_duration_seconds") - 0.012345) < 1e-9, f"{fmt}: duration")

    # Cardinality: 300 distinct peer ports give at most top-N + 1 series.
    for top, want in ((None, 100), ("5", 5)):
        text = demo(fmt, "ports300", *([top] if top else []))
        promtool(text, f"{fmt} ports300 top {top}")
        f = samples(fmt, text)
        series = f.get("sockstat_connections", [])
        check(len(series) <= want + 1, f"{fmt}: {len(series)} series for 300 ports with top {want}")
        check(value(f, "sockstat_connections") == 349, f"{fmt}: every connection counted once")
        check(value(f, "sockstat_connections", port="1000") == 50, f"{fmt}: the busiest port kept")
        check(value(f, "sockstat_connections", port="other") == 300 - want, f"{fmt}: the rest as other")
        check(not any("peer" in k or "address" in k for l, _ in series for k in l),
              f"{fmt}: no peer address label")

    # --count-by: one family, labelled by the keys, the --top rest as other.
    text = demo(fmt, "countby", "process,state", "2")
    promtool(text, f"{fmt} count-by")
    f = samples(fmt, text)
    check(list(f) == ["sockstat_sockets"], f"{fmt}: count-by gives one family")
    check(value(f, "sockstat_sockets") == 18, f"{fmt}: count-by counts every socket")
    check(value(f, "sockstat_sockets", process="other", state="other") == 18 - 5 - 4,
          f"{fmt}: count-by --top 2 sums the rest")
    text = demo(fmt, "countby", "peer-port,local-addr,peer-net,direction,port,user,netns,cgroup,family")
    promtool(text, f"{fmt} count-by every key")
    f = samples(fmt, text)
    check(value(f, "sockstat_sockets") == 18, f"{fmt}: count-by every key counts every socket")
    check(all("peer_port" in l and "local_addr" in l for l, _ in f["sockstat_sockets"]),
          f"{fmt}: label names with _")

if failures:
    print(f"{len(failures)} failed")
    sys.exit(1)
print("all metrics checks passed")
