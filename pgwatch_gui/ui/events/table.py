"""EventTableView: the QTableView over EventTableModel, set up for a busy stream.

Fixed row heights and a hidden vertical header (no per-row size questions), columns
sized from the font, follow-newest that turns itself off when the user scrolls away
and back on at the bottom, the selection kept across re-filtering, and a context menu
that filters to a row's channel, table or operation.
"""

from __future__ import annotations

import time
from collections import deque

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QSettings,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QFont, QFontMetrics, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QAbstractSlider, QHeaderView, QTableView

from pgwatch_gui.core.stream.events import Event
from pgwatch_gui.ui.events.columns import (
    COL_CHANNEL,
    COL_CONNECTION,
    COL_KEY,
    COL_OP,
    COL_PAYLOAD,
    COL_PID,
    COL_SIZE,
    COL_TABLE,
    COL_TIME,
    table_font,
)
from pgwatch_gui.ui.events.model import EventTableModel
from pgwatch_gui.ui.events.painter import paint_region
from pgwatch_gui.ui.events.table_menus import show_header_menu, show_row_menu

# A busy stream repaints at most every MIN_PAINT_INTERVAL, and never spends more than
# about a quarter of the time painting (a repaint of the table costs ~5 ms here).
MIN_PAINT_INTERVAL = 0.05
PAINT_SHARE = 0.25
MIN_PAYLOAD_WIDTH = 180
BUSY_BATCHES = 3
BUSY_WINDOW = 0.15
_FLUSH_ON = frozenset({QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress, QEvent.Type.Wheel,
                         QEvent.Type.Resize, QEvent.Type.Show, QEvent.Type.FocusIn})

# Keys that move through the rows: the view holds still (follow newest stops).
_HOLD_KEYS = frozenset({Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown,
                        Qt.Key.Key_Home})

# Column widths from sample texts (or the header, if wider), plus padding.
_WIDTH_SAMPLES = {
    COL_TIME: "00:00:00.000",
    COL_CONNECTION: "connection",
    COL_CHANNEL: "channel_name_xx",
    COL_OP: "TRUNCATE",
    COL_TABLE: "public.order_items",
    COL_KEY: "id=123456",
    COL_SIZE: "7,999",
    COL_PID: "999999",
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
        # Other features add entries to a row's context menu: hook(menu, event).
        self.row_menu_hooks: list = []
        self._keep_pos: int | None = None
        self._last_paint = 0.0
        self._paint_cost = 0.0
        self._batch_times: deque[float] = deque(maxlen=BUSY_BATCHES)
        self._frame_timer = QTimer(self, singleShot=True, timeout=self._frame)
        self._in_frame = False
        self._pending_shift = 0
        self._evicting_current = False
        self._fitting = False
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
        # The payload is the last column, as in a log (the other columns are short) and
        # fills what is left, never narrower than MIN_PAYLOAD_WIDTH: a narrow window
        # gets a horizontal scrollbar instead of an unreadable payload.
        hh.moveSection(hh.visualIndex(COL_PAYLOAD), hh.count() - 1)
        hh.sectionResized.connect(self._section_resized)
        hh.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        hh.customContextMenuRequested.connect(self._header_menu)
        hh.setHighlightSections(False)
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        hh.setSectionsMovable(True)
        self.reset_column_widths()

        model.rowsInserted.connect(self._after_insert)
        model.rowsAboutToBeRemoved.connect(self._before_remove)
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
        bold = QFont(self.font())
        bold.setBold(True)  # gap rows and operations are bold
        fm = QFontMetrics(bold)
        hfm = self.horizontalHeader().fontMetrics()
        model = self.model()
        for col, sample in _WIDTH_SAMPLES.items():
            header = str(model.headerData(col, Qt.Orientation.Horizontal))
            width = max(fm.horizontalAdvance(sample) + 16, hfm.horizontalAdvance(header) + 20)
            if col == COL_CONNECTION:
                width += 14  # the colour swatch
            self.setColumnWidth(col, width)
        self._fit_payload()

    def _header_menu(self, pos) -> None:
        show_header_menu(self, pos)

    def set_column_visible(self, col: int, visible: bool) -> None:
        self.horizontalHeader().setSectionHidden(col, not visible)
        self._fit_payload()

    def _fit_payload(self) -> None:
        hh = self.horizontalHeader()
        others = sum(hh.sectionSize(c) for c in range(hh.count())
                     if c != COL_PAYLOAD and not hh.isSectionHidden(c))
        want = max(MIN_PAYLOAD_WIDTH, self.viewport().width() - others)
        if hh.sectionSize(COL_PAYLOAD) != want:
            self._fitting = True
            try:
                hh.resizeSection(COL_PAYLOAD, want)
            finally:
                self._fitting = False

    def _section_resized(self, col: int, old: int, new: int) -> None:
        if not self._fitting and col != COL_PAYLOAD:
            self._fit_payload()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_payload()

    def save_settings(self, s: QSettings, prefix: str = "events") -> None:
        s.setValue(f"{prefix}/header", self.horizontalHeader().saveState())
        s.setValue(f"{prefix}/follow", self._follow)

    def restore_settings(self, s: QSettings, prefix: str = "events") -> None:
        st = s.value(f"{prefix}/header")
        if st is not None:
            self.horizontalHeader().restoreState(st)
            self._fit_payload()
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

    def hold(self) -> None:
        """The user picked a row: stop following, so the row stays where it is (Ctrl+End,
        or scrolling to the bottom, follows again)."""
        self.set_follow(False)

    def mousePressEvent(self, event) -> None:
        if self.indexAt(event.position().toPoint()).isValid():
            self.hold()
        super().mousePressEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.key() in _HOLD_KEYS:
            self.hold()
        super().keyPressEvent(event)

    def focusInEvent(self, event) -> None:
        # Qt makes the first row current when the view gains focus without one (but for a
        # mouse click): a click on the scrollbar after the window was activated, say. A
        # row is current only when the user picks one, or walks the rows with Tab.
        had = self.currentIndex().isValid()
        super().focusInEvent(event)
        if not had and self.currentIndex().isValid() and event.reason() not in (
                Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason):
            self.selectionModel().clearCurrentIndex()

    def _after_insert(self, parent: QModelIndex, first: int, last: int) -> None:
        if self._busy():
            self._schedule_frame()
        elif self._follow:
            self.scrollToBottom()

    def _before_remove(self, parent: QModelIndex, first: int, last: int) -> None:
        # The current row leaves with the oldest: forget it quietly (the inspector keeps
        # showing its event). Else Qt moves the current index to the next row at every
        # batch, which repaints the table and makes the inspector jump.
        cur = self.currentIndex()
        if first == 0 and cur.isValid() and cur.row() <= last:
            self._evicting_current = True
            try:
                self.selectionModel().clearCurrentIndex()
            finally:
                self._evicting_current = False

    def _after_remove(self, parent: QModelIndex, first: int, last: int) -> None:
        if first != 0:
            return
        if not self._follow:  # keep what the user looks at in place
            self._pending_shift += last + 1
        if self._busy():
            self._schedule_frame()
        else:
            self._apply_scroll()

    # ---- frames: a busy stream repaints at a steady rate, not once per batch -----------

    def _busy(self) -> bool:
        """BUSY_BATCHES batches within BUSY_WINDOW; a quiet stream, a test or a one-off
        load is never busy and shows at once."""
        now = time.monotonic()
        times = self._batch_times
        if not times or now - times[-1] > 0.002:  # a remove and an insert: one batch
            times.append(now)
        return len(times) >= BUSY_BATCHES and now - times[0] <= BUSY_WINDOW

    def _schedule_frame(self) -> None:
        if self._frame_timer.isActive():
            return
        interval = max(MIN_PAINT_INTERVAL, self._paint_cost / PAINT_SHARE)
        wait = self._last_paint + interval - time.monotonic()
        self._frame_timer.start(max(0, int(wait * 1000)))

    def doItemsLayout(self) -> None:
        # Qt lays the view out (and repaints it) after every change of the row count;
        # while a frame is pending, the frame does it once.
        if self._frame_timer.isActive() and not self._in_frame:
            return
        super().doItemsLayout()

    def _frame(self) -> None:
        self._frame_timer.stop()
        self._in_frame = True
        try:
            super().doItemsLayout()
        finally:
            self._in_frame = False
        self._apply_scroll()

    def _apply_scroll(self) -> None:
        if self._follow:
            self.scrollToBottom()
        elif self._pending_shift:
            sb = self.verticalScrollBar()
            sb.setValue(max(0, sb.value() - self._pending_shift))
        self._pending_shift = 0

    def flush_paint(self) -> None:
        """Lay out and show the newest state now instead of at the next frame."""
        if self._frame_timer.isActive():
            self._frame()

    def event(self, ev) -> bool:
        if ev.type() in _FLUSH_ON and self._frame_timer.isActive():
            self._frame()
        return super().event(ev)

    def viewportEvent(self, ev) -> bool:
        if ev.type() in _FLUSH_ON and self._frame_timer.isActive():
            self._frame()
        return super().viewportEvent(ev)

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
        if self._evicting_current:
            return
        ev = self.model().event(current.row()) if current.isValid() else None
        self.current_event_changed.emit(ev)

    # ---- copy and context menu --------------------------------------------------------

    def copy_payloads(self) -> None:
        events = self.selected_events()
        if events:
            QGuiApplication.clipboard().setText("\n".join(ev.payload for ev in events))

    def _context_menu(self, pos) -> None:
        show_row_menu(self, pos)
