"""EventTableView: the QTableView over EventTableModel, set up for a busy stream.

Fixed row heights and a hidden vertical header (no per-row size questions), columns
sized from the font, follow-newest that turns itself off when the user scrolls away
and back on at the bottom, the selection kept across re-filtering, and a context menu
that filters to a row's channel, table or operation.
"""

from __future__ import annotations

import json
import time

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QAbstractSlider, QHeaderView, QMenu, QTableView

from pgwatch_gui.core.events import Event
from pgwatch_gui.core.export import event_to_json
from pgwatch_gui.ui.event_model import (
    COL_CHANNEL,
    COL_CONNECTION,
    COL_KEY,
    COL_OP,
    COL_PAYLOAD,
    COL_PID,
    COL_SIZE,
    COL_TABLE,
    COL_TIME,
    EventTableModel,
    table_font,
)
from pgwatch_gui.ui.table_painter import paint_region

# A busy stream repaints at most every MIN_PAINT_INTERVAL, and never spends more than
# about a quarter of the time painting (a full repaint of the table costs ~5-10 ms).
MIN_PAINT_INTERVAL = 0.05
PAINT_SHARE = 0.25

# Column widths from sample texts, plus padding.
_WIDTH_SAMPLES = {
    COL_TIME: "00:00:00.000",
    COL_CONNECTION: "connection-xx",
    COL_CHANNEL: "channel_name_x",
    COL_OP: "TRUNCATE",
    COL_TABLE: "public.order_items",
    COL_KEY: "id=1234567",
    COL_SIZE: "Bytes 7,999",
    COL_PID: "PID 99999",
}


class EventTableView(QTableView):
    """Signals ask the window to act: filter_requested(kind, value) with kind one of
    'channel', 'table', 'op', 'field'; export_selection_requested()."""

    follow_changed = Signal(bool)
    filter_requested = Signal(str, str)
    export_selection_requested = Signal()
    current_event_changed = Signal(object)  # Event or None

    def __init__(self, model: EventTableModel, parent=None) -> None:
        super().__init__(parent)
        self._follow = True
        self.fast_paint = True  # table_painter; False: Qt's own cell-by-cell painting
        self._keep_pos: int | None = None
        self._last_paint = 0.0
        self._paint_cost = 0.0
        self._held = False
        self._release_timer = QTimer(self, singleShot=True, timeout=self._release_updates)
        self.setModel(model)
        self.setObjectName("event-table")
        self.setFont(table_font(self.font()))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setShowGrid(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.setSortingEnabled(False)
        self.setCornerButtonEnabled(False)

        vh = self.verticalHeader()
        vh.setVisible(False)
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setMinimumSectionSize(1)
        vh.setDefaultSectionSize(self.fontMetrics().height() + 8)

        hh = self.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(False)
        hh.setSectionResizeMode(COL_PAYLOAD, QHeaderView.ResizeMode.Stretch)
        hh.setHighlightSections(False)
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        hh.setSectionsMovable(True)
        self.reset_column_widths()

        model.rowsInserted.connect(self._after_insert)
        model.rowsRemoved.connect(self._after_remove)
        model.modelAboutToBeReset.connect(self._remember_current)
        model.modelReset.connect(self._restore_current)
        self.verticalScrollBar().actionTriggered.connect(self._user_scrolled)
        self.selectionModel().currentRowChanged.connect(self._current_changed)

        copy = QAction("Copy", self, shortcut=QKeySequence.StandardKey.Copy,
                       triggered=self.copy_payloads)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.addAction(copy)

    def model(self) -> EventTableModel:  # type: ignore[override]
        return super().model()  # type: ignore[return-value]

    # ---- columns ------------------------------------------------------------------

    def reset_column_widths(self) -> None:
        fm = self.fontMetrics()
        pad = 22
        for col, sample in _WIDTH_SAMPLES.items():
            self.setColumnWidth(col, fm.horizontalAdvance(sample) + pad)
        self.setColumnWidth(COL_CONNECTION, fm.horizontalAdvance("connection-xx") + pad + 14)

    def save_settings(self, s: QSettings, prefix: str = "events") -> None:
        s.setValue(f"{prefix}/header", self.horizontalHeader().saveState())
        s.setValue(f"{prefix}/follow", self._follow)

    def restore_settings(self, s: QSettings, prefix: str = "events") -> None:
        st = s.value(f"{prefix}/header")
        if st is not None:
            self.horizontalHeader().restoreState(st)
            self.horizontalHeader().setSectionResizeMode(COL_PAYLOAD,
                                                         QHeaderView.ResizeMode.Stretch)
        follow = s.value(f"{prefix}/follow")
        if follow is not None:
            self.set_follow(str(follow).lower() in ("true", "1"))

    # ---- follow newest --------------------------------------------------------------

    @property
    def follow(self) -> bool:
        return self._follow

    def set_follow(self, on: bool) -> None:
        on = bool(on)
        if on != self._follow:
            self._follow = on
            self.follow_changed.emit(on)
        if on:
            self.scrollToBottom()

    def _after_insert(self, parent: QModelIndex, first: int, last: int) -> None:
        self._hold_updates()
        if self._follow:
            self.scrollToBottom()

    def _after_remove(self, parent: QModelIndex, first: int, last: int) -> None:
        # Rows left at the top: keep what the user looks at in place when not following.
        self._hold_updates()
        if not self._follow and first == 0:
            sb = self.verticalScrollBar()
            sb.setValue(max(0, sb.value() - (last + 1)))

    # ---- paint throttle -----------------------------------------------------------------

    def _hold_updates(self) -> None:
        """Rows changed: repaint now if the last paint is long enough ago, else a bit later.

        The first batch after a quiet spell shows at once; a busy stream shows at a
        steady frame rate instead of one repaint per batch.
        """
        if self._held:
            return
        interval = max(MIN_PAINT_INTERVAL, self._paint_cost / PAINT_SHARE)
        wait = self._last_paint + interval - time.monotonic()
        if wait > 0.001:
            self._held = True
            self.viewport().setUpdatesEnabled(False)
            self._release_timer.start(max(1, int(wait * 1000)))

    def _release_updates(self) -> None:
        self._held = False
        self.viewport().setUpdatesEnabled(True)
        self.viewport().update()

    def paintEvent(self, event) -> None:
        t = time.monotonic()
        if self.fast_paint and self.layoutDirection() == Qt.LayoutDirection.LeftToRight \
                and not self.showGrid():
            paint_region(self, event)
        else:
            super().paintEvent(event)
        now = time.monotonic()
        self._paint_cost = 0.7 * self._paint_cost + 0.3 * (now - t)
        self._last_paint = now

    def _user_scrolled(self, action: int) -> None:
        sb = self.verticalScrollBar()
        if action == QAbstractSlider.SliderAction.SliderNoAction.value:
            return
        at_bottom = sb.sliderPosition() >= sb.maximum()
        if at_bottom != self._follow:
            self._follow = at_bottom
            self.follow_changed.emit(at_bottom)

    # ---- selection across re-filtering --------------------------------------------

    def current_event(self) -> Event | None:
        idx = self.currentIndex()
        if not idx.isValid():
            return None
        return self.model().event(idx.row())

    def selected_rows(self) -> list[int]:
        return sorted({i.row() for i in self.selectionModel().selectedRows()})

    def selected_events(self) -> list[Event]:
        return self.model().events(self.selected_rows())

    def _remember_current(self) -> None:
        idx = self.currentIndex()
        self._keep_pos = self.model().position(idx.row()) if idx.isValid() else None

    def _restore_current(self) -> None:
        pos, self._keep_pos = self._keep_pos, None
        model = self.model()
        row = model.row_of_position(pos) if pos is not None else None
        if row is not None:
            idx = model.index(row, 0)
            self.selectionModel().setCurrentIndex(
                idx, QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
            if not self._follow:
                self.scrollTo(idx, QAbstractItemView.ScrollHint.PositionAtCenter)
        else:
            self.current_event_changed.emit(None)
        if self._follow:
            self.scrollToBottom()

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        ev = self.model().event(current.row()) if current.isValid() else None
        self.current_event_changed.emit(ev)

    # ---- copy and context menu --------------------------------------------------------

    def copy_payloads(self) -> None:
        events = self.selected_events()
        if events:
            QGuiApplication.clipboard().setText("\n".join(ev.payload for ev in events))

    def _context_menu(self, pos) -> None:
        idx = self.indexAt(pos)
        if not idx.isValid():
            return
        if not self.selectionModel().isRowSelected(idx.row(), QModelIndex()):
            self.selectRow(idx.row())
        ev = self.model().event(idx.row())
        menu = QMenu(self)
        n = len(self.selected_rows())
        menu.addAction("Copy payload" if n == 1 else f"Copy {n} payloads", self.copy_payloads)
        menu.addAction("Copy as JSON Lines", self._copy_records)
        if not ev.is_gap:
            cell = self.model().data(idx)
            if cell not in (None, ""):
                menu.addAction("Copy cell", lambda: QGuiApplication.clipboard().setText(
                    str(cell)))
            menu.addSeparator()
            menu.addAction(f"Filter to channel “{_short(ev.channel)}”",
                           lambda: self.filter_requested.emit("channel", ev.channel))
            if ev.qualified_table:
                table = ev.qualified_table
                menu.addAction(f"Filter to table “{_short(table)}”",
                               lambda: self.filter_requested.emit("table", table))
            if ev.op:
                op = ev.op
                menu.addAction(f"Filter to {op}",
                               lambda: self.filter_requested.emit("op", op))
            if ev.key:
                cond = " and ".join(f"key.{k} = {_quote(v)}" for k, v in ev.key.items())
                menu.addAction(f"Filter to this key ({_short(cond, 40)})",
                               lambda: self.filter_requested.emit("field", cond))
        menu.addSeparator()
        menu.addAction("Export selection…", self.export_selection_requested.emit)
        menu.exec(self.viewport().mapToGlobal(pos))

    def _copy_records(self) -> None:
        events = self.selected_events()
        if events:
            QGuiApplication.clipboard().setText("\n".join(event_to_json(e) for e in events))


def _short(text: str, n: int = 28) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _quote(v) -> str:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    s = str(v)
    if s and all(c.isalnum() or c in "_-.:@" for c in s):
        return s
    return json.dumps(s, ensure_ascii=False)
