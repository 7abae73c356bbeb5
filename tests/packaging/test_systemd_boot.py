"""seedboxd.service under real systemd 252 as PID 1 in systemd-nspawn (a debootstrapped bookworm
with the daemon's runtime libraries): the unit becomes active only after READY=1 (the RPC answers
on the first try and its "listening" line precedes systemd's "Started"), runs as the sysusers
user with no capabilities, NoNewPrivileges and seccomp, reloads on `systemctl reload`, and
`systemctl stop` ends with Result=success after saving resume data, which the next start uses."""
import json
import os
import re
import subprocess

import pytest

from conftest import BIN, HERE, ROOT, debootstrap, need, runtime_packages
from harness import make_file, mktorrent

UNIT = os.path.join(os.path.dirname(BIN), "seedboxd.service")


def section(text, name):
    m = re.search(rf"^== {name}\n(.*?)(?=^== |\Z)", text, re.M | re.S)
    assert m, f"no '{name}' section in:\n{text}"
    return m.group(1)


def props(block):
    """The last `systemctl show` block in a section, as a dict."""
    return dict(re.findall(r"^(ActiveState|SubState|Result|StatusText|ExecMainStatus|NRestarts|"
                           r"WatchdogTimestampMonotonic)=(.*)$", block, re.M))


@pytest.fixture(scope="module")
def sdroot():
    need("systemd-nspawn", "debootstrap")
    return debootstrap("nspawn", ["systemd", "systemd-sysv", "dbus", "curl", "procps"] + runtime_packages(BIN))


def test_unit_boots_notifies_reloads_and_stops_cleanly(sdroot, tmp_path):
    unit_text = open(UNIT).read()
    exec_path = re.search(r"^ExecStart=(\S+)", unit_text, re.M).group(1)
    config_path = re.search(r"^ExecStart=.* --config (\S+)", unit_text, re.M).group(1)
    out = tmp_path / "out"
    out.mkdir()
    t = tmp_path / "t"
    t.mkdir()
    make_file(str(t / "payload.bin"), 1 << 20)
    mktorrent(str(t / "payload.bin"), str(t / "seed.torrent"), piece_kib=64)
    config = tmp_path / "config.json"
    # The example config, with BitTorrent on loopback only (the container shares the host network).
    example = open(os.path.join(ROOT, "config", "seedboxd.example.json")).read()
    config.write_text(example.replace('"0.0.0.0:51413,[::]:51413"', '"127.0.0.1:0"'))
    dropin = tmp_path / "dropin.conf"
    # This machine's kernel grants no CAP_SYS_RESOURCE, so systemd inside the container cannot
    # raise RLIMIT_NOFILE above the host's hard limit; LimitNOFILE is lowered to that limit here
    # only. Everything else is the unit exactly as installed.
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    dropin.write_text(f"[Service]\nLimitNOFILE={min(hard, 65536)}\n")
    cmd = ["systemd-nspawn", "--quiet", "--register=no", "--keep-unit", "--console=pipe",
           "--volatile=overlay", "-D", sdroot,
           f"--bind-ro={BIN}:{exec_path}",
           f"--bind-ro={UNIT}:/etc/systemd/system/seedboxd.service",
           f"--bind-ro={dropin}:/etc/systemd/system/seedboxd.service.d/nofile.conf",
           f"--bind-ro={os.path.join(ROOT, 'systemd', 'seedboxd.sysusers')}:/etc/sysusers.d/seedboxd.conf",
           f"--bind-ro={config}:{config_path}",
           f"--bind-ro={os.path.join(HERE, 'checker.sh')}:/usr/local/bin/checker.sh",
           f"--bind-ro={os.path.join(HERE, 'checker.service')}:/etc/systemd/system/checker.service",
           f"--bind-ro={t}:/t", f"--bind={out}:/out",
           "-b", "systemd.wants=seedboxd.service", "systemd.wants=checker.service"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    report = (out / "check.txt").read_text() if (out / "check.txt").exists() else ""
    assert "== done" in report, f"nspawn exit {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}\n{report}"

    started = section(report, "started")
    p = props(started)
    assert p["ActiveState"] == "active" and p["SubState"] == "running", started
    assert p["StatusText"].startswith("serving 0 torrents; RPC on 127.0.0.1:9180"), started
    assert p["WatchdogTimestampMonotonic"] not in ("", "0"), "no WATCHDOG=1 reached systemd"
    status = dict(re.findall(r"^(\w+):\s+(.*)$", started, re.M))
    assert status["Uid"].split()[0] != "0", "runs as root"
    assert status["NoNewPrivs"] == "1" and status["Seccomp"] == "2"
    assert int(status["CapEff"], 16) == 0 and int(status["CapBnd"], 16) == 0

    first = section(report, "first call")
    # Type=notify: the checker runs once the start job finished, i.e. after READY=1; the RPC
    # answers on the first request, with no retry.
    lines = first.strip().splitlines()
    assert json.loads(lines[0])["result"]["version"], first
    added = json.loads(lines[-1])
    assert added["result"]["added"] is True, first

    reload_ = section(report, "reload")
    assert props(reload_)["ActiveState"] == "active", reload_

    stop = section(report, "stop")
    p = props(stop)
    assert p["ActiveState"] == "inactive" and p["Result"] == "success" and p["ExecMainStatus"] == "0", stop

    restart = section(report, "restart")
    listing = json.loads(restart.strip().splitlines()[-1])["result"]
    rows = listing["torrents"] if isinstance(listing, dict) else listing
    assert len(rows) == 1 and rows[0]["resume"] == "accepted" and rows[0]["resume_saved_time"] > 0, restart

    journal = section(report, "journal")
    assert "resume data saved" in journal and "SIGHUP: configuration reloaded" in journal, journal
    # journald adds the timestamps: the daemon's own lines carry none.
    assert not re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d", journal, re.M), journal
    token = section(report, "token").strip()
    assert len(token) >= 32 and token not in journal
    # Warnings and errors reach the journal with their priority (a <N> prefix, not shown by -o cat).
    assert not re.search(r"^<\d>", journal, re.M), journal

    order = section(report, "order").strip().splitlines()
    order = [l for l in order if "JSON-RPC listening" in l or "Started seedboxd" in l]
    assert len(order) == 2 and "JSON-RPC listening" in order[0] and "Started seedboxd" in order[1], order
