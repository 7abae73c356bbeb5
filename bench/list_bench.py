#!/usr/bin/python3
"""torrent.list at scale: seedboxd against transmission-daemon (reference) in the same run.

Adds N magnet links (paused) to each daemon, then times list calls asking for the same six fields,
and reports the daemons' RSS. Prints figures and the seedboxd/reference ratio.

usage: bench/list_bench.py [--torrents N] [--calls K] [--bin build/seedboxd]
"""
import argparse
import hashlib
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from harness import Daemon, free_port, wait_until  # noqa: E402


def magnet(i):
    return "magnet:?xt=urn:btih:" + hashlib.sha1(str(i).encode()).hexdigest() + f"&dn=bench-{i}"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_calls(call, k):
    samples = []
    for _ in range(k):
        t0 = time.perf_counter()
        call()
        samples.append(time.perf_counter() - t0)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1] if k >= 100 else samples[-1]


class Transmission:
    def __init__(self, tmp, settings=None):
        self.port = free_port()
        self.cfg = os.path.join(tmp, "tr")
        os.makedirs(self.cfg)
        with open(os.path.join(self.cfg, "settings.json"), "w") as f:
            json.dump({"dht-enabled": False, "lpd-enabled": False, "pex-enabled": False,
                       "port-forwarding-enabled": False, "rpc-port": self.port,
                       "rpc-bind-address": "127.0.0.1", "rpc-authentication-required": False,
                       "rpc-whitelist-enabled": False, "peer-port": free_port(),
                       "start-added-torrents": False, "download-dir": tmp, **(settings or {})}, f)
        self.proc = subprocess.Popen(["transmission-daemon", "-f", "-g", self.cfg],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.sid = ""
        wait_until(lambda: self.call("session-get") is not None, 20, what="transmission-daemon")

    def call(self, method, **args):
        for _ in range(2):
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            c.request("POST", "/transmission/rpc", json.dumps({"method": method, "arguments": args}),
                      {"X-Transmission-Session-Id": self.sid})
            r = c.getresponse()
            body = r.read()
            if r.status == 409:
                self.sid = r.getheader("X-Transmission-Session-Id")
                continue
            return json.loads(body)
        return None

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--torrents", type=int, default=2000)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--bin", default=os.environ.get("SEEDBOX_TEST_BIN", "build/seedboxd"))
    a = ap.parse_args()
    os.environ["SEEDBOX_TEST_BIN"] = os.path.abspath(a.bin)
    import harness
    harness.BIN = os.environ["SEEDBOX_TEST_BIN"]
    n, k = a.torrents, a.calls
    tmp = tempfile.mkdtemp(prefix="seedbox-bench-")
    try:
        d = Daemon(state_dir=os.path.join(tmp, "sbx"), args=["--set", "log_level=warn"]).start()
        t0 = time.perf_counter()
        for start in range(0, n, 100):
            d.post([{"jsonrpc": "2.0", "id": i, "method": "torrent.add",
                     "params": {"magnet": magnet(i), "paused": True}} for i in range(start, min(n, start + 100))])
        add_s = time.perf_counter() - t0
        assert len(d.call("torrent.list", fields=["id"])["torrents"]) == n
        fields = ["id", "name", "state", "progress", "upload_rate", "ratio"]
        cpu0 = cpu_seconds(d.proc.pid)
        s_med, s_p99 = timed_calls(lambda: d.call("torrent.list", fields=fields), k)
        s_cpu = (cpu_seconds(d.proc.pid) - cpu0) / k
        s_rss = rss_kib(d.proc.pid)
        d.stop()

        tr = Transmission(tmp)
        t0 = time.perf_counter()
        for i in range(n):
            tr.call("torrent-add", filename=magnet(i), paused=True)
        tr_add_s = time.perf_counter() - t0
        tr_fields = ["id", "name", "status", "percentDone", "rateUpload", "uploadRatio"]
        assert len(tr.call("torrent-get", fields=["id"])["arguments"]["torrents"]) == n
        cpu0 = cpu_seconds(tr.proc.pid)
        t_med, t_p99 = timed_calls(lambda: tr.call("torrent-get", fields=tr_fields), k)
        t_cpu = (cpu_seconds(tr.proc.pid) - cpu0) / k
        t_rss = rss_kib(tr.proc.pid)
        tr.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"torrents: {n}, list calls: {k}, fields: 6")
    print(f"{'':24}{'seedboxd':>14}{'transmission':>14}{'ratio':>8}")
    rows = [("add, torrents/s", n / add_s, n / tr_add_s, True),
            ("list median, ms", s_med * 1e3, t_med * 1e3, False),
            ("list p99, ms", s_p99 * 1e3, t_p99 * 1e3, False),
            ("list CPU/torrent, us", s_cpu / n * 1e6, t_cpu / n * 1e6, False),
            ("RSS, MiB", s_rss / 1024, t_rss / 1024, False)]
    for name, s, t, higher_better in rows:
        print(f"{name:24}{s:14.2f}{t:14.2f}{s / t:8.2f}")
    print("(ratio = seedboxd / transmission; lower is better except for add rate)")


if __name__ == "__main__":
    main()
