"""Running under a service manager without one: the sd_notify messages systemd relies on
(STATUS while loading, READY=1 only once the RPC answers, WATCHDOG=1 at half of WATCHDOG_USEC,
RELOADING=1/READY=1 around a SIGHUP reload, STOPPING=1), received on a socket the test binds the way
systemd does; and what SIGHUP reloads from the config file."""
import json
import os
import signal
import socket
import struct
import subprocess
import time

import pytest

from harness import BIN, Daemon, wait_until


SO_TIMESTAMP = 29  # Linux; Python's socket module does not name it


class NotifySocket:
    """A SOCK_DGRAM unix socket like systemd's notify socket; collects every datagram with the
    kernel's receive time (SO_TIMESTAMP), so pacing is measured where the daemon sent it, not
    when this test happened to poll."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMP, 1)
        self.sock.bind(path)
        self.sock.settimeout(0.05)
        self.path = path if not path.startswith("\0") else "@" + path[1:]
        self.messages = []
        self.stamps = []  # seconds, the kernel's receive time of each message

    def poll(self):
        while True:
            try:
                data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(16))
            except (socket.timeout, BlockingIOError):
                return self.messages
            stamp = next((struct.unpack("qq", d[:16]) for lvl, typ, d in anc
                          if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMP), None)
            assert stamp is not None, "the kernel gave no receive timestamp"
            self.messages.append(data.decode())
            self.stamps.append(stamp[0] + stamp[1] / 1e6)

    def wait_for(self, line, timeout=30, after=0):
        def seen():
            msgs = self.poll()
            return next((i for i, m in enumerate(msgs) if i >= after and line in m.split("\n")), None)
        idx = wait_until(lambda: (lambda i: i is not None and (i,))(seen()), timeout,
                         what=f"{line!r} on the notify socket (got {self.messages[-5:]})")
        return idx[0]

    def close(self):
        self.sock.close()


def write_config(path, **bt):
    path.write_text(json.dumps({"log_level": "debug", "bt": bt}))


@pytest.mark.parametrize("abstract", [False, True])
def test_ready_status_watchdog_and_stopping(tmp_path, abstract):
    addr = f"\0seedboxd-test-{os.getpid()}-{time.monotonic_ns()}" if abstract else str(tmp_path / "notify")
    ns = NotifySocket(addr)
    d = Daemon(env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "400000"})
    try:
        d.start()
        ready = ns.wait_for("READY=1")
        # STATUS lines come before READY=1 (opening state, loading torrents)...
        assert any(m.startswith("STATUS=") for m in ns.messages[:ready]), ns.messages
        # ...and READY=1 comes once the RPC answers: the ready file (written just before) is there.
        assert d.call("rpc.discover")
        ready_msg = ns.messages[ready]
        assert "STATUS=serving 0 torrents; RPC on " + d.addr in ready_msg.split("\n"), ready_msg
        # WATCHDOG_USEC=400 ms: a ping every 200 ms.
        first = ns.wait_for("WATCHDOG=1", after=ready)
        wait_until(lambda: sum(m == "WATCHDOG=1" for m in ns.poll()[first:]) >= 5, 10,
                   what="five watchdog pings")
        pings = [t for m, t in zip(ns.messages[first:], ns.stamps[first:]) if m == "WATCHDOG=1"][:5]
        # Not a burst: paced at WATCHDOG_USEC / 2, so four gaps span at least 0.8 s (0.6 allows
        # for timer slack), measured on the kernel's receive times.
        assert pings[4] - pings[0] >= 0.6, pings
        n = len(ns.poll())
        code = d.stop()
        d.check_clean_exit(code)
        assert any(m.startswith("STOPPING=1") for m in ns.poll()[n:]), ns.messages[n:]
    finally:
        d.stop()
        ns.close()


def test_watchdog_pid_for_another_process_is_ignored(tmp_path):
    ns = NotifySocket(str(tmp_path / "notify"))
    with Daemon(env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"}) as d:
        ns.wait_for("READY=1")
        d.call("rpc.discover")
        time.sleep(0.5)  # several intervals pass: no ping may arrive (negative check, bounded)
        assert "WATCHDOG=1" not in ns.poll()
    ns.close()


def test_sighup_reloads_session_settings_and_log_level_keeps_running_on_a_bad_file(tmp_path):
    cfg = tmp_path / "config.json"
    write_config(cfg, upload_rate_limit=0)
    ns = NotifySocket(str(tmp_path / "notify"))
    with Daemon(args=["--config", str(cfg)], env={"NOTIFY_SOCKET": ns.path}) as d:
        ns.wait_for("READY=1")
        assert d.call("session.settings")["upload_rate_limit"] == 0

        # A changed file: applied on SIGHUP, with RELOADING=1 ... READY=1 around it. A secret
        # that changed (a new transmission.password hash) is named too, never shown.
        hashed = subprocess.run([os.path.abspath(BIN), "--hash-password"], input="pw\n",
                                capture_output=True, text=True, check=True).stdout.strip()
        cfg.write_text(json.dumps({"log_level": "warn", "bt": {"upload_rate_limit": 123456,
                                                               "user_agent": "other"},
                                   "transmission": {"password": hashed}}))
        n = len(ns.poll())
        d.proc.send_signal(signal.SIGHUP)
        r = ns.wait_for("RELOADING=1", after=n)
        assert any(l.startswith("MONOTONIC_USEC=") for l in ns.messages[r].split("\n"))
        ns.wait_for("READY=1", after=r)
        assert d.call("session.settings")["upload_rate_limit"] == 123456
        log = d.logs(tail=1 << 20)
        # log_level changed in the file too, but the harness's --log-level flag outranks the file.
        assert "applied: bt.upload_rate_limit\n" in log, log
        assert "take effect after a restart: bt.user_agent, transmission.password" in log, log
        assert hashed not in log

        # A broken file: refused, the daemon keeps running with what it had.
        cfg.write_text('{"bt": {"upload_rate_limit": "fast"}}')
        n = len(ns.poll())
        d.proc.send_signal(signal.SIGHUP)
        ns.wait_for("READY=1", after=n)
        wait_until(lambda: "configuration not reloaded" in d.logs(tail=1 << 20), 10,
                   what="the reload error in the log")
        assert "bt.upload_rate_limit" in d.logs(tail=4000)
        assert d.call("session.settings")["upload_rate_limit"] == 123456
    ns.close()
