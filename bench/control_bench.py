#!/usr/bin/python3
"""Control-plane costs at scale (issue 15, targets 2, 3, 4, 6): seedboxd against
transmission-daemon 3.00, aria2c 1.36, qbittorrent-nox 4.5 and bare python3-libtorrent
(bench/references.py) in the same run, one daemon at a time.

For each size N, makes N tiny single-file v1 torrents without trackers with their payload
(bench_common.make_torrents); each daemon gets its own copy of the payload folder, so it checks
the files and seeds. Per daemon:
  adds     N sequential add calls (the daemon's own: torrent.add, torrent-add with metainfo,
           aria2.addTorrent, /api/v2/torrents/add, the seeder's POST /add), one keep-alive
           connection, timed from the first call to the last answer, and the daemon's CPU
           (utime+stime) per call meanwhile (seedboxd's also by thread); for seedboxd also, on a
           fresh daemon, JSON-RPC batches of BATCH torrent.add calls (rpc.max_batch=1000), the
           median of BATCH_RUNS fresh daemons.
  memory   anon RSS (RssAnon, /proc/PID/status) once the API answers on an empty state, and
           once all N seed: growth per torrent, KiB.
  list     at least K calls, for at least 2 s, of the daemon's list of every torrent with about
           ten fields (torrent.list with fields, torrent-get with fields, aria2 tellActive +
           tellWaiting with keys, qBittorrent /api/v2/torrents/info, which has no field
           selection): p50/p99 to the answer's last byte, the daemon's CPU (utime+stime) per
           call and per torrent, and the anon RSS it kept after them.
  restart  graceful stop (SIGTERM; each saves its resume data/session), spawn on the same state:
           seconds from the spawn until the API answers (probed every 5 ms) and until it lists
           all N seeding (seedboxd: torrent.list states).
Each figure is printed with seedboxd's ratio to the best other daemon, and the issue's targets:
adds >= 2x transmission's rate; restart API < 0.1 s at 1,000 torrents (< 0.3 s above), all
seeding no later than transmission at 1,000 (< 10 s above); memory growth per torrent <= 1.5x
transmission's; list p50 <= half the best other's and CPU <= 1 us per torrent per call.

Above --slow-above torrents (default 1,000) qBittorrent and aria2 are skipped unless --all:
loading 10,000 torrents into them takes too long. Transmission 3.00 sleeps 100 ms per verify, so
it needs N / 10 s to seed N new torrents (1,000 s at 10,000).

Before each measurement it waits until other processes use at most BUSY_LIMIT of a core; a
measurement during which they used more is repeated (adds on a fresh daemon), up to ATTEMPTS
times; if the machine never stays quiet, nothing is reported and the exit status is 2. Missing a
target is not an error (exit 0).

usage: bench/control_bench.py [--sizes 1000,10000] [--calls K] [--daemons a,b] [--all]
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from references import DRIVERS  # noqa: E402 (puts harness on the path)
from bench_common import (ATTEMPTS, BUSY_LIMIT, MachineBusy, Watch,  # noqa: E402
                          make_torrents, wait_quiet)
from transmission_bench import percentile, snapshot_binary  # noqa: E402
import harness  # noqa: E402

BATCH = 1000
BATCH_RUNS = 3  # batch add figure: the median of this many fresh daemons
LIST_SECONDS = 2.0  # list figures: calls for at least this long (and at least --calls)
SLOW = ("qbittorrent", "aria2")


def rss_anon_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def thread_cpu(pid):
    """{thread: CPU seconds} of a live process, by thread name (seedboxd names its own threads
    sbx-*): its main thread is the io thread; the unnamed others are libtorrent's disk threads."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except FileNotFoundError:  # ended meanwhile
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        name = ("io (main thread)" if int(tid) == pid else
                comm if comm.startswith("sbx-") else "libtorrent disk")
        out[name] = out.get(name, 0) + (int(fields[11]) + int(fields[12])) / os.sysconf(
            "SC_CLK_TCK")
    return out


def guarded(d, what, fn):
    """fn() after a quiet wait, repeated while other processes were busy during it; returns
    (fn's value, the Watch of d's CPU)."""
    for attempt in range(1, ATTEMPTS + 1):
        wait_quiet(d.pid, d.name)
        w = Watch(lambda: [d.pid])
        value = fn()
        if w.stop().others() <= BUSY_LIMIT:
            return value, w
        print(f"  {d.name} {what}: other processes used {w.others():.0%} of a core (limit "
              f"{BUSY_LIMIT:.0%}); attempt {attempt} of {ATTEMPTS}", flush=True)
    raise MachineBusy(f"machine busy: not reporting {d.name} {what}")


class Run:
    """One daemon at one size: a fresh work dir with the payload, the driver, its figures."""

    def __init__(self, name, tmp, payload, metas):
        self.name, self.payload, self.metas, self.n = name, payload, metas, len(metas)
        self.work = os.path.join(tmp, f"daemon-{name}-{self.n}")
        self.d, self.fig, self.by_thread = None, {}, {}

    def fresh(self):
        self.close()
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.copytree(self.payload, self.work)
        self.d = DRIVERS[self.name]().start(self.work)
        return self.d

    def close(self):
        if self.d is not None:
            self.d.stop()
            self.d = None

    def adds(self, batch=False):
        """Adds all N on a fresh daemon; torrents/s. Repeated on a new one if the machine was
        busy meanwhile."""
        for attempt in range(1, ATTEMPTS + 1):
            d = self.fresh()
            wait_quiet(d.pid, d.name)
            self.fig["rss0"] = rss_anon_kib(d.pid)
            threads0 = thread_cpu(d.pid) if self.name == "seedboxd" else {}
            w, t0 = Watch(lambda: [d.pid]), time.perf_counter()
            if batch:
                d.add_batch(self.metas, self.work, BATCH)
            else:
                for meta in self.metas:
                    d.add(meta, self.work, False)
            rate = self.n / (time.perf_counter() - t0)
            if w.stop().others() <= BUSY_LIMIT:
                if not batch:  # the daemon's CPU per add, while the adds ran, and by thread
                    self.fig["add_cpu"] = w.measured / self.n
                    if threads0:
                        self.by_thread = {k: (v - threads0.get(k, 0)) / self.n
                                          for k, v in thread_cpu(d.pid).items()}
                return rate
            print(f"  {d.name} adds: other processes used {w.others():.0%} of a core; attempt "
                  f"{attempt} of {ATTEMPTS}", flush=True)
        raise MachineBusy(f"machine busy: not reporting {self.name} adds")

    def list_calls(self, k):
        """At least k calls, and at least LIST_SECONDS of them: the daemon's CPU is read in
        clock ticks (10 ms), and a periodic job of the daemon falling into a short window
        would count as list cost."""
        d, samples = self.d, []
        for _ in range(2):  # warm up, outside the figures
            d.list_all()

        def calls():
            samples.clear()
            t_end = time.perf_counter() + LIST_SECONDS
            while len(samples) < k or time.perf_counter() < t_end:
                t0 = time.perf_counter()
                got = d.list_all()
                samples.append(time.perf_counter() - t0)
                if got != self.n:
                    raise RuntimeError(f"{d.name} listed {got} of {self.n} torrents")
        _, w = guarded(d, "list", calls)
        calls_made = len(samples)
        samples.sort()
        self.fig.update(p50=percentile(samples, 50), p99=percentile(samples, 99),
                        cpu=w.measured / calls_made, calls=calls_made)

    def measure(self, k):
        if self.name == "seedboxd":  # one batch takes ~0.2 s: the median of a few
            rates = sorted(self.adds(batch=True) for _ in range(BATCH_RUNS))
            self.fig["batch"] = rates[len(rates) // 2]
        self.fig["add"] = self.adds()
        self.fig["seeded"] = self.d.wait_seeding(self.n, max(600, self.n * 0.15))
        wait_quiet(self.d.pid, self.name)
        self.fig["rss_per"] = (rss_anon_kib(self.d.pid) - self.fig["rss0"]) / self.n
        rss = rss_anon_kib(self.d.pid)
        self.list_calls(k)
        self.fig["list_rss"] = rss_anon_kib(self.d.pid) - rss
        timeout = max(600, self.n * 0.15)
        (api, seeding), _ = guarded(self.d, "restart", lambda: self.d.restart(self.n, timeout))
        self.fig.update(api=api, seeding=seeding)
        print(f"  {self.name}: " + ", ".join(f"{key} {v:.4g}" for key, v in self.fig.items()),
              flush=True)
        if self.by_thread:
            print(f"  {self.name} CPU per sequential add by thread, us: " + ", ".join(
                f"{k} {v * 1e6:.0f}" for k, v in sorted(self.by_thread.items(),
                                                         key=lambda kv: -kv[1]) if v > 0),
                  flush=True)
        return self.fig


ROWS = [  # key, label, scale, higher is better
    ("add", "add calls, torrents/s", 1, True),
    ("add_cpu", "daemon CPU per add call, us", 1e6, False),
    ("batch", "add, batches of 1000, torrents/s", 1, True),
    ("rss_per", "anon RSS growth, KiB/torrent", 1, False),
    ("api", "restart: API answers, s", 1, False),
    ("seeding", "restart: all seeding, s", 1, False),
    ("p50", "list p50, ms", 1e3, False),
    ("p99", "list p99, ms", 1e3, False),
    ("cpu", "list CPU per call, ms", 1e3, False),
    ("cpu_t", "list CPU/torrent/call, us", 1e6, False),
    ("list_rss", "anon RSS kept after the list, KiB", 1, False),
]


def targets(n, s, t, best):
    """[(description, met)] for the issue's targets, with seedboxd s, transmission t (or None)
    and the best other daemon's figures."""
    out = []
    if t:
        out.append((f"adds >= 2x transmission: {s['add'] / t['add']:.2f}x",
                    s["add"] >= 2 * t["add"]))
        out.append((f"memory growth <= 1.5x transmission: {s['rss_per'] / t['rss_per']:.2f}x",
                    s["rss_per"] <= 1.5 * t["rss_per"]))
    limit = 0.1 if n <= 1000 else 0.3
    out.append((f"restart API < {limit} s: {s['api']:.3f} s", s["api"] < limit))
    if n <= 1000 and t:
        out.append((f"all seeding no later than transmission: {s['seeding']:.2f} s vs "
                    f"{t['seeding']:.2f} s", s["seeding"] <= t["seeding"]))
    elif n > 1000:
        out.append((f"all seeding < 10 s: {s['seeding']:.2f} s", s["seeding"] < 10))
    if "p50" in best:
        out.append((f"list p50 <= half the best other's: {s['p50'] / best['p50']:.2f}x",
                    s["p50"] <= best["p50"] / 2))
    out.append((f"list CPU <= 1 us per torrent per call: {s['cpu_t'] * 1e6:.3f} us",
                s["cpu_t"] <= 1e-6))
    return out


def report(n, k, figs):
    for f in figs.values():
        f["cpu_t"] = f["cpu"] / n
    names = list(figs)
    others = [x for x in names if x != "seedboxd"]
    print(f"\nN = {n:,} torrents, at least {k} list calls (and {LIST_SECONDS:g} s) per daemon")
    print(f"{'':34}" + "".join(f"{x[:12]:>13}" for x in names) + f"{'ratio':>8}")
    best = {}
    for key, label, scale, higher in ROWS:
        vals = [figs[x].get(key) for x in others if figs[x].get(key) is not None]
        if vals:
            best[key] = max(vals) if higher else min(vals)
        cells = "".join(f"{figs[x][key] * scale:13.3f}" if key in figs[x] else f"{'-':>13}"
                        for x in names)
        s = figs.get("seedboxd", {}).get(key)
        # A best of zero or below (the kept RSS of a daemon that gave memory back) has no ratio.
        r = f"{s / best[key]:8.2f}" if s is not None and best.get(key, 0) > 0 else f"{'-':>8}"
        print(f"{label:34}{cells}{r}")
    if "seedboxd" not in figs:
        return True
    met = True
    for text, ok in targets(n, figs["seedboxd"], figs.get("transmission"), best):
        print(f"target: {text}: {'met' if ok else 'missed'}")
        met &= ok
    return met


def run_size(tmp, n, k, names):
    t0 = time.perf_counter()
    payload = os.path.join(tmp, f"payload-{n}")
    metas = make_torrents(n, save_dir=payload)
    print(f"\n{n:,} torrents and their payload made in {time.perf_counter() - t0:.1f} s",
          flush=True)
    figs = {}
    for name in names:
        run = Run(name, tmp, payload, metas)
        try:
            figs[name] = run.measure(k)
        finally:
            run.close()
            shutil.rmtree(run.work, ignore_errors=True)
    shutil.rmtree(payload, ignore_errors=True)
    return report(n, k, figs)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000", help="torrent counts, comma-separated")
    ap.add_argument("--calls", type=int, default=None,
                    help="list calls per daemon and size (default 100 up to 3,000 torrents, "
                         "fewer above, at least 20)")
    ap.add_argument("--daemons", default=",".join(DRIVERS), help="of " + ", ".join(DRIVERS))
    ap.add_argument("--slow-above", type=int, default=1000,
                    help="skip qbittorrent and aria2 above this many torrents")
    ap.add_argument("--all", action="store_true", help="run every daemon at every size")
    a = ap.parse_args()
    a.sizes = [int(x) for x in a.sizes.split(",") if x.strip()]
    a.daemons = [x for x in a.daemons.split(",") if x]
    if [x for x in a.daemons if x not in DRIVERS] or not a.sizes or min(a.sizes) < 1:
        ap.error("unknown daemon or bad size")
    return a


def main():
    a = parse_args()
    tmp = tempfile.mkdtemp(prefix="seedbox-ctlbench-")
    met = []
    try:
        harness.BIN = snapshot_binary(tmp)
        for n in a.sizes:
            names = [x for x in a.daemons if a.all or n <= a.slow_above or x not in SLOW]
            if len(names) < len(a.daemons):
                print(f"\nN = {n:,}: skipping {', '.join(set(a.daemons) - set(names))} "
                      f"(slow to load; --all runs them)")
            met.append(run_size(tmp, n, a.calls or max(20, min(100, 300_000 // n)), names))
    except MachineBusy as e:
        print(e, file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n(ratio = seedboxd / the best other daemon: the highest add rate, else the lowest)")
    print("targets met" if all(met) else "targets missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
