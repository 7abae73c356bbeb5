"""Shared set-up for the packaging tests (run as root by scripts/packaging-test): the Debian mirror
this machine's apt uses, and root file systems made with debootstrap, cached between runs under
$SEEDBOX_PACKAGING_CACHE (default /var/cache/seedboxd-packaging) because they take a minute each."""
import hashlib
import os
import re
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BIN = os.path.abspath(os.environ.get("SEEDBOX_TEST_BIN", os.path.join(ROOT, "build", "seedboxd")))
CACHE = os.environ.get("SEEDBOX_PACKAGING_CACHE", "/var/cache/seedboxd-packaging")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))


def need(*tools):
    """Skips with the reason, or fails when SEEDBOX_PACKAGING_REQUIRED is set (CI)."""
    why = None
    if os.geteuid() != 0:
        why = "needs root (run scripts/packaging-test as root)"
    else:
        missing = [t for t in tools if shutil.which(t) is None]
        if missing:
            why = "not installed: " + ", ".join(missing) + " (scripts/packaging-test installs them)"
    if why and os.environ.get("SEEDBOX_PACKAGING_REQUIRED"):
        pytest.fail(why)
    if why:
        pytest.skip(why)


def mirror():
    """The first Debian URI apt is configured with (debootstrap must use a mirror that answers)."""
    for path in ("/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"):
        try:
            text = open(path).read()
        except OSError:
            continue
        m = re.search(r"^URIs:\s*(\S+)", text, re.M) or re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+bookworm\b", text, re.M)
        if m:
            return m.group(1)
    return "http://deb.debian.org/debian"


def debootstrap(name, include=()):
    """A bookworm minbase tree with `include` packages, rebuilt only when the list changes."""
    key = hashlib.sha256(" ".join(sorted(include)).encode()).hexdigest()[:16]
    root = os.path.join(CACHE, f"{name}-{key}")
    if os.path.exists(os.path.join(root, ".complete")):
        return root
    os.makedirs(CACHE, exist_ok=True)
    tmp = root + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = ["debootstrap", "--variant=minbase"]
    if include:
        cmd.append("--include=" + ",".join(sorted(include)))
    r = subprocess.run(cmd + ["bookworm", tmp, mirror()], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, "debootstrap failed:\n" + r.stdout[-3000:] + r.stderr[-3000:]
    open(os.path.join(tmp, ".complete"), "w").close()
    os.rename(tmp, root)
    return root


def runtime_packages(binary):
    """The Debian packages that ship the shared libraries `binary` links (via ldd and dpkg -S)."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    libs = re.findall(r"=>\s+(/\S+)", out)
    pkgs = set()
    for lib in libs:
        for candidate in {lib, os.path.realpath(lib), lib.replace("/usr/lib/", "/lib/", 1)}:
            r = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if r.returncode == 0:
                pkgs.add(r.stdout.split(":", 1)[0].strip())
                break
        else:
            raise AssertionError(f"no Debian package ships {lib}")
    return sorted(p for p in pkgs if p not in ("libc6", "libgcc-s1", "libstdc++6"))
