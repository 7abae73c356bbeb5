"""The incentive ledger counts every peer's payload bytes. A plain peer without our extension
(python3-libtorrent) is an anonymous counterparty with bytes only: nothing is priced or vouchered."""
import json
import os
import signal

from harness import Daemon, b64, make_file, mktorrent, sha256_file, wait_until
from ltpeer import LtPeer

SIZE = 16 * 1024 * 1024
FAST = ["--set", "ledger.flush_interval=1"]


def seed_to_python(d, tmp_path, ip="127.0.0.2", limit=None):
    src = os.path.join(d.downloads, "content.bin")
    digest = make_file(src, SIZE)
    tfile = str(tmp_path / "content.torrent")
    tid = d.call("torrent.add", metainfo=b64(mktorrent(src, tfile, piece_kib=256)))["id"]
    d.wait_state(tid, "seeding")
    peer = LtPeer(ip)
    h = peer.add(torrent_file=tfile, save_path=str(tmp_path / "leech"))
    if limit:
        h.set_download_limit(limit)
    h.connect_peer(("127.0.0.1", d.call("session.stats")["listen_port"]))
    return tid, peer, h, digest


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
            uploaded = wait_until(lambda: (lambda u: u >= SIZE and u)(d.torrent(tid, "uploaded")["uploaded"]),
                                  10, what="upload counter")
            # The ledger matches libtorrent's own counter to the byte once the flush lands.
            wait_until(lambda: d.call("ledger.summary")["bytes_up"] == d.torrent(tid, "uploaded")["uploaded"],
                       15, what="the ledger to match the upload counter")
        finally:
            peer.close()
        assert sha256_file(str(tmp_path / "leech" / "content.bin")) == digest
        peers = d.call("ledger.peers")["peers"]
        assert len(peers) == 1
        p = peers[0]
        assert p["anonymous"] is True and p["address"] is None
        assert p["torrent"] == tid and p["ip"] == "127.0.0.2" and p["client"]
        assert p["bytes_up"] >= uploaded >= SIZE
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
    seed_dir = tmp_path / "seed"
    make_file(str(seed_dir / "in.bin"), SIZE)
    tfile = str(tmp_path / "in.torrent")
    meta = mktorrent(str(seed_dir / "in.bin"), tfile, piece_kib=256)
    peer = LtPeer("127.0.0.3")
    try:
        h = peer.add(torrent_file=tfile, save_path=str(seed_dir))
        wait_until(lambda: h.status().is_seeding, 60, what="python seeder")
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
            uploaded = wait_until(lambda: (lambda u: u >= SIZE and u)(d.torrent(tid, "uploaded")["uploaded"]),
                                  10, what="upload counter")
            assert d.call("ledger.summary")["bytes_up"] == 0  # nothing flushed yet (1 h interval)
            assert d.stop(signal.SIGTERM) == 0
        finally:
            peer.close()
    assert "ledger flushed" in d.logs()
    with Daemon(state_dir=str(tmp_path / "d")) as d2:
        up = d2.call("ledger.summary")["bytes_up"]
        assert up == d2.torrent(tid, "uploaded")["uploaded"] >= uploaded
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
