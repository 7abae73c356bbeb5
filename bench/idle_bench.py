#!/usr/bin/python3
"""Idle cost with many torrents and no peers (issue 15, target 5: <= 2 wakeups/s and <= 0.1 % of
a core with 1,000 torrents, over a window long enough to include every periodic job): seedboxd
against transmission-daemon 3.00, aria2c 1.36, qbittorrent-nox 4.5 and bare python3-libtorrent
(bench/references.py) in the same run.

Makes N tiny single-file v1 torrents without trackers (bench_common.make_torrents) with their
payload, gives each daemon its own copy of the payload folder, adds the N torrents with the
daemon's own add call (not paused), and waits until every daemon lists all N seeding (Transmission
3.00 sleeps 100 ms per verify: 1,000 torrents take about 100 s), then a settle time. Then all the
daemons are measured over the same window, concurrently: they are idle (no peers can connect: they
listen on 127.0.0.1 only, DHT, LSD, UPnP, NAT-PMP, PEX off) so they do not compete, and one window
for all saves time. Nothing calls a daemon's API during the window; the bench sleeps through it.

Per daemon: CPU as a share of one core (utime+stime of all threads, /proc/PID/stat) and wakeups
per second: the sum over its threads of voluntary_ctxt_switches + nonvoluntary_ctxt_switches
(/proc/PID/task/*/status), delta over the window (a thread that ends during the window is not
counted; one that starts counts whole). For seedboxd also each thread's wakeups, by name
(/proc/PID/task/*/comm) and the system call it blocks in (.../syscall). The table gives each
figure with seedboxd's ratio to the best other daemon and the targets met or missed. After the
window, every daemon must still list N seeding.

The machine's load average is printed; if processes other than the daemons and this bench used
more than BUSY_LIMIT of a core during the window, the window is repeated (up to ATTEMPTS times),
after waiting for a quiet machine; if it never is, nothing is reported and the exit status is 2.
Missing a target is not an error (exit 0).

usage: bench/idle_bench.py [--torrents 1000] [--window 180] [--settle 60] [--daemons a,b,...]
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
from list_bench import cpu_seconds  # noqa: E402
from transmission_bench import snapshot_binary  # noqa: E402
import harness  # noqa: E402

TARGET_WAKEUPS = 2.0  # per second
TARGET_CPU = 0.001  # of one core
SYSCALLS = {"0": "read", "7": "poll", "23": "select", "34": "pause", "35": "nanosleep",
            "202": "futex", "230": "clock_nanosleep", "232": "epoll_wait", "270": "pselect6",
            "271": "ppoll", "281": "epoll_pwait", "441": "epoll_pwait2"}  # x86_64 numbers


def threads(pid):
    """{tid: (name and the system call it blocks in, voluntary + nonvoluntary context
    switches)} of every thread of pid."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/syscall") as f:
                call = f.read().split()[0]
            name += f", in {SYSCALLS.get(call, 'syscall ' + call)}"
            switches = 0
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        switches += int(line.split()[1])
            out[int(tid)] = (name, switches)
        except OSError:
            pass  # the thread ended meanwhile
    return out


def snapshot(pid):
    return {"cpu": cpu_seconds(pid), "threads": threads(pid), "t": time.monotonic()}


def delta(before, after):
    """CPU share of one core, wakeups/s, and [(wakeups/s, tid, name)] per thread, busiest first."""
    wall = after["t"] - before["t"]
    per_thread = sorted(((n - before["threads"].get(tid, ("", 0))[1]) / wall, tid, name)
                        for tid, (name, n) in after["threads"].items())[::-1]
    return {"cpu": (after["cpu"] - before["cpu"]) / wall,
            "wakeups": sum(w for w, _, _ in per_thread), "threads": per_thread}


def measure(daemons, window):
    """One window over every daemon at once; repeated while the machine was busy."""
    pids = [d.pid for d in daemons]
    for attempt in range(1, ATTEMPTS + 1):
        wait_quiet(pids, "the daemons")
        with open("/proc/loadavg") as f:
            load = f.read().split()[:3]
        before = [snapshot(p) for p in pids]
        watch = Watch(lambda: pids)
        time.sleep(window)
        after = [snapshot(p) for p in pids]
        others = watch.others()
        if others <= BUSY_LIMIT:
            return {d.name: delta(b, a) for d, b, a in zip(daemons, before, after)}, others, load
        print(f"other processes used {others:.0%} of a core during the window (limit "
              f"{BUSY_LIMIT:.0%}); attempt {attempt} of {ATTEMPTS}", flush=True)
    raise MachineBusy("machine busy: not reporting")


def load_all(names, tmp, n, daemons):
    """Starts each daemon on its own copy of the payload (appending its driver to daemons) and
    adds the n torrents; returns once every daemon seeds all n."""
    t0 = time.perf_counter()
    payload = os.path.join(tmp, "payload")
    metas = make_torrents(n, save_dir=payload)
    print(f"{n:,} torrents and their payload made in {time.perf_counter() - t0:.1f} s", flush=True)
    for name in names:
        work = os.path.join(tmp, "daemon-" + name)
        shutil.copytree(payload, work)
        d = DRIVERS[name]()
        daemons.append(d)
        d.start(work)
        t0 = time.perf_counter()
        for meta in metas:
            d.add(meta, work, False)
        print(f"{name}: {n:,} adds in {time.perf_counter() - t0:.1f} s", flush=True)
    for d in daemons:
        s = d.wait_seeding(n, max(600, n * 0.3))
        print(f"{d.name}: all {n:,} seeding ({s:.1f} s more)", flush=True)


def ratio(value, best):
    return f"{value / best:8.2f}" if best else f"{'-':>8}"


def report(figures, n, window, others, load):
    print(f"\nN = {n:,} seeding torrents, no peers; window {window:.0f} s, all daemons at once; "
          f"load average {' '.join(load)}; other processes used {max(0, others):.1%} of a core")
    print(f"{'daemon':14}{'CPU, % core':>12}{'ratio':>8}{'wakeups/s':>11}{'ratio':>8}")
    others_ = {k: v for k, v in figures.items() if k != "seedboxd"}
    best_cpu = min((v["cpu"] for v in others_.values()), default=0)
    best_wake = min((v["wakeups"] for v in others_.values()), default=0)
    for name, f in figures.items():
        mine = name == "seedboxd"
        print(f"{name:14}{f['cpu'] * 100:12.3f}{ratio(f['cpu'], best_cpu) if mine else '':>8}"
              f"{f['wakeups']:11.2f}{ratio(f['wakeups'], best_wake) if mine else '':>8}")
    s = figures.get("seedboxd")
    if s is None:
        return
    print("\nseedboxd threads (wakeups/s, thread id, name):")
    for w, tid, name in s["threads"]:
        print(f"  {w:8.2f}  {tid:8}  {name}")
    print(f"\ntarget: <= {TARGET_WAKEUPS:g} wakeups/s: {s['wakeups']:.2f}, "
          f"{'met' if s['wakeups'] <= TARGET_WAKEUPS else 'missed'}")
    print(f"target: <= {TARGET_CPU:.1%} of a core: {s['cpu']:.3%}, "
          f"{'met' if s['cpu'] <= TARGET_CPU else 'missed'}")
    print("(ratio = seedboxd / the best other daemon; lower is better)")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--torrents", type=int, default=1000)
    ap.add_argument("--window", type=float, default=180, help="seconds measured")
    ap.add_argument("--settle", type=float, default=60,
                    help="seconds between all seeding and the window")
    ap.add_argument("--daemons", default=",".join(DRIVERS), help="comma-separated, of "
                    + ", ".join(DRIVERS))
    a = ap.parse_args()
    a.daemons = [x for x in a.daemons.split(",") if x]
    unknown = [x for x in a.daemons if x not in DRIVERS]
    if unknown or a.torrents < 1 or a.window <= 0:
        ap.error(f"unknown daemons {unknown}" if unknown else "sizes must be positive")
    return a


def main():
    a = parse_args()
    tmp = tempfile.mkdtemp(prefix="seedbox-idlebench-")
    daemons = []
    try:
        harness.BIN = snapshot_binary(tmp)
        load_all(a.daemons, tmp, a.torrents, daemons)
        time.sleep(a.settle)
        figures, others, load = measure(daemons, a.window)
        for d in daemons:
            if d.count_seeding() != a.torrents:
                raise RuntimeError(f"{d.name} no longer seeds all {a.torrents} after the window")
        report(figures, a.torrents, a.window, others, load)
    except MachineBusy as e:
        print(e, file=sys.stderr)
        return 2
    finally:
        for d in daemons:
            d.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
