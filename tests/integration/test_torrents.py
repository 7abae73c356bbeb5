"""Managing torrents over the API: every torrent.* and session.* method against the real daemon."""
import base64
import http.server
import os
import threading

import pytest

from harness import Daemon, b64, make_file, mktorrent, wait_until


@pytest.fixture()
def d():
    # The URL add below fetches from a server on loopback, which is refused by default (SSRF).
    with Daemon(args=["--set", "torrent.url_allow_private=true"]) as d:
        yield d


def seeded(d, name="data.bin", size=400_000, **add):
    return d.add_new(name, size, piece_kib=32, **add)


def test_add_from_metainfo_then_duplicate(d):
    r, meta, _ = seeded(d, labels=["iso"])
    assert r["added"] is True and len(r["id"]) == 40 and r["name"] == "data.bin"
    again = d.call("torrent.add", metainfo=b64(meta))
    assert again == {"id": r["id"], "name": "data.bin", "added": False}
    d.wait_state(r["id"], "seeding")
    t = d.torrent(r["id"], "progress", "labels", "total_size", "save_path", "resume")
    assert t["progress"] == 1.0 and t["labels"] == ["iso"] and t["total_size"] == 400_000
    assert os.path.realpath(t["save_path"]) == os.path.realpath(d.downloads)


def test_add_from_magnet_path_and_url(d):
    mag = "magnet:?xt=urn:btih:" + "ab" * 20 + "&dn=from-magnet"
    r = d.call("torrent.add", magnet=mag, paused=True)
    assert r == {"id": "ab" * 20, "name": "from-magnet", "added": True}
    assert d.torrent(r["id"], "state", "has_metadata") == {"state": "stopped", "has_metadata": False}
    e = d.error_of("torrent.files", id=r["id"])
    assert e.token == "no_metadata"

    src = os.path.join(d.downloads, "p.bin")
    make_file(src, 100_000)
    tfile = os.path.join(d.downloads, "p.torrent")
    mktorrent(src, tfile, piece_kib=32)
    assert d.call("torrent.add", path=tfile)["added"] is True

    src2 = os.path.join(d.dir, "web", "u.bin")
    make_file(src2, 150_000)
    meta = mktorrent(src2, os.path.join(d.dir, "web", "u.torrent"), piece_kib=32)
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=os.path.join(d.dir, "web"))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/u.torrent"
        r = d.call("torrent.add", url=url, paused=True)
        assert r["added"] is True and r["name"] == "u.bin"
        e = d.error_of("torrent.add", url=f"http://127.0.0.1:{httpd.server_address[1]}/missing")
        # One text for every network failure (no port scanner); the details go to the log.
        assert e.token == "fetch_failed" and "404" not in e.message
        assert "HTTP 404" in d.logs()
    finally:
        httpd.shutdown()
    names = sorted(t["name"] for t in d.call("torrent.list", fields=["name"])["torrents"])
    assert names == ["from-magnet", "p.bin", "u.bin"]


def test_list_fields_labels_and_paging(d):
    ids = [seeded(d, f"f{i}.bin", 50_000 + i, labels=["a"] if i % 2 else ["b"])[0]["id"]
           for i in range(5)]
    out = d.call("torrent.list", fields=["id", "name"])["torrents"]
    assert [t["id"] for t in out] == ids                      # ordered by time added
    assert all(set(t) == {"id", "name"} for t in out)
    assert [t["id"] for t in d.call("torrent.list", label="a", fields=["id"])["torrents"]] == ids[1::2]
    page1 = d.call("torrent.list", fields=["name"], limit=2)
    assert [t["name"] for t in page1["torrents"]] == ["f0.bin", "f1.bin"] and page1["next"] == ids[1]
    page2 = d.call("torrent.list", fields=["name"], limit=2, after=page1["next"])
    assert [t["name"] for t in page2["torrents"]] == ["f2.bin", "f3.bin"]
    page3 = d.call("torrent.list", fields=["name"], limit=2, after=page2["next"])
    assert [t["name"] for t in page3["torrents"]] == ["f4.bin"] and page3["next"] is None
    full = d.call("torrent.get", id=ids[0])
    for field in ["id", "name", "state", "progress", "total_size", "download_rate", "upload_rate",
                  "ratio", "peers", "seeds", "eta", "save_path", "labels", "added_time",
                  "completed_time", "error", "resume"]:
        assert field in full, field
    assert d.call("torrent.list", ids=[ids[3]], fields=["name"])["torrents"] == [{"name": "f3.bin"}]


def test_stop_start_recheck_reannounce(d):
    r, _, _ = seeded(d)
    tid = r["id"]
    d.wait_state(tid, "seeding")
    assert d.call("torrent.stop", ids=[tid]) == {"ok": True}
    d.wait_state(tid, "stopped")
    assert d.call("torrent.start", ids=[tid]) == {"ok": True}
    d.wait_state(tid, "seeding")
    assert d.call("torrent.recheck", ids=[tid]) == {"ok": True}
    d.wait_state(tid, "seeding")
    assert d.call("torrent.reannounce", ids=[tid]) == {"ok": True}


def test_per_torrent_settings(d):
    r, _, _ = seeded(d)
    tid = r["id"]
    d.call("torrent.set", ids=[tid], upload_limit=100_000, download_limit=200_000, max_connections=7,
           sequential=True, labels=["x", "y"], ratio_limit=1.5, seed_time_limit=3600,
           limit_action="remove")
    t = d.torrent(tid, "upload_limit", "download_limit", "max_connections", "sequential", "labels",
                  "ratio_limit", "seed_time_limit", "limit_action")
    assert t == {"upload_limit": 100_000, "download_limit": 200_000, "max_connections": 7,
                 "sequential": True, "labels": ["x", "y"], "ratio_limit": 1.5,
                 "seed_time_limit": 3600, "limit_action": "remove"}


def test_seed_time_limit_stops_the_torrent(d):
    r, _, _ = seeded(d)
    tid = r["id"]
    d.wait_state(tid, "seeding")
    d.call("torrent.set", ids=[tid], seed_time_limit=0, limit_action="stop")
    d.wait_state(tid, "stopped", timeout=15)


def test_ratio_limit_remove_action_removes(d):
    r, _, path = seeded(d)
    tid = r["id"]
    d.wait_state(tid, "seeding")
    d.call("torrent.set", ids=[tid], ratio_limit=0, limit_action="remove")
    wait_until(lambda: d.call("torrent.list")["torrents"] == [], 15, what="share-limit removal")
    assert os.path.exists(path)  # remove keeps the data; remove_data would not


def test_files_and_priorities(d):
    folder = os.path.join(d.downloads, "multi")
    for i, size in enumerate([70_000, 90_000, 110_000]):
        make_file(os.path.join(folder, f"part{i}.bin"), size)
    meta = mktorrent(folder, os.path.join(d.dir, "multi.torrent"), piece_kib=32)
    tid = d.call("torrent.add", metainfo=b64(meta))["id"]
    d.wait_state(tid, "seeding")
    files = d.call("torrent.files", id=tid)["files"]
    assert [f["path"] for f in files] == [f"multi/part{i}.bin" for i in range(3)]
    assert [f["size"] for f in files] == [70_000, 90_000, 110_000]
    assert all(f["progress"] == 1.0 and f["wanted"] for f in files)
    d.call("torrent.set_files", id=tid, files=[{"index": 1, "wanted": False}, {"index": 2, "priority": 7}])
    files = d.call("torrent.files", id=tid)["files"]
    assert [f["priority"] for f in files] == [4, 0, 7]
    assert files[1]["wanted"] is False


def test_rename_a_file_and_the_folder_on_disk(d):
    folder = os.path.join(d.downloads, "album")
    for name in ("a.bin", "b.bin"):
        make_file(os.path.join(folder, "cd1", name), 50_000)
    tid = d.call("torrent.add", metainfo=b64(mktorrent(folder, os.path.join(d.dir, "album.torrent"),
                                                       piece_kib=32)))["id"]
    d.wait_state(tid, "seeding")
    assert d.call("torrent.rename", id=tid, path="album/cd1/a.bin", name="first.bin") == {
        "path": "album/cd1/first.bin"}
    assert d.call("torrent.rename", id=tid, path="album/cd1", name="disc 1") == {
        "path": "album/disc 1"}
    paths = [f["path"] for f in d.call("torrent.files", id=tid)["files"]]
    assert paths == ["album/disc 1/b.bin", "album/disc 1/first.bin"] or \
        sorted(paths) == ["album/disc 1/b.bin", "album/disc 1/first.bin"]
    wait_until(lambda: os.path.exists(os.path.join(folder, "disc 1", "first.bin")), 10,
               what="the renamed file on disk")
    assert not os.path.exists(os.path.join(folder, "cd1", "a.bin"))
    for bad in ["..", "x/y", ""]:
        e = d.error_of("torrent.rename", id=tid, path="album/disc 1", name=bad)
        assert e.code == -32602 and "one path component" in e.message, bad
    e = d.error_of("torrent.rename", id=tid, path="album/nothing", name="x")
    assert e.code == -32602 and "no file or folder" in e.message


def test_trackers(d):
    r, _, _ = seeded(d, paused=True)
    tid = r["id"]
    assert d.call("torrent.trackers", id=tid)["trackers"] == []
    # Distinct hosts: libtorrent's prefer_udp_trackers swaps an http/udp pair on the same host.
    d.call("torrent.set_trackers", id=tid, add=["http://127.0.0.1:1/announce", "udp://127.0.0.2:1"])
    ts = d.call("torrent.trackers", id=tid)["trackers"]
    assert [(t["url"], t["tier"]) for t in ts] == [("http://127.0.0.1:1/announce", 0), ("udp://127.0.0.2:1", 1)]
    d.call("torrent.set_trackers", id=tid, remove=["udp://127.0.0.2:1"])
    assert [t["url"] for t in d.call("torrent.trackers", id=tid)["trackers"]] == ["http://127.0.0.1:1/announce"]
    d.call("torrent.set_trackers", id=tid, trackers=[{"url": "http://127.0.0.1:2/a", "tier": 3}])
    assert [(t["url"], t["tier"]) for t in d.call("torrent.trackers", id=tid)["trackers"]] == [("http://127.0.0.1:2/a", 3)]
    e = d.error_of("torrent.set_trackers", id=tid, remove=["http://not-there/"])
    assert e.token == "invalid_tracker"


def test_remove_keeps_or_deletes_data(d):
    r1, _, p1 = seeded(d, "keep.bin")
    r2, _, p2 = seeded(d, "drop.bin")
    d.wait_state(r2["id"], "seeding")
    d.call("torrent.remove", ids=[r1["id"]])
    d.call("torrent.remove", ids=[r2["id"]], delete_data=True)
    assert d.call("torrent.list")["torrents"] == []
    assert os.path.exists(p1)
    wait_until(lambda: not os.path.exists(p2), 15, what="data deletion")


def test_move_storage(d):
    r, _, path = seeded(d)
    tid = r["id"]
    d.wait_state(tid, "seeding")
    target = os.path.join(d.downloads, "moved")
    assert d.call("torrent.move", id=tid, path=target) == {"ok": True}
    wait_until(lambda: os.path.realpath(d.torrent(tid, "save_path")["save_path"]) == os.path.realpath(target),
               20, what="move to finish")
    assert os.path.exists(os.path.join(target, "data.bin")) and not os.path.exists(path)
    d.wait_state(tid, "seeding")


def test_create_and_seed(d):
    folder = os.path.join(d.downloads, "made")
    make_file(os.path.join(folder, "a.bin"), 200_000)
    make_file(os.path.join(folder, "b.bin"), 300_000)
    r = d.call("torrent.create", path=folder, trackers=["http://127.0.0.1:1/announce"],
               comment="made by test", add=True, labels=["made"])
    assert r["added"] is True and r["name"] == "made"
    meta = base64.b64decode(r["metainfo"])
    assert b"made by test" in meta and b"http://127.0.0.1:1/announce" in meta
    t = d.wait_state(r["id"], "seeding")
    assert t["progress"] == 1.0
    # A torrent created by us is readable by a client we did not write.
    import libtorrent as lt
    ti = lt.torrent_info(lt.bdecode(meta))
    assert str(ti.info_hashes().v1) == r["id"] and ti.num_files() == 2
    # Without add: returns the .torrent only.
    r2 = d.call("torrent.create", path=os.path.join(folder, "a.bin"), version="hybrid", piece_size=65536)
    assert r2["added"] is False
    assert len(d.call("torrent.list")["torrents"]) == 1
    e = d.error_of("torrent.create", path=folder, piece_size=1000)
    assert e.code == -32602 and "piece_size" in e.message


def test_session_settings_apply_and_persist(tmp_path):
    d = Daemon(state_dir=str(tmp_path))
    with d:
        before = d.call("session.settings")
        assert before["dht"] is False and before["listen_port"] > 0
        after = d.call("session.set_settings", upload_rate_limit=123456, active_seeds=50,
                       encryption="forced", pex=False)
        assert after["upload_rate_limit"] == 123456 and after["encryption"] == "forced"
        assert after["pex"] is False
        stats = d.call("session.stats")
        for key in ["download_rate", "upload_rate", "torrents", "peers", "uptime", "listen_port"]:
            assert key in stats
    with Daemon(state_dir=str(tmp_path)) as d2:
        s = d2.call("session.settings")
        assert s["upload_rate_limit"] == 123456 and s["active_seeds"] == 50
        assert s["encryption"] == "forced" and s["pex"] is False


def test_discover_describes_every_method(d):
    doc = d.call("rpc.discover")
    names = {m["name"] for m in doc["methods"]}
    assert names == set(d.call("system.methods")["methods"])
    for required in ["torrent.add", "torrent.remove", "torrent.start", "torrent.stop",
                     "torrent.recheck", "torrent.reannounce", "torrent.move", "torrent.list",
                     "torrent.get", "torrent.files", "torrent.set_files", "torrent.peers",
                     "torrent.trackers", "torrent.set_trackers", "torrent.set", "torrent.create",
                     "session.stats", "session.settings", "session.set_settings",
                     "system.version", "rpc.discover", "events.subscribe"]:
        assert required in names
    add = next(m for m in doc["methods"] if m["name"] == "torrent.add")
    assert {p["name"] for p in add["params"]} >= {"metainfo", "magnet", "url", "path", "save_path",
                                                  "paused", "labels"}
    assert all(m["summary"] for m in doc["methods"])


def test_readme_documents_every_method(d):
    import re
    readme = open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")).read()
    missing = [m for m in d.call("system.methods")["methods"]
               if not re.search(r'\\?"method\\?":\\?"' + re.escape(m) + r'\\?"', readme)]
    assert missing == [], f"README lacks a curl example for {missing}"


def test_listen_port_can_be_changed_live(d):
    from harness import free_port
    port = free_port()
    assert d.call("session.set_settings", listen_port=port)["listen_interfaces"].endswith(f":{port}")
    wait_until(lambda: d.call("session.stats")["listen_port"] == port, 10, what="the new listen port")


def test_queue_moves_keep_the_order_of_several_torrents(d):
    ids = [d.call("torrent.add", magnet=f"magnet:?xt=urn:btih:{i:040x}", paused=True)["id"]
           for i in (1, 2, 3)]

    def order():
        pos = {t: d.torrent(t, "queue_position")["queue_position"] for t in ids}
        return sorted(ids, key=pos.get)
    wait_until(lambda: order() == ids, 20, what="the queue in the order added")
    d.call("torrent.queue_move", ids=[ids[1], ids[2]], to="top")
    wait_until(lambda: order() == [ids[1], ids[2], ids[0]], 20, what=f"two on top, in order ({order()})")
    d.call("torrent.queue_move", ids=[ids[1], ids[2]], to="bottom")
    wait_until(lambda: order() == ids, 20, what=f"two at the bottom, in order ({order()})")
    d.call("torrent.queue_move", ids=[ids[0], ids[1]], to="down")
    wait_until(lambda: order() == [ids[2], ids[0], ids[1]], 20, what=f"two down ({order()})")
