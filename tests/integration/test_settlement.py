"""Settlement (design.md §7). Offline mode: a batch built from kept vouchers is stored whole, and
its signed hex verifies with tronweb (txID, signature, owner) and decodes to the expected
claimBatch calldata, independently of the daemon's code (tests/tron/verify_batch.js)."""
import hashlib
import json
import os
import subprocess
import time

import tronsig
from harness import Daemon, b64, make_file, mktorrent, wait_until
from vouchers import Payer, source_ip

HUB = "TAR4TE31YKGGMjT97NaFwDuuMj3WhDpK4j"
TRON_DIR = os.path.join(os.path.dirname(__file__), "..", "tron")
PROVIDER = ["--set", "ledger.flush_interval=1", "--set", "tron.generate_key=true",
            "--set", f"payments.hub={HUB}", "--set", "settlement.expiration=300"]


def seed(d, tmp_path, name="bait", size=1024 * 1024):
    src = os.path.join(d.downloads, name + ".bin")
    make_file(src, size)
    tid = d.call("torrent.add", metainfo=b64(mktorrent(src, str(tmp_path / (name + ".torrent")))))["id"]
    d.wait_state(tid, "seeding")
    return tid


def reference(number, timestamp=None):
    """A block id as a node would give it: 8 bytes of block number, then 24 bytes of hash."""
    return {"number": number, "timestamp": timestamp or int(time.time() * 1000),
            "id": f"{number:016x}" + hashlib.sha256(str(number).encode()).hexdigest()[:48]}


def verify_with_tronweb(signed_hex):
    out = subprocess.run(["node", "verify_batch.js"], input=json.dumps({"transaction": signed_hex}),
                         capture_output=True, text=True, cwd=TRON_DIR, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_offline_batches_are_stored_whole_and_verify_with_tronweb(tmp_path):
    state = str(tmp_path / "a")
    with Daemon(state_dir=state, bt_iface="127.0.0.42:0", args=PROVIDER) as a:
        me = a.call("wallet.address")["address"]
        tid = seed(a, tmp_path)
        amounts = [10**18 + 1, 5 * 10**17, 2**64 + 7]
        payers = [Payer(a, "127.0.0.42", tid, HUB, source_ip(i)) for i in range(3)]
        try:
            for p, amt in zip(payers, amounts):
                assert p.pay(amt)[b"t"] == b"ack"
            s = a.call("settlement.status")
            assert s["mode"] == "offline" and s["hub"] == HUB and s["owner"] == me
            assert s["claimable"] == str(sum(amounts)) and s["pending"] == "0"

            err = a.error_of("settlement.run")
            assert err.code == -32602 and "reference_block" in err.message
            bad = reference(66987565)
            bad["id"] = f"{5:016x}" + bad["id"][16:]
            assert "does not start with" in a.error_of("settlement.run", reference_block=bad).message

            stale = reference(66987565, timestamp=int(time.time() * 1000) - 301_000)
            assert "too old" in a.error_of("settlement.run", reference_block=stale).message
            ref = reference(66987565)
            b = a.call("settlement.run", reference_block=ref)
            assert b["state"] == "built" and b["mode"] == "offline" and b["owner"] == me
            assert [c["payer"] for c in b["claims"]] == \
                [payers[2].key.base58, payers[0].key.base58, payers[1].key.base58]  # largest first
            assert b["total"] == str(sum(amounts)) and b["expiration"] == ref["timestamp"] + 300_000
            assert b["fee_limit"] == 3 * 40_000 * 100 * 150 // 100

            v = verify_with_tronweb(b["transaction"])
            assert v["txid"] == v["txid_reserialized"] == b["txid"]
            assert v["signer"] == v["owner"] == me
            assert v["contract"] == HUB and v["function"] == "claimBatch(address[],uint256[],bytes[])"
            assert v["payers"] == [c["payer"] for c in b["claims"]]
            assert v["cumulative"] == [c["cumulative"] for c in b["claims"]]
            assert v["ref_block_bytes"] == f"{ref['number'] & 0xffff:04x}"
            assert v["ref_block_hash"] == ref["id"][16:32]
            assert v["expiration"] == b["expiration"] and v["fee_limit"] == b["fee_limit"]
            kept = {r["payer"]: r for r in a.call("ledger.vouchers", direction="received")["received"]}
            beneficiary = tronsig.b58decode_check(me)
            for payer, cum, sig in zip(v["payers"], v["cumulative"], v["sigs"]):
                assert kept[payer]["signature"] == sig
                digest = tronsig.claim_digest(tronsig.b58decode_check(payer), beneficiary, int(cum),
                                              728126428, tronsig.b58decode_check(HUB))
                assert tronsig.recover(digest, bytes.fromhex(sig)) == tronsig.b58decode_check(payer)

            # Everything kept is now pending in the batch: nothing more to build.
            assert a.error_of("settlement.run", reference_block=ref).code == 2002
            s = a.call("settlement.status")
            assert s["claimable"] == "0" and s["pending"] == str(sum(amounts))
            assert s["batches"] == {"built": 1}

            # A higher voucher makes only its increase claimable, in a batch of its own.
            assert payers[0].pay(3 * 10**18)[b"t"] == b"ack"
            b2 = a.call("settlement.run", reference_block=reference(66987600))
            assert [(c["payer"], c["previous"], c["amount"]) for c in b2["claims"]] == \
                [(payers[0].key.base58, str(amounts[0]), str(3 * 10**18 - amounts[0]))]
            assert verify_with_tronweb(b2["transaction"])["cumulative"] == [str(3 * 10**18)]
        finally:
            for p in payers:
                p.close()
        page = a.call("settlement.batches", limit=1)
        assert [x["id"] for x in page["batches"]] == [b2["id"]] and page["next_before"] == b2["id"]
        assert [x["id"] for x in a.call("settlement.batches", before=b2["id"])["batches"]] == [b["id"]]
        assert a.error_of("settlement.batch", id=999).code == 2004

    # The stored bytes survive a restart unchanged.
    with Daemon(state_dir=state, args=PROVIDER) as a2:
        again = a2.call("settlement.batch", id=b["id"])
        assert again["transaction"] == b["transaction"] and again["txid"] == b["txid"]
        assert a2.call("settlement.status")["pending"] == str(3 * 10**18 + amounts[1] + amounts[2])


def test_settlement_without_a_hub_or_key_says_why(tmp_path):
    with Daemon(args=["--set", "tron.generate_key=true"]) as a:
        err = a.error_of("settlement.run", reference_block=reference(1))
        assert err.code == 2003 and "payments.hub" in err.message
        assert a.call("settlement.status")["unavailable"]
    with Daemon(args=["--set", f"payments.hub={HUB}"]) as a:
        err = a.error_of("settlement.run", reference_block=reference(1))
        assert err.code == 2003 and "no TRON key" in err.message


def test_an_offline_batch_covers_its_claims_only_until_it_expires(tmp_path):
    args = PROVIDER + ["--set", "settlement.expiration=10"]  # the last --set wins
    with Daemon(state_dir=str(tmp_path / "a"), bt_iface="127.0.0.42:0", args=args) as a:
        tid = seed(a, tmp_path)
        p = Payer(a, "127.0.0.42", tid, HUB, source_ip(0))
        try:
            assert p.pay(5 * 10**18)[b"t"] == b"ack"
        finally:
            p.close()
        first = a.call("settlement.run",
                       reference_block=reference(100, timestamp=int(time.time() * 1000) - 7000))
        assert a.call("settlement.status")["claimable"] == "0"
        # Nobody broadcast it and it expired: its bytes can never land, so the claim is free again.
        wait_until(lambda: a.call("settlement.status")["claimable"] == str(5 * 10**18), 20,
                   what="the expired offline batch to release its claim")
        second = a.call("settlement.run", reference_block=reference(200))
        assert [c["cumulative"] for c in second["claims"]] == [str(5 * 10**18)]
        assert second["txid"] != first["txid"]
