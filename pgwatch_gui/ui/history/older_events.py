"""Older events: scrolling back past what the live table holds, from the journal.

A window with the live table's look (the same view and model classes, given by the
shell) and the live
filter as it was when opened. It starts just before the oldest row in memory and
pages back 5,000 matching events at a time: *Load older*, or scrolling to the top
does it. Pages are read on a worker thread. Esc or *Close* closes it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from pgwatch_gui.core.filtering.engine import FilterSpec
from pgwatch_gui.core.stream.events import Event

PAGE = 5_000


def describe_spec(spec: FilterSpec | None) -> str:
    if spec is None or spec.is_empty:
        return "no filter"
    parts = []
    if spec.text:
        parts.append(("regex " if spec.regex else "text ") + repr(spec.text))
    for name, values in (("channel", spec.channels), ("op", spec.ops), ("table", spec.tables)):
        if values:
            parts.append(f"{name} in {', '.join(sorted(values))}")
    if spec.fields.strip():
        parts.append(spec.fields.strip())
    if spec.hide_own:
        parts.append("not own")
    return "; ".join(parts)


class OlderEventsWindow(QWidget):
    def __init__(self, link, spec: FilterSpec | None, before_ts: float | None,
                 make_table, parent=None) -> None:
        """`make_table(parent)` -> (model, view): the live table's classes, handed over by
        the shell (features do not import each other)."""
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Older events — from the journal")
        self.resize(1100, 640)
        self.link = link
        self.spec = spec if spec is not None and not spec.is_empty else None
        self.before_ts = before_ts
        self.before_id: int | None = None
        self.exhausted = False
        self.loading: asyncio.Task | None = None
        self.model, self.view = make_table(self)
        self.view.set_follow(False)
        self.note = QLabel(self)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.more = QPushButton(f"Load older ({PAGE:,})", self, clicked=self.load_older)
        row = QHBoxLayout()
        row.addWidget(QLabel(f"Filter: {describe_spec(self.spec)}", self), 1)
        row.addWidget(self.more)
        self.close_button = QPushButton("Close", self, clicked=self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(self.note, 1)
        bottom.addWidget(self.close_button)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(self.view, 1)
        lay.addLayout(bottom)
        self.escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close,
                                context=Qt.ShortcutContext.WindowShortcut)
        self.view.verticalScrollBar().valueChanged.connect(self._scrolled)
        self._say()

    def _say(self, extra: str = "") -> None:
        n = self.model.rowCount()
        if n:
            oldest = datetime.fromtimestamp(self.model.event(0).received_at)
            text = f"{n:,} events from the journal, back to {oldest:%Y-%m-%d %H:%M:%S}"
        else:
            text = "Nothing loaded yet"
        if self.exhausted:
            text += " — the start of the journal"
        self.note.setText(text + (f" — {extra}" if extra else ""))

    def _scrolled(self, value: int) -> None:
        if value == self.view.verticalScrollBar().minimum() and self.model.rowCount():
            self.load_older()

    def load_older(self) -> asyncio.Task | None:
        if self.exhausted or (self.loading is not None and not self.loading.done()):
            return self.loading
        from pgwatch_gui.core.journal.reader import read_page

        self.more.setEnabled(False)
        self._say("reading…")

        async def run() -> None:
            try:
                page = await self.link.read(read_page, self.link.journal_path(),
                                            self.before_ts, self.before_id, PAGE, self.spec)
            except Exception as exc:
                self._say(f"could not read the journal: {exc}")
                self.more.setEnabled(True)
                return
            self._prepend(page.events)
            self.before_id = page.before_id
            self.exhausted = page.before_id is None
            if self.before_id is None and page.events:
                self.before_id = page.events[0].seq
            self.more.setEnabled(not self.exhausted)
            self._say()

        self.loading = asyncio.ensure_future(run())
        return self.loading

    def _prepend(self, events: list[Event]) -> None:
        if not events:
            return
        sb = self.view.verticalScrollBar()
        keep = sb.maximum() - sb.value()
        self.model.load_events(events + self.model.all_events())
        self.view.doItemsLayout()
        sb.setValue(max(sb.minimum() + 1, sb.maximum() - keep) if keep else sb.maximum())
