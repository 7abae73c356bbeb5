#!/usr/bin/python3
"""Runs the hostile-network attacks (tests/integration/attacks.py) against this build and, with
--reference, against another seedboxd binary in the same invocation, and prints per attack: whether
the daemon survived, its peak RSS, the worst latency of a signed-in client's system.version during
the attack, and what the attack got.

    bench/hostile_bench.py --binary build/seedboxd --reference /path/to/old/seedboxd

Loopback only; every attack is bounded in count and time. Needs Debian's python3 (websocket, as
the integration tests)."""
import argparse
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import attacks  # noqa: E402
import harness  # noqa: E402


def supports(binary, key):
    out = subprocess.run([binary, "--help-config"], capture_output=True, text=True).stdout
    return key in out


def run_attack(binary, name, attack, extra=()):
    harness.BIN = binary
    args = list(extra)
    if "url" in name:
        args += ["--set", "torrent.url_timeout=5"]
        if supports(binary, "torrent.url_allow_private"):
            args += ["--set", "torrent.url_allow_private=true"]
    d = harness.Daemon(args=args)
    d.start()
    result = {}
    try:
        with attacks.Probe(d) as probe:
            harness.wait_until(lambda: probe.latencies, 10, what="the first probe answer")
            t0 = time.monotonic()
            try:
                result["got"] = attack(d)
            except Exception as e:  # noqa: BLE001 - an attack on a dead daemon fails; report it
                result["got"] = f"attack failed: {type(e).__name__}"
            result["seconds"] = time.monotonic() - t0
            # A few more probes after the attack: a daemon that is dying is seen dead.
            seen = len(probe.latencies)
            try:
                harness.wait_until(lambda: len(probe.latencies) >= seen + 5 or
                                   d.proc.poll() is not None, 10, what="5 more probes")
            except AssertionError:
                pass
        alive = d.proc.poll() is None
        result["alive"] = alive
        result["rss"] = attacks.peak_rss_mib(d.proc.pid) if alive else float("nan")
        result["worst"] = probe.worst
        result["failures"] = len(probe.failures)
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()
        d.log.close()
        shutil.rmtree(d.tmp, ignore_errors=True)
    return result


def trailer_crash(d):
    status, _ = attacks.trailer_crash(d)
    return f"HTTP {status}"


def trailer_flood(d):
    status, sent = attacks.trailer_flood(d)
    return f"HTTP {status} after {sent >> 20} MiB sent"


def ws_flood(d):
    accepted = attacks.unauthenticated_ws_flood(d)
    return f"{sum(accepted) >> 20} MiB accepted from 4 sockets"


def never_login(d):
    held = attacks.never_logging_in(d, count=64, sources=8)
    t0 = time.monotonic()
    try:
        d.call("system.version")
        newcomer = f"new client served in {1000 * (time.monotonic() - t0):.0f} ms"
    except Exception as e:  # noqa: BLE001
        newcomer = f"new client refused ({type(e).__name__})"
    deadline = time.monotonic() + 8
    still = sum(1 for w in held if not w.closed_within(max(0.05, deadline - time.monotonic())))
    for w in held:
        w.close()
    return f"{len(held)} admitted, {still} open after 8 s; {newcomer}"


def slow_reader(d):
    return "dropped" if attacks.slow_reader(d) else "never dropped (20 s)"


def url_tarpit(d):
    tarpit = attacks.Tarpit()
    try:
        threads, results = attacks.hanging_url_adds(d, tarpit, calls=8)
        for t in threads:
            t.join(120)
        return f"8 adds answered after {max(s for s, _ in results):.1f} s at most"
    finally:
        tarpit.close()


def brute_force(d):
    t0 = time.monotonic()
    statuses, retry = attacks.wrong_tokens(d, count=500)
    rate = len(statuses) / (time.monotonic() - t0)
    return (f"{statuses.count(401)} x 401 (token checked), {statuses.count(429)} x 429, "
            f"{rate:.0f} tries/s")


ATTACKS = [
    ("trailer field 70 KB, no token", trailer_crash),
    ("trailer flood 400 MiB, no token", trailer_flood),
    ("4 unauthenticated WS x 32 x 16 MB", ws_flood),
    ("64 WS never logging in", never_login),
    ("WS never reading, rpc.discover batches", slow_reader),
    ("8 torrent.add {url} to a tarpit", url_tarpit),
    ("500 wrong tokens from one address", brute_force),
]


def fmt(r):
    worst = f"worst {1000 * r['worst']:8.1f} ms"
    if not r["alive"]:
        return f"DIED        {worst}  {r['got']}"
    return f"{r['rss']:6.0f} MiB  {worst}  probe failures {r['failures']:3d}  {r['got']}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default="build/seedboxd")
    ap.add_argument("--reference", help="another seedboxd to run the same attacks against")
    ap.add_argument("--only", help="run only attacks whose name contains this text")
    args = ap.parse_args()
    builds = [("this build", os.path.abspath(args.binary))]
    if args.reference:
        builds.insert(0, ("reference", os.path.abspath(args.reference)))
    print("peak RSS of the daemon, worst system.version latency of a signed-in client during the "
          "attack, what the attack got\n")
    for name, attack in ATTACKS:
        if args.only and args.only not in name:
            continue
        print(name)
        rows = {}
        for label, binary in builds:
            rows[label] = run_attack(binary, name, attack)
            print(f"  {label:11s} {fmt(rows[label])}")
        if len(rows) == 2:
            ref, new = rows["reference"], rows["this build"]
            if ref["alive"] and new["alive"]:
                print(f"  {'ratio':11s} RSS {new['rss'] / ref['rss']:.2f}x, "
                      f"worst latency {new['worst'] / max(ref['worst'], 1e-3):.2f}x")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
