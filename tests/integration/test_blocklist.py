"""The IP filter: a blocklist folder (P2P/DAT/CIDR lists, gzip too) and a URL it is fetched from,
and the ban list; peers they cover are refused (a real python3-libtorrent peer dials in), counted
in session.stats and /metrics, and both survive a restart."""
import gzip
import http.server
import os
import threading

import pytest

from harness import Daemon, mktorrent, make_file, wait_until, b64
from ltpeer import LtPeer
from test_transmission import trpc


def write_list(d, name, text, gz=False):
    folder = os.path.join(d.state_dir, "blocklists")
    os.makedirs(folder, exist_ok=True)
    data = text.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(gzip.compress(data) if gz else data)


def metric(d, name):
    _, _, body = d.post(None, path="/metrics", method="GET")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def dial_in(d, tmp_path, ip):
    """A python3-libtorrent peer on `ip` that dials the daemon for a torrent it seeds."""
    src = os.path.join(d.downloads, f"for-{ip}.bin")
    make_file(src, 64 << 10)
    tfile = str(tmp_path / f"{ip}.torrent")
    tid = d.call("torrent.add", metainfo=b64(mktorrent(src, tfile, piece_kib=32)))["id"]
    d.wait_state(tid, "seeding")
    peer = LtPeer(ip)
    h = peer.add(torrent_file=tfile, save_path=str(tmp_path / ip))
    port = wait_until(lambda: d.call("session.stats")["listen_port"], 10, what="port")
    h.connect_peer(("127.0.0.1", port))
    return peer, h


def test_lists_block_peers_and_the_figures_show_it(tmp_path):
    with Daemon(state_dir=str(tmp_path / "state")) as d:
        write_list(d, "level1.p2p", "# comment\nLoopback two:127.0.0.2-127.0.0.2\n"
                                    "Bad line without a range\n")
        write_list(d, "more.dat.gz", "010.001.000.000 - 010.001.255.255 , 000 , Org\n"
                                     "010.002.000.000 - 010.002.255.255 , 200 , allowed\n", gz=True)
        write_list(d, "cidr.txt", "192.0.2.0/24\n2001:db8::/32\n")
        st = d.call("blocklist.status")
        assert st["enabled"] is False and st["rules"] == 0
        d.call("session.set_settings", blocklist=True)
        st = wait_until(lambda: (lambda s: s["rules"] == 4 and s)(d.call("blocklist.status")), 20,
                        what="the lists to load")
        assert st["lists"] == 3 and st["bad_lines"] == 1
        assert any("level1.p2p: line 3" in p for p in st["problems"]), st["problems"]
        peer, h = dial_in(d, tmp_path, "127.0.0.2")
        try:
            wait_until(lambda: d.call("session.stats")["peers_blocked"] >= 1, 30,
                       what="the blocked peer to be refused")
            assert h.status().num_peers == 0
        finally:
            peer.close()
        assert metric(d, "seedboxd_blocklist_rules") == 4
        assert metric(d, "seedboxd_peers_blocked_total") >= 1
        got = trpc(d, "session-get", fields=["blocklist-enabled", "blocklist-size"])["arguments"]
        assert got == {"blocklist-enabled": True, "blocklist-size": 4}
    with Daemon(state_dir=str(tmp_path / "state")) as d:  # on, and loaded again, after a restart
        wait_until(lambda: d.call("blocklist.status")["rules"] == 4, 20, what="the reload")


def test_bans_refuse_then_allow_a_peer_and_persist(tmp_path):
    with Daemon(state_dir=str(tmp_path / "state")) as d:
        assert d.call("bans.add", addresses=["127.0.0.3", "2001:db8::/48"])["bans"] == [
            "127.0.0.3", "2001:db8::/48"]
        peer, h = dial_in(d, tmp_path, "127.0.0.3")
        try:
            wait_until(lambda: d.call("session.stats")["peers_blocked"] >= 1, 30,
                       what="the banned peer to be refused")
            assert d.call("bans.remove", addresses=["127.0.0.3"])["bans"] == ["2001:db8::/48"]
            port = d.call("session.stats")["listen_port"]
            h.connect_peer(("127.0.0.1", port))
            wait_until(lambda: h.status().is_seeding, 60, what="the unbanned peer to download")
        finally:
            peer.close()
        for bad in ["300.1.1.1", "10.0.0.0/33", "1.2.3.4-1.2.3.9", "", "a b"]:
            e = d.error_of("bans.add", addresses=[bad])
            assert e.code == -32602 and "expected an address or a CIDR range" in e.message, bad
        assert metric(d, "seedboxd_bans") == 1
    with Daemon(state_dir=str(tmp_path / "state")) as d:
        assert d.call("bans.list")["bans"] == ["2001:db8::/48"]


class ListServer(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def test_update_fetches_the_url_and_keeps_the_old_list_when_the_new_one_is_bad(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ListServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/list.gz"
    try:
        with Daemon(args=["--set", "torrent.url_allow_private=true"]) as d:
            ListServer.body = gzip.compress(b"A:198.51.100.0-198.51.100.255\nB:203.0.113.7-203.0.113.7\n")
            trpc(d, "session-set", **{"blocklist-enabled": True, "blocklist-url": url})
            st = d.call("blocklist.update")
            assert st["rules"] == 2 and st["lists"] == 1 and st["enabled"] is True
            ListServer.body = b"nothing here is a range\n"
            e = d.error_of("blocklist.update")
            assert e.code == -32602 and "no address range" in e.message, e.message
            assert d.call("blocklist.status")["rules"] == 2
            e = d.error_of("session.set_settings", blocklist_url="ftp://example/list")
            assert e.code == -32602 and "blocklist_url" in e.message
    finally:
        server.shutdown()
