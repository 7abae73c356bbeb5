"""Runs the README's shell examples, as a newcomer would paste them, against a daemon started in a
fresh directory on its defaults (relative state dir `var`), so the README cannot drift from the
daemon. Every ```sh block of the README is either run here or named below with the test that covers
it; a new block that is neither fails this test.

Placeholders are filled, and nothing leaves loopback: the fixed port 9180 becomes the daemon's
port, example.org a local HTTP server, tracker.example and 192.0.2.7 a closed loopback port, the
example ids real ones, the TRON node's block a local file. Each `rpc` answer must be JSON-RPC, and
an error only one a box without a TRON node gives (listed with its reason). Each seedboxctl exit
code must be 0 unless listed."""
import http.server
import json
import os
import re
import subprocess
import threading
import time

from harness import BIN, Daemon, make_file, mktorrent

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")
CTL = os.path.abspath(os.path.join(os.path.dirname(BIN), "seedboxctl"))
HUB = "TAR4TE31YKGGMjT97NaFwDuuMj3WhDpK4j"

RUN = {"Talking to it", "system and discovery", "torrent", "session", "labels", "wallet", "ledger",
       "settlement", "Metrics (Prometheus)", "seedboxctl"}
COVERED_ELSEWHERE = {
    "Quick start (Debian 12)": ".ci/run runs both commands on a clean clone",
    "events (WebSocket)": "websocat is not in Debian; test_concurrency and test_seedboxctl's watch "
                          "drive the same WebSocket",
    "systemd": "tests/packaging/test_systemd_boot.py (real systemd in nspawn)",
    "Docker / podman": "tests/packaging/test_docker.py (podman)",
    "Testing with sanitizers and fuzzers": ".ci/run's sanitizer, fuzzing and TSan stages",
    "Benchmarks": "the bench/ scripts, run by hand: they need minutes of both cores",
    "Using Transmission clients": "test_transmission.py runs the same transmission-remote "
                                  "commands against a daemon",
    "blocklist and bans": "test_blocklist.py makes the same calls, with a list served on loopback "
                          "and a real peer refused",
}
# JSON-RPC errors a fresh box without a TRON node (offline settlement) answers, by method.
ALLOWED_RPC_ERRORS = {
    "wallet.balance": {2003},   # needs settlement.mode=broadcast and a node
    "wallet.deposit": {2003},
    "wallet.withdraw": {2003},
    "settlement.run": {2002},   # nothing earned yet
    "settlement.batch": {2004},  # no batch 1 yet
}
# seedboxctl exit codes that are the expected answer on such a box, by the start of its arguments.
ALLOWED_CTL = {
    "settle --block": {1},    # nothing to settle yet (code 2002)
    "settle batch": {1},      # no batch yet (2004)
    "wallet balance": {1},    # needs a TRON node: settlement.mode=broadcast (2003)
    "wallet deposit": {1},
    "wallet withdraw": {1},
    "watch": {143},           # runs until stopped; the runner stops it after 2 s
}


def sh_blocks():
    """(section heading, block text) for every ```sh block."""
    section, out, block = None, [], None
    for line in open(README).read().splitlines():
        if block is not None:
            if line.startswith("```"):
                out.append((section, "\n".join(block)))
                block = None
            else:
                block.append(line)
        elif line.startswith("```sh"):
            block = []
        elif line.startswith("#"):
            section = line.lstrip("#").strip()
    return out


class Torrents(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def test_every_readme_block_is_run_or_covered():
    sections = {s for s, _ in sh_blocks()}
    unknown = sections - RUN - set(COVERED_ELSEWHERE)
    assert not unknown, f"README blocks neither run by test_readme nor covered elsewhere: {unknown}"


def test_readme_examples_work_verbatim_from_a_fresh_directory():
    d = Daemon(relative=True, args=["--set", "torrent.url_allow_private=true", "--set",
                                    "tron.generate_key=true", "--set", f"payments.hub={HUB}"])
    with d:
        cwd = d.dir
        downloads = os.path.join(cwd, "var", "downloads")
        # What the examples name: my.torrent (two files), ubuntu.torrent, myfolder, x.torrent.
        make_file(os.path.join(downloads, "album", "01.flac"), 200_000)
        make_file(os.path.join(downloads, "album", "02.flac"), 100_000)
        mktorrent(os.path.join(downloads, "album"), os.path.join(cwd, "my.torrent"), piece_kib=32)
        make_file(os.path.join(downloads, "ubuntu.iso"), 300_000)
        ubuntu = mktorrent(os.path.join(downloads, "ubuntu.iso"), os.path.join(cwd, "ubuntu.torrent"),
                           piece_kib=32)
        make_file(os.path.join(downloads, "myfolder", "notes.txt"), 50_000)
        make_file(os.path.join(cwd, "x.bin"), 100_000)
        Torrents.body = mktorrent(os.path.join(cwd, "x.bin"), os.path.join(cwd, "x.torrent"), piece_kib=32)
        import libtorrent as lt
        my_id = str(lt.torrent_info(os.path.join(cwd, "my.torrent")).info_hashes().v1)
        ubuntu_id = str(lt.torrent_info(lt.bdecode(ubuntu)).info_hashes().v1)
        with open(os.path.join(cwd, "block.json"), "w") as f:
            json.dump({"blockID": "0000000003fe262d" + "ab" * 24,
                       "block_header": {"raw_data": {"number": 66987565,
                                                     "timestamp": int(time.time() * 1000)}}}, f)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Torrents)
        threading.Thread(target=server.serve_forever, daemon=True).start()

        # ./build/seedboxctl in the fresh directory records each exit code, then passes it on.
        os.makedirs(os.path.join(cwd, "build"))
        wrapper = os.path.join(cwd, "build", "seedboxctl")
        with open(wrapper, "w") as f:
            f.write(f"""#!/bin/bash
"{CTL}" "$@" <&0 &
child=$!
trap 'kill -TERM $child; wait $child; echo "143 $*" >> "$CTL_LOG"; exit 143' TERM
wait $child
code=$?
echo "$code $*" >> "$CTL_LOG"
exit $code
""")
        os.chmod(wrapper, 0o755)

        subst = [
            ("http://127.0.0.1:9180", f"http://{d.addr}"),
            ("https://example.org/x.torrent", f"http://127.0.0.1:{server.server_port}/x.torrent"),
            ("udp://tracker.example:6969/announce", "udp://127.0.0.1:9/announce"),
            ("192.0.2.7:6881", "127.0.0.1:9"),
            ("ID=0123456789abcdef0123456789abcdef01234567", f"ID={my_id}"),
            ("79cfddfa80da72e6d039fcab53a4e1336401a2de", ubuntu_id),
            ("79cfddfa", ubuntu_id[:8]),
            ("79cf", ubuntu_id[:4]),
            ("'magnet:?xt=urn:btih:...'", "'magnet:?xt=urn:btih:" + "fe" * 20 + "'"),
            ("curl -s https://api.trongrid.io/walletsolidity/getnowblock", "cat block.json"),
            ("./build/seedboxctl watch", "timeout 2 ./build/seedboxctl watch"),
            ("./build/seedboxctl top", "./build/seedboxctl top --count 1"),
        ]
        block = json.load(open(os.path.join(cwd, "block.json")))
        env_lines = [f"BLOCK_NUMBER={block['block_header']['raw_data']['number']}",
                     f"BLOCK_ID={block['blockID']}",
                     f"BLOCK_TIME_MS={block['block_header']['raw_data']['timestamp']}"]
        script = ["set -u"] + env_lines
        for section, text in sh_blocks():
            if section not in RUN:
                continue
            for line in text.splitlines():
                for a, b in subst:
                    line = line.replace(a, b)
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                script.append(line)
                if line.startswith("rpc() {"):
                    # The README's own rpc(), wrapped to record each request and its answer.
                    script.append('eval "readme_$(declare -f rpc)"')
                    script.append('rpc() { local out; out=$(readme_rpc "$1"); '
                                  'printf "%s\\t%s\\n" "$1" "$out" >> "$RPC_LOG"; echo "$out"; }')
                elif not line.startswith(("TOKEN=", "ID=", "rpc ")) and "./build/seedboxctl" not in line:
                    script.append(f'[ $? -eq 0 ] || echo {json.dumps(line)} >> "$FAIL_LOG"')
        rpc_log, ctl_log, fail_log = (os.path.join(cwd, n) for n in ("rpc.log", "ctl.log", "fail.log"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEEDBOX_")}
        env.update({"RPC_LOG": rpc_log, "CTL_LOG": ctl_log, "FAIL_LOG": fail_log})
        r = subprocess.run(["bash", "-c", "\n".join(script)], cwd=cwd, env=env, capture_output=True,
                           text=True, timeout=300)
        server.shutdown()
        report = f"--- script:\n{chr(10).join(script)}\n--- stdout:\n{r.stdout[-4000:]}\n--- stderr:\n{r.stderr[-4000:]}"

        assert not os.path.exists(fail_log), open(fail_log).read() + report
        calls = [line.split("\t", 1) for line in open(rpc_log).read().splitlines()]
        methods = {json.loads(req)["method"] for req, _ in calls}
        assert {"torrent.add", "torrent.move", "torrent.create", "settlement.run"} <= methods
        for req, answer in calls:
            method = json.loads(req)["method"]
            reply = json.loads(answer)
            assert reply.get("jsonrpc") == "2.0", (req, answer)
            if "error" in reply:
                assert reply["error"]["code"] in ALLOWED_RPC_ERRORS.get(method, set()), \
                    f"{req}\n -> {answer}\n{report}"
        ran = [line.split(" ", 1) for line in open(ctl_log).read().splitlines()]
        assert len(ran) >= 20
        for code, args in ran:
            allowed = set().union(*(c for k, c in ALLOWED_CTL.items() if args.startswith(k)))
            assert int(code) == 0 or int(code) in allowed, f"seedboxctl {args} exited {code}\n{report}"
        # What the examples did, seen through the API.
        names = {t["name"] for t in d.call("torrent.list", fields=["name"])["torrents"]}
        assert "x.bin" in names and "myfolder" in names
        assert not os.path.exists(os.path.join(downloads, "ubuntu.iso"))  # remove --delete-data
        moved = d.call("torrent.get", id=my_id, fields=["save_path"]) if my_id in {
            t["id"] for t in d.call("torrent.list", fields=["id"])["torrents"]} else None
        assert moved is None or re.search(r"/var/downloads(/done)?$", moved["save_path"])
