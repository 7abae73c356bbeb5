#!/usr/bin/python3
"""Where seedboxd's memory per loaded torrent goes (issue 15, target 4): heaptrack's count of the
heap bytes still held once N torrents seed, grouped by owner.

Starts seedboxd (bench/references.py, as control_bench.py does) on an empty state, attaches
heaptrack (`heaptrack -p`, through gdb), makes N sequential torrent.add calls of tiny torrents
with their payload (bench_common.make_torrents), waits until all N seed, then kills the daemon
with SIGKILL, so nothing is freed and heaptrack's "leaked" bytes are exactly the bytes held at
that moment by allocations made since the attach. Each allocation is charged to the innermost
frame of its stack that is not the allocator, the C++ library or a std:: template: a seedboxd or
libtorrent function by name, else the library its address lies in (libtorrent's own functions
are not exported, so most of them show as addresses). Also prints the anon RSS growth of the same
run, of which the heap bytes are a part: the rest is malloc's per-chunk headers and free space
kept in its arenas (heaptrack's own bookkeeping lives outside the daemon's heap, but its
injected library adds a little).

Needs heaptrack and gdb (Debian packages); run with /usr/bin/python3.

usage: bench/memory_bench.py [--torrents 1000] [--top 14]
"""
import argparse
import collections
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from references import Seedboxd  # noqa: E402 (puts harness on the path)
from bench_common import make_torrents, wait_quiet  # noqa: E402
from control_bench import rss_anon_kib  # noqa: E402
from transmission_bench import snapshot_binary  # noqa: E402
import harness  # noqa: E402
from harness import wait_until  # noqa: E402

ATTACH_TIMEOUT = 120  # seconds for heaptrack's gdb injection
SKIP = re.compile(r"^(operator new|malloc|calloc|realloc|std::|void std::|__gnu_cxx::|"
                  r"void\* std::|char\* std::|__libc|_int_|\?\?)")


def library_ranges(pid):
    """[(start, end, short name)] of the daemon's mapped libraries and binary."""
    out = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 6 or not parts[5].startswith("/"):
                continue
            start, end = (int(x, 16) for x in parts[0].split("-"))
            name = os.path.basename(parts[5]).split(".so")[0]
            out.append((start, end, name))
    return out


def owner(frames, ranges):
    """The group an allocation's stack (root first) is charged to."""
    for frame in reversed(frames):
        frame = frame.strip().replace("(anonymous namespace)::", "")
        if not frame:
            continue
        if frame.startswith("0x"):
            addr = int(frame, 16)
            lib = next((n for s, e, n in ranges if s <= addr < e), "unknown")
            if lib in ("libstdc++", "libc"):
                continue
            return f"{lib} (internal)"
        if SKIP.match(frame):
            continue
        name = re.sub(r"\(.*$", "", frame)  # drop the parameter list
        return re.sub(r"<[^<>]*>", "", name)
    return "other"


def attach(pid, out):
    log_path = out + ".log"
    log = open(log_path, "w")
    proc = subprocess.Popen(["heaptrack", "-o", out, "-p", str(pid)], stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    wait_until(lambda: "injection finished" in open(log_path).read(), ATTACH_TIMEOUT, 0.2,
               what="heaptrack to attach")
    return proc


def measure(n, tmp):
    payload = os.path.join(tmp, "payload")
    metas = make_torrents(n, save_dir=payload)
    d = Seedboxd().start(payload)
    try:
        wait_quiet(d.pid, d.name)
        ranges = library_ranges(d.pid)
        ht = attach(d.pid, os.path.join(tmp, "heap"))
        rss0 = rss_anon_kib(d.pid)
        for meta in metas:
            d.add(meta, payload, False)
        d.wait_seeding(n, max(600, n * 0.15))
        time.sleep(2)  # the status tick and resume-data save after the last check
        rss = rss_anon_kib(d.pid) - rss0
        os.kill(d.pid, signal.SIGKILL)
        d.proc.wait()
        ht.wait(ATTACH_TIMEOUT)
    finally:
        d.stop()
    data = next(os.path.join(tmp, f) for f in os.listdir(tmp) if f.startswith("heap.")
                and not f.endswith(".log"))
    stacks = os.path.join(tmp, "stacks.txt")
    subprocess.run(["heaptrack_print", "-f", data, "--flamegraph-cost-type", "leaked", "-F",
                    stacks], check=True, stdout=subprocess.DEVNULL)
    groups = collections.Counter()
    with open(stacks) as f:
        for line in f:
            stack, _, value = line.rstrip("\n").rpartition(" ")
            if int(value or 0):
                groups[owner(stack.split(";"), ranges)] += int(value)
    return groups, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--torrents", type=int, default=1000)
    ap.add_argument("--top", type=int, default=14)
    args = ap.parse_args()
    for tool in ("heaptrack", "heaptrack_print", "gdb"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found: apt-get install heaptrack gdb")
    tmp = tempfile.mkdtemp(prefix="sbx-memory-")
    try:
        harness.BIN = snapshot_binary(tmp)
        groups, rss_kib = measure(args.torrents, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n, total = args.torrents, sum(groups.values())
    print(f"\n{n:,} torrents seeding: anon RSS growth {rss_kib / n:.2f} KiB per torrent; heap "
          f"bytes held {total / n:,.0f} B per torrent ({total / 1024 / n:.2f} KiB)\n")
    print(f"{'held by (innermost frame)':70s} {'B/torrent':>10s} {'share':>6s}")
    for name, b in groups.most_common(args.top):
        print(f"{name[:70]:70s} {b / n:10,.0f} {b / total:6.1%}")
    rest = total - sum(b for _, b in groups.most_common(args.top))
    print(f"{'everything else':70s} {rest / n:10,.0f} {rest / total:6.1%}")


if __name__ == "__main__":
    main()
