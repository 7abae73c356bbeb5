"""Real transfers with a peer we did not write (python3-libtorrent), both ways, plus the WebSocket
events a client would watch while it happens. Downloaded bytes are hash-verified."""
import json
import os

import pytest

from harness import Daemon, b64, make_file, mktorrent, sha256_file, wait_until
from ltpeer import LtPeer, seeding_peer

SIZE = 24 * 1024 * 1024


@pytest.fixture()
def d():
    with Daemon() as d:
        yield d


def daemon_port(d):
    return wait_until(lambda: d.call("session.stats")["listen_port"], 10, what="BT listen port")


def test_daemon_seeds_to_python_libtorrent(d, tmp_path):
    src = os.path.join(d.downloads, "payload.bin")
    digest = make_file(src, SIZE)
    tfile = str(tmp_path / "payload.torrent")
    meta = mktorrent(src, tfile, piece_kib=256)
    tid = d.call("torrent.add", metainfo=b64(meta))["id"]
    d.wait_state(tid, "seeding")

    peer = LtPeer("127.0.0.2")
    try:
        h = peer.add(torrent_file=tfile, save_path=str(tmp_path / "leech"))
        h.connect_peer(("127.0.0.1", daemon_port(d)))
        wait_until(lambda: h.status().is_seeding, 120, what="the python leecher to finish")
        # The ledger's exact count (libtorrent's per-torrent counter can miss a finished
        # leecher's last bytes: see test_ledger.wait_ledger_up).
        up = wait_until(lambda: (lambda n: n >= SIZE and n)(d.call("ledger.summary")["bytes_up"]),
                        30, what="the upload in the ledger")
        assert SIZE <= up <= SIZE + 16 * 1024
        assert 0 < d.torrent(tid, "uploaded")["uploaded"] <= up
    finally:
        peer.close()
    assert sha256_file(str(tmp_path / "leech" / "payload.bin")) == digest


def test_daemon_downloads_from_python_libtorrent_and_reports_over_websocket(d, tmp_path):
    peer, h, _, _, digest = seeding_peer(tmp_path, "127.0.0.3", "movie.bin", SIZE)
    try:
        magnet = f"magnet:?xt=urn:btih:{h.status().info_hashes.v1}&dn=movie.bin"

        ws = d.ws()
        ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "events.subscribe",
                            "params": {"events": ["torrent.added", "torrent.finished",
                                                  "torrent.state_changed"]}}))
        assert json.loads(ws.recv())["result"]["events"]

        tid = d.call("torrent.add", magnet=magnet, labels=["from-peer"])["id"]

        def listed():
            return d.call("torrent.list", ids=[tid],
                          fields=["has_metadata", "num_files"])["torrents"][0]
        assert listed()["num_files"] == 0  # no metadata yet: no files
        d.call("torrent.add_peers", id=tid, peers=[f"127.0.0.3:{peer.port}"])
        # Listed over and over while the metadata comes: its file count must not stick at 0.
        wait_until(lambda: listed()["has_metadata"], 30, 0.005, what="the metadata")

        seen = []
        while "torrent.finished" not in seen:
            msg = json.loads(ws.recv())  # ws timeout (30 s) bounds each wait
            assert "id" not in msg, msg
            seen.append(msg["method"])
            if msg["method"] == "torrent.added":
                assert msg["params"]["id"] == tid and msg["params"]["labels"] == ["from-peer"]
            if msg["method"] == "torrent.finished":
                assert msg["params"]["id"] == tid and msg["params"]["name"] == "movie.bin"
                assert msg["params"]["progress"] == 1.0
        assert seen.index("torrent.added") < seen.index("torrent.finished")
        assert "torrent.state_changed" in seen
        ws.close()
        t = d.wait_state(tid, "seeding")
        assert t["progress"] == 1.0
        assert listed() == {"has_metadata": True, "num_files": 1}
        # libtorrent folds transfer counters in once a second
        wait_until(lambda: d.torrent(tid, "downloaded")["downloaded"] >= SIZE, 10,
                   what="the download counter")
        assert d.torrent(tid, "completed_time")["completed_time"] > 0
    finally:
        peer.close()
    assert sha256_file(os.path.join(d.downloads, "movie.bin")) == digest


def test_stats_notifications_carry_changed_torrents(d, tmp_path):
    src = os.path.join(d.downloads, "s.bin")
    make_file(src, 1_000_000)
    meta = mktorrent(src, str(tmp_path / "s.torrent"), piece_kib=64)
    ws = d.ws()
    ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "events.subscribe",
                        "params": {"events": ["torrent.stats"]}}))
    assert json.loads(ws.recv())["result"] == {"events": ["torrent.stats"]}
    tid = d.call("torrent.add", metainfo=b64(meta))["id"]
    while True:
        msg = json.loads(ws.recv())
        assert msg["method"] == "torrent.stats"
        ids = [t["id"] for t in msg["params"]["torrents"]]
        if tid in ids:
            t = msg["params"]["torrents"][ids.index(tid)]
            assert {"state", "progress", "download_rate", "upload_rate", "peers"} <= set(t)
            break
    ws.close()


def test_storage_error_is_reported_as_event_and_state(d, tmp_path):
    src = os.path.join(d.downloads, "doomed.bin")
    make_file(src, 1_000_000)
    meta = mktorrent(src, str(tmp_path / "doomed.torrent"), piece_kib=64)
    tid = d.call("torrent.add", metainfo=b64(meta))["id"]
    d.wait_state(tid, "seeding")
    ws = d.ws()
    ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "events.subscribe",
                        "params": {"events": ["torrent.error"]}}))
    assert json.loads(ws.recv())["result"]
    os.unlink(src)
    os.mkdir(src)  # the file is now a directory: reading it fails
    d.call("torrent.recheck", ids=[tid])
    msg = json.loads(ws.recv())
    assert msg["method"] == "torrent.error" and msg["params"]["id"] == tid
    assert msg["params"]["name"] == "doomed.bin" and msg["params"]["error"]
    t = d.wait_state(tid, "error", timeout=20)
    assert t["error"]
    ws.close()
    # Clearing the cause and starting again recovers.
    os.rmdir(src)
    make_file(src, 1_000_000)
    d.call("torrent.start", ids=[tid])
    d.call("torrent.recheck", ids=[tid])
    assert d.wait_state(tid, ("seeding", "downloading"), timeout=20)["state"] != "error"
