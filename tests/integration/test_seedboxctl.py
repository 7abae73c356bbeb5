"""seedboxctl against the real daemon: it finds the URL and token in the state dir, the
environment or flags; prints tables or --json; resolves id prefixes; and fails with a clear
message and a distinct exit code when it cannot connect (3), the token is wrong (4) or the daemon
answers with an error (1)."""
import json
import os
import select
import subprocess

from harness import BIN, Daemon, free_port, make_file, mktorrent, wait_until

CTL = os.path.abspath(os.path.join(os.path.dirname(BIN), "seedboxctl"))


def ctl(*args, env=None, cwd=None, timeout=60):
    e = {k: v for k, v in os.environ.items() if not k.startswith("SEEDBOX_")}
    e.update(env or {})
    return subprocess.run([CTL, *args], capture_output=True, text=True, env=e, cwd=cwd,
                          timeout=timeout)


def ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r.stdout


def test_torrent_commands_through_the_state_dir(tmp_path):
    with Daemon() as d:
        sd = ["--state-dir", d.state_dir]
        src = os.path.join(d.downloads, "movie.mkv")
        make_file(src, 3 << 20)
        tfile = str(tmp_path / "movie.torrent")
        mktorrent(src, tfile)
        out = ok(ctl(*sd, "add", tfile, "--label", "films", cwd=tmp_path))
        assert out.startswith("added ") and "movie.mkv" in out
        tid = d.call("torrent.list")["torrents"][0]["id"]
        assert d.torrent(tid, "labels")["labels"] == ["films"]

        table = ok(ctl(*sd, "list", cwd=tmp_path)).splitlines()
        assert table[0].split() == ["ID", "NAME", "STATE", "DONE", "SIZE", "DOWN", "UP", "ETA", "RATIO",
                                    "LABELS"]
        assert table[1].split()[:2] == [tid[:8], "movie.mkv"] and table[1].split()[-1] == "films"
        assert table[-1].split()[:5] == ["total", "1", "torrents", "3.0", "MiB"]
        rows = json.loads(ok(ctl(*sd, "list", "--json")))
        assert [r["id"] for r in rows] == [tid]
        assert json.loads(ok(ctl(*sd, "list", "--label", "tv", "--json"))) == []

        # A unique prefix is enough; a prefix nobody has is refused.
        ok(ctl(*sd, "stop", tid[:6]))
        d.wait_state(tid, "stopped")
        ok(ctl(*sd, "start", tid[:6]))
        d.wait_state(tid, ["seeding", "checking", "checking_resume"])
        r = ctl(*sd, "stop", "ffffffffff" if not tid.startswith("ffffffffff") else "0000000000")
        assert r.returncode == 2 and "no torrent id starts with" in r.stderr

        info = ok(ctl(*sd, "info", tid[:8]))
        assert f"id: {tid}" in info and "name: movie.mkv" in info
        assert ok(ctl(*sd, "peers", tid)).splitlines()[0].split()[:3] == ["PEER", "CLIENT", "HAS"]
        assert json.loads(ok(ctl(*sd, "stats", "--json")))["torrents"] == 1
        assert "bytes_up: 0 B" in ok(ctl(*sd, "ledger"))
        assert ok(ctl(*sd, "health")).strip() == "ok"
        got = json.loads(ok(ctl(*sd, "call", "torrent.get", json.dumps({"id": tid, "fields": ["name"]}))))
        assert got == {"name": "movie.mkv"}

        ok(ctl(*sd, "remove", tid[:8]))
        wait_until(lambda: d.call("torrent.list")["torrents"] == [], 10, what="the removal")
        assert os.path.exists(src)  # data stays without --delete-data


def test_url_and_token_from_the_environment_and_flags(tmp_path):
    with Daemon() as d:
        env = {"SEEDBOX_URL": f"http://{d.addr}", "SEEDBOX_TOKEN": d.token}
        assert json.loads(ok(ctl("list", "--json", env=env, cwd=tmp_path))) == []
        tf = tmp_path / "token"
        tf.write_text(d.token + "\n")
        assert json.loads(ok(ctl("--url", f"http://{d.addr}/", "--token-file", str(tf), "list",
                                 "--json", cwd=tmp_path))) == []


def test_clear_errors_and_exit_codes(tmp_path):
    port = free_port()
    r = ctl("--url", f"http://127.0.0.1:{port}", "--token", "x" * 32, "list", cwd=tmp_path)
    assert r.returncode == 3 and "cannot connect to http://127.0.0.1:" in r.stderr
    assert "Connection refused" in r.stderr and "is seedboxd running?" in r.stderr
    r = ctl("--url", "ftp://127.0.0.1:9180", "list", cwd=tmp_path)
    assert r.returncode == 2 and "expected http(s)://HOST:PORT" in r.stderr
    with Daemon() as d:
        r = ctl("--url", f"http://{d.addr}", "--token", "wrong-token-wrong-token", "list", cwd=tmp_path)
        assert r.returncode == 4 and "unauthorized" in r.stderr and "wrong-token" not in r.stderr
        r = ctl("--state-dir", d.state_dir, "info", "0" * 40)
        assert r.returncode == 1 and "no torrent with id" in r.stderr and "(code 1001)" in r.stderr
        r = ctl("--state-dir", d.state_dir, "settle")
        assert r.returncode == 1 and "(code 2003)" in r.stderr
        r = ctl("--state-dir", d.state_dir, "add", str(tmp_path / "missing.torrent"))
        assert r.returncode == 2 and "cannot read" in r.stderr


def test_watch_prints_events_as_they_happen(tmp_path):
    with Daemon() as d:
        src = os.path.join(d.downloads, "a.bin")
        make_file(src, 1 << 20)
        meta_file = str(tmp_path / "a.torrent")
        mktorrent(src, meta_file)
        e = {k: v for k, v in os.environ.items() if not k.startswith("SEEDBOX_")}
        w = subprocess.Popen([CTL, "--state-dir", d.state_dir, "watch", "--json", "--count", "1",
                              "torrent.added"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=e)
        try:
            # seedboxctl says on stderr once the daemon confirmed the subscription; then add.
            ready, _, _ = select.select([w.stderr], [], [], 20)
            assert ready, "seedboxctl watch did not subscribe within 20 s"
            line = w.stderr.readline()
            assert line.startswith("seedboxctl: watching ") and "torrent.added" in line, line
            ok(ctl("--state-dir", d.state_dir, "add", meta_file))
            out, err = w.communicate(timeout=30)
        finally:
            w.kill()
        assert w.returncode == 0, err
        event = json.loads(out.splitlines()[0])
        assert event["method"] == "torrent.added" and event["params"]["name"] == "a.bin"


def test_every_torrent_operation_with_human_units(tmp_path):
    with Daemon() as d:
        sd = ["--state-dir", d.state_dir]
        folder = os.path.join(d.downloads, "album")
        make_file(os.path.join(folder, "01.flac"), 300_000)
        make_file(os.path.join(folder, "02.flac"), 200_000)
        out = ok(ctl(*sd, "create", "album", "--add", "--tracker", "http://127.0.0.1:1/announce",
                     "-o", str(tmp_path / "album.torrent")))
        assert out.startswith("created and added ") and "album" in out
        import libtorrent as lt
        ti = lt.torrent_info(str(tmp_path / "album.torrent"))
        tid = str(ti.info_hashes().v1)
        d.wait_state(tid, "seeding")
        p = tid[:6]

        info = ok(ctl(*sd, "info", p))
        assert "progress: 100.0%" in info and "total_size: 488.3 KiB" in info
        assert "added_time: 20" in info and "eta: 0s" in info  # a date, a duration

        files = ok(ctl(*sd, "files", p, "--skip", "1")).splitlines()
        assert files[0].split() == ["INDEX", "SIZE", "DONE", "PRIORITY", "PATH"]
        assert " skip " in files[2] and files[2].rstrip().endswith("02.flac")
        assert [f["wanted"] for f in d.call("torrent.files", id=tid)["files"]] == [True, False]

        ok(ctl(*sd, "trackers", p, "--add", "http://127.0.0.1:2/announce"))
        urls = [t["url"] for t in d.call("torrent.trackers", id=tid)["trackers"]]
        assert urls == ["http://127.0.0.1:1/announce", "http://127.0.0.1:2/announce"]

        ok(ctl(*sd, "limits", p, "--up", "1.5M", "--down", "800k", "--ratio", "2", "--action", "remove"))
        t = d.torrent(tid, "upload_limit", "download_limit", "ratio_limit", "limit_action")
        assert t == {"upload_limit": 1572864, "download_limit": 819200, "ratio_limit": 2.0,
                     "limit_action": "remove"}
        ok(ctl(*sd, "labels", p, "--set", "music", "--set", "flac"))
        assert d.torrent(tid, "labels")["labels"] == ["music", "flac"]

        # call takes id prefixes too.
        got = json.loads(ok(ctl(*sd, "call", "torrent.get", json.dumps({"id": p, "fields": ["labels"]}))))
        assert got == {"labels": ["music", "flac"]}

        ok(ctl(*sd, "recheck", p))
        d.wait_state(tid, "seeding")
        ok(ctl(*sd, "move", p, "moved"))
        wait_until(lambda: d.torrent(tid, "save_path")["save_path"] ==
                   os.path.join(os.path.realpath(d.downloads), "moved"), 20, what="the move")

        assert "FLAGS: d we want its data" in ok(ctl(*sd, "peers", p))
        ok(ctl(*sd, "settings", "upload_rate_limit=1048576", "dht=false"))
        settings = ok(ctl(*sd, "settings"))
        assert "upload_rate_limit: 1048576" in settings and "dht: false" in settings
        assert "uptime: " in ok(ctl(*sd, "stats")) and "listening: 127.0.0.1:" in ok(ctl(*sd, "stats"))
        assert "credits_accrued: 0 BTT" in ok(ctl(*sd, "ledger"))


def test_settle_takes_a_reference_block_in_offline_mode(tmp_path):
    with Daemon(args=["--set", "tron.generate_key=true", "--set",
                      "payments.hub=TAR4TE31YKGGMjT97NaFwDuuMj3WhDpK4j"]) as d:
        sd = ["--state-dir", d.state_dir]
        r = ctl(*sd, "settle")
        assert r.returncode == 1 and "reference_block" in r.stderr
        # What a node's /walletsolidity/getnowblock answers (trimmed), from a file or stdin.
        import time
        now_ms = int(time.time() * 1000)
        block = {"blockID": "0000000003fe262d52bfa4b2814f816f7e0b4b3a2a8ff0c1ff2c3a24b2a1e9f0",
                 "block_header": {"raw_data": {"number": 66987565, "timestamp": now_ms}}}
        (tmp_path / "block.json").write_text(json.dumps(block))
        r = ctl(*sd, "settle", "--block", str(tmp_path / "block.json"))
        assert r.returncode == 1 and "(code 2002)" in r.stderr, r.stderr  # nothing to settle yet
        e = {k: v for k, v in os.environ.items() if not k.startswith("SEEDBOX_")}
        r = subprocess.run([CTL, *sd, "settle", "--block", "-"], input=json.dumps(block),
                           capture_output=True, text=True, env=e, timeout=60)
        assert r.returncode == 1 and "(code 2002)" in r.stderr, r.stderr
        assert "address: T" in ok(ctl(*sd, "wallet"))
        # The wallet's chain operations need broadcast mode; offline they say so (2003), and an
        # amount is BTT with up to 18 decimals.
        r = ctl(*sd, "wallet", "deposit", "20.5")
        assert r.returncode == 1 and "(code 2003)" in r.stderr, r.stderr
        r = ctl(*sd, "wallet", "deposit", "twenty")
        assert r.returncode == 2 and "not a BTT amount" in r.stderr
        r = ctl(*sd, "wallet", "balance")
        assert r.returncode == 1 and "(code 2003)" in r.stderr
        r = ctl(*sd, "settle", "batch", "1")
        assert r.returncode == 1 and "(code 2004)" in r.stderr
        assert "ok: true" in ok(ctl(*sd, "ledger", "verify"))
        assert ok(ctl(*sd, "ledger", "journal")) == ""
        assert json.loads(ok(ctl(*sd, "ledger", "vouchers", "--direction", "received", "--json")))


def test_add_peers_dials_through_an_id_prefix(tmp_path):
    with Daemon() as d:
        tid = d.add_new("p.bin", 100_000)[0]["id"]
        out = ok(ctl("--state-dir", d.state_dir, "add-peers", tid[:6], f"127.0.0.1:{free_port()}"))
        assert out.startswith("dialling 1 peer(s) for " + tid[:8])
        r = ctl("--state-dir", d.state_dir, "add-peers", tid[:6], "not-an-endpoint")
        assert r.returncode == 1 and "(code -32602)" in r.stderr


def test_https_through_a_tls_proxy(tmp_path):
    """The README puts a TLS proxy in front of a public daemon: seedboxctl speaks https to it,
    trusting the system store plus --cacert, and checks the proxy's name."""
    import socket
    import ssl
    import threading
    cert, key = tmp_path / "proxy.pem", tmp_path / "proxy.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    with Daemon() as d:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(cert), str(key))
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        stop = threading.Event()

        def pipe(src, dst):
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        def serve():
            listener.settimeout(0.2)
            while not stop.is_set():
                try:
                    raw, _ = listener.accept()
                except socket.timeout:
                    continue
                try:
                    tls = ctx.wrap_socket(raw, server_side=True)
                except (ssl.SSLError, OSError):
                    raw.close()  # a client that refused our certificate
                    continue
                up = socket.create_connection((d.host, d.port))
                threading.Thread(target=pipe, args=(tls, up), daemon=True).start()
                threading.Thread(target=pipe, args=(up, tls), daemon=True).start()
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        try:
            env = {"SEEDBOX_TOKEN": d.token}
            url = f"https://127.0.0.1:{port}"
            assert json.loads(ok(ctl("--url", url, "--cacert", str(cert), "list", "--json", env=env,
                                     cwd=tmp_path))) == []
            assert ok(ctl("--url", f"https://localhost:{port}", "--cacert", str(cert), "health",
                          env=env, cwd=tmp_path)).strip() == "ok"
            # Not trusted without --cacert (a self-signed certificate is in no system store).
            r = ctl("--url", url, "list", env=env, cwd=tmp_path)
            assert r.returncode == 5 and "TLS with https://127.0.0.1:" in r.stderr and "--cacert" in r.stderr
        finally:
            stop.set()
            t.join(5)
            listener.close()


def test_top_shows_the_torrents_live_and_bash_completes_commands_and_ids(tmp_path):
    with Daemon() as d:
        sd = ["--state-dir", d.state_dir]
        src = os.path.join(d.downloads, "live.bin")
        make_file(src, 400_000)
        tfile = str(tmp_path / "live.torrent")
        mktorrent(src, tfile)
        e = {k: v for k, v in os.environ.items() if not k.startswith("SEEDBOX_")}
        # Two screens: the list as it is (empty), then the one the added torrent's events bring.
        top = subprocess.Popen([CTL, *sd, "top", "--count", "2"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=e)
        try:
            ready, _, _ = select.select([top.stderr], [], [], 20)
            assert ready and "watching" in top.stderr.readline()
            ok(ctl(*sd, "add", tfile))
            out, err = top.communicate(timeout=30)
        finally:
            top.kill()
        assert top.returncode == 0, err
        screens = [s for s in out.split("seedboxctl top") if s.strip()]
        assert len(screens) == 2
        assert "0 torrents" in screens[0] and "live.bin" in screens[1] and "1 torrents" in screens[1]
        assert screens[1].splitlines()[1].split() == ["ID", "NAME", "STATE", "DONE", "DOWN", "UP",
                                                      "PEERS", "ETA", "RATIO"]

        tid = d.call("torrent.list")["torrents"][0]["id"]
        script = ok(ctl("completion", "bash"))
        bindir = os.path.dirname(CTL)

        def complete(*words):
            line = " ".join(words)
            r = subprocess.run(["bash", "-c", script + f"\nCOMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; "
                                "_seedboxctl; printf '%s\\n' \"${COMPREPLY[@]}\""],
                               capture_output=True, text=True, timeout=30,
                               env={**e, "PATH": bindir + ":" + os.environ["PATH"],
                                    "SEEDBOX_STATE_DIR": d.state_dir})
            assert r.returncode == 0, r.stderr
            return r.stdout.split()
        assert set(complete("seedboxctl", "st")) == {"start", "stop", "stats"}
        assert "--delete-data" in complete("seedboxctl", "remove", "--")
        assert complete("seedboxctl", "stop", tid[:2]) == [tid[:8]]
