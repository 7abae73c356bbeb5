"""Restart after SIGTERM and after kill -9: every torrent comes back with its settings and progress,
and data covered by resume data is not rechecked (resume == "accepted")."""
import json
import os
import signal
import sqlite3
import time

from harness import Daemon, b64, wait_until
from ltpeer import seeding_peer


def add_seed(d, name, size=2_000_000, **kw):
    return d.add_new(name, size, **kw)[0]["id"]


def snapshot(d):
    fields = ["id", "name", "labels", "upload_limit", "max_connections", "ratio_limit",
              "limit_action", "sequential", "save_path"]
    return {t["id"]: t for t in d.call("torrent.list", fields=fields)["torrents"]}


def test_sigterm_restart_keeps_everything(tmp_path):
    d = Daemon(state_dir=str(tmp_path), args=["--set", "state.resume_save_interval=3600"])
    with d:
        a = add_seed(d, "a.bin", labels=["movies"])
        b = add_seed(d, "b.bin")
        c = d.call("torrent.add", magnet="magnet:?xt=urn:btih:" + "cd" * 20 + "&dn=waiting")["id"]
        d.wait_state(a, "seeding")
        d.wait_state(b, "seeding")
        d.call("torrent.set", ids=[a], upload_limit=50_000, max_connections=9, ratio_limit=3.0,
               limit_action="remove", sequential=True)
        d.call("torrent.stop", ids=[b])
        d.wait_state(b, "stopped")
        d.call("session.set_settings", download_rate_limit=777_000)
        before = snapshot(d)
        t0 = time.monotonic()
        assert d.stop(signal.SIGTERM) == 0
        assert time.monotonic() - t0 < 15
    assert "resume data saved" in d.logs()
    with Daemon(state_dir=str(tmp_path)) as d2:
        assert snapshot(d2) == before
        assert list(before) == [a, b, c]  # order kept
        t = d2.wait_state(a, "seeding", timeout=15)
        assert t["progress"] == 1.0
        assert d2.torrent(a, "resume")["resume"] == "accepted"
        assert d2.torrent(b, "state")["state"] == "stopped"
        assert d2.torrent(b, "resume", "progress") == {"resume": "accepted", "progress": 1.0}
        assert d2.torrent(c, "state")["state"] in ("downloading_metadata", "queued")
        assert d2.call("session.settings")["download_rate_limit"] == 777_000


def test_kill9_keeps_torrents_settings_and_resume(tmp_path):
    d = Daemon(state_dir=str(tmp_path))
    with d:
        a = add_seed(d, "a.bin", labels=["x"])
        d.wait_state(a, "seeding")
        # Resume data is written when a torrent finishes checking; wait until it is in state.db.
        wait_until(lambda: d.torrent(a, "resume_saved_time")["resume_saved_time"] > 0, 20,
                   what="resume data of a")
        # Its completion time went to state.db with that resume data (one transaction).
        completed = d.torrent(a, "completed_time")["completed_time"]
        with sqlite3.connect(os.path.join(d.state_dir, "state.db")) as db:
            meta = db.execute("SELECT meta FROM torrents WHERE id = ?", (a,)).fetchone()[0]
        assert completed > 0 and json.loads(meta)["completed_time"] == completed
        d.call("torrent.set", ids=[a], labels=["y"], upload_limit=1234)
        late = add_seed(d, "late.bin")  # killed before any resume data: must still come back
        d.kill9()
    with Daemon(state_dir=str(tmp_path)) as d2:
        ids = [t["id"] for t in d2.call("torrent.list", fields=["id"])["torrents"]]
        assert ids == [a, late]
        assert d2.torrent(a, "labels", "upload_limit") == {"labels": ["y"], "upload_limit": 1234}
        assert d2.torrent(a, "resume")["resume"] == "accepted"
        assert d2.wait_state(a, "seeding", timeout=15)["progress"] == 1.0
        assert d2.wait_state(late, "seeding", timeout=30)["progress"] == 1.0


def test_kill9_mid_download_keeps_progress(tmp_path):
    peer, h, _, meta, _ = seeding_peer(tmp_path, "127.0.0.4", "big.bin", 32 * 1024 * 1024)
    try:
        h.set_upload_limit(4 * 1024 * 1024)  # slow enough to kill mid-way
        d = Daemon(state_dir=str(tmp_path / "d"), args=["--set", "state.resume_save_interval=1"])
        with d:
            tid = d.call("torrent.add", metainfo=b64(meta))["id"]
            d.call("torrent.add_peers", id=tid, peers=[f"127.0.0.4:{peer.port}"])
            wait_until(lambda: d.torrent(tid, "progress")["progress"] > 0.25, 60, what="some progress")
            # Pieces verified now are in every resume save that starts after this moment.
            at_mark = d.torrent(tid, "progress")["progress"]
            t_mark = int(time.time()) + 1
            wait_until(lambda: d.torrent(tid, "resume_saved_time")["resume_saved_time"] > t_mark, 20,
                       what="a resume save after the mark")
            assert d.torrent(tid, "progress")["progress"] < 1.0, "finished too early; slow the seeder"
            d.kill9()
    finally:
        peer.close()
    with Daemon(state_dir=str(tmp_path / "d")) as d2:
        t = wait_until(lambda: (lambda t: t["state"] not in ("checking_resume",) and t)(
            d2.torrent(tid, "state", "progress", "resume")), 20, what="the restored torrent")
        assert t["resume"] == "accepted"
        assert t["progress"] >= at_mark, (t, at_mark)
