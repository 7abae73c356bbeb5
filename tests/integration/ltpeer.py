"""A BitTorrent peer we did not write: Debian's python3-libtorrent, on its own loopback address,
with DHT, LSD, UPnP and NAT-PMP off."""
import libtorrent as lt

import os

from harness import make_file, mktorrent, wait_until


class LtPeer:
    def __init__(self, ip="127.0.0.2", settings=None):
        self.ip = ip
        self.ses = lt.session({**(settings or {}), **{
            "listen_interfaces": f"{ip}:0",
            "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
            "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
            "allow_multiple_connections_per_ip": True,
            "user_agent": "python-libtorrent-test",
        }})
        self.port = wait_until(lambda: self.ses.listen_port(), 10, what="python peer listen port")

    def add(self, torrent_file=None, save_path=None, magnet=None, seed=False):
        p = lt.add_torrent_params() if torrent_file else lt.parse_magnet_uri(magnet)
        if torrent_file:
            p.ti = lt.torrent_info(torrent_file)
        p.save_path = save_path
        if seed:
            p.flags |= lt.torrent_flags.seed_mode
        return self.ses.add_torrent(p)

    def close(self):
        self.ses.pause()
        del self.ses


def seeding_peer(tmp_path, ip, name, size):
    """A python3-libtorrent peer on `ip` seeding a fresh random file of `size` bytes.
    Returns (peer, handle, torrent_file_path, metainfo_bytes, sha256 of the data)."""
    seed_dir = tmp_path / "seed"
    digest = make_file(str(seed_dir / name), size)
    tfile = str(tmp_path / (name + ".torrent"))
    meta = mktorrent(str(seed_dir / name), tfile, piece_kib=256)
    peer = LtPeer(ip)
    h = peer.add(torrent_file=tfile, save_path=str(seed_dir))
    wait_until(lambda: h.status().is_seeding, 60, what="the python seeder to check its data")
    return peer, h, tfile, meta, digest
