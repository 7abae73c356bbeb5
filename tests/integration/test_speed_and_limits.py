"""Alternative speed limits with their schedule, the idle share limit and the global default
share limits: over seedboxd's own API, over Transmission's, and enforced on a real transfer."""
import os
import time

import pytest

from harness import Daemon, mktorrent, make_file, wait_until
from ltpeer import LtPeer
from test_transmission import trpc


@pytest.fixture()
def d():
    with Daemon() as d:
        yield d


def settings(d):
    return d.call("session.settings")


def local_minute(offset=0):
    """The daemon's local minute of the day (it runs with this process's TZ), plus offset."""
    t = time.localtime()
    return (t.tm_hour * 60 + t.tm_min + offset) % 1440


def test_alternative_limits_are_kept_apart_from_the_normal_ones_and_persist(tmp_path):
    with Daemon(state_dir=str(tmp_path)) as d:
        s = d.call("session.set_settings", upload_rate_limit=900_000, alt_upload_rate_limit=50_000,
                   alt_download_rate_limit=70_000, alt_speed=True)
        # The normal limit reads as set, whichever pair is in force.
        assert s["upload_rate_limit"] == 900_000 and s["alt_upload_rate_limit"] == 50_000
        assert s["alt_speed"] is True
        got = trpc(d, "session-get")["arguments"]
        assert got["alt-speed-enabled"] is True and got["alt-speed-up"] == 50
        assert got["alt-speed-down"] == 70 and got["speed-limit-up"] == 900
        assert d.call("session.set_settings", ratio_limit=1.5)["ratio_limit"] == 1.5  # a number
        e = d.error_of("session.set_settings", alt_speed_begin=1440)
        assert e.code == -32602 and "alt_speed_begin" in e.message
    with Daemon(state_dir=str(tmp_path)) as d:
        s = settings(d)
        assert s["alt_speed"] is True and s["alt_upload_rate_limit"] == 50_000


def test_the_schedule_turns_alt_speed_on_and_off_at_its_edges(d):
    # A window around now: enabling the schedule decides at once, as in Transmission.
    trpc(d, "session-set", **{"alt-speed-time-begin": local_minute(-1),
                              "alt-speed-time-end": local_minute(3), "alt-speed-time-day": 127,
                              "alt-speed-time-enabled": True})
    wait_until(lambda: settings(d)["alt_speed"] is True, 10, what="the schedule to turn it on")
    got = trpc(d, "session-get", fields=["alt-speed-enabled", "alt-speed-time-enabled",
                                          "alt-speed-time-day"])["arguments"]
    assert got == {"alt-speed-enabled": True, "alt-speed-time-enabled": True,
                   "alt-speed-time-day": 127}
    # A window that excludes now: off.
    d.call("session.set_settings", alt_speed_begin=local_minute(5), alt_speed_end=local_minute(7))
    wait_until(lambda: settings(d)["alt_speed"] is False, 10, what="the schedule to turn it off")
    assert "alternative speed limits off by the schedule" in d.logs(tail=1 << 20)
    # By hand, between edges: it holds.
    d.call("session.set_settings", alt_speed=True)
    assert settings(d)["alt_speed"] is True
    # No day of the week: the days mask must name at least one.
    assert "alt_speed_days" in d.error_of("session.set_settings", alt_speed_days=0).message


def test_the_alternative_upload_limit_is_enforced(tmp_path):
    size = 3 << 20
    with Daemon(args=["--set", "bt.local_peers_unthrottled=false"]) as d:
        src = os.path.join(d.downloads, "slow.bin")
        make_file(src, size)
        tfile = str(tmp_path / "slow.torrent")
        tid = d.call("torrent.add", metainfo=__import__("base64").b64encode(
            mktorrent(src, tfile, piece_kib=64)).decode())["id"]
        d.wait_state(tid, "seeding")
        d.call("session.set_settings", alt_upload_rate_limit=400_000, alt_speed=True)
        peer = LtPeer("127.0.0.2")
        try:
            h = peer.add(torrent_file=tfile, save_path=str(tmp_path / "leech"))
            port = wait_until(lambda: d.call("session.stats")["listen_port"], 10, what="port")
            t0 = time.monotonic()
            h.connect_peer(("127.0.0.1", port))
            last_connect = [t0]

            def done():
                # Without a tracker the leecher never retries a connection that failed (a
                # handshake lost under a loaded sanitizer run): ask again while it has no peer.
                st = h.status()
                idle = time.monotonic() - last_connect[0] > 5
                if not st.is_seeding and st.num_peers == 0 and idle:
                    h.connect_peer(("127.0.0.1", port))
                    last_connect[0] = time.monotonic()
                return st.is_seeding
            wait_until(done, 60, what="the download to finish")
            took = time.monotonic() - t0
        finally:
            peer.close()
    # 3 MiB at 400 kB/s takes about 7.9 s; unthrottled loopback takes well under a second.
    assert took > 0.6 * size / 400_000, took


def test_the_idle_limit_stops_a_seed_and_transmission_calls_it_finished(d):
    r, _, _ = d.add_new("idle.bin", 300_000, piece_kib=32)
    tid = r["id"]
    d.wait_state(tid, "seeding")
    number = trpc(d, "torrent-get", ids=[tid], fields=["id"])["arguments"]["torrents"][0]["id"]
    # Sonarr's shape: an indexer's seed time as the idle limit, in minutes.
    trpc(d, "torrent-set", ids=[number], seedIdleLimit=0, seedIdleMode=1)
    d.wait_state(tid, "stopped", timeout=15)
    t = d.torrent(tid, "idle_limit", "limit_reached")
    assert t == {"idle_limit": 0, "limit_reached": True}
    got = trpc(d, "torrent-get", ids=[number],
               fields=["isFinished", "seedIdleMode", "seedIdleLimit", "status"])["arguments"]
    assert got["torrents"][0] == {"isFinished": True, "seedIdleMode": 1, "seedIdleLimit": 0,
                                  "status": 0}
    assert "reached its idle limit: stop" in d.logs(tail=1 << 20)


def test_default_share_limits_apply_unless_a_torrent_opts_out(d):
    a = d.add_new("a.bin", 200_000, piece_kib=32)[0]["id"]
    b = d.add_new("b.bin", 200_000, piece_kib=32)[0]["id"]
    d.wait_state(a, "seeding")
    d.wait_state(b, "seeding")
    d.call("torrent.set", ids=[b], ratio_limit=-2)  # no ratio limit, whatever the default
    got = trpc(d, "torrent-get", ids=[b], fields=["seedRatioMode"])["arguments"]["torrents"]
    assert got == [{"seedRatioMode": 2}]
    trpc(d, "session-set", seedRatioLimited=True, seedRatioLimit=0)
    assert settings(d)["ratio_limit"] == 0
    d.wait_state(a, "stopped", timeout=15)
    assert d.torrent(b, "state")["state"] == "seeding"  # checked in the same pass as a
    assert "reached the default ratio limit: stop" in d.logs(tail=1 << 20)


def test_transmission_flagged_settings_keep_no_disabled_value(d):
    bad = trpc(d, "session-set", expect="seedRatioLimit: send seedRatioLimited true with it "
               "(seedboxd keeps no disabled limit)", seedRatioLimit=3)
    assert bad["arguments"] == {}
    trpc(d, "session-set", seedRatioLimited=True)  # Transmission's default ratio, 2
    trpc(d, "session-set", **{"idle-seeding-limit-enabled": True, "idle-seeding-limit": 45,
                              "download-queue-enabled": False, "seed-queue-size": 4,
                              "seed-queue-enabled": True})
    s = settings(d)
    assert s["ratio_limit"] == 2.0 and s["idle_limit"] == 45 * 60
    assert s["active_downloads"] == -1 and s["active_seeds"] == 4
    got = trpc(d, "session-get", fields=["seedRatioLimited", "seedRatioLimit",
                                          "idle-seeding-limit", "download-queue-enabled",
                                          "seed-queue-size"])["arguments"]
    assert got == {"seedRatioLimited": True, "seedRatioLimit": 2.0, "idle-seeding-limit": 45,
                   "download-queue-enabled": False, "seed-queue-size": 4}
