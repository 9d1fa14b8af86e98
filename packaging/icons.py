"""Render the app icon for the installers, from pgwatch_gui/resources/pgwatch-gui.svg.

    python packaging/icons.py OUTDIR

writes into OUTDIR:
  hicolor/SIZExSIZE/apps/pgwatch-gui.png   for the Linux desktop (16 to 512 px)
  pgwatch-gui.ico                          Windows: the .exe and the installer
  pgwatch-gui.icns                         macOS: the .app

The .ico holds 16-48 px images as 32-bit BMP (what every Windows tool reads) and 256 px
as PNG; the .icns holds PNG images (macOS 10.7+). Only Qt (QtSvg) is needed, no Pillow.
The spec runs this at build time; nothing generated is committed.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

SVG = Path(__file__).resolve().parent.parent / "pgwatch_gui" / "resources" / "pgwatch-gui.svg"
HICOLOR_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 256)
# (type, pixels): PNG-carrying icns types, https://en.wikipedia.org/wiki/Apple_Icon_Image_format
ICNS_TYPES = (
    (b"icp4", 16), (b"icp5", 32), (b"ic11", 32), (b"ic12", 64), (b"ic07", 128),
    (b"ic13", 256), (b"ic08", 256), (b"ic14", 512), (b"ic09", 512), (b"ic10", 1024),
)


def _image(size: int):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"icons: cannot read {SVG}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def png_bytes(size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QIODevice

    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    _image(size).save(buf, "PNG")
    return bytes(buf.data())


def _bmp_bytes(size: int) -> bytes:
    """A 32-bit DIB as .ico wants it: height doubled, rows bottom-up, then the AND mask."""
    image = _image(size)
    stride = image.bytesPerLine()
    bits = bytes(image.constBits())[: stride * size]  # ARGB32: B, G, R, A in memory
    rows = [bits[y * stride: y * stride + size * 4] for y in range(size)]
    header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0, size * size * 4, 0, 0, 0, 0)
    mask_row = bytes(((size + 31) // 32) * 4)  # all zero: the alpha channel decides
    return header + b"".join(reversed(rows)) + mask_row * size


def ico_bytes(sizes=ICO_SIZES) -> bytes:
    images = [png_bytes(s) if s >= 256 else _bmp_bytes(s) for s in sizes]
    offset = 6 + 16 * len(images)
    out = [struct.pack("<HHH", 0, 1, len(images))]
    for s, data in zip(sizes, images, strict=True):
        dim = 0 if s >= 256 else s  # 0 means 256
        out.append(struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset))
        offset += len(data)
    return b"".join(out + images)


def icns_bytes(types=ICNS_TYPES) -> bytes:
    cache: dict[int, bytes] = {}
    chunks = []
    for kind, size in types:
        data = cache.setdefault(size, png_bytes(size))
        chunks.append(kind + struct.pack(">I", 8 + len(data)) + data)
    body = b"".join(chunks)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def render_all(out: Path) -> list[Path]:
    written = []
    for size in HICOLOR_SIZES:
        path = out / "hicolor" / f"{size}x{size}" / "apps" / "pgwatch-gui.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png_bytes(size))
        written.append(path)
    for name, data in (("pgwatch-gui.ico", ico_bytes()), ("pgwatch-gui.icns", icns_bytes())):
        (out / name).write_bytes(data)
        written.append(out / name)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841
    for path in render_all(Path(argv[0])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
