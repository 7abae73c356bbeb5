"""Flood (npm flood@4.11.0, github jesec/flood), a web UI whose Node server is a Transmission RPC
client, driving seedboxd at /transmission/rpc. The test talks to Flood's own HTTP API, as its page
does, and checks the effect with seedboxd's own API and on disk: the connection test, the client
settings (session-get/-set), the transfer history (session-stats), adding a .torrent whose data is
in the downloads folder (listed with its name, size and 100%, seeding and complete), its details,
stop and start, tags as seedboxd labels, a magnet, and removing with data.
Flood swallows its client's errors, so a wrong answer often shows only as a missing row: Flood
reaches seedboxd through a recording proxy on loopback, and every answer must be a "success" with
the fields Flood asked for, in the types it reads; a failure quotes the exchange. Needs node and
tests/web/node_modules/flood (npm ci in tests/web): without them the test is skipped, unless CI
is set: then it fails. Flood listens on 127.0.0.1 only and is always killed."""
import base64
import http.client
import http.server
import json
import os
import shutil
import subprocess
import threading

import pytest

from harness import (Daemon, make_file, mktorrent, port_below_ephemeral, require_tools,
                     wait_until)

FLOOD = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "web",
                                      "node_modules", "flood", "dist", "index.js"))
NODE = shutil.which("node")
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "date", "server"}
# The exact types of the fields Flood's Transmission client reads (clientGatewayService.ts).
TYPES = {**{f: (str,) for f in "hashString downloadDir name comment errorString download-dir "
            "config-dir".split()},
         **{f: (bool,) for f in "isPrivate dht-enabled peer-port-random-on-start pex-enabled "
            "speed-limit-down-enabled speed-limit-up-enabled seed-queue-enabled".split()},
         **{f: (list,) for f in "torrents trackers labels files fileStats peers "
            "trackerStats".split()},
         **{f: (int, float) for f in "haveValid addedDate dateCreated doneDate rateDownload "
            "rateUpload downloadedEver uploadedEver eta error peersGettingFromUs status "
            "peersSendingToUs totalSize activityDate peer-port speed-limit-down speed-limit-up "
            "peer-limit-global peer-limit-per-torrent seed-queue-size downloadSpeed uploadSpeed "
            "downloadedBytes uploadedBytes".split()}}


def require_flood():
    missing = [] if NODE else ["node (apt: nodejs)"]
    if not os.path.exists(FLOOD):
        missing.append("tests/web/node_modules/flood (npm ci in tests/web)")
    require_tools(missing)


def parsed(data):
    try:
        return json.loads(data)
    except ValueError:
        return data.decode(errors="replace")


def shown(value, limit=300):
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[:limit] + "..."


class Recorder(http.server.ThreadingHTTPServer):
    """Forwards each request to seedboxd as is (bar hop-by-hop headers); keeps every exchange."""
    daemon_threads = True

    def __init__(self, d):
        super().__init__(("127.0.0.1", 0), Forward)
        self.target, self.exchanges = (d.host, d.port), []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def problems(self):
        """One line per distinct wrong answer (Flood polls, so the same one repeats)."""
        return list({key: line for x in reversed(self.exchanges)
                     for key, line in answer_problems(*x)}.values())


class Forward(http.server.BaseHTTPRequestHandler):
    """One of Flood's keep-alive connections, forwarded over one keep-alive connection."""
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.upstream = http.client.HTTPConnection(*self.server.target, timeout=60)

    def finish(self):
        super().finish()
        self.upstream.close()

    def forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.upstream.request(self.command, self.path, body=body or None, headers={
            k: v for k, v in self.headers.items() if k.lower() not in HOP})
        r = self.upstream.getresponse()
        data = r.read()
        self.server.exchanges.append((self.command, parsed(body), r.status, parsed(data)))
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = forward

    def log_message(self, *args):
        pass


def read_by_flood(request, args):
    """The (object, field) pairs Flood reads from the arguments of an answer to `request`."""
    name, fields = request.get("method"), (request.get("arguments") or {}).get("fields", [])
    if name == "torrent-get":
        return [(args, "torrents")] + [(t, f) for t in args.get("torrents") or [] for f in fields]
    if name == "session-get":
        return [(args, f) for f in fields]
    if name == "session-stats":
        cur = args.get("current-stats") or {}
        return [(args, "downloadSpeed"), (args, "uploadSpeed"), (cur, "downloadedBytes"),
                (cur, "uploadedBytes")]
    if name == "torrent-add":  # a duplicate (torrent-duplicate) is a failure to Flood
        return [(args.get("torrent-added") or {}, "hashString")]
    return []


def answer_problems(method, request, status, answer):
    """(key, line) for what is wrong with one answer seedboxd gave Flood: an error, or a field
    Flood reads that is missing or of another type. The handshake's 409 is right."""
    said = f"Flood sent {method} {shown(request)}\n  seedboxd answered {status} {shown(answer)}"
    if method == "GET":
        return [] if status == 409 else [((method, status), said)]
    if status != 200 or not isinstance(answer, dict) or answer.get("result") != "success":
        return [((shown(request, 60), status, shown(answer, 60)), said)]
    bad = sorted({f for row, f in read_by_flood(request, answer["arguments"])
                  if f not in row or type(row[f]) not in TYPES.get(f, (type(row[f]),))})
    key = (request.get("method"), tuple(bad))
    return [(key, f"missing or mistyped {', '.join(bad)}: {said}")] if bad else []


class Flood:
    """Flood's server on 127.0.0.1 and a client of its API; context() adds to failure messages."""

    def __init__(self, tmp_path, trurl, token, context):
        self.port, self.cookie, self.context = port_below_ephemeral("127.0.0.1"), None, context
        self.log_path = tmp_path / "flood.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [NODE, FLOOD, "--auth", "none", "--trurl", trurl, "--truser", "flood",
             "--trpass", token, "--rundir", str(tmp_path / "flood"), "--host", "127.0.0.1",
             "--port", str(self.port)], stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)

    def request(self, method, path, body=None):
        """Returns (status, parsed body); keeps the jwt cookie /api/auth hands out."""
        assert self.proc.poll() is None, f"Flood exited with {self.proc.returncode}{self.explain()}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Content-Type": "application/json", "Cookie": self.cookie or ""}
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        r = conn.getresponse()
        data = r.read()
        self.cookie = self.cookie or r.getheader("Set-Cookie", "").split(";")[0]  # jwt=...
        conn.close()
        return r.status, parsed(data)

    def api(self, method, path, body=None):
        status, answer = self.request(method, "/api" + path, body)
        assert status == 200, f"{method} /api{path}: {status} {answer}{self.explain()}"
        return answer

    def wait(self, predicate, what, timeout=60):
        try:
            return wait_until(predicate, timeout, what=what)
        except AssertionError as e:
            raise AssertionError(f"{e}{self.explain()}") from None

    def torrents(self):
        return self.api("GET", "/torrents")["torrents"]

    def explain(self):
        log = self.log_path.read_text(errors="replace")[-4000:]
        return f"\nFlood log:\n{log}{self.context()}"

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()


@pytest.fixture
def setup(tmp_path):
    """(seedboxd, Flood signed in to its API, the recorder between them)."""
    require_flood()
    with Daemon() as d:
        rec = Recorder(d)
        flood = Flood(tmp_path, f"http://127.0.0.1:{rec.server_port}/transmission/rpc", d.token,
                      lambda: "\nbad answers:\n" + "\n".join(rec.problems()) +
                      f"\nseedboxd log:\n{d.logs(3000)}")
        try:
            # --auth none: /authenticate hands out the cookie without a password.
            flood.wait(lambda: flood.request("POST", "/api/auth/authenticate", {})[0] == 200,
                       "Flood to start and sign in")
            yield d, flood, rec
        finally:
            flood.kill()
            rec.shutdown()
            rec.server_close()


def test_flood_connects_and_reads_the_session(setup):
    d, flood, rec = setup
    assert flood.api("GET", "/client/connection-test") == {"isConnected": True}
    settings = flood.api("GET", "/client/settings")
    assert settings["directoryDefault"] == d.downloads, settings
    assert isinstance(settings["dhtPort"], int) and settings["dhtPort"] > 0, settings
    # The speed limit menu: bytes/s in Flood, kB/s (K = 1000) to Transmission, read back as set.
    flood.api("PATCH", "/client/settings", {"throttleGlobalUpSpeed": 200 * 1024})
    assert d.call("session.settings")["upload_rate_limit"] == 200 * 1000
    assert flood.api("GET", "/client/settings")["throttleGlobalUpSpeed"] == 200 * 1024
    # The transfer summary: Flood keeps a history point per session-stats that succeeded.
    flood.wait(lambda: flood.api("GET", "/history")["upload"], "a point in Flood's history")
    # Every answer Flood got: success, with every field it asked for (session-get's
    # "peer-limit-per-torrent" too), in the type Flood reads.
    assert rec.problems() == [], flood.explain()


def wait_row(flood, info_hash, what, check=lambda row: True):
    """Waits for Flood's list to show the torrent with check(row) true; returns the row."""
    def ready():
        row = flood.torrents().get(info_hash.upper())
        return row if row and check(row) else None
    return flood.wait(ready, f"Flood to list {info_hash} {what}")


def add_and_seed(d, flood, tmp_path, size):
    """Flood's Add Torrents dialog, by file, started, with a tag; the data is already in the
    downloads folder, so it checks and seeds. Returns (id, data path)."""
    data = os.path.join(d.downloads, "flood.bin")
    make_file(data, size)
    meta = mktorrent(data, str(tmp_path / "flood.torrent"))
    added = flood.api("POST", "/torrents/add-files",
                      {"files": [base64.b64encode(meta).decode()], "destination": d.downloads,
                       "tags": ["flood"], "start": True})
    assert isinstance(added, list) and len(added) == 1, f"{added}{flood.explain()}"
    tid = added[0].lower()
    assert d.torrent(tid, "name", "labels") == {"name": "flood.bin", "labels": ["flood"]}
    d.wait_state(tid, "seeding")
    seeding = wait_row(flood, tid, "seeding and complete",
                       lambda r: {"seeding", "complete"} <= set(r["status"]) and
                       "error" not in r["status"])
    assert seeding["name"] == "flood.bin" and seeding["sizeBytes"] == size, seeding
    assert seeding["percentComplete"] == 100 and seeding["bytesDone"] == size, seeding
    assert seeding["directory"] == d.downloads and seeding["tags"] == ["flood"], seeding
    # The torrent's details panel: its files (files, fileStats), peers and trackers.
    details = flood.api("GET", f"/torrents/{tid.upper()}/details")
    assert details["contents"] == [{"index": 0, "path": "flood.bin", "filename": "flood.bin",
                                    "percentComplete": 100, "priority": 1, "sizeBytes": size}]
    assert details["peers"] == [] and details["trackers"] == [], details
    return tid, data


def test_flood_adds_seeds_stops_starts_tags_and_removes(setup, tmp_path):
    d, flood, rec = setup
    tid, data = add_and_seed(d, flood, tmp_path, 3 << 20)
    hashes = {"hashes": [tid.upper()]}  # Flood's hashes are upper case, and so are its ids

    # Stop and start: the daemon's own state follows, and so does Flood's list.
    flood.api("POST", "/torrents/stop", hashes)
    d.wait_state(tid, "stopped")
    wait_row(flood, tid, "stopped", lambda r: "stopped" in r["status"])
    flood.api("POST", "/torrents/start", hashes)
    d.wait_state(tid, "seeding")
    wait_row(flood, tid, "seeding again", lambda r: "seeding" in r["status"])

    # Tags are Transmission labels, so seedboxd labels.
    flood.api("PATCH", "/torrents/tags", {**hashes, "tags": ["movies", "hd"]})
    assert d.torrent(tid, "labels")["labels"] == ["movies", "hd"]
    wait_row(flood, tid, "tagged", lambda r: r["tags"] == ["movies", "hd"])

    # A magnet, by Flood's add-by-URL, not started: listed in both.
    magnet = "ab" * 20
    flood.api("POST", "/torrents/add-urls",
              {"urls": [f"magnet:?xt=urn:btih:{magnet}&dn=flood-magnet"], "start": False})
    assert d.torrent(magnet, "id")["id"] == magnet
    assert wait_row(flood, magnet, "as a magnet")["name"] == "flood-magnet"

    # Remove with data: the file goes, and the torrent leaves both lists; the magnet stays.
    flood.api("POST", "/torrents/delete", {**hashes, "deleteData": True})
    flood.wait(lambda: not os.path.exists(data), f"{data} to be deleted")
    assert [t["id"] for t in d.call("torrent.list", fields=["id"])["torrents"]] == [magnet]
    assert [t["hash"] for t in flood.torrents().values()] == [magnet.upper()]
    # Every answer Flood got: success, with every field it asked for (torrent-get's "comment",
    # "dateCreated" and "isPrivate" too), in the type Flood reads.
    assert rec.problems() == [], flood.explain()
