"""A BitTorrent peer we did not write: Debian's python3-libtorrent, on its own loopback address,
with DHT, LSD, UPnP and NAT-PMP off."""
import libtorrent as lt

from harness import wait_until


class LtPeer:
    def __init__(self, ip="127.0.0.2"):
        self.ip = ip
        self.ses = lt.session({
            "listen_interfaces": f"{ip}:0",
            "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
            "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
            "allow_multiple_connections_per_ip": True,
            "user_agent": "python-libtorrent-test",
        })
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
