#!/usr/bin/python3
"""Seeding throughput with the btt_pay plugin and the ledger on vs off, in the same run.

seedboxd seeds one file (in seed mode, from the page cache) to a python3-libtorrent leecher over
loopback; each round starts a fresh daemon with ledger.accounting on or off (alternating, so both
see the same machine state) and times the leecher from connect to complete. Prints MiB/s per round,
the medians and the on/off ratio (target >= 0.97).

usage: bench/seed_bench.py [--size-mib N] [--rounds K] [--bin build/seedboxd]
"""
import argparse
import base64
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import harness  # noqa: E402
from harness import Daemon, make_file, mktorrent, wait_until  # noqa: E402
from ltpeer import LtPeer  # noqa: E402


def one_round(tmp, src, tfile, meta, accounting):
    args = ["--set", f"ledger.accounting={'true' if accounting else 'false'}",
            "--set", "tron.generate_key=true", "--set", "ledger.flush_interval=1",
            "--set", f"torrent.allowed_roots=[\"{os.path.dirname(src)}\"]"]
    state = tempfile.mkdtemp(dir=tmp)
    with Daemon(state_dir=state, args=args, bt_iface="127.0.0.60:0") as d:
        tid = d.call("torrent.add", metainfo=base64.b64encode(meta).decode(),
                     save_path=os.path.dirname(src), seed_mode=True)["id"]
        d.wait_state(tid, "seeding")
        leech_dir = tempfile.mkdtemp(dir=tmp)
        # TCP only: libtorrent's uTP is CPU-bound at a few MiB/s on loopback.
        peer = LtPeer("127.0.0.61", {"enable_outgoing_utp": False, "enable_incoming_utp": False})
        try:
            h = peer.add(torrent_file=tfile, save_path=leech_dir)
            t0 = time.monotonic()
            h.connect_peer(("127.0.0.60", d.call("session.stats")["listen_port"]))
            wait_until(lambda: h.status().is_seeding, 600, interval=0.01, what="the leecher")
            elapsed = time.monotonic() - t0
        finally:
            peer.close()
            shutil.rmtree(leech_dir)
        if accounting:  # the ledger saw every byte
            size = os.path.getsize(src)
            wait_until(lambda: d.call("ledger.summary")["bytes_up"] >= size, 30,
                       what="the ledger to count the upload")
    shutil.rmtree(state)
    return os.path.getsize(src) / elapsed / 2**20


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                  "seedboxd"))
    a = ap.parse_args()
    harness.BIN = os.path.abspath(a.bin)  # read by Daemon at start
    tmp = tempfile.mkdtemp(prefix="seed-bench-", dir="/dev/shm" if os.path.isdir("/dev/shm")
                           else None)
    try:
        src = os.path.join(tmp, "data", "payload.bin")
        os.makedirs(os.path.dirname(src))
        make_file(src, a.size_mib * 2**20)
        tfile = os.path.join(tmp, "payload.torrent")
        meta = mktorrent(src, tfile, piece_kib=1024)
        rates = {True: [], False: []}
        for r in range(a.rounds):
            for accounting in (r % 2 == 0, r % 2 != 0):
                rate = one_round(tmp, src, tfile, meta, accounting)
                rates[accounting].append(rate)
                print(f"round {r + 1}, plugin+ledger {'on ' if accounting else 'off'}: "
                      f"{rate:8.1f} MiB/s", flush=True)
        on, off = statistics.median(rates[True]), statistics.median(rates[False])
        print(f"seeding {a.size_mib} MiB over loopback, median of {a.rounds}:")
        print(f"  plugin+ledger on:  {on:8.1f} MiB/s")
        print(f"  reference (off):   {off:8.1f} MiB/s")
        print(f"  ratio on/off: {on / off:.3f}  (target >= 0.97: {'met' if on / off >= 0.97 else 'MISSED'})")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
