"""Swarms through a real tracker (Debian's opentracker) with clients we did not write: aria2c
downloads from the daemon, and the daemon downloads from transmission-cli. Each peer has its own
loopback address, as the notes on libtorrent's self-connection ban advise."""
import json
import os
import shutil
import signal
import subprocess

import pytest

from harness import (Daemon, b64, free_port, make_file, mktorrent, port_below_ephemeral, sha256_file,
                     wait_until)

SIZE = 12 * 1024 * 1024


@pytest.fixture()
def tracker(tmp_path):
    """Starts opentracker for the given info-hashes (Debian builds it whitelist-only)."""
    procs = []

    def start(*info_hashes):
        port = free_port("127.0.0.1")
        # opentracker chroots into -d and drops to nobody before reading the whitelist.
        root = tmp_path / "opentracker"
        root.mkdir(exist_ok=True)
        os.chmod(root, 0o755)
        (root / "whitelist").write_text("".join(h + "\n" for h in info_hashes))
        os.chmod(root / "whitelist", 0o644)
        proc = subprocess.Popen(["opentracker", "-i", "127.0.0.1", "-p", str(port), "-P", str(port),
                                 "-w", "whitelist", "-d", str(root)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)

        def up():
            if proc.poll() is not None:
                raise AssertionError(f"opentracker exited with {proc.returncode}")
            import socket
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        wait_until(up, 10, what="opentracker")
        return f"http://127.0.0.1:{port}/announce"
    yield start
    for p in procs:
        p.send_signal(signal.SIGTERM)
        p.wait(10)


def test_aria2c_downloads_from_the_daemon_via_opentracker(tracker, tmp_path):
    with Daemon(bt_iface="127.0.0.5:0") as d:
        src = os.path.join(d.downloads, "dist.iso")
        digest = make_file(src, SIZE)
        tfile = str(tmp_path / "dist.torrent")
        meta = mktorrent(src, tfile, piece_kib=256)
        info_hash = d.call("torrent.add", metainfo=b64(meta), paused=True)["id"]
        d.call("torrent.remove", ids=[info_hash])
        url = tracker(info_hash)
        meta = mktorrent(src, tfile, piece_kib=256, trackers=[url])
        tid = d.call("torrent.add", metainfo=b64(meta))["id"]
        assert tid == info_hash  # announce URLs are outside the info dict
        d.wait_state(tid, "seeding")
        wait_until(lambda: any(t["status"] == "working" for t in d.call("torrent.trackers", id=tid)["trackers"]),
                   30, what="the daemon's announce")
        out = tmp_path / "aria2"
        r = subprocess.run(["aria2c", "--interface=127.0.0.6", "--seed-time=0", "--enable-dht=false",
                            "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
                            "--listen-port=" + str(free_port("127.0.0.6")), "--dir", str(out),
                            "--summary-interval=0", "--console-log-level=warn", tfile],
                           capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stdout + r.stderr
        assert sha256_file(str(out / "dist.iso")) == digest
        # The ledger's exact count (libtorrent's own counter can miss a finished peer's tail).
        wait_until(lambda: d.call("ledger.summary")["bytes_up"] >= SIZE, 30,
                   what="the upload in the ledger")


def test_daemon_downloads_from_transmission_via_opentracker(tracker, tmp_path):
    seed_dir = tmp_path / "tr-seed"
    digest = make_file(str(seed_dir / "show.mkv"), SIZE)
    tfile = str(tmp_path / "show.torrent")
    import libtorrent as lt
    mktorrent(str(seed_dir / "show.mkv"), tfile, piece_kib=256)
    url = tracker(str(lt.torrent_info(tfile).info_hashes().v1))
    meta = mktorrent(str(seed_dir / "show.mkv"), tfile, piece_kib=256, trackers=[url])

    tr_log = tmp_path / "transmission.log"

    def tr_output(tail=3000):
        return tr_log.read_bytes().decode(errors="replace").replace("\r", "\n")[-tail:]

    def start_transmission():
        """Starts transmission-cli on a fresh port; returns (process, port) once it has verified the
        data and seeds, or (None, None) when it could not bind its port (then try another)."""
        cfg = tmp_path / "tr-config"
        shutil.rmtree(cfg, ignore_errors=True)
        cfg.mkdir()
        port = port_below_ephemeral()
        (cfg / "settings.json").write_text(json.dumps({
            "dht-enabled": False, "lpd-enabled": False, "pex-enabled": False, "utp-enabled": False,
            # Transmission announces from 127.0.0.1 (libcurl does not bind), so it must listen there.
            "port-forwarding-enabled": False, "bind-address-ipv4": "0.0.0.0",
            "peer-port": port, "speed-limit-up-enabled": False}))
        # Unbuffered output into a file: a pipe nobody reads could fill and stall transmission-cli,
        # and its status line ("Seeding, …", no newline) says when it has verified the data.
        with open(tr_log, "wb") as out:
            proc = subprocess.Popen(["stdbuf", "-o0", "-e0", "transmission-cli", "-g", str(cfg), "-w",
                                     str(seed_dir), "-M", "-v", tfile],
                                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

        def seeding_or_unbound():
            if proc.poll() is not None:
                raise AssertionError(f"transmission-cli exited with {proc.returncode}:\n{tr_output()}")
            text = tr_output(tail=1 << 20)
            if "Couldn't bind" in text or "Unable to bind" in text:
                return "unbound"
            return "Seeding" in text and "seeding"
        try:
            outcome = wait_until(seeding_or_unbound, 60, what="transmission-cli to verify its data and seed")
        except AssertionError as e:
            stop(proc)
            raise AssertionError(f"{e}\n--- transmission-cli:\n{tr_output()}") from None
        if outcome == "unbound":
            stop(proc)
            return None, None
        return proc, port

    def stop(proc):
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    for _ in range(3):
        tr, tr_port = start_transmission()
        if tr:
            break
    else:
        raise AssertionError(f"transmission-cli could not bind a port in 3 tries:\n{tr_output()}")
    try:
        with Daemon(bt_iface="127.0.0.8:0") as d:
            tid = d.call("torrent.add", metainfo=b64(meta))["id"]
            # The daemon announced before Transmission did and will not re-announce for the
            # tracker's interval; dial the seeder directly as an operator would, again until a
            # connection holds.

            def connected():  # one dial, then up to 5 s for it to hold (raises otherwise)
                d.call("torrent.add_peers", id=tid, peers=[f"127.0.0.1:{tr_port}"])
                return wait_until(lambda: (lambda t: t["peers"] > 0 or t["progress"] == 1.0)(
                    d.torrent(tid, "peers", "progress")), 5, what="the dial to hold")
            try:
                wait_until(connected, 60, what="a connection to transmission-cli")
            except AssertionError as e:
                raise AssertionError(f"{e}\n--- transmission-cli:\n{tr_output()}\n"
                                     f"--- seedboxd:\n{d.logs()}") from None
            t = d.wait_state(tid, "seeding", timeout=120)
            assert t["progress"] == 1.0
            assert sha256_file(os.path.join(d.downloads, "show.mkv")) == digest
    finally:
        stop(tr)


def test_a_tracker_that_works_on_one_interface_is_working_and_failures_are_logged_once(tracker, tmp_path):
    # Two listen sockets, IPv4 and IPv6: libtorrent announces from each. The tracker (IPv4 only)
    # answers the IPv4 announce; the IPv6 one cannot reach it. Another torrent's tracker refuses
    # both.
    import libtorrent as lt
    with Daemon(bt_iface="127.0.0.1:0,[::1]:0") as d:
        ids = {}
        dead = f"http://127.0.0.1:{free_port()}/announce"
        for name in ("live", "dead"):
            src = os.path.join(d.downloads, name + ".iso")
            make_file(src, 300_000)
            tfile = str(tmp_path / (name + ".torrent"))
            mktorrent(src, tfile, piece_kib=32)
            url = tracker(str(lt.torrent_info(tfile).info_hashes().v1)) if name == "live" else dead
            ids[name] = (d.call("torrent.add", metainfo=b64(mktorrent(src, tfile, piece_kib=32,
                                                                      trackers=[url])))["id"], url)

        def both_sockets_answered(name):
            tid, url = ids[name]
            t = d.call("torrent.trackers", id=tid)["trackers"][0]
            return (t["url"] == url and len(t["endpoints"]) == 2 and
                    all(e["status"] in ("working", "error", "skipped") for e in t["endpoints"]) and t)
        live = wait_until(lambda: both_sockets_answered("live"), 60, what="both announces to the tracker")
        assert live["status"] == "working" and live["message"] == "", live
        assert "working" in [e["status"] for e in live["endpoints"]], live
        gone = wait_until(lambda: both_sockets_answered("dead"), 60, what="both announces to the dead one")
        assert gone["status"] == "error" and gone["message"], gone
        warned = [line for line in d.logs(tail=1 << 20).splitlines() if " warning " in line and dead in line]
        assert len(warned) == 1, warned
