"""Transmission's RPC at /transmission/rpc, driven the way its clients drive it: the HTTP Basic
challenge and the X-Transmission-Session-Id handshake on raw requests, then Debian's real
`transmission-remote` (transmission-cli 3.00) listing, adding by file and by magnet, stopping,
starting, verifying, limiting, labelling, moving and removing with data, with its printed output
checked against what seedboxd's own API says."""
import base64
import http.server
import json
import os
import threading
import re
import subprocess
import urllib.request

import pytest

from harness import Daemon, b64, make_file, mktorrent, wait_until

REMOTE = "/usr/bin/transmission-remote"
pytestmark = pytest.mark.skipif(not os.path.exists(REMOTE),
                                reason="transmission-cli is installed by scripts/install-deps")


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def raw(d, method="POST", body=None, headers=None, path="/transmission/rpc"):
    """One HTTP request; returns (status, headers, body text)."""
    req = urllib.request.Request(f"http://{d.addr}{path}", method=method,
                                 data=None if body is None else body.encode(),
                                 headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def session_id(d, user="any"):
    status, headers, _ = raw(d, "GET", headers={"Authorization": basic(user, d.token)})
    assert status == 409, status
    sid = headers["X-Transmission-Session-Id"]
    assert re.fullmatch(r"[0-9A-Za-z]{48}", sid), sid
    return sid


def trpc(d, method, expect="success", **arguments):
    """A Transmission request with the handshake done; returns the parsed response, whose
    result must be `expect`."""
    headers = {"Authorization": basic("any", d.token),
               "X-Transmission-Session-Id": session_id(d)}
    status, _, body = raw(d, body=json.dumps({"method": method, "arguments": arguments,
                                              "tag": 7}), headers=headers)
    assert status == 200, (status, body)
    answer = json.loads(body)
    assert answer["tag"] == 7 and "arguments" in answer, answer
    assert expect is None or answer["result"] == expect, answer  # None: any result
    return answer


def remote(d, *args, user="any", check=True):
    """transmission-remote against the daemon; returns its stdout."""
    r = subprocess.run([REMOTE, d.addr, "-n", f"{user}:{d.token}", *args],
                       capture_output=True, text=True, timeout=60)
    if check:
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.stdout + r.stderr


def test_the_http_gate_challenges_then_asks_for_the_session_id(tmp_path):
    with Daemon(args=["--set", "rpc.auth_failures=5"]) as d:
        # No credentials: the first half of Basic auth, never a failed login (many in a row).
        for _ in range(8):
            status, headers, _ = raw(d, "GET")
            assert status == 401
            assert headers["WWW-Authenticate"] == 'Basic realm="Transmission"'
        # Right credentials, no session id: 409 with the id, for GET (Sonarr, Flood) and POST.
        sid = session_id(d)
        status, headers, _ = raw(d, body="{}", headers={"Authorization": basic("u", d.token)})
        assert status == 409 and headers["X-Transmission-Session-Id"] == sid
        assert headers["X-Transmission-Rpc-Version"] == "6.0.1"  # 4.1 clients: JSON-RPC form
        # The id is the daemon's, not the connection's: the same on every request.
        assert session_id(d) == sid
        # With the id: only POST runs.
        ok = {"Authorization": basic("u", d.token), "X-Transmission-Session-Id": sid}
        assert raw(d, "GET", headers=ok)[0] == 405
        status, _, body = raw(d, body='{"method":"session-get","tag":3}', headers=ok)
        answer = json.loads(body)
        assert status == 200 and answer["result"] == "success" and answer["tag"] == 3
        assert answer["arguments"]["rpc-version"] == 19
        assert answer["arguments"]["version"].startswith("4.1.3 (seedboxd ")
        # Errors are Transmission's: a result string.
        status, _, body = raw(d, body='{"method":"torrent-fly"}', headers=ok)
        assert json.loads(body) == {"result": "method name not recognized", "arguments": {}}
        status, _, body = raw(d, body="not json", headers=ok)
        assert json.loads(body)["result"] == "no method name"
        # A wrong password is a failed login, held by the same brake as /rpc's.
        wrong = {"Authorization": basic("u", "not-the-token")}
        statuses = [raw(d, "GET", headers=wrong)[0] for _ in range(8)]
        assert statuses[0] == 401 and 429 in statuses, statuses


def test_a_configured_user_name_is_required(tmp_path):
    with Daemon(args=["--set", "transmission.user=sonarr"]) as d:
        assert raw(d, "GET", headers={"Authorization": basic("other", d.token)})[0] == 401
        assert raw(d, "GET", headers={"Authorization": basic("sonarr", d.token)})[0] == 409


def test_transmission_off_is_not_found(tmp_path):
    with Daemon(args=["--set", "transmission.enabled=false"]) as d:
        assert raw(d, "GET", headers={"Authorization": basic("u", d.token)})[0] == 404


def row_of(listing, name):
    return next((line for line in listing.splitlines() if line.rstrip().endswith(name)), None)


def test_transmission_remote_drives_the_daemon(tmp_path):
    with Daemon() as d:
        out = remote(d, "-l")
        assert re.search(r"ID\s+Done\s+Have\s+ETA\s+Up\s+Down\s+Ratio\s+Status\s+Name", out)
        assert "Sum:" in out

        # Add by file: the data is already in the downloads folder, so it checks and seeds.
        data = os.path.join(d.downloads, "tr-file.bin")
        make_file(data, 3 << 20)
        meta = mktorrent(data, str(tmp_path / "tr-file.torrent"))
        assert "success" in remote(d, "-a", str(tmp_path / "tr-file.torrent"))
        [t] = d.call("torrent.list", fields=["id", "name"])["torrents"]
        d.wait_state(t["id"], "seeding")
        row = row_of(remote(d, "-l"), "tr-file.bin")
        assert row is not None and re.match(r"\s*1\s+100%\s+3\.15 MB\s+Done\s", row), row
        assert "Idle" in row  # seeding with no peer, as Transmission says it

        # Stop, start, verify: seedboxd's own API sees each.
        remote(d, "-t", "1", "-S")
        d.wait_state(t["id"], "stopped")
        assert "Stopped" in row_of(remote(d, "-l"), "tr-file.bin")
        remote(d, "-t", "1", "-s")
        d.wait_state(t["id"], "seeding")
        remote(d, "-t", "1", "-v")
        d.wait_state(t["id"], "seeding")

        # Limits (kB/s, K = 1000) and labels.
        remote(d, "-t", "1", "-u", "50", "-d", "100", "-L", "tv,hd")
        got = d.torrent(t["id"], "upload_limit", "download_limit", "labels")
        assert got == {"upload_limit": 50000, "download_limit": 100000, "labels": ["tv", "hd"]}
        info = remote(d, "-t", "1", "-i")
        assert "Labels: tv, hd" in info and "Upload Limit: 50 kB/s" in info, info
        assert f"Hash: {t['id']}" in info

        # Session info and stats.
        si = remote(d, "-si")
        assert "4.1.3 (seedboxd" in si and "RPC version: 19" in si, si
        st = remote(d, "-st")
        assert "CURRENT SESSION" in st and "TOTAL" in st, st

        # Move inside the allowed roots.
        moved = os.path.join(d.downloads, "moved")
        os.makedirs(moved)
        remote(d, "-t", "1", "--move", moved)
        wait_until(lambda: d.torrent(t["id"], "save_path")["save_path"] == moved, 30,
                   what="the move")
        assert os.path.exists(os.path.join(moved, "tr-file.bin"))

        # A magnet: listed at once under the next id, waiting for its metadata.
        magnet = "magnet:?xt=urn:btih:" + "ab" * 20 + "&dn=tr-magnet"
        assert "success" in remote(d, "-a", magnet)
        assert row_of(remote(d, "-l"), "tr-magnet") is not None
        assert d.torrent("ab" * 20, "id")["id"] == "ab" * 20

        # Remove with data: the file goes; the magnet stays with its id 2.
        remote(d, "-t", "1", "--remove-and-delete")
        wait_until(lambda: not os.path.exists(os.path.join(moved, "tr-file.bin")), 30,
                   what="the data to be deleted")
        assert [x["id"] for x in d.call("torrent.list", fields=["id"])["torrents"]] == ["ab" * 20]
        listing = trpc(d, "torrent-get", fields=["id", "hashString"])
        assert listing["arguments"]["torrents"] == [{"id": 2, "hashString": "ab" * 20}]


def test_ids_survive_a_restart_and_are_never_reused(tmp_path):
    d = Daemon()
    d.start()
    try:
        for i in range(1, 4):
            trpc(d, "torrent-add", filename=f"magnet:?xt=urn:btih:{i:040x}")
        trpc(d, "torrent-remove", ids=[3])
        # The web client drops what "recently-active" lists as removed.
        recent = trpc(d, "torrent-get", ids="recently-active", fields=["id"])["arguments"]
        assert recent["removed"] == [3] and sorted(t["id"] for t in recent["torrents"]) == [1, 2]
        added = trpc(d, "torrent-add", filename="magnet:?xt=urn:btih:" + "c" * 40)
        assert added["arguments"]["torrent-added"]["id"] == 4
        again = trpc(d, "torrent-add", filename="magnet:?xt=urn:btih:" + "c" * 40)
        assert again["arguments"]["torrent-duplicate"]["id"] == 4
        # Queue moves: torrent 1 to the bottom of the download queue, then back to the top.
        hashes = [f"{1:040x}", f"{2:040x}", "c" * 40]

        def queue():
            return {h: d.torrent(h, "queue_position")["queue_position"] for h in hashes}
        assert trpc(d, "queue-move-bottom", ids=[1])["result"] == "success"
        wait_until(lambda: queue()[hashes[0]] == max(queue().values()) >= 1, 30,
                   what=f"torrent 1 at the bottom of the queue ({queue()})")
        assert trpc(d, "queue-move-top", ids=f"{1:040x}")["result"] == "success"
        wait_until(lambda: queue()[hashes[0]] == 0, 30, what=f"torrent 1 on top ({queue()})")
        d.stop()
        d.start()
        got = trpc(d, "torrent-get", fields=["id", "hashString"])["arguments"]["torrents"]
        assert sorted((t["id"], t["hashString"]) for t in got) == [
            (1, f"{1:040x}"), (2, f"{2:040x}"), (4, "c" * 40)]
        # By number, by hash in upper case, and a missing id (skipped, as Transmission does),
        # in the order asked for.
        picked = trpc(d, "torrent-get", ids=["C" * 40, 2, 99], fields=["id"])
        assert picked["arguments"]["torrents"] == [{"id": 4}, {"id": 2}]
    finally:
        d.stop()


def test_rename_path_renames_on_disk_and_answers_like_transmission(tmp_path):
    with Daemon() as d:
        folder = os.path.join(d.downloads, "show")
        make_file(os.path.join(folder, "e01.mkv"), 40_000)
        make_file(os.path.join(folder, "e02.mkv"), 40_000)
        meta = mktorrent(folder, str(tmp_path / "show.torrent"), piece_kib=32)
        added = trpc(d, "torrent-add", metainfo=b64(meta))["arguments"]["torrent-added"]
        wait_until(lambda: trpc(d, "torrent-get", ids=[added["id"]], fields=["status"])
                   ["arguments"]["torrents"][0]["status"] == 6, 30, what="seeding")
        got = trpc(d, "torrent-rename-path", ids=[added["id"]], path="show/e01.mkv",
                   name="Episode 1.mkv")["arguments"]
        assert got == {"path": "show/e01.mkv", "name": "Episode 1.mkv", "id": added["id"]}
        names = trpc(d, "torrent-get", ids=[added["id"]], fields=["files"])["arguments"]
        assert sorted(f["name"] for f in names["torrents"][0]["files"]) == [
            "show/Episode 1.mkv", "show/e02.mkv"]
        assert os.path.exists(os.path.join(folder, "Episode 1.mkv"))
        assert trpc(d, "group-get")["arguments"] == {"group": []}
        refused = trpc(d, "group-set", expect=None, name="slow", **{"speed-limit-up": 10})
        assert refused["result"].startswith("bandwidth groups are not supported"), refused
        trpc(d, "torrent-add", filename="magnet:?xt=urn:btih:" + "d" * 40, paused=True)
        trpc(d, "torrent-rename-path", expect="torrent-rename-path requires 1 torrent",
             path="show", name="x")  # no ids: all torrents, and there are two


def test_json_rpc_form_and_adding_by_path_url_with_unwanted_files(tmp_path):
    server_dir = tmp_path / "www"
    with Daemon(args=["--set", "torrent.url_allow_private=true"]) as d:
        folder = os.path.join(d.downloads, "pack")
        for name in ("a.bin", "b.bin"):
            make_file(os.path.join(folder, name), 30_000)
        tfile = os.path.join(d.downloads, "pack.torrent")
        meta = mktorrent(folder, tfile, piece_kib=32)
        ok = {"Authorization": basic("u", d.token), "X-Transmission-Session-Id": session_id(d)}
        # A path on the server, with its second file unwanted, in the JSON-RPC form.
        status, _, body = raw(d, headers=ok, body=json.dumps({
            "jsonrpc": "2.0", "id": 5, "method": "torrent_add",
            "params": {"filename": tfile, "files_unwanted": [1], "paused": True}}))
        answer = json.loads(body)
        assert status == 200 and answer["id"] == 5, answer
        added = answer["result"]["torrent_added"]
        status, _, body = raw(d, headers=ok, body=json.dumps({
            "jsonrpc": "2.0", "id": 6, "method": "torrent_get",
            "params": {"ids": [added["id"]], "fields": ["hash_string", "wanted"]}}))
        got = json.loads(body)["result"]["torrents"][0]
        assert got == {"hash_string": added["hash_string"], "wanted": [True, False]}
        # A notification gets no answer: 204.
        status, _, body = raw(d, headers=ok, body=json.dumps(
            {"jsonrpc": "2.0", "method": "session_stats"}))
        assert status == 204 and body == ""
        # A URL: fetched off the RPC workers, then the same as metainfo.
        trpc(d, "torrent-remove", ids=[added["id"]])
        server_dir.mkdir()
        (server_dir / "pack.torrent").write_bytes(meta)
        handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(  # noqa: E731
            *a, directory=str(server_dir), **k)
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{httpd.server_address[1]}/pack.torrent"
            again = trpc(d, "torrent-add", filename=url, paused=True)["arguments"]
            assert again["torrent-added"]["hashString"] == added["hash_string"]
        finally:
            httpd.shutdown()
        # A path outside the allowed roots is refused by name.
        outside = trpc(d, "torrent-add", expect=None, filename="/etc/hostname")
        assert "/etc/hostname" in outside["result"], outside
