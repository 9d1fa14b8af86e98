"""Small colour swatches for profiles (list icons, the colour button)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap


def swatch_pixmap(color: str | QColor, size: int = 12) -> QPixmap:
    pix = QPixmap(size, size)
    pix.fill(Qt.transparent)
    qc = QColor(color)
    if qc.isValid():
        p = QPainter(pix)
        p.setRenderHint(QPainter.Antialiasing)
        p.setBrush(qc)
        p.setPen(qc.darker(130))
        p.drawRoundedRect(QRectF(0.5, 0.5, size - 1, size - 1), 3, 3)
        p.end()
    return pix


def swatch_icon(color: str | QColor, size: int = 12) -> QIcon:
    return QIcon(swatch_pixmap(color, size))
