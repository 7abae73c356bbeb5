#!/usr/bin/python3
"""Seeding CPU per GiB and MB/s: seedboxd (in variants) against aria2c, qbittorrent-nox and bare
python3-libtorrent, seeding the same payload in the same run (issue 15, target 1).

One random payload file (default 2 GiB, 1 MiB pieces) is made on a disk folder (--data-dir, not
tmpfs: "evicted" must mean disk reads). Each seeder verifies it once (or takes it in seed mode,
--seed-mode) and saves its state; each run then starts the seeder afresh from that state on
127.0.0.60, and 1 or 4 downloaders: python3-libtorrent processes on 127.0.0.71.., TCP only,
plaintext, writing to tmpfs (deleted after the run). The payload is made warm (read whole) or
evicted (fsync + POSIX_FADV_DONTNEED, checked with fincore), then every downloader connects to
the seeder (no tracker; DHT, LSD, UPnP, NAT-PMP, PEX off; loopback only). A run lasts from connect
to the last downloader complete: CPU s/GiB = seeder utime+stime (/proc/PID/stat) / GiB sent;
MB/s = payload bytes x downloaders / wall time / 10^6. Seeders take turns within a round (the
order rotates) so all see the same machine state. It prints medians of R rounds per seeder x
downloaders x cache, the ratios to aria2's CPU s/GiB and to the best MB/s of aria2, qBittorrent
and bare libtorrent, and whether each seedboxd variant meets the targets (CPU s/GiB <= aria2's,
MB/s >= the best other's).

--seeder (repeatable): aria2, qbittorrent, libtorrent[:setting=value,...] (session settings) or
seedboxd[:key=value,...] (--set flags; skipped with a note if --help-config lacks a key).

Before each run it waits until other processes use at most BUSY_LIMIT of a core
(transmission_bench.wait_quiet); a run during which they used more (machine CPU from /proc/stat
minus the seeder, the downloaders and this script) is repeated, up to ATTEMPTS times; exit 2 if
the machine never stays quiet. Missing a target is not an error (exit 0). The seedboxd binary
(build/seedboxd, or SEEDBOX_BIN) is copied at the start. Run with /usr/bin/python3.

usage: bench/seeding_bench.py [--size-mib 2048] [--rounds 3] [--downloaders 1,4]
       [--cache warm,evicted] [--seeder SPEC ...] [--seed-mode] [--data-dir /var/tmp]
"""
import argparse
import base64
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from list_bench import cpu_seconds  # noqa: E402 (puts harness on the path)
from bench_common import (ATTEMPTS, BUSY_LIMIT, MachineBusy, machine_cpu,  # noqa: E402
                          wait_quiet)
from transmission_bench import QuietDaemon, snapshot_binary  # noqa: E402
import harness  # noqa: E402
from harness import free_port, make_file, mktorrent, wait_until  # noqa: E402

SEEDER_IP = "127.0.0.60"
DEFAULT_SEEDERS = ["aria2", "qbittorrent", "libtorrent", "seedboxd", "seedboxd:bt.disk_io=mmap",
                   "seedboxd:bt.disk_io=posix"]
OTHERS = ("aria2", "qbittorrent", "libtorrent")  # the references
LT_QUIET = {"enable_dht": False, "enable_lsd": False, "enable_upnp": False,
            "enable_natpmp": False, "enable_outgoing_utp": False, "enable_incoming_utp": False}
RUN_TIMEOUT = 1800  # seconds for every downloader to complete


# -- the python3-libtorrent processes (this script run as "leech ..." or "seed ...") ----------
def lt_session(listen, extra):
    import libtorrent as lt
    c = lt.alert.category_t  # storage: save_resume_data_alert
    mask = c.error_notification | c.status_notification | c.storage_notification
    return lt, lt.session({"alert_mask": mask, **extra, **LT_QUIET, "listen_interfaces": listen})


def lt_add(lt, ses, tfile, save, seed):
    p = lt.add_torrent_params()
    p.ti, p.save_path = lt.torrent_info(tfile), save
    p.flags |= lt.torrent_flags.disable_pex | (lt.torrent_flags.seed_mode if seed else 0)
    return ses.add_torrent(p)


def leech_main(ip, tfile, save, seeder_ip, port):
    """Says "ready" once its torrent waits for peers, connects on "go", says "done <monotonic
    time>" when complete (or "failed"), and exits at the end of its input."""
    lt, ses = lt_session(f"{ip}:0", {"out_enc_policy": 2, "in_enc_policy": 2,
                                     "outgoing_interfaces": ip})  # else all come from 127.0.0.1
    h = lt_add(lt, ses, tfile, save, seed=False)
    wait_until(lambda: h.status().state == lt.torrent_status.downloading, 60, what="checking")
    print("ready", flush=True)
    if sys.stdin.readline().strip() == "go":
        h.connect_peer((seeder_ip, int(port)))
        deadline = time.monotonic() + RUN_TIMEOUT
        while not h.status().is_finished and time.monotonic() < deadline:
            ses.wait_for_alert(1000)
            ses.pop_alerts()
        done = h.status().is_finished
        print(f"done {time.monotonic()!r}" if done else "failed", flush=True)
        sys.stdin.read()


def seed_main(listen, tfile, save, settings, resume, seed_mode):
    """Without a resume file: adds the torrent (checked, or in seed mode), writes the resume
    file and says "prepared". With one: seeds from it, says "ready", stops at end of input."""
    lt, ses = lt_session(listen, json.loads(settings))
    if os.path.exists(resume):
        with open(resume, "rb") as f:
            p = lt.read_resume_data(f.read())
        p.ti, p.save_path = lt.torrent_info(tfile), save
        p.flags |= lt.torrent_flags.disable_pex
        h = ses.add_torrent(p)
    else:
        h = lt_add(lt, ses, tfile, save, seed=seed_mode == "1")
    wait_until(lambda: h.status().is_seeding, 600, what="the torrent to seed")
    if os.path.exists(resume):
        return print("ready", flush=True) or sys.stdin.read()
    h.save_resume_data()
    alert = wait_until(lambda: next((a for a in ses.pop_alerts()
                                     if isinstance(a, lt.save_resume_data_alert)), None), 60,
                       what="resume data")
    with open(resume, "wb") as f:
        f.write(lt.write_resume_data_buf(alert.params))
    print("prepared", flush=True)


def child(role, *args):
    return subprocess.Popen([sys.executable, os.path.abspath(__file__), role, *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def expect(proc, word, what):
    line = proc.stdout.readline().split()
    if not line or line[0] != word:
        raise RuntimeError(f"{what}: {' '.join(line) or 'exited'} (expected {word})")
    return line


def end_child(proc):
    proc.stdin.close()
    proc.wait(60)


# -- seeders: prepare(ctx, port) once, then start(ctx, port) -> pid and stop() per run ----------
def copy_of(ctx, template):
    return shutil.copytree(template, tempfile.mkdtemp(dir=ctx["tmp"]), dirs_exist_ok=True)


def listening(port):
    with open("/proc/net/tcp") as f:
        return any(x.split()[3] == "0A" and int(x.split()[1].split(":")[1], 16) == port
                   for x in f.readlines()[1:])


class Seedboxd:
    def __init__(self, sets):
        self.sets = sets

    def daemon(self, ctx, state, port):
        args = [x for kv in ["bt.pex=false", f"torrent.allowed_roots=[\"{ctx['dir']}\"]",
                             *self.sets] for x in ("--set", kv)]
        return QuietDaemon(state_dir=state, args=args, bt_iface=f"{SEEDER_IP}:{port}").start()

    def prepare(self, ctx, port):
        self.d = self.daemon(ctx, tempfile.mkdtemp(dir=ctx["tmp"]), port)
        try:
            self.tid = self.d.call("torrent.add", metainfo=base64.b64encode(ctx["meta"]).decode(),
                                   save_path=ctx["dir"], seed_mode=ctx["seed_mode"])["id"]
            self.d.wait_state(self.tid, "seeding", timeout=600)
        finally:
            self.template = self.stop(keep=True)

    def start(self, ctx, port):
        self.d = self.daemon(ctx, copy_of(ctx, self.template), port)
        self.d.wait_state(self.tid, "seeding")
        return self.d.proc.pid

    def stop(self, keep=False):
        if (code := self.d.stop()) not in (0, None):
            raise RuntimeError(f"seedboxd exited with {code}:\n{self.d.logs()}")
        return self.d.dir if keep else shutil.rmtree(self.d.dir, ignore_errors=True)


class Process:
    def prepare(self, ctx, port):
        pass

    def stop(self):
        self.proc.terminate()
        self.proc.wait(60)


class Aria2(Process):  # never verifies what it uploads: --bt-seed-unverified is its steady state
    def start(self, ctx, port):
        self.proc = subprocess.Popen(
            ["aria2c", "--no-conf", "--seed-ratio=0.0", "--bt-seed-unverified=true",
             "--check-integrity=false", "-d", ctx["dir"], f"--listen-port={port}",
             f"--interface={SEEDER_IP}", "--enable-dht=false", "--enable-dht6=false",
             "--bt-enable-lpd=false", "--enable-peer-exchange=false", "--disable-ipv6",
             "--summary-interval=0", "--console-log-level=warn", ctx["torrent"]],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        wait_until(lambda: self.proc.poll() is None and listening(port), 30, what="aria2c")
        return self.proc.pid


QBT_CONF = ("[LegalNotice]\nAccepted=true\n[Network]\nPortForwardingEnabled=false\n[BitTorrent]\n"
            + "".join(f"Session\\{kv}\n" for kv in (
                "DHTEnabled=false LSDEnabled=false PeXEnabled=false UseRandomPort=false "
                "BTProtocol=TCP QueueingSystemEnabled=false Port={port} InterfaceAddress={ip} "
                "DefaultSavePath={save}").split()) + "[Preferences]\n"
            + "".join(f"{kv}\n" for kv in (
                r"Connection\UPnP=false Connection\ResolvePeerCountries=false "
                r"Connection\ResolvePeerHostNames=false WebUI\Address=127.0.0.1 WebUI\Port={web} "
                r"WebUI\LocalHostAuth=false WebUI\HostHeaderValidation=false "
                r"WebUI\CSRFProtection=false").split()))


class QBittorrent(Process):
    def launch(self, ctx, profile, port):
        self.profile, self.web = profile, free_port()
        conf = os.path.join(profile, "qBittorrent", "config")
        os.makedirs(conf, exist_ok=True)
        with open(os.path.join(conf, "qBittorrent.conf"), "w") as f:
            f.write(QBT_CONF.format(port=port, ip=SEEDER_IP, save=ctx["dir"], web=self.web))
        self.proc = subprocess.Popen(["qbittorrent-nox", f"--profile={profile}"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_until(lambda: self.api("GET", "/api/v2/app/version"), 60, what="qbittorrent WebUI")

    def seeding(self, timeout):
        states = lambda: [t["state"] for t in json.loads(self.api("GET", "/api/v2/torrents/info"))]
        wait_until(lambda: states() in (["uploading"], ["stalledUP"]), timeout,
                   what="qbittorrent to seed")

    def prepare(self, ctx, port):
        self.template = tempfile.mkdtemp(dir=ctx["tmp"])
        self.launch(ctx, self.template, port)
        try:
            self.add(ctx)
            self.seeding(600)
        finally:
            Process.stop(self)

    def start(self, ctx, port):
        self.launch(ctx, copy_of(ctx, self.template), port)
        self.seeding(60)
        wait_until(lambda: listening(port), 30, what="qbittorrent's BitTorrent port")
        return self.proc.pid

    def api(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.web, timeout=30)
        try:
            conn.request(method, path, body, headers or {})
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"qbittorrent {path}: HTTP {resp.status} {data[:200]!r}")
            return data
        finally:
            conn.close()

    def add(self, ctx):
        b = uuid.uuid4().hex
        parts = [('name="torrents"; filename="payload.torrent"', ctx["meta"]),
                 ('name="savepath"', ctx["dir"].encode()),
                 ('name="skip_checking"', b"true" if ctx["seed_mode"] else b"false")]
        body = b"".join(f"--{b}\r\nContent-Disposition: form-data; {d}\r\n\r\n".encode() + v +
                        b"\r\n" for d, v in parts) + f"--{b}--\r\n".encode()
        self.api("POST", "/api/v2/torrents/add", body,
                 {"Content-Type": f"multipart/form-data; boundary={b}"})

    def stop(self):
        Process.stop(self)
        shutil.rmtree(self.profile, ignore_errors=True)


class BareLibtorrent(Process):
    def __init__(self, settings):
        self.settings = settings

    def spawn(self, ctx, port):
        return child("seed", f"{SEEDER_IP}:{port}", ctx["torrent"], ctx["dir"],
                     json.dumps(self.settings), self.resume, "1" if ctx["seed_mode"] else "0")

    def prepare(self, ctx, port):
        self.resume = tempfile.mktemp(dir=ctx["tmp"])
        proc = self.spawn(ctx, port)
        expect(proc, "prepared", "the libtorrent seeder")
        end_child(proc)

    def start(self, ctx, port):
        self.proc = self.spawn(ctx, port)
        expect(self.proc, "ready", "the libtorrent seeder")
        wait_until(lambda: listening(port), 30, what="the libtorrent seeder's port")
        return self.proc.pid


def make_seeder(spec, config_keys):
    """A seeder for spec ("name" or "name:k=v,k=v"), or None (with a note) when seedboxd does
    not have a key the variant names."""
    name, _, rest = spec.partition(":")
    pairs = [kv for kv in rest.split(",") if kv]
    if name == "seedboxd":
        missing = [kv.split("=")[0] for kv in pairs if kv.split("=")[0] not in config_keys]
        if missing:
            print(f"note: skipping {spec}: seedboxd --help-config has no {', '.join(missing)}")
            return None
        return Seedboxd(pairs)
    if name == "libtorrent":
        return BareLibtorrent({k: json.loads(v) if v[:1].isdigit() or v in ("true", "false")
                               else v for k, v in (kv.split("=", 1) for kv in pairs)})
    if name in ("aria2", "qbittorrent") and not pairs:
        return Aria2() if name == "aria2" else QBittorrent()
    raise SystemExit(f"unknown seeder {spec!r}")


# -- the page cache -----------------------------------------------------------------------------
def resident_share(path):
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", path],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[0]) / os.path.getsize(path)


def set_cache(path, cache):
    with open(path, "rb", buffering=0) as f:
        if cache == "evicted":
            os.fsync(f.fileno())
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        while cache == "warm" and f.read(8 << 20):
            pass
    share = resident_share(path)
    if share > 0.02 if cache == "evicted" else share < 0.98:
        raise RuntimeError(f"page cache not {cache}: {share:.0%} of the payload resident")
    return share


# -- one run ------------------------------------------------------------------------------------
def start_leechers(ctx, n, port):
    procs = [child("leech", f"127.0.0.{71 + i}", ctx["torrent"],
                   os.path.join(ctx["shm"], f"leech-{i}"), SEEDER_IP, str(port)) for i in range(n)]
    for p in procs:
        expect(p, "ready", "a downloader")
    return procs


def transfer(ctx, pid, leechers, cache):
    """Times the transfer; returns the figures, with "others": the share of a core that other
    processes used meanwhile."""
    resident = set_cache(ctx["payload"], cache)
    lpids = [p.pid for p in leechers]
    own0, cpu0, all0 = time.process_time(), cpu_seconds(pid), machine_cpu()
    lcpu0 = sum(cpu_seconds(p) for p in lpids)
    t0 = time.monotonic()
    for p in leechers:
        p.stdin.write("go\n")
        p.stdin.flush()
    wall = max(float(expect(p, "done", "a downloader")[1]) for p in leechers) - t0
    span = time.monotonic() - t0
    seeder, lcpu = cpu_seconds(pid) - cpu0, sum(cpu_seconds(p) for p in lpids) - lcpu0
    others = machine_cpu() - all0 - seeder - lcpu - (time.process_time() - own0)
    gib = len(leechers) * ctx["size"] / 2**30
    return {"cpu_gib": seeder / gib, "mbps": len(leechers) * ctx["size"] / wall / 1e6,
            "leech_gib": lcpu / gib, "others": others / span, "wall": wall,
            "resident": resident}


def run(ctx, label, seeder, n, cache):
    """One measurement, repeated while other processes were busy."""
    for attempt in range(1, ATTEMPTS + 1):
        port = free_port(SEEDER_IP)
        pid = seeder.start(ctx, port)
        leechers = []
        try:
            leechers = start_leechers(ctx, n, port)
            wait_quiet(pid, label)
            r = transfer(ctx, pid, leechers, cache)
        finally:
            for p in leechers:
                end_child(p)
            shutil.rmtree(ctx["shm"], ignore_errors=True)
            os.makedirs(ctx["shm"])
            seeder.stop()
        if r["others"] <= BUSY_LIMIT:
            return r
        print(f"  {label}: other processes used {r['others']:.0%} of a core during the run "
              f"(limit {BUSY_LIMIT:.0%}); attempt {attempt} of {ATTEMPTS}", flush=True)
    raise MachineBusy(f"machine busy: no figures for {label}, {n} downloaders, {cache}")


# -- report -------------------------------------------------------------------------------------
def print_table(results, labels, n, cache, rounds):
    med = {s: {k: statistics.median(r[k] for r in results[(s, n, cache)])
               for k in ("cpu_gib", "mbps", "leech_gib", "others")} for s in labels}
    aria = med.get("aria2", {}).get("cpu_gib")
    best = max((med[s]["mbps"] for s in labels if s in OTHERS), default=None)
    print(f"\n{n} downloader{'s' if n > 1 else ''}, payload {cache} (median of {rounds})")
    print(f"{'seeder':34}{'CPU s/GiB':>10}{'MB/s':>9}{'CPU/aria2':>10}{'MB/s/best':>10}"
          f"{'dl CPU s/GiB':>13}{'others':>8}")
    met = {}
    for s in labels:
        m = med[s]
        cr = m["cpu_gib"] / aria if aria else None
        mr = m["mbps"] / best if best else None
        print(f"{s:34}{m['cpu_gib']:10.2f}{m['mbps']:9.1f}" +
              (f"{cr:10.2f}" if cr else f"{'-':>10}") + (f"{mr:10.2f}" if mr else f"{'-':>10}") +
              f"{m['leech_gib']:13.2f}{max(0, m['others']):8.0%}")
        if s.startswith("seedboxd") and cr and mr:
            met[s] = (cr <= 1.0, mr >= 1.0)
    return met


def report(results, labels, a):
    print(f"\nseeding {a.size_mib} MiB to python3-libtorrent downloaders over loopback "
          f"(CPU s/GiB: seeder CPU per GiB sent; MB/s: 10^6 bytes/s to all downloaders; "
          f"best: the best of {', '.join(s for s in labels if s in OTHERS) or 'none'})")
    verdict = {}
    for n in a.downloaders:
        for cache in a.cache:
            for s, (c, m) in print_table(results, labels, n, cache, a.rounds).items():
                verdict[s] = [x and y for x, y in zip(verdict.get(s, (True, True)), (c, m))]
    for s, (c, m) in verdict.items():
        print(f"target ({s}): CPU s/GiB <= aria2's everywhere: {'met' if c else 'missed'}; "
              f"MB/s >= best other's everywhere: {'met' if m else 'missed'}")


# -- main ---------------------------------------------------------------------------------------
def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mib", type=int, default=2048)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--downloaders", default="1,4", help="downloader counts, comma-separated")
    ap.add_argument("--cache", default="warm,evicted", help="warm, evicted or both")
    ap.add_argument("--seeder", action="append", help=f"repeatable; default: "
                    f"{' '.join(DEFAULT_SEEDERS)}")
    ap.add_argument("--data-dir", default="/var/tmp", help="disk folder for the payload")
    ap.add_argument("--seed-mode", action="store_true", help="add in seed mode (libtorrent "
                    "hashes each piece on its first request) instead of checked")
    a = ap.parse_args()
    a.downloaders = [int(x) for x in a.downloaders.split(",")]
    a.cache = a.cache.split(",")
    if set(a.cache) - {"warm", "evicted"} or min(a.downloaders) < 1 or a.rounds < 1:
        ap.error("bad --cache, --downloaders or --rounds")
    return a


def make_payload(ctx, size_mib):
    t0 = time.monotonic()
    ctx["payload"] = os.path.join(ctx["dir"], "payload.bin")
    make_file(ctx["payload"], size_mib << 20)
    ctx["torrent"] = os.path.join(ctx["tmp"], "payload.torrent")
    ctx["meta"] = mktorrent(ctx["payload"], ctx["torrent"], piece_kib=1024)
    ctx["size"] = os.path.getsize(ctx["payload"])
    print(f"payload: {size_mib} MiB in {ctx['dir']} ({time.monotonic() - t0:.0f} s to make)",
          flush=True)


def measure_all(ctx, seeders, a):
    results, labels = {}, list(seeders)
    for s in labels:
        t0 = time.monotonic()
        seeders[s].prepare(ctx, free_port(SEEDER_IP))
        print(f"{s}: {'added in seed mode' if ctx['seed_mode'] else 'checked'} in "
              f"{time.monotonic() - t0:.1f} s", flush=True)
    for r in range(a.rounds):
        order = labels[r % len(labels):] + labels[:r % len(labels)]
        for n in a.downloaders:
            for cache in a.cache:
                for s in order:
                    x = run(ctx, s, seeders[s], n, cache)
                    results.setdefault((s, n, cache), []).append(x)
                    print(f"round {r + 1}, {n} dl, {cache:7} {s:34} {x['cpu_gib']:6.2f} CPU s/GiB "
                          f"{x['mbps']:7.1f} MB/s (dl {x['leech_gib']:.2f} CPU s/GiB, others "
                          f"{max(0, x['others']):.0%}, resident {x['resident']:.0%})", flush=True)
    return results, labels


def main():
    a = parse_args()
    if missing := [t for t in ("aria2c", "qbittorrent-nox", "mktorrent", "fincore")
                   if shutil.which(t) is None]:
        raise SystemExit(f"not installed: {', '.join(missing)}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the seeders on the way out
    tmp = tempfile.mkdtemp(prefix="seedbox-seeding-")
    ctx = {"tmp": tmp, "dir": tempfile.mkdtemp(prefix="seedbox-seeding-", dir=a.data_dir),
           "shm": tempfile.mkdtemp(prefix="seedbox-seeding-", dir="/dev/shm"),
           "seed_mode": a.seed_mode}
    try:
        harness.BIN = snapshot_binary(tmp)
        keys = {line.split()[0] for line in subprocess.check_output(
            [harness.BIN, "--help-config"], text=True).splitlines() if line.strip()}
        seeders = {s: x for s in (a.seeder or DEFAULT_SEEDERS) if (x := make_seeder(s, keys))}
        make_payload(ctx, a.size_mib)
        results, labels = measure_all(ctx, seeders, a)
        report(results, labels, a)
    except MachineBusy as e:
        print(e, file=sys.stderr)
        return 2
    finally:
        for d in (ctx["dir"], ctx["shm"], tmp):
            shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == "__main__":
    role = {"leech": leech_main, "seed": seed_main}.get(sys.argv[1] if sys.argv[1:] else "")
    sys.exit(role(*sys.argv[2:]) if role else main())  # role: a child process
