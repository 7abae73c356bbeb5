"""Transmission's RPC as real clients drive it, with transmission.password (kept only as its
scrypt hash): Sonarr's download-client requests replayed in the order and shape its
TransmissionProxy sends them (Sonarr/Sonarr src/NzbDrone.Core/Download/Clients/Transmission/, v4
with labels for Transmission 4.x), and transmission-remote signing in with the password."""
import http.client
import json
import os
import re
import subprocess
import time

from harness import BIN, Daemon, b64, make_file, mktorrent, require_tools, wait_until
from test_transmission import REMOTE, basic, raw

PASSWORD = "correct horse battery staple"
# Sonarr v4's TransmissionProxy.GetTorrentStatus field list.
SONARR_FIELDS = ["id", "hashString", "name", "downloadDir", "totalSize", "leftUntilDone",
                 "isFinished", "eta", "status", "secondsDownloading", "secondsSeeding",
                 "errorString", "uploadedEver", "downloadedEver", "seedRatioLimit", "seedRatioMode",
                 "seedIdleLimit", "seedIdleMode", "fileCount", "file-count", "labels"]
# Sonarr's version check (Transmission.ValidateVersion): the first dotted number that is not in
# parentheses; labels are used from 4.0 on (SupportsLabels). Sonarr's .NET pattern,
# (?<!\(|(\d|\.)+)(\d|\.)+(?!\)|(\d|\.)+), with its look-behind in the fixed width Python needs.
SONARR_VERSION = re.compile(r"(?<![(\d.])[\d.]+(?![)\d.])")


def hash_password(password):
    r = subprocess.run([os.path.abspath(BIN), "--hash-password"], input=password + "\n",
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


class Sonarr:
    """The requests Sonarr's TransmissionProxy makes: a bare GET for the session id
    (AuthenticateClient), then POSTs of {"method", "arguments"} with that id, fetching a new id
    once on 409."""

    def __init__(self, d, user="sonarr", password=PASSWORD):
        self.d = d
        self.auth = basic(user, password)
        self.sid = None

    def authenticate(self):
        status, headers, _ = raw(self.d, "GET", headers={"Authorization": self.auth,
                                                         "Accept": "application/json"})
        assert status == 409, status  # anything else is "Failed to authenticate"
        self.sid = headers["X-Transmission-Session-Id"]

    def request(self, method, arguments=None):
        if self.sid is None:
            self.authenticate()
        data = {"method": method}
        if arguments is not None:
            data["arguments"] = arguments
        headers = {"Authorization": self.auth, "Accept": "application/json",
                   "Content-Type": "application/json", "X-Transmission-Session-Id": self.sid}
        status, _, body = raw(self.d, body=json.dumps(data), headers=headers)
        if status == 409:
            self.authenticate()
            headers["X-Transmission-Session-Id"] = self.sid
            status, _, body = raw(self.d, body=json.dumps(data), headers=headers)
        assert status == 200, (method, status, body)
        answer = json.loads(body)
        assert answer["result"] == "success", (method, answer)
        return answer["arguments"]


def check_sonarr_types(t):
    """What Sonarr's TransmissionTorrent deserializes, with Transmission's types."""
    ints = ["id", "totalSize", "leftUntilDone", "eta", "status", "secondsDownloading",
            "secondsSeeding", "uploadedEver", "downloadedEver", "seedRatioMode", "seedIdleLimit",
            "seedIdleMode", "file-count"]
    for k in ints:
        assert type(t[k]) is int, (k, t[k])
    assert re.fullmatch(r"[0-9a-f]{40}", t["hashString"]), t["hashString"]
    assert type(t["isFinished"]) is bool and type(t["errorString"]) is str
    assert isinstance(t["seedRatioLimit"], (int, float)) and isinstance(t["labels"], list)
    assert 0 <= t["status"] <= 6 and (t["eta"] >= 0 or t["eta"] in (-1, -2))
    assert "fileCount" not in t  # no Transmission field of that name


def test_sonarr_download_client_sequence(tmp_path):
    hashed = hash_password(PASSWORD)
    with Daemon(args=["--set", "transmission.user=sonarr",
                      "--set", f"transmission.password={hashed}"]) as d:
        sonarr = Sonarr(d)
        # "Test" in Sonarr's settings: the version, then the torrent list.
        config = sonarr.request("session-get")
        version = SONARR_VERSION.search(config["version"]).group(0)
        assert tuple(int(x) for x in version.split(".")[:2]) >= (4, 0), config["version"]
        assert type(config["rpc-version"]) is int and config["download-dir"] == d.downloads
        assert type(config["seedRatioLimited"]) is bool
        assert type(config["idle-seeding-limit-enabled"]) is bool
        assert sonarr.request("torrent-get", {"fields": SONARR_FIELDS}) == {"torrents": []}

        # A grab from a .torrent (AddFromTorrentFile), then its seeding goals and queue place.
        data = os.path.join(d.downloads, "Show.S01E01.mkv")
        make_file(data, 2 << 20)
        meta = mktorrent(data, str(tmp_path / "episode.torrent"))
        added = sonarr.request("torrent-add", {"metainfo": b64(meta), "paused": False,
                                               "labels": ["tv-sonarr"]})
        info_hash = added["torrent-added"]["hashString"]
        assert [x["id"] for x in d.call("torrent.list", fields=["id"])["torrents"]] == [info_hash]
        sonarr.request("torrent-set", {"ids": [info_hash], "seedRatioLimit": 1.5,
                                       "seedRatioMode": 1, "seedIdleLimit": 1440,
                                       "seedIdleMode": 1})
        sonarr.request("queue-move-top", {"ids": [info_hash]})
        # A grab from a magnet (AddFromMagnetLink): listed at once, size 0 until its metadata.
        magnet_hash = "cd" * 20
        sonarr.request("torrent-add", {"filename": f"magnet:?xt=urn:btih:{magnet_hash}&dn=m",
                                       "paused": False, "labels": ["tv-sonarr"]})

        # The poll Sonarr makes every minute: the episode reaches what Sonarr calls Completed.
        def episode():
            got = sonarr.request("torrent-get", {"fields": SONARR_FIELDS})["torrents"]
            return next(t for t in got if t["hashString"] == info_hash), got

        def completed():
            t, _ = episode()
            return t if t["leftUntilDone"] == 0 and t["status"] in (0, 5, 6) else None
        t = wait_until(completed, 60, what="the episode to seed")
        _, everything = episode()
        for each in everything:
            check_sonarr_types(each)
        assert {x["hashString"] for x in everything} == {info_hash, magnet_hash}
        assert t["name"] == "Show.S01E01.mkv" and t["downloadDir"] == d.downloads
        assert t["totalSize"] == 2 << 20 and t["file-count"] == 1
        assert (t["seedRatioLimit"], t["seedRatioMode"]) == (1.5, 1)
        assert (t["seedIdleLimit"], t["seedIdleMode"]) == (1440, 1)
        assert t["labels"] == ["tv-sonarr"] and t["errorString"] == ""
        assert t["isFinished"] is False  # no limit reached yet: Sonarr must not remove it
        # Sonarr's download id is the hash in upper case; it asks with it in lower case, and
        # Transmission accepts either.
        by_upper = sonarr.request("torrent-get", {"ids": [info_hash.upper()],
                                                  "fields": ["hashString"]})["torrents"]
        assert by_upper == [{"hashString": info_hash}]

        # Sonarr keeps its session id for as long as it runs: a stale one gets a 409, a new id,
        # and the request again.
        sonarr.sid = "x" * 48
        assert sonarr.request("session-stats")["torrentCount"] == 2

        # Removal after import, with the data.
        sonarr.request("torrent-remove", {"ids": [info_hash], "delete-local-data": True})
        wait_until(lambda: not os.path.exists(data), 30, what="the episode's data to go")
        left = sonarr.request("torrent-get", {"fields": SONARR_FIELDS})["torrents"]
        assert [x["hashString"] for x in left] == [magnet_hash]


def test_a_password_kept_only_as_its_hash(tmp_path):
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$scrypt$ln=15,r=8,p=1$") and PASSWORD not in hashed
    assert hash_password(PASSWORD) != hashed  # salted
    # The password itself is refused as a value, with a message that says what to do.
    r = subprocess.run([os.path.abspath(BIN), "--state-dir", str(tmp_path / "refused"),
                        "--set", f"transmission.password={PASSWORD}", "--print-config"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "seedboxd --hash-password" in r.stderr, r.stderr
    assert PASSWORD not in r.stderr
    # The hash counts as a secret too: --print-config redacts it.
    r = subprocess.run([os.path.abspath(BIN), "--state-dir", str(tmp_path / "printed"),
                        "--set", f"transmission.password={hashed}", "--print-config"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and hashed not in r.stdout, r
    assert json.loads(r.stdout)["transmission"]["password"] == "<redacted>"

    with Daemon(args=["--set", f"transmission.password={hashed}",
                      "--set", "rpc.auth_failures=20"]) as d:
        # transmission-remote with the password, and with the token: both sign in.
        for secret in (PASSWORD, d.token):
            out = subprocess.run([REMOTE, d.addr, "-n", f"any:{secret}", "-l"],
                                 capture_output=True, text=True, timeout=60)
            assert out.returncode == 0 and "Sum:" in out.stdout, out
        # A wrong password: 401 with the challenge, and a failed login.
        status, headers, _ = raw(d, "GET", headers={"Authorization": basic("any", "wrong")})
        assert status == 401 and headers["WWW-Authenticate"] == 'Basic realm="Transmission"'
        # Once found right, the password is remembered: a burst of requests runs no scrypt
        # (the daemon logs each run at debug level).
        def scrypt_runs():
            with open(d.log_path) as f:
                return f.read().count("transmission.password: scrypt")
        wait_until(lambda: scrypt_runs() >= 2, what="the checks to be logged")
        before = scrypt_runs()
        for _ in range(50):
            assert raw(d, "GET", headers={"Authorization": basic("x", PASSWORD)})[0] == 409
        assert scrypt_runs() == before
        # Neither the password nor its hash is in the log or in session-get.
        with open(d.log_path) as f:
            log = f.read()
        assert PASSWORD not in log and hashed not in log
        sid = raw(d, "GET", headers={"Authorization": basic("x", PASSWORD)})[1][
            "X-Transmission-Session-Id"]
        status, _, body = raw(d, body='{"method":"session-get"}',
                              headers={"Authorization": basic("x", PASSWORD),
                                       "X-Transmission-Session-Id": sid})
        assert status == 200 and hashed not in body and PASSWORD not in body


def test_python_transmissionrpc_drives_the_daemon(tmp_path):
    """Debian's python3-transmissionrpc (0.11, the library Flexget and many scripts use): it
    sends credentials only after the 401 challenge (urllib's HTTPBasicAuthHandler), asks
    torrent-get for every field it knows, and builds its objects from the answers."""
    try:
        import transmissionrpc
    except ImportError:
        require_tools(["transmissionrpc (apt: python3-transmissionrpc)"])
    hashed = hash_password(PASSWORD)
    with Daemon(args=["--set", f"transmission.password={hashed}"]) as d:
        client = transmissionrpc.Client(d.host, port=d.port, user="flexget", password=PASSWORD)
        assert client.rpc_version == 19
        session = client.get_session()
        assert session.download_dir == d.downloads and session.version.startswith("4.1.3")

        data = os.path.join(d.downloads, "Library.S01E02.mkv")
        make_file(data, 1 << 20)
        meta = mktorrent(data, str(tmp_path / "library.torrent"))
        added = client.add_torrent(b64(meta))
        magnet = client.add_torrent("magnet:?xt=urn:btih:" + "ef" * 20 + "&dn=lib-magnet",
                                    paused=True)
        assert (added.id, magnet.id) == (1, 2)

        def seeding():
            t = client.get_torrent(added.id)
            return t if t.status == "seeding" else None
        t = wait_until(seeding, 60, what="the torrent to seed")
        # Every field the library asked for that seedboxd knows, in the library's own view.
        assert t.name == "Library.S01E02.mkv" and t.totalSize == 1 << 20
        assert t.progress == 100.0 and t.leftUntilDone == 0 and t.downloadDir == d.downloads
        assert t.files()[0]["name"] == "Library.S01E02.mkv" and t.files()[0]["completed"] == 1 << 20
        assert t.format_eta() == "not available"  # eta -1: done, no ratio goal to count down
        # What the metadata says, as Transmission reports it.
        assert t.magnetLink == f"magnet:?xt=urn:btih:{t.hashString}&dn=Library.S01E02.mkv"
        assert t.isPrivate is False and t.comment == "" and t.creator.startswith("mktorrent")
        assert abs(t.dateCreated - time.time()) < 600 and t.haveUnchecked == 0
        assert t.recheckProgress == 0 and t.queuePosition == 1  # after the magnet, queued
        assert client.get_torrent(magnet.id).status == "stopped"

        client.stop_torrent(added.id)
        d.wait_state(t.hashString, "stopped")
        client.start_torrent(added.id)
        d.wait_state(t.hashString, "seeding")
        client.verify_torrent(added.id)
        d.wait_state(t.hashString, "seeding")
        client.change_torrent(added.id, uploadLimit=40, uploadLimited=True, seedRatioLimit=3.0,
                              seedRatioMode=1)
        got = d.torrent(t.hashString, "upload_limit", "ratio_limit")
        assert got == {"upload_limit": 40000, "ratio_limit": 3.0}
        client.queue_top(magnet.id)
        assert client.get_torrent(magnet.id).queuePosition == 0

        moved = os.path.join(d.downloads, "moved")
        os.makedirs(moved)
        client.move_torrent_data(added.id, moved)
        wait_until(lambda: os.path.exists(os.path.join(moved, "Library.S01E02.mkv")), 30,
                   what="the move")
        assert client.free_space(moved) > 0
        assert client.session_stats().torrentCount == 2
        client.set_session(alt_speed_up=77, alt_speed_enabled=True)
        got = d.call("session.settings")
        assert got["alt_upload_rate_limit"] == 77000 and got["alt_speed"] is True

        client.remove_torrent(added.id, delete_data=True)
        wait_until(lambda: not os.path.exists(os.path.join(moved, "Library.S01E02.mkv")), 30,
                   what="the data to go")
        assert [x.id for x in client.get_torrents()] == [2]


def test_head_answers_carry_no_body_and_keep_the_connection_usable():
    """HEAD gets the gate's status and headers without a body (RFC 9110), so the next request
    on the same keep-alive connection is read correctly."""
    with Daemon() as d:
        conn = http.client.HTTPConnection(d.host, d.port, timeout=30)
        auth = {"Authorization": basic("any", d.token)}
        for headers, status in (({}, 401), (auth, 409)):
            conn.request("HEAD", "/transmission/rpc", headers=headers)
            r = conn.getresponse()
            assert r.status == status and r.read() == b""
        conn.request("GET", "/transmission/rpc", headers=auth)
        r = conn.getresponse()
        assert r.status == 409 and b"409: Conflict" in r.read()
        conn.close()
