"""The installers' icons, rendered from the SVG at build time (packaging/icons.py): the
hicolor PNGs for the .deb, the .ico for Windows and the .icns for macOS, read back with
Qt's own readers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def icons(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("icons")
    r = subprocess.run([sys.executable, str(Path(REPO_ROOT) / "packaging" / "icons.py"),
                        str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return out


def _frames(path: Path) -> list:
    # Qt's image plugins need an application object. It must be pytest-qt's QApplication
    # (the qapp fixture): a QGuiApplication made here would outlive the test, and the
    # first QWidget of a later UI test would abort the whole run.
    from PySide6.QtGui import QImageReader

    reader = QImageReader(str(path))
    frames = []
    for i in range(reader.imageCount()):
        reader.jumpToImage(i)
        frames.append(reader.read())
    return frames


def test_hicolor_pngs(icons, qapp):
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        [image] = _frames(icons / "hicolor" / f"{size}x{size}" / "apps" / "pgwatch-gui.png")
        assert (image.width(), image.height()) == (size, size)


def test_ico_for_windows_has_every_size_with_transparency(icons, qapp):
    frames = _frames(icons / "pgwatch-gui.ico")
    assert sorted(f.width() for f in frames) == [16, 24, 32, 48, 256]
    for f in frames:
        assert f.width() == f.height()
        assert f.pixelColor(0, 0).alpha() == 0  # the rounded corner is transparent
        assert f.pixelColor(f.width() // 2, f.height() // 2).alpha() == 255


def test_icns_for_macos(icons, qapp):
    data = (icons / "pgwatch-gui.icns").read_bytes()
    assert data[:4] == b"icns" and int.from_bytes(data[4:8], "big") == len(data)
    frames = _frames(icons / "pgwatch-gui.icns")
    assert {16, 32, 128, 256, 512, 1024} <= {f.width() for f in frames}
