"""Three leechers share one provider's limited upload: a seedboxd that bids twice the price, one
that bids the price, and a python3-libtorrent peer that never pays. Used by test_payments.py (2
MiB/s) and bench/priority_bench.py (2, 8 and 32 MiB/s).

All on loopback addresses of their own; loopback is classed like a remote network
(bt.local_peers_unthrottled=false) so the provider's limit applies, and PEX is off so the
leechers only get data from the provider."""
import os
import time

from harness import Daemon, b64, make_file, mktorrent, wait_until
from ltpeer import LtPeer

HUB = "TAR4TE31YKGGMjT97NaFwDuuMj3WhDpK4j"
PRICE = 3 * 10**18 + 7
COMMON = ["--set", "ledger.flush_interval=1", "--set", "tron.generate_key=true",
          "--set", f"payments.hub={HUB}", "--set", "bt.pex=false"]
IPS = {"provider": "127.0.0.61", "high": "127.0.0.62", "low": "127.0.0.63", "free": "127.0.0.64"}
MiB = 1024 * 1024


def bidder(bid, bids=True):
    """A paying seedboxd's arguments. bids=False for a binary from before bids: it pays the
    provider's price."""
    return COMMON + ["--set", "payments.pay=true", "--set", f"payments.max_price_per_gib={bid}",
                     "--set", f"payments.budget={10**24}"] + \
        (["--set", f"payments.bid_per_gib={bid}"] if bids else [])


def received(b, c, free_handle, tid):
    """What each leecher has downloaded so far (only the provider sends: PEX is off and the
    python peer is connected to the provider alone). Leecher-side totals survive reconnects."""
    return {"high": b.torrent(tid, "downloaded")["downloaded"],
            "low": c.torrent(tid, "downloaded")["downloaded"],
            "free": free_handle.status().total_payload_download}


def shares(tmp_path, limit, window, seconds=None, bids=True):
    """Starts the four peers, waits for both bidders' first vouchers and for the provider to serve
    by bid, then returns the bytes "high", "low" and "free" received while they received `window`
    bytes in all, and the seconds
    that took. `seconds`: how long the provider could run at `limit` before a leecher
    finishes (sizes the torrent)."""
    size = max(48 * MiB, int(limit * (seconds or 24)))
    a = Daemon(state_dir=str(tmp_path / "provider"), bt_iface=f"{IPS['provider']}:0",
               args=COMMON + ["--set", f"payments.price_per_gib={PRICE}",
                              "--set", "bt.local_peers_unthrottled=false"])
    b = Daemon(state_dir=str(tmp_path / "high"), bt_iface=f"{IPS['high']}:0",
               args=bidder(2 * PRICE, bids))
    c = Daemon(state_dir=str(tmp_path / "low"), bt_iface=f"{IPS['low']}:0",
               args=bidder(PRICE, bids))
    free = None
    with a, b, c:
        a.call("session.set_settings", upload_rate_limit=int(limit))
        src = os.path.join(a.downloads, "market.bin")
        make_file(src, size)
        tfile = str(tmp_path / "market.torrent")
        meta = mktorrent(src, tfile, piece_kib=1024)
        tid = a.call("torrent.add", metainfo=b64(meta))["id"]
        a.wait_state(tid, "seeding", timeout=120)
        port = a.call("session.stats")["listen_port"]
        for d in (b, c):
            d.call("torrent.add", metainfo=b64(meta))
            d.call("torrent.add_peers", id=tid, peers=[f"{IPS['provider']}:{port}"])
        free = LtPeer(IPS["free"])
        try:
            h = free.add(torrent_file=tfile, save_path=str(tmp_path / "free"))
            h.connect_peer((IPS["provider"], port))
            addrs = {d.call("wallet.address")["address"] for d in (b, c)}

            def payers():
                vs = a.call("ledger.vouchers", direction="received")["received"]
                return {v["payer"] for v in vs} >= addrs
            wait_until(payers, 60, what="both bidders' first vouchers")
            wait_until(lambda: h.status().total_payload_download > 0, 30,
                       what="the free peer to be connected and served once")
            # The window opens once the provider serves by bid (its limit binds with payers
            # waiting); a binary from before bids has no such state.
            if "upload_by_bid" in a.call("session.stats").get("payments", {}):
                wait_until(lambda: a.call("session.stats")["payments"]["upload_by_bid"], 30,
                           what="the provider to serve by bid")
            start, t0 = received(b, c, h, tid), time.monotonic()

            def moved():
                now = received(b, c, h, tid)
                got = {k: now[k] - start[k] for k in start}
                return sum(got.values()) >= window and got
            got = wait_until(moved, 20 + 4 * window / limit, interval=0.2,
                             what=f"the provider to send {window} bytes")
            return got, time.monotonic() - t0
        finally:
            free.close()
