"""Configuration: file (with comments) < env < flags; unknown keys and bad values refused at start."""
import json
import os
import subprocess
import tempfile

from harness import BIN, Daemon


def run(args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([BIN] + args, capture_output=True, text=True, env=e, timeout=30)


def test_print_config_has_file_shape_and_precedence(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text("""{
        // a comment
        "rpc": {"bind": "127.0.0.1:1111", "max_batch": 5},
        "bt": {"upload_rate_limit": 1000}
    }""")
    r = run(["--config", str(cfg), "--print-config", "--rpc-bind", "127.0.0.1:2222"],
            {"SEEDBOXD_RPC_MAX_BATCH": "9", "SEEDBOXD_BT_DHT": "true"})
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["rpc"]["bind"] == "127.0.0.1:2222"      # flag beats file
    assert doc["rpc"]["max_batch"] == 9                # env beats file
    assert doc["bt"]["upload_rate_limit"] == 1000      # file beats default
    assert doc["bt"]["dht"] is True
    # The printed document is itself a valid config file.
    cfg2 = tmp_path / "c2.json"
    cfg2.write_text(r.stdout)
    r2 = run(["--config", str(cfg2), "--print-config"])
    assert r2.returncode == 0, r2.stderr
    assert json.loads(r2.stdout) == doc


def test_secret_token_is_redacted(tmp_path):
    r = run(["--print-config"], {"SEEDBOXD_RPC_TOKEN": "averyveryverysecrettoken"})
    assert r.returncode == 0
    assert "averyveryverysecrettoken" not in r.stdout
    assert json.loads(r.stdout)["rpc"]["token"] == "<redacted>"


def test_unknown_key_in_file_is_refused_naming_it(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text('{"rpc": {"bnid": "127.0.0.1:1"}}')
    r = run(["--config", str(cfg), "--print-config"])
    assert r.returncode == 2
    assert "rpc.bnid" in r.stderr


def test_bad_values_are_refused_naming_the_key(tmp_path):
    r = run(["--print-config"], {"SEEDBOXD_RPC_MAX_CONNECTIONS": "lots"})
    assert r.returncode == 2 and "rpc.max_connections" in r.stderr
    r = run(["--print-config", "--set", "bt.encryption=sometimes"])
    assert r.returncode == 2 and "bt.encryption" in r.stderr
    r = run(["--print-config", "--rpc-bind", "nowhere"])
    assert r.returncode == 2 and "rpc.bind" in r.stderr
    r = run(["--print-config"], {"SEEDBOXD_NO_SUCH_THING": "1"})
    assert r.returncode == 2 and "SEEDBOXD_NO_SUCH_THING" in r.stderr
    r = run(["--print-config", "--set", "bt.dht"])
    assert r.returncode == 2 and "KEY=VALUE" in r.stderr


def test_config_file_drives_a_running_daemon(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text('{"bt": {"upload_rate_limit": 12345}, /* block comment */ "rpc": {"max_batch": 2}}')
    with Daemon(args=["--config", str(cfg)]) as d:
        assert d.call("session.settings")["upload_rate_limit"] == 12345
        status, _, body = d.post([{"jsonrpc": "2.0", "id": i, "method": "system.version"} for i in range(3)])
        assert json.loads(body)["error"]["data"]["token"] == "batch_too_large"


def test_ready_file_names_the_bound_address_and_token_file_is_private():
    with Daemon() as d:
        host, port = d.addr.rsplit(":", 1)
        assert host == "127.0.0.1" and int(port) > 0
        mode = os.stat(os.path.join(d.state_dir, "rpc.token")).st_mode & 0o777
        assert mode == 0o600
        assert d.token not in d.logs()


def test_tron_key_is_generated_private_stable_and_never_logged(tmp_path):
    d = Daemon(state_dir=str(tmp_path), args=["--set", "tron.generate_key=true"])
    with d:
        w = d.call("wallet.address")
        assert w["address"].startswith("T") and len(w["address"]) == 34
        assert w["hex"].startswith("41") and len(w["hex"]) == 42
    key_path = os.path.join(d.state_dir, "tron.key")
    assert os.stat(key_path).st_mode & 0o777 == 0o600
    secret = open(key_path).read().strip()
    assert len(secret) == 64
    with Daemon(state_dir=str(tmp_path)) as d2:  # no generate flag needed once it exists
        assert d2.call("wallet.address") == w
        doc = d2.call("rpc.discover")
        assert secret not in json.dumps(doc)
        assert secret not in d2.logs(tail=1 << 30)
    assert secret not in d.logs(tail=1 << 30)
    os.chmod(key_path, 0o640)
    r = subprocess.run([BIN, "--state-dir", d.state_dir, "--rpc-bind", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "chmod 600" in r.stderr and secret not in r.stderr


def test_without_a_key_wallet_is_off(tmp_path):
    with Daemon(state_dir=str(tmp_path)) as d:
        e = d.error_of("wallet.address")
        assert e.code == 2001 and e.token == "no_wallet"
    assert not os.path.exists(os.path.join(d.state_dir, "tron.key"))


def test_a_bid_above_the_price_cap_is_refused_at_start(tmp_path):
    r = subprocess.run([BIN, "--state-dir", str(tmp_path / "var"), "--rpc-bind", "127.0.0.1:0",
                        "--set", "bt.listen_interfaces=127.0.0.1:0",
                        "--set", "tron.generate_key=true", "--set", "payments.pay=true",
                        "--set", "payments.max_price_per_gib=1000",
                        "--set", "payments.bid_per_gib=1001"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, r.stderr
    assert "payments.bid_per_gib (1001) is above payments.max_price_per_gib (1000)" in r.stderr
