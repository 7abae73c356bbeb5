"""What a new user hits in the first hour (issue 12): the README followed from a fresh directory on
the defaults, relative paths, a second daemon on the same state, events for every state change,
and fields that mean what they say. Each test failed before its fix."""
import json
import os
import subprocess
import time

import pytest

from harness import BIN, Daemon, b64, make_file, mktorrent, wait_until


def test_relative_paths_from_a_fresh_directory_mean_what_the_readme_says():
    # The README's steps: data put in var/downloads, then torrent.add, torrent.create and
    # torrent.move with paths relative to the downloads folder.
    with Daemon(relative=True) as d:
        downloads = os.path.realpath(os.path.join(d.dir, "var", "downloads"))
        src = os.path.join(downloads, "ubuntu.iso")
        make_file(src, 300_000)
        meta = mktorrent(src, os.path.join(d.dir, "ubuntu.torrent"), piece_kib=32)
        tid = d.call("torrent.add", metainfo=b64(meta))["id"]
        t = d.wait_state(tid, "seeding", timeout=30)
        assert t["progress"] == 1.0
        assert d.torrent(tid, "save_path")["save_path"] == downloads  # not var/downloads/var/downloads

        make_file(os.path.join(downloads, "myfolder", "a.bin"), 100_000)
        made = d.call("torrent.create", path="myfolder", add=True)
        assert d.torrent(made["id"], "save_path")["save_path"] == downloads
        d.wait_state(made["id"], "seeding")

        d.call("torrent.move", id=tid, path="done")
        wait_until(lambda: d.torrent(tid, "save_path")["save_path"] == os.path.join(downloads, "done"),
                   20, what="the move into downloads/done")
        assert os.path.exists(os.path.join(downloads, "done", "ubuntu.iso"))

        # The printed configuration has absolute paths, and derived ones print as "" so the file
        # can be fed back with another --state-dir without splitting the state.
        printed = json.loads(subprocess.run([os.path.abspath(BIN), "--state-dir", "var", "--print-config"],
                                            cwd=d.dir, capture_output=True, text=True, check=True).stdout)
        assert printed["state_dir"] == os.path.join(os.path.realpath(d.dir), "var") or \
            printed["state_dir"] == os.path.join(d.dir, "var")
        assert printed["rpc"]["token_file"] == "" and printed["torrent"]["allowed_roots"] == []


def test_a_second_daemon_on_the_same_state_dir_exits_at_once_naming_the_first(tmp_path):
    with Daemon(state_dir=str(tmp_path)) as first:
        address_file = os.path.join(first.state_dir, "rpc.address")
        before = open(address_file).read()
        started = time.monotonic()
        second = subprocess.run([os.path.abspath(BIN), "--state-dir", first.state_dir,
                                 "--rpc-bind", "127.0.0.1:0"],
                                capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        assert second.returncode == 1
        assert time.monotonic() - started < 10
        out = second.stdout + second.stderr
        assert f"PID {first.proc.pid}" in out and "in use" in out, out
        assert "restored" not in out  # nothing was loaded
        assert open(address_file).read() == before
        assert first.call("system.version")  # the first one is untouched
    # Once the first has stopped, the lock is free again.
    with Daemon(state_dir=str(tmp_path)) as again:
        assert again.call("system.version")


def test_stop_and_start_announce_their_state_changes(tmp_path):
    with Daemon(state_dir=str(tmp_path)) as d:
        src = os.path.join(d.downloads, "x.bin")
        make_file(src, 200_000)
        tid = d.call("torrent.add", metainfo=b64(mktorrent(src, str(tmp_path / "x.torrent"), piece_kib=32)))["id"]
        d.wait_state(tid, "seeding")
        ws = d.ws()
        ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "events.subscribe",
                            "params": {"events": ["torrent.state_changed"]}}))
        changes = []

        def next_change():
            while True:
                msg = json.loads(ws.recv())
                if msg.get("method") == "torrent.state_changed":
                    p = msg["params"]
                    changes.append((p["previous_state"], p["state"]))
                    return p

        assert json.loads(ws.recv())["id"] == 1
        d.call("torrent.stop", ids=[tid])
        assert next_change()["state"] == "stopped"
        d.call("torrent.start", ids=[tid])
        wait_until(lambda: next_change()["state"] == "seeding", 20, what="seeding again")
        assert changes[0] == ("seeding", "stopped")
        ws.close()


def test_fields_mean_what_they_say(tmp_path):
    with Daemon(state_dir=str(tmp_path)) as d:
        # A torrent whose data is not there yet: all pieces in the torrent, none of them had.
        src = str(tmp_path / "elsewhere" / "y.bin")
        make_file(src, 32 * 1024 * 10)
        meta = mktorrent(src, str(tmp_path / "y.torrent"), piece_kib=32)
        tid = d.call("torrent.add", metainfo=b64(meta))["id"]
        t = wait_until(lambda: (lambda t: t["state"] == "downloading" and t)(
            d.torrent(tid, "state", "num_pieces", "pieces_have", "eta")), 20, what="downloading")
        assert t["num_pieces"] == 10 and t["pieces_have"] == 0
        # A magnet without metadata does not know its size: its ETA is unknown, not "done".
        mag = d.call("torrent.add", magnet="magnet:?xt=urn:btih:" + "cd" * 20)["id"]
        m = d.torrent(mag, "eta", "has_metadata", "num_pieces")
        assert m == {"eta": -1, "has_metadata": False, "num_pieces": 0}


def test_deleting_data_another_torrent_uses_is_refused_naming_it(tmp_path):
    with Daemon(state_dir=str(tmp_path)) as d:
        folder = os.path.join(d.downloads, "shared")
        make_file(os.path.join(folder, "a.bin"), 150_000)
        first = d.call("torrent.create", path=folder, add=True)["id"]
        d.wait_state(first, "seeding")
        # The same files again, as another torrent (a different piece size, another info-hash).
        second = d.call("torrent.create", path=folder, add=True, piece_size=65536)["id"]
        assert second != first
        d.wait_state(second, "seeding")
        e = d.error_of("torrent.remove", ids=[second], delete_data=True)
        assert e.code == 1013 and e.token == "data_in_use"
        assert first in e.message and "shared" in e.message
        assert os.path.exists(os.path.join(folder, "a.bin"))
        assert {t["id"] for t in d.call("torrent.list")["torrents"]} == {first, second}
        # Both at once is fine: nothing else uses the files.
        d.call("torrent.remove", ids=[first, second], delete_data=True)
        wait_until(lambda: not os.path.exists(os.path.join(folder, "a.bin")), 15, what="deletion")


def test_a_missing_listen_interface_fails_closed(tmp_path):
    # At start: an address this host does not have stops the daemon with a message.
    d = Daemon(state_dir=str(tmp_path / "a"), bt_iface="192.0.2.1:0")
    with pytest.raises(AssertionError) as info:
        d.start(timeout=20)
    assert "192.0.2.1" in str(info.value) and "no address" in str(info.value)
    d.stop()
    d = Daemon(state_dir=str(tmp_path / "b"), bt_iface="tun9:0")
    with pytest.raises(AssertionError) as info:
        d.start(timeout=20)
    assert "no network device or address named \"tun9\"" in str(info.value)
    d.stop()
    # Live: refused, and what is listening is reported.
    with Daemon(state_dir=str(tmp_path / "c"), bt_iface="127.0.0.1:0") as d:
        listening = wait_until(lambda: d.call("session.stats")["listening"], 10, what="a listen socket")
        port = d.call("session.stats")["listen_port"]
        assert listening == [f"127.0.0.1:{port}"]
        e = d.error_of("session.set_settings", listen_interfaces="tun9:6881")
        assert e.code == -32602 and "tun9" in e.message
        assert d.call("session.settings")["listen_interfaces"] == "127.0.0.1:0"
        # A setting that leaves listen_interfaces alone does not make the list forget its socket.
        d.call("session.set_settings", upload_rate_limit=1_000_000)
        assert d.call("session.stats")["listening"] == listening


def test_help_config_and_discover_offer_only_what_works(tmp_path):
    out = subprocess.run([os.path.abspath(BIN), "--help-config"], capture_output=True, text=True,
                         check=True).stdout
    hooks = next(line for line in out.splitlines() if line.startswith("hooks.on_complete"))
    assert "config file only" in hooks and "SEEDBOXD_HOOKS_ON_COMPLETE" not in out
    assert '"0.0.0.0:51413,[::]:51413"' in out
    # When a key applies comes from the same table as the SIGHUP reload and session.set_settings.
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert lines["log_level"].endswith("; SIGHUP)")
    assert lines["bt.upload_rate_limit"].endswith("; SIGHUP, session.set_settings)")
    assert "0 to 2147483647" in lines["bt.upload_rate_limit"]
    assert lines["rpc.bind"].endswith("(env SEEDBOXD_RPC_BIND)")
    with Daemon(state_dir=str(tmp_path)) as d:
        doc = d.call("rpc.discover")
        setter = next(m for m in doc["methods"] if m["name"] == "session.set_settings")
        offered = {p["name"] for p in setter["params"]}
        session_keys = {k[3:] for k, line in lines.items() if "session.set_settings)" in line}
        assert offered == session_keys | {"listen_port"}
        assert set(d.call("session.settings")) == offered
        sub = next(m for m in doc["methods"] if m["name"] == "events.subscribe")
        offered = json.dumps(sub["params"])
        for name in ["torrent.state_changed", "ledger.credited", "ledger.voucher", "settlement.batch"]:
            assert name in offered


def test_server_side_files_and_paths_say_what_is_wrong(tmp_path):
    with Daemon(state_dir=str(tmp_path)) as d:
        e = d.error_of("torrent.add", path="nothing-here.torrent")
        assert e.code == 1014 and e.token == "file_not_found"
        assert os.path.join(os.path.realpath(d.downloads), "nothing-here.torrent") in e.message
        e = d.error_of("torrent.move", id="00" * 20, path="/etc")
        assert e.code in (1001, 1004)
        e = d.error_of("torrent.create", path="/usr/share/doc")
        assert e.code == 1004 and "torrent.allowed_roots: " + os.path.realpath(d.downloads) in e.message


def test_a_stored_listen_address_that_vanished_stops_the_start_until_reset(tmp_path):
    import sqlite3
    d = Daemon(state_dir=str(tmp_path), bt_iface="127.0.0.1:0")
    with d:
        d.call("session.set_settings", listen_interfaces="127.0.0.1:0", upload_rate_limit=123456)
    # As if the address set over RPC were gone at the next boot (a VPN interface that is down).
    db = sqlite3.connect(os.path.join(d.state_dir, "state.db"))
    db.execute("UPDATE blobs SET value = ? WHERE key = 'settings'",
               (json.dumps({"listen_interfaces": "192.0.2.1:0", "upload_rate_limit": 123456}).encode(),))
    db.commit()
    db.close()
    again = Daemon(state_dir=str(tmp_path), bt_iface="127.0.0.1:0")
    with pytest.raises(AssertionError) as info:
        again.start(timeout=20)
    assert "stored in state.db" in str(info.value) and "--reset-session-settings" in str(info.value)
    again.stop()
    with Daemon(state_dir=str(tmp_path), bt_iface="127.0.0.1:0", args=["--reset-session-settings"]) as reset:
        s = reset.call("session.settings")
        assert s["listen_interfaces"] == "127.0.0.1:0" and s["upload_rate_limit"] == 0
