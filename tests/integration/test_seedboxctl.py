"""seedboxctl against the real daemon: it finds the URL and token in the state dir, the
environment or flags; prints tables or --json; resolves id prefixes; and fails with a clear
message and a distinct exit code when it cannot connect (3), the token is wrong (4) or the daemon
answers with an error (1)."""
import json
import os
import select
import subprocess

from harness import BIN, Daemon, free_port, make_file, mktorrent, wait_until

CTL = os.path.join(os.path.dirname(BIN), "seedboxctl")


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
        assert table[0].split() == ["ID", "NAME", "STATE", "DONE", "SIZE", "DOWN", "UP", "RATIO", "LABELS"]
        assert table[1].split()[:2] == [tid[:8], "movie.mkv"] and table[1].split()[-1] == "films"
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
        assert "bytes_up: 0" in ok(ctl(*sd, "ledger"))
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
    r = ctl("--url", "https://127.0.0.1:9180", "list", cwd=tmp_path)
    assert r.returncode == 2 and "https is not supported" in r.stderr
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
