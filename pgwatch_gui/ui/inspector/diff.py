"""Old and new row side by side, changed columns marked."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QSize, Qt, QTimer
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QPainter,
    QPalette,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pgwatch_gui.core.stream.payload_view import ADDED, CHANGED, REMOVED, SAME, RowDiff, scalar_text
from pgwatch_gui.ui.common.json_view import monospace_font
from pgwatch_gui.ui.common.wording import counted

MARK = {CHANGED: "●", ADDED: "+", REMOVED: "−", SAME: ""}
COLUMN_MAX = 220  # px, and at most COLUMN_SHARE of the width: the values need the room
COLUMN_SHARE = 0.3


def _wrapped(text: str, font: QFont, width: int) -> tuple[QTextLayout, float]:
    """The text laid out in lines of `width` px, broken at word boundaries or anywhere
    (a timestamp has no space); and its height."""
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    layout.beginLayout()
    y = 0.0
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        line.setPosition(QPointF(0, y))
        y += line.height()
    layout.endLayout()
    return layout, y


class _WrapDelegate(QStyledItemDelegate):
    """Old and new values wrap instead of being cut. QTreeView asks a delegate for a
    row's height without the column's width, and the style wraps at spaces only, so
    this measures and paints the text itself."""

    def __init__(self, tree: QTreeWidget) -> None:
        super().__init__(tree)
        self._tree = tree

    def _text_width(self, width: int) -> int:
        margin = self._tree.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin,
                                                None, self._tree) + 1
        return width - 2 * margin

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        base = super().sizeHint(option, index)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        width = self._text_width(self._tree.header().sectionSize(index.column()))
        if width <= 0 or not opt.text:
            return base
        _, height = _wrapped(opt.text, opt.font, width)
        return QSize(base.width(), max(base.height(), int(height + 0.999) + 2))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text, opt.text = opt.text, ""
        style = self._tree.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, self._tree)
        if not text:
            return
        rect = opt.rect
        width = self._text_width(rect.width())
        layout, height = _wrapped(text, opt.font, max(1, width))
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        painter.setPen(opt.palette.color(role))
        painter.setClipRect(rect)
        top = rect.top() + max(0.0, (rect.height() - height) / 2)
        layout.draw(painter, QPointF(rect.left() + (rect.width() - width) / 2, top))
        painter.restore()


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
        # A value that does not fit its half wraps (anywhere, a timestamp has no space)
        # instead of being cut: old and new are read whole, side by side.
        self.tree.setWordWrap(True)
        self.tree.setUniformRowHeights(False)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideNone)
        wrap = _WrapDelegate(self.tree)
        self.tree.setItemDelegateForColumn(2, wrap)
        self.tree.setItemDelegateForColumn(3, wrap)
        self._relayout = QTimer(self, singleShot=True, interval=0,
                                timeout=self.tree.doItemsLayout)
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
        self._column_want = 130
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
            n = len(changed)
            if not diff.only_changed:
                what = f"{n:,} of {counted(len(diff.lines), 'column')} changed"
            else:
                what = (f"{n:,} changed {'column' if n == 1 else 'columns'} (the payload "
                        f"carries only {'that one' if n == 1 else 'those'})")
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
            item.setToolTip(1, ln.column)
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
        self._column_want = self.tree.sizeHintForColumn(1)
        self.fit_columns()

    def fit_columns(self) -> None:
        tree = self.tree
        limit = min(COLUMN_MAX, int(tree.viewport().width() * COLUMN_SHARE))
        tree.setColumnWidth(1, max(60, min(self._column_want, limit)))
        self._relayout.start()  # row heights follow the new widths

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_columns()
