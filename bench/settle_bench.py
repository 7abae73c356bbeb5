#!/usr/bin/python3
"""Settles 10,000 vouchers from 1,000 payers end to end against the TRON HTTP API test double.

1,000 payers (raw btt_pay peers) each deposit in the hub and send 10 ever higher vouchers to one
seedboxd in broadcast mode; the daemon keeps the highest per payer. Then settlement.run is called
until nothing is left and every batch is waited for until final. The same run is made with batches
of settlement.max_claims=100 and, as the reference, 10; it prints batches, energy, fees and wall
time of each, the ratios, and checks that the provider's token balance equals the vouchers kept.

usage: bench/settle_bench.py [--payers N] [--vouchers K] [--bin build/seedboxd]
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import harness  # noqa: E402
from harness import Daemon, RpcError, b64, make_file, mktorrent, wait_until  # noqa: E402
from trondouble import TronDouble  # noqa: E402
from vouchers import Payer, source_ip  # noqa: E402

E18 = 10**18


def one_run(tmp, payers, vouchers, max_claims):
    with TronDouble(block_ms=100, solid_lag=10) as double:
        args = ["--set", "tron.generate_key=true", "--set", "settlement.interval=3600",
                "--set", f"settlement.max_claims={max_claims}"]
        with Daemon(state_dir=tempfile.mkdtemp(dir=tmp), bt_iface="127.0.0.42:0",
                    args=args + double.daemon_args()) as a:
            me = a.call("wallet.address")["address"]
            double.fund(me, trx=1_000_000 * 1_000_000)
            src = os.path.join(a.downloads, "bait.bin")
            make_file(src, 256 * 1024)
            tid = a.call("torrent.add", metainfo=b64(mktorrent(src, os.path.join(tmp, "b.torrent"))))["id"]
            a.wait_state(tid, "seeding")
            t0 = time.monotonic()
            kept = 0
            for i in range(payers):
                p = Payer(a, "127.0.0.42", tid, double.hub, source_ip(i))
                double.deposit(p.key.base58, 1000 * E18)
                for k in range(1, vouchers + 1):
                    amount = k * E18 + i
                    assert p.pay(amount)[b"t"] == b"ack"
                kept += vouchers * E18 + i
                p.close()
            feed_s = time.monotonic() - t0
            assert a.call("settlement.status")["claimable"] == str(kept)

            t1 = time.monotonic()
            ids = []
            while True:
                try:
                    ids.append(a.call("settlement.run")["id"])
                except RpcError as e:
                    assert e.code == 2002, e
                    break
            build_s = time.monotonic() - t1

            def all_final():
                states = [a.call("settlement.batch", id=i)["state"] for i in ids]
                assert not set(states) & {"reverted", "expired"}, states
                return all(s == "final" for s in states)
            wait_until(all_final, 600, interval=0.5, what="every batch to be final")
            settle_s = time.monotonic() - t1
            batches = [a.call("settlement.batch", id=i) for i in ids]
            energy = sum(b["energy"] for b in batches)
            fee = sum(b["fee"] for b in batches)
            balance = int(double.balances(me)[me]["btt"])
            assert balance == kept, (balance, kept)
            # Every payer claimed once: no batch carried a claim another batch had covered.
            skipped = sum(c["outcome"] != "claimed" for b in batches for c in b["claims"])
            assert skipped == 0 and len(ids) == -(-payers // max_claims), (skipped, len(ids))
            return {"batches": len(ids), "energy": energy, "fee_trx": fee / 1e6,
                    "energy_per_claim": energy / payers, "feed_s": feed_s, "build_s": build_s,
                    "settle_s": settle_s}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--payers", type=int, default=1000)
    ap.add_argument("--vouchers", type=int, default=10)
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                  "seedboxd"))
    args = ap.parse_args()
    harness.BIN = os.path.abspath(args.bin)
    with tempfile.TemporaryDirectory() as tmp:
        runs = {}
        for max_claims in (100, 10):
            r = runs[max_claims] = one_run(tmp, args.payers, args.vouchers, max_claims)
            print(f"max_claims={max_claims:3}: {args.payers * args.vouchers} vouchers from "
                  f"{args.payers} payers fed in {r['feed_s']:.1f} s; {r['batches']} batches built "
                  f"in {r['build_s']:.2f} s, all final {r['settle_s']:.1f} s after the first run; "
                  f"energy {r['energy']:,} ({r['energy_per_claim']:,.0f} per claim), "
                  f"fees {r['fee_trx']:,.1f} TRX", flush=True)
        big, ref = runs[100], runs[10]
        print(f"batches of 100 vs 10: energy per claim x{big['energy_per_claim'] / ref['energy_per_claim']:.3f}, "
              f"settle time x{big['settle_s'] / ref['settle_s']:.2f}, "
              f"transactions x{big['batches'] / ref['batches']:.2f}")


if __name__ == "__main__":
    main()
