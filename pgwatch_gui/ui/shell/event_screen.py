"""The event screen: table, filter bar, inspector, channels, flow controls, export,
status bar, wired into a MainWindow. main_window.py only calls `EventScreen(window)`."""

from __future__ import annotations

import asyncio
import os
from operator import attrgetter

import shiboken6
from PySide6.QtCore import QObject, QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog, QStyle, QVBoxLayout, QWidget

from pgwatch_gui.core.filtering.engine import FilterSpec
from pgwatch_gui.core.filtering.facets import FacetScan
from pgwatch_gui.ui.common.dialogs import inform
from pgwatch_gui.ui.common.tasks import AsyncWork
from pgwatch_gui.ui.events.channels import ChannelsPanel
from pgwatch_gui.ui.events.empty_note import EmptyNote
from pgwatch_gui.ui.events.filter_bar import FilterBar
from pgwatch_gui.ui.events.hold_note import HoldNote
from pgwatch_gui.ui.events.recordings import (
    RecordingReview,
    ask_export_path,
    export_with_dialog,
    open_with_dialog,
)
from pgwatch_gui.ui.events.send import SendDialog
from pgwatch_gui.ui.events.status import StatusPanel
from pgwatch_gui.ui.events.table import EventTableView
from pgwatch_gui.ui.events.toolbar import steady_width
from pgwatch_gui.ui.inspector.dock import Inspector

PICKER_SCAN_ROWS = 20_000  # the pickers decode at most this many of the newest rows
PICKER_INLINE_ROWS = 2_000  # up to this many are decoded at once, more a slice at a time
PICKER_SLICE_SECONDS = 0.004  # the longest slice of that work between two loop turns


class EventScreen(QObject):
    def __init__(self, window, *, poll_queue: bool = True) -> None:
        super().__init__(window)
        self.window = window
        self.hub = window.hub
        self.model = model = window.event_model
        self.work = AsyncWork(self)
        self.recording: str | None = None
        self.review = RecordingReview(model)  # a recording shown; the live rows kept aside
        self._follow_before_recording = True
        self._facet_scan: FacetScan | None = None

        self.table = EventTableView(model, window)
        self.filter_bar = FilterBar(window)
        self.empty_note = EmptyNote(self.table, model, self.filter_bar.reset)
        self.hold_note = HoldNote(self.table, model)
        central = QWidget(window)
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.filter_bar)
        lay.addWidget(self.table, 1)
        window.setCentralWidget(central)
        window.addAction(self.filter_bar.focus_action)

        # Below the table (ui/shell/dock_layout.py arranges them once every dock exists).
        self.inspector = Inspector(window)
        self.inspector_dock = window.add_dock(self.inspector, "Inspector",
                                              Qt.DockWidgetArea.BottomDockWidgetArea,
                                              "dock-inspector")
        self.channels = ChannelsPanel(self.hub, window)
        self.channels_dock = window.add_dock(self.channels, "Channels",
                                             Qt.DockWidgetArea.BottomDockWidgetArea,
                                             "dock-channels")
        self.status = StatusPanel(window.statusBar(), self.hub, model, self,
                                  poll_queue=poll_queue)

        self._build_actions()
        self.filter_bar.spec_changed.connect(self.apply_filter)
        self.filter_bar.set_values_provider(self.seen_values)
        self.table.filter_requested.connect(self.filter_bar.restrict)
        self.inspector.filter_requested.connect(self.filter_bar.restrict)
        self.table.current_event_changed.connect(self.inspector.show_event)
        self.table.export_selection_requested.connect(self.export_selection)
        self.table.follow_changed.connect(self.action_follow.setChecked)
        model.paused_changed.connect(self._paused_changed)
        for sig in (model.filter_changed, model.cleared, model.modelReset):
            sig.connect(self.status.refresh)

    # ---- actions --------------------------------------------------------------------

    def _build_actions(self) -> None:
        w = self.window
        self.action_pause = QAction("Pause", w, checkable=True, shortcut=QKeySequence("F8"),
                                    toggled=self.set_paused)
        self.action_pause.setToolTip("Pause the view (F8): reading goes on, rows wait")
        self.action_follow = QAction("Follow newest", w, checkable=True, checked=True,
                                     toggled=self.table.set_follow)
        self.action_follow.setToolTip("Keep the newest row in view (Ctrl+End). Picking a row "
                                      "or scrolling up holds the view still.")
        # Ctrl+End always follows (a shortcut on the checkable action would toggle it off).
        self.action_newest = QAction("Go to newest and follow", w,
                                     shortcut=QKeySequence("Ctrl+End"),
                                     triggered=lambda: self.table.set_follow(True))
        w.addAction(self.action_newest)
        self.action_clear = QAction("Clear", w, shortcut=QKeySequence("Ctrl+K"),
                                    triggered=self.clear)
        self.action_clear.setToolTip("Remove every row from the table (Ctrl+K); reading goes on")
        self.action_send = QAction("Send notification…", w, shortcut=QKeySequence("Ctrl+N"),
                                   triggered=self.open_send_dialog)
        self.action_open = QAction("Open recording…", w, shortcut=QKeySequence.StandardKey.Open,
                                   triggered=self.open_recording)
        self.action_export = QAction("Export shown rows…", w,
                                     shortcut=QKeySequence("Ctrl+Shift+S"),
                                     triggered=self.export_shown)
        self.action_export_sel = QAction("Export selection…", w, triggered=self.export_selection)
        self.action_limit = QAction("Row limit…", w, triggered=self.ask_row_limit)
        self.action_reset_columns = QAction("Reset column widths", w,
                                            triggered=self.table.reset_column_widths)

        style = w.style()
        sp = QStyle.StandardPixmap
        for act, icon in ((self.action_pause, sp.SP_MediaPause),
                          (self.action_follow, sp.SP_ArrowDown),
                          (self.action_clear, sp.SP_DialogResetButton),
                          (self.action_send, sp.SP_CommandLink),
                          (self.action_export, sp.SP_DialogSaveButton),
                          (self.action_open, sp.SP_DialogOpenButton)):
            act.setIcon(style.standardIcon(icon))
        tb = w.toolbar
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for act in (self.action_pause, self.action_follow, self.action_clear):
            tb.addAction(act)
        tb.addSeparator()
        tb.addAction(self.action_send)
        tb.addAction(self.action_export)
        steady_width(tb, self.action_pause, ("Pause", "Resume"))

        file_menu = w.menu_file
        first = file_menu.actions()[0] if file_menu.actions() else None
        for act in (self.action_open, self.action_export, self.action_export_sel):
            file_menu.insertAction(first, act)
        if first is not None:
            file_menu.insertSeparator(first)
        view = w.menu_view
        view.addSeparator()
        for act in (self.filter_bar.focus_action, self.action_pause, self.action_follow,
                    self.action_newest,
                    self.action_clear, self.action_limit, self.action_reset_columns):
            view.addAction(act)
        w.menu_connection.addAction(self.action_send)

    # ---- filter ---------------------------------------------------------------------

    def apply_filter(self, spec: FilterSpec) -> None:
        flt = self.model.set_filter(spec)
        self.filter_bar.show_errors(flt.errors if flt is not None else {})

    def seen_values(self) -> tuple[set[str], set[str], set[str]]:
        """(channels, ops, tables) for the pickers: channels listened to or seen, and the
        operations and tables of the rows whose facets are known. Facets of the newest
        PICKER_SCAN_ROWS rows are made first: a few at once, many a slice per loop turn
        (the picker says so meanwhile and fills in when they are done)."""
        model = self.model
        channels: set[str] = set()
        for name in self.hub.names():
            lst = self.hub.listener(name)
            if lst is not None:
                channels.update(lst.channels)
        channels.update(map(attrgetter("channel"), model.all_events()))
        channels.discard("")  # gap rows
        cache = model.facet_cache
        missing = cache.missing(model.keyed_events(newest=PICKER_SCAN_ROWS))
        if len(missing) <= PICKER_INLINE_ROWS:
            FacetScan(missing, cache).step(float("inf"))
        elif self._facet_scan is None:
            self._scan_facets(FacetScan(missing, cache))
        ops, tables = cache.known()
        return channels, ops, tables

    def _scan_facets(self, scan: FacetScan) -> None:
        self._facet_scan = scan
        self.filter_bar.set_pickers_busy(f"Reading the newest {len(scan):,} rows…")

        async def run() -> None:
            try:
                while not scan.step(PICKER_SLICE_SECONDS):
                    await asyncio.sleep(0)  # the loop (and the screen) gets its turn
            finally:  # done, failed (AsyncWork reports it) or cancelled at quit
                self._facet_scan = None
                if shiboken6.isValid(self.filter_bar):
                    self.filter_bar.set_pickers_busy(None)  # refills an open picker

        self.work.spawn(run())

    # ---- flow -----------------------------------------------------------------------

    def set_paused(self, paused: bool) -> None:
        if not paused and self.review.back_to_live():  # the live rows, then what waited
            self.recording = None
            self.table.set_follow(self._follow_before_recording)
        self.model.set_paused(paused)
        self.status.refresh()

    def _paused_changed(self, paused: bool) -> None:
        self.action_pause.blockSignals(True)
        self.action_pause.setChecked(paused)
        self.action_pause.blockSignals(False)
        self.action_pause.setText("Resume" if paused else "Pause")
        self.action_pause.setIcon(self.window.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPlay if paused else QStyle.StandardPixmap.SP_MediaPause))
        self.status.refresh()

    def clear(self) -> None:
        self.model.clear()
        self.review.forget()
        self.recording = None
        self.inspector.show_event(None)

    # ---- dialogs ----------------------------------------------------------------------

    def open_send_dialog(self) -> SendDialog | None:
        if not self.hub.names():
            inform(self.window, "Send notification",
                   "Open a connection first: the notification goes out on it.")
            return None
        ev = self.table.current_event()
        dlg = SendDialog(self.hub, self.window,
                         connection=ev.profile if ev and ev.profile in self.hub.names() else None,
                         channel=ev.channel if ev and not ev.is_gap else None)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.show()
        self.send_dialog = dlg
        return dlg

    def ask_row_limit(self) -> None:
        n, ok = QInputDialog.getInt(self.window, "Row limit",
                                    "Rows to keep (the oldest leave first):",
                                    self.model.capacity, 1000, 5_000_000, 10_000)
        if ok:
            self.model.set_capacity(n)
            QSettings().setValue("events/capacity", n)

    def _spawn(self, coro) -> asyncio.Task:
        return self.work.spawn(coro, on_error=self._say)

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 8000)

    def export_shown(self) -> asyncio.Task | None:
        events = self.model.events()
        if not events:
            self._say("Nothing to export: no rows shown.")
            return None
        path = ask_export_path(self.window, f"Export {len(events):,} shown rows")
        return self._spawn(export_with_dialog(self.window, events, path, self._say)) \
            if path else None

    def export_selection(self) -> asyncio.Task | None:
        events = self.table.selected_events()
        if not events:
            self._say("Nothing to export: select rows first.")
            return None
        path = ask_export_path(self.window, f"Export {len(events):,} selected rows",
                               "selection.jsonl")
        return self._spawn(export_with_dialog(self.window, events, path, self._say)) \
            if path else None

    def open_recording(self, path: str | None = None) -> asyncio.Task | None:
        if not path:
            from PySide6.QtWidgets import QFileDialog

            from pgwatch_gui.ui.events.recordings import OPEN_FILTERS

            path, _ = QFileDialog.getOpenFileName(self.window, "Open recording", "",
                                                  OPEN_FILTERS)
            if not path:
                return None
        return self._spawn(self._open(path))

    async def _open(self, path: str) -> None:
        res = await open_with_dialog(self.window, path)
        if res is None or res.cancelled:
            return
        if not self.review.active:
            self._follow_before_recording = self.table.follow
        # The live rows are kept aside and new ones wait (paused) while it is reviewed.
        over = self.review.show(path, res.events)
        self.recording = path
        self.table.set_follow(False)
        self.table.scrollToTop()
        parts = [f"Opened {os.path.basename(path)}: {len(res.events) - over:,} rows"]
        if over:
            parts.append(f"the oldest {over:,} did not fit the row limit")
        if res.skipped:
            first = res.errors[0] if res.errors else None
            where = f" (first at line {first[0]}: {first[1]})" if first else ""
            parts.append(f"{res.skipped:,} unreadable lines skipped{where}")
        parts.append("live view paused: Resume (F8) to go back to the live rows")
        self._say("; ".join(parts) + ".")
        self.status.refresh()  # the counts now, not at the next tick

    # ---- settings and shutdown ----------------------------------------------------------

    def save_settings(self, s: QSettings) -> None:
        self.table.save_settings(s)
        s.setValue("inspector/tab", self.inspector.tabs.currentIndex())

    def restore_settings(self, s: QSettings) -> None:
        self.table.restore_settings(s)
        self.action_follow.setChecked(self.table.follow)
        cap = s.value("events/capacity")
        if cap is not None:
            try:
                self.model.set_capacity(int(cap))
            except (TypeError, ValueError):
                pass
        tab = s.value("inspector/tab")
        if tab is not None:
            try:
                self.inspector.tabs.setCurrentIndex(int(tab))
            except (TypeError, ValueError):
                pass

    async def shutdown(self) -> None:
        await self.status.stop()
        await self.work.stop()
