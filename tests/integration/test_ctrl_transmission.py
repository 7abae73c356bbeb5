"""Transmission's RPC at /transmission/rpc driven by the real TypeScript client @ctrl/transmission
7.4.0 (npm; tests/web/ctrl_transmission.mjs runs it under node), a library Node apps use to
talk to Transmission. Its requests are its own (the legacy {method, arguments} form, Basic auth,
the session-id retry on 409), not ones we wrote: what it sends is what such apps send.

Covered the way apps use it: getSession and session-stats, addTorrent from a .torrent buffer
(data already in the downloads folder, so it checks and seeds), a duplicate add, listTorrents,
getAllData and getTorrent's normalized view (state as the library maps Transmission's status
codes, progress, isCompleted, label, savePath, totalSize), pauseTorrent/resumeTorrent,
verifyTorrent (finding a corrupted piece, then the repaired one), setTorrent (labels, limits,
ratio, peer limit), the queue moves, moveTorrent, removeTorrent with its data, a wrong password,
and normalizedAddTorrent with a magnet and a label. Every step is checked against seedboxd's own
API (/rpc) and the files on disk.

The library does not look at Transmission's "result" string; the script treats one that is not
"success" as the error it is. Needs node and tests/web/node_modules (npm ci in tests/web;
scripts/install-deps --test): without them the tests are skipped, unless CI is set: then they
fail."""
import json
import os
import shutil
import subprocess

from harness import Daemon, make_file, mktorrent, require_tools, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.normpath(os.path.join(HERE, "..", "web"))
SCRIPT = os.path.join(TOOLS, "ctrl_transmission.mjs")
NODE = shutil.which("node")
SIZE = 1 << 20  # 16 pieces of 64 KiB (mktorrent's default here)


def require_node():
    """Skips (or, with CI set, fails) unless node and the library are installed."""
    missing = []
    if not NODE:
        missing.append("node (apt: nodejs)")
    if not os.path.isdir(os.path.join(TOOLS, "node_modules", "@ctrl", "transmission")):
        missing.append("tests/web/node_modules (npm ci in tests/web)")
    require_tools(missing)


def step(call, *args, until=None):
    """One library call for the script; `until` repeats it until its answer has these values."""
    return {"call": call, "args": list(args), **({"until": until} if until else {})}


def lib(d, *steps, password=None, expect_ok=True):
    """Runs the steps through @ctrl/transmission in one node process; returns its report."""
    job = {"url": f"http://{d.addr}", "user": "ctrl", "timeout_ms": 60000,
           "password": d.token if password is None else password, "steps": list(steps)}
    r = subprocess.run([NODE, SCRIPT], input=json.dumps(job), capture_output=True, text=True,
                       timeout=120, cwd=TOOLS)
    lines = r.stdout.strip().splitlines()
    assert lines, f"ctrl_transmission.mjs printed nothing (exit {r.returncode}):\n{r.stderr}"
    report = json.loads(lines[-1])
    if expect_ok:
        assert r.returncode == 0 and report["ok"], (
            f"the library failed at step {report.get('step')} ({report.get('call')}): "
            f"{report.get('error')}\nrequest: {report.get('request')}\n"
            f"answer: {report.get('status')} {report.get('answer')}\ndaemon log:\n{d.logs()}")
    else:
        assert r.returncode == 1 and not report["ok"], report
    return report


def seeded(d, tmp_path, name):
    """A file of SIZE random bytes in the downloads folder and its .torrent's path."""
    data = os.path.join(d.downloads, name)
    make_file(data, SIZE)
    torrent = str(tmp_path / (name + ".torrent"))
    mktorrent(data, torrent)
    return data, torrent


def add(d, torrent):
    """addTorrent from the file's bytes (a Buffer) into the daemon's downloads folder. The
    library's own default download-dir is "/downloads" (a Docker image's); apps pass theirs."""
    got = lib(d, step("addTorrent", {"$file": torrent}, {"download-dir": d.downloads}))
    return got["results"][0]["arguments"]["torrent-added"]["hashString"]


def test_session_add_list_and_the_normalized_view(tmp_path):
    require_node()
    with Daemon() as d:
        _, torrent = seeded(d, tmp_path, "ctrl-seed.bin")
        report = lib(d, step("getSession"), step("request", "session-stats"),
                     step("addTorrent", {"$file": torrent}, {"download-dir": d.downloads}),
                     step("addTorrent", {"$file": torrent}, {"download-dir": d.downloads}))
        # The library's handshake: its first request gets the 409 and the session id.
        assert report["exchanges"][:2] == [["session-get", 409], ["session-get", 200]]
        session, stats, added, again = report["results"]
        assert session["arguments"]["download-dir"] == d.downloads
        assert type(session["arguments"]["rpc-version"]) is int
        assert "seedboxd" in session["arguments"]["version"]
        assert stats["arguments"]["torrentCount"] == 0
        h = added["arguments"]["torrent-added"]["hashString"]
        assert added["arguments"]["torrent-added"]["name"] == "ctrl-seed.bin"
        assert again["arguments"]["torrent-duplicate"]["hashString"] == h
        assert [t["id"] for t in d.call("torrent.list", fields=["id"])["torrents"]] == [h]

        report = lib(d, step("getTorrent", h, until={"state": "seeding"}),
                     step("listTorrents"), step("getAllData"),
                     step("setTorrent", h, {"labels": ["tv", "hd"]}),
                     step("getAllData"), step("request", "session-stats"))
        t, listed, before, _, after, stats = report["results"]
        assert t["id"] == h and t["name"] == "ctrl-seed.bin"
        assert t["progress"] == 1 and t["isCompleted"] is True and t["raw"]["status"] == 6
        assert t["totalSize"] == SIZE and t["totalSelected"] == SIZE
        assert t["savePath"] == d.downloads and "label" not in t
        assert [x["hashString"] for x in listed["arguments"]["torrents"]] == [h]
        assert [x["id"] for x in before["torrents"]] == [h] and before["labels"] == []
        assert after["torrents"][0]["label"] == "tv"
        assert after["labels"] == [{"id": "tv", "name": "tv", "count": 1}]
        assert stats["arguments"]["torrentCount"] == 1
        mine = d.torrent(h, "state", "progress", "labels", "save_path", "total_size")
        assert mine == {"state": "seeding", "progress": 1, "labels": ["tv", "hd"],
                        "save_path": d.downloads, "total_size": SIZE}, mine

        # A wrong password: the library throws on the 401, as it would against Transmission.
        bad = lib(d, step("getSession"), password="wrong", expect_ok=False)
        assert bad["status"] == 401 and "401" in bad["error"], bad


def test_pause_resume_verify_and_limits(tmp_path):
    require_node()
    with Daemon() as d:
        data, torrent = seeded(d, tmp_path, "ctrl-life.bin")
        h = add(d, torrent)
        report = lib(d, step("getTorrent", h, until={"state": "seeding"}),
                     step("pauseTorrent", h), step("getTorrent", h, until={"state": "paused"}))
        assert report["results"][2]["raw"]["status"] == 0
        assert d.torrent(h, "state", "paused") == {"state": "stopped", "paused": True}
        lib(d, step("resumeTorrent", h), step("getTorrent", h, until={"state": "seeding"}))
        assert d.torrent(h, "state", "paused") == {"state": "seeding", "paused": False}

        # verifyTorrent really checks: one piece made wrong on disk is found, then repaired.
        with open(data, "r+b") as f:
            good = f.read(1000)
            f.seek(0)
            f.write(bytes(1000))
        t = lib(d, step("verifyTorrent", h),
                step("getTorrent", h, until={"state": "downloading"}))["results"][1]
        assert t["progress"] == 15 / 16 and t["isCompleted"] is False, t
        assert d.torrent(h, "pieces_have")["pieces_have"] == 15
        with open(data, "r+b") as f:
            f.write(good)
        t = lib(d, step("verifyTorrent", h),
                step("getTorrent", h, until={"state": "seeding"}))["results"][1]
        assert t["progress"] == 1 and t["isCompleted"] is True, t

        limits = {"uploadLimit": 300, "uploadLimited": True, "downloadLimit": 200,
                  "downloadLimited": True, "seedRatioMode": 1, "seedRatioLimit": 2.5,
                  "peer-limit": 40, "labels": ["movies"]}
        report = lib(d, step("setTorrent", h, limits),
                     step("listTorrents", h, ["uploadLimit", "uploadLimited"]),
                     step("getTorrent", h))
        raw = report["results"][1]["arguments"]["torrents"][0]
        assert report["results"][2]["label"] == "movies"
        assert (raw["uploadLimit"], raw["uploadLimited"]) == (300, True), raw
        assert (raw["downloadLimit"], raw["downloadLimited"]) == (200, True), raw
        assert (raw["seedRatioLimit"], raw["seedRatioMode"]) == (2.5, 1), raw
        mine = d.torrent(h, "upload_limit", "download_limit", "ratio_limit", "max_connections",
                   "labels")
        assert mine == {"upload_limit": 300000, "download_limit": 200000, "ratio_limit": 2.5,
                        "max_connections": 40, "labels": ["movies"]}, mine
        # The library asks for "peer-limit" and "maxConnectedPeers" in every listTorrents:
        # both are the torrent's peer limit, as torrent-set's peer-limit set it above.
        peer_limit = {k: raw.get(k) for k in ("peer-limit", "maxConnectedPeers")}
        assert peer_limit == {"peer-limit": 40, "maxConnectedPeers": 40}, peer_limit


def test_move_and_remove_with_data(tmp_path):
    require_node()
    with Daemon() as d:
        data, torrent = seeded(d, tmp_path, "ctrl-move.bin")
        h = add(d, torrent)
        there = os.path.join(d.downloads, "moved")
        t = lib(d, step("getTorrent", h, until={"state": "seeding"}),
                step("moveTorrent", h, there),
                step("getTorrent", h, until={"savePath": there, "state": "seeding"}))
        t = t["results"][2]
        assert t["progress"] == 1 and t["totalSize"] == SIZE
        assert d.torrent(h, "save_path")["save_path"] == there
        moved = os.path.join(there, "ctrl-move.bin")
        assert os.path.getsize(moved) == SIZE and not os.path.exists(data)

        report = lib(d, step("removeTorrent", h, True), step("listTorrents"))
        assert report["results"][1]["arguments"]["torrents"] == []
        assert d.call("torrent.list", fields=["id"])["torrents"] == []
        wait_until(lambda: not os.path.exists(moved), 30, what="the data to be deleted")


def queue_order(d):
    listed = d.call("torrent.list", fields=["id", "queue_position"])["torrents"]
    return [t["id"] for t in sorted(listed, key=lambda t: t["queue_position"])
            if t["queue_position"] >= 0]


def test_queue_moves(tmp_path):
    require_node()
    with Daemon() as d:
        _, torrent = seeded(d, tmp_path, "ctrl-queue.bin")
        seed = add(d, torrent)
        # Three magnets nobody serves: they stay in the download queue, in the order added.
        m0, m1, m2 = (f"{i:x}" * 40 for i in (10, 11, 12))
        lib(d, *(step("addMagnet", f"magnet:?xt=urn:btih:{m}&dn=q{i}",
                      {"download-dir": d.downloads}) for i, m in enumerate((m0, m1, m2))))
        wait_until(lambda: queue_order(d) == [m0, m1, m2], 30, what="the queue m0 m1 m2")
        for call, target, order in (("queueTop", m2, [m2, m0, m1]),
                                    ("queueBottom", m2, [m0, m1, m2]),
                                    ("queueDown", m0, [m1, m0, m2]),
                                    ("queueUp", m2, [m1, m2, m0])):
            # The library's normalized queuePosition shows the move (it waits for each)...
            lib(d, step(call, target), *(step("getTorrent", h, until={"queuePosition": i})
                                         for i, h in enumerate(order)))
            # ... and so does seedboxd's own queue.
            assert queue_order(d) == order, (call, queue_order(d))
        everything = lib(d, step("getAllData"))["results"][0]["torrents"]
        positions = {t["id"]: t["queuePosition"] for t in everything}
        assert [positions[h] for h in (m1, m2, m0)] == [0, 1, 2], positions
        # Transmission numbers every torrent's queue place 0..n-1, seeding ones too, and apps
        # sort by it. libtorrent queues only unfinished torrents; seedboxd numbers the others
        # after them, in the order of their ids.
        assert positions[seed] == 3, positions


def test_normalized_add_torrent_with_a_magnet_and_a_label(tmp_path):
    """normalizedAddTorrent takes no download dir: the library sends its own default,
    "download-dir": "/downloads", which lies outside torrent.allowed_roots. seedboxd refuses it
    (it never writes outside the roots; Transmission would create the folder), the library
    ignores the result and then finds no torrent. The refusal must say why, in the answer and
    in the log. With a download dir inside the roots, the same magnet and label work."""
    require_node()
    with Daemon() as d:
        h = "c7" * 20
        magnet = f"magnet:?xt=urn:btih:{h}&dn=ctrl-magnet"
        report = lib(d, step("normalizedAddTorrent", magnet, {"label": "tv"}), expect_ok=False)
        assert '"/downloads"' in report["request"] and "outside the allowed roots" in \
            report["answer"] and "torrent.allowed_roots" in report["answer"], report
        assert d.call("torrent.list", fields=["id"])["torrents"] == []
        assert "transmission torrent-add: refused: save_path" in d.logs()

        report = lib(d, step("addMagnet", magnet, {"download-dir": d.downloads,
                                                   "labels": ["tv"]}),
                     step("getTorrent", h), step("getAllData"))
        _, t, everything = report["results"]
        assert t["id"] == h and t["name"] == "ctrl-magnet" and t["label"] == "tv", t
        assert t["state"] in ("downloading", "queued") and t["progress"] == 0, t
        assert everything["labels"] == [{"id": "tv", "name": "tv", "count": 1}]
        mine = d.torrent(h, "labels", "save_path", "has_metadata")
        assert mine["labels"] == ["tv"] and mine["has_metadata"] is False, mine
        assert mine["save_path"] == t["savePath"] == d.downloads, (mine, t)
