"""Render the SVG icon to the PNG sizes the desktop wants (run after editing the SVG).

    python tools/render_icon.py     # writes pgwatch_gui/resources/pgwatch-gui.png (256 px)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "pgwatch_gui" / "resources"


def render(size: int, out: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(RESOURCES / "pgwatch-gui.svg"))
    image = QImage(size, size, QImage.Format_ARGB32)
    image.fill(Qt.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.Antialiasing)
    renderer.render(painter)
    painter.end()
    image.save(str(out), "PNG", 0)


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else RESOURCES / "pgwatch-gui.png"
    render(int(sys.argv[2]) if len(sys.argv) > 2 else 256, out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
