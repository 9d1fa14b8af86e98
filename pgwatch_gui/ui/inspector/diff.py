"""Old and new row side by side, changed columns marked."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pgwatch_gui.core.stream.payload_view import ADDED, CHANGED, REMOVED, SAME, RowDiff, scalar_text
from pgwatch_gui.ui.common.json_view import monospace_font

MARK = {CHANGED: "●", ADDED: "+", REMOVED: "−", SAME: ""}


class DiffView(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.summary = QLabel(self)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["", "Column", "Old", "New"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setFont(monospace_font())
        h = self.tree.header()
        h.setStretchLastSection(False)
        h.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        h.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        h.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        h.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.tree.setColumnWidth(0, 22)
        self.tree.setColumnWidth(1, 130)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 0)
        lay.setSpacing(4)
        lay.addWidget(self.summary)
        lay.addWidget(self.tree, 1)
        dark = self.palette().color(self.backgroundRole()).lightness() < 128
        self._old_bg = QBrush(QColor("#5a1e1e" if dark else "#ffebe9"))
        self._new_bg = QBrush(QColor("#1f4a2c" if dark else "#dafbe1"))
        self._mark_fg = QBrush(QColor("#d29922" if dark else "#9a6700"))
        self._dim = QBrush(QColor("#8b949e"))

    def set_diff(self, diff: RowDiff | None) -> None:
        self.tree.clear()
        if diff is None:
            self.summary.setText("No old and new row in this payload.")
            return
        changed = diff.changed
        op = f"{diff.op} · " if diff.op else ""
        if any(ln.has_old for ln in diff.lines) and any(ln.has_new for ln in diff.lines):
            what = (f"{len(changed)} of {len(diff.lines)} columns changed"
                    if not diff.only_changed else
                    f"{len(changed)} changed columns (the payload carries only those)")
        elif any(ln.has_new for ln in diff.lines):
            what = "new row only"
        else:
            what = "old row only"
        self.summary.setText(f"{op}{what} · from {diff.source}")
        bold = QFont(self.tree.font())
        bold.setBold(True)
        for ln in diff.lines:
            old = scalar_text(ln.old) if ln.has_old else ""
            new = scalar_text(ln.new) if ln.has_new else ""
            item = QTreeWidgetItem([MARK[ln.state], ln.column, old, new])
            item.setToolTip(2, old[:2000])
            item.setToolTip(3, new[:2000])
            if ln.state != SAME:
                item.setFont(1, bold)
                item.setForeground(0, self._mark_fg)
                item.setFont(0, bold)
                if ln.has_old:
                    item.setBackground(2, self._old_bg)
                if ln.has_new:
                    item.setBackground(3, self._new_bg)
            else:
                item.setForeground(2, self._dim)
                item.setForeground(3, self._dim)
            for col, missing in ((2, not ln.has_old), (3, not ln.has_new)):
                if missing:
                    item.setText(col, "—")
                    item.setForeground(col, self._dim)
            self.tree.addTopLevelItem(item)
        self.tree.resizeColumnToContents(1)
        if self.tree.columnWidth(1) > 220:
            self.tree.setColumnWidth(1, 220)
