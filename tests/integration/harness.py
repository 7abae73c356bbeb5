"""Drives the real seedboxd binary the way users do: spawn it on 127.0.0.1 port 0 in a temp state
dir, read the bound address from --ready-file, talk JSON-RPC over HTTP and WebSocket.

Every wait has a deadline; nothing sleeps and hopes."""

import base64
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

BIN = os.environ.get("SEEDBOX_TEST_BIN", "build/seedboxd")


def wait_until(predicate, timeout=20.0, interval=0.05, what="condition"):
    """Polls predicate() until it returns a truthy value, or fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - keep polling, report the last error
            last_exc = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}" +
                         (f" (last error: {last_exc!r})" if last_exc else ""))


class RpcError(Exception):
    def __init__(self, error):
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = error.get("code")
        self.message = error.get("message")
        self.token = (error.get("data") or {}).get("token")


class Daemon:
    """One seedboxd process with its own state dir. Use as a context manager."""

    def __init__(self, state_dir=None, args=(), env=None, bt_iface="127.0.0.1:0", relative=False):
        self.tmp = None
        if state_dir is None:
            self.tmp = tempfile.mkdtemp(prefix="seedboxd-it-")
            state_dir = self.tmp
        self.dir = state_dir
        os.makedirs(state_dir, exist_ok=True)
        self.state_dir = os.path.join(state_dir, "var")
        self.downloads = os.path.join(self.state_dir, "downloads")
        self.args = list(args)
        self.env = dict(env or {})
        self.bt_iface = bt_iface
        # relative: started in its directory with "--state-dir var", as a new user follows the
        # README from a checkout (every relative path then means what the README says).
        self.relative = relative
        self.proc = None
        self.addr = None
        self.token = None
        self.log_path = os.path.join(state_dir, "seedboxd.log")

    # -- process -----------------------------------------------------------------------------
    def command(self):
        state_dir = "var" if self.relative else self.state_dir
        return [os.path.abspath(BIN), "--state-dir", state_dir, "--rpc-bind", "127.0.0.1:0",
                "--ready-file", self.ready_file, "--set", f"bt.listen_interfaces={self.bt_iface}",
                "--log-level", "debug"] + self.args

    @property
    def ready_file(self):
        return os.path.join(self.dir, "ready")

    def start(self, timeout=30, loaded=True):
        """Starts seedboxd and waits for its ready file. The API answers before the torrents
        stored in state.db have loaded (they show state `loading` until then); with `loaded`, this
        also waits until none is loading, so a test's first call finds them usable."""
        if os.path.exists(self.ready_file):
            os.unlink(self.ready_file)
        had_state = os.path.exists(os.path.join(self.state_dir, "state.db"))
        env = dict(os.environ)
        env.update(self.env)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), stdout=self.log, stderr=subprocess.STDOUT,
                                     env=env, stdin=subprocess.DEVNULL,
                                     cwd=self.dir if self.relative else None)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"seedboxd exited with {self.proc.returncode}:\n{self.logs()}")
            if os.path.exists(self.ready_file):
                with open(self.ready_file) as f:
                    text = f.read().strip()
                return text or None
            return None
        self.addr = wait_until(ready, timeout, what="the ready file")
        with open(os.path.join(self.state_dir, "rpc.token")) as f:
            self.token = f.read().strip()
        if loaded and had_state:
            wait_until(lambda: all(t["state"] != "loading" for t in
                                   self.call("torrent.list", fields=["state"])["torrents"]),
                       timeout, what="the stored torrents to load")
        return self

    def logs(self, tail=6000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-tail:]
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=40):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"seedboxd did not exit within {timeout}s of signal {sig}")
        finally:
            self.log.close()
        return code

    def check_clean_exit(self, code):
        """A SIGTERM'd daemon exits 0 and its log holds no sanitizer report."""
        log = self.logs(tail=1 << 30)
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehaviorSanitizer",
                       "ThreadSanitizer"):
            assert marker not in log, f"sanitizer report in the daemon log:\n{log}"
        if code is not None:
            assert code == 0, f"seedboxd exited with {code} after SIGTERM:\n{log}"

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, *exc):
        try:
            running = self.proc is not None and self.proc.poll() is None
            code = self.stop()
            if exc_type is None:
                self.check_clean_exit(code if running else None)
        finally:
            if self.tmp and not os.environ.get("SEEDBOX_TEST_KEEP"):
                shutil.rmtree(self.tmp, ignore_errors=True)

    # -- HTTP --------------------------------------------------------------------------------
    @property
    def host(self):
        return self.addr.rsplit(":", 1)[0]

    @property
    def port(self):
        return int(self.addr.rsplit(":", 1)[1])

    def post(self, body, headers=None, path="/rpc", method="POST", auth=True, timeout=60):
        """Raw HTTP request; returns (status, headers dict, body bytes)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        h = {"Content-Type": "application/json"}
        if auth:
            h["Authorization"] = f"Bearer {self.token}"
        h.update(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    def call(self, method, **params):
        """JSON-RPC call; returns the result or raises RpcError."""
        status, _, data = self.post({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        assert status == 200, (status, data)
        reply = json.loads(data)
        if "error" in reply:
            err = RpcError(reply["error"])
            self.check_error(err)
            raise err
        self.check_result(method, reply["result"])
        return reply["result"]

    def discovered(self):
        """The daemon's rpc.discover document (cached), or None when this test changed the token
        on purpose."""
        if getattr(self, "_discover", None) is None:
            status, _, data = self.post({"jsonrpc": "2.0", "id": 0, "method": "rpc.discover"})
            doc = json.loads(data)
            if "result" not in doc:
                return None
            self._discover = doc["result"]
            self._validators = {}
        return self._discover

    def check_error(self, err):
        """Every error a test sees must be a row of the daemon's error table (rpc/errors.cpp), as
        rpc.discover lists it: the same code for the token."""
        doc = self.discovered()
        if doc is None:
            return
        row = doc["components"]["errors"].get(err.token)
        assert row is not None, f"error token {err.token!r} is not in the error table: {err}"
        assert row["code"] == err.code, f"{err.token} answered with {err.code}, table {row}"

    def check_result(self, method, result):
        """Every answer a test sees must fit the result schema its method declares (rpc/methods/,
        published by rpc.discover)."""
        import jsonschema  # python3-jsonschema
        doc = self.discovered()
        if doc is None:
            return
        if method not in self._validators:
            m = next((m for m in doc["methods"] if m["name"] == method), None)
            assert m is not None, f"{method} answered but rpc.discover does not list it"
            self._validators[method] = jsonschema.Draft7Validator(m["result"]["schema"])
        errors = sorted(self._validators[method].iter_errors(result), key=str)
        assert not errors, f"{method}: the answer does not fit its declared result schema: " + \
            "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:3])

    def error_of(self, method, **params):
        """Calls and returns the RpcError it must raise."""
        try:
            result = self.call(method, **params)
        except RpcError as e:
            return e
        raise AssertionError(f"{method} was expected to fail but returned {result!r}")

    def ws(self, auth=True, headers=None, origin=None):
        import websocket  # python3-websocket
        h = [f"Authorization: Bearer {self.token}"] if auth else []
        h += headers or []
        extra = {"origin": origin} if origin else {}
        conn = websocket.create_connection(f"ws://{self.addr}/rpc", header=h, timeout=30, **extra)
        return CheckedWs(conn, self)

    def check_event(self, note):
        """Every notification a test sees must be an event of the daemon's event table
        (rpc/methods/events.cpp, published by rpc.discover as components.x-events) and fit its
        payload schema."""
        import jsonschema  # python3-jsonschema
        doc = self.discovered()
        if doc is None:
            return
        method = note["method"]
        key = "event:" + method
        if key not in self._validators:
            row = doc["components"]["x-events"].get(method)
            assert row is not None, f"notification {method!r} is not in the event table"
            self._validators[key] = jsonschema.Draft7Validator(row["params"])
        errors = sorted(self._validators[key].iter_errors(note.get("params")), key=str)
        assert not errors, f"{method}: the notification does not fit its payload schema: " + \
            "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:3])

    def torrent(self, tid, *fields):
        return self.call("torrent.get", id=tid, fields=list(fields) or ["id", "state", "progress"])

    def add_new(self, name, size, piece_kib=64, **add):
        """Makes a file of `size` random bytes in the downloads dir, a .torrent of it with
        mktorrent (beside the state dir), and adds it with torrent.add `add`. Returns (torrent.add's
        answer, the metainfo bytes, the file's path)."""
        path = os.path.join(self.downloads, name)
        make_file(path, size)
        meta = mktorrent(path, os.path.join(self.dir, name + ".torrent"), piece_kib=piece_kib)
        return self.call("torrent.add", metainfo=b64(meta), **add), meta, path

    def wait_state(self, tid, states, timeout=60):
        states = {states} if isinstance(states, str) else set(states)
        return wait_until(lambda: self.torrent(tid, "state")["state"] in states and
                          self.torrent(tid, "state", "progress", "error"),
                          timeout, what=f"torrent {tid} to reach {states}")


class CheckedWs:
    """A websocket-client connection whose recv() checks every notification it returns against
    the daemon's event table (Daemon.check_event); everything else is the connection's own."""

    def __init__(self, conn, daemon):
        self._conn = conn
        self._daemon = daemon

    def recv(self):
        data = self._conn.recv()
        try:
            msg = json.loads(data)
        except (TypeError, ValueError):
            return data
        for m in msg if isinstance(msg, list) else [msg]:
            if isinstance(m, dict) and "method" in m and "id" not in m:
                self._daemon.check_event(m)
        return data

    def __getattr__(self, name):
        return getattr(self._conn, name)


# -- content helpers ---------------------------------------------------------------------------
def require_tools(missing):
    """Skips the calling test when tools it drives are missing (`missing`: each named with how
    to get it), or fails it when CI is set: in CI a test that does not run is a failure."""
    if not missing:
        return
    why = "missing " + ", ".join(missing) + "; scripts/install-deps --test installs them"
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(why + " (CI is set: a missing tool fails the test)")
    pytest.skip(why)


def make_file(path, size):
    """Random file content; returns its sha256."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left > 0:
            chunk = os.urandom(min(left, 1 << 20))
            f.write(chunk)
            h.update(chunk)
            left -= len(chunk)
    return h.hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def mktorrent(source, out, piece_kib=64, trackers=()):
    """Makes a .torrent with Debian's mktorrent (a tool we did not write)."""
    exp = {16: 14, 32: 15, 64: 16, 256: 18, 1024: 20}[piece_kib]
    cmd = ["mktorrent", "-l", str(exp), "-o", out]
    for t in trackers:
        cmd += ["-a", t]
    if os.path.exists(out):
        os.unlink(out)
    subprocess.run(cmd + [source], check=True, stdout=subprocess.DEVNULL)
    with open(out, "rb") as f:
        return f.read()


def b64(data):
    return base64.b64encode(data).decode()


def free_port(host="127.0.0.1"):
    s = socket.socket()
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_below_ephemeral(host="0.0.0.0"):
    """A free port below the kernel's ephemeral range, for a program we did not write that binds a
    port it is given. free_port() hands out an ephemeral port, which any outgoing connection of a
    test running beside this one can take before that program binds it."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(max(1024, low - 12000), low)
        with socket.socket() as s:
            try:
                s.bind((host, port))
                return port
            except OSError:
                continue
    raise AssertionError(f"no free port below {low} on {host}")
