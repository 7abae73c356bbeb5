"""Helpers shared by the benchmark scripts: the test torrents (make_torrents), a watch on the
machine's CPU that tells how much of a core processes other than the measured ones used meanwhile
(Watch, wait_quiet, MachineBusy and their limits), and keep-alive HTTP without Nagle (Connection,
Http).

Run the scripts that import this with /usr/bin/python3 (python3-libtorrent)."""
import hashlib
import http.client
import json
import os
import random
import resource
import socket
import time

from list_bench import cpu_seconds  # list_bench puts harness on the path
from harness import wait_until

PAYLOAD_BYTES = 4096
PIECE_BYTES = 16384
BUSY_LIMIT = 0.20  # of one core, used by other processes while a daemon is measured
ATTEMPTS = 3
QUIET_TIMEOUT = 600  # seconds to wait for other processes to calm down before measuring
QUIET_WINDOW = 3  # seconds they must stay calm


class MachineBusy(Exception):
    pass


def make_torrents(n, seed=1, save_dir=None):
    """n v1 .torrent files of one PAYLOAD_BYTES file each (bench-NNNNN.bin), distinct random
    content, no trackers. With save_dir, also writes each payload there, so a daemon adding the
    torrent with that save path checks it and seeds."""
    import libtorrent as lt  # python3-libtorrent: /usr/bin/python3 only
    rng = random.Random(seed)
    if save_dir:
        os.makedirs(save_dir, exist_ok=True)
    out = []
    for i in range(n):
        data = rng.randbytes(PAYLOAD_BYTES)
        fs = lt.file_storage()
        fs.add_file(f"bench-{i:05d}.bin", len(data))
        ct = lt.create_torrent(fs, PIECE_BYTES, flags=lt.create_torrent.v1_only)
        ct.set_hash(0, hashlib.sha1(data).digest())
        out.append(lt.bencode(ct.generate()))
        if save_dir:
            with open(os.path.join(save_dir, f"bench-{i:05d}.bin"), "wb") as f:
                f.write(data)
    return out


def machine_cpu():
    """CPU seconds spent by every process (user, nice, system, irq, softirq) since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / os.sysconf("SC_CLK_TCK")


def _live_cpu(pids):
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except (OSError, IndexError):
            pass  # exited (and reaped: its CPU is in RUSAGE_CHILDREN) or not ours
    return total


def _children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class Watch:
    """CPU used over a stretch of time by the machine, by this process, and by the measured
    processes (pids(): their ids now; a process that exits meanwhile must be one of ours, waited
    for, so that its CPU shows in RUSAGE_CHILDREN: a restart is measured whole). others() is the
    share of one core left for every other process."""

    def __init__(self, pids):
        self.pids = pids
        self.own0, self.kids0 = time.process_time(), _children_cpu()
        self.live0, self.all0, self.wall0 = _live_cpu(pids()), machine_cpu(), time.monotonic()
        self.end = None

    def stop(self):
        if self.end is None:
            self.end = (time.process_time(), _children_cpu(), _live_cpu(self.pids()), machine_cpu(),
                        time.monotonic())
        return self

    @property
    def wall(self):
        return self.stop().end[4] - self.wall0

    @property
    def measured(self):
        """CPU seconds of the measured processes (reaped children included)."""
        own, kids, live, _, _ = self.stop().end
        return (kids - self.kids0) + live - self.live0

    def others(self):
        own, _, _, every, _ = self.stop().end
        return ((every - self.all0) - self.measured - (own - self.own0)) / self.wall


def wait_quiet(pids, name):
    """Polls QUIET_WINDOW-second windows until processes other than pids (one id or a list) use
    at most BUSY_LIMIT of a core (a build or another benchmark ends), for at most QUIET_TIMEOUT
    seconds. Returns the share of a core the idle daemons used in the last window."""
    ids = [pids] if isinstance(pids, int) else list(pids)

    def quiet():
        w = Watch(lambda: ids)
        time.sleep(QUIET_WINDOW)
        return w.others() <= BUSY_LIMIT and {"idle": w.measured / w.wall}
    try:
        return wait_until(quiet, QUIET_TIMEOUT, 0, what="a quiet machine")["idle"]
    except AssertionError:
        raise MachineBusy(f"machine busy for {QUIET_TIMEOUT} s: not measuring {name}") from None


class Connection(http.client.HTTPConnection):
    """Counts the TCP connections it opens (keep-alive holds when there is one). No Nagle:
    http.client sends the header and the body in two writes, and the body would otherwise wait
    for the daemon's delayed ACK (40 ms)."""
    opened = 0

    def connect(self):
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.opened += 1


class Http:
    """One keep-alive HTTP connection to a loopback port (no Nagle), reopened if the daemon
    closed it."""

    def __init__(self, port, headers=None):
        self.port, self.headers = port, dict(headers or {})
        self.conn = Connection("127.0.0.1", port, timeout=120)

    def request(self, method, path, body=None, headers=None):
        """Returns (status, body bytes)."""
        for attempt in range(2):
            try:
                self.conn.request(method, path, body, {**self.headers, **(headers or {})})
                resp = self.conn.getresponse()
                return resp.status, resp.read()
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                if attempt:
                    raise
        return None

    def json(self, method, path, body=None, headers=None):
        status, data = self.request(method, path, body, headers)
        if status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {status}: {data[:200]!r}")
        return json.loads(data)
