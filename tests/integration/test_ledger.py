"""The incentive ledger counts every peer's payload bytes. A plain peer without our extension
(python3-libtorrent) is an anonymous counterparty with bytes only: nothing is priced or vouchered."""
import json
import struct
import os
import signal

from harness import Daemon, b64, make_file, mktorrent, sha256_file, wait_until
from ltpeer import LtPeer, seeding_peer

SIZE = 16 * 1024 * 1024
FAST = ["--set", "ledger.flush_interval=1"]
# A leecher that leaves closing the finished connection to us: libtorrent drops the report of a
# send that completes after the connection started closing, so a peer that hangs up the moment it
# has the last block can leave those bytes uncounted (README, ledger); the daemon waits for every
# queued block to be reported before it closes a connection itself.
LEAVES_CLOSING_TO_US = {"close_redundant_connections": False}


def seed_to_python(d, tmp_path, ip="127.0.0.2", limit=None, settings=LEAVES_CLOSING_TO_US):
    src = os.path.join(d.downloads, "content.bin")
    digest = make_file(src, SIZE)
    tfile = str(tmp_path / "content.torrent")
    tid = d.call("torrent.add", metainfo=b64(mktorrent(src, tfile, piece_kib=256)))["id"]
    d.wait_state(tid, "seeding")
    peer = LtPeer(ip, settings=settings)
    h = peer.add(torrent_file=tfile, save_path=str(tmp_path / "leech"))
    if limit:
        h.set_download_limit(limit)
    h.connect_peer(("127.0.0.1", d.call("session.stats")["listen_port"]))
    return tid, peer, h, digest


def wait_ledger_up(d, at_least=SIZE, timeout=30):
    """Waits for the ledger (the btt_pay plugin's exact per-connection count, flushed every
    ledger.flush_interval) to record `at_least` bytes sent; says what it saw if it never does.

    libtorrent's own per-torrent counter (torrent.get "uploaded") is not used as the reference:
    it takes a connection's bytes on its one-second tick, and a leecher that finishes and hangs
    up between two ticks can leave its last bytes out for good (seen: 13,848 bytes short)."""
    seen = []

    def reached():
        seen.append(d.call("ledger.summary")["bytes_up"])
        return seen[-1] >= at_least and seen[-1]
    try:
        return wait_until(reached, timeout, what="the ledger's bytes_up")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; wanted >= {at_least}, last values {seen[-3:]}") from None


def test_plain_peer_is_an_anonymous_counterparty_with_exact_bytes(tmp_path):
    with Daemon(args=FAST) as d:
        ws = d.ws()
        ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "events.subscribe",
                            "params": {"events": ["ledger.credited"]}}))
        assert json.loads(ws.recv())["result"]
        tid, peer, h, digest = seed_to_python(d, tmp_path)
        try:
            wait_until(lambda: h.status().is_seeding, 120, what="the leecher to finish")
            note = json.loads(ws.recv())
            assert note["method"] == "ledger.credited" and note["params"]["bytes_up"] > 0
            assert note["params"]["credits"] == "0"
            ws.close()
            uploaded = wait_ledger_up(d)
            # The leecher received every byte from us: the ledger has what it received, within a
            # block. Under load a leecher re-requests blocks that timed out, and the copies it got
            # twice (its redundant bytes, seen 660 KiB in CI) were sent and are counted too.
            got = h.status().total_payload_download
            redundant = h.status().total_redundant_bytes
            assert SIZE <= uploaded <= SIZE + redundant + 16 * 1024, (uploaded, got, redundant)
            assert abs(uploaded - got) <= 16 * 1024, (uploaded, got)
            # libtorrent takes a connection's bytes on its one-second tick: a transfer that ends
            # and hangs up before the first tick can leave its counter at 0 (seen in CI), so only
            # the bound is checked.
            assert d.torrent(tid, "uploaded")["uploaded"] <= uploaded
        finally:
            peer.close()
        assert sha256_file(str(tmp_path / "leech" / "content.bin")) == digest
        peers = d.call("ledger.peers")["peers"]
        assert len(peers) == 1
        p = peers[0]
        assert p["anonymous"] is True and p["address"] is None
        assert p["torrent"] == tid and p["ip"] == "127.0.0.2" and p["client"]
        assert p["bytes_up"] == uploaded
        assert p["credits"] == "0" and p["unpaid"] == "0" and p["latest_voucher"] is None
        s = d.call("ledger.summary")
        assert s["credits_accrued"] == "0" and s["vouchered"] == "0"
        assert s["torrents"][0]["torrent"] == tid
        entries = d.call("ledger.journal", limit=1000)["entries"]
        assert entries and all(e["kind"] == "accrued" and e["amount"] == "0" for e in entries)
        assert sum(e["bytes_up"] for e in entries) == p["bytes_up"]
        v = d.call("ledger.verify")
        assert v["ok"] is True and v["violations"] == []


def test_downloaded_bytes_are_counted_within_a_block(tmp_path):
    peer, _, _, meta, _ = seeding_peer(tmp_path, "127.0.0.3", "in.bin", SIZE)
    try:
        with Daemon(args=FAST) as d:
            tid = d.call("torrent.add", metainfo=b64(meta))["id"]
            d.call("torrent.add_peers", id=tid, peers=[f"127.0.0.3:{peer.port}"])
            d.wait_state(tid, "seeding", timeout=120)
            down = wait_until(lambda: (lambda s: s >= SIZE and s)(d.call("ledger.summary")["bytes_down"]),
                              15, what="bytes_down in the ledger")
            assert SIZE <= down <= SIZE + 16 * 1024
            assert d.call("ledger.verify")["ok"] is True
    finally:
        peer.close()


def test_sigterm_flushes_every_byte(tmp_path):
    d = Daemon(state_dir=str(tmp_path / "d"), args=["--set", "ledger.flush_interval=3600"])
    with d:
        tid, peer, h, _ = seed_to_python(d, tmp_path)
        try:
            wait_until(lambda: h.status().is_seeding, 120, what="the leecher to finish")
            assert d.call("ledger.summary")["bytes_up"] == 0  # nothing flushed yet (1 h interval)
            assert d.stop(signal.SIGTERM) == 0
        finally:
            peer.close()
    assert "ledger flushed" in d.logs()
    with Daemon(state_dir=str(tmp_path / "d")) as d2:
        up = d2.call("ledger.summary")["bytes_up"]
        # Every byte the leecher got (SIZE, all from us) reached the ledger at SIGTERM.
        assert SIZE <= up <= SIZE + 16 * 1024
        assert d2.torrent(tid, "uploaded")["uploaded"] <= up
        assert d2.call("ledger.verify")["ok"] is True


def test_kill9_loses_nothing_that_was_flushed(tmp_path):
    d = Daemon(state_dir=str(tmp_path / "d"), args=FAST)
    with d:
        tid, peer, h, _ = seed_to_python(d, tmp_path, ip="127.0.0.4", limit=2 * 1024 * 1024)
        try:
            flushed = wait_until(lambda: d.call("ledger.summary")["bytes_up"], 60,
                                 what="a first flush")
            flushes = d.call("ledger.summary")["flushes"]
            wait_until(lambda: d.call("ledger.summary")["flushes"] > flushes, 10, what="another flush")
            flushed = d.call("ledger.summary")["bytes_up"]
            assert not h.status().is_seeding, "transfer finished before the kill; slow it down"
            d.kill9()
        finally:
            peer.close()
    with Daemon(state_dir=str(tmp_path / "d")) as d2:
        s = d2.call("ledger.summary")
        assert s["bytes_up"] >= flushed > 0
        assert d2.call("ledger.verify")["ok"] is True


def share(a, b, a_ip, torrent_path, size):
    """A seeds a new file of `size` bytes; B downloads it by dialling A at a_ip. Returns the id."""
    src = os.path.join(a.downloads, os.path.basename(str(torrent_path)) + ".bin")
    make_file(src, size)
    meta = mktorrent(src, str(torrent_path), piece_kib=256)
    tid = a.call("torrent.add", metainfo=b64(meta))["id"]
    a.wait_state(tid, "seeding")
    b.call("torrent.add", metainfo=b64(meta))
    b.call("torrent.add_peers", id=tid, peers=[f"{a_ip}:{a.call('session.stats')['listen_port']}"])
    b.wait_state(tid, "seeding", timeout=120)
    return tid


def test_two_daemons_prove_addresses_and_the_provider_credits_the_payer(tmp_path):
    """B downloads from A. Both have keys, so the btt_pay hello authenticates each side's address:
    A's ledger credits B's address at A's price, exactly floor(bytes x price / 2^30)."""
    price = 3 * 10**18  # 3 BTT per GiB
    key_args = FAST + ["--set", "tron.generate_key=true"]
    with Daemon(state_dir=str(tmp_path / "a"), bt_iface="127.0.0.10:0",
                args=key_args + ["--set", f"payments.price_per_gib={price}"]) as a, \
         Daemon(state_dir=str(tmp_path / "b"), bt_iface="127.0.0.11:0", args=key_args) as b:
        share(a, b, "127.0.0.10", tmp_path / "paid.torrent", SIZE)
        addr_a = a.call("wallet.address")["address"]
        addr_b = b.call("wallet.address")["address"]

        def a_view():
            ps = [p for p in a.call("ledger.peers")["peers"] if p["address"] == addr_b]
            return ps and ps[0]["bytes_up"] >= SIZE and ps[0]
        pa = wait_until(a_view, 20, what="A to credit B's address")
        assert pa["anonymous"] is False
        assert int(pa["credits"]) == pa["bytes_up"] * price // 2**30
        assert a.call("ledger.summary")["credits_accrued"] == pa["credits"]

        def b_view():
            ps = [p for p in b.call("ledger.peers")["peers"] if p["address"] == addr_a]
            return ps and ps[0]["bytes_down"] >= SIZE and ps[0]
        pb = wait_until(b_view, 20, what="B to know A's address")
        assert SIZE <= pb["bytes_down"] <= SIZE + 16 * 1024
        # B never counts more than A sent (within a block, read at different moments). A counts
        # what it wrote to the socket: when B finishes, it closes the connection, and blocks A
        # wrote for requests B repeated after a timeout are never read (1 MiB was seen once under
        # ThreadSanitizer), so A may count up to a socket's buffers more.
        assert -16 * 1024 <= pa["bytes_up"] - pb["bytes_down"] <= 4 * 1024 * 1024
        assert a.call("ledger.verify")["ok"] and b.call("ledger.verify")["ok"]


def test_a_peer_without_a_key_stays_anonymous(tmp_path):
    with Daemon(state_dir=str(tmp_path / "a"), bt_iface="127.0.0.12:0",
                args=FAST + ["--set", "tron.generate_key=true"]) as a, \
         Daemon(state_dir=str(tmp_path / "b"), bt_iface="127.0.0.13:0", args=FAST) as b:
        share(a, b, "127.0.0.12", tmp_path / "free.torrent", 2 * 1024 * 1024)
        peers = wait_until(lambda: (lambda ps: ps and ps[0]["bytes_up"] > 0 and ps)(
            a.call("ledger.peers")["peers"]), 20, what="A's ledger")
        assert all(p["anonymous"] and p["credits"] == "0" for p in peers)


def test_spoofed_address_forged_hello_and_garbage_are_rejected_and_bytes_still_counted(tmp_path):
    from rawpeer import RawPeer, bencode
    with Daemon(state_dir=str(tmp_path / "a"), bt_iface="127.0.0.14:0",
                args=FAST + ["--set", "tron.generate_key=true"]) as a, \
         Daemon(state_dir=str(tmp_path / "victim"), args=["--set", "tron.generate_key=true"]) as victim:
        victim_addr = victim.call("wallet.address")
        tid = a.add_new("bait.bin", 1024 * 1024, piece_kib=256)[0]["id"]
        a.wait_state(tid, "seeding")

        p = RawPeer("127.0.0.14", a.call("session.stats")["listen_port"], bytes.fromhex(tid))
        try:
            # Claim the victim's address without its key.
            p.send_ext(0, bencode({"m": {"btt_pay": RawPeer.OUR_EXT_ID}, "btt_pay": {
                "v": 1, "addr": bytes.fromhex(victim_addr["hex"]), "nonce": os.urandom(16),
                "chain": 728126428, "hub": b"\x41" + bytes(20), "pays": 1}}))
            assert p.pump_until(lambda: b"btt_pay" in p.remote_ext.get(b"m", {}))
            ours = p.remote_ext[b"m"][b"btt_pay"]
            # The daemon proves its own address to us first.
            assert p.pump_until(lambda: any(m.get(b"t") == b"hello" for m in p.ext_messages))
            p.send_ext(ours, bencode({"t": "hello", "sig": os.urandom(65)}))            # forged
            p.send_ext(ours, bencode({"t": "hello", "sig": b"short"}))                   # malformed
            p.send_ext(ours, bencode({"t": "voucher", "pad": b"x" * 2000}))              # > 1 KiB
            p.send_ext(ours, b"this is not bencode")                                     # garbage
            assert p.pump_until(lambda: sum(m.get(b"t") == b"reject" for m in p.ext_messages) >= 4)
            reasons = [m[b"reason"] for m in p.ext_messages if m.get(b"t") == b"reject"]
            assert any(b"does not prove" in r for r in reasons), reasons
            assert any(b"1 KiB" in r for r in reasons), reasons
            # The connection survives all of that and still serves data, which is still counted.
            p.send_msg(2)  # interested
            assert p.pump_until(lambda: p.unchoked)
            for block in range(4):
                p.send_msg(6, struct.pack(">III", 0, block * 16384, 16384))
            assert p.pump_until(lambda: p.payload >= 4 * 16384)
        finally:
            p.close()

        def counted():
            ps = [x for x in a.call("ledger.peers")["peers"] if x["ip"] == "127.0.0.20"]
            return ps and ps[0]["bytes_up"] >= 4 * 16384 and ps
        ps = wait_until(counted, 15, what="the raw peer's bytes in the ledger")
        assert len(ps) == 1 and ps[0]["anonymous"] is True and ps[0]["bytes_up"] == 4 * 16384
        everyone = a.call("ledger.peers")["peers"]
        assert all(x["address"] != victim_addr["address"] for x in everyone)
        assert a.call("ledger.summary")["credits_accrued"] == "0"
        assert a.call("ledger.verify")["ok"] is True
