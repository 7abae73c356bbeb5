"""Hostile clients, one function per attack from the "survive a hostile network" issue. Each attack is
bounded in count and time and talks only to the daemon on loopback. The attacks assert nothing about
the daemon's answers: test_hostile.py asserts what must hold, bench/hostile_bench.py measures the
same attacks against two builds.

While an attack runs, a Probe (a signed-in client on a kept-alive connection from 127.0.0.1) asks
system.version every 50 ms and records how long each answer took; peak_rss_mib() reads the daemon's
high-water mark of resident memory from /proc."""

import base64
import http.client
import http.server
import json
import os
import socket
import struct
import threading
import time

ATTACKER = "127.0.0.2"  # attackers connect from here; the signed-in client from 127.0.0.1


# -- measuring ---------------------------------------------------------------------------------
def peak_rss_mib(pid):
    """The process's peak resident set size (VmHWM), MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc/PID/status")


class Probe:
    """A signed-in client calling system.version in a loop on one kept-alive HTTP connection."""

    def __init__(self, d, interval=0.05):
        self.d = d
        self.interval = interval
        self.latencies = []
        self.failures = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._conn = None

    def _call(self):
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.d.host, self.d.port, timeout=30)
        body = '{"jsonrpc":"2.0","id":1,"method":"system.version"}'
        self._conn.request("POST", "/rpc", body=body, headers={
            "Authorization": f"Bearer {self.d.token}", "Content-Type": "application/json"})
        resp = self._conn.getresponse()
        data = resp.read()
        if resp.status != 200 or "version" not in json.loads(data).get("result", {}):
            raise AssertionError(f"system.version answered {resp.status} {data[:200]!r}")

    def _run(self):
        while not self._stop.is_set():
            t0 = time.monotonic()
            try:
                self._call()
                self.latencies.append(time.monotonic() - t0)
            except Exception as e:  # noqa: BLE001 - recorded, judged by the caller
                self.failures.append(f"{type(e).__name__}: {e}")
                self.latencies.append(time.monotonic() - t0)
                if self._conn is not None:
                    self._conn.close()
                self._conn = None
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(60)
        if self._conn is not None:
            self._conn.close()

    @property
    def worst(self):
        return max(self.latencies) if self.latencies else float("inf")


# -- raw clients -------------------------------------------------------------------------------
def connect_from(d, source=ATTACKER, timeout=10):
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect((d.host, d.port))
    return s


def recv_http(s, limit=1 << 20):
    """Reads one HTTP response head (and a short body) from a raw socket; b"" if closed first."""
    data = b""
    try:
        while b"\r\n\r\n" not in data and len(data) < limit:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    return data


def status_of(response):
    try:
        return int(response.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


class RawWs:
    """A minimal WebSocket client on a raw socket, so it can connect from any loopback address
    and send what a real client would not (huge frames, no reads)."""

    def __init__(self, d, source=ATTACKER, token=None, timeout=10, rcvbuf=None, pong=True):
        self.pong = pong
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.bind((source, 0))
        self.sock.connect((d.host, d.port))
        key = base64.b64encode(os.urandom(16)).decode()
        head = (f"GET /rpc HTTP/1.1\r\nHost: {d.addr}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n")
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        self.sock.sendall((head + "\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        end = self.buf.find(b"\r\n\r\n")
        self.status = status_of(self.buf[:end]) if end >= 0 else None
        self.buf = self.buf[end + 4:] if end >= 0 else b""

    def send(self, payload, opcode=1):
        """One masked frame (mask key 0, so the payload goes as is)."""
        if isinstance(payload, str):
            payload = payload.encode()
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        self.sock.sendall(head + b"\0\0\0\0")
        view = memoryview(payload)
        for i in range(0, n, 1 << 20):
            self.sock.sendall(view[i:i + (1 << 20)])

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        """The next text message (str), or None once the server has closed. A socket timeout is
        raised (socket.timeout), not taken for a close."""
        try:
            while True:
                b0, b1 = self._need(2)
                n = b1 & 0x7F
                if n == 126:
                    n = struct.unpack("!H", self._need(2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", self._need(8))[0]
                payload = self._need(n)
                op = b0 & 0x0F
                if op == 8:
                    return None
                if op == 9:  # ping: answered, as every client library does (unless told not to)
                    if self.pong:
                        self.send(payload, opcode=10)
                    continue
                if op in (1, 2):
                    return payload.decode()
        except socket.timeout:
            raise
        except (ConnectionError, OSError):
            return None

    def call(self, method, **params):
        self.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        text = self.recv()
        return json.loads(text) if text else None

    def closed_within(self, seconds):
        """True if the server closes the connection within `seconds` (messages are skipped)."""
        self.sock.settimeout(seconds)
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                if self.recv() is None:
                    return True
        except socket.timeout:
            return False
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# -- attacks -----------------------------------------------------------------------------------
def chunked_post(d, trailers, token=None, body=b'{"jsonrpc":"2.0","id":1,"method":"system.version"}',
                 budget_s=20.0):
    """POST /rpc with a chunked body followed by `trailers` ([(name, value_bytes)]), from the
    attacker address. Returns (status, bytes sent before the server stopped reading)."""
    s = connect_from(d, timeout=budget_s)
    head = (f"POST /rpc HTTP/1.1\r\nHost: {d.addr}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n")
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    sent = 0
    deadline = time.monotonic() + budget_s
    try:
        s.sendall((head + "\r\n").encode() + b"%x\r\n" % len(body) + body + b"\r\n0\r\n")
        for name, value in trailers:
            if time.monotonic() > deadline:
                break
            s.sendall(name.encode() + b": " + value + b"\r\n")
            sent += len(name) + len(value) + 4
        s.sendall(b"\r\n")
    except OSError:
        pass
    status = status_of(recv_http(s))
    s.close()
    return status, sent


def trailer_crash(d, token=None):
    """One trailer field of 70,000 bytes (Beast throws on fields over 65,535)."""
    return chunked_post(d, [("X-Pad", b"a" * 70_000)], token=token)


def trailer_flood(d, token=None, total=400 << 20, field=60_000):
    """Trailer fields of 60 KB each, up to 400 MiB in all (or 20 s)."""
    count = total // field
    value = b"a" * field
    return chunked_post(d, ((f"X-Pad-{i}", value) for i in range(count)), token=token)


def unauthenticated_ws_flood(d, sockets=4, messages=32, size=16_000_000, budget_s=30.0):
    """WebSockets without a token, each sending large JSON arrays. Returns the bytes the daemon
    accepted before closing each one."""
    big = b"[" + b"1," * (size // 2 - 1) + b"1]"
    accepted = []

    def one():
        sent = 0
        try:
            ws = RawWs(d, timeout=budget_s)
            deadline = time.monotonic() + budget_s
            for _ in range(messages):
                if time.monotonic() > deadline:
                    break
                ws.send(big)
                sent += len(big)
        except OSError:
            pass
        accepted.append(sent)

    threads = [threading.Thread(target=one) for _ in range(sockets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(budget_s + 10)
    return accepted


def never_logging_in(d, count=64, sources=8):
    """`count` WebSockets that never log in, spread over `sources` loopback addresses. Returns
    the sockets that got a 101 (the caller closes them)."""
    held = []
    for i in range(count):
        try:
            ws = RawWs(d, source=f"127.0.0.{2 + i % sources}", timeout=5)
        except OSError:
            continue
        if ws.status == 101:
            held.append(ws)
        else:
            ws.close()
    return held


def slow_reader(d, requests=40, batch=100, hold_s=20.0):
    """A signed-in WebSocket that asks for batches of rpc.discover and never reads a byte.
    Returns True when the daemon dropped it within `hold_s` (seen as a failing send: a small ping
    frame every 0.2 s)."""
    ws = RawWs(d, token=d.token, rcvbuf=4096, timeout=5)
    one = [{"jsonrpc": "2.0", "id": i, "method": "rpc.discover"} for i in range(batch)]
    deadline = time.monotonic() + hold_s
    try:
        for _ in range(requests):
            ws.send(json.dumps(one))
        while time.monotonic() < deadline:
            time.sleep(0.2)
            ws.send(b"", opcode=9)
    except OSError:
        ws.close()
        return True
    ws.close()
    return False


class Tarpit:
    """An HTTP server on loopback that accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self._stop = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                c, _ = self.sock.accept()
                self.accepted.append(c)
            except socket.timeout:
                continue
            except OSError:
                return

    def close(self):
        self._stop = True
        for c in self.accepted:
            c.close()
        self.sock.close()


def hanging_url_adds(d, tarpit, calls=8, timeout=60):
    """`calls` torrent.add {url} at a server that never answers, each on its own connection.
    Returns [(seconds, reply)]."""
    results = []

    def one(i):
        t0 = time.monotonic()
        try:
            status, _, data = d.post({"jsonrpc": "2.0", "id": i, "method": "torrent.add",
                                      "params": {"url": f"http://127.0.0.1:{tarpit.port}/{i}.torrent"}},
                                     timeout=timeout)
            results.append((time.monotonic() - t0, json.loads(data) if status == 200 else status))
        except Exception as e:  # noqa: BLE001
            results.append((time.monotonic() - t0, repr(e)))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(calls)]
    for t in threads:
        t.start()
    return threads, results


def wrong_tokens(d, count=200, source=ATTACKER):
    """`count` requests with wrong tokens from `source`. Returns their HTTP statuses and the
    Retry-After values seen."""
    statuses, retry = [], []
    for i in range(count):
        s = socket.socket()
        s.settimeout(10)
        s.bind((source, 0))
        s.connect((d.host, d.port))
        body = b'{"jsonrpc":"2.0","id":1,"method":"system.version"}'
        s.sendall((f"POST /rpc HTTP/1.1\r\nHost: {d.addr}\r\nAuthorization: Bearer wrong{i:060d}\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
                  + body)
        head = recv_http(s)
        s.close()
        statuses.append(status_of(head))
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"retry-after:"):
                retry.append(int(line.split(b":", 1)[1]))
    return statuses, retry


class Redirector(http.server.ThreadingHTTPServer):
    """Serves /hop/N as a redirect to /hop/N-1 after `delay` seconds; /hop/0 as a .torrent."""

    def __init__(self, payload=b"", delay=0.0):
        self.payload = payload
        self.delay = delay
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                time.sleep(server.delay)
                n = int(self.path.rsplit("/", 1)[1]) if self.path.startswith("/hop/") else -1
                if n > 0:
                    self.send_response(302)
                    self.send_header("Location", f"/hop/{n - 1}")
                    self.end_headers()
                elif n == 0:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(server.payload)))
                    self.end_headers()
                    self.wfile.write(server.payload)
                else:
                    self.send_error(404)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self):
        return self.server_address[1]

    def close(self):
        self.shutdown()
        self.server_close()
