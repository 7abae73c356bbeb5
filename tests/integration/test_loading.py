"""After a restart the API answers before the stored torrents have loaded (issue 15): every torrent
is listed at once, with its own settings, in state `loading` until libtorrent hands it back; calls
that need it answer torrent_loading meanwhile; a torrent that cannot load is reported, not dropped,
and can be removed."""
import json
import os
import sqlite3

from harness import Daemon, RpcError, b64, make_file, mktorrent, wait_until

LOADING = 1015  # torrent_loading
LATER = {"loading", "checking_resume", "checking", "downloading_metadata", "seeding", "stopped",
         "queued"}


def magnet(i):
    return f"magnet:?xt=urn:btih:{i:040x}&dn=load-{i}"


def log_text(d):
    with open(d.log_path, encoding="utf-8", errors="replace") as f:
        return f.read()


def add_seeding(d, tmp_path, name):
    src = os.path.join(d.downloads, name)
    make_file(src, 256 * 1024)
    meta = mktorrent(src, str(tmp_path / (name + ".torrent")), piece_kib=32)
    tid = d.call("torrent.add", metainfo=b64(meta))["id"]
    d.wait_state(tid, "seeding")
    return tid


def all_saved(d):
    torrents = d.call("torrent.list", fields=["resume_saved_time"])["torrents"]
    return all(t["resume_saved_time"] > 0 for t in torrents)


def test_the_api_answers_while_stored_torrents_load(tmp_path):
    count = 300
    with Daemon(args=["--set", "state.resume_save_interval=1"]) as d:
        real = add_seeding(d, tmp_path, "real.bin")
        ids = [d.call("torrent.add", magnet=magnet(i + 1))["id"] for i in range(count)]
        d.call("torrent.set", ids=[ids[-1]], labels=["kept"], upload_limit=4321)
        wait_until(lambda: all_saved(d), 60, what="every torrent's resume data in state.db")
        d.stop()
        restart = len(log_text(d))
        d.start(loaded=False)

        # The table is complete from the first answer: ids in the order added, our own settings.
        listed = d.call("torrent.list", fields=["id", "state", "labels"])["torrents"]
        assert [t["id"] for t in listed] == [real] + ids
        assert {t["state"] for t in listed} <= LATER, {t["state"] for t in listed}
        assert listed[-1]["labels"] == ["kept"]
        # A change either waits for nothing (loaded) or says why it cannot run yet.
        try:
            d.call("torrent.stop", ids=[ids[-1]])
            stopped = True
        except RpcError as e:
            assert e.code == LOADING and "still loading" in e.message, e
            stopped = False

        wait_until(lambda: all(t["state"] != "loading" for t in
                               d.call("torrent.list", fields=["state"])["torrents"]),
                   30, what="every torrent to load")
        text = log_text(d)[restart:]
        listening = text.index("JSON-RPC listening")
        loaded = text.index(f"{count + 1} torrent(s) loaded in")
        assert listening < loaded, "the API opened only after the torrents had loaded"

        t = d.wait_state(real, "seeding", timeout=30)
        assert t["progress"] == 1.0
        assert d.torrent(real, "resume")["resume"] == "accepted"
        last = d.torrent(ids[-1], "labels", "upload_limit", "state")
        assert last["labels"] == ["kept"] and last["upload_limit"] == 4321
        if not stopped:
            d.call("torrent.stop", ids=[ids[-1]])
        assert d.wait_state(ids[-1], "stopped", timeout=15)


def test_a_torrent_that_cannot_load_is_reported_and_removable(tmp_path):
    with Daemon(args=["--set", "state.resume_save_interval=1"]) as d:
        bad = add_seeding(d, tmp_path, "bad.bin")
        good = add_seeding(d, tmp_path, "good.bin")
        wait_until(lambda: all_saved(d), 60, what="resume data in state.db")
        d.stop()
        # Its stored .torrent is garbage and it has no resume data to load from instead.
        with sqlite3.connect(os.path.join(d.state_dir, "state.db")) as db:
            db.execute("UPDATE torrents SET source = ?, resume = ? WHERE id = ?",
                       (b"not bencoded", b"", bad))
        db.close()
        d.start()

        t = d.torrent(bad, "state", "error")
        assert t["state"] == "error" and "unusable" in t["error"], t
        try:
            d.call("torrent.start", ids=[bad])
            raise AssertionError("a torrent that failed to load was started")
        except RpcError as e:
            assert e.code == LOADING and "failed to load" in e.message, e
        assert d.wait_state(good, "seeding", timeout=30)

        assert d.call("torrent.remove", ids=[bad]) == {"ok": True}
        assert [t["id"] for t in d.call("torrent.list", fields=["id"])["torrents"]] == [good]
        d.stop()
        d.start()
        assert [t["id"] for t in d.call("torrent.list", fields=["id"])["torrents"]] == [good]


def test_adds_are_durable_and_usable_at_once(tmp_path):
    """A batch's adds share commits but each is in state.db before the answer (kill -9 right
    after it loses none); duplicates in one batch add once; a just-added torrent takes calls
    at once (they wait for libtorrent's handle instead of answering torrent_loading)."""
    d = Daemon(state_dir=str(tmp_path / "d"), args=["--set", "rpc.max_batch=100"])
    with d:
        metas = []
        for i in range(40):
            src = os.path.join(d.downloads, f"b{i}.bin")
            make_file(src, 16 * 1024 + i)
            metas.append(mktorrent(src, str(tmp_path / f"b{i}.torrent"), piece_kib=32))
        same = [metas[0]] * 10
        batch = [{"jsonrpc": "2.0", "id": i, "method": "torrent.add",
                  "params": {"metainfo": b64(m), "paused": True}}
                 for i, m in enumerate(same + metas[1:])]
        status, _, body = d.post(batch)
        assert status == 200, body
        replies = sorted(json.loads(body), key=lambda r: r["id"])
        assert all("result" in r for r in replies), [r for r in replies if "error" in r][:3]
        firsts = [r["result"] for r in replies[:10]]
        assert len({r["id"] for r in firsts}) == 1
        assert sum(r["added"] for r in firsts) == 1, firsts
        ids = [firsts[0]["id"]] + [r["result"]["id"] for r in replies[10:]]
        assert all(r["result"]["added"] for r in replies[10:])
        d.kill9()
    with Daemon(state_dir=str(tmp_path / "d")) as d2:
        listed = [t["id"] for t in d2.call("torrent.list", fields=["id"])["torrents"]]
        assert sorted(listed) == sorted(ids)
        src = os.path.join(d2.downloads, "now.bin")
        make_file(src, 64 * 1024)
        tid = d2.call("torrent.add", metainfo=b64(mktorrent(src, str(tmp_path / "now.torrent"))))[
            "id"]
        assert d2.call("torrent.stop", ids=[tid]) == {"ok": True}
        assert d2.torrent(tid, "state")["state"] == "stopped"
        assert len(d2.call("torrent.files", id=tid)["files"]) == 1
