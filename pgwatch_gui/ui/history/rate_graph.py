"""RateGraph: events per second over the last minutes, one line per series, in QPainter.

Plain QPainter rather than a plotting library: a few hundred points per series, drawn
once a second while visible, and nothing added to the bundle. The widget only draws
what it is given (`set_series`); who counts is the dock's business.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#7f7f7f")


def nice_max(v: float) -> float:
    """The smallest of 1, 2, 5 x 10^k at or above v (the y axis' top)."""
    if v <= 1:
        return 1.0
    k = 1.0
    while True:
        for m in (1, 2, 5):
            if m * k >= v:
                return m * k
        k *= 10


def _fmt(v: float) -> str:
    if v >= 1000:
        return f"{v / 1000:g}k"
    return f"{v:g}"


class RateGraph(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumSize(260, 140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.series: dict[str, list[int]] = {}
        self.span_seconds = 300
        self.note = ""

    def set_series(self, series: dict[str, list[int]], window: int, note: str = "") -> None:
        self.series, self.span_seconds, self.note = series, window, note
        self.update()

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pal = self.palette()
        p.fillRect(self.rect(), pal.base())
        fm = QFontMetrics(self.font())
        lh = fm.height()
        names = list(self.series)
        top = max((max(v) for v in self.series.values() if v), default=0)
        ymax = nice_max(top)
        steps = 5 if f"{ymax:g}".startswith("5") else 4
        labels = [_fmt(ymax * i / steps) + ("/s" if i == steps else "") for i in range(steps + 1)]
        left = max(fm.horizontalAdvance(t) for t in labels) + 10
        cols = max(1, min(3, int((self.width() - left) // 190)))
        legend_rows = max(1, (len(names) + cols - 1) // cols)
        plot = QRectF(left, 8 + legend_rows * lh, self.width() - left - 10,
                      self.height() - 8 - legend_rows * lh - lh - 8)
        if plot.width() < 20 or plot.height() < 20:
            return
        text = pal.text().color()
        grid = QColor(text)
        grid.setAlpha(40)
        p.setPen(QPen(grid, 1))
        for i, label in enumerate(labels):
            y = plot.bottom() - plot.height() * i / steps
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            p.setPen(text)
            p.drawText(QRectF(0, y - lh / 2, left - 6, lh),
                       int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), label)
            p.setPen(QPen(grid, 1))
        p.setPen(text)
        minutes = self.span_seconds / 60
        for label, frac in ((f"-{minutes:g} min", 0.0), (f"-{minutes / 2:g} min", 0.5),
                            ("now", 1.0)):
            x = plot.left() + plot.width() * frac
            w = fm.horizontalAdvance(label)
            p.drawText(QPointF(min(max(plot.left(), x - w / 2), plot.right() - w),
                               plot.bottom() + lh), label)
        if not names:
            p.drawText(plot, int(Qt.AlignmentFlag.AlignCenter),
                       self.note or "No events in this window")
            return
        col_w = (self.width() - left) / cols
        for i, name in enumerate(names):
            color = QColor(COLORS[i % len(COLORS)])
            x = left + (i % cols) * col_w
            y = 8 + (i // cols) * lh
            p.fillRect(QRectF(x, y + lh / 3, 10, lh / 3), color)
            recent = self.series[name][-10:]
            now = f"{name}  {sum(recent) / max(1, len(recent)):,.1f}/s"
            label = f"{now} now, peak {max(self.series[name]):,}/s"
            if fm.horizontalAdvance(label) > col_w - 18:
                label = now  # the name matters more than the peak
            label = fm.elidedText(label, Qt.TextElideMode.ElideMiddle, int(col_w - 18))
            p.drawText(QPointF(x + 14, y + fm.ascent()), label)
        n = self.span_seconds
        for i, name in enumerate(names):
            values = self.series[name]
            path = QPainterPath()
            for j, v in enumerate(values):
                pt = QPointF(plot.left() + plot.width() * j / max(1, n - 1),
                             plot.bottom() - plot.height() * min(v, ymax) / ymax)
                if j == 0:
                    path.moveTo(pt)
                else:
                    path.lineTo(pt)
            p.setPen(QPen(QColor(COLORS[i % len(COLORS)]), 1.6))
            p.drawPath(path)
        if self.note:
            p.setPen(text)
            p.drawText(QRectF(plot.left(), plot.top(), plot.width() - 4, lh),
                       int(Qt.AlignmentFlag.AlignRight), self.note)
        p.end()
