"""What a running audit shows: live counters per table, the discrepancies as they are
found, and the selected one's committed row beside its notification."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pgwatch_gui.core.audit.records import TableName, table_text
from pgwatch_gui.core.audit.report import COLUMNS, sides
from pgwatch_gui.core.audit.results import (
    GAP,
    MISMATCHED,
    MISSING,
    UNEXPECTED,
    Counts,
    Discrepancy,
)
from pgwatch_gui.core.stream.events import format_key
from pgwatch_gui.core.stream.safe_text import visible
from pgwatch_gui.ui.common.json_view import JsonText

MAX_ROWS = 5_000  # discrepancies listed; the counters keep counting past it
KIND_COLORS = {MISSING: "#cf222e", MISMATCHED: "#bc4c00", UNEXPECTED: "#9a6700",
               GAP: "#6e7781"}
COUNT_HEADERS = ("Table", *(c.capitalize() for c in COLUMNS), "Waiting")
LIST_HEADERS = ("Time", "Kind", "Table", "Op", "Key", "Why")


def _item(text: str, color: str | None = None, right: bool = False) -> QTableWidgetItem:
    it = QTableWidgetItem(text)
    it.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if color:
        it.setForeground(QBrush(QColor(color)))
    if right:
        it.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
    return it


def _label(text: str = "") -> QLabel:
    lab = QLabel(text)
    lab.setWordWrap(True)
    lab.setTextFormat(Qt.TextFormat.PlainText)
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return lab


class AuditResults(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.found: list[Discrepancy] = []
        self.counters = QTableWidget(0, len(COUNT_HEADERS))
        self.counters.setHorizontalHeaderLabels(COUNT_HEADERS)
        self.counters.verticalHeader().hide()
        self.counters.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.counters.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        head = self.counters.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for i in range(1, len(COUNT_HEADERS)):
            head.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)

        self.list = QTableWidget(0, len(LIST_HEADERS))
        self.list.setHorizontalHeaderLabels(LIST_HEADERS)
        self.list.verticalHeader().hide()
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setWordWrap(False)
        lhead = self.list.horizontalHeader()
        for i in range(len(LIST_HEADERS) - 1):
            lhead.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        lhead.setStretchLastSection(True)
        self.list.itemSelectionChanged.connect(self._selected)
        self.more = _label()
        self.more.hide()

        self.committed = JsonText(highlight=True)
        self.committed.setPlaceholderText("Click a discrepancy: the committed row shows here")
        self.notified = JsonText(highlight=True)
        self.notified.setPlaceholderText("... and the notification's payload here")
        self.why = _label()
        pair = QSplitter(Qt.Orientation.Horizontal)
        pair.addWidget(self.committed)
        pair.addWidget(self.notified)
        detail = QWidget()
        dlay = QVBoxLayout(detail)
        dlay.setContentsMargins(0, 0, 0, 0)
        dlay.addWidget(pair, 1)
        dlay.addWidget(self.why)
        listing = QWidget()
        llay = QVBoxLayout(listing)
        llay.setContentsMargins(0, 0, 0, 0)
        llay.addWidget(QLabel("Discrepancies:"))
        llay.addWidget(self.list, 1)
        llay.addWidget(self.more)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(listing)
        split.addWidget(detail)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.counters)
        lay.addWidget(split, 1)

    # ---- counters --------------------------------------------------------------------

    def set_tables(self, tables: list[TableName]) -> None:
        self.counters.setRowCount(len(tables) + 1)
        for row, t in enumerate(tables):
            self.counters.setItem(row, 0, _item(table_text(t) or ""))
        self.counters.setItem(len(tables), 0, _item("all tables"))
        self._tables = list(tables)
        self.show_counts({}, Counts())
        height = self.counters.horizontalHeader().height() + 4 + sum(
            self.counters.rowHeight(r) for r in range(self.counters.rowCount()))
        self.counters.setFixedHeight(min(height, 220))

    def show_counts(self, counts: dict[TableName, Counts], unattributed: Counts) -> None:
        rows = [counts.get(t, Counts()) for t in getattr(self, "_tables", [])]
        rows.append(Counts.total([*rows, unattributed]))
        for r, c in enumerate(rows):
            values = [*c.as_dict().values(), c.waiting]
            for i, v in enumerate(values, start=1):
                color = None
                if v and COUNT_HEADERS[i].lower() in (MISSING, MISMATCHED):
                    color = KIND_COLORS[COUNT_HEADERS[i].lower()]
                elif COUNT_HEADERS[i] == "Matched" and v and c.clean:
                    color = "#1a7f37"
                self.counters.setItem(r, i, _item(str(v), color, right=True))

    # ---- discrepancies ---------------------------------------------------------------

    def clear(self) -> None:
        self.found.clear()
        self.list.setRowCount(0)
        self.more.hide()
        self.committed.set_text("")
        self.notified.set_text("")
        self.why.setText("")

    def add(self, found: list[Discrepancy]) -> None:
        room = MAX_ROWS - len(self.found)
        shown, rest = found[:max(room, 0)], found[max(room, 0):]
        if rest:
            self.more.setText(f"Only the first {MAX_ROWS:,} discrepancies are listed; the "
                              "counters above count them all.")
            self.more.show()
        if not shown:
            return
        start = self.list.rowCount()
        self.list.setRowCount(start + len(shown))
        for i, d in enumerate(shown):
            key = d.key
            key_text = format_key(key) if isinstance(key, dict) else (
                "" if key is None else str(key))
            cells = (time.strftime("%H:%M:%S", time.localtime(d.at)) if d.at else "",
                     d.kind, d.table_text or "", d.op or "", key_text, d.reason)
            for col, text in enumerate(cells):
                color = KIND_COLORS.get(d.kind) if col == 1 else None
                it = _item(visible(text), color)
                if col == len(cells) - 1:
                    it.setToolTip(d.reason)
                self.list.setItem(start + i, col, it)
        self.found.extend(shown)
        if start == 0:
            self.list.selectRow(0)

    def select(self, index: int) -> None:
        self.list.selectRow(index)

    def _selected(self) -> None:
        rows = self.list.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.found):
            return
        committed, notified, why = sides(self.found[rows[0].row()])
        self.committed.set_text(committed)
        self.notified.set_text(notified)
        self.why.setText(why)

