"""Transmission's web client served by seedboxd (web.root) at /transmission/web/.

First over raw HTTP against a web root of our own: Transmission's login (Basic auth, the same
brute-force brake) without its session-id handshake, GET and HEAD only, the redirects, the
headers a browser caches by, and a confinement that holds at every request (dotfiles, "..",
symlinks out). Then for real: Debian's own web client (transmission-common, in
/usr/share/transmission/web) in Debian's headless Chromium, scripted by puppeteer-core
(tests/web/webclient.mjs): it signs in, opens "/", adds a .torrent through the client's Open
dialog, waits for its row to say Seeding, removes it through the toolbar and the confirm dialog,
and the daemon's own /rpc must then list nothing. The page must run under the daemon's
Content-Security-Policy without a violation, a script error or a failed request.

The browser test needs chromium, node and tests/web/node_modules (scripts/install-deps --test
installs them). Without them it is skipped, unless CI is set: then it fails.

Artifact: a screenshot of the Seeding row (or of the page where a step failed), web-client.png in
the test's tmp dir, and copied to $SEEDBOX_ARTIFACTS_DIR/test_web_client/ when that is set."""
import base64
import http.client
import json
import os
import shutil
import subprocess

from harness import BIN, Daemon, make_file, require_tools, wait_until

DEBIAN_WEB = "/usr/share/transmission/web"
HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.normpath(os.path.join(HERE, "..", "web"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NODE = shutil.which("node")
# jQuery 1.11's feature test sets onfocusin="t"; the policy allows exactly that handler by hash.
CSP_NEEDED = ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'",
              "object-src 'none'")


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Http:
    """One keep-alive connection to the daemon; request() returns (status, headers, body)."""

    def __init__(self, d):
        self.d = d
        self.conn = http.client.HTTPConnection(d.host, d.port, timeout=30)

    def request(self, path, method="GET", auth=True, headers=None):
        h = {"Authorization": basic("me", self.d.token)} if auth is True else \
            ({"Authorization": auth} if auth else {})
        h.update(headers or {})
        self.conn.request(method, path, headers=h)
        r = self.conn.getresponse()
        body = r.read()
        if r.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body

    def close(self):
        self.conn.close()


def web_root(tmp_path):
    root = tmp_path / "web"
    (root / "javascript").mkdir(parents=True)
    (root / "index.html").write_text("<!DOCTYPE html><title>web</title>\n")
    (root / "javascript" / "app.js").write_text("var app = 1;\n")
    (root / "style.css").write_text("body { color: black }\n")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / ".htpasswd").write_text("me:secret\n")
    return root


def test_web_root_is_served_read_only_behind_transmissions_login(tmp_path):
    root = web_root(tmp_path)
    with Daemon(args=["--set", f"web.root={root}", "--set", "rpc.auth_failures=5"]) as d:
        c = Http(d)
        # No credentials: the Basic challenge, never a failed login (many in a row).
        for _ in range(8):
            status, h, _ = c.request("/transmission/web/", auth=None)
            assert status == 401 and h["www-authenticate"] == 'Basic realm="Transmission"'
        # Right credentials: the file, with no X-Transmission-Session-Id handshake.
        status, h, body = c.request("/transmission/web/")
        assert status == 200 and body == (root / "index.html").read_bytes()
        assert h["content-type"] == "text/html; charset=utf-8"
        assert h["cache-control"] == "no-cache" and h["x-content-type-options"] == "nosniff"
        assert h["etag"].startswith('"') and h["last-modified"].endswith(" GMT")
        assert all(p in h["content-security-policy"] for p in CSP_NEEDED), h
        assert c.request("/transmission/web/index.html")[2] == body
        assert c.request("/transmission/web/", auth=f"Bearer {d.token}")[0] == 200
        for path, kind in (("/transmission/web/javascript/app.js", "text/javascript; charset=utf-8"),
                           ("/transmission/web/style.css", "text/css; charset=utf-8"),
                           ("/transmission/web/logo.png", "image/png")):
            status, h, _ = c.request(path)
            assert status == 200 and h["content-type"] == kind, (path, h)

        # Redirects: /transmission/web for good, / for as long as web.root is set.
        status, h, _ = c.request("/transmission/web")
        assert status == 301 and h["location"] == "/transmission/web/"
        status, h, _ = c.request("/")
        assert status == 302 and h["location"] == "/transmission/web/"

        # HEAD: GET's headers, no body, and the connection stays usable (same socket).
        status, h, body = c.request("/transmission/web/javascript/app.js", "HEAD")
        assert status == 200 and body == b"" and h["content-length"] == "13"
        etag = h["etag"]
        status, h, body = c.request("/transmission/web/javascript/app.js",
                                    headers={"If-None-Match": etag})
        assert status == 304 and body == b"" and h["etag"] == etag
        assert c.request("/transmission/web/javascript/app.js",
                         headers={"If-None-Match": '"other"'})[0] == 200
        for method in ("POST", "PUT", "DELETE"):
            status, h, _ = c.request("/transmission/web/index.html", method)
            assert status == 405 and h["allow"] == "GET, HEAD"

        # Confinement, at the moment of use: a symlink made now to the token is refused too.
        os.symlink(os.path.join(d.state_dir, "rpc.token"), root / "token.txt")
        (root / "up").symlink_to(d.state_dir, target_is_directory=True)
        for path in ("/transmission/web/.htpasswd", "/transmission/web/%2ehtpasswd",
                     "/transmission/web/../var/rpc.token", "/transmission/web/%2e%2e/web/index.html",
                     "/transmission/web/token.txt", "/transmission/web/up/rpc.token",
                     "/transmission/web/javascript/", "/transmission/web/nothing.js",
                     "/transmission/web/a%5c..%5cindex.html"):
            status, _, body = c.request(path)
            assert status == 404 and d.token.encode() not in body, (path, status)

        # Host and Origin are checked as everywhere else.
        assert c.request("/transmission/web/", headers={"Host": "evil.example"})[0] == 421
        c = Http(d)
        assert c.request("/transmission/web/",
                         headers={"Origin": "http://evil.example"})[0] == 403
        # Transmission's RPC keeps its handshake.
        c = Http(d)
        assert c.request("/transmission/rpc")[0] == 409
        # A wrong password is a failed login, held by the same brake.
        statuses = []
        for _ in range(8):
            statuses.append(Http(d).request("/transmission/web/", auth=basic("me", "wrong"))[0])
        assert statuses[0] == 401 and 429 in statuses, statuses
        c.close()


def test_without_web_root_nothing_is_served(tmp_path):
    with Daemon() as d:
        for path in ("/", "/transmission/web", "/transmission/web/"):
            assert Http(d).request(path)[0] == 404, path


def test_a_bad_web_root_stops_the_start(tmp_path):
    def start(*sets):
        args = [BIN, "--state-dir", str(tmp_path / "var"), "--rpc-bind", "127.0.0.1:0",
                "--set", "bt.listen_interfaces=127.0.0.1:0"]
        for s in sets:
            args += ["--set", s]
        return subprocess.run(args, capture_output=True, text=True, timeout=60)
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    for setting, code, why in ((f"web.root={tmp_path / 'none'}", 1, "No such file or directory"),
                               (f"web.root={tmp_path / 'file'}", 1, "is not a directory"),
                               (f"web.root={tmp_path / 'empty'}", 1, "index.html"),
                               ("web.root=relative/web", 2, "must be an absolute path")):
        r = start(setting)
        assert r.returncode == code and "web.root" in r.stderr and why in r.stderr, r.stderr
    r = start(f"web.root={web_root(tmp_path)}", "transmission.enabled=false")
    assert r.returncode == 1 and "transmission.enabled" in r.stderr, r.stderr


def require_browser_tools():
    """Skips (or, with CI set, fails) unless Chromium, node, puppeteer-core and Debian's web
    client are all here."""
    missing = []
    if not os.path.exists(os.path.join(DEBIAN_WEB, "index.html")):
        missing.append(f"{DEBIAN_WEB} (apt: transmission-common)")
    if not os.access(CHROMIUM, os.X_OK):
        missing.append("chromium (apt: chromium)")
    if not NODE:
        missing.append("node (apt: nodejs)")
    if not os.path.isdir(os.path.join(TOOLS, "node_modules", "puppeteer-core")):
        missing.append("tests/web/node_modules (npm ci in tests/web)")
    require_tools(missing)


def make_torrent(path):
    """A .torrent of one file, made by python3-libtorrent (a tool we did not write)."""
    import libtorrent as lt  # python3-libtorrent, Debian's /usr/bin/python3
    fs = lt.file_storage()
    lt.add_files(fs, path)
    t = lt.create_torrent(fs, 64 << 10)
    lt.set_piece_hashes(t, os.path.dirname(path))
    return lt.bencode(t.generate())


def keep_artifacts(*paths):
    """Copies the test's artifacts to $SEEDBOX_ARTIFACTS_DIR/test_web_client/ when it is set."""
    out = os.environ.get("SEEDBOX_ARTIFACTS_DIR")
    if not out:
        return
    out = os.path.join(out, "test_web_client")
    os.makedirs(out, exist_ok=True)
    for p in paths:
        if os.path.exists(p):
            shutil.copy(p, out)


def test_transmissions_web_client_adds_seeds_and_removes_in_chromium(tmp_path):
    require_browser_tools()
    with Daemon(args=["--set", f"web.root={DEBIAN_WEB}"]) as d:
        # The data is already in the downloads folder (the client adds to the daemon's
        # download-dir), so the torrent checks and seeds.
        data = os.path.join(d.downloads, "web-client.bin")
        make_file(data, 3 << 20)
        torrent = tmp_path / "web-client.torrent"
        torrent.write_bytes(make_torrent(data))
        shot, report_path = tmp_path / "web-client.png", tmp_path / "web-client.json"
        cfg = {"url": f"http://{d.addr}", "user": "me", "password": d.token,
               "torrent": str(torrent), "name": "web-client.bin", "screenshot": str(shot),
               "chromium": CHROMIUM, "timeout_ms": 120000}
        try:
            r = subprocess.run([NODE, os.path.join(TOOLS, "webclient.mjs"), json.dumps(cfg)],
                               capture_output=True, text=True, timeout=240, cwd=TOOLS)
            report_path.write_text(r.stdout)
        finally:
            keep_artifacts(shot, report_path)
        lines = r.stdout.strip().splitlines()
        assert lines, f"webclient.mjs printed nothing (exit {r.returncode}):\n{r.stderr}"
        report = json.loads(lines[-1])
        assert r.returncode == 0 and report["ok"], \
            f"the browser failed at step {report['step']!r}: {report['error']}\n" \
            f"report: {report}\nscreenshot: {shot}\ndaemon log:\n{d.logs()}"
        assert report["final_url"] == f"http://{d.addr}/transmission/web/", report
        assert report["csp_violations"] == [], report
        assert report["page_errors"] == [] and report["dialogs"] == [], report
        assert report["bad_responses"] == [], report
        # Chrome logs the 409 of Transmission's session-id handshake (and a 401 challenge) as a
        # failed load; anything else is an error of the client under our headers.
        other = [m for m in report["console_errors"]
                 if not m.startswith("Failed to load resource") or
                 not ("status of 409" in m or "status of 401" in m)]
        assert other == [], report
        assert shot.exists()
        # Removed, as the daemon's own API sees it; the data stays (remove, not trash).
        wait_until(lambda: d.call("torrent.list", fields=["id"])["torrents"] == [], 30,
                   what="the torrent to be gone from torrent.list")
        assert os.path.exists(data)
