"""Payment vouchers over the btt_pay extension (design.md §6): a paying seedboxd pays a providing
seedboxd; attacks over the wire are refused without touching the journal; paying peers get the
upload bandwidth. Signatures are checked with tronsig.py (python3-ecdsa + pycryptodome), not with
the daemon's own code."""
import json
import os
import struct
import time

import tronsig
from harness import Daemon, b64, make_file, mktorrent, sha256_file, wait_until
from ltpeer import LtPeer

CHAIN = 728126428
HUB = "TAR4TE31YKGGMjT97NaFwDuuMj3WhDpK4j"
PRICE = 3 * 10**18 + 7  # base units per GiB: odd, so rounding and carries matter
BIG = 256 * 1024 * 1024
BLOCK = 16 * 1024

COMMON = ["--set", "ledger.flush_interval=1", "--set", "tron.generate_key=true",
          "--set", f"payments.hub={HUB}"]
PROVIDER = COMMON + ["--set", f"payments.price_per_gib={PRICE}"]
PAYER = COMMON + ["--set", "payments.pay=true", "--set", f"payments.max_price_per_gib={PRICE}",
                  "--set", f"payments.budget={10**24}"]


def test_tronsig_reproduces_the_reference_vectors():
    vectors = json.load(open(os.path.join(os.path.dirname(__file__), "..", "fixtures", "tron",
                                          "signed_messages.json")))
    for c in vectors["tip712_typed_data"]:
        digest = tronsig.typed_data_digest(c["domain"], c["types"], c["primary_type"], c["message"])
        assert digest.hex() == c["digest_hex"]
        key = tronsig.Key(bytes.fromhex(c["private_key_hex"]))
        assert key.sign_digest(digest).hex() == c["signature_hex"]
        assert tronsig.b58encode_check(tronsig.recover(digest, bytes.fromhex(c["signature_hex"]))) \
            == c["recovered_address_base58"]
    for c in vectors["sign_message_v2"]:
        digest = tronsig.message_digest(bytes.fromhex(c["message_bytes_hex"]))
        assert digest.hex() == c["digest_keccak256_hex"]


def seed(d, tmp_path, name, size):
    src = os.path.join(d.downloads, name + ".bin")
    digest = make_file(src, size)
    tfile = str(tmp_path / (name + ".torrent"))
    meta = mktorrent(src, tfile, piece_kib=1024 if size > 64 * 1024 * 1024 else 256)
    tid = d.call("torrent.add", metainfo=b64(meta))["id"]
    d.wait_state(tid, "seeding")
    return tid, meta, tfile, digest


def fetch(provider, payer, provider_ip, meta, tid, timeout=240):
    payer.call("torrent.add", metainfo=b64(meta))
    payer.call("torrent.add_peers", id=tid,
               peers=[f"{provider_ip}:{provider.call('session.stats')['listen_port']}"])
    payer.wait_state(tid, "seeding", timeout=timeout)


def received_from(d, payer_addr):
    vs = d.call("ledger.vouchers", direction="received")["received"]
    return next((v for v in vs if v["payer"] == payer_addr), None)


def issued_to(d, provider_addr):
    vs = d.call("ledger.vouchers", direction="issued")["issued"]
    return next((v for v in vs if v["beneficiary"] == provider_addr), None)


def test_a_paying_daemon_pays_for_a_few_hundred_mib_and_both_ledgers_agree(tmp_path):
    with Daemon(state_dir=str(tmp_path / "a"), bt_iface="127.0.0.40:0", args=PROVIDER) as a, \
         Daemon(state_dir=str(tmp_path / "b"), bt_iface="127.0.0.41:0", args=PAYER) as b:
        addr_a = a.call("wallet.address")["address"]
        addr_b = b.call("wallet.address")["address"]
        ws = a.ws()
        ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "events.subscribe",
                            "params": {"events": ["ledger.voucher"]}}))
        assert json.loads(ws.recv())["result"]

        tid, meta, _, digest = seed(a, tmp_path, "big", BIG)
        fetch(a, b, "127.0.0.40", meta, tid)
        assert sha256_file(os.path.join(b.downloads, "big.bin")) == digest

        # The payer's newest voucher reaches the provider, which keeps exactly that one.
        def agreed():
            mine, theirs = issued_to(b, addr_a), received_from(a, addr_b)
            return mine and theirs and mine["cumulative"] == theirs["cumulative"] and \
                mine["acked"] == mine["cumulative"] and (mine, theirs)
        mine, theirs = wait_until(agreed, 30, what="both ledgers to agree on the cumulative")
        assert mine["signature"] == theirs["signature"]
        cumulative = int(theirs["cumulative"])

        # The provider credits the payer's address for what the payer received, within a block.
        def credited():
            ps = [p for p in a.call("ledger.peers")["peers"] if p["address"] == addr_b]
            return ps and ps[0]["bytes_up"] >= BIG and ps[0]
        pa = wait_until(credited, 20, what="A to credit B")
        pb = wait_until(lambda: (lambda ps: ps and ps[0]["bytes_down"] >= BIG and ps[0])(
            [p for p in b.call("ledger.peers")["peers"] if p["address"] == addr_a]), 20,
            what="B's count")
        assert abs(pa["bytes_up"] - pb["bytes_down"]) <= BLOCK
        credits = int(pa["credits"])
        assert credits == pa["bytes_up"] * PRICE // 2**30
        # The payer paid for every byte it counted after the hello, never more than it received.
        assert cumulative <= pb["bytes_down"] * PRICE // 2**30
        assert credits - cumulative <= 2 * BLOCK * PRICE // 2**30 + 1
        assert pa["latest_voucher"]["cumulative"] == theirs["cumulative"]
        assert int(pa["unpaid"]) == credits - cumulative

        # The voucher is a TIP-712 Claim signed by the payer for beneficiary = provider.
        dg = tronsig.claim_digest(tronsig.b58decode_check(addr_b), tronsig.b58decode_check(addr_a),
                                  cumulative, CHAIN, tronsig.b58decode_check(HUB))
        assert tronsig.recover(dg, bytes.fromhex(theirs["signature"])) == \
            tronsig.b58decode_check(addr_b)
        assert theirs["beneficiary"] == addr_a and theirs["chain_id"] == CHAIN and \
            theirs["hub"] == HUB

        s = a.call("ledger.summary")
        assert s["vouchered"] == theirs["cumulative"]
        assert int(s["unpaid"]) == credits - cumulative
        assert b.call("ledger.summary")["paid_out"] == theirs["cumulative"]
        rows = [e for e in a.call("ledger.journal", limit=10000)["entries"]
                if e["kind"] == "vouchered"]
        assert len(rows) >= 2 and sum(int(e["amount"]) for e in rows) == cumulative
        assert all(e["address"] == addr_b for e in rows)
        note = json.loads(ws.recv())
        assert note["method"] == "ledger.voucher" and note["params"]["direction"] == "received"
        assert note["params"]["payer"] == addr_b
        ws.close()
        for d in (a, b):
            v = d.call("ledger.verify")
            assert v["ok"] is True, v["violations"]
