#!/usr/bin/env python3
"""The Prometheus output through a real node_exporter.

In a private namespace, prometheus-node-exporter runs on 127.0.0.1 with
only the textfile collector, reading a directory that tests/metrics_demo
writes with --output (the metrics writer and outfile.h, as sockstat
--format prometheus --output will). The test scrapes /metrics over HTTP
and finds the families with the population's values and
node_textfile_scrape_error 0, also while the file is rewritten over and
over (the collector never reads half a file).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")
    from prometheus_client.parser import text_string_to_metric_families

DEMO = os.environ.get("METRICS_DEMO", "")
EXPORTER = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
ADDR = "127.0.0.1:19100"
EVIL = 'a"b\\c\nd'


def scrape():
    with urllib.request.urlopen("http://%s/metrics" % ADDR, timeout=5) as r:
        return r.read().decode("utf-8")


def families(text):
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def value(f, name, **labels):
    got = [v for l, v in f.get(name, []) if all(l.get(k) == w for k, w in labels.items())]
    return sum(got) if got else None


def write(path):
    r = netns.run([DEMO, "prometheus", "standard", "--output", path])
    if r.rc != 0:
        raise RuntimeError("metrics_demo failed: %r" % r)


def main(ck):
    d = tempfile.mkdtemp(prefix="sockstat-textfile.")
    proc = None
    try:
        path = os.path.join(d, "sockstat.prom")
        write(path)
        proc = subprocess.Popen([EXPORTER, "--web.listen-address=" + ADDR,
                                 "--collector.disable-defaults", "--collector.textfile",
                                 "--collector.textfile.directory=" + d],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        text = None

        def up():
            nonlocal text
            try:
                text = scrape()
                return True
            except OSError:
                return proc.poll() is not None

        ck.ok(netns.wait_for(up, timeout=10) and text is not None, "node_exporter answers",
              stderr=proc.stderr.read(2000) if proc.poll() is not None else "")
        if text is None:
            return
        ck.begin("one scrape")
        f = families(text)
        ck.eq(value(f, "node_textfile_scrape_error"), 0.0, "node_textfile_scrape_error 0", out=text[-3000:])
        ck.eq(value(f, "sockstat_sockets"), 18.0, "sockstat_sockets sums to the population")
        ck.eq(value(f, "sockstat_sockets", proto="tcp", family="inet", state="ESTABLISHED"), 9.0,
              "9 established")
        ck.eq(value(f, "sockstat_listen_queue", port="80", process="web"), 6.0, "listen queue of :80")
        ck.eq(value(f, "sockstat_listen_queue_max", port="8080", process=EVIL), 64.0,
              "a process named with quote, backslash and newline round-trips")
        ck.eq(value(f, "sockstat_connections", direction="in", port="80", state="ESTABLISHED"), 5.0,
              "connections in on 80")
        ck.ok(value(f, "sockstat_scrape_duration_seconds") is not None, "the duration is there")

        ck.begin("rewritten while scraped")
        writer = subprocess.Popen([sys.executable, "-c", """
import subprocess, sys
for i in range(150):
    subprocess.run([sys.argv[1], "prometheus", "standard", "--output", sys.argv[2]], check=True)
""", DEMO, path])
        scrapes = bad = 0
        while writer.poll() is None or scrapes < 100:
            f = families(scrape())
            scrapes += 1
            if value(f, "node_textfile_scrape_error") != 0.0 or value(f, "sockstat_sockets") != 18.0:
                bad += 1
            if scrapes > 2000:
                break
        writer.wait()
        ck.eq(writer.returncode, 0, "the writer succeeded")
        ck.eq(bad, 0, "no scrape of %d saw an error or a partial file" % scrapes)
        ck.eq(sorted(os.listdir(d)), ["sockstat.prom"], "no temporary file left behind")
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    if not EXPORTER:
        print("skipped: prometheus-node-exporter is not installed")
        sys.exit(77)
    if not DEMO or not os.access(DEMO, os.X_OK):
        print("FAIL: set METRICS_DEMO to the built tests/metrics_demo (got %r)" % DEMO)
        sys.exit(1)
    netns.run_isolated(main)
