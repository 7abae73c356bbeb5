#!/usr/bin/python3
"""Upload priority by bid: for a provider upload limit of 2, 8 and 32 MiB/s, the share of the
provider's upload that went to a seedboxd bidding twice the price (high), one bidding the price
(low) and a python3-libtorrent peer that never pays (free), measured over a window after both
bidders' first vouchers (tests/integration/market.py). With --reference, the same runs with another
seedboxd binary in the same invocation, for comparison (one from before bids: both payers pay the
provider's price).

    bench/priority_bench.py --binary build/seedboxd [--reference /path/to/old/seedboxd]

Loopback only. Needs Debian's python3 (python3-libtorrent)."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import harness  # noqa: E402
import market  # noqa: E402

MiB = 1024 * 1024


def knows_bids(binary):
    out = subprocess.run([binary, "--help-config"], capture_output=True, text=True).stdout
    return "payments.bid_per_gib" in out


def run(binary, limit_mib, window_s):
    harness.BIN = binary
    tmp = Path(tempfile.mkdtemp(prefix="priority-bench-"))
    try:
        got, seconds = market.shares(tmp, limit_mib * MiB, int(limit_mib * MiB * window_s),
                                     seconds=window_s * 2.5, bids=knows_bids(binary))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    total = sum(got.values())
    return {k: v / total for k, v in got.items()}, total / seconds / MiB


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default="build/seedboxd")
    ap.add_argument("--reference", help="another seedboxd to run the same way")
    ap.add_argument("--limits", default="2,8,32", help="provider upload limits, MiB/s")
    ap.add_argument("--window", type=float, default=12, help="seconds of upload measured")
    a = ap.parse_args()
    binaries = [("this", os.path.abspath(a.binary))]
    if a.reference:
        binaries.append(("reference", os.path.abspath(a.reference)))
    print(f"{'binary':<10} {'limit':>9} {'rate':>10} {'high':>6} {'low':>6} {'free':>6} "
          f"{'high/low':>9} {'low/free':>9}")
    for limit in (int(x) for x in a.limits.split(",")):
        for name, binary in binaries:
            s, rate = run(binary, limit, a.window)
            ratio = (lambda x, y: f"{x / y:9.2f}" if y else f"{'inf':>9}")
            print(f"{name:<10} {limit:>5} MiB/s {rate:>6.2f} MiB/s {s['high']:6.3f} {s['low']:6.3f} "
                  f"{s['free']:6.3f} {ratio(s['high'], s['low'])} {ratio(s['low'], s['free'])}",
                  flush=True)


if __name__ == "__main__":
    main()
