"""The daemon's threads under load: parallel RPC clients, a WebSocket receiving events while
torrents are added, stopped, started and removed, SIGHUP reloads while all that runs, and SIGTERM in
the middle of it. Run by the README's test command and, for its real purpose, under
ThreadSanitizer (scripts/tsan-test), where the harness fails it on any report in the daemon's log.
"""
import json
import os
import signal
import threading

from harness import Daemon, RpcError, b64, make_file, mktorrent, wait_until

TORRENTS = 4


def add_torrents(d, tmp_path):
    ids = []
    for i in range(TORRENTS):
        src = os.path.join(d.downloads, f"c{i}.bin")
        make_file(src, 64 * 1024 + i)
        meta = str(tmp_path / f"c{i}.torrent")
        mktorrent(src, meta)
        with open(meta, "rb") as f:
            ids.append(d.call("torrent.add", metainfo=b64(f.read()))["id"])
    return ids


class Load:
    """Client threads calling the daemon until stopped; counts answers, keeps unexpected errors."""

    def __init__(self, d, ids):
        self.d, self.ids = d, ids
        self.stop = threading.Event()
        self.answers = 0
        self.errors = []
        self.lock = threading.Lock()
        self.tolerate_disconnects = False
        calls = [
            lambda: d.call("torrent.list", fields=["id", "name", "state", "progress", "upload_rate"]),
            lambda: d.call("session.stats"),
            lambda: d.call("session.set_settings", download_rate_limit=1 << 20),
            lambda: d.call("torrent.stop", ids=ids[:2]),
            lambda: d.call("torrent.start", ids=ids[:2]),
            lambda: d.call("ledger.summary"),
            lambda: d.call("torrent.get", id=ids[-1], fields=["id", "state", "labels"]),
            lambda: d.call("torrent.set", ids=[ids[-1]], labels=["x"]),
        ]
        self.threads = [threading.Thread(target=self.run, args=(calls[i::4],), daemon=True)
                        for i in range(4)]

    def run(self, calls):
        while not self.stop.is_set():
            for call in calls:
                try:
                    call()
                    with self.lock:
                        self.answers += 1
                except (ConnectionError, OSError) as exc:
                    if not self.tolerate_disconnects:
                        self.errors.append(repr(exc))
                    return
                except (RpcError, AssertionError) as exc:
                    if not self.tolerate_disconnects:
                        self.errors.append(repr(exc))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(60)
        assert not any(t.is_alive() for t in self.threads), "a client thread is stuck"


def test_reloads_events_and_calls_at_once(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"bt": {"upload_rate_limit": 1000}}))
    with Daemon(args=["--config", str(cfg)]) as d:
        ids = add_torrents(d, tmp_path)
        ws = d.ws()
        ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "events.subscribe",
                            "params": {"events": ["torrent.added", "torrent.removed"]}}))
        assert json.loads(ws.recv())["result"]
        with Load(d, ids) as load:
            # WebSocket events while torrents come and go, and the other clients call.
            extra = str(tmp_path / "extra.torrent")
            make_file(os.path.join(d.downloads, "extra.bin"), 32 * 1024)
            mktorrent(os.path.join(d.downloads, "extra.bin"), extra)
            with open(extra, "rb") as f:
                meta = b64(f.read())
            seen = []
            for _ in range(3):
                tid = d.call("torrent.add", metainfo=meta)["id"]
                d.call("torrent.remove", ids=[tid])
                for want in ("torrent.added", "torrent.removed"):
                    note = json.loads(ws.recv())
                    assert note["method"] == want and note["params"]["id"] == tid, note
                    seen.append(want)
            # SIGHUP reloads, each applied while the calls go on.
            for i in range(1, 4):
                cfg.write_text(json.dumps({"bt": {"upload_rate_limit": 1000 * (i + 1)}}))
                d.proc.send_signal(signal.SIGHUP)
                wait_until(lambda: d.logs(tail=1 << 22).count("SIGHUP: configuration reloaded;") >= i,
                           30, what=f"reload {i}")
                assert d.call("session.settings")["upload_rate_limit"] == 1000 * (i + 1)
            before = load.answers
            wait_until(lambda: load.answers > before + 20, 30, what="calls answered after the reloads")
        ws.close()
        assert not load.errors, load.errors[:5]
        assert len(seen) == 6


def test_sigterm_while_clients_call(tmp_path):
    d = Daemon(state_dir=str(tmp_path / "daemon")).start()
    try:
        ids = add_torrents(d, tmp_path)
        load = Load(d, ids)
        with load:
            wait_until(lambda: load.answers > 40, 30, what="calls under way")
            load.tolerate_disconnects = True
            code = d.stop(timeout=60)
        d.check_clean_exit(code)
        assert not load.errors, load.errors[:5]
    finally:
        if d.proc.poll() is None:
            d.kill9()
