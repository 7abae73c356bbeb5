#!/usr/bin/python3
"""Drivers for the daemons the benchmarks compare: seedboxd, Debian's transmission-daemon 3.00,
aria2c 1.36, qbittorrent-nox 4.5 and bare python3-libtorrent (this file run as `references.py
lt-seeder ...`: a libtorrent session seeding the .torrent files of a folder, tiny HTTP API).

Every driver has the same interface: start(workdir) spawns the daemon on a fresh state in workdir
and returns once its API answers; add(meta, save_path, paused) is the daemon's own add call
(seedboxd torrent.add, Transmission torrent-add with metainfo, aria2.addTorrent over JSON-RPC with
a secret, qBittorrent's WebUI /api/v2/torrents/add, the seeder's POST /add); states() lists each
torrent's state ("seeding" or the daemon's own word); list_all() is the daemon's list of every
torrent with about ten fields; pid; restart(n) stops it gracefully, starts it on the same state and
returns (seconds from the spawn until its API answers, until n torrents are seeding); stop().

Each daemon listens (BitTorrent, API) on 127.0.0.1 only; DHT, LSD, UPnP, NAT-PMP, PEX (and
qBittorrent's peer-country look-up) off; no trackers: nothing leaves loopback."""
import base64
import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from transmission_bench import QuietDaemon, RestartableTransmission, TrClient  # noqa: E402
from bench_common import Http  # noqa: E402
from harness import free_port, wait_until  # noqa: E402

API_TIMEOUT = 60  # seconds for a daemon's API to answer after its spawn
POLL = 0.005  # seconds between API probes: the restart target is 0.1 s
STOP_TIMEOUT = 300  # a daemon saves every torrent's resume data on the way out


class Reference:
    """What every driver shares: spawning, probing the API, waiting for seeding, restarting."""
    name = "?"
    proc = None

    def start(self, workdir):
        self.dir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.setup()
        self.launch()
        return self

    def launch(self):
        """Spawns the daemon; returns seconds from the spawn until its API answers."""
        t0 = time.perf_counter()
        with open(os.path.join(self.dir, f"{self.name}.log"), "ab") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        while not self.probe():
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} at start")
            if time.perf_counter() - t0 > API_TIMEOUT:
                raise RuntimeError(f"{self.name}: API silent {API_TIMEOUT} s after the spawn")
            time.sleep(POLL)
        return time.perf_counter() - t0

    def probe(self):
        """True once the API answers a cheap call."""
        try:
            return self.ping()
        except (OSError, http.client.HTTPException, RuntimeError, ValueError):
            return False

    @property
    def pid(self):
        return self.proc.pid

    def count_seeding(self):
        return sum(s == "seeding" for s in self.states())

    def wait_seeding(self, n, timeout):
        """Seconds until n torrents are seeding."""
        t0 = time.perf_counter()
        wait_until(lambda: self.count_seeding() >= n, timeout, 0.05,
                   what=f"{self.name} to seed {n} torrents")
        return time.perf_counter() - t0

    def restart(self, n, timeout=600):
        """Graceful stop, start on the same state: (seconds to the API, seconds until n seed),
        both from the spawn."""
        self.stop()
        t0 = time.perf_counter()
        api = self.launch()
        self.wait_seeding(n, timeout)
        return api, time.perf_counter() - t0

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                print(f"{self.name} did not stop within {STOP_TIMEOUT} s of SIGTERM: killed",
                      file=sys.stderr)


class Seedboxd(Reference):
    """seedboxd, its command line from harness.Daemon (log level warn), JSON-RPC over /rpc with
    its token. bt.* discovery off in a JSON config, torrent.allowed_roots the work dir,
    rpc.max_batch 1000. Its log: seedboxd.log in the work dir."""
    name = "seedboxd"
    LIST_FIELDS = ["id", "name", "state", "progress", "total_size", "uploaded", "upload_rate",
                   "ratio", "peers", "save_path"]

    def setup(self):
        cfg = os.path.join(self.dir, "seedboxd.json")
        with open(cfg, "w") as f:
            json.dump({"bt": {"dht": False, "lsd": False, "upnp": False, "natpmp": False,
                              "pex": False}}, f)
        self.d = QuietDaemon(state_dir=os.path.join(self.dir, "sbx"), bt_iface="127.0.0.1:0",
                             args=["--config", cfg, "--set", "rpc.max_batch=1000", "--set",
                                   "torrent.allowed_roots=" + json.dumps([self.dir])])

    def command(self):
        if os.path.exists(self.d.ready_file):
            os.unlink(self.d.ready_file)
        return self.d.command()

    def ping(self):
        with open(self.d.ready_file) as f:
            addr = f.read().strip()
        if not addr:
            return False
        with open(os.path.join(self.d.state_dir, "rpc.token")) as f:
            token = f.read().strip()
        self.d.addr, self.d.token = addr, token
        self.http = Http(self.d.port, {"Authorization": f"Bearer {token}",
                                       "Content-Type": "application/json"})
        return self.call("session.stats") is not None

    def call(self, method, **params):
        reply = self.http.json("POST", "/rpc", json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        if "error" in reply:
            raise RuntimeError(f"seedboxd {method}: {reply['error']}")
        return reply["result"]

    def add(self, meta, save_path, paused=False):
        return self.call("torrent.add", metainfo=base64.b64encode(meta).decode(),
                         save_path=save_path, paused=paused)

    def add_batch(self, metas, save_path, size):
        """torrent.add in JSON-RPC batches of `size` calls."""
        for start in range(0, len(metas), size):
            replies = self.http.json("POST", "/rpc", json.dumps([
                {"jsonrpc": "2.0", "id": i, "method": "torrent.add",
                 "params": {"metainfo": base64.b64encode(metas[i]).decode(),
                            "save_path": save_path, "paused": False}}
                for i in range(start, min(len(metas), start + size))]))
            errors = [r["error"] for r in replies if "error" in r]
            if errors:
                raise RuntimeError(f"seedboxd torrent.add batch at {start}: {errors[0]}")

    def states(self):
        return [t["state"] for t in self.call("torrent.list", fields=["state"])["torrents"]]

    def list_all(self):
        return len(self.call("torrent.list", fields=self.LIST_FIELDS)["torrents"])


class Transmission(Reference):
    """transmission-daemon 3.00 through transmission_bench's RestartableTransmission (loopback,
    uTP off), its RPC through TrClient."""
    name = "transmission"
    LIST_FIELDS = ["id", "name", "status", "percentDone", "totalSize", "uploadedEver",
                   "rateUpload", "uploadRatio", "peersConnected", "downloadDir"]

    def setup(self):
        self.tr = None

    def launch(self):
        if self.tr is None:  # first start: RestartableTransmission writes settings.json
            t0 = time.perf_counter()
            self.tr = RestartableTransmission(self.dir)
            self.proc, self.client = self.tr.proc, TrClient(self.tr.port)
            return time.perf_counter() - t0
        api = super().launch()
        self.tr.proc = self.proc
        return api

    def command(self):
        return ["transmission-daemon", "-f", "-g", self.tr.cfg]

    def ping(self):
        self.client = TrClient(self.tr.port)
        return self.client.call("session-get") is not None

    def add(self, meta, save_path, paused=False):
        added = self.client.call("torrent-add", metainfo=base64.b64encode(meta).decode(),
                                 paused=paused, **{"download-dir": save_path})
        if "torrent-added" not in added:
            raise RuntimeError(f"transmission torrent-add: {added}")

    def states(self):
        names = {6: "seeding", 0: "stopped", 1: "check-wait", 2: "checking", 4: "downloading"}
        return [names.get(t["status"], str(t["status"]))
                for t in self.client.call("torrent-get", fields=["status"])["torrents"]]

    def list_all(self):
        return len(self.client.call("torrent-get", fields=self.LIST_FIELDS)["torrents"])


class Aria2(Reference):
    """aria2c 1.36 with JSON-RPC on 127.0.0.1 and a secret. BitTorrent bound to 127.0.0.1, no
    DHT/LPD/PEX, seeds forever (--seed-ratio=0.0), checks existing files (--check-integrity),
    seeding downloads not counted against --max-concurrent-downloads, and a session file saved
    on exit with the seeding downloads (--force-save) that the next start reads back."""
    name = "aria2"
    KEYS = ["gid", "status", "totalLength", "completedLength", "uploadLength", "uploadSpeed",
            "connections", "numSeeders", "dir", "infoHash"]

    def setup(self):
        self.port, self.bt_port = free_port(), free_port()
        self.secret = "token:" + secrets.token_hex(16)
        self.session = os.path.join(self.dir, "aria2.session")
        open(self.session, "a").close()
        self.http = Http(self.port, {"Content-Type": "application/json"})

    def command(self):
        return ["aria2c", "--no-conf", "--enable-rpc", "--rpc-listen-all=false",
                f"--rpc-listen-port={self.port}", f"--rpc-secret={self.secret[6:]}",
                "--rpc-max-request-size=256M", f"--listen-port={self.bt_port}",
                "--interface=127.0.0.1", "--disable-ipv6=true", "--enable-dht=false",
                "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
                "--seed-ratio=0.0", "--check-integrity=true", "--bt-detach-seed-only=true",
                "--max-concurrent-downloads=100000", "--file-allocation=none",
                f"--save-session={self.session}", "--force-save=true",
                f"--input-file={self.session}", f"--dir={self.dir}", "--quiet=true",
                "--console-log-level=warn", "--summary-interval=0"]

    def call(self, method, *params):
        reply = self.http.json("POST", "/jsonrpc", json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": method, "params": [self.secret, *params]}))
        if "error" in reply:
            raise RuntimeError(f"aria2 {method}: {reply['error']}")
        return reply["result"]

    def ping(self):
        return self.call("aria2.getVersion") is not None

    def add(self, meta, save_path, paused=False):
        return self.call("aria2.addTorrent", base64.b64encode(meta).decode(), [],
                         {"dir": save_path, "pause": "true" if paused else "false"})

    def all(self, keys):
        return self.call("aria2.tellActive", keys) + self.call("aria2.tellWaiting", 0, 10**9, keys)

    def states(self):
        return ["seeding" if t.get("seeder") == "true" and t["status"] == "active" else t["status"]
                for t in self.all(["status", "seeder"])]

    def list_all(self):
        return len(self.all(self.KEYS))


QBT_CONF = """[LegalNotice]
Accepted=true

[BitTorrent]
Session\\DHTEnabled=false
Session\\LSDEnabled=false
Session\\PeXEnabled=false
Session\\AnonymousModeEnabled=false
Session\\QueueingSystemEnabled=false
Session\\AddTorrentPaused=false
Session\\Port={bt_port}
Session\\Interface=lo
Session\\InterfaceName=lo
Session\\InterfaceAddress=127.0.0.1
Session\\DefaultSavePath={dir}
Session\\AddTrackersEnabled=false
Session\\MaxActiveCheckingTorrents=100

[Network]
PortForwardingEnabled=false

[Preferences]
Connection\\ResolvePeerCountries=false
WebUI\\Address=127.0.0.1
WebUI\\Port={port}
WebUI\\LocalHostAuth=false
WebUI\\UseUPnP=false
WebUI\\CSRFProtection=false
WebUI\\HostHeaderValidation=false
DynDNS\\Enabled=false
General\\Locale=en
"""


class QBittorrent(Reference):
    """qbittorrent-nox 4.5 on its own profile dir: qBittorrent.conf turns off DHT, LSD, PEX,
    anonymous mode, UPnP/NAT-PMP, peer-country look-ups (a GeoIP download) and queueing (else
    only 5 torrents are active), checks 100 torrents at a time (its default, 1, takes about a
    second per torrent), binds BitTorrent to lo/127.0.0.1 and the WebUI to 127.0.0.1 with the
    localhost auth bypass. API: WebUI v2."""
    name = "qbittorrent"
    SEEDING = {"uploading", "stalledUP", "forcedUP"}

    def setup(self):
        self.port, self.bt_port = free_port(), free_port()
        conf_dir = os.path.join(self.dir, "profile", "qBittorrent", "config")
        os.makedirs(conf_dir)
        with open(os.path.join(conf_dir, "qBittorrent.conf"), "w") as f:
            f.write(QBT_CONF.format(bt_port=self.bt_port, port=self.port, dir=self.dir))

    def command(self):
        return ["qbittorrent-nox", f"--profile={os.path.join(self.dir, 'profile')}",
                f"--webui-port={self.port}"]

    def ping(self):
        self.http = Http(self.port)
        status, _ = self.http.request("GET", "/api/v2/app/version")
        return status == 200

    def add(self, meta, save_path, paused=False):
        boundary = uuid.uuid4().hex
        fields = {"savepath": save_path, "paused": "true" if paused else "false",
                  "autoTMM": "false"}
        body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'
                        f'{v}\r\n'.encode() for k, v in fields.items())
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="torrents"; '
                 f'filename="t.torrent"\r\nContent-Type: application/x-bittorrent\r\n\r\n').encode()
        body += meta + f"\r\n--{boundary}--\r\n".encode()
        status, data = self.http.request("POST", "/api/v2/torrents/add", body, {
            "Content-Type": f"multipart/form-data; boundary={boundary}"})
        if status != 200 or data.strip() != b"Ok.":
            raise RuntimeError(f"qbittorrent torrents/add: HTTP {status} {data[:200]!r}")

    def info(self):
        return self.http.json("GET", "/api/v2/torrents/info")

    def states(self):
        return ["seeding" if t["state"] in self.SEEDING else t["state"] for t in self.info()]

    def list_all(self):
        """/api/v2/torrents/info has no field selection: it answers all of its ~50 fields."""
        return len(self.info())


class Libtorrent(Reference):
    """Bare python3-libtorrent 2.0: this file run as `lt-seeder` in its own process (see
    lt_seeder). Resume data saved on SIGTERM and loaded at start."""
    name = "libtorrent"

    def setup(self):
        self.port, self.bt_port = free_port(), free_port()

    def command(self):
        return [sys.executable, os.path.abspath(__file__), "lt-seeder", self.dir, str(self.port),
                str(self.bt_port)]

    def ping(self):
        self.http = Http(self.port)
        return self.http.json("GET", "/version") is not None

    def add(self, meta, save_path, paused=False):
        query = urllib.parse.urlencode({"save_path": save_path, "paused": int(paused)})
        status, data = self.http.request("POST", "/add?" + query, meta)
        if status != 200:
            raise RuntimeError(f"lt-seeder add: HTTP {status} {data[:200]!r}")

    def states(self):
        return self.http.json("GET", "/states")

    def list_all(self):
        return len(self.http.json("GET", "/list"))


DRIVERS = {d.name: d for d in (Seedboxd, Transmission, Aria2, QBittorrent, Libtorrent)}


def lt_session(bt_port):
    import libtorrent as lt
    return lt.session({"listen_interfaces": f"127.0.0.1:{bt_port}", "outgoing_interfaces": "lo",
                       "enable_dht": False, "enable_lsd": False, "enable_upnp": False,
                       "enable_natpmp": False, "alert_queue_size": 1 << 20,
                       "alert_mask": int(lt.alert_category.error | lt.alert_category.storage)},
                      0)  # no default plugins: no ut_pex (nor ut_metadata, smart_ban)


def lt_params(tdir, rdir, name, save_path):
    """A torrent's add_torrent_params: its resume data if saved, else its .torrent file. Not
    auto-managed (libtorrent's queue would keep all but a few torrents inactive) nor paused
    (default_flags has both: the queue would unpause it)."""
    import libtorrent as lt
    resume = os.path.join(rdir, name[:-len(".torrent")] + ".resume")
    if os.path.exists(resume):
        with open(resume, "rb") as f:
            atp = lt.read_resume_data(f.read())
    else:
        atp = lt.add_torrent_params()
        atp.ti, atp.save_path = lt.torrent_info(os.path.join(tdir, name)), save_path
        atp.flags &= ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
    return atp


def lt_handler(ses, tdir, save_path):
    """The seeder's HTTP API: GET /version, /states, /list (ten fields per torrent);
    POST /add?save_path=..&paused=0|1 with the .torrent as body (kept in the folder)."""
    import libtorrent as lt
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # header and body leave in two writes

        log_message = lambda *args: None  # noqa: E731 (quiet)

        def answer(self, status, value):
            body = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/version":
                return self.answer(200, lt.__version__)
            flags = (1 << 6) | (1 << 7) if self.path == "/list" else 0  # query_name, _save_path
            st = ses.get_torrent_status(lambda s: True, flags)
            if self.path == "/states":
                return self.answer(200, [str(s.state) for s in st])
            return self.answer(200, [{
                "info_hash": str(s.info_hashes.v1), "name": s.name, "state": str(s.state),
                "progress": s.progress, "total": s.total_wanted, "uploaded": s.all_time_upload,
                "upload_rate": s.upload_rate, "peers": s.num_peers, "save_path": s.save_path,
                "paused": bool(s.flags & lt.torrent_flags.paused)} for s in st])

        def do_POST(self):
            q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            meta = self.rfile.read(int(self.headers["Content-Length"]))
            if q.get("save_path", [""])[0] != save_path:
                return self.answer(400, "save_path must be the seeder's")
            ti = lt.torrent_info(lt.bdecode(meta))
            name = f"{ti.info_hashes().v1}.torrent"
            with open(os.path.join(tdir, name), "wb") as f:
                f.write(meta)
            atp = lt_params(tdir, "/nonexistent", name, save_path)
            if q.get("paused", ["0"])[0] == "1":
                atp.flags |= lt.torrent_flags.paused
            ses.add_torrent(atp)
            self.answer(200, name)
    return Handler


def lt_save_resume(ses, rdir):
    """Asks every torrent for its resume data and writes it, one file per info-hash."""
    import libtorrent as lt
    handles = ses.get_torrents()
    ses.pop_alerts()
    for h in handles:
        h.save_resume_data(lt.torrent_handle.save_info_dict)
    left, deadline = len(handles), time.monotonic() + 120
    while left and time.monotonic() < deadline:
        ses.wait_for_alert(1000)
        for a in ses.pop_alerts():
            if isinstance(a, lt.save_resume_data_alert):
                with open(os.path.join(rdir, f"{a.params.info_hashes.v1}.resume"), "wb") as f:
                    f.write(lt.write_resume_data_buf(a.params))
                left -= 1
            elif isinstance(a, lt.save_resume_data_failed_alert):
                left -= 1


def lt_seeder(workdir, port, bt_port):
    """Bare libtorrent: seeds every .torrent in workdir/torrents (payload in workdir), from its
    resume data in workdir/resume when there is some. Idle, nothing wakes this process but
    libtorrent's own threads: the HTTP server blocks in select, the main thread in pause()."""
    import threading
    from http.server import ThreadingHTTPServer
    tdir, rdir = os.path.join(workdir, "torrents"), os.path.join(workdir, "resume")
    os.makedirs(tdir, exist_ok=True)
    os.makedirs(rdir, exist_ok=True)
    ses = lt_session(bt_port)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    server = ThreadingHTTPServer(("127.0.0.1", port), lt_handler(ses, tdir, workdir))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(3600,), daemon=True).start()
    for name in sorted(os.listdir(tdir)):
        ses.async_add_torrent(lt_params(tdir, rdir, name, workdir))
    while not stop:
        signal.pause()
    lt_save_resume(ses, rdir)


if __name__ == "__main__" and sys.argv[1:2] == ["lt-seeder"]:
    lt_seeder(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
