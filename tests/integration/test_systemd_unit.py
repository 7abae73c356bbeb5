"""The systemd unit as built (build/seedboxd.service, configured by CMake): `systemd-analyze verify`
prints nothing (it exits 0 on many real mistakes, so any output fails), the hardening scores an
exposure of at most 2.0 offline, and the settings the issue asks for are there. The boot test under
real systemd (nspawn) is in tests/packaging/ (scripts/packaging-test)."""
import json
import os
import re
import shutil
import subprocess

import pytest

from harness import BIN

UNIT = os.path.join(os.path.dirname(os.path.abspath(BIN)), "seedboxd.service")
SRC = os.path.join(os.path.dirname(__file__), "..", "..", "systemd")

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                reason="systemd-analyze is not installed")


def unit_for_this_build(tmp_path, text=None):
    """The unit with ExecStart pointing at the binary just built (verify checks it is executable)."""
    text = text if text is not None else open(UNIT).read()
    text = re.sub(r"^ExecStart=\S+/seedboxd", f"ExecStart={os.path.abspath(BIN)}", text, flags=re.M)
    path = tmp_path / "seedboxd.service"
    path.write_text(text)
    return path


def verify(path):
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", str(path)], capture_output=True,
                       text=True, timeout=60)
    return r.returncode, (r.stdout + r.stderr).strip()


def test_verify_prints_nothing(tmp_path):
    rc, out = verify(unit_for_this_build(tmp_path))
    assert rc == 0 and out == "", out


def test_verify_would_catch_a_mistake(tmp_path):
    """The check above can fail: a misspelt key is reported (with exit code 0)."""
    text = open(UNIT).read().replace("ProtectSystem=strict", "ProtectSytem=strict")
    rc, out = verify(unit_for_this_build(tmp_path, text))
    assert "ProtectSytem" in out


def test_security_exposure_at_most_2(tmp_path):
    path = unit_for_this_build(tmp_path)
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--threshold=20", str(path)],
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for seedboxd\.service: (\d+\.\d)", r.stdout)
    assert m, r.stdout + r.stderr
    assert r.returncode == 0 and float(m.group(1)) <= 2.0, r.stdout[-3000:]


def test_unit_declares_what_a_service_needs():
    text = open(UNIT).read()
    for line in ("Type=notify", "NotifyAccess=main", "ExecReload=/bin/kill -HUP $MAINPID",
                 "StateDirectory=seedboxd", "ConfigurationDirectory=seedboxd", "WatchdogSec=60",
                 "LimitNOFILE=65536", "ProtectSystem=strict", "NoNewPrivileges=yes",
                 "CapabilityBoundingSet=", "SystemCallFilter=@system-service", "PrivateTmp=yes",
                 "User=seedboxd"):
        assert re.search("^" + re.escape(line) + "$", text, re.M), line
    # The stop timeout leaves room for state.shutdown_timeout (30 s) plus the ledger's last flush.
    assert int(re.search(r"^TimeoutStopSec=(\d+)$", text, re.M).group(1)) >= 60
    sysusers = open(os.path.join(SRC, "seedboxd.sysusers")).read()
    assert re.search(r"^u seedboxd - .* /var/lib/seedboxd$", sysusers, re.M)


def test_example_config_is_valid_for_the_daemon(tmp_path):
    example = os.path.join(os.path.dirname(__file__), "..", "..", "config", "seedboxd.example.json")
    r = subprocess.run([BIN, "--config", example, "--print-config"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["state_dir"] == "/var/lib/seedboxd"


def test_cmake_install_lays_out_binary_unit_and_config(tmp_path):
    build = os.path.dirname(os.path.abspath(BIN))
    dest = tmp_path / "root"
    env = dict(os.environ, DESTDIR=str(dest))
    r = subprocess.run(["cmake", "--install", build], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    cache = open(os.path.join(build, "CMakeCache.txt")).read()
    prefix = re.search(r"^CMAKE_INSTALL_PREFIX:PATH=(.*)$", cache, re.M).group(1)
    root = str(dest) + prefix
    assert os.access(os.path.join(root, "bin", "seedboxd"), os.X_OK)
    unit = open(os.path.join(root, "lib", "systemd", "system", "seedboxd.service")).read()
    assert f"ExecStart={prefix}/bin/seedboxd --config " in unit
    assert os.path.exists(os.path.join(root, "lib", "sysusers.d", "seedboxd.conf"))
    confdir = "/etc" if prefix == "/usr" else prefix + "/etc"
    assert os.path.exists(str(dest) + confdir + "/seedboxd/config.json")
    # A second install keeps an edited config.
    with open(str(dest) + confdir + "/seedboxd/config.json", "a") as f:
        f.write("\n// edited\n")
    subprocess.run(["cmake", "--install", build], env=env, capture_output=True, check=True, timeout=120)
    assert open(str(dest) + confdir + "/seedboxd/config.json").read().endswith("// edited\n")
