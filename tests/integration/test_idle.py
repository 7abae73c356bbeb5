"""An idle daemon stays idle (issue 15): resume data is saved only for torrents that changed, not
for every torrent after a restart, and the slow idle tick wakes at once when a peer connects.
bench/idle_bench.py measures the wakeups and CPU; this checks the behaviour they rest on."""
import os
import re

from harness import Daemon, b64, make_file, mktorrent, wait_until
from ltpeer import LtPeer

SAVES = re.compile(r"saving the resume data of (\d+) torrent\(s\)")


def log_text(d):
    with open(d.log_path, encoding="utf-8", errors="replace") as f:
        return f.read()


def saves_since(d, offset):
    """The torrent counts of the periodic resume-data saves logged after `offset`."""
    return [int(n) for n in SAVES.findall(log_text(d)[offset:])]


def add_seeding(d, tmp_path, count, size=64 * 1024):
    ids = []
    for i in range(count):
        src = os.path.join(d.downloads, f"idle-{i}.bin")
        make_file(src, size)
        meta = mktorrent(src, str(tmp_path / f"idle-{i}.torrent"), piece_kib=32)
        ids.append(d.call("torrent.add", metainfo=b64(meta))["id"])
    for tid in ids:
        d.wait_state(tid, "seeding")
    return ids


def test_after_a_restart_only_changed_torrents_are_saved(tmp_path):
    with Daemon(args=["--set", "state.resume_save_interval=1"]) as d:
        ids = add_seeding(d, tmp_path, 20)
        wait_until(lambda: sum(saves_since(d, 0)) >= 20, 30, what="the new torrents' first save")
        d.stop()
        restart = len(log_text(d))
        d.start()
        for tid in ids:
            d.wait_state(tid, "seeding")
        # One real change: its tracker list lives in the resume data.
        d.call("torrent.set_trackers", id=ids[3], add=["http://127.0.0.1:9/announce"])
        wait_until(lambda: 1 in saves_since(d, restart), 30, what="the changed torrent's save")
        # Every periodic save since the restart (one a second) held the changed torrent only:
        # loading 20 torrents, their checks and their finished alerts changed nothing to save.
        assert saves_since(d, restart) == [1] * len(saves_since(d, restart))


def test_an_idle_engine_wakes_when_a_peer_connects(tmp_path):
    with Daemon() as d:
        src = os.path.join(d.downloads, "wake.bin")
        make_file(src, 4 * 1024 * 1024)
        tfile = str(tmp_path / "wake.torrent")
        tid = d.call("torrent.add", metainfo=b64(mktorrent(src, tfile, piece_kib=64)))["id"]
        d.wait_state(tid, "seeding")
        wait_until(lambda: "engine idle" in log_text(d), 30, what="the engine to go idle")
        idle_at = log_text(d).rindex("engine idle")
        port = d.call("session.stats")["listen_port"]
        peer = LtPeer("127.0.0.2")
        try:
            h = peer.add(torrent_file=tfile, save_path=str(tmp_path / "leech"))
            h.connect_peer(("127.0.0.1", port))
            wait_until(lambda: h.status().is_seeding, 60, what="the leecher to finish")
            # Idle, the status cache is refreshed every 10 s; the connection woke the engine, so
            # the upload shows within the second the active tick takes.
            wait_until(lambda: d.torrent(tid, "uploaded")["uploaded"] > 0, 3,
                       what="the upload in torrent.get")
        finally:
            peer.close()
        assert "engine active" in log_text(d)[idle_at:]
