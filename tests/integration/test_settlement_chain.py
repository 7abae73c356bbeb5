"""Settlement in broadcast mode against the TRON HTTP API test double (tests/tron/double.js): the
real compiled hub and an ERC-20 run in @ethereumjs/evm, every broadcast is checked with tronweb.
Claims are paid exactly once, through crashes at each step and through node faults, and the token
balances in the EVM equal what the ledgers say, to the base unit."""
import json
import os
import time

import pytest
from harness import Daemon, b64, make_file, mktorrent, wait_until
from trondouble import TronDouble
from vouchers import Payer, source_ip

E18 = 10**18
TRX = 1_000_000  # sun
BASE = ["--set", "ledger.flush_interval=1", "--set", "tron.generate_key=true",
        "--set", "settlement.interval=3600", "--set", "settlement.expiration=120"]


@pytest.fixture
def double():
    with TronDouble(block_ms=100, solid_lag=10) as d:
        yield d


def provider(double, tmp_path, env=None, name="a"):
    return Daemon(state_dir=str(tmp_path / name), bt_iface="127.0.0.42:0", env=env,
                  args=BASE + double.daemon_args())


def seed(d, tmp_path):
    src = os.path.join(d.downloads, "bait.bin")
    if not os.path.exists(src):
        make_file(src, 1024 * 1024)
    tid = d.call("torrent.add", metainfo=b64(mktorrent(src, str(tmp_path / "bait.torrent"))))["id"]
    d.wait_state(tid, "seeding")
    return tid


def feed(a, double, tid, deposits, vouchers, first=0):
    """Payers with these hub deposits, each sending one voucher; returns the payers."""
    payers = []
    for i, (dep, amount) in enumerate(zip(deposits, vouchers)):
        p = Payer(a, "127.0.0.42", tid, double.hub, source_ip(first + i))
        payers.append(p)
        if dep:
            double.deposit(p.key.base58, dep)
        assert p.pay(amount)[b"t"] == b"ack"
    return payers


def wait_batch(a, bid, states, timeout=60):
    states = (states,) if isinstance(states, str) else states
    return wait_until(lambda: (lambda b: b["state"] in states and b)(a.call("settlement.batch", id=bid)),
                      timeout, what=f"batch {bid} to reach {states}")


def btt(double, addr):
    return int(double.balances(addr)[addr]["btt"])


def test_claims_settle_on_chain_to_the_base_unit(double, tmp_path):
    with provider(double, tmp_path) as a:
        me = a.call("wallet.address")["address"]
        double.fund(me, trx=10_000 * TRX)
        ws = a.ws()
        ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "events.subscribe",
                            "params": {"events": ["settlement.batch"]}}))
        assert json.loads(ws.recv())["result"]
        tid = seed(a, tmp_path)
        vouchers = [2 * E18 + 3, E18, E18]
        payers = feed(a, double, tid, [10 * E18, 10 * E18, E18 // 2], vouchers)
        try:
            assert a.call("settlement.status")["claimable"] == str(sum(vouchers))
            b = a.call("settlement.run")
            assert b["mode"] == "broadcast" and b["state"] == "built"
            assert 0 < b["fee_limit"] <= 1000 * TRX and b["energy_estimate"] > 3 * 20_000
            final = wait_batch(a, b["id"], ("final", "reverted", "expired"))
            assert final["state"] == "final", final
            assert final["block"] > 0 and final["energy"] > 0 and final["fee"] > 0
            outcome = {c["payer"]: (c["outcome"], int(c["paid"])) for c in final["claims"]}
            assert outcome == {payers[0].key.base58: ("claimed", vouchers[0]),
                               payers[1].key.base58: ("claimed", vouchers[1]),
                               payers[2].key.base58: ("claimed", E18 // 2)}  # underfunded: partial
            paid = vouchers[0] + vouchers[1] + E18 // 2
            assert btt(double, me) == paid
            for p, want in zip(payers, [vouchers[0], vouchers[1], E18 // 2]):
                assert double.paid(p.key.base58, me) == want
            s = a.call("settlement.status")
            assert s["paid"] == str(paid) and s["pending"] == "0"
            assert s["claimable"] == str(E18 // 2)  # the rest of the underfunded payer's voucher
            assert s["batches"] == {"final": 1}

            # The payer tops up: the rest is claimed by a second batch, and only the rest.
            double.deposit(payers[2].key.base58, E18)
            b2 = a.call("settlement.run")
            assert [(c["payer"], c["previous"], c["amount"]) for c in b2["claims"]] == \
                [(payers[2].key.base58, str(E18 // 2), str(E18 // 2))]
            assert wait_batch(a, b2["id"], ("final", "reverted"))["state"] == "final"
            assert btt(double, me) == sum(vouchers)
            assert a.error_of("settlement.run").code == 2002
            assert int(double.balances(payers[2].key.base58)[payers[2].key.base58]["deposit"]) == E18 // 2
        finally:
            for p in payers:
                p.close()
        seen = []
        while len([n for n in seen if n["id"] == b["id"]]) < 4:
            seen.append(json.loads(ws.recv())["params"])
        assert [(n["from"], n["state"]) for n in seen if n["id"] == b["id"]] == \
            [(None, "built"), ("built", "broadcast"), ("broadcast", "included"), ("included", "final")]
        ws.close()


@pytest.mark.parametrize("point", ["settlement.after_build", "settlement.after_broadcast",
                                   "settlement.confirming", "settlement.reconcile"])
def test_a_crash_at_each_step_pays_every_claim_exactly_once(double, tmp_path, point):
    vouchers = [3 * E18 + 1, E18 + 2]
    env = {"SEEDBOX_FAULT_POINT": point}
    a = provider(double, tmp_path, env=env)
    with a:
        me = a.call("wallet.address")["address"]
        double.fund(me, trx=10_000 * TRX)
        tid = seed(a, tmp_path)
        payers = feed(a, double, tid, [10 * E18, 10 * E18], vouchers)
        try:
            try:
                a.call("settlement.run")  # after_build dies inside this call
            except Exception:  # noqa: BLE001 - the daemon is gone mid-answer
                pass
            wait_until(lambda: a.proc.poll() is not None, 60, what=f"the daemon to die at {point}")
            assert f"fault point {point} reached" in a.logs()
        finally:
            for p in payers:
                p.close()
    with provider(double, tmp_path) as a2:
        batches = a2.call("settlement.batches")["batches"]
        assert len(batches) == 1, "the stored batch is resumed, never rebuilt"
        final = wait_batch(a2, batches[0]["id"], ("final", "reverted", "expired"))
        assert final["state"] == "final", final
        assert btt(double, me) == sum(vouchers)  # paid exactly once
        for p, v in zip(payers, vouchers):
            assert double.paid(p.key.base58, me) == v
        s = a2.call("settlement.status")
        assert s["claimable"] == "0" and s["paid"] == str(sum(vouchers))
        assert a2.error_of("settlement.run").code == 2002
        assert len(a2.call("settlement.batches")["batches"]) == 1


def test_node_faults_lead_to_the_right_state_and_rpc_keeps_serving(double, tmp_path):
    with provider(double, tmp_path) as a:
        me = a.call("wallet.address")["address"]
        double.fund(me, trx=100_000 * TRX)
        tid = seed(a, tmp_path)
        payers = []
        try:
            total = 0

            def settle(kind, expect, n=1, ms=0, path=""):
                nonlocal total
                amount = (len(payers) + 1) * E18
                payers.extend(feed(a, double, tid, [100 * E18], [amount], first=len(payers)))
                double.fault(kind, count=n, ms=ms, path=path)
                b = a.call("settlement.run")
                t0 = time.monotonic()
                assert a.call("settlement.status")["pending"] != "0"  # RPC answers meanwhile
                assert time.monotonic() - t0 < 2
                got = wait_batch(a, b["id"], ("final", "reverted", "expired"), timeout=90)
                assert got["state"] == expect, (kind, got)
                if expect == "final":
                    total += amount
                assert btt(double, me) == total, kind
                return got

            assert settle("server_busy", "final", n=3)["broadcasts"] >= 4
            assert settle("timeout", "final", ms=3000, path="/wallet/broadcasthex")["broadcasts"] >= 2
            assert settle("accept_drop", "final")["broadcasts"] >= 2
            # The node restarts while we confirm: its pending pool is lost, the bytes go again.
            assert settle("restart", "final", ms=1500, path="/wallet/gettransactioninfobyid")
            # A node that times out during the pre-flight: a clear error, nothing stored.
            payers.extend(feed(a, double, tid, [100 * E18], [E18 // 2], first=len(payers)))
            before = len(a.call("settlement.batches")["batches"])
            double.fault("timeout", ms=1000)
            err = a.error_of("settlement.run")
            assert err.code == 2005 and "TRON node" in err.message
            assert len(a.call("settlement.batches")["batches"]) == before
            retry = a.call("settlement.run")
            assert wait_batch(a, retry["id"], ("final", "reverted", "expired"))["state"] == "final"
            total += E18 // 2
            rev = settle("revert", "reverted")
            assert rev["error"].startswith("REVERT") and all(c["outcome"] == "returned" for c in rev["claims"])
            # A reverted batch's claims are claimable again, and a new batch pays them.
            assert a.call("settlement.status")["claimable"] == rev["total"]
            again = a.call("settlement.run")
            assert wait_batch(a, again["id"], ("final", "reverted", "expired"))["state"] == "final"
            total += int(rev["total"])
            assert btt(double, me) == total
            exp = settle("never_include", "expired")
            assert all(c["outcome"] == "returned" for c in exp["claims"])
            again = a.call("settlement.run")
            assert wait_batch(a, again["id"], ("final", "reverted", "expired"))["state"] == "final"
            total += int(exp["total"])
            assert btt(double, me) == total
        finally:
            for p in payers:
                p.close()


def test_automatic_runs_follow_the_interval_and_the_minimum(double, tmp_path):
    with Daemon(state_dir=str(tmp_path / "a"), bt_iface="127.0.0.42:0",
                args=BASE + double.daemon_args() + ["--set", "settlement.interval=10",
                                                    "--set", f"settlement.min_batch_amount={2 * E18}"]) as a:
        me = a.call("wallet.address")["address"]
        double.fund(me, trx=10_000 * TRX)
        tid = seed(a, tmp_path)
        payers = feed(a, double, tid, [10 * E18], [E18])
        try:
            # Below the minimum: an automatic check passes without building anything.
            s = wait_until(lambda: (lambda s: s["last_check"] and s)(a.call("settlement.status")),
                           30, what="the first automatic check")
            assert s["last_run"] is None and s["claimable"] == str(E18) and s["batches"] == {}
            payers += feed(a, double, tid, [10 * E18], [2 * E18], first=1)
            b = wait_until(lambda: a.call("settlement.batches")["batches"], 30,
                           what="an automatic batch")[0]
            assert wait_batch(a, b["id"], ("final", "reverted", "expired"))["state"] == "final"
            assert btt(double, me) == 3 * E18
        finally:
            for p in payers:
                p.close()


def test_a_paying_daemon_deposits_and_a_providing_daemon_settles_what_both_ledgers_say(double, tmp_path):
    price = 7 * 10**20 + 1  # base units per GiB
    args = BASE + double.daemon_args()
    with Daemon(state_dir=str(tmp_path / "a"), bt_iface="127.0.0.43:0",
                args=args + ["--set", f"payments.price_per_gib={price}"]) as a, \
            Daemon(state_dir=str(tmp_path / "b"), bt_iface="127.0.0.44:0",
                   args=args + ["--set", "payments.pay=true", "--set", f"payments.max_price_per_gib={price}",
                                "--set", f"payments.budget={100 * E18}"]) as b:
        addr_a, addr_b = (d.call("wallet.address")["address"] for d in (a, b))
        double.fund(addr_a, trx=10_000 * TRX)
        double.fund(addr_b, trx=10_000 * TRX, btt=50 * E18)
        dep = b.call("wallet.deposit", amount=str(20 * E18))
        assert dep["approve"]["txid"] and dep["deposit"]["block"] > 0
        bal = b.call("wallet.balance")
        assert bal["deposit"] == str(20 * E18) and bal["btt"] == str(30 * E18)
        assert b.error_of("wallet.deposit", amount="-1").code == -32602

        src = os.path.join(a.downloads, "paid.bin")
        make_file(src, 24 * 1024 * 1024)
        meta = mktorrent(src, str(tmp_path / "paid.torrent"), piece_kib=256)
        tid = a.call("torrent.add", metainfo=b64(meta))["id"]
        a.wait_state(tid, "seeding")
        b.call("torrent.add", metainfo=b64(meta))
        b.call("torrent.add_peers", id=tid, peers=[f"127.0.0.43:{a.call('session.stats')['listen_port']}"])
        b.wait_state(tid, "seeding", timeout=120)

        def agreed():
            issued = b.call("ledger.vouchers", direction="issued")["issued"]
            kept = a.call("ledger.vouchers", direction="received")["received"]
            return issued and kept and issued[0]["cumulative"] == kept[0]["cumulative"] == \
                issued[0]["acked"] and int(kept[0]["cumulative"])
        cumulative = wait_until(agreed, 60, what="both ledgers to agree on the voucher")
        assert cumulative > E18

        batch = a.call("settlement.run")
        final = wait_batch(a, batch["id"], ("final", "reverted", "expired"))
        assert final["state"] == "final", final
        assert btt(double, addr_a) == cumulative  # to the base unit
        bal = b.call("wallet.balance")
        assert int(bal["deposit"]) == 20 * E18 - cumulative
        assert int(bal["btt"]) == 30 * E18
        assert a.call("settlement.status")["paid"] == str(cumulative)
        assert a.call("ledger.verify")["ok"] and b.call("ledger.verify")["ok"]

        # The payer withdraws what is left, after the hub's delay (3600 s of chain time).
        req = b.call("wallet.withdraw", amount=str(E18))
        assert req["requested"]["txid"]
        err = b.error_of("wallet.withdraw")
        assert err.code == 2005 and "delay" in err.message


def test_preflight_refuses_a_wrong_token_or_too_little_trx_and_sends_the_api_key(double, tmp_path):
    key_file = tmp_path / "api.key"
    key_file.write_text("test-key-1234\n")
    args = BASE + double.daemon_args() + ["--set", f"tron.api_key_file={key_file}"]
    with Daemon(state_dir=str(tmp_path / "a"), bt_iface="127.0.0.42:0", args=args) as a:
        me = a.call("wallet.address")["address"]
        tid = seed(a, tmp_path)
        payers = feed(a, double, tid, [10 * E18], [E18])
        try:
            err = a.error_of("settlement.run")  # no TRX at all for the fee
            assert err.code == 2003 and "does not cover the fee limit" in err.message, err.message
            assert a.call("settlement.batches")["batches"] == []
        finally:
            for p in payers:
                p.close()
        assert double.post("/test/info")["api_keys_seen"] == ["test-key-1234"]
        assert "test-key-1234" not in a.logs(tail=1 << 30)
    # A token that does not answer decimals() == 18 (here: the hub itself) is refused.
    with Daemon(state_dir=str(tmp_path / "a"), bt_iface="127.0.0.42:0",
                args=args + ["--set", f"tron.token={double.hub}"]) as a:
        double.fund(me, trx=10_000 * TRX)
        err = a.error_of("settlement.run")
        assert err.code == 2003 and "18 decimals" in err.message, err.message
        assert a.call("settlement.batches")["batches"] == []
