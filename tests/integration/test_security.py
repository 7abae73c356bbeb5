"""Transport security: token, Host, Origin, and every bound, each refused while others are served."""
import http.client
import json
import os
import socket
import subprocess
import time

import pytest

from harness import BIN, Daemon, b64, make_file, mktorrent, wait_until


@pytest.fixture(scope="module")
def d():
    with Daemon(args=["--set", "rpc.max_connections=8", "--set", "rpc.idle_timeout=2",
                      "--set", "rpc.max_body_bytes=65536", "--set", "rpc.max_header_bytes=2048"]) as d:
        yield d


LIST = {"jsonrpc": "2.0", "id": 1, "method": "torrent.list"}


def test_no_token_or_wrong_token_is_401_and_nothing_runs(d, tmp_path):
    data = tmp_path / "f.bin"
    make_file(str(data), 100_000)
    meta = mktorrent(str(data), str(tmp_path / "f.torrent"))
    add = {"jsonrpc": "2.0", "id": 1, "method": "torrent.add", "params": {"metainfo": b64(meta)}}
    status, headers, _ = d.post(add, auth=False)
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")
    status, _, _ = d.post(add, auth=False, headers={"Authorization": "Bearer " + "x" * 64})
    assert status == 401
    status, _, _ = d.post(add, auth=False, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert status == 401
    assert d.call("torrent.list")["torrents"] == []


def test_host_header_allow_list(d):
    status, _, _ = d.post(LIST, headers={"Host": "evil.example"})
    assert status == 421
    status, _, _ = d.post(LIST, headers={"Host": f"localhost:{d.port}"})
    assert status == 200


def test_origin_is_checked_and_no_cors_wildcard(d):
    status, headers, _ = d.post(LIST, headers={"Origin": "http://evil.example"})
    assert status == 403
    status, headers, _ = d.post(LIST)
    assert "access-control-allow-origin" not in headers
    import websocket
    with pytest.raises(websocket.WebSocketBadStatusException) as e:
        d.ws(origin="http://evil.example")
    assert e.value.status_code == 403


def test_websocket_wrong_token_is_401(d):
    import websocket
    with pytest.raises(websocket.WebSocketBadStatusException) as e:
        websocket.create_connection(f"ws://{d.addr}/rpc", header=["Authorization: Bearer nope"],
                                    timeout=10)
    assert e.value.status_code == 401


def test_websocket_without_header_must_log_in_first(d):
    ws = d.ws(auth=False)
    ws.send(json.dumps(LIST))
    assert json.loads(ws.recv())["error"]["code"] == -32001
    ws.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "auth.login", "params": {"token": "bad"}}))
    assert json.loads(ws.recv())["error"]["code"] == -32001
    ws.send(json.dumps({"jsonrpc": "2.0", "id": 3, "method": "auth.login", "params": {"token": d.token}}))
    assert json.loads(ws.recv())["result"]["authenticated"] is True
    ws.send(json.dumps(LIST))
    assert json.loads(ws.recv())["result"] == {"torrents": []}
    ws.close()


def test_body_too_large_is_413(d):
    status, _, _ = d.post('{"jsonrpc":"2.0","id":1,"method":"torrent.list","params":{"x":"' +
                          "a" * 70000 + '"}}')
    assert status == 413
    assert d.call("system.version")["version"]


def test_header_too_large_is_431(d):
    status, _, _ = d.post(LIST, headers={"X-Filler": "y" * 4000})
    assert status == 431
    assert d.call("system.version")["version"]


def test_json_too_deep_is_refused(d):
    deep = "[" * 100 + "]" * 100
    status, _, body = d.post('{"jsonrpc":"2.0","id":1,"method":"torrent.list","params":{"x":' + deep + "}}")
    assert status == 200
    err = json.loads(body)["error"]
    assert err["code"] == -32600 and err["data"]["token"] == "too_deep"


def test_connection_limit_refuses_extra_clients_and_serves_the_rest(d):
    # Eight signed-in keep-alive connections fill rpc.max_connections=8: a ninth is refused.
    held = []
    try:
        for _ in range(8):
            c = http.client.HTTPConnection(d.host, d.port, timeout=5)
            c.request("POST", "/rpc", body=json.dumps(LIST),
                      headers={"Authorization": f"Bearer {d.token}"})
            assert c.getresponse().read()
            held.append(c)
        extra = socket.create_connection((d.host, d.port), timeout=5)
        extra.settimeout(5)
        reply = extra.recv(200).decode()
        extra.close()
        assert reply.startswith("HTTP/1.1 503")
    finally:
        for c in held:
            c.close()
    # Once the held connections are gone, clients are served again.
    wait_until(lambda: d.call("system.version"), what="service after the limit")


def test_unauthenticated_connections_make_room_for_newcomers(d):
    # Eight sockets that never send a request fill the table too; a newcomer closes the oldest of
    # them instead of being refused, so it can sign in.
    held = [socket.create_connection((d.host, d.port), timeout=5,
                                     source_address=(f"127.0.0.{2 + i % 2}", 0)) for i in range(8)]
    try:
        assert d.call("system.version")["version"]
        held[0].settimeout(5)
        assert held[0].recv(10) == b""  # the oldest was closed for it
    finally:
        for s in held:
            s.close()


def test_idle_connections_are_closed(d):
    s = socket.create_connection((d.host, d.port), timeout=10)
    t0 = time.monotonic()
    data = s.recv(10)  # server closes an idle connection after rpc.idle_timeout (2 s)
    assert data == b"" and time.monotonic() - t0 < 8
    s.close()


def test_non_loopback_bind_without_token_is_refused(tmp_path):
    r = subprocess.run([BIN, "--state-dir", str(tmp_path / "var"), "--rpc-bind", "0.0.0.0:0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "without a token" in r.stderr
    assert not os.path.exists(tmp_path / "var" / "rpc.token")


def test_generate_token_allows_a_non_loopback_bind_with_a_private_token(tmp_path):
    """Containers (the Dockerfile sets rpc.generate_token): the token is created 0600 in the state
    dir and still required."""
    var, ready = tmp_path / "var", tmp_path / "ready"
    p = subprocess.Popen([BIN, "--state-dir", str(var), "--rpc-bind", "0.0.0.0:0", "--ready-file",
                          str(ready), "--set", "bt.listen_interfaces=127.0.0.1:0", "--set",
                          "rpc.generate_token=true"], stderr=subprocess.PIPE, text=True)
    try:
        addr = wait_until(lambda: ready.exists() and ready.read_text().strip(), 30, what="ready file")
        assert addr.startswith("0.0.0.0:")
        assert os.stat(var / "rpc.token").st_mode & 0o777 == 0o600
        port = int(addr.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/rpc", body='{"jsonrpc":"2.0","id":1,"method":"torrent.list"}',
                     headers={"Content-Type": "application/json"})
        assert conn.getresponse().status == 401
    finally:
        p.terminate()
        p.wait(30)


def test_group_readable_token_file_is_refused(tmp_path):
    var = tmp_path / "var"
    var.mkdir()
    tok = var / "rpc.token"
    tok.write_text("0123456789abcdef0123456789abcdef\n")
    os.chmod(tok, 0o644)
    r = subprocess.run([BIN, "--state-dir", str(var), "--rpc-bind", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "chmod 600" in r.stderr
    assert "0123456789abcdef" not in r.stderr


def test_healthz_needs_no_auth_and_says_nothing(d):
    status, _, body = d.post(None, path="/healthz", method="GET", auth=False)
    assert status == 200 and json.loads(body) == {"status": "ok"}
