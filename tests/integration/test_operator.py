"""What Transmission and qBittorrent users expect of a seedbox: a watch directory (subfolder =
label; files moved to .added/ or .invalid/), move-on-complete per label, per-label default share
limits with stop/remove actions (reloadable with SIGHUP), and an on_complete hook that runs with
argv and environment variables, configurable only in the config file."""
import json
import os
import signal
import stat
import subprocess

from harness import BIN, Daemon, RpcError, b64, make_file, mktorrent, sha256_file, wait_until
from ltpeer import seeding_peer


def config(tmp_path, **sections):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(sections))
    return ["--config", str(path)], path


def names(d):
    return {t["name"]: t for t in d.call("torrent.list", fields=["id", "name", "labels", "state"])["torrents"]}


def test_watch_dir_adds_files_labels_by_subfolder_and_moves_them_aside(tmp_path):
    watch = tmp_path / "watch"
    (watch / "tv").mkdir(parents=True)
    args, _ = config(tmp_path, watch={"dir": str(watch), "interval": 1})
    with Daemon(args=args) as d:
        for name in ("plain.bin", "show.bin"):
            make_file(os.path.join(d.downloads, name), 1 << 20)
        mktorrent(os.path.join(d.downloads, "plain.bin"), str(tmp_path / "plain.torrent"))
        mktorrent(os.path.join(d.downloads, "show.bin"), str(tmp_path / "show.torrent"))
        # Written elsewhere and renamed in, the way a browser or a script should drop a file.
        os.rename(tmp_path / "plain.torrent", watch / "plain.torrent")
        os.rename(tmp_path / "show.torrent", watch / "tv" / "show.torrent")
        (watch / "broken.torrent").write_bytes(b"d4:infoi3ee")
        magnet = "magnet:?xt=urn:btih:" + "ab" * 20 + "&dn=from-magnet"
        (watch / "link.magnet").write_text(magnet + "\n")
        (watch / "notes.txt").write_text("not a torrent")

        got = wait_until(lambda: (lambda n: len(n) == 3 and n)(names(d)), 30,
                         what="three torrents from the watch dir")
        assert got["plain.bin"]["labels"] == [] and got["show.bin"]["labels"] == ["tv"]
        assert "from-magnet" in got
        wait_until(lambda: (watch / ".invalid" / "broken.torrent").exists(), 15,
                   what="the broken file to be moved to .invalid/")
        wait_until(lambda: (watch / ".added").exists() and sorted(os.listdir(watch / ".added")) ==
                   ["link.magnet", "plain.torrent", "show.torrent"], 15,
                   what="added files to be moved to .added/")
        assert os.listdir(watch / "tv") == []
        assert not (watch / "plain.torrent").exists() and (watch / "notes.txt").exists()
        assert "broken.torrent not added" in d.logs(tail=1 << 20)


def test_move_on_complete_per_label_then_the_hook_runs_with_argv_and_env(tmp_path):
    peer, _, tfile, meta, digest = seeding_peer(tmp_path, "127.0.0.4", "episode.mkv", 2 << 20)
    roots = tmp_path / "media"
    done = roots / "done" / "tv"
    hook_out = tmp_path / "hook.out"
    hook = tmp_path / "hook.sh"
    # The hook records its arguments and the SEEDBOX_* variables it was given.
    hook.write_text('#!/bin/sh\n{ echo "args: $*"; env | grep ^SEEDBOX_ | sort; } > "$1.tmp"\n'
                    'mv "$1.tmp" "$1"\n')
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    args, _ = config(tmp_path,
                     torrent={"default_save_path": str(roots / "incoming"), "allowed_roots": [str(roots)]},
                     labels={"tv": {"move_on_complete": str(done)}},
                     hooks={"on_complete": [str(hook), str(hook_out), "two words"]})
    try:
        with Daemon(args=args) as d:
            tid = d.call("torrent.add", metainfo=b64(meta), labels=["tv"])["id"]
            d.call("torrent.add_peers", id=tid, peers=[f"127.0.0.4:{peer.port}"])
            wait_until(lambda: hook_out.exists(), 120, what="the on_complete hook to run")
            report = hook_out.read_text()
            assert "args: " + str(hook_out) + " two words\n" in report  # argv, not a shell line
            assert f"SEEDBOX_TORRENT_ID={tid}\n" in report
            assert "SEEDBOX_TORRENT_NAME=episode.mkv\n" in report
            assert f"SEEDBOX_SAVE_PATH={done}\n" in report  # after the move, not before
            assert "SEEDBOX_LABELS=tv\n" in report and "SEEDBOX_EVENT=complete\n" in report
            assert sha256_file(str(done / "episode.mkv")) == digest
            assert not (roots / "incoming" / "episode.mkv").exists()
            assert d.torrent(tid, "save_path")["save_path"] == str(done)
            wait_until(lambda: "hook on_complete: " + str(hook) + " finished" in d.logs(tail=1 << 20),
                       10, what="the hook's exit to be logged")
    finally:
        peer.close()


def test_hook_is_config_file_only(tmp_path):
    r = subprocess.run([BIN, "--state-dir", str(tmp_path / "var"), "--print-config"],
                       env=dict(os.environ, SEEDBOXD_HOOKS_ON_COMPLETE="/bin/true"),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "hooks.on_complete can only be set in the config file" in r.stderr
    r = subprocess.run([BIN, "--state-dir", str(tmp_path / "var"), "--set", "hooks.on_complete=/bin/true",
                        "--print-config"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "can only be set in the config file" in r.stderr
    args, _ = config(tmp_path, hooks={"on_complete": ["relative/script"]})
    r = subprocess.run([BIN, "--state-dir", str(tmp_path / "var"), *args, "--print-config"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "must be an absolute path" in r.stderr
    with Daemon() as d:
        for key in ("on_complete", "hooks.on_complete", "hooks"):
            e = d.error_of("session.set_settings", **{key: ["/bin/sh", "-c", "id"]})
            assert e.code == -32602 and f'unknown param "{key}"' in e.message, e.message
        assert not any("hook" in m["name"] for m in d.call("rpc.discover")["methods"])


def test_label_share_limits_stop_and_remove_and_reload_with_sighup(tmp_path):
    args, path = config(tmp_path, log_level="debug")
    with Daemon(args=args) as d:
        ids = {}
        for name, labels in (("keep.bin", ["keep"]), ("short.bin", ["short"]), ("gone.bin", ["gone"]),
                             ("own.bin", ["short"])):
            ids[name] = d.add_new(name, 512 << 10, labels=labels)[0]["id"]
            d.wait_state(ids[name], "seeding")
        # Its own limit wins over the label's (each limit on its own: the label below sets a seed
        # time limit, so its own seed time limit is what overrides it).
        d.call("torrent.set", ids=[ids["own.bin"]], seed_time_limit=10**6)
        # No label policies yet: everything keeps seeding.
        assert all(t["state"] == "seeding" for t in names(d).values())

        path.write_text(json.dumps({"log_level": "debug", "labels": {
            "short": {"seed_time_limit": 0, "limit_action": "stop"},
            "gone": {"ratio_limit": 0, "limit_action": "remove"}}}))
        d.proc.send_signal(signal.SIGHUP)
        d.wait_state(ids["short.bin"], "stopped", timeout=30)
        wait_until(lambda: ids["gone.bin"] not in {t["id"] for t in d.call("torrent.list")["torrents"]},
                   30, what="the 'gone' torrent to be removed")
        assert os.path.exists(os.path.join(d.downloads, "gone.bin"))  # remove, not remove_data
        t = names(d)
        assert t["keep.bin"]["state"] == "seeding" and t["own.bin"]["state"] == "seeding"
        assert "reached label short's seed time limit: stop" in d.logs(tail=1 << 20)


def test_bad_label_config_is_refused_naming_the_key(tmp_path):
    for labels, why in (({"tv": {"move_on_complete": "rel/path"}}, 'key "labels.tv.move_on_complete"'),
                        ({"tv": {"limit_action": "explode"}}, 'key "labels.tv.limit_action"'),
                        ({"tv": {"colour": "red"}}, 'unknown key "labels.tv.colour"')):
        args, _ = config(tmp_path, labels=labels)
        r = subprocess.run([BIN, "--state-dir", str(tmp_path / "var"), *args, "--print-config"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and why in r.stderr, r.stderr
    # Outside torrent.allowed_roots: refused at start like any API path.
    args, _ = config(tmp_path, labels={"tv": {"move_on_complete": str(tmp_path / "elsewhere")}})
    r = subprocess.run([BIN, "--state-dir", str(tmp_path / "var"), "--rpc-bind", "127.0.0.1:0", *args],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "labels.tv.move_on_complete" in r.stderr, r.stderr


def test_labels_made_at_run_time_place_limit_and_persist(tmp_path):
    args, _ = config(tmp_path, labels={"keep": {"ratio_limit": 5}})
    state = str(tmp_path / "state")
    with Daemon(state_dir=state, args=args) as d:
        got = d.call("labels.set", name="tv", save_path="tv", idle_limit=0, limit_action="stop")
        tv = next(l for l in got["labels"] if l["name"] == "tv")
        assert tv["source"] == "runtime" and tv["save_path"] == "tv" and tv["idle_limit"] == 0
        # Added with the label and no save path: the label's folder; then its idle limit stops it.
        make_file(os.path.join(d.downloads, "tv", "ep.bin"), 100_000)
        meta = mktorrent(os.path.join(d.downloads, "tv", "ep.bin"), str(tmp_path / "ep.torrent"),
                         piece_kib=32)
        tid = d.call("torrent.add", metainfo=b64(meta), labels=["tv"])["id"]
        assert d.torrent(tid, "save_path")["save_path"] == os.path.join(d.downloads, "tv")
        d.wait_state(tid, "stopped", timeout=30)
        assert "reached label tv's idle limit: stop" in d.logs(tail=1 << 20)
        # A config file label can be overridden at run time, not removed.
        e = d.error_of("labels.remove", name="keep")
        assert e.code == -32602 and "config file" in e.message
        d.call("labels.set", name="keep", ratio_limit=7)
        e = d.error_of("labels.set", name="a,b")
        assert e.code == -32602 and "commas" in e.message
        e = d.error_of("labels.set", name="x", move_on_complete="relative")
        assert e.code == -32602 and "move_on_complete" in e.message
    with Daemon(state_dir=state, args=args) as d:
        labels = {l["name"]: l for l in d.call("labels.list")["labels"]}
        assert labels["tv"]["source"] == "runtime" and labels["tv"]["torrents"] == 1
        assert labels["keep"]["source"] == "runtime" and labels["keep"]["ratio_limit"] == 7
        d.call("labels.remove", name="keep")  # the config file's comes back
        labels = {l["name"]: l for l in d.call("labels.list")["labels"]}
        assert labels["keep"]["source"] == "config" and labels["keep"]["ratio_limit"] == 5
        ctl = os.path.join(os.path.dirname(BIN), "seedboxctl")
        r = subprocess.run([ctl, "--state-dir", d.state_dir, "label", "films", "--ratio", "2"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "films" in r.stdout, r.stdout + r.stderr
