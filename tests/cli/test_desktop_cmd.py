"""`pgwatch-gui install-desktop`: a valid launcher entry and icons, and their removal."""

from __future__ import annotations

import shutil
import subprocess

from pgwatch_gui.core.host.desktop import _quote, desktop_entry, resources_dir
from tests.conftest import run_cli


def test_resources_ship_with_the_package():
    for name in ("pgwatch-gui.svg", "pgwatch-gui.png", "pgwatch-gui.desktop"):
        assert (resources_dir() / name).stat().st_size > 0
    assert (resources_dir() / "pgwatch-gui.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_exec_arguments_are_quoted_per_the_spec():
    assert _quote("/usr/bin/pgwatch-gui") == "/usr/bin/pgwatch-gui"
    assert _quote("/opt/my apps/pgwatch-gui") == '"/opt/my apps/pgwatch-gui"'
    assert _quote('a"b') == '"a\\\\"b"'
    assert _quote("100%") == "100%%"
    text = desktop_entry(["/opt/my apps/pgwatch-gui"])
    assert 'Exec="/opt/my apps/pgwatch-gui"\n' in text
    assert 'Exec="/opt/my apps/pgwatch-gui" --demo\n' in text


def test_install_and_uninstall(tmp_path):
    r = run_cli("install-desktop", "--prefix", str(tmp_path))
    assert r.returncode == 0, r.stderr
    entry = tmp_path / "applications" / "pgwatch-gui.desktop"
    svg = tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "pgwatch-gui.svg"
    png = tmp_path / "icons" / "hicolor" / "256x256" / "apps" / "pgwatch-gui.png"
    assert entry.exists() and svg.exists() and png.exists()
    text = entry.read_text()
    assert "Icon=pgwatch-gui\n" in text and "\nExec=pgwatch-gui\n" not in text
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    assert "pgwatch" in exec_line
    validator = shutil.which("desktop-file-validate")
    if validator:
        v = subprocess.run([validator, str(entry)], capture_output=True, text=True)
        assert v.returncode == 0 and not v.stdout.strip(), v.stdout + v.stderr
    r = run_cli("install-desktop", "--prefix", str(tmp_path), "--uninstall")
    assert r.returncode == 0 and r.stdout.count("removed ") == 3
    assert not entry.exists() and not svg.exists() and not png.exists()


def test_install_into_a_read_only_place_is_one_line(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "applications").write_text("a file where a folder must be")
    r = run_cli("install-desktop", "--prefix", str(ro))
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_print_only():
    r = run_cli("install-desktop", "--print")
    assert r.returncode == 0 and r.stdout.startswith("[Desktop Entry]")
