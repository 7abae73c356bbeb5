#!/usr/bin/python3
"""Transmission RPC torrent-get at scale, as Sonarr polls it: seedboxd against Debian's
transmission-daemon 3.00 (reference) in the same run.

For each size N, makes N tiny single-file .torrent files in-process (python3-libtorrent, v1,
4 KiB of distinct random content each) and adds them paused to each daemon in turn through its
own fast path: seedboxd, JSON-RPC batches of torrent.add over /rpc; transmission, torrent-add with
metainfo, then one restart (3.00 verifies every new torrent with a 100 ms sleep each; restarted,
it verifies nothing). Once the daemon lists all N stopped, it times K sequential torrent-get calls
of every torrent with Sonarr's field list over one keep-alive HTTP connection (after the
X-Transmission-Session-Id handshake): p50/p99 to the answer's last byte (what a client waits),
p50 to its header (the daemon's own time: both send Content-Length, so the header leaves once the
answer is made) and the daemon's CPU per call (utime+stime from /proc/PID/stat). It prints the
ratio seedboxd / transmission and the target: p50 ratio <= 0.5. Both daemons listen on loopback
only, DHT, LSD, UPnP, NAT-PMP and PEX off. --field-costs also times seedboxd with each of Sonarr's
fields left out in turn, to show which one costs the time.

Before each measurement it waits (up to QUIET_TIMEOUT) until other processes use at most
BUSY_LIMIT of a core; a measurement during which they used more is repeated (up to ATTEMPTS
times). If the machine never stays quiet, nothing is reported and the exit status is 2. Missing
the target is not an error (exit 0).

Needs transmission-daemon and python3-libtorrent (run with /usr/bin/python3). The seedboxd binary
(build/seedboxd, or SEEDBOX_BIN) is copied at the start, so a rebuild during the run changes
nothing.

usage: bench/transmission_bench.py [--sizes 1000,10000] [--calls K] [--field-costs]
"""
import argparse
import base64
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from list_bench import Transmission, cpu_seconds, rss_kib  # noqa: E402 (puts harness on the path)
from bench_common import (ATTEMPTS, BUSY_LIMIT, Connection, MachineBusy,  # noqa: E402
                          machine_cpu, make_torrents, wait_quiet)
import harness  # noqa: E402
from harness import Daemon, wait_until  # noqa: E402

# Sonarr's TransmissionProxy.GetTorrentStatus (src/NzbDrone.Core/Download/Clients/Transmission/
# TransmissionProxy.cs, Sonarr/Sonarr 49df353, unchanged since 675e3cd "Labels support for
# Transmission 4.0", 2024-11). "fileCount" is no Transmission field and "file-count" is 4.0's:
# seedboxd leaves out the first; 3.00 answers both with 0 (unknown names get an empty value).
SONARR_FIELDS = ["id", "hashString", "name", "downloadDir", "totalSize", "leftUntilDone",
                 "isFinished", "eta", "status", "secondsDownloading", "secondsSeeding",
                 "errorString", "uploadedEver", "downloadedEver", "seedRatioLimit", "seedRatioMode",
                 "seedIdleLimit", "seedIdleMode", "fileCount", "file-count", "labels"]
TARGET_P50_RATIO = 0.5
LOAD_TIMEOUT = 300  # seconds for a daemon to list all N torrents stopped
DEFAULT_BIN = os.path.join(HERE, "..", "build", "seedboxd")


class TrClient:
    """Transmission RPC over one keep-alive connection, with the 409 session-id handshake."""

    def __init__(self, port, password=None, path="/transmission/rpc"):
        self.conn = Connection("127.0.0.1", port, timeout=120)
        self.path = path
        self.headers = {"Content-Type": "application/json"}
        if password is not None:  # seedboxd: any user name, the RPC token as password
            cred = base64.b64encode(f"bench:{password}".encode()).decode()
            self.headers["Authorization"] = "Basic " + cred

    def raw(self, method, **args):
        """Sends one call; returns (seconds to the answer's header, seconds to its last byte,
        body bytes). Both daemons send Content-Length, so the header comes once the answer is
        made."""
        body = json.dumps({"method": method, "arguments": args})
        for _ in range(2):
            t0 = time.perf_counter()
            self.conn.request("POST", self.path, body, self.headers)
            resp = self.conn.getresponse()
            header = time.perf_counter() - t0
            data = resp.read()
            elapsed = time.perf_counter() - t0
            if resp.status == 409:
                self.headers["X-Transmission-Session-Id"] = resp.getheader("X-Transmission-Session-Id")
                continue
            if resp.status != 200:
                raise RuntimeError(f"{method}: HTTP {resp.status}: {data[:200]!r}")
            return header, elapsed, data
        raise RuntimeError(f"{method}: still 409 after the session-id handshake")

    def call(self, method, **args):
        reply = json.loads(self.raw(method, **args)[2])
        if reply.get("result") != "success":
            raise RuntimeError(f"{method}: {reply.get('result')!r}")
        return reply.get("arguments", {})


def all_stopped(client, n):
    """True once the daemon lists n torrents, each stopped (status 0): all loaded."""
    torrents = client.call("torrent-get", fields=["id", "status"])["torrents"]
    return len(torrents) == n and all(t.get("status") == 0 for t in torrents)


def percentile(sorted_samples, p):
    """Nearest rank: with fewer than 100 samples, p99 is the slowest call."""
    return sorted_samples[max(0, math.ceil(p / 100 * len(sorted_samples)) - 1)]


def check_reply(data, n):
    """The fields the first torrent carries; fails unless the answer lists n torrents."""
    reply = json.loads(data)
    torrents = reply.get("arguments", {}).get("torrents", [])
    if reply.get("result") != "success" or len(torrents) != n:
        raise RuntimeError(f"torrent-get: {reply.get('result')!r}, {len(torrents)} of {n} torrents")
    return set(torrents[0]), len(data)


def timed_gets(client, pid, n, k):
    """K torrent-gets of every torrent with Sonarr's fields; figures, or None if the machine
    was busy meanwhile."""
    client.conn.close()  # the daemon may have closed it while we waited for a quiet machine
    for _ in range(2):  # warm up, outside the figures
        fields, size = check_reply(client.raw("torrent-get", fields=SONARR_FIELDS)[2], n)
    samples, headers, opened = [], [], client.conn.opened
    own0, cpu0, all0, wall0 = time.process_time(), cpu_seconds(pid), machine_cpu(), time.monotonic()
    for _ in range(k):
        header, elapsed, data = client.raw("torrent-get", fields=SONARR_FIELDS)
        samples.append(elapsed)
        headers.append(header)
        check_reply(data, n)
    wall = time.monotonic() - wall0
    daemon = cpu_seconds(pid) - cpu0
    others = (machine_cpu() - all0) - daemon - (time.process_time() - own0)
    samples.sort()
    headers.sort()
    return {"p50": percentile(samples, 50), "p99": percentile(samples, 99),
            "header_p50": percentile(headers, 50), "cpu": daemon / k,
            "others": others / wall, "fields": fields, "bytes": size,
            "reconnects": client.conn.opened - opened}


def measure(client, pid, n, k, name):
    for attempt in range(1, ATTEMPTS + 1):
        idle = wait_quiet(pid, name)
        r = timed_gets(client, pid, n, k)
        if r["others"] <= BUSY_LIMIT:
            r["idle"] = idle
            r["rss"] = rss_kib(pid) / 1024
            return r
        print(f"  {name}: other processes used {r['others']:.0%} of a core during the calls "
              f"(limit {BUSY_LIMIT:.0%}); attempt {attempt} of {ATTEMPTS}", flush=True)
    raise MachineBusy(f"machine busy: not reporting figures for {name} at N = {n}")


def field_costs(client, pid, n, k):
    """Where seedboxd's time goes: the same calls with one field at a time left out, and the
    cheapest request (id only). Returns [(label, p50 seconds, CPU per call)]."""
    rows = []
    for label, fields in [("all of Sonarr's fields", SONARR_FIELDS), ("id only", ["id"])] + [
            (f"without {f}", [g for g in SONARR_FIELDS if g != f]) for f in SONARR_FIELDS]:
        cpu0, samples = cpu_seconds(pid), []
        for _ in range(k):
            samples.append(client.raw("torrent-get", fields=fields)[1])
        samples.sort()
        rows.append((label, percentile(samples, 50), (cpu_seconds(pid) - cpu0) / k))
    return rows


class QuietDaemon(Daemon):
    """harness's Daemon at log level warn: its --log-level debug flag beats any --set."""

    def command(self):
        cmd = super().command()
        cmd[cmd.index("--log-level") + 1] = "warn"
        return cmd


def run_seedboxd(tmp, metas, k, costs):
    os.makedirs(tmp)
    cfg = os.path.join(tmp, "seedboxd.json")
    with open(cfg, "w") as f:
        json.dump({"bt": {"dht": False, "lsd": False, "upnp": False, "natpmp": False,
                          "pex": False}}, f)
    d = QuietDaemon(state_dir=os.path.join(tmp, "sbx"), args=["--config", cfg]).start()
    try:
        t0 = time.perf_counter()
        for start in range(0, len(metas), 100):  # rpc.max_batch
            status, _, body = d.post([
                {"jsonrpc": "2.0", "id": i, "method": "torrent.add",
                 "params": {"metainfo": base64.b64encode(metas[i]).decode(), "paused": True}}
                for i in range(start, min(len(metas), start + 100))])
            if status != 200 or any("error" in r for r in json.loads(body)):
                raise RuntimeError(f"seedboxd torrent.add batch at {start}: {status} {body[:300]!r}")
        add_s = time.perf_counter() - t0
        client = TrClient(d.port, password=d.token)
        wait_until(lambda: all_stopped(client, len(metas)), LOAD_TIMEOUT, 0.2,
                   what=f"seedboxd to list {len(metas)} stopped torrents")
        loaded_s = time.perf_counter() - t0
        r = measure(client, d.proc.pid, len(metas), k, "seedboxd")
        r.update(add=len(metas) / add_s, loaded=loaded_s)
        if costs:
            r["costs"] = field_costs(client, d.proc.pid, len(metas), max(5, k // 4))
        return r
    finally:
        code = d.stop()
        if code not in (0, None):
            print(f"seedboxd exited with {code}:\n{d.logs()}", file=sys.stderr)


class RestartableTransmission(Transmission):
    """list_bench's transmission-daemon, on loopback only, that can be restarted on its state."""

    def __init__(self, tmp):
        super().__init__(tmp, settings={"bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1",
                                        "utp-enabled": False, "message-level": 1})

    def restart(self):
        self.proc.terminate()
        self.proc.wait(120)  # it saves every torrent's .resume on the way out
        self.proc = subprocess.Popen(["transmission-daemon", "-f", "-g", self.cfg],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.sid = ""
        wait_until(lambda: self.call("session-get") is not None, 60, what="transmission-daemon")


def run_transmission(tmp, metas, k):
    """Transmission 3.00 verifies every new torrent, sleeping 100 ms in each verify
    (libtransmission/verify.c), so N adds take N / 10 s to settle. Restarted, it finds its own
    copy of each .torrent and verifies nothing: all N are stopped within seconds."""
    tr = RestartableTransmission(tmp)
    try:
        client = TrClient(tr.port)
        t0 = time.perf_counter()
        for meta in metas:
            added = client.call("torrent-add", metainfo=base64.b64encode(meta).decode(), paused=True)
            if "torrent-added" not in added:
                raise RuntimeError(f"transmission torrent-add: {added}")
        add_s = time.perf_counter() - t0
        tr.restart()
        client = TrClient(tr.port)
        wait_until(lambda: all_stopped(client, len(metas)), LOAD_TIMEOUT, 0.2,
                   what=f"transmission-daemon to list {len(metas)} stopped torrents")
        loaded_s = time.perf_counter() - t0
        r = measure(client, tr.proc.pid, len(metas), k, "transmission-daemon")
        r.update(add=len(metas) / add_s, loaded=loaded_s)
        return r
    finally:
        tr.stop()


def print_size(n, k, s, t):
    ratio = s["p50"] / t["p50"]
    print(f"\nN = {n:,} torrents, {k} torrent-get calls each, Sonarr's {len(SONARR_FIELDS)} fields")
    print(f"{'':28}{'seedboxd':>14}{'transmission':>14}{'ratio':>8}")
    rows = [("torrent-get p50, ms", s["p50"] * 1e3, t["p50"] * 1e3),
            ("torrent-get p99, ms", s["p99"] * 1e3, t["p99"] * 1e3),
            ("p50 to the header, ms", s["header_p50"] * 1e3, t["header_p50"] * 1e3),
            ("daemon CPU per call, ms", s["cpu"] * 1e3, t["cpu"] * 1e3),
            ("answer, KiB", s["bytes"] / 1024, t["bytes"] / 1024),
            ("add calls, torrents/s", s["add"], t["add"]),
            ("all N stopped after, s", s["loaded"], t["loaded"]),
            ("idle CPU before, % core", s["idle"] * 100, t["idle"] * 100),
            ("RSS after, MiB", s["rss"], t["rss"])]
    for name, a, b in rows:
        print(f"{name:28}{a:14.2f}{b:14.2f}" + (f"{a / b:8.2f}" if b else f"{'-':>8}"))
    for name, r in (("seedboxd", s), ("transmission", t)):
        missing = [f for f in SONARR_FIELDS if f not in r["fields"]]
        print(f"{name}: {len(r['fields'])} fields answered (left out: {', '.join(missing) or '-'}), "
              f"{r['reconnects']} reconnects during the calls, other processes used "
              f"{max(0, r['others']):.0%} of a core")
    met = ratio <= TARGET_P50_RATIO
    print(f"target: p50 ratio <= {TARGET_P50_RATIO} (seedboxd >= 2x faster): "
          f"{ratio:.2f}, target {'met' if met else 'missed'}")
    for label, p50, cpu in s.get("costs", []):
        print(f"  seedboxd {label:28} p50 {p50 * 1e3:9.2f} ms, CPU {cpu * 1e3:9.2f} ms/call")
    return met


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000", help="torrent counts, comma-separated")
    ap.add_argument("--calls", type=int, default=None,
                    help="timed torrent-get calls per daemon and size (default: 100 up to 3,000 "
                         "torrents, fewer above, at least 20: 30 at 10,000)")
    ap.add_argument("--field-costs", action="store_true",
                    help="also time seedboxd with each field left out in turn (profiling)")
    a = ap.parse_args()
    a.sizes = [int(x) for x in a.sizes.split(",") if x.strip()]
    if not a.sizes or min(a.sizes) < 1 or (a.calls is not None and a.calls < 1):
        ap.error("sizes and calls must be positive")
    return a


def snapshot_binary(tmp):
    """A copy of the seedboxd binary, so a rebuild during the run cannot swap it midway."""
    src = os.path.abspath(os.environ.get("SEEDBOX_BIN", DEFAULT_BIN))
    dst = os.path.join(tmp, "seedboxd")
    try:
        shutil.copy2(src, dst)
    except OSError as e:
        raise SystemExit(f"cannot copy {src} ({e.strerror}): being rebuilt? Retry later.") from None
    with open(dst, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    print(f"seedboxd: {src} (sha256 {digest}, built "
          f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(os.stat(src).st_mtime))})")
    return dst


def main():
    a = parse_args()
    if shutil.which("transmission-daemon") is None:
        raise SystemExit("transmission-daemon is not installed (apt-get install transmission-daemon)")
    tmp = tempfile.mkdtemp(prefix="seedbox-trbench-")
    met = []
    try:
        harness.BIN = snapshot_binary(tmp)
        for n in a.sizes:
            t0 = time.perf_counter()
            metas = make_torrents(n)
            print(f"\n{n:,} .torrent files made in {time.perf_counter() - t0:.1f} s", flush=True)
            k = a.calls or max(20, min(100, 300_000 // n))
            s = run_seedboxd(os.path.join(tmp, f"s{n}"), metas, k, a.field_costs)
            t = run_transmission(os.path.join(tmp, f"t{n}"), metas, k)
            met.append(print_size(n, k, s, t))
    except MachineBusy as e:
        print(e, file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n(ratio = seedboxd / transmission-daemon 3.00; lower is better except for add rate)")
    print("target met" if all(met) else "target missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
