"""Survive a hostile network: no request, signed in or not, can crash, stall or bloat the daemon.

Each test runs one attack (tests/integration/attacks.py) against a fresh daemon while a signed-in
client keeps calling system.version, and asserts that the daemon survives, answers that client within
1 s throughout, and keeps its peak RSS under 200 MiB. Attackers connect from 127.0.0.2 (and further
loopback addresses), the signed-in client from 127.0.0.1. Under ASan (SEEDBOX_SANITIZED=1) memory is
the sanitizer's, so the RSS bound is not checked and the latency bound is 5 s."""
import base64
import json
import os
import re
import stat
import subprocess
import threading
import time
from contextlib import contextmanager

import pytest

import attacks
from attacks import ATTACKER, Probe, RawWs, peak_rss_mib
from harness import BIN, Daemon, b64, make_file, mktorrent, wait_until

SANITIZED = bool(os.environ.get("SEEDBOX_SANITIZED"))
LATENCY_BOUND = 5.0 if SANITIZED else 1.0
RSS_BOUND_MIB = 200


@contextmanager
def survives(d, rss=True):
    """Runs the body as an attack: the signed-in probe stays fast, the daemon alive and lean."""
    with Probe(d) as probe:
        wait_until(lambda: probe.latencies, 10, what="the signed-in client's first answer")
        yield probe
    assert d.proc.poll() is None, f"the daemon died:\n{d.logs()}"
    assert probe.latencies, "the probe never ran"
    assert not probe.failures, f"the signed-in client failed: {probe.failures[:3]}"
    assert probe.worst < LATENCY_BOUND, f"system.version took {probe.worst:.2f} s"
    assert d.call("system.version")["version"]
    if rss and not SANITIZED:
        assert peak_rss_mib(d.proc.pid) < RSS_BOUND_MIB, f"peak RSS {peak_rss_mib(d.proc.pid):.0f} MiB"


@pytest.fixture()
def d():
    with Daemon(args=["--set", "rpc.auth_timeout=2"]) as d:
        yield d


# -- 1. nothing a client sends terminates the daemon --------------------------------------------
def test_a_huge_trailer_field_without_a_token_is_refused_before_the_body(d):
    with survives(d):
        status, _ = attacks.trailer_crash(d)
    assert status == 401


def test_a_huge_trailer_field_with_the_token_is_431_not_a_crash(d):
    with survives(d):
        status, _ = attacks.trailer_crash(d, token=d.token)
    assert status == 431


def test_a_trailer_flood_shares_the_header_budget(d):
    with survives(d):
        status, sent = attacks.trailer_flood(d, token=d.token)
    assert status == 431
    # What the client got to send: the header budget, the 4 MiB drained after the answer, and
    # what both ends' socket buffers hold (several MiB on a loaded loopback: 8.07 MiB was seen
    # once under ctest -j2), against 400 MiB offered.
    assert sent < 16 << 20, f"the daemon took {sent} bytes of trailers"


def test_a_header_budget_beast_cannot_hold_is_refused_at_start(tmp_path):
    r = subprocess.run([BIN, "--state-dir", str(tmp_path / "var"), "--rpc-bind", "127.0.0.1:0",
                        "--set", "rpc.max_header_bytes=70000"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2
    assert "rpc.max_header_bytes" in r.stderr and "65535" in r.stderr


# -- 2. an unauthenticated client costs almost nothing ------------------------------------------
def test_unauthenticated_websockets_cannot_send_large_messages(d):
    with survives(d):
        accepted = attacks.unauthenticated_ws_flood(d)
    # Each socket is closed at its first frame header over 4 KiB, not after 32 x 16 MB.
    assert len(accepted) == 4 and max(accepted) <= 2 * (16 << 20), accepted
    assert "over 4096 bytes" in d.logs()


def test_before_login_only_auth_login_runs_one_at_a_time(d):
    with survives(d):
        ws = RawWs(d)
        assert ws.status == 101
        assert ws.call("torrent.list")["error"]["code"] == -32001
        ws.send(json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "auth.login",
                             "params": {"token": d.token}}]))
        assert json.loads(ws.recv())["error"]["code"] == -32001  # no batches before login
        assert ws.call("auth.login", token=d.token)["result"] == {"authenticated": True}
        # Signed in: the full limits apply (a 1 MiB message is fine now).
        big = {"jsonrpc": "2.0", "id": 2, "method": "torrent.list", "params": {"label": "x" * (1 << 20)}}
        ws.send(json.dumps(big))
        assert json.loads(ws.recv())["result"] == {"torrents": []}
        ws.close()


def test_a_websocket_that_does_not_log_in_is_closed_at_the_deadline(d):
    with survives(d):
        ws = RawWs(d)
        t0 = time.monotonic()
        assert ws.closed_within(6)
        assert time.monotonic() - t0 < 4  # rpc.auth_timeout=2 here


def test_before_login_a_websocket_gets_a_few_messages_read_one_answer_at_a_time(d):
    with survives(d):
        ws = RawWs(d)
        for i in range(4):  # answered: not signed in
            assert ws.call("torrent.list")["error"]["code"] == -32001
        ws.send(json.dumps({"jsonrpc": "2.0", "id": 5, "method": "torrent.list"}))
        assert ws.closed_within(3)  # the fifth message without signing in closes it
        ws.close()


def test_unauthenticated_requests_do_not_extend_the_sign_in_deadline(d):
    # rpc.auth_timeout=2: a client sending only unauthenticated /healthz every 0.5 s is closed
    # about 2 s after it connected, not kept forever.
    with survives(d):
        s = attacks.connect_from(d)
        t0 = time.monotonic()
        closed_at = None
        while time.monotonic() - t0 < 8:
            try:
                s.sendall(f"GET /healthz HTTP/1.1\r\nHost: {d.addr}\r\n\r\n".encode())
                if not attacks.recv_http(s):
                    closed_at = time.monotonic() - t0
                    break
            except OSError:
                closed_at = time.monotonic() - t0
                break
            time.sleep(0.5)  # the client's own pace, not a wait for the daemon
        s.close()
    assert closed_at is not None and closed_at < 4, closed_at


def test_sockets_that_never_log_in_do_not_lock_out_signed_in_clients(d):
    with survives(d):
        held = attacks.never_logging_in(d, count=64, sources=8)
        # A new client with the token still gets in while the attackers hold their sockets.
        t0 = time.monotonic()
        assert d.call("system.version")["version"]
        assert time.monotonic() - t0 < LATENCY_BOUND
        ws = d.ws()
        ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "system.version"}))
        assert "result" in json.loads(ws.recv())
        # ...and every attacker socket is closed: evicted, or at the 2 s deadline.
        t0 = time.monotonic()
        open_after = [w for w in held if not w.closed_within(max(0.1, 6 - (time.monotonic() - t0)))]
        for w in held:
            w.close()
        ws.close()
    assert not open_after, f"{len(open_after)} unauthenticated sockets still open"
    # Per address, at most 8 were ever admitted unauthenticated (64 over 8 addresses fit; a ninth
    # from one address is refused).
    extra = [RawWs(d, source=ATTACKER, timeout=5) for _ in range(9)]
    assert [w.status for w in extra].count(503) >= 1
    for w in extra:
        w.close()


def test_signed_in_websockets_have_an_idle_timeout_that_pings_keep_alive():
    with Daemon(args=["--set", "rpc.ws_idle_timeout=5"]) as d:
        silent = RawWs(d, token=d.token, pong=False)  # reads, but never answers a ping
        live = RawWs(d, token=d.token)  # answers pings whenever it reads
        answers = []

        def keep_reading():
            live.sock.settimeout(1)  # shorter than the ping interval (2.5 s)
            deadline = time.monotonic() + 8  # past the 5 s timeout
            while time.monotonic() < deadline:
                try:
                    live.recv()  # answers pings as they come; no message comes
                except OSError:
                    pass
            live.sock.settimeout(5)
            answers.append(live.call("system.version"))

        reader = threading.Thread(target=keep_reading)
        t0 = time.monotonic()
        reader.start()
        assert silent.closed_within(12)
        assert 4 < time.monotonic() - t0 < 12
        reader.join(30)
        assert answers and answers[0]["result"]["version"]
        live.close()
        silent.close()


# -- 3. memory is budgeted in bytes -------------------------------------------------------------
def test_a_websocket_that_never_reads_is_dropped_at_its_byte_budget(d):
    with survives(d):
        closed = attacks.slow_reader(d)
    assert closed
    assert "too slow" in d.logs()


# -- 4. slow work never occupies the RPC workers ------------------------------------------------
def test_hanging_url_fetches_do_not_stall_other_calls(tmp_path):
    tarpit = attacks.Tarpit()
    try:
        with Daemon(args=["--set", "torrent.url_allow_private=true",
                          "--set", "torrent.url_timeout=4"]) as d:
            with survives(d):
                threads, results = attacks.hanging_url_adds(d, tarpit, calls=8)
                wait_until(lambda: len(tarpit.accepted) >= 8, 10, what="8 fetches to connect")
                for t in threads:
                    t.join(30)
            assert len(results) == 8
            for seconds, reply in results:
                assert 3.5 < seconds < 7, results
                assert reply["error"]["data"]["token"] == "fetch_failed"
                assert "network error, timeout or an HTTP error" in reply["error"]["message"]
    finally:
        tarpit.close()


def test_wallet_calls_waiting_for_the_chain_do_not_stall_other_calls(tmp_path):
    from trondouble import TronDouble
    with TronDouble(block_ms=100, solid_lag=10) as double:
        args = ["--set", "tron.generate_key=true", "--set", "settlement.expiration=60"]
        with Daemon(args=args + double.daemon_args()) as d:
            me = d.call("wallet.address")["address"]
            double.fund(me, trx=10_000 * 10**6, btt=50 * 10**18)
            double.fault("never_include", count=8)  # every approve waits for its whole deadline
            replies = []

            def deposit():
                try:
                    replies.append(d.post({"jsonrpc": "2.0", "id": 1, "method": "wallet.deposit",
                                           "params": {"amount": "1000"}}, timeout=120))
                except Exception as e:  # noqa: BLE001 - the connection closes at shutdown
                    replies.append(repr(e))

            threads = [threading.Thread(target=deposit) for _ in range(8)]
            with survives(d) as probe:
                for t in threads:
                    t.start()
                # 8 calls hang (4 on the slow pool, 4 queued) for 3 s of probing.
                wait_until(lambda: len(probe.latencies) >= 60, 30, what="3 s of probing")
                assert replies == []
            # A shutdown ends the waits: the daemon stops in its usual time, not after the calls.
            t0 = time.monotonic()
            assert d.stop() == 0
            assert time.monotonic() - t0 < 15
            for t in threads:
                t.join(30)
            assert len(replies) == 8


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_shutdown_stops_torrent_create_hashing(d):
    big = os.path.join(d.downloads, "big.bin")
    with open(big, "wb") as f:
        f.truncate(32 << 30)  # sparse: minutes of hashing, no disk space
    replies = []

    def create():
        try:
            replies.append(d.post({"jsonrpc": "2.0", "id": 1, "method": "torrent.create",
                                   "params": {"path": big}}, timeout=120))
        except Exception as e:  # noqa: BLE001 - the connection closes at shutdown
            replies.append(repr(e))

    t = threading.Thread(target=create)
    # libtorrent hashes through mmap: the file's pages count in RSS (RssFile), not the heap.
    with survives(d, rss=False):
        cpu0 = cpu_seconds(d.proc.pid)
        t.start()
        wait_until(lambda: cpu_seconds(d.proc.pid) - cpu0 > 1.0, 30, what="hashing to run")
    t0 = time.monotonic()
    assert d.stop() == 0
    assert time.monotonic() - t0 < 10, "the shutdown waited for the hashing"
    t.join(30)
    assert replies


def test_a_fifo_is_refused_at_once_and_never_shared(d):
    fifo = os.path.join(d.downloads, "pipe.torrent")
    os.mkfifo(fifo)
    with survives(d):
        t0 = time.monotonic()
        e = d.error_of("torrent.add", path=fifo)
        assert time.monotonic() - t0 < LATENCY_BOUND
    assert e.code == 1004 and "not a regular file" in e.message
    folder = os.path.join(d.downloads, "share")
    make_file(os.path.join(folder, "a.bin"), 50_000)
    os.mkfifo(os.path.join(folder, "pipe"))
    r = d.call("torrent.create", path=folder)
    assert [s["path"] for s in r["skipped"]] == [os.path.join(folder, "pipe")]


# -- 5. files from the API stay inside the roots ------------------------------------------------
def test_torrent_create_leaves_out_symlinks_leading_outside(d, tmp_path):
    with survives(d):
        outside = tmp_path / "secret.txt"
        outside.write_text("not for sharing\n")
        folder = os.path.join(d.downloads, "share")
        make_file(os.path.join(folder, "ok.bin"), 40_000)
        os.symlink(outside, os.path.join(folder, "leak.txt"))
        os.symlink(tmp_path / "nothing", os.path.join(folder, "dangling"))
        os.symlink(os.path.join(folder, "ok.bin"), os.path.join(folder, "inside-link.bin"))
        r = d.call("torrent.create", path=folder, add=True)
        skipped = {os.path.basename(s["path"]): s["reason"] for s in r["skipped"]}
        assert set(skipped) == {"leak.txt", "dangling"}
        assert "outside the allowed roots" in skipped["leak.txt"]
        import libtorrent as lt
        info = lt.torrent_info(lt.bdecode(base64.b64decode(r["metainfo"])))
        names = sorted(os.path.basename(info.files().file_path(i)) for i in range(info.num_files()))
        assert names == ["inside-link.bin", "ok.bin"]


def test_save_paths_through_dangling_or_outside_symlinks_are_refused(d, tmp_path):
    with survives(d):
        os.symlink(tmp_path / "appears-later", os.path.join(d.downloads, "dangling"))
        os.symlink(tmp_path, os.path.join(d.downloads, "escape"))
        mag = "magnet:?xt=urn:btih:" + "cd" * 20
        for where in ("dangling", "dangling/sub", "escape/sub"):
            e = d.error_of("torrent.add", magnet=mag, save_path=os.path.join(d.downloads, where))
            assert e.code == 1004, where
        assert not (tmp_path / "appears-later").exists() and not (tmp_path / "sub").exists()
        tid = d.call("torrent.add", magnet=mag, paused=True)["id"]
        e = d.error_of("torrent.move", id=tid, path=os.path.join(d.downloads, "escape", "x"))
        assert e.code == 1004
        e = d.error_of("torrent.move", id=tid, path=os.path.join(d.downloads, "dangling"))
        assert e.code == 1004 and "symlink to nothing" in e.message


# -- 6. URL add is not an SSRF tool -------------------------------------------------------------
def test_url_add_refuses_smuggling_user_info_and_private_addresses(d):
    with survives(d):
        target = attacks.Redirector()
        try:
            base = f"http://127.0.0.1:{target.port}"
            for url, why in ((base + "/a\r\nPOST /admin/delete HTTP/1.1\r\n\r\n", "control character"),
                             (base + "/a b", "whitespace"),
                             (f"http://user:pw@127.0.0.1:{target.port}/hop/0", "user info"),
                             (base + "/hop/0", "torrent.url_allow_private"),
                             (f"http://localhost:{target.port}/hop/0", "torrent.url_allow_private"),
                             (f"http://[::1]:{target.port}/hop/0", "torrent.url_allow_private")):
                e = d.error_of("torrent.add", url=url)
                assert e.code == 1005 and why in e.message, (url, e.message)
            assert target.requests == []  # nothing reached the local server
        finally:
            target.close()


def test_url_add_errors_are_uniform_with_one_deadline_and_three_redirects(tmp_path):
    src = tmp_path / "r.bin"
    make_file(str(src), 20_000)
    meta = mktorrent(str(src), str(tmp_path / "r.torrent"))
    target = attacks.Redirector(payload=meta)
    tarpit = attacks.Tarpit()
    closed = attacks.Redirector()
    closed_port = closed.port
    closed.close()
    try:
        with Daemon(args=["--set", "torrent.url_allow_private=true",
                          "--set", "torrent.url_timeout=3"]) as d:
            with survives(d):
                base = f"http://127.0.0.1:{target.port}"
                assert d.call("torrent.add", url=base + "/hop/3", paused=True)["added"] is True
                e = d.error_of("torrent.add", url=base + "/hop/4")
                assert e.code == 1005 and "more than 3 redirects" in e.message
                # A closed port, an HTTP 404 and a server that never answers look the same.
                texts = {d.error_of("torrent.add", url=u).message
                         for u in (f"http://127.0.0.1:{closed_port}/x", base + "/missing",
                                   f"http://127.0.0.1:{tarpit.port}/x")}
                assert len(texts) == 1, texts
                # One deadline for the whole fetch: three slow hops do not get 3 s each.
                target.delay = 1.2
                t0 = time.monotonic()
                e = d.error_of("torrent.add", url=base + "/hop/3")
                assert e.code == 1005 and time.monotonic() - t0 < 4.5
    finally:
        target.close()
        tarpit.close()


# -- 7. wrong tokens are braked and seen --------------------------------------------------------
def test_wrong_tokens_are_braked_per_address_and_counted(d):
    with survives(d):
        statuses, retry = attacks.wrong_tokens(d, count=60)
        # The right token from another address is never slowed.
        t0 = time.monotonic()
        assert d.call("system.version")["version"]
        assert time.monotonic() - t0 < LATENCY_BOUND
    assert statuses[:9] == [401] * 9
    assert statuses[9:] == [429] * 51  # the tenth wrong token brakes the address
    assert retry and min(retry) >= 1
    # The right token from the braked address is refused too (the brake is per address).
    s = attacks.connect_from(d)
    body = b'{"jsonrpc":"2.0","id":1,"method":"system.version"}'
    s.sendall((f"POST /rpc HTTP/1.1\r\nHost: {d.addr}\r\nAuthorization: Bearer {d.token}\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
    assert attacks.status_of(attacks.recv_http(s)) == 429
    s.close()
    status, _, text = d.post(None, path="/metrics", method="GET")
    m = re.search(rb"^seedboxd_rpc_auth_failures_total (\d+)", text, re.M)
    assert m and int(m.group(1)) >= 10
    lines = [l for l in d.logs(1 << 20).splitlines() if "wrong token" in l]
    assert 1 <= len(lines) < 10, lines  # logged at warning, rate-limited


def test_three_failed_logins_close_the_websocket(d):
    with survives(d):
        ws = RawWs(d, source="127.0.0.3")
        for i in range(2):
            assert ws.call("auth.login", token="wrong" * 8)["error"]["code"] == -32001
        assert ws.call("auth.login", token="wrong" * 8)["error"]["code"] == -32001
        assert ws.closed_within(3)
        ws.close()


# -- 8. every number is checked against a declared range ----------------------------------------
MAX_U64 = 2**64 - 1


def test_numbers_out_of_range_are_refused_naming_the_range(d):
    with survives(d):
        src = os.path.join(d.downloads, "n.bin")
        make_file(src, 100_000)
        tid = d.call("torrent.add", metainfo=b64(mktorrent(src, os.path.join(d.dir, "n.torrent"))))["id"]
        for method, params, text in (
                ("torrent.set", {"ids": [tid], "max_connections": MAX_U64}, "from -1 to 65535"),
                ("torrent.set", {"ids": [tid], "seed_time_limit": MAX_U64}, "from -2 to"),
                ("torrent.set", {"ids": [tid], "idle_limit": -3}, "from -2 to"),
                ("session.set_settings", {"ratio_limit": 1e300}, "from -1 to 1000000"),
                ("torrent.set", {"ids": [tid], "limit_action": "explode"}, '"stop", "remove" or'),
                ("session.set_settings", {"active_downloads": MAX_U64}, "from -1 to 1000000"),
                ("torrent.list", {"limit": MAX_U64}, "from 1 to 1000000"),
                ("torrent.list", {"limit": 0}, "from 1 to 1000000"),
                ("torrent.set_files", {"id": tid, "files": [{"index": 0, "priority": 2**32 + 7}]},
                 "files[0].priority\" must be an integer from 0 to 7"),
                ("torrent.set_trackers", {"id": tid, "add": [{"url": "udp://t:1", "tier": "x"}]},
                 "add[0].tier\" must be an integer"),
                ("ledger.journal", {"limit": MAX_U64}, "from 1 to 10000")):
            e = d.error_of(method, **params)
            assert e.code == -32602 and text in e.message, (method, params, e.message)
        t = d.torrent(tid, "max_connections", "seed_time_limit")
        assert t == {"max_connections": -1, "seed_time_limit": -1}  # nothing changed
        doc = d.call("rpc.discover")
        setp = next(m for m in doc["methods"] if m["name"] == "torrent.set")["params"]
        mc = next(p for p in setp if p["name"] == "max_connections")["schema"]
        assert (mc["minimum"], mc["maximum"]) == (-1, 65535)


# -- 9. files the daemon creates have explicit modes --------------------------------------------
def test_state_files_have_explicit_modes_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        d = Daemon()
        d.start()
    finally:
        os.umask(old)
    try:
        mode = lambda p: stat.S_IMODE(os.stat(os.path.join(d.state_dir, p)).st_mode)
        assert mode(".") == 0o700
        assert mode("rpc.token") == 0o600
        for db in ("state.db", "ledger.db", "state.db-wal", "ledger.db-wal"):
            assert mode(db) == 0o600, db
        assert mode("rpc.address") == 0o644
    finally:
        d.__exit__(None, None, None)
