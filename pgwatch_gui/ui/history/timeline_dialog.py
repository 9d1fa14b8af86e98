"""Timeline of this row: every event of one table and key, oldest first, with its diff.

Opened from the table's context menu (non-modal). The events come from the journal
(read on a worker thread after what is queued has been written); with the journal off
they come from the rows still in memory, and the dialog says so. A text box filters
the versions (time, pid, operation, channel, change text, payload); *Export…* writes
the versions shown as JSON Lines or CSV. Everything from a payload is plain text.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from pgwatch_gui.core.filtering.facets import facets_of
from pgwatch_gui.core.journal.timeline import TimelineEntry, build_timeline
from pgwatch_gui.core.stream.events import Event, format_key
from pgwatch_gui.core.stream.export import EventWriter, format_for_path
from pgwatch_gui.core.stream.payload_view import parse_exact, pretty

COLUMNS = ("Time", "Operation", "PID", "Connection", "Channel", "What changed")


def when(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _payload_text(ev: Event) -> str:
    try:
        return pretty(parse_exact(ev.payload))
    except (ValueError, RecursionError):
        return ev.payload


class TimelineDialog(QDialog):
    def __init__(self, table: str, key: dict[str, Any], profile: str | None,
                 parent=None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.table_name, self.key, self.profile = table, key, profile
        self.setWindowTitle(f"Timeline of {table} {format_key(key)}")
        self.resize(1000, 620)
        self.entries: list[TimelineEntry] = []
        self.shown: list[TimelineEntry] = []

        self.header = QLabel("Reading the journal…", self)
        self.header.setTextFormat(Qt.TextFormat.PlainText)
        self.filter_edit = QLineEdit(self, placeholderText="Filter versions (text, pid, column…)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._refill)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        hh = self.table.horizontalHeader()
        hh.setStretchLastSection(True)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.currentCellChanged.connect(lambda r, *_: self._show_payload(r))
        self.payload = QPlainTextEdit(self, readOnly=True)
        self.payload.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.table)
        split.addWidget(self.payload)
        split.setSizes([420, 180])

        self.export_button = QPushButton("Export…", self, clicked=self.ask_export)
        self.export_button.setEnabled(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        row = QHBoxLayout()
        row.addWidget(self.export_button)
        row.addStretch(1)
        row.addWidget(buttons)
        lay = QVBoxLayout(self)
        lay.addWidget(self.header)
        lay.addWidget(self.filter_edit)
        lay.addWidget(split, 1)
        lay.addLayout(row)
        self._file_dialog: QFileDialog | None = None

    # ---- content ----------------------------------------------------------------------------

    def set_events(self, events: list[Event], source: str) -> None:
        self.entries = build_timeline(events)
        n = len(self.entries)
        span = (f", {when(events[0].received_at)} to {when(events[-1].received_at)}"
                if events else "")
        self.header.setText(f"{n} version{'s' if n != 1 else ''} of {self.table_name} "
                            f"{format_key(self.key)} ({source}){span}")
        self.export_button.setEnabled(bool(n))
        self._refill()
        if self.shown:
            self.table.selectRow(len(self.shown) - 1)

    def set_error(self, text: str) -> None:
        self.header.setText(f"Could not read the journal: {text}")

    def _matches(self, e: TimelineEntry, needle: str) -> bool:
        ev = e.event
        hay = " ".join((when(ev.received_at), str(ev.pid), ev.op or "", ev.profile, ev.channel,
                        e.summary(), ev.payload)).lower()
        return needle in hay

    def _refill(self) -> None:
        needle = self.filter_edit.text().strip().lower()
        self.shown = [e for e in self.entries if not needle or self._matches(e, needle)]
        t = self.table
        t.setRowCount(len(self.shown))
        for r, e in enumerate(self.shown):
            ev = e.event
            cells = (when(ev.received_at), ev.op or "", str(ev.pid), ev.profile, ev.channel,
                     e.summary())
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 5 and e.changes:
                    item.setToolTip("\n".join(ch.text() for ch in e.changes))
                t.setItem(r, c, item)
        t.resizeColumnsToContents()
        for c in range(len(COLUMNS) - 1):
            t.setColumnWidth(c, min(t.columnWidth(c), 220))

    def _show_payload(self, row: int) -> None:
        if 0 <= row < len(self.shown):
            self.payload.setPlainText(_payload_text(self.shown[row].event))
        else:
            self.payload.clear()

    # ---- export ------------------------------------------------------------------------------

    def ask_export(self) -> None:
        dlg = QFileDialog(self, "Export timeline", f"timeline-{self.table_name}.jsonl",
                          "JSON Lines (*.jsonl);;CSV (*.csv)")
        dlg.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dlg.fileSelected.connect(self.export_to)
        self._file_dialog = dlg
        dlg.open()

    def export_to(self, path: str) -> int:
        events = [e.event for e in self.shown]
        with open(path, "w", encoding="utf-8", newline="", errors="backslashreplace") as f:
            EventWriter(f, format_for_path(path)).write(events)
        self.header.setText(f"{self.header.text().split(' — ')[0]} — exported {len(events)} "
                            f"to {path}")
        return len(events)


def open_timeline(window, link, ev: Event) -> TimelineDialog | None:
    """The dialog for the row `ev`, filled from the journal (or memory) when ready."""
    table, key = ev.qualified_table, ev.key
    if not table or not key:
        return None
    dlg = TimelineDialog(table, key, ev.profile, window)
    dlg.show()

    want = ("", table, format_key(key))

    def from_memory() -> list[Event]:
        # facets_of decodes without keeping the decoded payload in every held event.
        return [e for e in window.event_model.all_events()
                if not e.is_gap and e.profile == ev.profile and facets_of(e)[1:] == want[1:]]

    if link is None or not link.enabled:
        dlg.set_events(from_memory(), "journal off: rows in memory only")
        return dlg

    from pgwatch_gui.core.journal.reader import read_timeline

    async def load() -> None:
        try:
            events = await link.read(read_timeline, link.journal_path(), table, key,
                                     ev.profile)
        except Exception as exc:
            dlg.set_events(from_memory(), f"journal unreadable ({exc}): rows in memory only")
            return
        dlg.set_events(events, "from the journal")

    dlg.task = asyncio.ensure_future(load())
    return dlg
