"""GET /metrics: Prometheus text that Debian's promtool accepts, token-protected unless
rpc.metrics_public, with figures that follow what the daemon does (RPC calls and errors by method,
WebSocket clients, torrents by state, session and ledger bytes after a real peer downloads)."""
import re
import subprocess

import pytest

from harness import Daemon, wait_until
from test_ledger import FAST, seed_to_python


def scrape(d, auth=True, headers=None):
    status, h, body = d.post(None, path="/metrics", method="GET", auth=auth, headers=headers)
    return status, h, body.decode()


def samples(text):
    """{ 'name{labels}': value } for every sample line, labels in the order the test writes them
    (method before code; otherwise as printed)."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            m = re.fullmatch(r'(\w+)\{(.*)\}', key)
            if m:
                labels = re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2))
                labels.sort(key=lambda kv: (kv[0] != "method", kv[0]))
                key = m.group(1) + "{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}"
            out[key] = float(value)
    return out


def promtool_check(text):
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True,
                       timeout=60)
    # promtool prints lint problems and still exits 0 for some; any output is a failure here.
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), r.stdout + r.stderr


def test_metrics_needs_the_token_and_passes_promtool():
    with Daemon() as d:
        status, h, body = scrape(d, auth=False)
        assert status == 401 and "bearer" in body.lower()
        status, h, text = scrape(d)
        assert status == 200, text
        assert h["content-type"].startswith("text/plain; version=0.0.4")
        promtool_check(text)
        s = samples(text)
        for state in ("seeding", "downloading", "stopped", "error"):
            assert s[f'seedboxd_torrents{{state="{state}"}}'] == 0
        assert s['seedboxd_settlement_batches{state="final"}'] == 0
        assert "seedboxd_ledger_uploaded_bytes_total" in s
        assert re.search(r'^seedboxd_build_info\{.*libtorrent="2\.0\.\d+', text, re.M)
        # Host is checked for /metrics too (DNS rebinding).
        status, _, _ = scrape(d, headers={"Host": "evil.example:80"})
        assert status == 421


def test_rpc_and_websocket_figures_follow_the_calls():
    with Daemon() as d:
        before = samples(scrape(d)[2])
        for _ in range(3):
            d.call("torrent.list")
        d.error_of("torrent.get", id="0" * 40)          # unknown torrent
        d.error_of("torrent.list", fields=["no_such_field"])
        d.error_of("no.such.method")
        ws = d.ws()
        try:
            wait_until(lambda: samples(scrape(d)[2])["seedboxd_websocket_clients"] == 1, 10,
                       what="the WebSocket client to be counted")
            after = samples(scrape(d)[2])
        finally:
            ws.close()

        def delta(key):
            return after.get(key, 0) - before.get(key, 0)
        assert delta('seedboxd_rpc_requests_total{method="torrent.list"}') == 4
        assert delta('seedboxd_rpc_requests_total{method="torrent.get"}') == 1
        assert delta('seedboxd_rpc_requests_total{method="unknown"}') == 1
        assert delta('seedboxd_rpc_errors_total{method="torrent.list",code="-32602"}') == 1
        assert delta('seedboxd_rpc_errors_total{method="unknown",code="-32601"}') == 1
        errors_get = [k for k in after if k.startswith('seedboxd_rpc_errors_total{method="torrent.get"')]
        assert len(errors_get) == 1 and after[errors_get[0]] == 1
        assert delta('seedboxd_rpc_request_duration_seconds_count{method="torrent.list"}') == 4
        wait_until(lambda: samples(scrape(d)[2])["seedboxd_websocket_clients"] == 0, 10,
                   what="the closed WebSocket to be uncounted")


def test_torrent_session_and_ledger_figures_after_a_real_download(tmp_path):
    """The ledger's own exactness is test_ledger's subject; here /metrics must show the same
    figures as ledger.summary once bytes have been recorded, and the session counters move."""
    with Daemon(args=FAST) as d:
        tid, peer, h, _ = seed_to_python(d, tmp_path)
        try:
            s = samples(scrape(d)[2])
            assert s['seedboxd_torrents{state="seeding"}'] == 1
            wait_until(lambda: h.status().is_seeding, 120, what="the leecher to finish")
            seen = []

            def consistent():
                s = samples(scrape(d)[2])
                summary = d.call("ledger.summary")
                seen.append((s["seedboxd_ledger_uploaded_bytes_total"], summary["bytes_up"]))
                return summary["bytes_up"] > 0 and \
                    s["seedboxd_ledger_uploaded_bytes_total"] == summary["bytes_up"] and \
                    s["seedboxd_ledger_flushes_total"] == summary["flushes"] >= 1 and s
            try:
                s = wait_until(consistent, 60, what="/metrics to match ledger.summary")
            except AssertionError as exc:
                raise AssertionError(f"{exc}; (metric, summary) last seen {seen[-3:]}") from None
            wait_until(lambda: samples(scrape(d)[2])["seedboxd_session_uploaded_bytes_total"] > 0,
                       30, what="session upload counter")
        finally:
            peer.close()
        promtool_check(scrape(d)[2])


@pytest.mark.parametrize("public", [True, False])
def test_metrics_public_serves_without_a_token(public):
    with Daemon(args=["--set", f"rpc.metrics_public={'true' if public else 'false'}"]) as d:
        status, _, _ = scrape(d, auth=False)
        assert status == (200 if public else 401)
        # The RPC itself still needs the token.
        status, _, _ = d.post({"jsonrpc": "2.0", "id": 1, "method": "torrent.list"}, auth=False)
        assert status == 401
